#include "config.h"
/*
 * test_notify.c: the notification payloads and the dispatcher.
 *
 * Payload builders against each service's schema (INTEGRATIONS 6.1-6.4):
 * required fields, types, allowed values and length limits (Slack: text
 * fallback, <= 50 blocks, header <= 150, sections <= 3000, mrkdwn
 * escaping; PagerDuty: trigger/resolve only, dedup_key, summary <= 1024,
 * severity, RFC 3339 timestamp, 512 KB; Alertmanager: labels with
 * alertname/severity/instance and valid names, endsAt in the future while
 * firing and at the resolve time after; webhook: the v4 fields and the
 * slopewatch documents, Standard Webhooks signature on the spec's test
 * vector). Words: trend sentence, value vs threshold, sparkline. Judging
 * responses. Routing (rule lists, severity defaults), silences, the
 * resolve rule, grouping keys, and that no secret reaches a document, a
 * row or an error.
 */
#include <setjmp.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/log.h"
#include "slopewatch/notify.h"
#include "slopewatch/outbox.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#define T0	1700000000000LL
#define PDKEY	"R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"
#define HOOKSEC	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* ------------------------------------------------------------------ */
/* helpers                                                              */

static struct sw_value
leak_value(void)
{
	struct sw_value	v;

	memset(&v, 0, sizeof(v));
	v.ok = 1;
	v.is_bool = 1;
	v.v = 1;
	v.lhs = 19 * 3600.0;
	v.rhs = 86400;
	v.lhs_unit = SW_UNIT_SECONDS;
	snprintf(v.lhs_text, sizeof(v.lhs_text), "doubling(web.rss, 6h)");
	v.trend.valid = 1;
	snprintf(v.trend.fn, sizeof(v.trend.fn), "doubling");
	snprintf(v.trend.series, sizeof(v.trend.series), "web.rss");
	v.trend.unit = SW_UNIT_BYTES;
	v.trend.level = 812e6;
	v.trend.doubling_s = 19 * 3600.0;
	v.trend.eta_s = 7 * 3600.0;
	v.trend.slope = (1.5e9 - 812e6) / (7 * 3600.0);
	v.trend.confidence = 0.93;
	v.trend.slope_hi = INFINITY;	/* not JSON: must become null */
	return v;
}

static json_t *
make_doc(const char *rule, const char *event, enum sw_severity sev,
    const char *summary, const char *target, struct sw_value *v)
{
	struct sw_notify_alert	 a;
	struct sw_kv		 l2 = { (char *)"bad.name", (char *)"x", NULL };
	struct sw_kv		 l1 = { (char *)"team", (char *)"web", &l2 };
	double			 spark[100];
	struct sw_buf		 b;
	json_t			*j;
	int			 i;

	for (i = 0; i < 100; i++)
		spark[i] = 500e6 + i * 3e6;
	memset(&a, 0, sizeof(a));
	a.rule = rule;
	a.event = event;
	a.severity = sev;
	a.summary = summary;
	a.labels = &l1;
	a.target = target;
	a.time_ms = T0;
	a.active_since_ms = T0 - 600000;
	a.value = v;
	a.spark = spark;
	a.nspark = 100;
	a.pid = 4242;
	a.started_ms = T0 - 3 * 3600000LL;
	a.action = "restart-web";
	sw_buf_init(&b, SW_OUTBOX_DOC_MAX);
	assert_int_equal(sw_notify_doc(&a, "host1", &b, NULL), 0);
	j = json_loads(sw_buf_str(&b), 0, NULL);
	assert_non_null(j);
	sw_buf_release(&b);
	return j;
}

static struct sw_conf *
conf_of(const char *text)
{
	struct sw_conf	*c = NULL;
	int		 nerr = 0;

	if (sw_conf_parse_string("/tmp/t.conf", text, &c, NULL, NULL,
	    &nerr) == -1)
		fail_msg("conf: %d errors", nerr);
	return c;
}

static void
dest(struct sw_notify_dest *d, struct sw_conf *c, const char *name, int i)
{
	const struct sw_conf_notify	*cn;

	for (cn = c->notifiers; cn != NULL; cn = cn->next)
		if (strcmp(cn->name, name) == 0)
			break;
	assert_non_null(cn);
	assert_int_equal(sw_notify_dest_init(d, cn, i, "host1",
	    "http://host1:9106", 10000, NULL), 0);
}

