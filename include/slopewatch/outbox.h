/*
 * outbox.h: the durable notification outbox, in the store's SQLite file,
 * and the engine that delivers it through the agent's HTTP client.
 *
 * Tables (created by sw_outbox_schema with CREATE TABLE IF NOT EXISTS; the
 * version is the row meta.key = 'outbox_version'; store.c's migrations are
 * not involved):
 *   outbox        one row per message to one destination: notifier, its
 *                 idempotency key (msg_key, "msg_" + 32 hex, fixed at
 *                 enqueue), rule, event, group key, the alert document
 *                 (JSON, no secret in it), state pending | delivered |
 *                 failed, attempts, next attempt, last status and error.
 *   outbox_alert  per (notifier, rule) the last state the receiver was told
 *                 (firing | resolved) and its document: the basis of
 *                 Alertmanager re-posts and of silencing resolved messages.
 *   silence       silences (`slopewatch silence`): a rule or target name
 *                 (or fnmatch pattern), until when, why, by whom.
 *
 * Delivery (struct sw_outbox):
 * - at-least-once: a row is marked delivered only after the receiver's 2xx
 *   (judged by the destination) and in its own transaction; a crash
 *   (kill -9) before that mark makes the message go again, with the same
 *   idempotency key; after it, never again.
 * - per destination strict order: one request in flight, always the oldest
 *   pending row (or the group it heads), so a resolve never overtakes its
 *   trigger. A retrying head holds back the rows behind it.
 * - grouping: a row with a group key waits until its not_before (the
 *   grouping window); then the pending rows of the same destination, group
 *   key and event created before that time join it (none may overtake an
 *   earlier row of the same rule). The group is written down (column
 *   batch = id of the head) before it is sent, so a retry after a crash
 *   sends the same group with the same key.
 * - retries: exponential backoff with equal jitter (base * 2^(n-1), capped,
 *   half fixed, half random), Retry-After honoured on 429 and 503, until
 *   the row is max_age old; then it fails ("gave up"). Permanent failures
 *   (4xx other than 408/425/429) fail at once. A destination that is gone
 *   (410, a revoked Slack URL) is disabled until the engine is rebuilt.
 * - per destination rate limit: at least min_interval_ms between sends.
 * - bounded: a document is at most SW_OUTBOX_DOC_MAX bytes; at most
 *   SW_OUTBOX_PENDING_MAX rows wait per notifier (enqueue fails beyond);
 *   finished rows are pruned to SW_OUTBOX_KEEP_DONE per notifier and
 *   SW_OUTBOX_KEEP_DONE_MS of age.
 *
 * Secrets never reach the database (URLs, keys and HMAC secrets are applied
 * by the destination when it renders a request) nor any error text: every
 * error a destination reports is scrubbed of its secrets first.
 */
#ifndef SW_OUTBOX_H
#define SW_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "slopewatch/buf.h"
#include "slopewatch/conf.h"

struct sw_err;
struct sw_loop;
struct sw_http;
struct sw_http_req;
struct sw_http_result;
struct sw_outbox;
typedef struct sqlite3 sqlite3;

#define SW_OUTBOX_VERSION	1
#define SW_OUTBOX_DOC_MAX	(256 * 1024)	/* bytes of one document */
#define SW_OUTBOX_PENDING_MAX	10000		/* waiting rows per notifier */
#define SW_OUTBOX_KEEP_DONE	500		/* finished rows kept per notifier */
#define SW_OUTBOX_KEEP_DONE_MS	(7LL * 86400 * 1000)
#define SW_OUTBOX_GROUP_MAX	20		/* rows in one group */
#define SW_OUTBOX_KEY_LEN	36		/* "msg_" + 32 hex */
#define SW_OUTBOX_ERROR_MAX	256		/* stored error text */
#define SW_OUTBOX_NAME_MAX	128		/* notifier, rule, event, group */

/* Defaults of struct sw_outbox_opts (a 0 field means the default). */
#define SW_OUTBOX_MAX_AGE_MS	(24LL * 3600 * 1000)
#define SW_OUTBOX_BACKOFF_BASE_MS 5000
#define SW_OUTBOX_BACKOFF_CAP_MS (3600LL * 1000)
#define SW_OUTBOX_TIMEOUT_MS	15000
#define SW_OUTBOX_RETRY_AFTER_MAX_MS (6LL * 3600 * 1000)

/* ------------------------------------------------------------------ */
/* schema, enqueue, silences: plain SQLite on the caller's connection   */

/* Creates the tables and indexes if missing and records outbox_version in
 * meta (which store.c created). Refuses a file whose outbox_version is
 * newer than this build. Call once on the writable connection after
 * sw_store_open, outside any transaction. 0, or -1 with err. */
