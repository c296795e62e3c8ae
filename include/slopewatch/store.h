/*
 * store.h: the history, in SQLite. One database file in WAL mode holds
 * series (target, metric, labels, unit), raw samples (integer unix-ms
 * timestamps, WITHOUT ROWID, clustered on (series, ts)), rollups, events
 * (process start/stop/restart, action runs, notifications) and per-target
 * state for `status`. Writers batch: sw_store_add queues a sample in memory
 * and sw_store_flush writes the queue in one transaction (the agent flushes
 * once per tick). Readers (`show`, `status`) open the same file read-only
 * while the agent runs.
 *
 * Series names as users write them: TARGET.METRIC or TARGET.METRIC{k="v",...};
 * labels are stored canonically (sorted by key, Prometheus escapes, no braces).
 */
#ifndef SW_STORE_H
#define SW_STORE_H

#include <stddef.h>
#include <stdint.h>

struct sw_err;
struct sw_store;
struct sw_retention_level;
typedef struct sqlite3 sqlite3;

#define SW_STORE_READONLY	0x1

/* The schema version this build writes; older files are migrated on open. */
#define SW_STORE_SCHEMA_VERSION	1

/* Opens (creating if needed, unless READONLY) the database at path and
 * migrates it. A corrupt file, a newer schema, or an unwritable path fail with
 * a message naming the path. *out is a new store; close with sw_store_close. */
int	sw_store_open(const char *path, int flags, struct sw_store **out,
	    struct sw_err *err);
/* Flushes what is queued (errors logged) and closes. st may be NULL. */
void	sw_store_close(struct sw_store *st);
/* The underlying handle, for modules that keep their own tables (borrowed). */
sqlite3	*sw_store_db(struct sw_store *st);

/* The id of a series, creating it if create is set. labels is canonical
 * ("" for none); unit is a sw_unit_name() word. Returns the id (> 0), 0 when
 * absent and !create, -1 on error. Ids are cached in memory. */
int64_t	sw_store_series_id(struct sw_store *st, const char *target,
	    const char *metric, const char *labels, const char *unit, int create,
	    struct sw_err *err);

/* Queues one sample. Fails only if the queue is at its cap (samples are then
 * dropped and counted) or memory is short. */
int	sw_store_add(struct sw_store *st, int64_t series_id, int64_t ts_ms,
	    double v, struct sw_err *err);
/* Queues an event. detail is JSON text or NULL. */
int	sw_store_event(struct sw_store *st, int64_t ts_ms, const char *target,
	    const char *kind, long pid, const char *detail, struct sw_err *err);
/* Writes everything queued in one transaction. On failure (disk full,
 * read-only) the queue is kept, up to its cap, and -1 returned. */
int	sw_store_flush(struct sw_store *st, struct sw_err *err);
/* Samples dropped because the queue was full (since open). */
uint64_t sw_store_dropped(const struct sw_store *st);
/* Samples and events waiting for the next flush. */
size_t	sw_store_queued(const struct sw_store *st);

/* Caps of the write queues: beyond them sw_store_add / sw_store_event fail
 * and count the drop, so a database that stays unwritable never makes the
 * agent grow without bound. */
#define SW_STORE_QUEUE_MAX	100000	/* samples */
#define SW_STORE_EVENTS_MAX	10000	/* events */
#define SW_STORE_DETAIL_MAX	65536	/* bytes of one event's detail */
#define SW_STORE_NAME_MAX	1024	/* bytes of a target, metric, kind */
#define SW_STORE_LABELS_MAX	4096	/* bytes of canonical labels */

struct sw_series_info {
	int64_t		 id;
	const char	*target;
	const char	*metric;
	const char	*labels;	/* canonical, "" for none */
	const char	*unit;
};

/* Parses "target.metric" or "target.metric{k="v"}" into its parts, the
 * labels canonicalised. Writes into caller buffers; -1 with err on bad text. */
int	sw_series_parse(const char *name, char *target, size_t tsz, char *metric,
	    size_t msz, char *labels, size_t lsz, struct sw_err *err);
/* Formats target.metric{labels} into dst. Returns dst. */
char	*sw_series_format(char *dst, size_t dstsz, const char *target,
	    const char *metric, const char *labels);
/* Canonicalises a label set: text (n bytes, or strlen if n == (size_t)-1) is
 * what goes between the braces, `k="v",...` in any order, blanks and a
 * trailing comma allowed, names bare or quoted ("my.label"="v"). The result
 * is the form of promtext.h: sorted by name, `k="v"` joined by ',', values
 * escaped \\ \" \n, empty values left out, non-legacy names quoted. -1 with
 * err ("column N: ...", 1-based in text) on bad text or if dst is short. */
int	sw_series_labels_canon(const char *text, size_t n, char *dst,
	    size_t dstsz, struct sw_err *err);

