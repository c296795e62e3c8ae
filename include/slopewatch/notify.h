/*
 * notify.h: notifications. The dispatcher (lib/notify.c) turns alert
 * transitions into outbox rows (outbox.h) for the notifiers of the config;
 * the payload builders (lib/notify-slack.c, notify-pagerduty.c,
 * notify-alertmanager.c, notify-webhook.c) turn those rows into requests
 * when the outbox delivers them. Payloads and policies are documented in
 * slopewatch-notify(7).
 *
 * WIRING INTO THE AGENT (agent/cmd-run.c), in this order:
 *
 *  1. Start, after sw_store_open (writable), sw_loop_new and sw_http_new:
 *       struct sw_notify *nt;
 *       if (sw_notify_new(conf, sw_store_db(store), loop, http, NULL, &nt,
 *           &err) == -1) -> log err.msg; run without notifications.
 *     This creates the outbox tables if missing, registers one destination
 *     per notify block (an Alertmanager block with N URLs gives N: "NAME",
 *     "NAME#2", ...), and arms the delivery timer on the loop: undelivered
 *     rows from before a crash go out at once. Nothing else to schedule.
 *
 *  2. Each evaluation (agent_eval_timer), so that a notification is written
 *     in the SAME transaction as the alert state change that caused it:
 *       sw_notify_begin(nt, &err);               // BEGIN IMMEDIATE
 *       sw_engine_eval(engine, now, agent_alert, a);
 *           // in agent_alert(ev, a), for every transition:
 *           //   struct sw_notify_extra x = { spark, nspark, pid,
 *           //       started_ms, target };        // all optional (0/NULL)
 *           //   sw_notify_event(nt, ev, &x, &err);   // -1: log, go on
 *       sw_notify_commit(nt, &err);              // COMMIT (+ kick)
 *     rules.c writes alert_state with autocommit statements on the same
 *     connection, so inside the BEGIN they join this transaction. The
 *     sparkline values (recent samples of the alert's series) must be read
 *     BEFORE sw_notify_begin (sw_notify_spark_load does it from the store).
 *     If the commit fails, sw_notify_commit rolls back: neither the state
 *     change nor the messages are kept (the engine re-announces from its
 *     in-memory state on the next change only, so log it loudly).
 *
 *  3. SIGHUP reload: build the new one first, then swap:
 *       sw_notify_new(newconf, ...) then sw_notify_free(old). Requests in
 *     flight are cancelled; their rows stay pending and go again (same
 *     idempotency key) from the new one.
 *
 *  4. Shutdown: sw_notify_free(nt) before sw_store_close and sw_http_free.
 *
 *  5. `slopewatch status` (read-only store): sw_notify_status_print(db,
 *     stdout, now) for text, or sw_notify_status_json(db, now) for --json;
 *     both built on sw_outbox_status_each (outbox.h), which works on a
 *     read-only connection and on a database without the outbox tables.
 *
 * Routing. A rule's `notify` list names its notifiers. A rule without one
 * goes by severity: critical to every notifier, warning to every one but
 * pagerduty, info to alertmanager, webhook and log. "pending" is never
 * sent; "firing", "repeat" and "resolved" are. Silences (outbox.h) are read
 * from the database on every routing call: a silenced firing/repeat is not
 * enqueued; a resolved one is, only when the notifier was told the alert
 * was firing. Alerts for the same target that fire together (within
 * group_wait) go to Slack, webhook and Alertmanager as one message;
 * PagerDuty gets one event per alert.
 */
#ifndef SW_NOTIFY_H
#define SW_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "slopewatch/conf.h"
#include "slopewatch/outbox.h"
#include "slopewatch/rules.h"

struct sw_err;
struct sw_loop;
struct sw_http;
struct sw_http_result;
struct sw_store;
struct sw_notify;

enum sw_notify_type {
	SW_NOTIFY_SLACK = 0,
	SW_NOTIFY_PAGERDUTY,
	SW_NOTIFY_ALERTMANAGER,
	SW_NOTIFY_WEBHOOK,
	SW_NOTIFY_LOG,
};

/* The document version stored in outbox rows and shown in the webhook's
 * "slopewatch" object. */
