#include "config.h"
/*
 * http.c: the HTTP client, libcurl's multi interface driven by sw_loop.
 *
 * One CURLM per struct sw_http. curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION -> sw_loop_fd_set/fd_del) and when to wake it
 * (CURLMOPT_TIMERFUNCTION -> one sw_loop timer); the loop calls back into
 * curl_multi_socket_action, after which curl_multi_info_read hands us the
 * finished transfers and their done callbacks run. Nothing here blocks.
 *
 * Invariants:
 * - every easy handle belongs to exactly one struct sw_http_xfer, which is on
 *   http->xfers from sw_http_start until it completes or is cancelled; the
 *   easy handle is removed and cleaned up with it, so none leaks.
 * - a done callback runs only from a loop callback (socket event or timer),
 *   never from sw_http_start, and after the transfer has been unlinked, so
 *   the callback may start or cancel other transfers.
 * - every socket we watch is in http->socks, so sw_http_free can drop the
 *   loop's watches even if curl never said CURL_POLL_REMOVE.
 * - the response body is an sw_buf capped at the request's max_body; when a
 *   write would pass it we keep what fits and return 0 from the write
 *   callback, which stops the transfer (failed as SW_HTTP_TOO_BIG). Header
 *   lines are parsed only for the first HTTP_MAX_HEADERS of each response and
 *   a response chain whose headers pass HTTP_MAX_HEADER_BYTES is failed as
 *   too big too, so a peer cannot keep us reading forever.
 * - curl_global_init is called by the first sw_http_new and
 *   curl_global_cleanup by the last sw_http_free (a count; the agent is one
 *   thread, which curl_global_init requires).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/log.h"
#include "slopewatch/loop.h"
#include "slopewatch/units.h"

#define HTTP_MAX_HEADERS	200		/* parsed per response */
#define HTTP_MAX_HEADER_BYTES	(1024 * 1024)	/* whole redirect chain */
#define HTTP_MAX_RETRY_AFTER_S	(7 * 86400)	/* clamp silly values */

struct sw_http_xfer {
	struct sw_http		*http;
	CURL			*easy;
	struct curl_slist	*headers;
	struct sw_buf		 body;
	uint64_t		 bytes;		/* body bytes seen, cap or not */
	int			 too_big;	/* body passed max_body */
	int			 headers_too_big;
	int			 nheaders;	/* in the current response */
	size_t			 header_bytes;
	int64_t			 retry_after_ms;
	sw_http_done_cb		 cb;
	void			*arg;
	char			 errbuf[CURL_ERROR_SIZE];
	struct sw_http_xfer	*prev, *next;
};

struct sw_http {
	struct sw_loop		*loop;
	CURLM			*multi;
	uint64_t		 timer;		/* loop timer id, 0 = none */
	struct sw_http_xfer	*xfers;
	int			 nxfers;
	int			*socks;		/* fds we asked the loop to watch */
	size_t			 nsocks, capsocks;
};

static int	http_global_users;

static void	http_check_done(struct sw_http *);

const char *
sw_http_fail_name(enum sw_http_fail f)
{
	switch (f) {
	case SW_HTTP_OK:
		return "ok";
	case SW_HTTP_TIMEOUT:
		return "timeout";
	case SW_HTTP_REFUSED:
		return "refused";
	case SW_HTTP_DNS:
		return "dns";
	case SW_HTTP_TLS:
		return "tls";
	case SW_HTTP_STATUS:
		return "status";
	case SW_HTTP_TOO_BIG:
		return "too_big";
	case SW_HTTP_REDIRECTS:
		return "redirects";
	case SW_HTTP_OTHER:
		break;
	}
	return "other";
}

/* --- sockets and timers: curl <-> loop --------------------------------- */

static int
http_socks_add(struct sw_http *http, int fd)
{
	size_t	 i, cap;
	int	*p;

	for (i = 0; i < http->nsocks; i++) {
		if (http->socks[i] == fd)
			return 0;
	}
	if (http->nsocks == http->capsocks) {
		cap = http->capsocks ? http->capsocks * 2 : 16;
		if ((p = realloc(http->socks, cap * sizeof(*p))) == NULL)
			return -1;
		http->socks = p;
		http->capsocks = cap;
	}
	http->socks[http->nsocks++] = fd;
	return 0;
}

static void
http_socks_del(struct sw_http *http, int fd)
{
	size_t	i;

	for (i = 0; i < http->nsocks; i++) {
		if (http->socks[i] == fd) {
			http->socks[i] = http->socks[--http->nsocks];
			return;
		}
	}
}

static void
http_on_fd(int fd, short revents, void *arg)
{
	struct sw_http	*http = arg;
	int		 flags = 0, running;

	if (revents & POLLNVAL) {
		/* closed behind our back: stop watching it */
		sw_loop_fd_del(http->loop, fd);
		http_socks_del(http, fd);
		return;
	}
	if (revents & (POLLIN | POLLHUP))
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & POLLERR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(http->multi, fd, flags, &running);
	http_check_done(http);
}