int	sw_outbox_schema(sqlite3 *db, struct sw_err *err);

/* One message to enqueue. Strings are borrowed for the call. */
struct sw_outbox_msg {
	const char	*notifier;	/* destination name (required) */
	const char	*rule;		/* "" allowed */
	const char	*event;		/* firing, resolved, repeat, test */
	const char	*group_key;	/* NULL: never grouped */
	const char	*target;	/* for outbox_alert/silences; may be NULL */
	const char	*doc;		/* JSON text, <= SW_OUTBOX_DOC_MAX */
	int64_t		 created_ms;	/* wall clock */
	int64_t		 not_before_ms;	/* not sent before (grouping window) */
};

/* INSERTs one row (state pending, a fresh idempotency key) and records the
 * state the notifier will have been told in outbox_alert (firing/repeat ->
 * firing, resolved -> resolved), atomically (a SAVEPOINT, so it joins a
 * transaction the caller has open: call it in the same transaction as the
 * alert state change, and the two commit or roll back together). Never
 * commits the caller's transaction. Fails (-1, err) when the notifier
 * already has SW_OUTBOX_PENDING_MAX rows waiting, the document is too big,
 * or SQLite fails; nothing is written then. *id (may be NULL) gets the row
 * id, key (may be NULL, SW_OUTBOX_KEY_LEN + 1 bytes) the idempotency key. */
int	sw_outbox_enqueue(sqlite3 *db, const struct sw_outbox_msg *m,
	    int64_t *id, char *key, struct sw_err *err);

/* What the receiver of notifier was last told about rule: 1 firing,
 * 0 resolved, -1 nothing (or no table), -2 on error. */
int	sw_outbox_alert_known(sqlite3 *db, const char *notifier,
	    const char *rule, struct sw_err *err);

/* Silences. A matcher is a rule or target name, or an fnmatch(3) pattern
 * over either. */
struct sw_silence {
	int64_t		 id;
	const char	*matcher;
	int64_t		 created_ms;
	int64_t		 until_ms;
	const char	*reason;
	const char	*author;
};
#define SW_SILENCE_TEXT_MAX	512	/* matcher, reason, author */
/* Adds a silence (its own transaction, or joins the caller's). *id gets its
 * id. -1 with err on empty/too long text or SQLite failure. */
int	sw_silence_add(sqlite3 *db, const char *matcher, int64_t now_ms,
	    int64_t until_ms, const char *reason, const char *author,
	    int64_t *id, struct sw_err *err);
/* Removes silence id: 1 removed, 0 no such silence, -1 error. */
int	sw_silence_rm(sqlite3 *db, int64_t id, struct sw_err *err);
typedef int (*sw_silence_cb)(const struct sw_silence *s, void *arg);
/* Calls cb for each silence (expired ones too when all is set), oldest
 * first; strings valid during the call. A non-zero cb return stops the walk
 * and is returned; -1 on error. A database without the table has none. */
int	sw_silence_each(sqlite3 *db, int64_t now_ms, int all, sw_silence_cb cb,
	    void *arg, struct sw_err *err);
/* The first silence active at now_ms that matches rule or target (either
 * may be NULL): 1 (and *id, *until_ms, reason copied to reason/rsz when
 * not NULL), 0 none, -1 error. Reads the table on every call, so silences
 * added by `slopewatch silence` apply at once. */
int	sw_silence_match(sqlite3 *db, const char *rule, const char *target,
	    int64_t now_ms, int64_t *id, int64_t *until_ms, char *reason,
	    size_t rsz, struct sw_err *err);

/* ------------------------------------------------------------------ */
/* status: for `slopewatch status`, on a read-only connection           */

struct sw_outbox_status {
	const char	*notifier;
	int64_t		 pending;	/* waiting, never tried */
	int64_t		 retrying;	/* waiting, tried and failed */
	int64_t		 failed;	/* permanently failed (kept) */
	int64_t		 delivered;	/* kept delivered rows */
	int64_t		 next_attempt_ms; /* of the head of the queue, 0 none */
	int64_t		 oldest_ms;	/* created, oldest waiting row; 0 none */
	const char	*last_error;	/* newest error of a waiting row, or
					   of the newest failed row; "" none */
	int64_t		 last_error_ms;
	long		 last_status;	/* HTTP status with it, 0 none */
	int64_t		 last_ok_ms;	/* newest delivery, 0 none */
};
typedef int (*sw_outbox_status_cb)(const struct sw_outbox_status *s,
    void *arg);
