#include "config.h"
/*
 * test_http.c: lib/http.c driven by a real sw_loop against the real test
 * server tests/e2e/httpd.py (HTTP and HTTPS, on 127.0.0.1, started by the
 * group setup and killed by its teardown). Checks results, failure kinds,
 * timings, the body cap, redirects, TLS verification, connection reuse,
 * cancellation, freeing with transfers in flight, and that many transfers
 * run at once. The last tests drive the endpoint source
 * (lib/source-endpoint.c) the way the scheduler does, with a recording sink.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <netinet/in.h>
#include <unistd.h>
#include <cmocka.h>

#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/loop.h"
#include "slopewatch/source.h"

#ifndef SW_TOP_SRCDIR
#define SW_TOP_SRCDIR "."
#endif

extern char **environ;

struct server {
	pid_t	pid;
	int	port;
};

static struct server	plain, tls, mtls;
static char		tmpdir[256];
static char		certpath[300], ccertpath[300], ckeypath[300];

/* One finished transfer, copied out of the callback. */
struct got {
	int			 done;
	struct sw_http_result	 res;
	char			 body[4096];
	size_t			 body_len;
	int64_t			 at_us;
};

struct fixture {
	struct sw_loop	*loop;
	struct sw_http	*http;
};

static const char *
srcdir(void)
{
	const char	*s = getenv("top_srcdir");

	return s != NULL && *s != '\0' ? s : SW_TOP_SRCDIR;
}

static int
read_port(const char *path)
{
	FILE	*f;
	int	 port = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%d", &port) != 1)
		port = 0;
	fclose(f);
	return port;
}

