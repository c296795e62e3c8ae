#include "config.h"
/*
 * notify-alertmanager.c: Alertmanager API v2 alerts (INTEGRATIONS 6.3),
 * and the alert objects the webhook payload shares with them.
 *
 * POST /api/v2/alerts takes an array of postableAlert: labels (identity:
 * alertname, severity, instance = this host, target, then the rule's own
 * labels, names made valid), annotations (summary, description, value and
 * trend in words), startsAt, endsAt, generatorURL. A firing alert's endsAt
 * is now + 4 * max(evaluation interval, 1 min), so it stays active only as
 * long as we keep re-posting it (the outbox engine re-posts every
 * resend interval while the queue is empty); a resolved one's endsAt is the
 * time it resolved, re-sent for a few minutes.
 *
 * Invariants: label names match [a-zA-Z_][a-zA-Z0-9_]* (others become
 * '_'), the rule's labels never override alertname/severity/instance,
 * values are cut at 1 KiB; times are RFC 3339 UTC.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "slopewatch/buf.h"
#include "slopewatch/err.h"
#include "slopewatch/notify.h"

#define AM_VALUE_MAX	1024
#define AM_MIN_EVAL_MS	60000

static const char *
am_str(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static void
am_label_name(const char *in, char *dst, size_t dstsz)
{
	size_t	i;

	snprintf(dst, dstsz, "%s", in);
	for (i = 0; dst[i] != '\0'; i++) {
		char c = dst[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (i > 0 && c >= '0' && c <= '9')))
			dst[i] = '_';
	}
	if (dst[0] == '\0')
		snprintf(dst, dstsz, "_");
}

static void
am_set(json_t *o, const char *k, const char *v)
{
	char	buf[AM_VALUE_MAX + 8];

	sw_notify_cut(buf, sizeof(buf), v, AM_VALUE_MAX);
	json_object_set_new(o, k, json_string(buf));
}

char *
sw_notify_fingerprint(json_t *labels, char *dst, size_t dstsz)
{
	const char	*keys[128], *k, *tmp;
	json_t		*v;
	uint64_t	 h = 14695981039346656037ULL;
	size_t		 n = 0, i, j;
	const unsigned char *p;

	json_object_foreach(labels, k, v) {
		if (n < sizeof(keys) / sizeof(keys[0]))
			keys[n++] = k;
	}
	for (i = 1; i < n; i++)		/* insertion sort by name */
		for (j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
			tmp = keys[j];
			keys[j] = keys[j - 1];
			keys[j - 1] = tmp;
		}
	/* FNV-1a 64 over name 0xff value 0xff, as prometheus/common does */
	for (i = 0; i < n; i++) {
		for (p = (const unsigned char *)keys[i]; *p != '\0'; p++) {
			h ^= *p;
			h *= 1099511628211ULL;
		}
		h ^= 0xff;
		h *= 1099511628211ULL;
		for (p = (const unsigned char *)am_str(labels, keys[i]);
		    *p != '\0'; p++) {
			h ^= *p;
			h *= 1099511628211ULL;
		}
		h ^= 0xff;
		h *= 1099511628211ULL;
	}
	snprintf(dst, dstsz, "%016llx", (unsigned long long)h);
	return dst;
}

/* The identity labels of a document. */
static json_t *
am_labels(const struct sw_notify_dest *d, json_t *doc)
{
	json_t		*l, *rl, *v;
	const char	*k;
	char		 name[128];

	if ((l = json_object()) == NULL)
		return NULL;
	rl = json_object_get(doc, "labels");
	json_object_foreach(rl, k, v) {
		am_label_name(k, name, sizeof(name));
		if (json_is_string(v))
			am_set(l, name, json_string_value(v));
	}
	am_set(l, "alertname", am_str(doc, "rule"));
	am_set(l, "severity", am_str(doc, "severity"));
	am_set(l, "instance", d->host);
	if (*am_str(doc, "target") != '\0')
		am_set(l, "target", am_str(doc, "target"));
	json_object_set_new(l, "job", json_string("slopewatch"));
	return l;
}

