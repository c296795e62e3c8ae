#include "config.h"

/*
 * store.c: the history in one SQLite file (WAL mode).
 *
 * Invariants:
 * - The writer holds one connection with every hot statement prepared once
 *   and reused (bind/step/reset). sw_store_add only appends to an in-memory
 *   queue; sw_store_flush writes samples, events and target states in ONE
 *   transaction. On failure the transaction is rolled back and the queue
 *   kept (up to SW_STORE_QUEUE_MAX samples; later adds are dropped and
 *   counted), so a full disk loses nothing until the cap.
 * - Series ids are cached in a hash map (target, metric, labels) -> id, so
 *   the per-sample path never queries.
 * - The schema is versioned in meta.schema_version and migrated forward in
 *   one transaction at open; a newer file is refused, not touched.
 * - Readers open with SQLITE_OPEN_READONLY and never block the writer (WAL).
 * - Every error names the database path.
 */

#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/store.h"

#define SW_STORE_CACHE_MAX	65536	/* cached series ids */
#define SW_STORE_STATES_MAX	4096	/* queued target states */
#define SW_STORE_CHUNK		10000	/* rows per retention transaction */
#define SW_STORE_ROLLUP_CHUNK	1000	/* buckets per rollup transaction */
#define SW_STORE_MAX_LEVELS	16
#define SW_STORE_LABELS_N	64	/* labels in one set (as promtext.h) */
#define SW_STORE_RES_MAX	(366LL * 24 * 3600 * 1000 * 10)	/* 10 years */

/* Schema migrations: steps[i] takes a file from version i to i + 1. */
static const char *const sw_store_migrations[] = {
	/* 0 -> 1: the first schema */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
	"CREATE TABLE series (id INTEGER PRIMARY KEY,"
	" target TEXT NOT NULL, metric TEXT NOT NULL,"
	" labels TEXT NOT NULL DEFAULT '', unit TEXT NOT NULL DEFAULT '',"
	" UNIQUE(target, metric, labels));"
	"CREATE TABLE sample (series_id INTEGER NOT NULL, ts INTEGER NOT NULL,"
	" v REAL NOT NULL, PRIMARY KEY(series_id, ts)) WITHOUT ROWID;"
	"CREATE TABLE rollup (series_id INTEGER NOT NULL, res INTEGER NOT NULL,"
	" ts INTEGER NOT NULL, n INTEGER NOT NULL, vmin REAL, vmax REAL,"
	" vsum REAL, vlast REAL,"
	" PRIMARY KEY(series_id, res, ts)) WITHOUT ROWID;"
	"CREATE TABLE event (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
	" target TEXT NOT NULL, kind TEXT NOT NULL, pid INTEGER NOT NULL"
	" DEFAULT 0, detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX event_ts ON event(ts);"
	"CREATE TABLE target_state (target TEXT PRIMARY KEY,"
	" kind TEXT NOT NULL DEFAULT '', updated_ms INTEGER NOT NULL DEFAULT 0,"
	" up INTEGER NOT NULL DEFAULT -1, last_ok_ms INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" last_error_ms INTEGER NOT NULL DEFAULT 0,"
	" pid INTEGER NOT NULL DEFAULT 0, started_ms INTEGER NOT NULL DEFAULT 0);",
};
#define SW_STORE_NMIGRATIONS \
	((int)(sizeof(sw_store_migrations) / sizeof(sw_store_migrations[0])))

/* Statements kept prepared for the life of the connection. */
enum sw_store_q {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SERIES_GET,
	Q_SERIES_INS,
	Q_SERIES_UNIT,
	Q_SAMPLE_INS,
	Q_EVENT_INS,
	Q_STATE_PUT,
	Q_LAST,
	Q_LAST_ROLLUP,
	Q_SERIES_BY_NAME,
	Q__N
};

static const char *const sw_store_sql[Q__N] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SERIES_GET] = "SELECT id, unit FROM series"
	    " WHERE target = ?1 AND metric = ?2 AND labels = ?3",
	[Q_SERIES_INS] = "INSERT INTO series (target, metric, labels, unit)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[Q_SERIES_UNIT] = "UPDATE series SET unit = ?2 WHERE id = ?1",
	[Q_SAMPLE_INS] = "INSERT OR REPLACE INTO sample (series_id, ts, v)"
	    " VALUES (?1, ?2, ?3)",
	[Q_EVENT_INS] = "INSERT INTO event (ts, target, kind, pid, detail)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_STATE_PUT] = "INSERT OR REPLACE INTO target_state (target, kind,"
	    " updated_ms, up, last_ok_ms, failures, last_error, last_error_ms,"
	    " pid, started_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[Q_LAST] = "SELECT ts, v FROM sample WHERE series_id = ?1"
	    " ORDER BY ts DESC LIMIT 1",
	[Q_LAST_ROLLUP] = "SELECT ts, vlast FROM rollup"
	    " WHERE series_id = ?1 AND res = ?2 ORDER BY ts DESC LIMIT 1",
	[Q_SERIES_BY_NAME] = "SELECT id, target, metric, labels, unit"
	    " FROM series WHERE target = ?1 AND metric = ?2 AND labels = ?3",
};

struct sw_store_qsample {
	int64_t	series_id;
	int64_t	ts;
	double	v;
};

struct sw_store_qevent {
	int64_t	 ts;
	char	*target;
	char	*kind;
	char	*detail;
	long	 pid;
};

struct sw_store_qstate {
	char	*target;
	char	*kind;
	char	*last_error;
	int64_t	 updated_ms;
	int	 up;
	int64_t	 last_ok_ms;
	int64_t	 failures;
	int64_t	 last_error_ms;
	long	 pid;
	int64_t	 started_ms;
};

struct sw_store_cent {
	char		*key;	/* target \0 metric \0 labels \0; NULL = empty */
	uint64_t	 hash;
	int64_t		 id;
};

struct sw_store {
	sqlite3			*db;
	char			*path;
	int			 readonly;
	sqlite3_stmt		*q[Q__N];

	struct sw_store_qsample	*samples;
	size_t			 nsamples;
	size_t			 samples_cap;
	uint64_t		 dropped;

	struct sw_store_qevent	*events;
	size_t			 nevents;
	size_t			 events_cap;
	uint64_t		 events_dropped;

	struct sw_store_qstate	*states;
	size_t			 nstates;
	size_t			 states_cap;

	struct sw_store_cent	*cache;
	size_t			 cache_size;	/* slots, a power of 2 */
	size_t			 cache_used;

	/* strings of the last sw_store_series_lookup */
	char			*info_target;
	char			*info_metric;
	char			*info_labels;
	char			*info_unit;
};

/* ---------------------------------------------------------------------- */
/* errors and statements                                                   */

/* Fills err with "PATH: what: sqlite message" and returns -1. */
static int
store_sqlerr(struct sw_store *st, struct sw_err *err, const char *what)
{
	int		 code = sqlite3_errcode(st->db);
	int		 sys = sqlite3_system_errno(st->db);
	const char	*hint = "";

	switch (code & 0xff) {
	case SQLITE_FULL:
		hint = " (disk full or size limit reached)";
		break;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		hint = " (the file is damaged or not a slopewatch database;"
		    " move it away to start a new one)";
		break;
	case SQLITE_READONLY:
		hint = " (the file or its directory is not writable)";
		break;
	}
	if ((code & 0xff) == SQLITE_CANTOPEN && sys != 0)
		return sw_err_set(err, "%s: %s: %s: %s", st->path, what,
		    sqlite3_errmsg(st->db), strerror(sys));
	return sw_err_set(err, "%s: %s: %s%s", st->path, what,
	    sqlite3_errmsg(st->db), hint);
}

/* The prepared statement q, preparing it on first use. */
static sqlite3_stmt *
store_stmt(struct sw_store *st, enum sw_store_q q, struct sw_err *err)
{
	if (st->q[q] == NULL && sqlite3_prepare_v3(st->db, sw_store_sql[q], -1,
	    SQLITE_PREPARE_PERSISTENT, &st->q[q], NULL) != SQLITE_OK) {
		store_sqlerr(st, err, "cannot prepare statement");
		st->q[q] = NULL;
		return NULL;
	}
	return st->q[q];
}

/* Prepares a one-off statement (readers, retention). */
static int
store_prepare(struct sw_store *st, const char *sql, sqlite3_stmt **out,
    struct sw_err *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK) {
		*out = NULL;
		return store_sqlerr(st, err, "cannot prepare statement");
	}
	return 0;
}

