/*
 * http.h: HTTP client on the libcurl multi interface, driven by the agent's
 * loop (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION -> sw_loop). Many transfers in
 * flight from one thread; none blocks another. Every response body is capped
 * (reading stops at the cap and the transfer is failed as too big).
 * Used by endpoint probes, scrapes and (later) notifiers.
 *
 * curl_global_init is called by the first sw_http_new and curl_global_cleanup
 * by the last sw_http_free (single-threaded use only, as curl requires).
 * Protocols (and redirect targets) are limited to http and https.
 */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "slopewatch/buf.h"

struct sw_loop;
struct sw_err;
struct sw_strlist;
struct sw_http;
struct sw_http_xfer;

/* Response cap used when sw_http_req.max_body is 0. */
#define SW_HTTP_DEFAULT_MAX_BODY	((size_t)1024 * 1024)

struct sw_http_req {
	const char		*url;
	const char		*method;	/* NULL = GET (POST if body) */
	const struct sw_strlist	*headers;	/* "Name: value", may be NULL */
	const char		*body;		/* may be NULL */
	size_t			 body_len;
	int64_t			 timeout_ms;	/* whole transfer; <= 0 none */
	size_t			 max_body;	/* response cap in bytes;
						   0 = SW_HTTP_DEFAULT_MAX_BODY */
	int			 max_redirects;	/* 0 = do not follow */
	int			 insecure;	/* skip TLS verification */
	int			 reuse;		/* allow connection reuse; 0 =
						   fresh connection each time
						   (DNS is still cached by
						   curl, for 60 s) */
	const char		*cacert, *cert, *key;
};

/* Why a transfer failed. SW_HTTP_STATUS is for callers that judge the
 * status code (the client itself treats any complete response as OK).
 * TOO_BIG: the body passed max_body (reading stopped there; a
 * Content-Length over the cap fails before any body is read) or the headers
 * of the response chain passed 1 MiB. REFUSED is any failed TCP connect
 * (refused, unreachable); the error text says which. */
enum sw_http_fail {
	SW_HTTP_OK = 0,
	SW_HTTP_TIMEOUT,
	SW_HTTP_REFUSED,
	SW_HTTP_DNS,
	SW_HTTP_TLS,
	SW_HTTP_STATUS,
	SW_HTTP_TOO_BIG,
	SW_HTTP_REDIRECTS,
	SW_HTTP_OTHER,
};

/* Timings are curl's (CURLINFO_*_TIME_T; with redirects, the phases of
 * every hop added up), split into phases that never go negative:
 *   dns_s = NAMELOOKUP, connect_s = CONNECT - NAMELOOKUP,
 *   tls_s = APPCONNECT - CONNECT (0 for http and reused connections),
 *   ttfb_s = STARTTRANSFER - max(APPCONNECT, CONNECT), total_s = TOTAL. */
struct sw_http_result {
	enum sw_http_fail	 fail;
	long			 status;	/* 0 when no response */
	double			 total_s;	/* all timings in seconds */
	double			 dns_s;
	double			 connect_s;	/* TCP connect (after DNS) */
	double			 tls_s;		/* TLS handshake (0 for http) */
	double			 ttfb_s;	/* connection ready -> first
						   response byte (request sent
						   + server time) */
	uint64_t		 bytes;		/* body bytes received, counting
						   the chunk that passed the cap */
	const struct sw_buf	*body;		/* borrowed, capped */
	int64_t			 retry_after_ms; /* Retry-After, -1 if none */
	char			 error[256];	/* "" on success; escaped */
};

typedef void (*sw_http_done_cb)(const struct sw_http_result *res, void *arg);

/* New client on loop, or NULL (err set). */
struct sw_http *sw_http_new(struct sw_loop *loop, struct sw_err *err);
/* Cancels every transfer (no callbacks) and frees. http may be NULL. Not
 * from inside a done callback. */
void	sw_http_free(struct sw_http *http);
/* Starts a transfer; cb is called exactly once from a loop callback (never
 * from inside sw_http_start). req's strings are copied. Returns a handle, or
 * NULL (err set, cb never called). The handle is borrowed and becomes
 * invalid when cb is called (cb may start and cancel other transfers) or
 * when it is cancelled. */
struct sw_http_xfer *sw_http_start(struct sw_http *http,
	    const struct sw_http_req *req, sw_http_done_cb cb, void *arg,
	    struct sw_err *err);
/* Cancels a transfer in flight; cb is not called. x may be NULL. */
void	sw_http_cancel(struct sw_http_xfer *x);
/* Transfers in flight. */
int	sw_http_active(const struct sw_http *http);

const char *sw_http_fail_name(enum sw_http_fail f);	/* "timeout", ... */

#endif