static int
http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct sw_http	*http = userp;
	short		 events = 0;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		sw_loop_fd_del(http->loop, s);
		http_socks_del(http, s);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= POLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= POLLOUT;
	if (http_socks_add(http, s) == -1 ||
	    sw_loop_fd_set(http->loop, s, events, http_on_fd, http) == -1) {
		sw_log_error("http: cannot watch socket %d: out of memory",
		    (int)s);
		return -1;
	}
	return 0;
}

static void
http_on_timer(void *arg)
{
	struct sw_http	*http = arg;
	int		 running;

	http->timer = 0;
	curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(http);
}

static int
http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct sw_http	*http = userp;

	(void)multi;
	if (http->timer != 0) {
		sw_loop_timer_cancel(http->loop, http->timer);
		http->timer = 0;
	}
	if (timeout_ms < 0)
		return 0;
	/* 0 means "as soon as possible": a timer due now, never a direct
	 * call (curl forbids socket_action from inside this callback) */
	http->timer = sw_loop_timer_at(http->loop,
	    sw_clock_mono_us() + (int64_t)timeout_ms * 1000, http_on_timer,
	    http);
	if (http->timer == 0) {
		sw_log_error("http: cannot set timer: out of memory");
		return -1;
	}
	return 0;
}

/* --- per-transfer callbacks ---------------------------------------------- */

static size_t
http_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sw_http_xfer	*x = arg;
	size_t			 n = size * nmemb, room;

	x->bytes += n;
	room = x->body.max - x->body.len;
	if (n > room) {
		/* keep what fits, then stop the transfer */
		(void)sw_buf_add(&x->body, p, room);
		x->too_big = 1;
		return 0;
	}
	if (sw_buf_add(&x->body, p, n) == -1)
		return 0;	/* out of memory: fails as a write error */
	return n;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static int64_t
http_parse_retry_after(const char *v, size_t n)
{
	char	 tmp[128];
	int64_t	 s, now_s;
	time_t	 t;

	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	if (sw_parse_int64(v, n, &s) == 0) {
		if (s < 0)
			return -1;
		if (s > HTTP_MAX_RETRY_AFTER_S)
			s = HTTP_MAX_RETRY_AFTER_S;
		return s * 1000;
	}
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if ((t = curl_getdate(tmp, NULL)) == -1)
		return -1;
	now_s = sw_clock_wall_ms() / 1000;
	s = (int64_t)t - now_s;
	if (s < 0)
		s = 0;
	if (s > HTTP_MAX_RETRY_AFTER_S)
		s = HTTP_MAX_RETRY_AFTER_S;
	return s * 1000;
}

static size_t
http_header_cb(char *p, size_t size, size_t nitems, void *arg)
{
	struct sw_http_xfer	*x = arg;
	size_t			 n = size * nitems;
	static const char	 ra[] = "retry-after:";

	x->header_bytes += n;
	if (x->header_bytes > HTTP_MAX_HEADER_BYTES) {
		x->headers_too_big = 1;
		return 0;
	}
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or a 100 Continue) */
		x->nheaders = 0;
		x->retry_after_ms = -1;
		return n;
	}
	if (++x->nheaders > HTTP_MAX_HEADERS)
		return n;	/* ignored beyond the cap */
	if (n > sizeof(ra) - 1 && strncasecmp(p, ra, sizeof(ra) - 1) == 0)
		x->retry_after_ms = http_parse_retry_after(p + sizeof(ra) - 1,
		    n - (sizeof(ra) - 1));
	return n;
}

/* --- completion ---------------------------------------------------------- */

static enum sw_http_fail
http_map_code(const struct sw_http_xfer *x, CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return SW_HTTP_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return SW_HTTP_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		return SW_HTTP_REFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return SW_HTTP_DNS;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return SW_HTTP_TLS;
	case CURLE_TOO_MANY_REDIRECTS:
		return SW_HTTP_REDIRECTS;
	case CURLE_FILESIZE_EXCEEDED:
		return SW_HTTP_TOO_BIG;
	case CURLE_WRITE_ERROR:
		if (x->too_big || x->headers_too_big)
			return SW_HTTP_TOO_BIG;
		return SW_HTTP_OTHER;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		/* with TLS 1.3 a server rejects a client certificate after
		 * the handshake, with an alert that curl reports as a read
		 * error ("SSL_read: ... tlsv13 alert certificate required") */
		if (strstr(x->errbuf, " alert ") != NULL)
			return SW_HTTP_TLS;
		return SW_HTTP_OTHER;
	default:
		return SW_HTTP_OTHER;
	}
}

