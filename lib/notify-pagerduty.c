#include "config.h"
/*
 * notify-pagerduty.c: PagerDuty Events API v2 events (INTEGRATIONS 6.2).
 *
 * firing and repeat -> "trigger", resolved -> "resolve"; "acknowledge" is
 * never sent (people acknowledge, not agents). One event per alert, with
 * the stable dedup_key "slopewatch/<host>/<rule>", so a repeat updates the
 * open incident and a resolve closes it, across agent restarts.
 *
 * Invariants: dedup_key <= 255 bytes, payload.summary <= 1024 bytes (cut at
 * a UTF-8 boundary), the whole event <= 512 KB (custom_details dropped to a
 * note if it would pass), severity one of critical|warning|info (error is
 * not used), timestamp RFC 3339. The routing key is added here, at send
 * time, and never stored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "slopewatch/buf.h"
#include "slopewatch/err.h"
#include "slopewatch/notify.h"

static const char *
pd_str(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

char *
sw_notify_pagerduty_dedup(char *dst, size_t dstsz, const char *host,
    const char *rule)
{
	char	buf[1024];

	snprintf(buf, sizeof(buf), "slopewatch/%s/%s", host, rule);
	return sw_notify_cut(dst, dstsz, buf, SW_NOTIFY_PD_DEDUP_MAX);
}

static const char *
pd_severity(const char *sev)
{
	if (strcmp(sev, "critical") == 0)
		return "critical";
	if (strcmp(sev, "warning") == 0)
		return "warning";
	return "info";
}

static json_t *
pd_details(json_t *doc)
{
	json_t	*cd, *v;
	char	 words[512];

	if ((cd = json_object()) == NULL)
		return NULL;
	json_object_set_new(cd, "rule", json_string(pd_str(doc, "rule")));
	json_object_set_new(cd, "event", json_string(pd_str(doc, "event")));
	json_object_set_new(cd, "target", json_string(pd_str(doc, "target")));
	json_object_set_new(cd, "description",
	    json_string(pd_str(doc, "description")));
	sw_notify_value_words(doc, words, sizeof(words));
	json_object_set_new(cd, "value_text", json_string(words));
	sw_notify_trend_words(doc, words, sizeof(words));
	json_object_set_new(cd, "trend_text", json_string(words));
	if ((v = json_object_get(doc, "value")) != NULL)
		json_object_set(cd, "value", v);
	if ((v = json_object_get(doc, "trend")) != NULL)
		json_object_set(cd, "trend", v);
	if ((v = json_object_get(doc, "labels")) != NULL)
		json_object_set(cd, "labels", v);
	if ((v = json_object_get(doc, "instance")) != NULL)
		json_object_set(cd, "instance", v);
	if ((v = json_object_get(doc, "spark")) != NULL)
		json_object_set(cd, "recent_values", v);
	if (*pd_str(doc, "action") != '\0')
		json_object_set_new(cd, "action",
		    json_string(pd_str(doc, "action")));
	if (*pd_str(doc, "action_result") != '\0')
		json_object_set_new(cd, "action_result",
		    json_string(pd_str(doc, "action_result")));
	json_object_set_new(cd, "active_since_ms",
	    json_integer(json_integer_value(json_object_get(doc,
	    "active_since_ms"))));
	return cd;
}

int
sw_notify_pagerduty_render(const struct sw_notify_dest *d, json_t *doc,
    int64_t now_ms, struct sw_buf *body, struct sw_err *err)
{
	json_t		*ev = NULL, *pl, *lab;
	char		 dedup[SW_NOTIFY_PD_DEDUP_MAX + 8];
	char		 summary[SW_NOTIFY_SUMMARY_MAX + 8], ts[40];
	char		*text = NULL;
	const char	*group;
	int64_t		 t;
	int		 ret = -1;

	(void)now_ms;
	if (d->routing_key == NULL || *d->routing_key == '\0')
		return sw_err_set(err, "render: no routing key");
	sw_notify_pagerduty_dedup(dedup, sizeof(dedup), d->host,
	    pd_str(doc, "rule"));
	if ((ev = json_object()) == NULL)
		goto oom;
	json_object_set_new(ev, "routing_key", json_string(d->routing_key));
	json_object_set_new(ev, "dedup_key", json_string(dedup));
	if (strcmp(pd_str(doc, "event"), "resolved") == 0) {
		json_object_set_new(ev, "event_action", json_string("resolve"));
	} else {
		json_object_set_new(ev, "event_action", json_string("trigger"));
		if ((pl = json_object()) == NULL)
			goto oom;
		json_object_set_new(ev, "payload", pl);
		sw_notify_cut(summary, sizeof(summary), pd_str(doc, "summary"),
		    SW_NOTIFY_SUMMARY_MAX);
		if (summary[0] == '\0')
			sw_notify_cut(summary, sizeof(summary),
			    pd_str(doc, "rule"), SW_NOTIFY_SUMMARY_MAX);
		json_object_set_new(pl, "summary", json_string(summary));
		json_object_set_new(pl, "source", json_string(*d->host != '\0' ?
		    d->host : "slopewatch"));
		json_object_set_new(pl, "severity",
		    json_string(pd_severity(pd_str(doc, "severity"))));
		t = json_integer_value(json_object_get(doc, "time_ms"));
		json_object_set_new(pl, "timestamp",
		    json_string(sw_notify_time(ts, sizeof(ts), t)));
		if (*pd_str(doc, "target") != '\0')
			json_object_set_new(pl, "component",
			    json_string(pd_str(doc, "target")));
		lab = json_object_get(doc, "labels");
		group = pd_str(lab, "group");
		json_object_set_new(pl, "group", json_string(*group != '\0' ?
		    group : d->host));
		json_object_set_new(pl, "class", json_string(
		    json_is_object(json_object_get(doc, "trend")) ?
		    pd_str(json_object_get(doc, "trend"), "fn") :
		    "threshold"));
		json_object_set_new(pl, "custom_details", pd_details(doc));
		json_object_set_new(ev, "client", json_string("slopewatch"));
		if (*d->external_url != '\0')
			json_object_set_new(ev, "client_url",
			    json_string(d->external_url));
	}
	if ((text = json_dumps(ev, JSON_COMPACT)) == NULL)
		goto oom;
	if (strlen(text) > SW_NOTIFY_PD_MAX) {
		/* as Alertmanager does: the details go, the event stays */
		free(text);
		json_object_set_new(json_object_get(ev, "payload"),
		    "custom_details", json_pack("{s:s}", "note",
		    "details dropped: the event would pass 512 KB"));
		if ((text = json_dumps(ev, JSON_COMPACT)) == NULL)
			goto oom;
	}
	sw_buf_reset(body);
	if (sw_buf_adds(body, text) == -1) {
		sw_err_set(err, "render: PagerDuty event too big");
		goto out;
	}
	ret = 0;
	goto out;
oom:
	sw_err_sys(err, ENOMEM, "render: PagerDuty event");
out:
	if (text != NULL) {
		/* it held the routing key */
		memset(text, 0, strlen(text));
		free(text);
	}
	json_decref(ev);
	return ret;
}