/* with_tls: 0 plain, 1 TLS, 2 TLS requiring a client certificate */
static int
server_start(struct server *s, const char *name, int with_tls)
{
	char		 script[512], portfile[300], tlsdir[300];
	char		*argv[10];
	int		 i = 0, tries;
	posix_spawn_file_actions_t fa;

	snprintf(script, sizeof(script), "%s/tests/e2e/httpd.py", srcdir());
	snprintf(portfile, sizeof(portfile), "%s/%s.port", tmpdir, name);
	snprintf(tlsdir, sizeof(tlsdir), "%s/%s", tmpdir,
	    with_tls == 2 ? "mtls" : "tls");
	argv[i++] = (char *)"python3";
	argv[i++] = script;
	argv[i++] = (char *)"--port-file";
	argv[i++] = portfile;
	if (with_tls) {
		argv[i++] = (char *)"--tls";
		argv[i++] = tlsdir;
	}
	if (with_tls == 2)
		argv[i++] = (char *)"--client-auth";
	argv[i] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
	if (posix_spawnp(&s->pid, "python3", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	for (tries = 0; tries < 200; tries++) {	/* 20 s */
		if ((s->port = read_port(portfile)) > 0)
			return 0;
		usleep(100000);
	}
	return -1;
}

static void
server_stop(struct server *s)
{
	int	status;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

static int
group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/sw-test-http.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(certpath, sizeof(certpath), "%s/tls/cert.pem", tmpdir);
	snprintf(ccertpath, sizeof(ccertpath), "%s/mtls/client.pem", tmpdir);
	snprintf(ckeypath, sizeof(ckeypath), "%s/mtls/client-key.pem", tmpdir);
	if (server_start(&plain, "plain", 0) == -1)
		return -1;
	if (server_start(&tls, "tls", 1) == -1)
		return -1;
	if (server_start(&mtls, "mtls", 2) == -1)
		return -1;
	return 0;
}

static void
rm_rf_tmp(void)
{
	char	p[400];
	const char *names[] = { "plain.port", "tls.port", "mtls.port",
	    "tls/cert.pem", "tls/key.pem", "tls", "mtls/cert.pem",
	    "mtls/key.pem", "mtls/client.pem", "mtls/client-key.pem", "mtls",
	    NULL };
	int	i;

	for (i = 0; names[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		if (unlink(p) == -1 && errno == EISDIR)
			rmdir(p);
		else
			rmdir(p);
	}
	rmdir(tmpdir);
}

static int
group_teardown(void **state)
{
	(void)state;
	server_stop(&plain);
	server_stop(&tls);
	server_stop(&mtls);
	rm_rf_tmp();
	return 0;
}

static int
setup(void **state)
{
	struct fixture	*f;
	struct sw_err	 err;

	sw_err_clear(&err);
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->loop = sw_loop_new(&err);
	assert_non_null(f->loop);
	f->http = sw_http_new(f->loop, &err);
	assert_non_null(f->http);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	sw_http_free(f->http);
	sw_loop_free(f->loop);
	free(f);
	return 0;
}

static void
on_done(const struct sw_http_result *res, void *arg)
{
	struct got	*g = arg;

	g->done++;
	g->res = *res;
	g->res.body = NULL;
	g->body_len = res->body->len;
	if (res->body->len > 0) {
		memcpy(g->body, res->body->data, res->body->len <
		    sizeof(g->body) - 1 ? res->body->len : sizeof(g->body) - 1);
	}
	g->at_us = sw_clock_mono_us();
}

/* Runs the loop until every g[i].done or timeout_ms passes. */
static void
run_until(struct fixture *f, struct got *g, int n, int timeout_ms)
{
	struct sw_err	err;
	int64_t		end = sw_clock_mono_us() + (int64_t)timeout_ms * 1000;
	int		i, all;

	sw_err_clear(&err);
	while (sw_clock_mono_us() < end) {
		for (all = 1, i = 0; i < n; i++)
			all = all && g[i].done;
		if (all)
			return;
		assert_int_equal(sw_loop_once(f->loop, 50000, &err), 0);
	}
}

static void
run_for(struct fixture *f, int ms)
{
	struct sw_err	err;
	int64_t		end = sw_clock_mono_us() + (int64_t)ms * 1000;

	sw_err_clear(&err);
	while (sw_clock_mono_us() < end)
		assert_int_equal(sw_loop_once(f->loop, 20000, &err), 0);
}

static void
req_init(struct sw_http_req *r, char *url, size_t urlsz, int port,
    const char *scheme, const char *path)
{
	memset(r, 0, sizeof(*r));
	snprintf(url, urlsz, "%s://127.0.0.1:%d%s", scheme, port, path);
	r->url = url;
	r->timeout_ms = 10000;
	r->max_body = 64 * 1024;
	r->max_redirects = 5;
}

/* Starts one request and runs the loop until it is done. */
static void
fetch(struct fixture *f, const struct sw_http_req *r, struct got *g)
{
	struct sw_err	 err;

	memset(g, 0, sizeof(*g));
	sw_err_clear(&err);
	assert_non_null(sw_http_start(f->http, r, on_done, g, &err));
	assert_int_equal(g->done, 0);	/* never from inside start */
	run_until(f, g, 1, 15000);
	assert_int_equal(g->done, 1);
}

static void
test_fast(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];

	req_init(&r, url, sizeof(url), plain.port, "http", "/fast");
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 200);
	assert_string_equal(g.res.error, "");
	assert_int_equal(g.res.bytes, 3);
	assert_int_equal(g.body_len, 3);
	assert_string_equal(g.body, "ok\n");
	assert_true(g.res.total_s > 0 && g.res.total_s < 10);
	assert_true(g.res.connect_s >= 0 && g.res.connect_s <= g.res.total_s);
	assert_true(g.res.dns_s >= 0 && g.res.dns_s <= g.res.total_s);
	assert_true(g.res.tls_s == 0);
	assert_true(g.res.ttfb_s > 0 && g.res.ttfb_s <= g.res.total_s);
	assert_true(g.res.dns_s + g.res.connect_s + g.res.ttfb_s <=
	    g.res.total_s + 1e-6);
	assert_int_equal(g.res.retry_after_ms, -1);
	assert_int_equal(sw_http_active(f->http), 0);
}

static void
test_slow_ttfb(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];

	req_init(&r, url, sizeof(url), plain.port, "http", "/slow?ms=300");
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 200);
	/* the server's think time shows in ttfb and total, not connect */
	assert_true(g.res.ttfb_s >= 0.29);
	assert_true(g.res.total_s >= 0.29 && g.res.total_s < 10);
	assert_true(g.res.connect_s < g.res.ttfb_s);
}

