#include "config.h"
/*
 * demo-target.c: the service slopewatch's demo watches. A small HTTP/1.1
 * server on 127.0.0.1 that gets slower and leaks memory, on purpose and at a
 * configurable rate, so that `make demo`, the e2e tests and the benchmark have
 * a real process with a real trend to look at.
 *
 *   GET /metrics   Prometheus text: rss, uptime, leaked bytes, requests
 *   GET anything   200 with a small text body (HEAD works too)
 *
 * Invariants:
 * - One thread, one poll loop, libc only. A response is delayed by
 *   BASE + GROWTH * uptime milliseconds with a per-connection deadline in the
 *   loop, never by sleeping, so slow answers overlap and many probes can be in
 *   flight at once.
 * - Everything from a client is bounded: MAX_CONNS connections, a request
 *   head of at most REQ_MAX bytes, an idle timeout; anything malformed gets a
 *   4xx and the connection is closed. A client cannot crash it or make it
 *   allocate.
 * - The leak is deliberate and bounded: every LEAK_TICK_MS it allocates
 *   rate * elapsed bytes and writes to every page (so it shows up in RSS),
 *   up to --leak-max. The chunks stay reachable and are freed on exit, so a
 *   sanitizer build reports no leak.
 * - SIGTERM/SIGINT or --duration end it cleanly; the pidfile is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#define MAX_CONNS	512
#define REQ_MAX		8192		/* request line + headers */
#define RESP_MAX	2048
#define IDLE_MS		10000		/* close a connection idle this long */
#define DRAIN_MS	2000		/* lingering close, at most */
#define LEAK_TICK_MS	100
#define MAX_DELAY_MS	60000.0		/* the latency stops growing here */
#define DEFAULT_LEAK	(2.0 * 1000 * 1000)		/* bytes per second */
#define DEFAULT_LEAK_MAX (512.0 * 1024 * 1024)

enum conn_state {
	C_FREE = 0,
	C_READ,		/* waiting for a complete request head */
	C_WAIT,		/* request parsed, response due at due_ms */
	C_WRITE,	/* sending out[] */
	C_DRAIN,	/* answer sent, write side shut: reading until EOF */
};

struct conn {
	int		 fd;
	enum conn_state	 state;
	char		 in[REQ_MAX];
	size_t		 inlen;
	char		 out[RESP_MAX];
	size_t		 outlen, outoff;
	int		 close_after;	/* close once out[] is sent */
	int64_t		 due_ms;	/* C_WAIT: when to answer */
	int64_t		 last_ms;	/* last activity, for IDLE_MS */
};

struct chunk {
	struct chunk	*next;
	size_t		 size;
};

struct demo {
	int		 lfd;
	int		 port;
	double		 leak_rate;	/* bytes/s */
	double		 leak_max;
	double		 base_ms, growth_ms;
	double		 duration_s;	/* 0 = forever */
	const char	*pidfile;
	int		 pidfile_written;
	int		 quiet;

	int64_t		 start_ms;
	int64_t		 last_leak_ms;
	double		 leak_owed;	/* bytes not yet allocated */
	double		 leaked;
	struct chunk	*chunks;

	uint64_t	 requests;
	uint64_t	 bad_requests;
	int		 nconns;
	struct conn	*conns;		/* MAX_CONNS */
};

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("demo-target: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: demo-target [--port N] [--leak RATE] [--leak-max SIZE]\n"
	    "                   [--latency-ms BASE] [--latency-growth MS_PER_S]\n"
	    "                   [--pidfile FILE] [--duration S] [--quiet]\n"
	    "\n"
	    "A deliberately degrading HTTP service on 127.0.0.1 for the slopewatch\n"
	    "demo. --port 0 (the default) picks a free port and prints it.\n"
	    "RATE and SIZE are bytes, with an optional K, M, G (1000) or\n"
	    "KiB, MiB, GiB (1024) suffix; RATE is per second (default 2M).\n"
	    "Each answer is delayed by BASE + MS_PER_S * uptime milliseconds.\n");
}

/* A finite, non-negative number with an optional size suffix; the whole
 * string must parse. */
