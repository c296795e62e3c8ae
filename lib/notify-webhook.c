#include "config.h"
/*
 * notify-webhook.c: the generic webhook (INTEGRATIONS 6.4).
 *
 * The body is Alertmanager's webhook format, version "4", so receivers
 * written for Alertmanager work unchanged, plus one object of our own,
 * "slopewatch": {"version": 1, "alerts": [document...]} with the full
 * alert documents (value, trend, instance, action and its result,
 * sparkline values). slopewatch-notify(7) documents both.
 *
 * Headers follow Standard Webhooks 1.0: webhook-id (the outbox's
 * idempotency key, the same on every retry), webhook-timestamp (unix
 * seconds of this attempt) and, when a secret is set, webhook-signature
 * "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" (notify.c adds them).
 *
 * Invariants: the body stays under SW_NOTIFY_WEBHOOK_MAX (alerts past it
 * are left out and counted in truncatedAlerts); commonLabels and
 * commonAnnotations are the pairs every alert shares.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "slopewatch/buf.h"
#include "slopewatch/err.h"
#include "slopewatch/notify.h"

#define WH_SECRET_MAX	1024

/* The pairs of key in every alert. */
static json_t *
wh_common(json_t *alerts, const char *key)
{
	json_t		*c, *first, *v, *o;
	const char	*k;
	size_t		 i;
	void		*tmp;

	if ((c = json_object()) == NULL)
		return NULL;
	first = json_object_get(json_array_get(alerts, 0), key);
	json_object_foreach_safe(first, tmp, k, v) {
		for (i = 1; i < json_array_size(alerts); i++) {
			o = json_object_get(json_array_get(alerts, i), key);
			if (!json_equal(json_object_get(o, k), v))
				break;
		}
		if (i == json_array_size(alerts))
			json_object_set(c, k, v);
	}
	return c;
}

static char *
wh_build(const struct sw_notify_dest *d, json_t *const *docs, int n,
    int total, int64_t now_ms)
{
	json_t		*msg, *alerts, *sw, *swa, *gl, *a;
	const char	*target, *status;
	char		*text, gk[600];
	int		 i;

	if ((msg = json_object()) == NULL)
		return NULL;
	if ((alerts = json_array()) == NULL || (swa = json_array()) == NULL) {
		json_decref(alerts);
		json_decref(msg);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if ((a = sw_notify_am_alert(d, docs[i], now_ms, 1)) != NULL)
			json_array_append_new(alerts, a);
		json_array_append(swa, docs[i]);
	}
	target = json_string_value(json_object_get(docs[0], "target"));
	status = json_string_value(json_object_get(docs[0], "event"));
	status = status != NULL && strcmp(status, "resolved") == 0 ?
	    "resolved" : "firing";
	if (target != NULL && *target != '\0') {
		gl = json_pack("{s:s}", "target", target);
		snprintf(gk, sizeof(gk), "{}:{target=\"%.500s\"}", target);
	} else {
		gl = json_pack("{s:s}", "alertname", json_string_value(
		    json_object_get(docs[0], "rule")) != NULL ?
		    json_string_value(json_object_get(docs[0], "rule")) : "");
		snprintf(gk, sizeof(gk), "{}:{alertname=\"%.500s\"}",
		    json_string_value(json_object_get(docs[0], "rule")) !=
		    NULL ? json_string_value(json_object_get(docs[0],
		    "rule")) : "");
	}
	json_object_set_new(msg, "version", json_string("4"));
	json_object_set_new(msg, "groupKey", json_string(gk));
	json_object_set_new(msg, "truncatedAlerts", json_integer(total - n));
	json_object_set_new(msg, "status", json_string(status));
	json_object_set_new(msg, "receiver", json_string(d->name));
	json_object_set_new(msg, "groupLabels", gl);
	json_object_set_new(msg, "commonLabels", wh_common(alerts, "labels"));
	json_object_set_new(msg, "commonAnnotations",
	    wh_common(alerts, "annotations"));
	json_object_set_new(msg, "externalURL", json_string(d->external_url));
	json_object_set_new(msg, "alerts", alerts);
	sw = json_pack("{s:i, s:o}", "version", SW_NOTIFY_DOC_VERSION,
	    "alerts", swa);
	json_object_set_new(msg, "slopewatch", sw);
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	return text;
}