static const char *conf_text =
    "notify ops slack { url http://127.0.0.1:1/slack/T0/B0/SLACKTOKEN;"
    " channel \"#ops\"; username slopewatch; icon \":warning:\" }\n"
    "notify oncall pagerduty { url http://127.0.0.1:1/pd;"
    " routing-key " PDKEY " }\n"
    "notify fleet alertmanager { url http://127.0.0.1:1/, "
    "http://127.0.0.1:2/api/v2/alerts }\n"
    "notify hook webhook { url http://127.0.0.1:1/hook?token=HOOKTOKEN;"
    " secret " HOOKSEC " }\n"
    "notify journal log { }\n"
    "rule web-leak { when last(web.rss) > 1MB; severity warning;"
    " notify ops, oncall }\n";

static json_t *
render_json(struct sw_notify_dest *d, json_t **docs, int n,
    struct sw_outbox_request *req)
{
	json_t	*j;

	memset(req, 0, sizeof(*req));
	sw_buf_init(&req->body, SW_OUTBOX_BODY_MAX);
	assert_int_equal(sw_notify_render(d, docs, n, "msg_test", T0 + 1000, 0,
	    req, NULL), 0);
	j = json_loads(sw_buf_str(&req->body), 0, NULL);
	assert_non_null(j);
	return j;
}

