#include "config.h"
/*
 * notify-slack.c: the Slack incoming-webhook payload (INTEGRATIONS 6.1).
 *
 * One message per group: a header block (state and rule, or the count and
 * target), then per alert a mrkdwn section (rule, severity, target, value
 * vs threshold in human units, the trend in words, a sparkline) and a
 * context block (host, pid, uptime), and the plain `text` fallback that
 * notifications and old clients show.
 *
 * Invariants (Block Kit limits): header text <= 150 bytes, section and
 * context text <= 3000, at most 50 blocks (alerts past what fits are
 * counted in a last section); text from outside is mrkdwn-escaped
 * (& < >). Success is judged in notify.c: HTTP 200 with body "ok".
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "slopewatch/buf.h"
#include "slopewatch/err.h"
#include "slopewatch/notify.h"
#include "slopewatch/units.h"

#define SL_ALERTS_MAX	((SW_NOTIFY_SLACK_BLOCKS_MAX - 2) / 2)
#define SL_TEXT_FALLBACK_MAX 3000

/* Appends s mrkdwn-escaped. */
static void
sl_esc(struct sw_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '&')
			sw_buf_adds(b, "&amp;");
		else if (*s == '<')
			sw_buf_adds(b, "&lt;");
		else if (*s == '>')
			sw_buf_adds(b, "&gt;");
		else
			sw_buf_addc(b, *s);
	}
}