/* Calls cb once per notifier that has rows, by name; strings valid during
 * the call. Works on a read-only connection; a database without the outbox
 * tables has no notifiers (returns 0). A non-zero cb return stops the walk
 * and is returned; -1 on error. */
int	sw_outbox_status_each(sqlite3 *db, sw_outbox_status_cb cb, void *arg,
	    struct sw_err *err);

/* One message, as `status` or tests list them. */
struct sw_outbox_row {
	int64_t		 id;
	const char	*notifier;
	const char	*msg_key;
	const char	*rule;
	const char	*event;
	const char	*state;		/* pending delivered failed */
	int64_t		 batch;		/* 0 when not grouped (yet) */
	int64_t		 created_ms;
	int64_t		 next_ms;
	int64_t		 attempts;
	long		 last_status;
	const char	*last_error;
	int64_t		 done_ms;
	const char	*doc;
};
typedef int (*sw_outbox_row_cb)(const struct sw_outbox_row *r, void *arg);
/* Rows of notifier (all when NULL) in id order; same contract as above. */
int	sw_outbox_rows_each(sqlite3 *db, const char *notifier,
	    sw_outbox_row_cb cb, void *arg, struct sw_err *err);

/* ------------------------------------------------------------------ */
/* the delivery engine                                                  */

/* What a destination does with a response. */
enum sw_outbox_verdict {
	SW_OUTBOX_OK = 0,	/* delivered */
	SW_OUTBOX_RETRY,	/* try again later (5xx, 429, network) */
	SW_OUTBOX_PERMANENT,	/* give up on this message (4xx) */
	SW_OUTBOX_DISABLE,	/* give up and stop this destination (410) */
};

/* One row handed to a destination's render. */
struct sw_outbox_item {
	int64_t		 id;
	const char	*rule;
	const char	*event;		/* for re-posts: "firing"/"resolved" */
	const char	*doc;
	int64_t		 created_ms;
};

/* Response bodies are read up to this (then the transfer fails as too
 * big; a judged status is still there). */
#define SW_OUTBOX_RESPONSE_MAX	(64 * 1024)

/* A request a destination renders. The engine initialises it (body capped
 * at SW_OUTBOX_BODY_MAX, no headers) and releases it. */
#define SW_OUTBOX_BODY_MAX	(512 * 1024)
#define SW_OUTBOX_HEADERS_MAX	8
#define SW_OUTBOX_HEADER_LEN	256
struct sw_outbox_request {
	const char	*url;		/* borrowed from the destination */
	struct sw_buf	 body;
	char		 headers[SW_OUTBOX_HEADERS_MAX][SW_OUTBOX_HEADER_LEN];
	int		 nheaders;	/* Content-Type is added if absent */
	int64_t		 timeout_ms;	/* 0: the engine's */
};
/* Adds a header line ("Name: value"); -1 when full or too long. */
int	sw_outbox_request_header(struct sw_outbox_request *r, const char *fmt,
	    ...) __attribute__((format(printf, 2, 3)));

/* The request on the wire, as the engine sends it: POST, no redirects,
 * the rendered headers plus Content-Type (when absent), User-Agent and
 * Idempotency-Key: key, the response capped at SW_OUTBOX_RESPONSE_MAX.
 * hr points into r and w (caller storage), valid while both are. */
struct sw_outbox_wire {
	struct sw_strlist	 hl;
	char			*hv[SW_OUTBOX_HEADERS_MAX + 3];
	char			 ct[40];
	char			 ua[64];
	char			 ik[64];
};
void	sw_outbox_wire(struct sw_outbox_request *r, const char *key,
	    int64_t timeout_ms, struct sw_outbox_wire *w,
	    struct sw_http_req *hr);

/* A destination: how to turn rows into a request and judge the answer. */
struct sw_outbox_dest_ops {
	/* Renders the request for items[0..n) (one group; all with the same
	 * event) with idempotency key key at now_ms. resend is 1 for a
	 * re-post of current alerts (see resend_ms). 0, or -1 with err
	 * (the message fails permanently: it cannot be rendered). */
	int	(*render)(void *arg, const struct sw_outbox_item *items, int n,
		    const char *key, int64_t now_ms, int resend,
		    struct sw_outbox_request *req, struct sw_err *err);
	/* Judges a finished transfer; may write why (escaped, no secret)
	 * into why/whysz when it is not OK. */
	enum sw_outbox_verdict (*judge)(void *arg,
		    const struct sw_http_result *res, char *why, size_t whysz);
	/* Removes the destination's secrets from text in place (replacing
	 * them with "<redacted>"); may be NULL. */
	void	(*scrub)(void *arg, char *text, size_t size);
};