static size_t
utf8_chars(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* words                                                                */

static void
test_words(void **state)
{
	struct sw_value	 v = leak_value();
	json_t		*doc;
	char		 buf[512];
	double		 s[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	double		 flat[3] = { 5, 5, NAN };

	(void)state;
	doc = make_doc("web-leak", "firing", SW_SEV_WARNING, NULL, NULL, &v);
	assert_string_equal(sw_notify_trend_words(doc, buf, sizeof(buf)),
	    "RSS 812 MB, doubling every 19 h, reaches 1.5 GB in ~7 h");
	assert_string_equal(sw_notify_value_words(doc, buf, sizeof(buf)),
	    "19 h vs threshold 24 h");
	/* target derived from the trend series; summary generated */
	assert_string_equal(json_string_value(json_object_get(doc, "target")),
	    "web");
	assert_non_null(strstr(json_string_value(json_object_get(doc,
	    "summary")), "web-leak on web"));
	/* non-finite numbers are null, the sparkline thinned to 64 */
	assert_true(json_is_null(json_object_get(json_object_get(doc, "trend"),
	    "slope_hi")));
	assert_int_equal(json_array_size(json_object_get(doc, "spark")),
	    SW_NOTIFY_SPARK_MAX);
	assert_int_equal(json_integer_value(json_object_get(doc, "version")),
	    SW_NOTIFY_DOC_VERSION);
	json_decref(doc);

	assert_string_equal(sw_notify_sparkline(buf, sizeof(buf), s, 8),
	    "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x83\xe2\x96\x84\xe2\x96\x85"
	    "\xe2\x96\x86\xe2\x96\x87\xe2\x96\x88");
	assert_string_equal(sw_notify_sparkline(buf, sizeof(buf), flat, 3),
	    "\xe2\x96\x84\xe2\x96\x84 ");
	assert_string_equal(sw_notify_sparkline(buf, 4, s, 8), "");
	assert_string_equal(sw_notify_cut(buf, sizeof(buf), "abcdef", 4),
	    "a\xe2\x80\xa6");
	/* never splits a character */
	assert_string_equal(sw_notify_cut(buf, sizeof(buf),
	    "\xc3\xa9\xc3\xa9\xc3\xa9", 5), "\xc3\xa9\xe2\x80\xa6");
	assert_string_equal(sw_notify_cut(buf, sizeof(buf),
	    "\xc3\xa9\xc3\xa9\xc3\xa9", 4), "\xe2\x80\xa6");
	assert_string_equal(sw_notify_time(buf, sizeof(buf), T0 + 5),
	    "2023-11-14T22:13:20.005Z");

	/* target from a comparison's text */
	memset(&v, 0, sizeof(v));
	snprintf(v.lhs_text, sizeof(v.lhs_text), "p50(checkout.latency, 5m)");
	assert_string_equal(sw_notify_target_of(&v, buf, sizeof(buf)),
	    "checkout");
}

/* ------------------------------------------------------------------ */
/* payloads                                                             */

static void
test_slack(void **state)
{
	struct sw_conf		*c = conf_of(conf_text);
	struct sw_notify_dest	 d;
	struct sw_outbox_request req;
	struct sw_value		 v = leak_value();
	json_t			*docs[SW_OUTBOX_GROUP_MAX + 10], *j, *b;
	char			 huge[10000];
	size_t			 i;

	(void)state;
	dest(&d, c, "ops", 0);
	docs[0] = make_doc("web-leak", "firing", SW_SEV_CRITICAL,
	    "RSS of <web> & friends", NULL, &v);
	j = render_json(&d, docs, 1, &req);
	assert_string_equal(req.url, "http://127.0.0.1:1/slack/T0/B0/SLACKTOKEN");
	/* required fallback text; blocks; overrides */
	assert_true(json_is_string(json_object_get(j, "text")));
	assert_non_null(strstr(json_string_value(json_object_get(j, "text")),
	    "[FIRING] web-leak (critical) on web: RSS 812 MB, doubling every"
	    " 19 h"));
	assert_string_equal(json_string_value(json_object_get(j, "channel")),
	    "#ops");
	assert_string_equal(json_string_value(json_object_get(j,
	    "icon_emoji")), ":warning:");
	b = json_object_get(j, "blocks");
	assert_int_equal(json_array_size(b), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(b,
	    0), "type")), "header");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(b, 0), "text"), "type")), "plain_text");
	{
		const char *t = json_string_value(json_object_get(
		    json_object_get(json_array_get(b, 1), "text"), "text"));

		assert_non_null(strstr(t, "&lt;web&gt; &amp; friends"));
		assert_non_null(strstr(t, "*Value:* 19 h vs threshold 24 h"));
		assert_non_null(strstr(t, "confidence 93%"));
		assert_non_null(strstr(t, "\xe2\x96\x81"));	/* sparkline */
	}
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(json_object_get(json_array_get(b, 2), "elements"),
	    0), "text")), "pid 4242 \xc2\xb7 up 3h"));
	json_decref(j);
	sw_buf_release(&req.body);
	json_decref(docs[0]);

	/* limits: a 10 KB summary, a group of 30 */
	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	for (i = 0; i < 30; i++)
		docs[i] = make_doc("r", i == 0 ? "resolved" : "resolved",
		    SW_SEV_WARNING, huge, "web", &v);
	j = render_json(&d, docs, 30, &req);
	b = json_object_get(j, "blocks");
	assert_true(json_array_size(b) <= SW_NOTIFY_SLACK_BLOCKS_MAX);
	for (i = 0; i < json_array_size(b); i++) {
		json_t		*blk = json_array_get(b, i);
		const char	*type = json_string_value(json_object_get(blk,
				    "type"));
		json_t		*t = json_object_get(blk, "text");

		if (strcmp(type, "context") == 0)
			t = json_array_get(json_object_get(blk, "elements"),
			    0);
		assert_true(utf8_chars(json_string_value(json_object_get(t,
		    "text"))) <= (strcmp(type, "header") == 0 ? 150 : 3000));
	}
	assert_non_null(strstr(json_string_value(json_object_get(j, "text")),
	    "[RESOLVED:30] web"));
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(
	    json_array_get(b, json_array_size(b) - 1), "text"), "text")),
	    "6 more"));
	json_decref(j);
	sw_buf_release(&req.body);
	for (i = 0; i < 30; i++)
		json_decref(docs[i]);
	sw_conf_free(c);
}