#define SW_NOTIFY_DOC_VERSION	1
#define SW_NOTIFY_SPARK_MAX	64	/* sparkline points kept */
#define SW_NOTIFY_SUMMARY_MAX	1024	/* PagerDuty payload.summary */
#define SW_NOTIFY_SLACK_TEXT_MAX 3000	/* Block Kit section text */
#define SW_NOTIFY_SLACK_HEADER_MAX 150	/* Block Kit header text */
#define SW_NOTIFY_SLACK_BLOCKS_MAX 50
#define SW_NOTIFY_PD_MAX	(512 * 1000)	/* PagerDuty event bytes */
#define SW_NOTIFY_PD_DEDUP_MAX	255
#define SW_NOTIFY_WEBHOOK_MAX	(256 * 1024)

/* Defaults of struct sw_notify_opts. */
#define SW_NOTIFY_GROUP_WAIT_MS	3000
#define SW_NOTIFY_AM_RESEND_MS	60000
#define SW_NOTIFY_AM_RESOLVED_MS (5 * 60000)
#define SW_NOTIFY_SLACK_INTERVAL_MS 1000	/* 1 message/s per webhook */
#define SW_NOTIFY_PD_INTERVAL_MS 500		/* 120 events/min per key */

/* One alert transition, as the dispatcher takes it. Strings are borrowed
 * for the call. */
struct sw_notify_alert {
	const char		*rule;		/* required */
	const char		*event;		/* firing, resolved, repeat,
						   pending (not sent) */
	enum sw_severity	 severity;
	const char		*summary;	/* may be NULL */
	const struct sw_kv	*labels;	/* the rule's; may be NULL */
	const char		*action;	/* may be NULL */
	const char		*action_result;	/* may be NULL */
	const char		*target;	/* NULL: derived from value */
	int64_t			 time_ms;
	int64_t			 active_since_ms;
	const struct sw_value	*value;		/* may be NULL */
	const double		*spark;		/* recent values, oldest first */
	int			 nspark;
	long			 pid;		/* the target's instance; 0 */
	int64_t			 started_ms;	/* its start (unix ms); 0 */
	const struct sw_strlist	*notify;	/* the rule's list; may be NULL */
	int			 test;		/* notify-test */
};

/* What the agent adds to a struct sw_alert_event (all optional). */
struct sw_notify_extra {
	const double	*spark;
	int		 nspark;
	long		 pid;
	int64_t		 started_ms;
	const char	*target;
	const char	*action_result;
};

struct sw_notify_opts {
	int64_t			 group_wait_ms;	/* default 3 s */
	int64_t			 am_resend_ms;	/* default 60 s */
	int64_t			 am_resolved_ms; /* default 5 min */
	int64_t			 eval_ms;	/* default SW_ENGINE_EVAL_MS */
	const char		*host;		/* NULL: gethostname() */
	const char		*external_url;	/* NULL: http://LISTEN or
						   http://HOST */
	const char		*only;		/* NULL, or the one notifier
						   whose rows are delivered
						   (notify-test --outbox) */
	struct sw_outbox_opts	 outbox;
};

/* One destination, as the payload builders see it. */
struct sw_notify_dest {
	char				 name[SW_OUTBOX_NAME_MAX];
	enum sw_notify_type		 type;
	const struct sw_conf_notify	*conf;		/* borrowed */
	const char			*url;		/* what is POSTed to:
							   borrowed, or url_buf
							   (Alertmanager: the
							   base URL + /api/v2/
							   alerts); PagerDuty:
							   default endpoint */
	char				 url_buf[2048];
	const char			*routing_key;	/* borrowed or NULL */
	const char			*secret;	/* borrowed or NULL */
	const char			*channel, *username, *icon;
	char				 host[256];
	char				 external_url[512];
	int64_t				 eval_ms;
};

#define SW_NOTIFY_PD_URL	"https://events.pagerduty.com/v2/enqueue"

/* ------------------------------------------------------------------ */
/* the dispatcher                                                       */

/* New dispatcher for conf's notifiers on db (borrowed; the writable store
 * connection), loop and http (borrowed; both may be NULL for tests, then
 * the caller drives sw_outbox_tick). Creates the outbox schema. conf must
 * outlive it. -1 with err (a notifier without its URL or key). */