static json_t *
am_annotations(json_t *doc)
{
	json_t	*a;
	char	 words[512];

	if ((a = json_object()) == NULL)
		return NULL;
	am_set(a, "summary", am_str(doc, "summary"));
	am_set(a, "description", am_str(doc, "description"));
	sw_notify_value_words(doc, words, sizeof(words));
	if (words[0] != '\0')
		am_set(a, "value", words);
	sw_notify_trend_words(doc, words, sizeof(words));
	if (words[0] != '\0')
		am_set(a, "trend", words);
	if (*am_str(doc, "action") != '\0')
		am_set(a, "action", am_str(doc, "action"));
	return a;
}

/* One alert object; webhook = 1 for the webhook's v4 shape (status,
 * fingerprint, zero endsAt while firing). */
json_t *
sw_notify_am_alert(const struct sw_notify_dest *d, json_t *doc,
    int64_t now_ms, int webhook)
{
	json_t		*a, *labels;
	char		 ts[40], url[1024], fp[24];
	int64_t		 t, since, eval;
	int		 resolved;

	resolved = strcmp(am_str(doc, "event"), "resolved") == 0;
	t = json_integer_value(json_object_get(doc, "time_ms"));
	since = json_integer_value(json_object_get(doc, "active_since_ms"));
	if (since <= 0 || since > t)
		since = t;
	if ((a = json_object()) == NULL)
		return NULL;
	if ((labels = am_labels(d, doc)) == NULL) {
		json_decref(a);
		return NULL;
	}
	json_object_set_new(a, "labels", labels);
	json_object_set_new(a, "annotations", am_annotations(doc));
	json_object_set_new(a, "startsAt",
	    json_string(sw_notify_time(ts, sizeof(ts), since)));
	if (resolved)
		json_object_set_new(a, "endsAt",
		    json_string(sw_notify_time(ts, sizeof(ts), t)));
	else if (webhook)
		json_object_set_new(a, "endsAt",
		    json_string("0001-01-01T00:00:00Z"));
	else {
		eval = d->eval_ms > AM_MIN_EVAL_MS ? d->eval_ms :
		    AM_MIN_EVAL_MS;
		json_object_set_new(a, "endsAt", json_string(sw_notify_time(ts,
		    sizeof(ts), now_ms + 4 * eval)));
	}
	snprintf(url, sizeof(url), "%s/status?rule=%s", *d->external_url !=
	    '\0' ? d->external_url : "http://localhost", am_str(doc, "rule"));
	/* a rule name is [A-Za-z0-9_-]; anything else would not be a URI */
	for (t = 0; url[t] != '\0'; t++)
		if ((unsigned char)url[t] <= ' ' || url[t] == '"' ||
		    url[t] == '<' || url[t] == '>' || url[t] == '\\' ||
		    (unsigned char)url[t] >= 0x7f)
			url[t] = '_';
	json_object_set_new(a, "generatorURL", json_string(url));
	if (webhook) {
		json_object_set_new(a, "status", json_string(resolved ?
		    "resolved" : "firing"));
		json_object_set_new(a, "fingerprint", json_string(
		    sw_notify_fingerprint(labels, fp, sizeof(fp))));
	}
	return a;
}

int
sw_notify_alertmanager_render(const struct sw_notify_dest *d,
    json_t *const *docs, int n, int64_t now_ms, struct sw_buf *body,
    struct sw_err *err)
{
	json_t	*arr, *a;
	char	*text = NULL;
	int	 i, ret = -1;

	if ((arr = json_array()) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if ((a = sw_notify_am_alert(d, docs[i], now_ms, 0)) == NULL ||
		    json_array_append_new(arr, a) == -1)
			goto oom;
	}
	if ((text = json_dumps(arr, JSON_COMPACT)) == NULL)
		goto oom;
	sw_buf_reset(body);
	if (sw_buf_adds(body, text) == -1) {
		sw_err_set(err, "render: Alertmanager alerts too big");
		goto out;
	}
	ret = 0;
	goto out;
oom:
	sw_err_sys(err, ENOMEM, "render: Alertmanager alerts");
out:
	free(text);
	json_decref(arr);
	return ret;
}