static void
test_timeout(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];
	int64_t			 t0;

	req_init(&r, url, sizeof(url), plain.port, "http", "/slow?ms=6000");
	r.timeout_ms = 300;
	t0 = sw_clock_mono_us();
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_TIMEOUT);
	assert_string_equal(sw_http_fail_name(g.res.fail), "timeout");
	assert_int_equal(g.res.status, 0);
	assert_true(g.at_us - t0 >= 290000);
	/* well before the server would answer (slack for a loaded box) */
	assert_true(g.at_us - t0 < 5000000);
	assert_true(g.res.total_s >= 0.29 && g.res.total_s < 5);
	assert_true(strlen(g.res.error) > 0);

	/* a server that never answers at all */
	req_init(&r, url, sizeof(url), plain.port, "http", "/hang");
	r.timeout_ms = 200;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_TIMEOUT);
}

static void
test_status_and_retry_after(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[256];

	/* the client does not judge status codes */
	req_init(&r, url, sizeof(url), plain.port, "http", "/status/502");
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 502);
	assert_int_equal(g.res.retry_after_ms, -1);

	req_init(&r, url, sizeof(url), plain.port, "http",
	    "/status/429?retry-after=7");
	fetch(f, &r, &g);
	assert_int_equal(g.res.status, 429);
	assert_int_equal(g.res.retry_after_ms, 7000);

	/* an HTTP-date in the past means "now" */
	req_init(&r, url, sizeof(url), plain.port, "http",
	    "/status/503?retry-after=Wed,%2021%20Oct%202015%2007:28:00%20GMT");
	fetch(f, &r, &g);
	assert_int_equal(g.res.status, 503);
	assert_int_equal(g.res.retry_after_ms, 0);

	/* garbage is ignored */
	req_init(&r, url, sizeof(url), plain.port, "http",
	    "/status/503?retry-after=soon");
	fetch(f, &r, &g);
	assert_int_equal(g.res.retry_after_ms, -1);
}

static void
test_retry_after_date(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[256], date[64], path[160];
	time_t			 t = time(NULL) + 120;
	struct tm		 tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT",
	    &tm);
	snprintf(path, sizeof(path), "/status/429?retry-after=%s", date);
	req_init(&r, url, sizeof(url), plain.port, "http", path);
	fetch(f, &r, &g);
	assert_int_equal(g.res.status, 429);
	assert_true(g.res.retry_after_ms >= 115000);
	assert_true(g.res.retry_after_ms <= 121000);
}

static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s, port;

	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(s);	/* nothing listens there now */
	return port;
}

static void
test_refused(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];

	req_init(&r, url, sizeof(url), free_port(), "http", "/");
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_REFUSED);
	assert_string_equal(sw_http_fail_name(g.res.fail), "refused");
	assert_int_equal(g.res.status, 0);
	assert_true(g.res.total_s < 10);
}

static void
test_huge_capped(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];

	/* no Content-Length: reading stops at the cap */
	req_init(&r, url, sizeof(url), plain.port, "http", "/huge");
	r.max_body = 64 * 1024;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_TOO_BIG);
	assert_string_equal(sw_http_fail_name(g.res.fail), "too_big");
	assert_int_equal(g.res.status, 200);
	assert_int_equal(g.body_len, 64 * 1024);
	assert_true(g.res.bytes > 64 * 1024);
	assert_true(g.res.bytes < 5 * 1024 * 1024);	/* stopped early */
	assert_non_null(strstr(g.res.error, "65536"));

	/* a Content-Length over the cap fails before reading the body */
	req_init(&r, url, sizeof(url), plain.port, "http", "/huge-cl");
	r.max_body = 64 * 1024;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_TOO_BIG);
	assert_int_equal(g.res.bytes, 0);

	/* exactly at the cap is fine */
	req_init(&r, url, sizeof(url), plain.port, "http", "/huge?bytes=1000");
	r.max_body = 1000;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.bytes, 1000);
}