int	sw_notify_new(const struct sw_conf *conf, sqlite3 *db,
	    struct sw_loop *loop, struct sw_http *http,
	    const struct sw_notify_opts *opts, struct sw_notify **out,
	    struct sw_err *err);
/* Cancels what is in flight (rows stay pending) and frees. n may be NULL. */
void	sw_notify_free(struct sw_notify *n);

/* BEGIN IMMEDIATE / COMMIT on the dispatcher's connection, for step 2
 * above. sw_notify_commit rolls back when COMMIT fails, and kicks the
 * delivery after a successful one. */
int	sw_notify_begin(struct sw_notify *n, struct sw_err *err);
int	sw_notify_commit(struct sw_notify *n, struct sw_err *err);

/* Routes one alert transition: for each notifier it goes to (rule list or
 * severity default; not silenced) writes one outbox row. Call it inside
 * the transaction that records the alert state (it opens none of its own
 * beyond a SAVEPOINT per row). Returns the number of rows written, or -1
 * (err: the first failure; the other notifiers are still tried). "log"
 * notifiers log here and write nothing. */
int	sw_notify_route(struct sw_notify *n, const struct sw_notify_alert *a,
	    struct sw_err *err);
/* The same for an engine transition plus the agent's extras (x may be
 * NULL). */
int	sw_notify_event(struct sw_notify *n, const struct sw_alert_event *ev,
	    const struct sw_notify_extra *x, struct sw_err *err);
/* Asks the outbox for a delivery pass soon (after a commit). */
void	sw_notify_kick(struct sw_notify *n);
/* The delivery engine (borrowed), for tests and the agent's shutdown. */
struct sw_outbox *sw_notify_outbox(struct sw_notify *n);
/* The destinations: count, and the i-th (borrowed). */
int	sw_notify_ndests(const struct sw_notify *n);
const struct sw_notify_dest *sw_notify_dest_at(const struct sw_notify *n,
	    int i);

/* Which notifiers a rule with this notify list and severity goes to:
 * calls cb for each (conf order, each once). */
typedef void (*sw_notify_route_cb)(const struct sw_conf_notify *cn,
    void *arg);
void	sw_notify_routes(const struct sw_conf *conf,
	    const struct sw_strlist *notify, enum sw_severity sev,
	    sw_notify_route_cb cb, void *arg);

/* Reads up to max values of series (a user-facing name, "web.rss") from
 * from_ms to to_ms into vals, evenly thinned to at most max. Returns the
 * count (0 when the series is unknown), -1 on error. Not inside a
 * transaction of the caller that has written (it reads a snapshot). */
int	sw_notify_spark_load(struct sw_store *st, const char *series,
	    int64_t from_ms, int64_t to_ms, double *vals, int max,
	    struct sw_err *err);

/* ------------------------------------------------------------------ */
/* documents and payloads (pure functions; the unit tests call them)   */

/* Fills d for notifier cn (URL index i of an Alertmanager list). -1 with
 * err when a required URL or key is missing. */
int	sw_notify_dest_init(struct sw_notify_dest *d,
	    const struct sw_conf_notify *cn, int i, const char *host,
	    const char *external_url, int64_t eval_ms, struct sw_err *err);
enum sw_notify_type sw_notify_type_of(const char *name);
const char *sw_notify_type_name(enum sw_notify_type t);

/* The alert document (JSON text, new in out; capped at SW_OUTBOX_DOC_MAX)
 * stored in the outbox: see slopewatch-notify(7), DOCUMENT. */
int	sw_notify_doc(const struct sw_notify_alert *a, const char *host,
	    struct sw_buf *out, struct sw_err *err);
/* The target of an alert: explicit, else the part before the first '.' of
 * the trend series or of the first TARGET.METRIC in the comparison's text;
 * "" when none. Returns dst. */
char	*sw_notify_target_of(const struct sw_value *v, char *dst, size_t dstsz);

/* "RSS 812 MB, doubling every 19 h, reaches 1.5 GB in ~7 h" from a
 * document's trend object (NULL or invalid: ""). Returns dst. */
char	*sw_notify_trend_words(json_t *doc, char *dst, size_t dstsz);
/* "2.3 s vs threshold 2 s" (or the value alone). Returns dst. */
char	*sw_notify_value_words(json_t *doc, char *dst, size_t dstsz);
/* A Unicode sparkline (U+2581..U+2588) of n values; NaN/Inf as ' '.
 * Returns dst ("" when n == 0). */