static void
test_pagerduty(void **state)
{
	struct sw_conf		*c = conf_of(conf_text);
	struct sw_notify_dest	 d;
	struct sw_outbox_request req;
	struct sw_value		 v = leak_value();
	json_t			*docs[1], *j, *p;
	char			 huge[5000], buf[300];
	const char		*k;
	json_t			*x;

	(void)state;
	dest(&d, c, "oncall", 0);
	memset(huge, 's', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	docs[0] = make_doc("web-leak", "firing", SW_SEV_CRITICAL, huge, NULL,
	    &v);
	j = render_json(&d, docs, 1, &req);
	assert_true(req.body.len <= SW_NOTIFY_PD_MAX);
	assert_string_equal(json_string_value(json_object_get(j,
	    "routing_key")), PDKEY);
	assert_string_equal(json_string_value(json_object_get(j,
	    "event_action")), "trigger");
	assert_string_equal(json_string_value(json_object_get(j, "dedup_key")),
	    "slopewatch/host1/web-leak");
	p = json_object_get(j, "payload");
	assert_true(utf8_chars(json_string_value(json_object_get(p,
	    "summary"))) <= SW_NOTIFY_SUMMARY_MAX);
	assert_true(strlen(json_string_value(json_object_get(p, "summary"))) <=
	    SW_NOTIFY_SUMMARY_MAX);
	assert_string_equal(json_string_value(json_object_get(p, "source")),
	    "host1");
	assert_string_equal(json_string_value(json_object_get(p, "severity")),
	    "critical");
	assert_string_equal(json_string_value(json_object_get(p, "timestamp")),
	    "2023-11-14T22:13:20.000Z");
	assert_string_equal(json_string_value(json_object_get(p, "component")),
	    "web");
	assert_string_equal(json_string_value(json_object_get(p, "class")),
	    "doubling");
	assert_true(json_is_object(json_object_get(p, "custom_details")));
	/* only documented fields */
	json_object_foreach(j, k, x)
		assert_non_null(strstr(" routing_key event_action dedup_key "
		    "payload images links client client_url ", k));
	json_decref(j);
	sw_buf_release(&req.body);
	json_decref(docs[0]);

	/* info maps to info; resolve carries just the three fields */
	docs[0] = make_doc("web-leak", "resolved", SW_SEV_INFO, NULL, NULL, &v);
	j = render_json(&d, docs, 1, &req);
	assert_string_equal(json_string_value(json_object_get(j,
	    "event_action")), "resolve");
	assert_int_equal(json_object_size(j), 3);
	json_decref(j);
	sw_buf_release(&req.body);
	json_decref(docs[0]);

	/* dedup key capped at 255 */
	memset(huge, 'r', 400);
	huge[400] = '\0';
	assert_true(strlen(sw_notify_pagerduty_dedup(buf, sizeof(buf), "h",
	    huge)) <= SW_NOTIFY_PD_DEDUP_MAX);
	/* the default endpoint */
	c->notifiers->next->url.value[0] = '\0';
	dest(&d, c, "oncall", 0);
	assert_string_equal(d.url, SW_NOTIFY_PD_URL);
	sw_conf_free(c);
}

static void
test_alertmanager(void **state)
{
	struct sw_conf		*c = conf_of(conf_text);
	struct sw_notify_dest	 d;
	struct sw_outbox_request req;
	struct sw_value		 v = leak_value();
	json_t			*docs[2], *j, *a, *l;
	char			 fp1[24], fp2[24];

	(void)state;
	dest(&d, c, "fleet", 0);
	assert_string_equal(d.url, "http://127.0.0.1:1/api/v2/alerts");
	assert_string_equal(d.name, "fleet");
	dest(&d, c, "fleet", 1);
	assert_string_equal(d.url, "http://127.0.0.1:2/api/v2/alerts");
	assert_string_equal(d.name, "fleet#2");
	docs[0] = make_doc("web-leak", "firing", SW_SEV_WARNING, NULL, NULL,
	    &v);
	docs[1] = make_doc("db-slow", "resolved", SW_SEV_CRITICAL, NULL, "db",
	    &v);
	j = render_json(&d, docs, 2, &req);
	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), 2);
	a = json_array_get(j, 0);
	l = json_object_get(a, "labels");
	assert_string_equal(json_string_value(json_object_get(l, "alertname")),
	    "web-leak");
	assert_string_equal(json_string_value(json_object_get(l, "severity")),
	    "warning");
	assert_string_equal(json_string_value(json_object_get(l, "instance")),
	    "host1");
	assert_string_equal(json_string_value(json_object_get(l, "team")),
	    "web");
	assert_string_equal(json_string_value(json_object_get(l, "bad_name")),
	    "x");
	assert_non_null(json_string_value(json_object_get(json_object_get(a,
	    "annotations"), "summary")));
	assert_string_equal(json_string_value(json_object_get(a, "startsAt")),
	    "2023-11-14T22:03:20.000Z");
	/* firing: ends 4 min after this post unless re-posted */
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
	    "2023-11-14T22:17:21.000Z");
	assert_string_equal(json_string_value(json_object_get(a,
	    "generatorURL")), "http://host1:9106/status?rule=web-leak");
	a = json_array_get(j, 1);
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
	    "2023-11-14T22:13:20.000Z");
	json_decref(j);
	sw_buf_release(&req.body);

	/* fingerprints ignore key order */
	l = json_pack("{s:s, s:s}", "a", "1", "b", "2");
	sw_notify_fingerprint(l, fp1, sizeof(fp1));
	json_decref(l);
	l = json_pack("{s:s, s:s}", "b", "2", "a", "1");
	sw_notify_fingerprint(l, fp2, sizeof(fp2));
	json_decref(l);
	assert_string_equal(fp1, fp2);
	assert_int_equal(strlen(fp1), 16);
	json_decref(docs[0]);
	json_decref(docs[1]);
	sw_conf_free(c);
}