static void
test_redirects(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];

	req_init(&r, url, sizeof(url), plain.port, "http", "/redirect-loop");
	r.max_redirects = 3;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_REDIRECTS);
	assert_string_equal(sw_http_fail_name(g.res.fail), "redirects");

	req_init(&r, url, sizeof(url), plain.port, "http", "/redirect?n=2");
	r.max_redirects = 3;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 200);
	assert_string_equal(g.body, "ok\n");

	/* 0: not followed, the 302 is the answer */
	req_init(&r, url, sizeof(url), plain.port, "http", "/redirect?n=2");
	r.max_redirects = 0;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 302);
}

static void
test_tls(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];

	/* self-signed: verification (the default) fails */
	req_init(&r, url, sizeof(url), tls.port, "https", "/fast");
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_TLS);
	assert_string_equal(sw_http_fail_name(g.res.fail), "tls");
	assert_int_equal(g.res.status, 0);

	req_init(&r, url, sizeof(url), tls.port, "https", "/fast");
	r.insecure = 1;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 200);
	assert_true(g.res.tls_s > 0);
	assert_true(g.res.dns_s + g.res.connect_s + g.res.tls_s +
	    g.res.ttfb_s <= g.res.total_s + 1e-6);

	/* trusting the certificate itself verifies fine */
	req_init(&r, url, sizeof(url), tls.port, "https", "/fast");
	r.cacert = certpath;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 200);

	/* a plain HTTP server spoken to in TLS */
	req_init(&r, url, sizeof(url), plain.port, "https", "/fast");
	r.timeout_ms = 10000;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_TLS);
}

static void
test_client_cert(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];

	/* the server wants a client certificate: without one, a failure.
	 * With TLS 1.3 the server's refusal comes after the handshake: when
	 * curl reads the alert it is a TLS failure, but when the server has
	 * already closed by the time curl sends the request (a slow client,
	 * e.g. under valgrind) curl only sees a send error */
	req_init(&r, url, sizeof(url), mtls.port, "https", "/fast");
	r.insecure = 1;
	fetch(f, &r, &g);
	assert_true(g.res.fail == SW_HTTP_TLS || g.res.fail == SW_HTTP_OTHER);
	assert_int_equal(g.res.status, 0);

	req_init(&r, url, sizeof(url), mtls.port, "https", "/fast");
	r.insecure = 1;
	r.cert = ccertpath;
	r.key = ckeypath;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 200);

	/* a key file that is not there */
	req_init(&r, url, sizeof(url), mtls.port, "https", "/fast");
	r.insecure = 1;
	r.cert = ccertpath;
	r.key = "/nonexistent/key.pem";
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_TLS);
}

static void
test_protocols(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	struct sw_err		 err;

	memset(&r, 0, sizeof(r));
	r.url = "file:///etc/passwd";
	r.timeout_ms = 1000;
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OTHER);
	assert_int_equal(g.body_len, 0);
	assert_true(strlen(g.res.error) > 0);

	r.url = NULL;
	sw_err_clear(&err);
	assert_null(sw_http_start(f->http, &r, on_done, &g, &err));
	assert_true(err.set);
}

static void
test_method_body_headers(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];
	char			*hv[] = { (char *)"X-Probe: yes",
				    (char *)"Content-Type: text/x-test" };
	struct sw_strlist	 hl = { hv, 2 };

	req_init(&r, url, sizeof(url), plain.port, "http", "/echo");
	r.method = "PUT";
	r.headers = &hl;
	r.body = "hello body";
	r.body_len = 10;
	fetch(f, &r, &g);
	assert_int_equal(g.res.status, 200);
	assert_true(strncmp(g.body, "PUT\n", 4) == 0);
	assert_non_null(strstr(g.body, "X-Probe: yes\n"));
	assert_non_null(strstr(g.body, "Content-Type: text/x-test\n"));
	assert_non_null(strstr(g.body, "\n\nhello body"));

	req_init(&r, url, sizeof(url), plain.port, "http", "/echo");
	r.body = "x=1";
	r.body_len = 3;
	fetch(f, &r, &g);
	assert_true(strncmp(g.body, "POST\n", 5) == 0);
	assert_non_null(strstr(g.body, "\n\nx=1"));

	req_init(&r, url, sizeof(url), plain.port, "http", "/echo");
	r.method = "DELETE";
	fetch(f, &r, &g);
	assert_true(strncmp(g.body, "DELETE\n", 7) == 0);

	req_init(&r, url, sizeof(url), plain.port, "http", "/fast");
	r.method = "HEAD";
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 200);
	assert_int_equal(g.res.bytes, 0);

	/* many headers: beyond the parse cap they are ignored, not fatal */
	req_init(&r, url, sizeof(url), plain.port, "http", "/headers?n=500");
	fetch(f, &r, &g);
	assert_int_equal(g.res.fail, SW_HTTP_OK);
	assert_int_equal(g.res.status, 200);
}