typedef int (*sw_store_series_cb)(const struct sw_series_info *s, void *arg);
typedef int (*sw_store_sample_cb)(int64_t ts_ms, double v, void *arg);

/* Calls cb for every series (ordered by name). A non-zero return from cb stops
 * the walk and is returned. */
int	sw_store_series_each(struct sw_store *st, sw_store_series_cb cb,
	    void *arg, struct sw_err *err);
/* Looks up a series by its user-facing name; 1 found (*info filled, strings
 * valid until the next store call), 0 absent, -1 error. */
int	sw_store_series_lookup(struct sw_store *st, const char *name,
	    struct sw_series_info *info, struct sw_err *err);
/* Samples of a series with from_ms <= ts < to_ms in time order. Raw samples
 * where they exist; for the part of the range older than the oldest raw
 * sample (pruned by retention), the rollup "last" value of each bucket,
 * stamped with the bucket's start, taken from the finest resolution that
 * still has rows for that time (1m rollups where they reach, 1h rollups
 * before that, ...). Runs in one read transaction, so a concurrent
 * retention pass cannot make points vanish or repeat. A non-zero return
 * from cb stops the walk and is returned; -1 on database error. */
int	sw_store_samples_each(struct sw_store *st, int64_t series_id,
	    int64_t from_ms, int64_t to_ms, sw_store_sample_cb cb, void *arg,
	    struct sw_err *err);
/* The newest stored sample (raw, else the newest rollup "last" value; the
 * in-memory queue is not looked at): 1 found, 0 none, -1 error. */
int	sw_store_last(struct sw_store *st, int64_t series_id, int64_t *ts_ms,
	    double *v, struct sw_err *err);

struct sw_event {
	int64_t		 id;
	int64_t		 ts_ms;
	const char	*target;
	const char	*kind;
	long		 pid;
	const char	*detail;	/* JSON text or "" */
};
typedef int (*sw_store_event_cb)(const struct sw_event *ev, void *arg);
/* Events since from_ms (for target, or all when NULL), oldest first. */
int	sw_store_events_each(struct sw_store *st, const char *target,
	    int64_t from_ms, sw_store_event_cb cb, void *arg, struct sw_err *err);
/* The newest n events (for target, or all when NULL), given oldest first. */
int	sw_store_events_last(struct sw_store *st, const char *target, int n,
	    sw_store_event_cb cb, void *arg, struct sw_err *err);

/* Per-target state, written by the agent for `status`. A put is queued
 * (copied; the newest per target wins) and written by the next
 * sw_store_flush, in the same transaction as the samples. */
struct sw_target_state {
	const char	*target;
	const char	*kind;
	int64_t		 updated_ms;
	int		 up;		/* 1 up, 0 down, -1 unknown */
	int64_t		 last_ok_ms;
	int64_t		 failures;	/* total failed collections */
	const char	*last_error;	/* NULL or "" for none */
	int64_t		 last_error_ms;
	long		 pid;		/* process instance, 0 if none */
	int64_t		 started_ms;	/* instance start (wall ms), 0 if none */
};
int	sw_store_target_state_put(struct sw_store *st,
	    const struct sw_target_state *ts, struct sw_err *err);
typedef int (*sw_store_state_cb)(const struct sw_target_state *ts, void *arg);
int	sw_store_target_states_each(struct sw_store *st, sw_store_state_cb cb,
	    void *arg, struct sw_err *err);

/* Applies retention at now_ms: flushes the queue, rolls raw samples up into
 * each configured resolution (levels with res_ms > 0; complete buckets
 * [b, b+res) with b+res <= now_ms not rolled up yet: n, min, max, sum, last),
 * then deletes raw samples older than the raw level's keep (none deleted when
 * there is no raw level), rollups older than their level's keep, and events
 * older than the longest keep, at most 10,000 rows per transaction. Rollups
 * of resolutions that are no longer configured are left alone. A failure
 * (a full disk) does not stop the pass: the raw samples of a series whose
 * rollup failed are kept, the rest goes on (deleting is what makes room),
 * and -1 is returned with the first error. */
int	sw_store_retention(struct sw_store *st,
	    const struct sw_retention_level *levels, int nlevels, int64_t now_ms,
	    struct sw_err *err);

/* Database size in bytes (page_count * page_size), or -1. */
int64_t	sw_store_size(struct sw_store *st);

/* Output helpers for the reading commands (the stable formats of SPEC §2). */
/* The shortest "%.*g" text (15 to 17 digits) that reads back as exactly v;
 * "+Inf", "-Inf", "NaN" for the rest. Returns dst. */
char	*sw_store_fmt_value(char *dst, size_t dstsz, double v);
/* RFC 3339 UTC with milliseconds: "2024-05-01T10:00:00.000Z". Returns dst. */
char	*sw_store_fmt_time(char *dst, size_t dstsz, int64_t ms);

#endif