char	*sw_notify_sparkline(char *dst, size_t dstsz, const double *v, int n);
/* Copies src into dst (dstsz bytes) cut at a UTF-8 boundary to at most max
 * bytes with "…" appended when cut. Returns dst. */
char	*sw_notify_cut(char *dst, size_t dstsz, const char *src, size_t max);
/* RFC 3339 UTC with milliseconds. Returns dst. */
char	*sw_notify_time(char *dst, size_t dstsz, int64_t ms);

/* Renders docs[0..n) (one group: same event) for d into req: URL, body,
 * headers. key is the idempotency key; now_ms the send time; resend 1 for
 * an Alertmanager re-post. -1 with err. */
int	sw_notify_render(const struct sw_notify_dest *d, json_t *const *docs,
	    int n, const char *key, int64_t now_ms, int resend,
	    struct sw_outbox_request *req, struct sw_err *err);
int	sw_notify_slack_render(const struct sw_notify_dest *d,
	    json_t *const *docs, int n, struct sw_buf *body, struct sw_err *err);
int	sw_notify_pagerduty_render(const struct sw_notify_dest *d,
	    json_t *doc, int64_t now_ms, struct sw_buf *body,
	    struct sw_err *err);
/* The PagerDuty dedup_key: "slopewatch/<host>/<rule>" (<= 255). */
char	*sw_notify_pagerduty_dedup(char *dst, size_t dstsz, const char *host,
	    const char *rule);
int	sw_notify_alertmanager_render(const struct sw_notify_dest *d,
	    json_t *const *docs, int n, int64_t now_ms, struct sw_buf *body,
	    struct sw_err *err);
int	sw_notify_webhook_render(const struct sw_notify_dest *d,
	    json_t *const *docs, int n, int64_t now_ms, struct sw_buf *body,
	    struct sw_err *err);
/* Standard Webhooks signature "v1,<base64 HMAC-SHA256(key, id.ts.body)>";
 * the key is the base64 after "whsec_" when secret has that prefix, else
 * the secret's bytes. -1 with err. */
int	sw_notify_webhook_sign(const char *secret, const char *id, int64_t ts_s,
	    const char *body, size_t len, char *dst, size_t dstsz,
	    struct sw_err *err);
/* One Alertmanager alert object for doc (new reference, NULL when memory
 * is short); webhook = 1 gives the webhook v4 form (status, fingerprint,
 * endsAt "0001-01-01T00:00:00Z" while firing). */
json_t	*sw_notify_am_alert(const struct sw_notify_dest *d, json_t *doc,
	    int64_t now_ms, int webhook);
/* Alertmanager's fingerprint of a label set (16 hex digits). */
char	*sw_notify_fingerprint(json_t *labels, char *dst, size_t dstsz);

/* How a response counts for a destination type (outbox.h verdicts). */
enum sw_outbox_verdict sw_notify_judge(enum sw_notify_type t,
	    const struct sw_http_result *res, char *why, size_t whysz);
/* Removes d's secrets (URL, its path, routing key, secret) from text. */
void	sw_notify_scrub(const struct sw_notify_dest *d, char *text,
	    size_t size);

/* A test document for notify-test (a made-up leak on this host). */
int	sw_notify_test_doc(const char *host, const char *event, int64_t now_ms,
	    struct sw_buf *out, struct sw_err *err);

/* ------------------------------------------------------------------ */
/* status                                                               */

/* Text for `slopewatch status`: one line per notifier ("pending N,
 * retrying N (next attempt in 8 s, last error: HTTP 503), failed N"),
 * nothing when the outbox is empty or missing. 0 or -1 (err). */
int	sw_notify_status_print(sqlite3 *db, FILE *f, int64_t now_ms,
	    struct sw_err *err);
/* The same as a JSON array of {"notifier", "pending", "retrying",
 * "failed", "delivered", "next_attempt_ms", "oldest_ms", "last_error",
 * "last_error_ms", "last_status", "last_ok_ms"} (new reference), or NULL
 * (err). */
json_t	*sw_notify_status_json(sqlite3 *db, struct sw_err *err);

#endif