static int
conn_port(struct fixture *f, int reuse)
{
	struct sw_http_req	 r;
	struct got		 g;
	char			 url[128];

	req_init(&r, url, sizeof(url), plain.port, "http", "/conn");
	r.reuse = reuse;
	fetch(f, &r, &g);
	assert_int_equal(g.res.status, 200);
	return (int)strtol(g.body, NULL, 10);
}

static void
test_reuse(void **state)
{
	struct fixture	*f = *state;
	int		 a, b;

	/* default: a fresh connection for every probe */
	a = conn_port(f, 0);
	b = conn_port(f, 0);
	assert_int_not_equal(a, b);
	/* reuse yes: the kept connection serves the next request */
	a = conn_port(f, 1);
	b = conn_port(f, 1);
	assert_int_equal(a, b);
}

static void
test_cancel(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct sw_http_xfer	*x, *y;
	struct got		 g[2];
	struct sw_err		 err;
	char			 url[128];

	memset(g, 0, sizeof(g));
	sw_err_clear(&err);
	req_init(&r, url, sizeof(url), plain.port, "http", "/slow?ms=400");
	x = sw_http_start(f->http, &r, on_done, &g[0], &err);
	y = sw_http_start(f->http, &r, on_done, &g[1], &err);
	assert_non_null(x);
	assert_non_null(y);
	assert_int_equal(sw_http_active(f->http), 2);
	run_for(f, 100);		/* connected, waiting for the answer */
	sw_http_cancel(x);
	assert_int_equal(sw_http_active(f->http), 1);
	run_until(f, &g[1], 1, 5000);
	run_for(f, 100);
	assert_int_equal(g[0].done, 0);
	assert_int_equal(g[1].done, 1);
	assert_int_equal(g[1].res.status, 200);
	assert_int_equal(sw_http_active(f->http), 0);
	sw_http_cancel(NULL);

	/* cancel before the loop ever ran */
	x = sw_http_start(f->http, &r, on_done, &g[0], &err);
	assert_non_null(x);
	sw_http_cancel(x);
	run_for(f, 50);
	assert_int_equal(g[0].done, 0);
}

static void
test_free_in_flight(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		 g[5];
	struct sw_err		 err;
	char			 url[128];
	int			 i;

	memset(g, 0, sizeof(g));
	sw_err_clear(&err);
	req_init(&r, url, sizeof(url), plain.port, "http", "/hang");
	for (i = 0; i < 5; i++)
		assert_non_null(sw_http_start(f->http, &r, on_done, &g[i],
		    &err));
	run_for(f, 150);
	assert_int_equal(sw_http_active(f->http), 5);
	sw_http_free(f->http);	/* no callback, nothing left in the loop */
	f->http = NULL;
	run_for(f, 50);
	for (i = 0; i < 5; i++)
		assert_int_equal(g[i].done, 0);
}

#define NCONC	50

