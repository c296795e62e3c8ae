#include "config.h"
/*
 * bench-store.c: write and read throughput of the store, the figures of
 * INTEGRATIONS.md §7.2 measured on this machine through the real code path
 * (sw_store_add + one sw_store_flush per 1,000 samples): 200,000 samples
 * over 50 series interleaved in time order at a 5 s cadence, then the size
 * per sample after a checkpoint, a read of one series and a retention pass
 * that rolls up to 1 m and deletes the older half. Prints figures only.
 *
 *   bench-store [DIR]    (default: a new directory under $TMPDIR or /tmp)
 */
#include <sys/stat.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/store.h"

#define NSAMPLES	200000
#define NSERIES		50
#define BATCH		1000
#define STEP_MS		5000
#define T0		1700000040000LL

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
count_cb(int64_t ts, double v, void *arg)
{
	(void)ts;
	(void)v;
	(*(long *)arg)++;
	return 0;
}

static void
rm_db(const char *db)
{
	char	p[1100];

	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

int
main(int argc, char **argv)
{
	struct sw_store	*st = NULL;
	struct sw_err	 err;
	int64_t		 ids[NSERIES], size, ts;
	char		 dir[1024], db[1100], name[32];
	const char	*tmp;
	double		 t, dt;
	long		 n = 0, i;
	int		 s, made = 0, ret = 1;
	const struct sw_retention_level levels[] = {
		{ 0, (NSAMPLES / NSERIES) * STEP_MS / 2 },
		{ 60000, 90LL * 86400000 },
	};

	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else {
		tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/sw-bench-store.XXXXXX",
		    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
		if (mkdtemp(dir) == NULL) {
			perror(dir);
			return 1;
		}
		made = 1;
	}
	snprintf(db, sizeof(db), "%s/bench.db", dir);
	rm_db(db);
	sw_err_clear(&err);
	if (sw_store_open(db, 0, &st, &err) == -1)
		goto fail;
	for (s = 0; s < NSERIES; s++) {
		snprintf(name, sizeof(name), "t%02d", s);
		if ((ids[s] = sw_store_series_id(st, name, "rss", "", "bytes", 1,
		    &err)) <= 0)
			goto fail;
	}

	t = now_s();
	for (i = 0; i < NSAMPLES; i++) {
		s = (int)(i % NSERIES);
		ts = T0 + (i / NSERIES) * STEP_MS;
		if (sw_store_series_id(st, "t00", "rss", "", "bytes", 1, &err)
		    <= 0 ||	/* the agent's per-sample lookup (cached) */
		    sw_store_add(st, ids[s], ts, 1e8 + (double)i * 1.5 +
		    s * 0.25, &err) == -1)
			goto fail;
		if ((i + 1) % BATCH == 0 && sw_store_flush(st, &err) == -1)
			goto fail;
	}
	if (sw_store_flush(st, &err) == -1)
		goto fail;
	dt = now_s() - t;
	printf("store write: %d samples, %d series, %d per transaction: "
	    "%.3f s, %.0f rows/s\n", NSAMPLES, NSERIES, BATCH, dt,
	    NSAMPLES / dt);

	sqlite3_exec(sw_store_db(st), "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
	    NULL, NULL);
	size = sw_store_size(st);
	printf("store size: %" PRId64 " bytes, %.1f bytes/sample (after "
	    "checkpoint)\n", size, (double)size / NSAMPLES);

	t = now_s();
	if (sw_store_samples_each(st, ids[7], 0, INT64_MAX, count_cb, &n, &err)
	    == -1)
		goto fail;
	dt = now_s() - t;
	printf("store read: one series, %ld samples: %.2f ms\n", n, dt * 1e3);

	t = now_s();
	if (sw_store_retention(st, levels, 2, T0 + (NSAMPLES / NSERIES) *
	    STEP_MS, &err) == -1)
		goto fail;
	dt = now_s() - t;
	printf("store retention: 1 m rollups of everything, raw older half "
	    "deleted: %.3f s\n", dt);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "bench-store: %s\n", err.msg);
out:
	sw_store_close(st);
	rm_db(db);
	if (made)
		rmdir(dir);
	return ret;
}