static const char *
sl_str(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static int
sl_resolved(json_t *doc)
{
	return strcmp(sl_str(doc, "event"), "resolved") == 0;
}

static json_t *
sl_text(const char *type, const char *text, size_t max)
{
	char	buf[SW_NOTIFY_SLACK_TEXT_MAX + 8];

	sw_notify_cut(buf, sizeof(buf), text, max);
	return json_pack("{s:s, s:s}", "type", type, "text", buf);
}

static void
sl_section_text(json_t *doc, struct sw_buf *b)
{
	json_t		*v, *spark;
	double		 vals[SW_NOTIFY_SPARK_MAX], conf;
	char		 words[512], line[SW_NOTIFY_SPARK_MAX * 3 + 8];
	size_t		 i, n;
	int		 resolved = sl_resolved(doc);

	sw_buf_adds(b, "*");
	sl_esc(b, sl_str(doc, "rule"));
	sw_buf_adds(b, resolved ? "* resolved" : "*");
	sw_buf_adds(b, " \xc2\xb7 severity *");
	sl_esc(b, sl_str(doc, "severity"));
	sw_buf_adds(b, "*");
	if (*sl_str(doc, "target") != '\0') {
		sw_buf_adds(b, " \xc2\xb7 target *");
		sl_esc(b, sl_str(doc, "target"));
		sw_buf_adds(b, "*");
	}
	sw_buf_adds(b, "\n");
	sl_esc(b, sl_str(doc, "summary"));
	sw_notify_value_words(doc, words, sizeof(words));
	if (words[0] != '\0') {
		sw_buf_adds(b, resolved ? "\n*Now:* " : "\n*Value:* ");
		sl_esc(b, words);
	}
	sw_notify_trend_words(doc, words, sizeof(words));
	if (words[0] != '\0') {
		sw_buf_adds(b, "\n*Trend:* ");
		sl_esc(b, words);
		v = json_object_get(doc, "trend");
		conf = json_number_value(json_object_get(v, "confidence"));
		if (json_is_number(json_object_get(v, "confidence")) &&
		    isfinite(conf))
			sw_buf_addf(b, " (confidence %.0f%%)", conf * 100);
	}
	spark = json_object_get(doc, "spark");
	n = json_array_size(spark);
	if (n > SW_NOTIFY_SPARK_MAX)
		n = SW_NOTIFY_SPARK_MAX;
	for (i = 0; i < n; i++) {
		v = json_array_get(spark, i);
		vals[i] = json_is_number(v) ? json_number_value(v) : NAN;
	}
	if (n > 1) {
		sw_notify_sparkline(line, sizeof(line), vals, (int)n);
		sw_buf_addf(b, "\n`%s`", line);
	}
	if (*sl_str(doc, "action") != '\0') {
		sw_buf_adds(b, "\n*Action:* ");
		sl_esc(b, sl_str(doc, "action"));
		if (*sl_str(doc, "action_result") != '\0') {
			sw_buf_adds(b, " \xe2\x80\x94 ");
			sl_esc(b, sl_str(doc, "action_result"));
		}
	}
}

static void
sl_context_text(json_t *doc, struct sw_buf *b)
{
	json_t	*inst = json_object_get(doc, "instance");
	json_t	*pid = json_object_get(inst, "pid");
	json_t	*st = json_object_get(inst, "started_ms");
	char	 d[32];
	int64_t	 t;

	sw_buf_adds(b, "host *");
	sl_esc(b, sl_str(inst, "host"));
	sw_buf_adds(b, "*");
	if (json_is_integer(pid))
		sw_buf_addf(b, " \xc2\xb7 pid %" JSON_INTEGER_FORMAT,
		    json_integer_value(pid));
	t = json_integer_value(json_object_get(doc, "time_ms"));
	if (json_is_integer(st) && t > json_integer_value(st))
		sw_buf_addf(b, " \xc2\xb7 up %s", sw_fmt_duration_ms(d,
		    sizeof(d), t - json_integer_value(st)));
	if (json_is_true(json_object_get(doc, "test")))
		sw_buf_adds(b, " \xc2\xb7 test message");
	sw_buf_adds(b, " \xc2\xb7 slopewatch");
}

static const char *
sl_state_word(json_t *doc)
{
	const char	*e = sl_str(doc, "event");

	if (strcmp(e, "resolved") == 0)
		return "RESOLVED";
	if (strcmp(e, "repeat") == 0)
		return "STILL FIRING";
	return "FIRING";
}

int
sw_notify_slack_render(const struct sw_notify_dest *d, json_t *const *docs,
    int n, struct sw_buf *body, struct sw_err *err)
{
	json_t		*msg = NULL, *blocks, *blk;
	struct sw_buf	 t;
	char		 words[512];
	char		*text = NULL;
	const char	*state, *emoji, *target;
	int		 i, shown, ret = -1;

	sw_buf_init(&t, 16384);
	if ((msg = json_object()) == NULL || (blocks = json_array()) == NULL)
		goto oom;
	json_object_set_new(msg, "blocks", blocks);
	state = sl_state_word(docs[0]);
	emoji = sl_resolved(docs[0]) ? "\xe2\x9c\x85" :	/* ✅ */
	    strcmp(sl_str(docs[0], "severity"), "critical") == 0 ?
	    "\xf0\x9f\x94\xa5" : "\xe2\x9a\xa0\xef\xb8\x8f";	/* 🔥 ⚠️ */
	target = sl_str(docs[0], "target");

	/* the fallback text */
	if (n == 1) {
		sw_buf_addf(&t, "[%s] %s (%s)%s%s", state,
		    sl_str(docs[0], "rule"), sl_str(docs[0], "severity"),
		    *target != '\0' ? " on " : "", target);
		sw_notify_trend_words(docs[0], words, sizeof(words));
		if (words[0] == '\0')
			sw_notify_value_words(docs[0], words, sizeof(words));
		if (words[0] != '\0')
			sw_buf_addf(&t, ": %s", words);
		else
			sw_buf_addf(&t, ": %s", sl_str(docs[0], "summary"));
	} else {
		sw_buf_addf(&t, "[%s:%d] %s:", state, n, *target != '\0' ?
		    target : "slopewatch");
		for (i = 0; i < n; i++)
			sw_buf_addf(&t, "%s %s", i ? "," : "",
			    sl_str(docs[i], "rule"));
	}
	if (json_is_true(json_object_get(docs[0], "test")))
		sw_buf_adds(&t, " (test)");
	{
		char	fb[SL_TEXT_FALLBACK_MAX + 8];
		struct sw_buf e;

		sw_buf_init(&e, SL_TEXT_FALLBACK_MAX * 2);
		sl_esc(&e, sw_buf_str(&t));
		sw_notify_cut(fb, sizeof(fb), sw_buf_str(&e),
		    SL_TEXT_FALLBACK_MAX);
		sw_buf_release(&e);
		json_object_set_new(msg, "text", json_string(fb));
	}

	/* header */
	sw_buf_reset(&t);
	if (n == 1)
		sw_buf_addf(&t, "%s %s: %s", emoji, state,
		    sl_str(docs[0], "rule"));
	else
		sw_buf_addf(&t, "%s %s: %d alerts%s%s", emoji, state, n,
		    *target != '\0' ? " on " : "", target);
	json_array_append_new(blocks, json_pack("{s:s, s:o}", "type",
	    "header", "text", sl_text("plain_text", sw_buf_str(&t),
	    SW_NOTIFY_SLACK_HEADER_MAX)));

	shown = n < SL_ALERTS_MAX ? n : SL_ALERTS_MAX;
	for (i = 0; i < shown; i++) {
		sw_buf_reset(&t);
		sl_section_text(docs[i], &t);
		blk = json_pack("{s:s, s:o}", "type", "section", "text",
		    sl_text("mrkdwn", sw_buf_str(&t),
		    SW_NOTIFY_SLACK_TEXT_MAX));
		json_array_append_new(blocks, blk);
		sw_buf_reset(&t);
		sl_context_text(docs[i], &t);
		blk = json_pack("{s:s, s:[o]}", "type", "context", "elements",
		    sl_text("mrkdwn", sw_buf_str(&t),
		    SW_NOTIFY_SLACK_TEXT_MAX));
		json_array_append_new(blocks, blk);
	}
	if (shown < n) {
		sw_buf_reset(&t);
		sw_buf_addf(&t, "\xe2\x80\xa6 and %d more", n - shown);
		json_array_append_new(blocks, json_pack("{s:s, s:o}", "type",
		    "section", "text", sl_text("mrkdwn", sw_buf_str(&t),
		    SW_NOTIFY_SLACK_TEXT_MAX)));
	}
	if (json_array_size(blocks) != (size_t)(1 + 2 * shown +
	    (shown < n ? 1 : 0)))
		goto oom;
	if (d->channel != NULL && *d->channel != '\0')
		json_object_set_new(msg, "channel", json_string(d->channel));
	if (d->username != NULL && *d->username != '\0')
		json_object_set_new(msg, "username", json_string(d->username));
	if (d->icon != NULL && *d->icon != '\0')
		json_object_set_new(msg, d->icon[0] == ':' ? "icon_emoji" :
		    "icon_url", json_string(d->icon));
	if ((text = json_dumps(msg, JSON_COMPACT)) == NULL)
		goto oom;
	sw_buf_reset(body);
	if (sw_buf_adds(body, text) == -1) {
		sw_err_set(err, "render: Slack message too big");
		goto out;
	}
	ret = 0;
	goto out;
oom:
	sw_err_sys(err, ENOMEM, "render: Slack message");
out:
	free(text);
	json_decref(msg);
	sw_buf_release(&t);
	return ret;
}