static void
test_concurrent(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct got		*g;
	struct sw_err		 err;
	char			 url[128];
	int64_t			 t0, took;
	int			 i;

	g = calloc(NCONC, sizeof(*g));
	assert_non_null(g);
	sw_err_clear(&err);
	req_init(&r, url, sizeof(url), plain.port, "http", "/slow?ms=300");
	t0 = sw_clock_mono_us();
	for (i = 0; i < NCONC; i++)
		assert_non_null(sw_http_start(f->http, &r, on_done, &g[i],
		    &err));
	assert_int_equal(sw_http_active(f->http), NCONC);
	run_until(f, g, NCONC, 15000);
	took = sw_clock_mono_us() - t0;
	for (i = 0; i < NCONC; i++) {
		assert_int_equal(g[i].done, 1);
		assert_int_equal(g[i].res.fail, SW_HTTP_OK);
		assert_int_equal(g[i].res.status, 200);
	}
	/* serially this is 15 s; in parallel it is ~0.3 s plus overhead */
	assert_true(took < 5000000);
	assert_int_equal(sw_http_active(f->http), 0);
	free(g);
}

/* A done callback starting the next transfer (what a scheduler does). */
struct chain {
	struct sw_http		*http;
	struct sw_http_req	*req;
	int			 left;
	int			 done;
	int			 ok;
};

static void
chain_done(const struct sw_http_result *res, void *arg)
{
	struct chain	*c = arg;
	struct sw_err	 err;

	c->done++;
	if (res->status == 200)
		c->ok++;
	if (--c->left > 0) {
		sw_err_clear(&err);
		if (sw_http_start(c->http, c->req, chain_done, c, &err) == NULL)
			c->left = 0;
	}
}

static void
test_start_from_callback(void **state)
{
	struct fixture		*f = *state;
	struct sw_http_req	 r;
	struct chain		 c;
	struct sw_err		 err;
	struct sw_err		 lerr;
	char			 url[128];
	int64_t			 end;

	req_init(&r, url, sizeof(url), plain.port, "http", "/fast");
	memset(&c, 0, sizeof(c));
	c.http = f->http;
	c.req = &r;
	c.left = 5;
	sw_err_clear(&err);
	assert_non_null(sw_http_start(f->http, &r, chain_done, &c, &err));
	end = sw_clock_mono_us() + 10000000;
	sw_err_clear(&lerr);
	while (c.left > 0 && sw_clock_mono_us() < end)
		assert_int_equal(sw_loop_once(f->loop, 50000, &lerr), 0);
	assert_int_equal(c.done, 5);
	assert_int_equal(c.ok, 5);
}

static void
test_fail_names(void **state)
{
	(void)state;
	assert_string_equal(sw_http_fail_name(SW_HTTP_OK), "ok");
	assert_string_equal(sw_http_fail_name(SW_HTTP_DNS), "dns");
	assert_string_equal(sw_http_fail_name(SW_HTTP_STATUS), "status");
	assert_string_equal(sw_http_fail_name(SW_HTTP_OTHER), "other");
	assert_string_equal(sw_http_fail_name((enum sw_http_fail)99), "other");
	sw_http_free(NULL);
}


/* --- the endpoint source ------------------------------------------------- */

#define MAXSAMPLES	64

struct rec {
	int	n;
	struct {
		char	metric[32];
		char	labels[64];
		char	unit[16];
		int64_t	ts_ms;
		double	v;
	} s[MAXSAMPLES];
};

static void
rec_sample(void *arg, const char *target, const char *metric,
    const char *labels, const char *unit, int64_t ts_ms, double v)
{
	struct rec	*r = arg;

	assert_string_equal(target, "ep");
	if (r->n == MAXSAMPLES)
		return;
	snprintf(r->s[r->n].metric, sizeof(r->s[r->n].metric), "%s", metric);
	snprintf(r->s[r->n].labels, sizeof(r->s[r->n].labels), "%s", labels);
	snprintf(r->s[r->n].unit, sizeof(r->s[r->n].unit), "%s", unit);
	r->s[r->n].ts_ms = ts_ms;
	r->s[r->n].v = v;
	r->n++;
}

/* The value of metric{labels} in r, or -1 when absent. */
static double
rec_get(const struct rec *r, const char *metric, const char *labels,
    const char *unit)
{
	int	i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->s[i].metric, metric) == 0 &&
		    strcmp(r->s[i].labels, labels) == 0) {
			if (unit != NULL)
				assert_string_equal(r->s[i].unit, unit);
			return r->s[i].v;
		}
	}
	return -1;
}