static void
test_webhook(void **state)
{
	struct sw_conf		*c = conf_of(conf_text);
	struct sw_notify_dest	 d;
	struct sw_outbox_request req;
	struct sw_value		 v = leak_value();
	json_t			*docs[2], *j, *a;
	char			 sig[128];
	int			 i, have_sig = 0, have_id = 0;

	(void)state;
	/* the Standard Webhooks test vector */
	assert_int_equal(sw_notify_webhook_sign(
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
	    "{\"test\": 2432232314}", 20, sig, sizeof(sig), NULL), 0);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	assert_int_equal(sw_notify_webhook_sign("whsec_!!", "m", 1, "", 0, sig,
	    sizeof(sig), NULL), -1);

	dest(&d, c, "hook", 0);
	docs[0] = make_doc("web-leak", "firing", SW_SEV_WARNING, NULL, "web",
	    &v);
	docs[1] = make_doc("web-slow", "firing", SW_SEV_WARNING, NULL, "web",
	    &v);
	j = render_json(&d, docs, 2, &req);
	assert_string_equal(json_string_value(json_object_get(j, "version")),
	    "4");
	assert_string_equal(json_string_value(json_object_get(j, "status")),
	    "firing");
	assert_string_equal(json_string_value(json_object_get(j, "receiver")),
	    "hook");
	assert_string_equal(json_string_value(json_object_get(j, "groupKey")),
	    "{}:{target=\"web\"}");
	assert_int_equal(json_integer_value(json_object_get(j,
	    "truncatedAlerts")), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j,
	    "commonLabels"), "target")), "web");
	assert_null(json_object_get(json_object_get(j, "commonLabels"),
	    "alertname"));
	assert_int_equal(json_array_size(json_object_get(j, "alerts")), 2);
	a = json_array_get(json_object_get(j, "alerts"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "status")),
	    "firing");
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
	    "0001-01-01T00:00:00Z");
	assert_int_equal(strlen(json_string_value(json_object_get(a,
	    "fingerprint"))), 16);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "slopewatch"), "version")), SW_NOTIFY_DOC_VERSION);
	assert_int_equal(json_array_size(json_object_get(json_object_get(j,
	    "slopewatch"), "alerts")), 2);
	for (i = 0; i < req.nheaders; i++) {
		if (strncmp(req.headers[i], "webhook-id: msg_test", 20) == 0)
			have_id = 1;
		if (strncmp(req.headers[i], "webhook-signature: v1,", 22) == 0)
			have_sig = 1;
	}
	assert_true(have_id && have_sig);
	assert_true(req.body.len <= SW_NOTIFY_WEBHOOK_MAX);
	/* the secret is not in the body */
	assert_null(strstr(sw_buf_str(&req.body), "MfKQ9r8GKYqr"));
	json_decref(j);
	sw_buf_release(&req.body);
	json_decref(docs[0]);
	json_decref(docs[1]);
	sw_conf_free(c);
}