/* Runs a prepared statement without rows to completion, then resets it. */
static int
store_step_done(struct sw_store *st, sqlite3_stmt *s, struct sw_err *err,
    const char *what)
{
	int	rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_sqlerr(st, err, what);
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

static int
store_exec(struct sw_store *st, const char *sql, struct sw_err *err,
    const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(st, err, what);
	return 0;
}

static int
store_begin(struct sw_store *st, struct sw_err *err)
{
	sqlite3_stmt	*s;

	if ((s = store_stmt(st, Q_BEGIN, err)) == NULL)
		return -1;
	return store_step_done(st, s, err, "cannot begin transaction");
}

static int
store_commit(struct sw_store *st, struct sw_err *err)
{
	sqlite3_stmt	*s;

	if ((s = store_stmt(st, Q_COMMIT, err)) == NULL)
		return -1;
	return store_step_done(st, s, err, "cannot commit");
}

/* Rolls back if a transaction is open (SQLite may already have done so). */
static void
store_rollback(struct sw_store *st)
{
	sqlite3_stmt	*s;

	if (sqlite3_get_autocommit(st->db))
		return;
	if ((s = store_stmt(st, Q_ROLLBACK, NULL)) != NULL) {
		sqlite3_step(s);
		sqlite3_reset(s);
	}
}

static int
store_writable(struct sw_store *st, struct sw_err *err)
{
	if (st->readonly)
		return sw_err_set(err, "%s: opened read-only", st->path);
	return 0;
}

/* Reads one integer (or NULL) from a one-row query with bound int64s. */
static int
store_query_int(struct sw_store *st, sqlite3_stmt *s, int64_t *out,
    int *isnull, struct sw_err *err)
{
	int	rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*isnull = sqlite3_column_type(s, 0) == SQLITE_NULL;
		*out = sqlite3_column_int64(s, 0);
	} else if (rc == SQLITE_DONE) {
		*isnull = 1;
		*out = 0;
	} else {
		store_sqlerr(st, err, "cannot read");
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

static char *
store_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* ---------------------------------------------------------------------- */
/* open, migrate, close                                                    */

/* The schema version of the file: 0 when it has no meta table. */
static int
store_version(struct sw_store *st, int64_t *version, struct sw_err *err)
{
	sqlite3_stmt	*s = NULL;
	int		 rc, ret = -1;

	*version = 0;
	if (store_prepare(st, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'table' AND name = 'meta'", &s, err) == -1)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		store_sqlerr(st, err, "cannot read schema");
		goto out;
	}
	if (sqlite3_column_int(s, 0) == 0) {
		ret = 0;
		goto out;
	}
	sqlite3_finalize(s);
	if (store_prepare(st, "SELECT value FROM meta"
	    " WHERE key = 'schema_version'", &s, err) == -1)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		store_sqlerr(st, err, "cannot read schema version");
		goto out;
	}
	if (sqlite3_column_type(s, 0) != SQLITE_INTEGER ||
	    sqlite3_column_int64(s, 0) < 0) {
		sw_err_set(err, "%s: bad schema_version in table meta; not a "
		    "slopewatch database?", st->path);
		goto out;
	}
	*version = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

static int
store_refuse_newer(struct sw_store *st, int64_t version, struct sw_err *err)
{
	if (version > SW_STORE_SCHEMA_VERSION)
		return sw_err_set(err, "%s: schema version %" PRId64 " is "
		    "newer than this slopewatch supports (%d); upgrade "
		    "slopewatch or point it at another database", st->path,
		    version, SW_STORE_SCHEMA_VERSION);
	return 0;
}

/* Brings the file to SW_STORE_SCHEMA_VERSION in one transaction. */
static int
store_migrate(struct sw_store *st, struct sw_err *err)
{
	sqlite3_stmt	*s = NULL;
	int64_t		 version;
	int		 ret = -1;
	char		 what[64];

	if (store_version(st, &version, err) == -1 ||
	    store_refuse_newer(st, version, err) == -1)
		return -1;
	if (version == SW_STORE_SCHEMA_VERSION)
		return 0;
	if (store_exec(st, "BEGIN IMMEDIATE", err, "cannot begin migration")
	    == -1)
		return -1;
	/* another process may have migrated it while we waited */
	if (store_version(st, &version, err) == -1 ||
	    store_refuse_newer(st, version, err) == -1)
		goto out;
	for (; version < SW_STORE_SCHEMA_VERSION; version++) {
		if (version >= SW_STORE_NMIGRATIONS) {
			sw_err_set(err, "%s: no migration from schema version "
			    "%" PRId64, st->path, version);
			goto out;
		}
		snprintf(what, sizeof(what), "migration to schema version "
		    "%" PRId64 " failed", version + 1);
		if (store_exec(st, sw_store_migrations[version], err, what)
		    == -1)
			goto out;
	}
	if (store_prepare(st, "INSERT OR REPLACE INTO meta (key, value)"
	    " VALUES ('schema_version', ?1)", &s, err) == -1)
		goto out;
	sqlite3_bind_int64(s, 1, SW_STORE_SCHEMA_VERSION);
	if (store_step_done(st, s, err, "cannot write schema version") == -1)
		goto out;
	if (store_exec(st, "COMMIT", err, "cannot commit migration") == -1)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(s);
	if (ret == -1 && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/* Writer pragmas (INTEGRATIONS.md §7.1). */
static int
store_pragmas(struct sw_store *st, struct sw_err *err)
{
	sqlite3_stmt	*s = NULL;
	const char	*mode;
	int		 ret = -1;

	if (store_prepare(st, "PRAGMA journal_mode = WAL", &s, err) == -1)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_sqlerr(st, err, "cannot set WAL mode");
		goto out;
	}
	mode = (const char *)sqlite3_column_text(s, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0)
		sw_log_warn("store: %s: journal mode is %s, not wal; readers "
		    "may block the agent", st->path, mode ? mode : "unknown");
	if (store_exec(st, "PRAGMA synchronous = NORMAL;"
	    "PRAGMA cache_size = -16384", err, "cannot set pragmas") == -1)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

int
sw_store_open(const char *path, int flags, struct sw_store **out,
    struct sw_err *err)
{
	struct sw_store	*st;
	struct stat	 sb;
	int64_t		 version;
	int		 oflags;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return sw_err_set(err, "no database path");
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(path)) == NULL) {
		free(st);
		return sw_err_sys(err, ENOMEM, "%s", path);
	}
	st->readonly = (flags & SW_STORE_READONLY) != 0;

	if (stat(path, &sb) == -1) {
		if (errno != ENOENT || st->readonly) {
			sw_err_sys(err, errno, "%s", path);
			goto fail;
		}
	} else if (!S_ISREG(sb.st_mode)) {
		sw_err_set(err, "%s: not a regular file", path);
		goto fail;
	}

	oflags = st->readonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK) {
		if (st->db == NULL) {
			sw_err_sys(err, ENOMEM, "%s", path);
			goto fail;
		}
		store_sqlerr(st, err, "cannot open database");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	if (!st->readonly && sqlite3_db_readonly(st->db, "main") == 1) {
		sw_err_set(err, "%s: cannot open database for writing (the "
		    "file is not writable)", path);
		goto fail;
	}

	if (st->readonly) {
		if (store_version(st, &version, err) == -1 ||
		    store_refuse_newer(st, version, err) == -1)
			goto fail;
		if (version == 0) {
			sw_err_set(err, "%s: not a slopewatch database (no "
			    "schema version); has the agent run yet?", path);
			goto fail;
		}
		if (version < SW_STORE_SCHEMA_VERSION) {
			sw_err_set(err, "%s: schema version %" PRId64 " is "
			    "older than %d; start the agent once to migrate "
			    "it", path, version, SW_STORE_SCHEMA_VERSION);
			goto fail;
		}
	} else {
		/* reads the header first: a damaged file fails here */
		if (store_version(st, &version, err) == -1 ||
		    store_refuse_newer(st, version, err) == -1)
			goto fail;
		/* before the first table (and the switch to WAL), or it can
		 * no longer change; a no-op on a file with tables */
		if (version == 0 && store_exec(st, "PRAGMA auto_vacuum ="
		    " INCREMENTAL", err, "cannot set auto_vacuum") == -1)
			goto fail;
		if (store_pragmas(st, err) == -1 ||
		    store_migrate(st, err) == -1)
			goto fail;
	}
	*out = st;
	return 0;
fail:
	sw_store_close(st);
	return -1;
}

static void
store_free_event(struct sw_store_qevent *e)
{
	free(e->target);
	free(e->kind);
	free(e->detail);
}

static void
store_free_state(struct sw_store_qstate *s)
{
	free(s->target);
	free(s->kind);
	free(s->last_error);
}

void
sw_store_close(struct sw_store *st)
{
	struct sw_err	 err;
	size_t		 i, lost;
	int		 q;

	if (st == NULL)
		return;
	if (st->db != NULL && !st->readonly &&
	    (st->nsamples > 0 || st->nevents > 0 || st->nstates > 0)) {
		sw_err_clear(&err);
		lost = st->nsamples;
		if (sw_store_flush(st, &err) == -1)
			sw_log_error("store: closing with %zu samples not "
			    "written: %s", lost, err.msg);
	}
	for (q = 0; q < Q__N; q++)
		sqlite3_finalize(st->q[q]);
	if (st->db != NULL)
		sqlite3_close(st->db);
	for (i = 0; i < st->nevents; i++)
		store_free_event(&st->events[i]);
	for (i = 0; i < st->nstates; i++)
		store_free_state(&st->states[i]);
	for (i = 0; i < st->cache_size; i++)
		free(st->cache[i].key);
	free(st->cache);
	free(st->samples);
	free(st->events);
	free(st->states);
	free(st->info_target);
	free(st->info_metric);
	free(st->info_labels);
	free(st->info_unit);
	free(st->path);
	free(st);
}

sqlite3 *
sw_store_db(struct sw_store *st)
{
	return st->db;
}

int64_t
sw_store_size(struct sw_store *st)
{
	sqlite3_stmt	*s = NULL;
	int64_t		 size = -1;

	if (store_prepare(st, "SELECT page_count * page_size FROM"
	    " pragma_page_count(), pragma_page_size()", &s, NULL) == -1)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		size = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return size;
}

/* ---------------------------------------------------------------------- */
/* series ids                                                              */

static uint64_t
store_hash(const char *target, const char *metric, const char *labels)
{
	const char	*parts[3] = { target, metric, labels };
	const unsigned char *p;
	uint64_t	 h = 14695981039346656037ULL;	/* FNV-1a */
	int		 i;

	for (i = 0; i < 3; i++) {
		for (p = (const unsigned char *)parts[i]; *p != '\0'; p++)
			h = (h ^ *p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

static int
store_cent_match(const struct sw_store_cent *e, uint64_t h,
    const char *target, const char *metric, const char *labels)
{
	const char	*k = e->key;

	if (e->hash != h || strcmp(k, target) != 0)
		return 0;
	k += strlen(k) + 1;
	if (strcmp(k, metric) != 0)
		return 0;
	k += strlen(k) + 1;
	return strcmp(k, labels) == 0;
}

static int64_t
store_cache_get(struct sw_store *st, const char *target, const char *metric,
    const char *labels)
{
	struct sw_store_cent	*e;
	uint64_t		 h;
	size_t			 i;

	if (st->cache_used == 0)
		return 0;
	h = store_hash(target, metric, labels);
	for (i = h & (st->cache_size - 1);; i = (i + 1) & (st->cache_size - 1)) {
		e = &st->cache[i];
		if (e->key == NULL)
			return 0;
		if (store_cent_match(e, h, target, metric, labels))
			return e->id;
	}
}

/* Caches an id; silently does nothing when full or short of memory. */
static void
store_cache_put(struct sw_store *st, const char *target, const char *metric,
    const char *labels, int64_t id)
{
	struct sw_store_cent	*nc, *e;
	size_t			 i, j, nsize, tl, ml, ll;
	uint64_t		 h;
	char			*key;

	if (st->cache_used >= SW_STORE_CACHE_MAX)
		return;
	if ((st->cache_used + 1) * 2 > st->cache_size) {
		nsize = st->cache_size == 0 ? 64 : st->cache_size * 2;
		if ((nc = calloc(nsize, sizeof(*nc))) == NULL)
			return;
		for (i = 0; i < st->cache_size; i++) {
			if (st->cache[i].key == NULL)
				continue;
			for (j = st->cache[i].hash & (nsize - 1);
			    nc[j].key != NULL; j = (j + 1) & (nsize - 1))
				;
			nc[j] = st->cache[i];
		}
		free(st->cache);
		st->cache = nc;
		st->cache_size = nsize;
	}
	tl = strlen(target);
	ml = strlen(metric);
	ll = strlen(labels);
	if ((key = malloc(tl + ml + ll + 3)) == NULL)
		return;
	memcpy(key, target, tl + 1);
	memcpy(key + tl + 1, metric, ml + 1);
	memcpy(key + tl + ml + 2, labels, ll + 1);
	h = store_hash(target, metric, labels);
	for (i = h & (st->cache_size - 1);; i = (i + 1) & (st->cache_size - 1)) {
		e = &st->cache[i];
		if (e->key == NULL)
			break;
	}
	e->key = key;
	e->hash = h;
	e->id = id;
	st->cache_used++;
}

static int
store_check_name(struct sw_store *st, const char *what, const char *s,
    const char *bad, size_t max, struct sw_err *err)
{
	char	esc[128];

	if (s == NULL || *s == '\0')
		return sw_err_set(err, "%s: empty %s", st->path, what);
	if (strlen(s) > max)
		return sw_err_set(err, "%s: %s longer than %zu bytes",
		    st->path, what, max);
	if (strpbrk(s, bad) != NULL)
		return sw_err_set(err, "%s: %s \"%s\" has one of \"%s\"",
		    st->path, what, sw_log_escape(esc, sizeof(esc), s,
		    strlen(s)), bad);
	return 0;
}

int64_t
sw_store_series_id(struct sw_store *st, const char *target,
    const char *metric, const char *labels, const char *unit, int create,
    struct sw_err *err)
{
	sqlite3_stmt	*s;
	const char	*old;
	int64_t		 id;
	int		 rc, same;

	if (labels == NULL)
		labels = "";
	if (unit == NULL)
		unit = "";
	if (store_check_name(st, "target", target, ".{}\" \t\n", 
	    SW_STORE_NAME_MAX, err) == -1 ||
	    store_check_name(st, "metric", metric, "{}\" \t\n",
	    SW_STORE_NAME_MAX, err) == -1)
		return -1;
	if (strlen(labels) > SW_STORE_LABELS_MAX)
		return sw_err_set(err, "%s: labels of %s.%s longer than %d "
		    "bytes", st->path, target, metric, SW_STORE_LABELS_MAX);
	if ((id = store_cache_get(st, target, metric, labels)) > 0)
		return id;

	if ((s = store_stmt(st, Q_SERIES_GET, err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, metric, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, labels, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		old = (const char *)sqlite3_column_text(s, 1);
		same = old != NULL && strcmp(old, unit) == 0;
		sqlite3_reset(s);
		if (create && !same && *unit != '\0' && !st->readonly) {
			/* a unit learnt later (or changed) wins */
			if ((s = store_stmt(st, Q_SERIES_UNIT, err)) == NULL)
				return -1;
			sqlite3_bind_int64(s, 1, id);
			sqlite3_bind_text(s, 2, unit, -1, SQLITE_STATIC);
			if (store_step_done(st, s, err, "cannot update series")
			    == -1)
				return -1;
		}
		store_cache_put(st, target, metric, labels, id);
		return id;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, err, "cannot read series");
	if (!create || st->readonly)
		return 0;

	if ((s = store_stmt(st, Q_SERIES_INS, err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, metric, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, labels, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, unit, -1, SQLITE_STATIC);
	if (store_step_done(st, s, err, "cannot create series") == -1)
		return -1;
	id = sqlite3_last_insert_rowid(st->db);
	store_cache_put(st, target, metric, labels, id);
	return id;
}

/* ---------------------------------------------------------------------- */
/* the write queue                                                         */

int
sw_store_add(struct sw_store *st, int64_t series_id, int64_t ts_ms,
    double v, struct sw_err *err)
{
	struct sw_store_qsample	*ns;
	size_t			 ncap;

	if (series_id <= 0)
		return sw_err_set(err, "%s: bad series id %" PRId64,
		    st->path, series_id);
	if (isnan(v))
		return sw_err_set(err, "%s: series %" PRId64 ": value is "
		    "not a number", st->path, series_id);
	if (st->nsamples >= SW_STORE_QUEUE_MAX) {
		st->dropped++;
		return sw_err_set(err, "%s: write queue full (%d samples); "
		    "sample dropped", st->path, SW_STORE_QUEUE_MAX);
	}
	if (st->nsamples == st->samples_cap) {
		ncap = st->samples_cap == 0 ? 1024 : st->samples_cap * 2;
		if (ncap > SW_STORE_QUEUE_MAX)
			ncap = SW_STORE_QUEUE_MAX;
		if ((ns = reallocarray(st->samples, ncap, sizeof(*ns)))
		    == NULL) {
			st->dropped++;
			return sw_err_sys(err, ENOMEM, "%s: write queue",
			    st->path);
		}
		st->samples = ns;
		st->samples_cap = ncap;
	}
	ns = &st->samples[st->nsamples++];
	ns->series_id = series_id;
	ns->ts = ts_ms;
	ns->v = v;
	return 0;
}

int
sw_store_event(struct sw_store *st, int64_t ts_ms, const char *target,
    const char *kind, long pid, const char *detail, struct sw_err *err)
{
	struct sw_store_qevent	*ne, e;
	size_t			 ncap;

	if (detail == NULL)
		detail = "";
	if (store_check_name(st, "event target", target, "", SW_STORE_NAME_MAX,
	    err) == -1 || store_check_name(st, "event kind", kind, "",
	    SW_STORE_NAME_MAX, err) == -1)
		return -1;
	if (strlen(detail) > SW_STORE_DETAIL_MAX)
		return sw_err_set(err, "%s: event detail longer than %d bytes",
		    st->path, SW_STORE_DETAIL_MAX);
	if (st->nevents >= SW_STORE_EVENTS_MAX) {
		st->events_dropped++;
		return sw_err_set(err, "%s: event queue full (%d events); "
		    "event dropped", st->path, SW_STORE_EVENTS_MAX);
	}
	if (st->nevents == st->events_cap) {
		ncap = st->events_cap == 0 ? 16 : st->events_cap * 2;
		if (ncap > SW_STORE_EVENTS_MAX)
			ncap = SW_STORE_EVENTS_MAX;
		if ((ne = reallocarray(st->events, ncap, sizeof(*ne))) == NULL)
			return sw_err_sys(err, ENOMEM, "%s: event queue",
			    st->path);
		st->events = ne;
		st->events_cap = ncap;
	}
	e.ts = ts_ms;
	e.pid = pid;
	e.target = strdup(target);
	e.kind = strdup(kind);
	e.detail = strdup(detail);
	if (e.target == NULL || e.kind == NULL || e.detail == NULL) {
		store_free_event(&e);
		return sw_err_sys(err, ENOMEM, "%s: event queue", st->path);
	}
	st->events[st->nevents++] = e;
	return 0;
}

int
sw_store_target_state_put(struct sw_store *st,
    const struct sw_target_state *ts, struct sw_err *err)
{
	struct sw_store_qstate	*q = NULL, n, *ns;
	size_t			 i, ncap;

	if (store_check_name(st, "target", ts->target, "", SW_STORE_NAME_MAX,
	    err) == -1)
		return -1;
	memset(&n, 0, sizeof(n));
	n.target = store_strdup(ts->target);
	n.kind = store_strdup(ts->kind);
	n.last_error = store_strdup(ts->last_error);
	if (n.target == NULL || n.kind == NULL || n.last_error == NULL) {
		store_free_state(&n);
		return sw_err_sys(err, ENOMEM, "%s: target state", st->path);
	}
	if (strlen(n.last_error) > SW_STORE_DETAIL_MAX)
		n.last_error[SW_STORE_DETAIL_MAX] = '\0';
	n.updated_ms = ts->updated_ms;
	n.up = ts->up;
	n.last_ok_ms = ts->last_ok_ms;
	n.failures = ts->failures;
	n.last_error_ms = ts->last_error_ms;
	n.pid = ts->pid;
	n.started_ms = ts->started_ms;

	for (i = 0; i < st->nstates; i++) {
		if (strcmp(st->states[i].target, n.target) == 0) {
			q = &st->states[i];
			break;
		}
	}
	if (q != NULL) {
		store_free_state(q);
		*q = n;
		return 0;
	}
	if (st->nstates >= SW_STORE_STATES_MAX) {
		store_free_state(&n);
		return sw_err_set(err, "%s: more than %d target states queued",
		    st->path, SW_STORE_STATES_MAX);
	}
	if (st->nstates == st->states_cap) {
		ncap = st->states_cap == 0 ? 16 : st->states_cap * 2;
		if ((ns = reallocarray(st->states, ncap, sizeof(*ns))) == NULL) {
			store_free_state(&n);
			return sw_err_sys(err, ENOMEM, "%s: target state",
			    st->path);
		}
		st->states = ns;
		st->states_cap = ncap;
	}
	st->states[st->nstates++] = n;
	return 0;
}

static int
store_write_queue(struct sw_store *st, struct sw_err *err)
{
	struct sw_store_qsample	*qs;
	struct sw_store_qevent	*qe;
	struct sw_store_qstate	*qt;
	sqlite3_stmt		*s;
	size_t			 i;

	if (st->nsamples > 0) {
		if ((s = store_stmt(st, Q_SAMPLE_INS, err)) == NULL)
			return -1;
		for (i = 0; i < st->nsamples; i++) {
			qs = &st->samples[i];
			sqlite3_bind_int64(s, 1, qs->series_id);
			sqlite3_bind_int64(s, 2, qs->ts);
			sqlite3_bind_double(s, 3, qs->v);
			if (store_step_done(st, s, err, "cannot write samples")
			    == -1)
				return -1;
		}
	}
	if (st->nevents > 0) {
		if ((s = store_stmt(st, Q_EVENT_INS, err)) == NULL)
			return -1;
		for (i = 0; i < st->nevents; i++) {
			qe = &st->events[i];
			sqlite3_bind_int64(s, 1, qe->ts);
			sqlite3_bind_text(s, 2, qe->target, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 3, qe->kind, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 4, qe->pid);
			sqlite3_bind_text(s, 5, qe->detail, -1, SQLITE_STATIC);
			if (store_step_done(st, s, err, "cannot write events")
			    == -1)
				return -1;
		}
	}
	if (st->nstates > 0) {
		if ((s = store_stmt(st, Q_STATE_PUT, err)) == NULL)
			return -1;
		for (i = 0; i < st->nstates; i++) {
			qt = &st->states[i];
			sqlite3_bind_text(s, 1, qt->target, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, qt->kind, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 3, qt->updated_ms);
			sqlite3_bind_int(s, 4, qt->up);
			sqlite3_bind_int64(s, 5, qt->last_ok_ms);
			sqlite3_bind_int64(s, 6, qt->failures);
			sqlite3_bind_text(s, 7, qt->last_error, -1,
			    SQLITE_STATIC);
			sqlite3_bind_int64(s, 8, qt->last_error_ms);
			sqlite3_bind_int64(s, 9, qt->pid);
			sqlite3_bind_int64(s, 10, qt->started_ms);
			if (store_step_done(st, s, err, "cannot write target "
			    "state") == -1)
				return -1;
		}
	}
	return 0;
}

int
sw_store_flush(struct sw_store *st, struct sw_err *err)
{
	struct sw_err	 e;
	size_t		 i;

	if (st->nsamples == 0 && st->nevents == 0 && st->nstates == 0)
		return 0;
	if (store_writable(st, err) == -1)
		return -1;
	sw_err_clear(&e);
	if (store_begin(st, &e) == -1 || store_write_queue(st, &e) == -1 ||
	    store_commit(st, &e) == -1) {
		store_rollback(st);
		return sw_err_set(err, "%s; %zu samples and %zu events kept "
		    "in memory", e.msg, st->nsamples, st->nevents);
	}
	st->nsamples = 0;
	for (i = 0; i < st->nevents; i++)
		store_free_event(&st->events[i]);
	st->nevents = 0;
	for (i = 0; i < st->nstates; i++)
		store_free_state(&st->states[i]);
	st->nstates = 0;
	/* give back a queue that grew during an outage */
	if (st->samples_cap > 65536) {
		free(st->samples);
		st->samples = NULL;
		st->samples_cap = 0;
	}
	return 0;
}

uint64_t
sw_store_dropped(const struct sw_store *st)
{
	return st->dropped;
}

size_t
sw_store_queued(const struct sw_store *st)
{
	return st->nsamples + st->nevents;
}

/* ---------------------------------------------------------------------- */
/* series names                                                            */

static int
store_legacy_name(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	}
	return 1;
}

struct store_label {
	const char	*name;	/* unescaped, in the scratch buffer */
	size_t		 nlen;
	const char	*value;
	size_t		 vlen;
};

/* Reads a quoted string at text[*i] (on the opening quote) into the scratch
 * buffer, unescaped. */
static int
store_read_quoted(const char *text, size_t n, size_t *i, char *scratch,
    size_t *sl, const char **out, size_t *outlen, const char *what,
    struct sw_err *err)
{
	size_t	start = *i;

	(*i)++;
	*out = scratch + *sl;
	*outlen = 0;
	for (;;) {
		if (*i >= n)
			return sw_err_set(err, "column %zu: unterminated %s",
			    start + 1, what);
		if (text[*i] == '"')
			break;
		if (text[*i] == '\\') {
			if (*i + 1 >= n)
				return sw_err_set(err, "column %zu: unterminated"
				    " %s", start + 1, what);
			switch (text[*i + 1]) {
			case '\\':
				scratch[(*sl)++] = '\\';
				break;
			case '"':
				scratch[(*sl)++] = '"';
				break;
			case 'n':
				scratch[(*sl)++] = '\n';
				break;
			default:
				return sw_err_set(err, "column %zu: bad escape "
				    "in %s (only \\\\ \\\" \\n)", *i + 1, what);
			}
			*i += 2;
		} else if (text[*i] == '\0') {
			return sw_err_set(err, "column %zu: NUL in %s", *i + 1,
			    what);
		} else
			scratch[(*sl)++] = text[(*i)++];
		(*outlen)++;
	}
	(*i)++;
	scratch[(*sl)++] = '\0';
	return 0;
}

static int
store_put(char *dst, size_t dstsz, size_t *dl, const char *s, size_t n,
    int escape)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (escape && (s[i] == '\\' || s[i] == '"' || s[i] == '\n')) {
			if (*dl + 2 >= dstsz)
				return -1;
			dst[(*dl)++] = '\\';
			dst[(*dl)++] = s[i] == '\n' ? 'n' : s[i];
		} else {
			if (*dl + 1 >= dstsz)
				return -1;
			dst[(*dl)++] = s[i];
		}
	}
	dst[*dl] = '\0';
	return 0;
}

static int
store_label_cmp(const struct store_label *a, const struct store_label *b)
{
	size_t	n = a->nlen < b->nlen ? a->nlen : b->nlen;
	int	c;

	if ((c = memcmp(a->name, b->name, n)) != 0)
		return c;
	return a->nlen < b->nlen ? -1 : a->nlen > b->nlen;
}

int
sw_series_labels_canon(const char *text, size_t n, char *dst, size_t dstsz,
    struct sw_err *err)
{
	struct store_label	 l[SW_STORE_LABELS_N], t;
	char			*scratch = NULL;
	size_t			 i = 0, sl = 0, nl = 0, dl = 0, k, j, start;
	int			 ret = -1, c;

	if (n == (size_t)-1)
		n = strlen(text);
	if (dstsz == 0)
		return sw_err_set(err, "no room for labels");
	dst[0] = '\0';
	if (n > SW_STORE_LABELS_MAX * 2)
		return sw_err_set(err, "labels longer than %d bytes",
		    SW_STORE_LABELS_MAX * 2);
	if ((scratch = malloc(n + 1)) == NULL)
		return sw_err_sys(err, ENOMEM, "labels");
	for (;;) {
		while (i < n && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i >= n)
			break;
		if (nl == SW_STORE_LABELS_N) {
			sw_err_set(err, "column %zu: more than %d labels",
			    i + 1, SW_STORE_LABELS_N);
			goto out;
		}
		start = i;
		if (text[i] == '"') {
			if (store_read_quoted(text, n, &i, scratch, &sl,
			    &l[nl].name, &l[nl].nlen, "label name", err) == -1)
				goto out;
			if (l[nl].nlen == 0) {
				sw_err_set(err, "column %zu: empty label name",
				    start + 1);
				goto out;
			}
		} else {
			while (i < n && ((text[i] >= 'a' && text[i] <= 'z') ||
			    (text[i] >= 'A' && text[i] <= 'Z') ||
			    (text[i] >= '0' && text[i] <= '9') ||
			    text[i] == '_'))
				i++;
			if (i == start || !store_legacy_name(text + start,
			    i - start)) {
				sw_err_set(err, "column %zu: expected a label "
				    "name", start + 1);
				goto out;
			}
			l[nl].name = scratch + sl;
			l[nl].nlen = i - start;
			memcpy(scratch + sl, text + start, i - start);
			sl += i - start;
			scratch[sl++] = '\0';
		}
		while (i < n && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i >= n || text[i] != '=') {
			sw_err_set(err, "column %zu: expected '=' after label "
			    "name", i + 1);
			goto out;
		}
		i++;
		while (i < n && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i >= n || text[i] != '"') {
			sw_err_set(err, "column %zu: expected '\"' to start the"
			    " label value", i + 1);
			goto out;
		}
		if (store_read_quoted(text, n, &i, scratch, &sl, &l[nl].value,
		    &l[nl].vlen, "label value", err) == -1)
			goto out;
		nl++;
		while (i < n && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i >= n)
			break;
		if (text[i] != ',') {
			sw_err_set(err, "column %zu: expected ',' or the end of"
			    " the labels", i + 1);
			goto out;
		}
		i++;
	}
	/* insertion sort: at most SW_STORE_LABELS_N */
	for (k = 1; k < nl; k++) {
		t = l[k];
		for (j = k; j > 0 && store_label_cmp(&l[j - 1], &t) > 0; j--)
			l[j] = l[j - 1];
		l[j] = t;
	}
	for (k = 0; k < nl; k++) {
		if (k > 0 && (c = store_label_cmp(&l[k - 1], &l[k])) == 0) {
			sw_err_set(err, "duplicate label \"%.*s\"",
			    (int)(l[k].nlen > 64 ? 64 : l[k].nlen), l[k].name);
			goto out;
		}
	}
	for (k = 0; k < nl; k++) {
		if (l[k].vlen == 0)
			continue;	/* empty means absent, as in Prometheus */
		if ((dl > 0 && store_put(dst, dstsz, &dl, ",", 1, 0) == -1) ||
		    (store_legacy_name(l[k].name, l[k].nlen) ?
		    store_put(dst, dstsz, &dl, l[k].name, l[k].nlen, 0) :
		    (store_put(dst, dstsz, &dl, "\"", 1, 0) == -1 ||
		    store_put(dst, dstsz, &dl, l[k].name, l[k].nlen, 1) == -1 ||
		    store_put(dst, dstsz, &dl, "\"", 1, 0))) == -1 ||
		    store_put(dst, dstsz, &dl, "=\"", 2, 0) == -1 ||
		    store_put(dst, dstsz, &dl, l[k].value, l[k].vlen, 1) == -1 ||
		    store_put(dst, dstsz, &dl, "\"", 1, 0) == -1) {
			sw_err_set(err, "labels longer than %zu bytes",
			    dstsz - 1);
			goto out;
		}
	}
	ret = 0;
out:
	if (ret == -1)
		dst[0] = '\0';
	free(scratch);
	return ret;
}

static int
store_name_char_ok(unsigned char c, const char *bad)
{
	return c > 0x20 && c != 0x7f && strchr(bad, c) == NULL;
}

int
sw_series_parse(const char *name, char *target, size_t tsz, char *metric,
    size_t msz, char *labels, size_t lsz, struct sw_err *err)
{
	struct sw_err	 e;
	const char	*dot, *brace, *end;
	size_t		 n, i, tl, ml;
	char		 esc[128];

	n = strlen(name);
	sw_log_escape(esc, sizeof(esc), name, n);
	if (n == 0)
		return sw_err_set(err, "empty series name; expected "
		    "TARGET.METRIC or TARGET.METRIC{label=\"value\"}");
	brace = strchr(name, '{');
	dot = strchr(name, '.');
	if (dot == NULL || (brace != NULL && dot > brace))
		return sw_err_set(err, "series \"%s\": expected TARGET.METRIC "
		    "(no '.' before the labels)", esc);
	tl = (size_t)(dot - name);
	end = brace != NULL ? brace : name + n;
	ml = (size_t)(end - dot - 1);
	if (tl == 0)
		return sw_err_set(err, "series \"%s\", column 1: empty target",
		    esc);
	if (ml == 0)
		return sw_err_set(err, "series \"%s\", column %zu: empty metric",
		    esc, tl + 2);
	for (i = 0; i < tl; i++)
		if (!store_name_char_ok(name[i], ".{}\""))
			return sw_err_set(err, "series \"%s\", column %zu: bad "
			    "character in target", esc, i + 1);
	for (i = tl + 1; i < tl + 1 + ml; i++)
		if (!store_name_char_ok(name[i], "{}\""))
			return sw_err_set(err, "series \"%s\", column %zu: bad "
			    "character in metric", esc, i + 1);
	if (tl >= tsz || tl > SW_STORE_NAME_MAX)
		return sw_err_set(err, "series \"%s\": target too long", esc);
	if (ml >= msz || ml > SW_STORE_NAME_MAX)
		return sw_err_set(err, "series \"%s\": metric too long", esc);
	if (lsz == 0)
		return sw_err_set(err, "series \"%s\": no room for labels", esc);
	labels[0] = '\0';
	if (brace != NULL) {
		if (name[n - 1] != '}' || n - 1 == (size_t)(brace - name))
			return sw_err_set(err, "series \"%s\", column %zu: "
			    "expected '}' at the end", esc, n + 1);
		sw_err_clear(&e);
		if (sw_series_labels_canon(brace + 1, (size_t)(name + n - 1 -
		    brace - 1), labels, lsz, &e) == -1) {
			/* columns of the labels text -> of the whole name */
			size_t	col;
			char	*rest;

			if (strncmp(e.msg, "column ", 7) == 0 &&
			    (col = strtoul(e.msg + 7, &rest, 10)) > 0 &&
			    *rest == ':')
				return sw_err_set(err, "series \"%s\", column "
				    "%zu%s", esc, col + (size_t)(brace - name) +
				    1, rest);
			return sw_err_set(err, "series \"%s\": %s", esc, e.msg);
		}
	}
	memcpy(target, name, tl);
	target[tl] = '\0';
	memcpy(metric, dot + 1, ml);
	metric[ml] = '\0';
	return 0;
}

char *
sw_series_format(char *dst, size_t dstsz, const char *target,
    const char *metric, const char *labels)
{
	if (labels != NULL && *labels != '\0')
		snprintf(dst, dstsz, "%s.%s{%s}", target, metric, labels);
	else
		snprintf(dst, dstsz, "%s.%s", target, metric);
	return dst;
}

/* ---------------------------------------------------------------------- */
/* reading                                                                 */

int
sw_store_series_each(struct sw_store *st, sw_store_series_cb cb, void *arg,
    struct sw_err *err)
{
	struct sw_series_info	 info;
	sqlite3_stmt		*s = NULL;
	int			 rc, ret = -1;

	if (store_prepare(st, "SELECT id, target, metric, labels, unit"
	    " FROM series ORDER BY target, metric, labels", &s, err) == -1)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		info.id = sqlite3_column_int64(s, 0);
		info.target = (const char *)sqlite3_column_text(s, 1);
		info.metric = (const char *)sqlite3_column_text(s, 2);
		info.labels = (const char *)sqlite3_column_text(s, 3);
		info.unit = (const char *)sqlite3_column_text(s, 4);
		if (info.target == NULL || info.metric == NULL ||
		    info.labels == NULL || info.unit == NULL) {
			sw_err_set(err, "%s: bad row in table series",
			    st->path);
			goto out;
		}
		if ((ret = cb(&info, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlerr(st, err, "cannot read series");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

static int
store_set_info(char **dst, const unsigned char *src)
{
	free(*dst);
	*dst = strdup(src != NULL ? (const char *)src : "");
	return *dst == NULL ? -1 : 0;
}

int
sw_store_series_lookup(struct sw_store *st, const char *name,
    struct sw_series_info *info, struct sw_err *err)
{
	sqlite3_stmt	*s;
	char		 target[SW_STORE_NAME_MAX + 1];
	char		 metric[SW_STORE_NAME_MAX + 1];
	char		 labels[SW_STORE_LABELS_MAX + 1];
	int		 rc;

	if (sw_series_parse(name, target, sizeof(target), metric,
	    sizeof(metric), labels, sizeof(labels), err) == -1)
		return -1;
	if ((s = store_stmt(st, Q_SERIES_BY_NAME, err)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, metric, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, labels, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_sqlerr(st, err, "cannot read series");
	}
	info->id = sqlite3_column_int64(s, 0);
	if (store_set_info(&st->info_target, sqlite3_column_text(s, 1)) ||
	    store_set_info(&st->info_metric, sqlite3_column_text(s, 2)) ||
	    store_set_info(&st->info_labels, sqlite3_column_text(s, 3)) ||
	    store_set_info(&st->info_unit, sqlite3_column_text(s, 4))) {
		sqlite3_reset(s);
		return sw_err_sys(err, ENOMEM, "%s", st->path);
	}
	sqlite3_reset(s);
	info->target = st->info_target;
	info->metric = st->info_metric;
	info->labels = st->info_labels;
	info->unit = st->info_unit;
	return 1;
}

/* Streams (ts, value) rows of a prepared statement to cb. */
static int
store_stream(struct sw_store *st, sqlite3_stmt *s, sw_store_sample_cb cb,
    void *arg, struct sw_err *err)
{
	int	rc, ret;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((ret = cb(sqlite3_column_int64(s, 0),
		    sqlite3_column_double(s, 1), arg)) != 0)
			return ret;
	}
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, err, "cannot read samples");
	return 0;
}

/* The rollup resolutions a series has (ascending) and the oldest bucket of
 * each, a few index probes each (no scan of the rollups). */
static int
store_rollup_levels(struct sw_store *st, int64_t id, int64_t *res,
    int64_t *lo, int *nres, struct sw_err *err)
{
	sqlite3_stmt	*qres = NULL, *qlo = NULL;
	int64_t		 prev = INT64_MIN, v;
	int		 isnull, ret = -1;

	*nres = 0;
	if (store_prepare(st, "SELECT min(res) FROM rollup WHERE series_id = ?1"
	    " AND res > ?2", &qres, err) == -1 ||
	    store_prepare(st, "SELECT min(ts) FROM rollup WHERE series_id = ?1"
	    " AND res = ?2", &qlo, err) == -1)
		goto out;
	while (*nres < SW_STORE_MAX_LEVELS) {
		sqlite3_bind_int64(qres, 1, id);
		sqlite3_bind_int64(qres, 2, prev);
		if (store_query_int(st, qres, &v, &isnull, err) == -1)
			goto out;
		if (isnull)
			break;
		res[*nres] = prev = v;
		sqlite3_bind_int64(qlo, 1, id);
		sqlite3_bind_int64(qlo, 2, v);
		if (store_query_int(st, qlo, &lo[*nres], &isnull, err) == -1)
			goto out;
		(*nres)++;
	}
	ret = 0;
out:
	sqlite3_finalize(qres);
	sqlite3_finalize(qlo);
	return ret;
}

static int
store_samples_each(struct sw_store *st, int64_t id, int64_t from,
    int64_t to, sw_store_sample_cb cb, void *arg, struct sw_err *err)
{
	sqlite3_stmt	*s = NULL, *r = NULL;
	int64_t		 raw_lo, hi, res[SW_STORE_MAX_LEVELS];
	int64_t		 lo[SW_STORE_MAX_LEVELS], seg_lo[SW_STORE_MAX_LEVELS];
	int64_t		 seg_hi[SW_STORE_MAX_LEVELS], upper;
	int		 isnull, nres = 0, i, ret = -1;

	if (store_prepare(st, "SELECT min(ts) FROM sample WHERE series_id = ?1",
	    &s, err) == -1)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	if (store_query_int(st, s, &raw_lo, &isnull, err) == -1)
		goto out;
	if (isnull)
		raw_lo = INT64_MAX;
	sqlite3_finalize(s);
	s = NULL;

	hi = to < raw_lo ? to : raw_lo;
	if (from < hi) {
		/* the older part: rollups, finest resolution first */
		if (store_rollup_levels(st, id, res, lo, &nres, err) == -1)
			goto out;
		upper = hi;
		for (i = 0; i < nres; i++) {
			seg_hi[i] = upper;
			seg_lo[i] = lo[i] > from ? lo[i] : from;
			if (lo[i] < upper)
				upper = lo[i];
		}
		if (nres > 0 && store_prepare(st, "SELECT ts, vlast FROM rollup"
		    " WHERE series_id = ?1 AND res = ?2 AND ts >= ?3 AND"
		    " ts < ?4 ORDER BY ts", &r, err) == -1)
			goto out;
		for (i = nres - 1; i >= 0; i--) {
			if (seg_lo[i] >= seg_hi[i])
				continue;
			sqlite3_bind_int64(r, 1, id);
			sqlite3_bind_int64(r, 2, res[i]);
			sqlite3_bind_int64(r, 3, seg_lo[i]);
			sqlite3_bind_int64(r, 4, seg_hi[i]);
			if ((ret = store_stream(st, r, cb, arg, err)) != 0)
				goto out;
			sqlite3_reset(r);
		}
	}
	if (store_prepare(st, "SELECT ts, v FROM sample WHERE series_id = ?1"
	    " AND ts >= ?2 AND ts < ?3 ORDER BY ts", &s, err) == -1) {
		ret = -1;
		goto out;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, to);
	ret = store_stream(st, s, cb, arg, err);
out:
	sqlite3_finalize(s);
	sqlite3_finalize(r);
	return ret;
}

int
sw_store_samples_each(struct sw_store *st, int64_t series_id,
    int64_t from_ms, int64_t to_ms, sw_store_sample_cb cb, void *arg,
    struct sw_err *err)
{
	int	ret, txn;

	if (from_ms >= to_ms)
		return 0;
	/* one snapshot for the raw and rollup parts */
	txn = sqlite3_get_autocommit(st->db);
	if (txn && store_exec(st, "BEGIN", err, "cannot begin read") == -1)
		return -1;
	ret = store_samples_each(st, series_id, from_ms, to_ms, cb, arg, err);
	if (txn)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return ret;
}

int
sw_store_last(struct sw_store *st, int64_t series_id, int64_t *ts_ms,
    double *v, struct sw_err *err)
{
	sqlite3_stmt	*r;
	int64_t		 res[SW_STORE_MAX_LEVELS], lo[SW_STORE_MAX_LEVELS];
	int		 rc, found = 0, nres, i;

	if ((r = store_stmt(st, Q_LAST, err)) == NULL)
		return -1;
	sqlite3_bind_int64(r, 1, series_id);
	rc = sqlite3_step(r);
	if (rc == SQLITE_ROW) {
		*ts_ms = sqlite3_column_int64(r, 0);
		*v = sqlite3_column_double(r, 1);
		sqlite3_reset(r);
		return 1;
	}
	sqlite3_reset(r);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, err, "cannot read samples");

	/* no raw sample left: the newest rollup of any resolution */
	if (store_rollup_levels(st, series_id, res, lo, &nres, err) == -1 ||
	    (r = store_stmt(st, Q_LAST_ROLLUP, err)) == NULL)
		return -1;
	for (i = 0; i < nres; i++) {
		sqlite3_bind_int64(r, 1, series_id);
		sqlite3_bind_int64(r, 2, res[i]);
		if ((rc = sqlite3_step(r)) == SQLITE_ROW && (!found ||
		    sqlite3_column_int64(r, 0) > *ts_ms)) {
			*ts_ms = sqlite3_column_int64(r, 0);
			*v = sqlite3_column_double(r, 1);
			found = 1;
		}
		sqlite3_reset(r);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_sqlerr(st, err, "cannot read rollups");
	}
	return found;
}

static int
store_events_run(struct sw_store *st, sqlite3_stmt *s, sw_store_event_cb cb,
    void *arg, struct sw_err *err)
{
	struct sw_event	 ev;
	int		 rc, ret;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ev.id = sqlite3_column_int64(s, 0);
		ev.ts_ms = sqlite3_column_int64(s, 1);
		ev.target = (const char *)sqlite3_column_text(s, 2);
		ev.kind = (const char *)sqlite3_column_text(s, 3);
		ev.pid = (long)sqlite3_column_int64(s, 4);
		ev.detail = (const char *)sqlite3_column_text(s, 5);
		if (ev.target == NULL)
			ev.target = "";
		if (ev.kind == NULL)
			ev.kind = "";
		if (ev.detail == NULL)
			ev.detail = "";
		if ((ret = cb(&ev, arg)) != 0)
			return ret;
	}
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, err, "cannot read events");
	return 0;
}

int
sw_store_events_each(struct sw_store *st, const char *target,
    int64_t from_ms, sw_store_event_cb cb, void *arg, struct sw_err *err)
{
	sqlite3_stmt	*s = NULL;
	int		 ret;

	if (store_prepare(st, "SELECT id, ts, target, kind, pid, detail"
	    " FROM event WHERE ts >= ?1 AND (?2 IS NULL OR target = ?2)"
	    " ORDER BY ts, id", &s, err) == -1)
		return -1;
	sqlite3_bind_int64(s, 1, from_ms);
	if (target != NULL)
		sqlite3_bind_text(s, 2, target, -1, SQLITE_STATIC);
	ret = store_events_run(st, s, cb, arg, err);
	sqlite3_finalize(s);
	return ret;
}

int
sw_store_events_last(struct sw_store *st, const char *target, int n,
    sw_store_event_cb cb, void *arg, struct sw_err *err)
{
	sqlite3_stmt	*s = NULL;
	int		 ret;

	if (n <= 0)
		return 0;
	if (store_prepare(st, "SELECT * FROM (SELECT id, ts, target, kind,"
	    " pid, detail FROM event WHERE ?2 IS NULL OR target = ?2"
	    " ORDER BY ts DESC, id DESC LIMIT ?1) ORDER BY ts, id", &s, err)
	    == -1)
		return -1;
	sqlite3_bind_int(s, 1, n);
	if (target != NULL)
		sqlite3_bind_text(s, 2, target, -1, SQLITE_STATIC);
	ret = store_events_run(st, s, cb, arg, err);
	sqlite3_finalize(s);
	return ret;
}

int
sw_store_target_states_each(struct sw_store *st, sw_store_state_cb cb,
    void *arg, struct sw_err *err)
{
	struct sw_target_state	 ts;
	sqlite3_stmt		*s = NULL;
	int			 rc, ret = 0;

	if (store_prepare(st, "SELECT target, kind, updated_ms, up, last_ok_ms,"
	    " failures, last_error, last_error_ms, pid, started_ms"
	    " FROM target_state ORDER BY target", &s, err) == -1)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ts.target = (const char *)sqlite3_column_text(s, 0);
		ts.kind = (const char *)sqlite3_column_text(s, 1);
		ts.updated_ms = sqlite3_column_int64(s, 2);
		ts.up = sqlite3_column_int(s, 3);
		ts.last_ok_ms = sqlite3_column_int64(s, 4);
		ts.failures = sqlite3_column_int64(s, 5);
		ts.last_error = (const char *)sqlite3_column_text(s, 6);
		ts.last_error_ms = sqlite3_column_int64(s, 7);
		ts.pid = (long)sqlite3_column_int64(s, 8);
		ts.started_ms = sqlite3_column_int64(s, 9);
		if (ts.target == NULL)
			continue;
		if (ts.kind == NULL)
			ts.kind = "";
		if (ts.last_error == NULL)
			ts.last_error = "";
		if ((ret = cb(&ts, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = store_sqlerr(st, err, "cannot read target states");
	sqlite3_finalize(s);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* retention                                                               */

static int64_t
store_floor(int64_t t, int64_t res)
{
	int64_t	q = t / res;

	if (t % res != 0 && t < 0)
		q--;
	return q * res;
}

struct store_bucket {
	int64_t	ts;
	int64_t	n;
	double	vmin, vmax, vsum, vlast;
};

static int
store_put_bucket(struct sw_store *st, sqlite3_stmt *ins, int64_t id,
    int64_t res, const struct store_bucket *b, struct sw_err *err)
{
	sqlite3_bind_int64(ins, 1, id);
	sqlite3_bind_int64(ins, 2, res);
	sqlite3_bind_int64(ins, 3, b->ts);
	sqlite3_bind_int64(ins, 4, b->n);
	sqlite3_bind_double(ins, 5, b->vmin);
	sqlite3_bind_double(ins, 6, b->vmax);
	sqlite3_bind_double(ins, 7, b->vsum);
	sqlite3_bind_double(ins, 8, b->vlast);
	return store_step_done(st, ins, err, "cannot write rollups");
}

/* Rolls up the complete buckets of one series at one resolution that are
 * newer than its newest rollup, SW_STORE_ROLLUP_CHUNK buckets per
 * transaction. */
static int
store_rollup_series(struct sw_store *st, int64_t id, int64_t res,
    int64_t now_ms, sqlite3_stmt *qlast, sqlite3_stmt *qfirst,
    sqlite3_stmt *qraw, sqlite3_stmt *ins, struct sw_err *err)
{
	struct store_bucket	 b;
	int64_t			 last, start, end, first, b0, chunk_end, ts;
	double			 v;
	int			 isnull, rc, have;

	end = store_floor(now_ms, res);
	sqlite3_bind_int64(qlast, 1, id);
	sqlite3_bind_int64(qlast, 2, res);
	if (store_query_int(st, qlast, &last, &isnull, err) == -1)
		return -1;
	start = isnull ? INT64_MIN : last + res;
	while (start < end) {
		sqlite3_bind_int64(qfirst, 1, id);
		sqlite3_bind_int64(qfirst, 2, start);
		sqlite3_bind_int64(qfirst, 3, end);
		if (store_query_int(st, qfirst, &first, &isnull, err) == -1)
			return -1;
		if (isnull)
			break;
		b0 = store_floor(first, res);
		chunk_end = end - b0 > res * SW_STORE_ROLLUP_CHUNK ?
		    b0 + res * SW_STORE_ROLLUP_CHUNK : end;
		if (store_begin(st, err) == -1)
			return -1;
		sqlite3_bind_int64(qraw, 1, id);
		sqlite3_bind_int64(qraw, 2, b0);
		sqlite3_bind_int64(qraw, 3, chunk_end);
		have = 0;
		while ((rc = sqlite3_step(qraw)) == SQLITE_ROW) {
			ts = sqlite3_column_int64(qraw, 0);
			v = sqlite3_column_double(qraw, 1);
			if (have && store_floor(ts, res) != b.ts) {
				if (store_put_bucket(st, ins, id, res, &b, err)
				    == -1)
					goto fail;
				have = 0;
			}
			if (!have) {
				b.ts = store_floor(ts, res);
				b.n = 0;
				b.vmin = b.vmax = v;
				b.vsum = 0;
				have = 1;
			}
			b.n++;
			b.vsum += v;
			if (v < b.vmin)
				b.vmin = v;
			if (v > b.vmax)
				b.vmax = v;
			b.vlast = v;
		}
		if (rc != SQLITE_DONE) {
			store_sqlerr(st, err, "cannot read samples");
			goto fail;
		}
		sqlite3_reset(qraw);
		if (have && store_put_bucket(st, ins, id, res, &b, err) == -1)
			goto fail;
		if (store_commit(st, err) == -1)
			goto fail;
		start = chunk_end;
	}
	return 0;
fail:
	sqlite3_reset(qraw);
	store_rollback(st);
	return -1;
}

/* Deletes rows older than cutoff with a statement that removes at most
 * SW_STORE_CHUNK rows per run (each its own transaction), until none is
 * left. Binds: ?1 series id, ?2 cutoff, ?3 res (if the statement has it). */
static int
store_delete_chunked(struct sw_store *st, sqlite3_stmt *del, int64_t id,
    int64_t cutoff, int64_t res, struct sw_err *err)
{
	do {
		sqlite3_bind_int64(del, 1, id);
		sqlite3_bind_int64(del, 2, cutoff);
		if (sqlite3_bind_parameter_count(del) >= 3)
			sqlite3_bind_int64(del, 3, res);
		if (store_step_done(st, del, err, "cannot delete old rows")
		    == -1)
			return -1;
	} while (sqlite3_changes(st->db) >= SW_STORE_CHUNK);
	return 0;
}

int
sw_store_retention(struct sw_store *st,
    const struct sw_retention_level *levels, int nlevels, int64_t now_ms,
    struct sw_err *err)
{
	sqlite3_stmt	*ids = NULL, *qlast = NULL, *qfirst = NULL;
	sqlite3_stmt	*qraw = NULL, *ins = NULL, *delraw = NULL;
	sqlite3_stmt	*delrollup = NULL, *delev = NULL;
	int64_t		*series = NULL, raw_keep = -1, max_keep = 0;
	int64_t		 freelist, pages, res;
	size_t		 nseries = 0, cap = 0, i;
	int64_t		*ns;
	unsigned char	*failed = NULL;
	int		 l, rc, ret = -1, nfail = 0;

	if (store_writable(st, err) == -1)
		return -1;
	if (nlevels < 0 || nlevels > SW_STORE_MAX_LEVELS)
		return sw_err_set(err, "%s: bad number of retention levels",
		    st->path);
	for (l = 0; l < nlevels; l++) {
		if (levels[l].res_ms < 0 || levels[l].res_ms > SW_STORE_RES_MAX
		    || levels[l].keep_ms <= 0)
			return sw_err_set(err, "%s: bad retention level %d",
			    st->path, l + 1);
		if (levels[l].res_ms == 0)
			raw_keep = levels[l].keep_ms;
		if (levels[l].keep_ms > max_keep)
			max_keep = levels[l].keep_ms;
	}
	/* a flush that fails (disk full) does not stop retention: deleting
	 * is what makes room again */
	if (sw_store_flush(st, err) == -1)
		nfail++;

	if (store_prepare(st, "SELECT id FROM series ORDER BY id", &ids, err)
	    == -1)
		goto out;
	while ((rc = sqlite3_step(ids)) == SQLITE_ROW) {
		if (nseries == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			if ((ns = reallocarray(series, cap, sizeof(*ns)))
			    == NULL) {
				sw_err_sys(err, ENOMEM, "%s: retention",
				    st->path);
				goto out;
			}
			series = ns;
		}
		series[nseries++] = sqlite3_column_int64(ids, 0);
	}
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, err, "cannot read series");
		goto out;
	}
	sqlite3_finalize(ids);
	ids = NULL;
	if (nseries > 0 && (failed = calloc(nseries, 1)) == NULL) {
		sw_err_sys(err, ENOMEM, "%s: retention", st->path);
		goto out;
	}

	if (store_prepare(st, "SELECT max(ts) FROM rollup WHERE series_id = ?1"
	    " AND res = ?2", &qlast, err) == -1 ||
	    store_prepare(st, "SELECT min(ts) FROM sample WHERE series_id = ?1"
	    " AND ts >= ?2 AND ts < ?3", &qfirst, err) == -1 ||
	    store_prepare(st, "SELECT ts, v FROM sample WHERE series_id = ?1"
	    " AND ts >= ?2 AND ts < ?3 ORDER BY ts", &qraw, err) == -1 ||
	    store_prepare(st, "INSERT OR REPLACE INTO rollup (series_id, res,"
	    " ts, n, vmin, vmax, vsum, vlast) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8)", &ins, err) == -1)
		goto out;
	if (store_prepare(st, "DELETE FROM sample WHERE series_id = ?1 AND"
	    " ts < coalesce((SELECT ts FROM sample WHERE series_id = ?1 AND"
	    " ts < ?2 ORDER BY ts LIMIT 1 OFFSET 10000), ?2)", &delraw, err)
	    == -1 ||
	    store_prepare(st, "DELETE FROM rollup WHERE series_id = ?1 AND"
	    " res = ?3 AND ts < coalesce((SELECT ts FROM rollup WHERE"
	    " series_id = ?1 AND res = ?3 AND ts < ?2 ORDER BY ts LIMIT 1"
	    " OFFSET 10000), ?2)", &delrollup, err) == -1 ||
	    store_prepare(st, "DELETE FROM event WHERE id IN (SELECT id FROM"
	    " event WHERE ts < ?2 ORDER BY ts LIMIT 10000)",
	    &delev, err) == -1)
		goto out;

	/* roll up before anything is deleted; the raw samples of a series
	 * whose rollup failed are kept (the first error is reported, the
	 * rest of the work goes on) */
	for (l = 0; l < nlevels; l++) {
		if ((res = levels[l].res_ms) == 0)
			continue;
		for (i = 0; i < nseries; i++) {
			if (store_rollup_series(st, series[i], res, now_ms,
			    qlast, qfirst, qraw, ins, err) == -1) {
				failed[i] = 1;
				nfail++;
			}
		}
	}
	for (i = 0; raw_keep >= 0 && i < nseries; i++)
		if (!failed[i] && store_delete_chunked(st, delraw, series[i],
		    now_ms - raw_keep, 0, err) == -1)
			nfail++;
	for (l = 0; l < nlevels; l++) {
		if ((res = levels[l].res_ms) == 0)
			continue;
		for (i = 0; i < nseries; i++)
			if (store_delete_chunked(st, delrollup, series[i],
			    now_ms - levels[l].keep_ms, res, err) == -1)
				nfail++;
	}
	if (max_keep > 0 && store_delete_chunked(st, delev, 0,
	    now_ms - max_keep, 0, err) == -1)
		nfail++;

	/* give pages back once a quarter of the file is free */
	if (store_prepare(st, "SELECT freelist_count, page_count FROM"
	    " pragma_freelist_count(), pragma_page_count()", &ids, err) == -1)
		goto out;
	if (sqlite3_step(ids) == SQLITE_ROW) {
		freelist = sqlite3_column_int64(ids, 0);
		pages = sqlite3_column_int64(ids, 1);
		sqlite3_finalize(ids);
		ids = NULL;
		if (freelist > 0 && freelist * 4 > pages &&
		    store_exec(st, "PRAGMA incremental_vacuum", err,
		    "cannot vacuum") == -1)
			nfail++;
	}
	ret = nfail > 0 ? -1 : 0;
out:
	sqlite3_finalize(ids);
	sqlite3_finalize(qlast);
	sqlite3_finalize(qfirst);
	sqlite3_finalize(qraw);
	sqlite3_finalize(ins);
	sqlite3_finalize(delraw);
	sqlite3_finalize(delrollup);
	sqlite3_finalize(delev);
	free(series);
	free(failed);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* output helpers                                                          */

char *
sw_store_fmt_value(char *dst, size_t dstsz, double v)
{
	int	prec;
	char	*end;

	if (isnan(v)) {
		snprintf(dst, dstsz, "NaN");
		return dst;
	}
	if (isinf(v)) {
		snprintf(dst, dstsz, "%s", v > 0 ? "+Inf" : "-Inf");
		return dst;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(dst, dstsz, "%.*g", prec, v);
		if (strtod(dst, &end) == v && *end == '\0')
			break;
	}
	return dst;
}

char *
sw_store_fmt_time(char *dst, size_t dstsz, int64_t ms)
{
	struct tm	tm;
	time_t		t;
	int64_t		s = store_floor(ms, 1000);
	char		buf[64];

	t = (time_t)(s / 1000);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(dst, dstsz, "%" PRId64, ms);
		return dst;
	}
	snprintf(dst, dstsz, "%s.%03dZ", buf, (int)(ms - s));
	return dst;
}