struct sw_outbox_dest {
	const char			*name;		/* copied */
	const char			*url;		/* for log lines: shown
							   redacted; borrowed */
	const struct sw_outbox_dest_ops	*ops;
	void				*arg;
	int64_t				 min_interval_ms; /* rate limit */
	int				 group_max;	/* 0: SW_OUTBOX_GROUP_MAX;
							   1: no groups */
	int64_t				 resend_ms;	/* >0: re-post the alerts
							   outbox_alert has as
							   firing every resend_ms
							   while the queue is
							   empty */
	int64_t				 resend_resolved_ms; /* and resolved
							   ones for this long */
	int64_t				 max_age_ms;	/* give up after; 0: the
							   outbox's max_age_ms */
};

struct sw_outbox_opts {
	int64_t		 max_age_ms;		/* give up after; default 24 h */
	int64_t		 backoff_base_ms;	/* first retry; default 5 s */
	int64_t		 backoff_cap_ms;	/* longest wait; default 1 h */
	int64_t		 timeout_ms;		/* per request; default 15 s */
	int64_t		 tick_ms;		/* rescan period; default 1 s */
	uint64_t	 seed;			/* jitter PRNG; 0: random */
};

/* Transport (tests replace sw_http). start must behave like
 * sw_http_start: cb exactly once, later, from the loop (or from a test). */
struct sw_outbox_transport {
	void	*(*start)(void *arg, const struct sw_http_req *req,
		    void (*cb)(const struct sw_http_result *, void *),
		    void *cbarg, struct sw_err *err);
	void	 (*cancel)(void *arg, void *xfer);
	void	 *arg;
};

/* Points where tests may stop the process (fork + SIGKILL). */
enum sw_outbox_point {
	SW_OUTBOX_AT_SENT = 0,		/* request started, nothing recorded */
	SW_OUTBOX_AT_ANSWERED,		/* 2xx received, not yet recorded */
	SW_OUTBOX_AT_RECORDED,		/* result committed */
};
typedef void (*sw_outbox_hook)(enum sw_outbox_point p, int64_t id,
    void *arg);

/* New engine on db (borrowed: it must outlive the engine; prepared
 * statements are kept), loop and http (borrowed; loop may be NULL: then no
 * timer is armed and the caller calls sw_outbox_tick; http may be NULL:
 * then nothing is sent until sw_outbox_set_transport). opts may be NULL.
 * The schema must exist (sw_outbox_schema). -1 with err. */
int	sw_outbox_new(sqlite3 *db, struct sw_loop *loop, struct sw_http *http,
	    const struct sw_outbox_opts *opts, struct sw_outbox **out,
	    struct sw_err *err);
/* Cancels transfers in flight (their rows stay pending: they will go again
 * with the same key) and frees. ob may be NULL. Not from a done callback of
 * its own transfers. */
void	sw_outbox_free(struct sw_outbox *ob);
/* Adds a destination (struct copied, name copied). -1 with err. */
int	sw_outbox_add_dest(struct sw_outbox *ob, const struct sw_outbox_dest *d,
	    struct sw_err *err);
void	sw_outbox_set_transport(struct sw_outbox *ob,
	    const struct sw_outbox_transport *t);
void	sw_outbox_set_hook(struct sw_outbox *ob, sw_outbox_hook hook,
	    void *arg);

/* One delivery pass at the wall clock sw_clock_wall_ms(): fails rows past
 * max age, starts the due request of every idle destination, re-posts, and
 * (with a loop) re-arms the engine's timer for the next due time (at most
 * tick_ms away). Must not run inside a transaction of the caller (it commits
 * its own small ones). */
void	sw_outbox_tick(struct sw_outbox *ob);
/* Asks for a pass soon (a zero-delay loop timer; with no loop, runs the
 * pass now). Call after committing a transaction that enqueued. */
void	sw_outbox_kick(struct sw_outbox *ob);
/* Requests in flight. */
int	sw_outbox_inflight(const struct sw_outbox *ob);

/* The backoff delay before retry number attempt (1 = after the first
 * failure) with jitter r in [0, 1): d = min(base * 2^(attempt-1), cap),
 * then d/2 + r*d/2. Pure (tests). */
int64_t	sw_outbox_backoff_ms(int64_t base_ms, int64_t cap_ms, int attempt,
	    double r);

/* "scheme://host[:port]/<redacted>" for url (never the path or query);
 * "<redacted>" when it does not parse. Returns dst. */
char	*sw_outbox_redact_url(char *dst, size_t dstsz, const char *url);
/* Replaces every occurrence of secret (when at least 4 bytes) in text
 * (size bytes of storage, NUL-terminated) with "<redacted>". */
void	sw_outbox_scrub(char *text, size_t size, const char *secret);

#endif