static void
test_judge_scrub(void **state)
{
	struct sw_http_result	 r;
	struct sw_buf		 b;
	struct sw_conf		*c = conf_of(conf_text);
	struct sw_notify_dest	 d;
	char			 why[256], txt[256];

	(void)state;
	memset(&r, 0, sizeof(r));
	sw_buf_init(&b, 1024);
	r.body = &b;
	r.retry_after_ms = -1;
#define J(t, st, body) (sw_buf_reset(&b), sw_buf_adds(&b, body), \
	r.status = st, sw_notify_judge(t, &r, why, sizeof(why)))
	assert_int_equal(J(SW_NOTIFY_SLACK, 200, "ok"), SW_OUTBOX_OK);
	assert_int_equal(J(SW_NOTIFY_SLACK, 200, "no"), SW_OUTBOX_PERMANENT);
	assert_int_equal(J(SW_NOTIFY_SLACK, 429, "rate"), SW_OUTBOX_RETRY);
	assert_int_equal(J(SW_NOTIFY_SLACK, 400, "invalid_payload"),
	    SW_OUTBOX_PERMANENT);
	assert_non_null(strstr(why, "invalid_payload"));
	assert_int_equal(J(SW_NOTIFY_SLACK, 404, "no_service"),
	    SW_OUTBOX_DISABLE);
	assert_int_equal(J(SW_NOTIFY_SLACK, 410, "channel_is_archived"),
	    SW_OUTBOX_DISABLE);
	assert_int_equal(J(SW_NOTIFY_SLACK, 500, "rollup_error"),
	    SW_OUTBOX_RETRY);
	assert_int_equal(J(SW_NOTIFY_PAGERDUTY, 202, "{}"), SW_OUTBOX_OK);
	assert_int_equal(J(SW_NOTIFY_PAGERDUTY, 400, "{}"),
	    SW_OUTBOX_PERMANENT);
	assert_int_equal(J(SW_NOTIFY_WEBHOOK, 302, ""), SW_OUTBOX_PERMANENT);
	assert_int_equal(J(SW_NOTIFY_WEBHOOK, 503, ""), SW_OUTBOX_RETRY);
	assert_int_equal(J(SW_NOTIFY_ALERTMANAGER, 0, ""), SW_OUTBOX_RETRY);
	sw_buf_release(&b);

	/* secrets out of any text */
	dest(&d, c, "ops", 0);
	snprintf(txt, sizeof(txt), "error for /slack/T0/B0/SLACKTOKEN at "
	    "http://127.0.0.1:1/slack/T0/B0/SLACKTOKEN");
	sw_notify_scrub(&d, txt, sizeof(txt));
	assert_null(strstr(txt, "SLACKTOKEN"));
	dest(&d, c, "oncall", 0);
	snprintf(txt, sizeof(txt), "bad key " PDKEY);
	sw_notify_scrub(&d, txt, sizeof(txt));
	assert_string_equal(txt, "bad key <redacted>");
	dest(&d, c, "hook", 0);
	snprintf(txt, sizeof(txt), "%s and %s", HOOKSEC, HOOKSEC + 6);
	sw_notify_scrub(&d, txt, sizeof(txt));
	assert_null(strstr(txt, "MfKQ9r8"));
	sw_conf_free(c);
}

/* ------------------------------------------------------------------ */
/* dispatcher                                                           */

static char	 tmpdir[256];

struct seen {
	char	names[16][64];
	int	n;
};

static void
route_cb(const struct sw_conf_notify *cn, void *arg)
{
	struct seen	*s = arg;

	snprintf(s->names[s->n++], 64, "%s", cn->name);
}

static void
test_routes(void **state)
{
	struct sw_conf		*c = conf_of(conf_text);
	struct seen		 s;
	struct sw_strlist	 l;
	char			*names[2] = { (char *)"hook", (char *)"ops" };

	(void)state;
	memset(&s, 0, sizeof(s));
	sw_notify_routes(c, NULL, SW_SEV_CRITICAL, route_cb, &s);
	assert_int_equal(s.n, 5);
	memset(&s, 0, sizeof(s));
	sw_notify_routes(c, NULL, SW_SEV_WARNING, route_cb, &s);
	assert_int_equal(s.n, 4);	/* not pagerduty */
	memset(&s, 0, sizeof(s));
	sw_notify_routes(c, NULL, SW_SEV_INFO, route_cb, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[0], "fleet");
	assert_string_equal(s.names[1], "hook");
	assert_string_equal(s.names[2], "journal");
	/* a rule's list wins, in config order */
	l.v = names;
	l.n = 2;
	memset(&s, 0, sizeof(s));
	sw_notify_routes(c, &l, SW_SEV_INFO, route_cb, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "ops");
	assert_string_equal(s.names[1], "hook");
	sw_conf_free(c);
}

struct rows {
	char	notifier[32][32];
	char	event[32][16];
	char	key[32][40];
	int	grouped[32];
	int	n;
	int	secret;
};

static int
rows_cb(const struct sw_outbox_row *r, void *arg)
{
	struct rows	*x = arg;

	if (strstr(r->doc, "SLACKTOKEN") != NULL ||
	    strstr(r->doc, PDKEY) != NULL || strstr(r->doc, "HOOKTOKEN") != NULL)
		x->secret = 1;
	if (x->n < 32) {
		snprintf(x->notifier[x->n], 32, "%s", r->notifier);
		snprintf(x->event[x->n], 16, "%s", r->event);
	}
	x->n++;
	return 0;
}