struct ep_fixture {
	struct fixture		 f;
	struct sw_conf_target	 conf;
	struct sw_targets_ctx	 ctx;
	struct sw_target	 t;
	struct rec		 rec;
	char			 url[128];
};

static struct ep_fixture *
ep_setup(struct fixture *f, int port, const char *path)
{
	struct ep_fixture	*e;
	struct sw_err		 err;

	e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->f = *f;
	snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d%s", port, path);
	e->conf.name = (char *)"ep";
	e->conf.kind = SW_TARGET_ENDPOINT;
	e->conf.every_ms = 1000;
	e->conf.u.endpoint.url = e->url;
	e->conf.u.endpoint.timeout_ms = 10000;
	e->conf.u.endpoint.max_body = 65536;
	e->ctx.loop = f->loop;
	e->ctx.http = f->http;
	e->ctx.sink.arg = &e->rec;
	e->ctx.sink.sample = rec_sample;
	e->t.conf = &e->conf;
	e->t.ops = &sw_source_endpoint;
	e->t.ctx = &e->ctx;
	e->t.up = -1;
	sw_err_clear(&err);
	assert_int_equal(e->t.ops->init(&e->t, &err), 0);
	return e;
}

/* One collection, as the scheduler runs it. */
static void
ep_probe(struct ep_fixture *e)
{
	struct sw_err	err;
	int64_t		end = sw_clock_mono_us() + 10000000;

	memset(&e->rec, 0, sizeof(e->rec));
	e->t.busy = 1;
	e->t.ops->collect(&e->t);
	sw_err_clear(&err);
	while (e->t.busy && sw_clock_mono_us() < end)
		assert_int_equal(sw_loop_once(e->f.loop, 50000, &err), 0);
	assert_int_equal(e->t.busy, 0);
}

static void
ep_teardown(struct ep_fixture *e)
{
	e->t.ops->free(&e->t);
	free(e);
}

static void
test_source_up(void **state)
{
	struct fixture		*f = *state;
	struct ep_fixture	*e = ep_setup(f, plain.port, "/fast");
	int64_t			 before = sw_clock_wall_ms();
	int			 i;

	ep_probe(e);
	assert_int_equal(e->t.up, 1);
	assert_true(rec_get(&e->rec, "up", "", "") == 1);
	assert_true(rec_get(&e->rec, "status", "", "") == 200);
	assert_true(rec_get(&e->rec, "bytes", "", "bytes") == 3);
	assert_true(rec_get(&e->rec, "latency", "", "seconds") > 0);
	assert_true(rec_get(&e->rec, "dns", "", "seconds") >= 0);
	assert_true(rec_get(&e->rec, "connect", "", "seconds") >= 0);
	assert_true(rec_get(&e->rec, "tls", "", "seconds") == 0);
	assert_true(rec_get(&e->rec, "ttfb", "", "seconds") > 0);
	for (i = 0; i < e->rec.n; i++) {
		/* stamped at probe start, all the same */
		assert_true(e->rec.s[i].ts_ms >= before);
		assert_true(e->rec.s[i].ts_ms == e->rec.s[0].ts_ms);
		assert_true(strcmp(e->rec.s[i].metric, "failures") != 0);
	}
	ep_teardown(e);
}

static void
test_source_status(void **state)
{
	struct fixture		*f = *state;
	struct ep_fixture	*e = ep_setup(f, plain.port, "/status/502");

	ep_probe(e);
	assert_int_equal(e->t.up, 0);
	assert_string_equal(e->t.last_error, "status: unexpected status 502");
	assert_true(rec_get(&e->rec, "up", "", NULL) == 0);
	assert_true(rec_get(&e->rec, "status", "", NULL) == 502);
	assert_true(rec_get(&e->rec, "latency", "", NULL) > 0);
	assert_true(rec_get(&e->rec, "failures", "kind=\"status\"", "") ==
	    1);
	/* a counter: the second failure of the kind counts 2 */
	ep_probe(e);
	assert_true(rec_get(&e->rec, "failures", "kind=\"status\"", NULL) ==
	    2);
	assert_int_equal(e->t.failures, 2);

	/* expect 500-599: the same answer is a success */
	e->conf.u.endpoint.expect[0].lo = 500;
	e->conf.u.endpoint.expect[0].hi = 599;
	e->conf.u.endpoint.nexpect = 1;
	ep_probe(e);
	assert_int_equal(e->t.up, 1);
	assert_true(rec_get(&e->rec, "up", "", NULL) == 1);
	ep_teardown(e);
}