static double
http_us(curl_off_t us)
{
	return us > 0 ? (double)us / 1e6 : 0.0;
}

/*
 * Timings, from curl's CURLINFO_*_TIME_T (microseconds since the transfer
 * started; with redirects curl adds up the phases of every hop):
 *   dns     = NAMELOOKUP
 *   connect = CONNECT - NAMELOOKUP            (TCP handshake)
 *   tls     = APPCONNECT - CONNECT            (0 for http or a reused
 *                                              connection)
 *   ttfb    = STARTTRANSFER - max(APPCONNECT, CONNECT)
 *             (from the connection being ready to the first response byte:
 *              sending the request plus the server's think time)
 *   total   = TOTAL
 * A phase that did not happen (reused connection, failure before it) is 0,
 * never negative.
 */
static void
http_fill_times(CURL *easy, struct sw_http_result *res)
{
	curl_off_t	dns = 0, conn = 0, app = 0, start = 0, total = 0, ready;

	curl_easy_getinfo(easy, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &app);
	curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &start);
	curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total);

	res->total_s = http_us(total);
	res->dns_s = http_us(dns);
	res->connect_s = conn > dns ? http_us(conn - dns) : 0.0;
	res->tls_s = app > conn ? http_us(app - conn) : 0.0;
	ready = app > conn ? app : conn;
	res->ttfb_s = start > ready ? http_us(start - ready) : 0.0;
}

static void
http_fill_error(struct sw_http_xfer *x, CURLcode rc,
    struct sw_http_result *res)
{
	const char	*text;

	if (res->fail == SW_HTTP_OK)
		return;
	if (x->too_big) {
		snprintf(res->error, sizeof(res->error),
		    "response body over %zu bytes", x->body.max);
		return;
	}
	if (x->headers_too_big) {
		snprintf(res->error, sizeof(res->error),
		    "response headers over %d bytes", HTTP_MAX_HEADER_BYTES);
		return;
	}
	text = x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc);
	sw_log_escape(res->error, sizeof(res->error), text, strlen(text));
}

static void
http_xfer_unlink(struct sw_http_xfer *x)
{
	struct sw_http	*http = x->http;

	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		http->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
	http->nxfers--;
}

static void
http_xfer_free(struct sw_http_xfer *x)
{
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	sw_buf_release(&x->body);
	free(x);
}