static struct rows
rows_of(sqlite3 *db)
{
	struct rows	x;

	memset(&x, 0, sizeof(x));
	assert_int_equal(sw_outbox_rows_each(db, NULL, rows_cb, &x, NULL), 0);
	return x;
}

static void
test_dispatch(void **state)
{
	struct sw_conf		*c = conf_of(conf_text);
	struct sw_store		*st = NULL;
	struct sw_notify	*n = NULL;
	struct sw_notify_alert	 a;
	struct sw_value		 v = leak_value();
	struct sw_err		 err;
	struct rows		 x;
	char			 db[300], p[320];
	sqlite3			*h;

	(void)state;
	sw_log_set_level(SW_LOG_ERROR);
	sw_clock_set_fake(1000000, T0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sw-notify.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(db, sizeof(db), "%s/sw.db", tmpdir);
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(db, 0, &st, &err), 0);
	h = sw_store_db(st);
	assert_int_equal(sw_notify_new(c, h, NULL, NULL, NULL, &n, &err), 0);
	assert_int_equal(sw_notify_ndests(n), 6);	/* fleet has two */

	memset(&a, 0, sizeof(a));
	a.rule = "web-leak";
	a.severity = SW_SEV_WARNING;
	a.value = &v;
	a.time_ms = T0;
	a.notify = &c->rules->notify;		/* ops, oncall */
	/* pending is never sent */
	a.event = "pending";
	assert_int_equal(sw_notify_route(n, &a, &err), 0);
	/* a resolve nobody was told about goes nowhere */
	a.event = "resolved";
	assert_int_equal(sw_notify_route(n, &a, &err), 0);
	/* firing, in one transaction with the caller's */
	assert_int_equal(sw_notify_begin(n, &err), 0);
	a.event = "firing";
	assert_int_equal(sw_notify_route(n, &a, &err), 2);
	assert_int_equal(sw_notify_commit(n, &err), 0);
	x = rows_of(h);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.notifier[0], "ops");
	assert_string_equal(x.notifier[1], "oncall");
	assert_int_equal(x.secret, 0);
	/* severity default: warning goes everywhere but pagerduty (log
	 * writes no row; fleet gets a row per URL) */
	a.notify = NULL;
	a.rule = "other";
	assert_int_equal(sw_notify_route(n, &a, &err), 4);
	/* silenced by target: firing dropped, the known resolve goes */
	assert_int_equal(sw_silence_add(h, "web", T0, T0 + 3600000, "deploy",
	    "t", NULL, &err), 0);
	a.rule = "web-leak";
	a.notify = &c->rules->notify;
	a.event = "repeat";
	assert_int_equal(sw_notify_route(n, &a, &err), 0);
	a.event = "resolved";
	assert_int_equal(sw_notify_route(n, &a, &err), 2);
	a.rule = "third";
	a.notify = NULL;
	a.event = "firing";
	assert_int_equal(sw_notify_route(n, &a, &err), 0);
	x = rows_of(h);
	assert_int_equal(x.n, 8);
	assert_string_equal(x.event[6], "resolved");
	/* grouping keys: by target, none for PagerDuty */
	{
		sqlite3_stmt	*q;

		assert_int_equal(sqlite3_prepare_v2(h, "SELECT notifier,"
		    " coalesce(group_key, '-') FROM outbox ORDER BY id LIMIT 2",
		    -1, &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(q, 1),
		    "target:web");
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(q, 1),
		    "-");
		sqlite3_finalize(q);
	}
	/* status text */
	{
		char	*buf = NULL;
		size_t	 sz = 0;
		FILE	*f = open_memstream(&buf, &sz);
		json_t	*js;

		assert_int_equal(sw_notify_status_print(h, f, T0, &err), 0);
		fclose(f);
		assert_non_null(strstr(buf, "ops"));
		assert_non_null(strstr(buf, "pending 3"));
		free(buf);
		js = sw_notify_status_json(h, &err);
		assert_true(json_is_array(js));
		assert_int_equal(json_array_size(js), 5);
		json_decref(js);
	}
	sw_notify_free(n);
	sw_store_close(st);
	sw_conf_free(c);
	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
	rmdir(tmpdir);
	sw_clock_set_fake(-1, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_slack),
		cmocka_unit_test(test_pagerduty),
		cmocka_unit_test(test_alertmanager),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_judge_scrub),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