static void
test_source_failures(void **state)
{
	struct fixture		*f = *state;
	struct ep_fixture	*e = ep_setup(f, free_port(), "/");

	ep_probe(e);
	assert_int_equal(e->t.up, 0);
	assert_true(strncmp(e->t.last_error, "refused: ", 9) == 0);
	assert_true(rec_get(&e->rec, "up", "", NULL) == 0);
	assert_true(rec_get(&e->rec, "failures", "kind=\"refused\"", NULL) ==
	    1);
	/* no response: no timings, no status */
	assert_true(rec_get(&e->rec, "latency", "", NULL) == -1);
	assert_true(rec_get(&e->rec, "status", "", NULL) == -1);
	ep_teardown(e);

	e = ep_setup(f, plain.port, "/slow?ms=2000");
	e->conf.u.endpoint.timeout_ms = 200;
	ep_probe(e);
	assert_true(strncmp(e->t.last_error, "timeout: ", 9) == 0);
	assert_true(rec_get(&e->rec, "failures", "kind=\"timeout\"", NULL) ==
	    1);
	ep_teardown(e);

	e = ep_setup(f, plain.port, "/huge");
	ep_probe(e);
	assert_true(rec_get(&e->rec, "failures", "kind=\"too_big\"", NULL) ==
	    1);
	assert_true(rec_get(&e->rec, "bytes", "", NULL) > 65536);
	ep_teardown(e);

	e = ep_setup(f, plain.port, "/redirect-loop");
	e->conf.u.endpoint.max_redirects = 2;
	ep_probe(e);
	assert_true(rec_get(&e->rec, "failures", "kind=\"redirects\"", NULL) ==
	    1);
	ep_teardown(e);
}

static void
test_source_busy_and_free(void **state)
{
	struct fixture		*f = *state;
	struct ep_fixture	*e = ep_setup(f, plain.port, "/hang");
	struct sw_conf_target	 bad;
	struct sw_target	 t;
	struct sw_err		 err;

	e->t.busy = 1;
	e->t.ops->collect(&e->t);
	e->t.ops->collect(&e->t);	/* ignored: one probe at a time */
	assert_int_equal(sw_http_active(f->http), 1);
	run_for(f, 100);
	/* freed mid-flight: cancelled, never reported */
	ep_teardown(e);
	assert_int_equal(sw_http_active(f->http), 0);
	run_for(f, 50);

	/* a url curl must not touch is refused at init */
	memset(&bad, 0, sizeof(bad));
	bad.name = (char *)"bad";
	bad.u.endpoint.url = (char *)"file:///etc/passwd";
	memset(&t, 0, sizeof(t));
	t.conf = &bad;
	t.ctx = &(struct sw_targets_ctx){ .loop = f->loop, .http = f->http };
	sw_err_clear(&err);
	assert_int_equal(sw_source_endpoint.init(&t, &err), -1);
	assert_non_null(strstr(err.msg, "http"));
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_names),
		T(test_fast),
		T(test_slow_ttfb),
		T(test_timeout),
		T(test_status_and_retry_after),
		T(test_retry_after_date),
		T(test_refused),
		T(test_huge_capped),
		T(test_redirects),
		T(test_tls),
		T(test_client_cert),
		T(test_protocols),
		T(test_method_body_headers),
		T(test_reuse),
		T(test_cancel),
		T(test_free_in_flight),
		T(test_concurrent),
		T(test_start_from_callback),
		T(test_source_up),
		T(test_source_status),
		T(test_source_failures),
		T(test_source_busy_and_free),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
