#include "config.h"
/*
 * source-endpoint.c: endpoint targets, active HTTP(S) probes on the shared
 * client (lib/http.c). One collection is one transfer; the scheduler
 * (lib/target.c) never starts a collection while one is in flight, and this
 * source also refuses to (a second collect while busy is ignored, so the
 * probe in flight still ends with exactly one sw_target_done).
 *
 * Series written per probe, all stamped with the wall clock at probe start
 * (units as sw_unit_name() words; "" is unitless):
 *   up                  1 when the probe succeeded, else 0; every probe
 *   latency             total time, seconds        -+
 *   dns connect tls     phases, seconds (http.h)    |  only when a response
 *   ttfb                                            |  arrived (status > 0)
 *   status              HTTP status code, unitless  |
 *   bytes               body bytes received, bytes -+
 *   failures{kind="K"}  a counter: failed probes of kind K since the agent
 *                       started (like a Prometheus counter, it starts again
 *                       after an agent restart), written each time it grows.
 *                       K is timeout, refused, dns, tls, status, too_big,
 *                       redirects or other (sw_http_fail_name).
 * Timings of probes without a response (timeout, refused, ...) are left out
 * so that a burst of instant "connection refused" cannot pull p50 latency
 * down; such probes show in up and failures instead.
 *
 * A probe fails when the transfer fails or when the status is outside the
 * expect ranges (default 200-399; kind "status", "unexpected status 502").
 * The error text given to sw_target_done is "KIND: detail".
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/log.h"
#include "slopewatch/source.h"
#include "slopewatch/units.h"

#define EP_NKINDS	(SW_HTTP_OTHER + 1)

struct ep {
	struct sw_target	*t;
	struct sw_http_xfer	*xfer;		/* in flight, or NULL */
	int64_t			 start_ms;	/* wall clock at probe start */
	uint64_t		 failures[EP_NKINDS];
};

static const struct sw_conf_endpoint *
ep_conf(const struct sw_target *t)
{
	return &t->conf->u.endpoint;
}

static void
ep_sample(struct ep *ep, const char *metric, const char *labels,
    enum sw_unit unit, double v)
{
	const struct sw_sink	*sink = &ep->t->ctx->sink;

	if (sink->sample != NULL)
		sink->sample(sink->arg, ep->t->conf->name, metric, labels,
		    sw_unit_name(unit), ep->start_ms, v);
}

static int
ep_status_ok(const struct sw_conf_endpoint *c, long status)
{
	int	i;

	if (c->nexpect == 0)
		return status >= 200 && status <= 399;
	for (i = 0; i < c->nexpect && i < SW_CONF_MAX_EXPECT; i++) {
		if (status >= c->expect[i].lo && status <= c->expect[i].hi)
			return 1;
	}
	return 0;
}

/* Counts a failure of kind f, writes the counter and ends the collection. */
static void
ep_fail(struct ep *ep, enum sw_http_fail f, const char *detail)
{
	char	labels[64], text[320];

	if ((int)f < 0 || f >= EP_NKINDS)
		f = SW_HTTP_OTHER;
	ep->failures[f]++;
	snprintf(labels, sizeof(labels), "kind=\"%s\"", sw_http_fail_name(f));
	ep_sample(ep, "up", "", SW_UNIT_NONE, 0);
	ep_sample(ep, "failures", labels, SW_UNIT_NONE,
	    (double)ep->failures[f]);
	snprintf(text, sizeof(text), "%s: %s", sw_http_fail_name(f),
	    detail != NULL && *detail != '\0' ? detail : "failed");
	sw_target_done(ep->t, 0, text);
}

static void
ep_done(const struct sw_http_result *res, void *arg)
{
	struct ep	*ep = arg;
	char		 detail[64];

	ep->xfer = NULL;	/* invalid from now on */
	if (res->status > 0) {
		ep_sample(ep, "latency", "", SW_UNIT_SECONDS, res->total_s);
		ep_sample(ep, "dns", "", SW_UNIT_SECONDS, res->dns_s);
		ep_sample(ep, "connect", "", SW_UNIT_SECONDS, res->connect_s);
		ep_sample(ep, "tls", "", SW_UNIT_SECONDS, res->tls_s);
		ep_sample(ep, "ttfb", "", SW_UNIT_SECONDS, res->ttfb_s);
		ep_sample(ep, "status", "", SW_UNIT_NONE, (double)res->status);
		ep_sample(ep, "bytes", "", SW_UNIT_BYTES, (double)res->bytes);
	}
	if (res->fail != SW_HTTP_OK) {
		ep_fail(ep, res->fail, res->error);
		return;
	}
	if (!ep_status_ok(ep_conf(ep->t), res->status)) {
		snprintf(detail, sizeof(detail), "unexpected status %ld",
		    res->status);
		ep_fail(ep, SW_HTTP_STATUS, detail);
		return;
	}
	ep_sample(ep, "up", "", SW_UNIT_NONE, 1);
	sw_target_done(ep->t, 1, NULL);
}

static int
ep_init(struct sw_target *t, struct sw_err *err)
{
	const struct sw_conf_endpoint	*c = ep_conf(t);
	struct ep			*ep;

	if (t->ctx->http == NULL)
		return sw_err_set(err, "no http client");
	if (c->url == NULL)
		return sw_err_set(err, "endpoint has no url");
	if (strncasecmp(c->url, "http://", 7) != 0 &&
	    strncasecmp(c->url, "https://", 8) != 0)
		return sw_err_set(err, "url must start with http:// or https://");
	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		return sw_err_set(err, "out of memory");
	ep->t = t;
	t->impl = ep;
	if (c->insecure)
		sw_log_warn("%s: TLS verification disabled (insecure yes)",
		    t->conf->name);
	return 0;
}

static void
ep_collect(struct sw_target *t)
{
	const struct sw_conf_endpoint	*c = ep_conf(t);
	struct ep			*ep = t->impl;
	struct sw_http_req		 req;
	struct sw_err			 err;

	if (ep->xfer != NULL) {
		/* never two probes of one target at once */
		sw_log_debug("%s: probe still in flight", t->conf->name);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.url = c->url;
	req.method = c->method;
	req.headers = c->headers.n > 0 ? &c->headers : NULL;
	req.body = c->body;
	req.body_len = c->body != NULL ? strlen(c->body) : 0;
	req.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
	req.max_body = c->max_body > 0 ? (size_t)c->max_body :
	    SW_HTTP_DEFAULT_MAX_BODY;
	req.max_redirects = c->max_redirects;
	req.insecure = c->insecure;
	req.reuse = c->reuse;
	req.cacert = c->cacert;
	req.cert = c->cert;
	req.key = c->key;

	ep->start_ms = sw_clock_wall_ms();
	sw_err_clear(&err);
	ep->xfer = sw_http_start(t->ctx->http, &req, ep_done, ep, &err);
	if (ep->xfer == NULL)
		ep_fail(ep, SW_HTTP_OTHER, err.set ? err.msg : "cannot start");
}

static void
ep_free(struct sw_target *t)
{
	struct ep	*ep = t->impl;

	if (ep == NULL)
		return;
	sw_http_cancel(ep->xfer);
	free(ep);
	t->impl = NULL;
}

const struct sw_source_ops sw_source_endpoint = {
	"endpoint", ep_init, ep_collect, ep_free,
};