static int
parse_num(const char *s, int sizes, double *out)
{
	static const struct {
		const char	*suffix;
		double		 mult;
	} units[] = {
		{ "", 1 }, { "B", 1 },
		{ "K", 1e3 }, { "KB", 1e3 }, { "M", 1e6 }, { "MB", 1e6 },
		{ "G", 1e9 }, { "GB", 1e9 },
		{ "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
	};
	char	*end;
	double	 v;
	size_t	 i;

	if (*s == '\0' || *s == ' ' || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if ((sizes || i == 0) && strcmp(end, units[i].suffix) == 0) {
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

static int
set_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
listen_open(struct demo *d)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			one = 1;

	if ((d->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (setsockopt(d->lfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1)
		die("setsockopt: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)d->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(d->lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("bind 127.0.0.1:%d: %s", d->port, strerror(errno));
	if (listen(d->lfd, 256) == -1)
		die("listen: %s", strerror(errno));
	if (set_nonblock(d->lfd) == -1)
		die("fcntl: %s", strerror(errno));
	if (getsockname(d->lfd, (struct sockaddr *)&sin, &len) == -1)
		die("getsockname: %s", strerror(errno));
	d->port = ntohs(sin.sin_port);
}

/* Written to FILE.tmp then renamed, so a reader never sees half a pid. */
static void
pidfile_write(struct demo *d)
{
	char	tmp[PATH_MAX], line[32];
	int	fd, n;

	if (d->pidfile == NULL)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", d->pidfile) >= (int)sizeof(tmp))
		die("pidfile path too long");
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		die("%s: %s", tmp, strerror(errno));
	if (write(fd, line, (size_t)n) != n || close(fd) == -1)
		die("%s: write failed", tmp);
	if (rename(tmp, d->pidfile) == -1)
		die("%s: %s", d->pidfile, strerror(errno));
	d->pidfile_written = 1;
}

/* Resident set size in bytes from /proc/self/statm (0 when unknown). */
static double
rss_bytes(void)
{
	char	buf[256];
	ssize_t	n;
	int	fd;
	unsigned long long size, resident;

	if ((fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* Allocates what the leak owes since the last tick; every page is written so
 * that it counts in RSS. Stops quietly at leak_max or when malloc fails. */
static void
leak_tick(struct demo *d, int64_t now)
{
	struct chunk	*c;
	size_t		 size;

	if (d->leak_rate <= 0) {
		d->last_leak_ms = now;
		return;
	}
	d->leak_owed += d->leak_rate * (double)(now - d->last_leak_ms) / 1000.0;
	d->last_leak_ms = now;
	if (d->leaked + d->leak_owed > d->leak_max)
		d->leak_owed = d->leak_max - d->leaked;
	if (d->leak_owed < 4096)
		return;
	size = (size_t)d->leak_owed;
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return;
	memset(c + 1, 0xa5, size);
	c->size = size;
	c->next = d->chunks;
	d->chunks = c;
	d->leaked += (double)size;
	d->leak_owed -= (double)size;
}

static double
uptime_s(const struct demo *d, int64_t now)
{
	return (double)(now - d->start_ms) / 1000.0;
}

static int64_t
delay_ms(const struct demo *d, int64_t now)
{
	double	ms = d->base_ms + d->growth_ms * uptime_s(d, now);

	if (ms > MAX_DELAY_MS)
		ms = MAX_DELAY_MS;
	return (int64_t)ms;
}

static void
conn_close(struct demo *d, struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->state = C_FREE;
	d->nconns--;
}

/* Formats a whole response into c->out. body may be NULL for none. */
static void
respond(struct conn *c, int head_only, int status, const char *reason,
    const char *ctype, const char *body, size_t bodylen)
{
	int	n;

	n = snprintf(c->out, sizeof(c->out),
	    "HTTP/1.1 %d %s\r\n"
	    "Server: slopewatch-demo\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: %s\r\n"
	    "\r\n",
	    status, reason, ctype, bodylen,
	    c->close_after ? "close" : "keep-alive");
	if (n < 0 || (size_t)n >= sizeof(c->out)) {
		c->outlen = 0;
		c->close_after = 1;
		return;
	}
	c->outlen = (size_t)n;
	if (!head_only && body != NULL) {
		if (bodylen > sizeof(c->out) - c->outlen)
			bodylen = sizeof(c->out) - c->outlen;
		memcpy(c->out + c->outlen, body, bodylen);
		c->outlen += bodylen;
	}
	c->outoff = 0;
}

static void
respond_error(struct demo *d, struct conn *c, int status, const char *reason)
{
	char	body[64];
	int	n;

	d->bad_requests++;
	c->close_after = 1;
	n = snprintf(body, sizeof(body), "%d %s\n", status, reason);
	respond(c, 0, status, reason, "text/plain", body, (size_t)n);
	c->state = C_WRITE;
}

/* Case-insensitive search for a header name at the start of a line within
 * [p, end); returns its value (spaces skipped) or NULL. */
static const char *
header_value(const char *p, const char *end, const char *name, size_t *vlen)
{
	size_t		 nl = strlen(name);
	const char	*eol, *v;

	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			v = p + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			while (*vlen > 0 && (v[*vlen - 1] == '\r' ||
			    v[*vlen - 1] == ' ' || v[*vlen - 1] == '\t'))
				(*vlen)--;
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

static int
value_has(const char *v, size_t vlen, const char *word)
{
	size_t	wl = strlen(word), i;

	for (i = 0; i + wl <= vlen; i++) {
		if (strncasecmp(v + i, word, wl) == 0)
			return 1;
	}
	return 0;
}

/* Looks for a complete request head in c->in. Returns 1 when one was
 * handled (c moves to C_WAIT or C_WRITE), 0 when more bytes are needed. */
static int
parse_request(struct demo *d, struct conn *c, int64_t now)
{
	char		*end, *sp1, *sp2, *eol, *hdr;
	const char	*v;
	size_t		 headlen, vlen, pathlen;
	int		 head_only, http11;

	if ((end = memmem(c->in, c->inlen, "\r\n\r\n", 4)) != NULL)
		headlen = (size_t)(end - c->in) + 4;
	else if ((end = memmem(c->in, c->inlen, "\n\n", 2)) != NULL)
		headlen = (size_t)(end - c->in) + 2;
	else {
		if (c->inlen >= sizeof(c->in)) {
			respond_error(d, c, 431,
			    "Request Header Fields Too Large");
			return 1;
		}
		return 0;
	}

	/* request line: METHOD SP TARGET SP HTTP/1.x */
	if ((eol = memchr(c->in, '\n', headlen)) == NULL ||
	    (sp1 = memchr(c->in, ' ', (size_t)(eol - c->in))) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))) == NULL ||
	    sp2 == sp1 + 1 || sp1[1] != '/' ||
	    (size_t)(eol - sp2) < 9 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		respond_error(d, c, 400, "Bad Request");
		return 1;
	}
	http11 = sp2[8] == '1';
	hdr = eol + 1;
	d->requests++;

	/* keep-alive: HTTP/1.1 unless "close", HTTP/1.0 only if asked */
	c->close_after = !http11;
	if ((v = header_value(hdr, c->in + headlen, "Connection", &vlen)) != NULL) {
		if (value_has(v, vlen, "close"))
			c->close_after = 1;
		else if (value_has(v, vlen, "keep-alive"))
			c->close_after = 0;
	}
	/* Bodies are not read: a request with one ends the connection. */
	if (header_value(hdr, c->in + headlen, "Content-Length", &vlen) != NULL ||
	    header_value(hdr, c->in + headlen, "Transfer-Encoding", &vlen) != NULL)
		c->close_after = 1;

	if ((size_t)(sp1 - c->in) == 3 && memcmp(c->in, "GET", 3) == 0)
		head_only = 0;
	else if ((size_t)(sp1 - c->in) == 4 && memcmp(c->in, "HEAD", 4) == 0)
		head_only = 1;
	else {
		respond_error(d, c, 405, "Method Not Allowed");
		return 1;
	}

	pathlen = (size_t)(sp2 - sp1 - 1);
	if (pathlen >= 8 && memcmp(sp1 + 1, "/metrics", 8) == 0 &&
	    (pathlen == 8 || sp1[9] == '?')) {
		char	body[1024];
		int	n;

		n = snprintf(body, sizeof(body),
		    "# HELP demo_resident_memory_bytes Resident memory size in bytes.\n"
		    "# TYPE demo_resident_memory_bytes gauge\n"
		    "demo_resident_memory_bytes %.0f\n"
		    "# HELP demo_uptime_seconds Time since the demo started.\n"
		    "# TYPE demo_uptime_seconds gauge\n"
		    "demo_uptime_seconds %.3f\n"
		    "# HELP demo_leaked_bytes_total Bytes leaked on purpose.\n"
		    "# TYPE demo_leaked_bytes_total counter\n"
		    "demo_leaked_bytes_total %.0f\n"
		    "# HELP demo_response_delay_seconds Delay added to each answer now.\n"
		    "# TYPE demo_response_delay_seconds gauge\n"
		    "demo_response_delay_seconds %.3f\n"
		    "# HELP demo_requests_total Requests parsed.\n"
		    "# TYPE demo_requests_total counter\n"
		    "demo_requests_total %llu\n",
		    rss_bytes(), uptime_s(d, now), d->leaked,
		    (double)delay_ms(d, now) / 1000.0,
		    (unsigned long long)d->requests);
		respond(c, head_only, 200, "OK",
		    "text/plain; version=0.0.4", body, (size_t)n);
	} else {
		static const char body[] = "slopewatch demo: ok\n";

		respond(c, head_only, 200, "OK", "text/plain", body,
		    sizeof(body) - 1);
	}

	/* keep what follows (a pipelined request) for after this answer */
	memmove(c->in, c->in + headlen, c->inlen - headlen);
	c->inlen -= headlen;
	c->state = C_WAIT;
	c->due_ms = now + delay_ms(d, now);
	return 1;
}

static void
conn_read(struct demo *d, struct conn *c, int64_t now)
{
	ssize_t	n;

	if (c->inlen >= sizeof(c->in)) {
		(void)parse_request(d, c, now);
		return;
	}
	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		conn_close(d, c);
		return;
	}
	if (n > 0) {
		c->inlen += (size_t)n;
		c->last_ms = now;
		(void)parse_request(d, c, now);
	}
}

static void
conn_write(struct demo *d, struct conn *c, int64_t now)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_close(d, c);
			return;
		}
		c->outoff += (size_t)n;
		c->last_ms = now;
	}
	if (c->close_after) {
		/*
		 * A lingering close: closing with unread request bytes would
		 * send a reset that may destroy the answer before the client
		 * reads it, so shut the write side and read until EOF, for at
		 * most DRAIN_MS.
		 */
		if (shutdown(c->fd, SHUT_WR) == -1) {
			conn_close(d, c);
			return;
		}
		c->state = C_DRAIN;
		c->last_ms = now;
		return;
	}
	c->state = C_READ;
	c->outlen = c->outoff = 0;
	(void)parse_request(d, c, now);	/* a pipelined request, if any */
}

static void
conn_drain(struct demo *d, struct conn *c)
{
	char	buf[4096];
	ssize_t	n;

	while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		conn_close(d, c);
}

static void
accept_all(struct demo *d, int64_t now)
{
	struct conn	*c;
	int		 fd, i;

	while (d->nconns < MAX_CONNS) {
		fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;		/* EAGAIN, or a client gone already */
		for (i = 0; i < MAX_CONNS; i++) {
			if (d->conns[i].state == C_FREE)
				break;
		}
		c = &d->conns[i];
		c->fd = fd;
		c->state = C_READ;
		c->inlen = c->outlen = c->outoff = 0;
		c->close_after = 0;
		c->last_ms = now;
		d->nconns++;
	}
}

static void
run(struct demo *d)
{
	struct pollfd	*pfd;
	int		*map, npfd, i, timeout;
	int64_t		 now, next, end_ms, limit;
	struct conn	*c;

	if ((pfd = calloc(MAX_CONNS + 1, sizeof(*pfd))) == NULL ||
	    (map = calloc(MAX_CONNS + 1, sizeof(*map))) == NULL)
		die("out of memory");
	end_ms = d->duration_s > 0 ?
	    d->start_ms + (int64_t)(d->duration_s * 1000.0) : INT64_MAX;

	while (!stop_signal) {
		now = now_ms();
		if (now >= end_ms)
			break;
		if (now - d->last_leak_ms >= LEAK_TICK_MS)
			leak_tick(d, now);

		next = d->last_leak_ms + LEAK_TICK_MS;
		if (end_ms < next)
			next = end_ms;
		npfd = 0;
		if (d->nconns < MAX_CONNS) {
			pfd[npfd].fd = d->lfd;
			pfd[npfd].events = POLLIN;
			map[npfd++] = -1;
		}
		for (i = 0; i < MAX_CONNS; i++) {
			c = &d->conns[i];
			if (c->state == C_FREE)
				continue;
			if (c->state == C_WAIT && c->due_ms <= now) {
				c->state = C_WRITE;
				conn_write(d, c, now);
			}
			if (c->state == C_FREE)
				continue;
			if (c->state == C_WAIT) {	/* maybe a pipelined one */
				if (c->due_ms < next)
					next = c->due_ms;
				continue;
			}
			limit = c->state == C_DRAIN ? DRAIN_MS : IDLE_MS;
			if (now - c->last_ms >= limit) {
				conn_close(d, c);
				continue;
			}
			if (c->last_ms + limit < next)
				next = c->last_ms + limit;
			pfd[npfd].fd = c->fd;
			pfd[npfd].events = c->state == C_WRITE ? POLLOUT : POLLIN;
			pfd[npfd].revents = 0;
			map[npfd++] = i;
		}
		timeout = next <= now ? 0 : (int)(next - now);
		if (poll(pfd, (nfds_t)npfd, timeout) == -1) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		now = now_ms();
		for (i = 0; i < npfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (map[i] == -1) {
				accept_all(d, now);
				continue;
			}
			c = &d->conns[map[i]];
			if (c->state == C_READ)
				conn_read(d, c, now);
			else if (c->state == C_WRITE)
				conn_write(d, c, now);
			else if (c->state == C_DRAIN)
				conn_drain(d, c);
		}
	}
	free(map);
	free(pfd);
}

static void
cleanup(struct demo *d)
{
	struct chunk	*c, *next;
	int		 i;

	for (i = 0; i < MAX_CONNS; i++) {
		if (d->conns[i].state != C_FREE)
			conn_close(d, &d->conns[i]);
	}
	free(d->conns);
	if (d->lfd != -1)
		close(d->lfd);
	if (d->pidfile_written)
		unlink(d->pidfile);
	for (c = d->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
}

int
main(int argc, char **argv)
{
	struct demo		 d;
	struct sigaction	 sa;
	double			 v;
	int			 i;
	const char		*opt, *arg;

	memset(&d, 0, sizeof(d));
	d.lfd = -1;
	d.leak_rate = DEFAULT_LEAK;
	d.leak_max = DEFAULT_LEAK_MAX;
	d.base_ms = 10;
	d.growth_ms = 5;

	for (i = 1; i < argc; i++) {
		opt = argv[i];
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(opt, "--quiet") == 0 || strcmp(opt, "-q") == 0) {
			d.quiet = 1;
			continue;
		}
		if (i + 1 >= argc) {
			usage(stderr);
			die("%s: missing value", opt);
		}
		arg = argv[++i];
		if (strcmp(opt, "--pidfile") == 0) {
			d.pidfile = arg;
			continue;
		}
		if (parse_num(arg, strcmp(opt, "--leak") == 0 ||
		    strcmp(opt, "--leak-max") == 0, &v) == -1)
			die("%s: bad value \"%s\"", opt, arg);
		if (strcmp(opt, "--port") == 0) {
			if (v > 65535 || (double)(long)v != v)
				die("--port: expected 0-65535");
			d.port = (int)v;
		} else if (strcmp(opt, "--leak") == 0)
			d.leak_rate = v;
		else if (strcmp(opt, "--leak-max") == 0)
			d.leak_max = v;
		else if (strcmp(opt, "--latency-ms") == 0)
			d.base_ms = v;
		else if (strcmp(opt, "--latency-growth") == 0)
			d.growth_ms = v;
		else if (strcmp(opt, "--duration") == 0)
			d.duration_s = v;
		else {
			usage(stderr);
			die("unknown option %s", opt);
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if ((d.conns = calloc(MAX_CONNS, sizeof(*d.conns))) == NULL)
		die("out of memory");
	listen_open(&d);
	pidfile_write(&d);
	d.start_ms = d.last_leak_ms = now_ms();
	/* The line scripts wait for: the port is known and the pidfile is in place. */
	printf("demo-target listening on http://127.0.0.1:%d/ pid %ld "
	    "(leak %.0f B/s, latency %.0f ms + %.1f ms/s)\n", d.port,
	    (long)getpid(), d.leak_rate, d.base_ms, d.growth_ms);
	fflush(stdout);

	run(&d);

	if (!d.quiet) {
		printf("demo-target: exiting after %.1f s (%s): %llu requests, "
		    "%llu bad, %.1f MB leaked\n", uptime_s(&d, now_ms()),
		    stop_signal ? "signal" : "duration",
		    (unsigned long long)d.requests,
		    (unsigned long long)d.bad_requests, d.leaked / 1e6);
	}
	cleanup(&d);
	return 0;
}