static void
http_check_done(struct sw_http *http)
{
	struct sw_http_result	 res;
	struct sw_http_xfer	*x;
	CURLMsg			*msg;
	CURLcode		 rc;
	void			*priv;
	long			 status;
	int			 left;

	while ((msg = curl_multi_info_read(http->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if ((x = priv) == NULL)
			continue;
		rc = msg->data.result;	/* msg is invalid after remove */

		memset(&res, 0, sizeof(res));
		res.fail = http_map_code(x, rc);
		status = 0;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		res.status = status;
		http_fill_times(x->easy, &res);
		res.bytes = x->bytes;
		res.body = &x->body;
		res.retry_after_ms = x->retry_after_ms;
		http_fill_error(x, rc, &res);

		curl_multi_remove_handle(http->multi, x->easy);
		http_xfer_unlink(x);
		x->cb(&res, x->arg);
		http_xfer_free(x);
	}
}

/* --- public -------------------------------------------------------------- */

/*
 * With NOSIGNAL set, a libcurl built without an asynchronous resolver
 * (threaded or c-ares) resolves names inside curl_multi_socket_action, with
 * no timeout: a slow DNS server would stall the whole loop. Say so once.
 */
static void
http_check_resolver(void)
{
	static int			 warned;
	const curl_version_info_data	*vi;

	if (warned)
		return;
	vi = curl_version_info(CURLVERSION_NOW);
	if (vi != NULL && (vi->features & CURL_VERSION_ASYNCHDNS))
		return;
	warned = 1;
	sw_log_warn("http: libcurl %s resolves names synchronously; a slow "
	    "DNS server will stall the agent (use a libcurl built with the "
	    "threaded resolver or c-ares)", vi != NULL ? vi->version : "?");
}

struct sw_http *
sw_http_new(struct sw_loop *loop, struct sw_err *err)
{
	struct sw_http	*http;

	if (http_global_users == 0 &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		sw_err_set(err, "curl_global_init failed");
		return NULL;
	}
	http_global_users++;
	http_check_resolver();
	if ((http = calloc(1, sizeof(*http))) == NULL) {
		sw_err_set(err, "out of memory");
		goto fail;
	}
	http->loop = loop;
	if ((http->multi = curl_multi_init()) == NULL) {
		sw_err_set(err, "curl_multi_init failed");
		goto fail;
	}
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
	return http;

fail:
	free(http);
	if (--http_global_users == 0)
		curl_global_cleanup();
	return NULL;
}

void
sw_http_free(struct sw_http *http)
{
	struct sw_http_xfer	*x;
	size_t			 i;

	if (http == NULL)
		return;
	while ((x = http->xfers) != NULL)
		sw_http_cancel(x);
	/* may call back into http_socket_cb/http_timer_cb: http is valid */
	curl_multi_cleanup(http->multi);
	if (http->timer != 0)
		sw_loop_timer_cancel(http->loop, http->timer);
	for (i = 0; i < http->nsocks; i++)
		sw_loop_fd_del(http->loop, http->socks[i]);
	free(http->socks);
	free(http);
	if (--http_global_users == 0)
		curl_global_cleanup();
}

static int
http_setup(struct sw_http_xfer *x, const struct sw_http_req *req,
    struct sw_err *err)
{
	CURL		*e = x->easy;
	const char	*method = req->method;
	struct curl_slist *l;
	int		 i;
	long		 maxredirs;

#define SET(opt, val) do {						\
	if (curl_easy_setopt(e, opt, val) != CURLE_OK)			\
		return sw_err_set(err, "http: cannot set " #opt);	\
} while (0)

	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85.0 */
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	SET(CURLOPT_WRITEFUNCTION, http_write_cb);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, http_header_cb);
	SET(CURLOPT_HEADERDATA, x);
	if (req->timeout_ms > 0)
		SET(CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	/* a Content-Length over the cap fails before reading any body */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->body.max);

	maxredirs = req->max_redirects > 0 ? req->max_redirects : 0;
	SET(CURLOPT_FOLLOWLOCATION, maxredirs > 0 ? 1L : 0L);
	SET(CURLOPT_MAXREDIRS, maxredirs);

	if (!req->reuse) {
		/* measure connect (and TLS) like a fresh user every time */
		SET(CURLOPT_FRESH_CONNECT, 1L);
		SET(CURLOPT_FORBID_REUSE, 1L);
	}
	if (req->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->cacert != NULL)
		SET(CURLOPT_CAINFO, req->cacert);
	if (req->cert != NULL)
		SET(CURLOPT_SSLCERT, req->cert);
	if (req->key != NULL)
		SET(CURLOPT_SSLKEY, req->key);

	if (method == NULL)
		method = req->body != NULL ? "POST" : "GET";
	if (req->body != NULL) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_COPYPOSTFIELDS, req->body);
	}
	if (strcasecmp(method, "HEAD") == 0)
		SET(CURLOPT_NOBODY, 1L);
	else if (strcasecmp(method, "GET") == 0 && req->body == NULL)
		SET(CURLOPT_HTTPGET, 1L);
	else if (strcasecmp(method, "POST") != 0 || req->body == NULL)
		SET(CURLOPT_CUSTOMREQUEST, method);

	if (req->headers != NULL) {
		for (i = 0; i < req->headers->n; i++) {
			l = curl_slist_append(x->headers, req->headers->v[i]);
			if (l == NULL)
				return sw_err_set(err, "out of memory");
			x->headers = l;
		}
		SET(CURLOPT_HTTPHEADER, x->headers);
	}
#undef SET
	return 0;
}

struct sw_http_xfer *
sw_http_start(struct sw_http *http, const struct sw_http_req *req,
    sw_http_done_cb cb, void *arg, struct sw_err *err)
{
	struct sw_http_xfer	*x;
	CURLMcode		 mc;

	if (req->url == NULL) {
		sw_err_set(err, "http: no url");
		return NULL;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		sw_err_set(err, "out of memory");
		return NULL;
	}
	x->http = http;
	x->cb = cb;
	x->arg = arg;
	x->retry_after_ms = -1;
	sw_buf_init(&x->body, req->max_body > 0 ? req->max_body :
	    SW_HTTP_DEFAULT_MAX_BODY);
	if ((x->easy = curl_easy_init()) == NULL) {
		sw_err_set(err, "curl_easy_init failed");
		goto fail;
	}
	if (http_setup(x, req, err) == -1)
		goto fail;
	if ((mc = curl_multi_add_handle(http->multi, x->easy)) != CURLM_OK) {
		/* no URL in messages: a webhook URL is a secret */
		sw_err_set(err, "http: %s", curl_multi_strerror(mc));
		goto fail;
	}
	x->next = http->xfers;
	if (x->next != NULL)
		x->next->prev = x;
	http->xfers = x;
	http->nxfers++;
	return x;

fail:
	http_xfer_free(x);
	return NULL;
}

void
sw_http_cancel(struct sw_http_xfer *x)
{
	if (x == NULL)
		return;
	curl_multi_remove_handle(x->http->multi, x->easy);
	http_xfer_unlink(x);
	http_xfer_free(x);
}

int
sw_http_active(const struct sw_http *http)
{
	return http->nxfers;
}