int
sw_notify_webhook_render(const struct sw_notify_dest *d, json_t *const *docs,
    int n, int64_t now_ms, struct sw_buf *body, struct sw_err *err)
{
	char	*text = NULL;
	int	 k = n;

	/* past the cap, send fewer alerts and say so */
	for (;;) {
		if ((text = wh_build(d, docs, k, n, now_ms)) == NULL)
			return sw_err_sys(err, ENOMEM, "render: webhook");
		if (strlen(text) <= SW_NOTIFY_WEBHOOK_MAX || k == 1)
			break;
		free(text);
		k = k / 2;
	}
	sw_buf_reset(body);
	if (strlen(text) > SW_NOTIFY_WEBHOOK_MAX ||
	    sw_buf_adds(body, text) == -1) {
		free(text);
		return sw_err_set(err, "render: webhook document over %d "
		    "bytes", SW_NOTIFY_WEBHOOK_MAX);
	}
	free(text);
	return 0;
}

int
sw_notify_webhook_sign(const char *secret, const char *id, int64_t ts_s,
    const char *body, size_t len, char *dst, size_t dstsz, struct sw_err *err)
{
	unsigned char	 key[WH_SECRET_MAX], mac[EVP_MAX_MD_SIZE];
	unsigned char	 b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int	 maclen = 0;
	char		 pre[160];
	const char	*k;
	size_t		 klen, i;
	int		 n, pad = 0, ret = -1;
	struct sw_buf	 msg;

	k = secret;
	klen = strlen(secret);
	if (strncmp(secret, "whsec_", 6) == 0) {
		k = secret + 6;
		klen = strlen(k);
		if (klen == 0 || klen % 4 != 0 || klen / 4 * 3 > sizeof(key))
			return sw_err_set(err, "webhook secret: whsec_ is not "
			    "followed by base64");
		n = EVP_DecodeBlock(key, (const unsigned char *)k, (int)klen);
		if (n < 0)
			return sw_err_set(err, "webhook secret: whsec_ is not "
			    "followed by base64");
		for (i = klen; i > 0 && k[i - 1] == '='; i--)
			pad++;
		klen = (size_t)n - (size_t)pad;
	} else {
		if (klen > sizeof(key))
			return sw_err_set(err, "webhook secret longer than %d "
			    "bytes", WH_SECRET_MAX);
		memcpy(key, secret, klen);
	}
	sw_buf_init(&msg, 0);
	n = snprintf(pre, sizeof(pre), "%s.%lld.", id, (long long)ts_s);
	if (n < 0 || (size_t)n >= sizeof(pre)) {
		sw_err_set(err, "webhook id too long");
		goto out;
	}
	/* one-shot HMAC(): not deprecated in OpenSSL 3, present in 1.1 */
	sw_buf_init(&msg, sizeof(pre) + SW_OUTBOX_BODY_MAX);
	if (sw_buf_add(&msg, pre, (size_t)n) == -1 ||
	    sw_buf_add(&msg, body, len) == -1) {
		sw_err_set(err, "webhook signature: body too big");
		goto out;
	}
	if (HMAC(EVP_sha256(), key, (int)klen,
	    (const unsigned char *)sw_buf_str(&msg), msg.len, mac,
	    &maclen) == NULL) {
		sw_err_set(err, "webhook signature: HMAC failed");
		goto out;
	}
	EVP_EncodeBlock(b64, mac, (int)maclen);
	if ((size_t)snprintf(dst, dstsz, "v1,%s", b64) >= dstsz) {
		sw_err_set(err, "webhook signature: buffer too small");
		goto out;
	}
	ret = 0;
out:
	sw_buf_release(&msg);
	memset(key, 0, sizeof(key));
	return ret;
}
