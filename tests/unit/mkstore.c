#include "config.h"
/*
 * mkstore.c: writes a store with known contents for tests/e2e/show.sh, with
 * the real sw_store_* calls the agent uses.
 *
 *   mkstore DB          write the fixture (see below) and exit
 *   mkstore --hold DB   open DB as a writer, hold a write transaction open
 *                       with an uncommitted sample, print "holding", and
 *                       wait until killed (readers must not be blocked)
 *
 * Fixture (T0 = 1700000040000, 2023-11-14T22:14:00Z):
 *   web.rss (bytes): T0-1d 1, then T0+10s*i for i = 0..4:
 *       812000000, 812500000.25, 0.1, 1/3, 123456789012345678
 *   checkout.latency{code="200"} (seconds): T0 0.25, T0+10s +Inf
 *   web.cpu: now-2h 1, now-10m 2 (for the default --since 1h)
 *   events: web restart pid 4242 at T0+15s, checkout action at T0+20s
 *   target states: web (process, up, pid 4242), checkout (endpoint, down)
 *   big.n: T0+i ms, value i, i = 0..9999 (more than one read chunk)
 *   events of big: pid i at T0-1h+i/100 ms, i = 0..299 (100 share each ts)
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "slopewatch/clock.h"
#include "slopewatch/err.h"
#include "slopewatch/store.h"

#define T0	1700000040000LL

static int
fixture(struct sw_store *st, struct sw_err *err)
{
	static const double	 rss[] = { 812000000, 812500000.25, 0.1,
	    1.0 / 3, 123456789012345678.0 };
	struct sw_target_state	 ts;
	int64_t			 id, now = sw_clock_wall_ms();
	int			 i;

	if ((id = sw_store_series_id(st, "web", "rss", "", "bytes", 1, err))
	    <= 0)
		return -1;
	if (sw_store_add(st, id, T0 - 86400000, 1, err) == -1)
		return -1;
	for (i = 0; i < 5; i++)
		if (sw_store_add(st, id, T0 + i * 10000, rss[i], err) == -1)
			return -1;
	if ((id = sw_store_series_id(st, "checkout", "latency", "code=\"200\"",
	    "seconds", 1, err)) <= 0 ||
	    sw_store_add(st, id, T0, 0.25, err) == -1 ||
	    sw_store_add(st, id, T0 + 10000, INFINITY, err) == -1)
		return -1;
	if ((id = sw_store_series_id(st, "web", "cpu", "", "", 1, err)) <= 0 ||
	    sw_store_add(st, id, now - 7200000, 1, err) == -1 ||
	    sw_store_add(st, id, now - 600000, 2, err) == -1)
		return -1;
	if (sw_store_event(st, T0 + 15000, "web", "restart", 4242,
	    "{\"old_pid\":4241,\"reason\":\"oom, \\\"killed\\\"\"}", err)
	    == -1 ||
	    sw_store_event(st, T0 + 20000, "checkout", "action", 0, NULL, err)
	    == -1)
		return -1;

	memset(&ts, 0, sizeof(ts));
	ts.target = "web";
	ts.kind = "process";
	ts.updated_ms = T0 + 40000;
	ts.up = 1;
	ts.last_ok_ms = T0 + 40000;
	ts.failures = 2;
	ts.last_error = "smaps_rollup: process gone";
	ts.last_error_ms = T0 + 1000;
	ts.pid = 4242;
	ts.started_ms = T0 + 15000;
	if (sw_store_target_state_put(st, &ts, err) == -1)
		return -1;
	memset(&ts, 0, sizeof(ts));
	ts.target = "checkout";
	ts.kind = "endpoint";
	ts.updated_ms = T0 + 40000;
	ts.up = 0;
	ts.failures = 7;
	ts.last_error = "connection refused";
	ts.last_error_ms = T0 + 40000;
	if (sw_store_target_state_put(st, &ts, err) == -1)
		return -1;
	if ((id = sw_store_series_id(st, "big", "n", "", "", 1, err)) <= 0)
		return -1;
	for (i = 0; i < 10000; i++)
		if (sw_store_add(st, id, T0 + i, i, err) == -1)
			return -1;
	for (i = 0; i < 300; i++)
		if (sw_store_event(st, T0 - 3600000 + i / 100, "big", "tick", i,
		    NULL, err) == -1)
			return -1;
	return sw_store_flush(st, err);
}

int
main(int argc, char **argv)
{
	struct sw_store	*st = NULL;
	struct sw_err	 err;
	int		 hold = argc == 3 && strcmp(argv[1], "--hold") == 0;

	if (argc != 2 && !hold) {
		fprintf(stderr, "usage: mkstore [--hold] DB\n");
		return 2;
	}
	sw_err_clear(&err);
	if (sw_store_open(argv[argc - 1], 0, &st, &err) == -1) {
		fprintf(stderr, "mkstore: %s\n", err.msg);
		return 1;
	}
	if (hold) {
		if (sqlite3_exec(sw_store_db(st), "BEGIN IMMEDIATE;"
		    " INSERT INTO sample VALUES (1, 1700000045000, 99)", NULL,
		    NULL, NULL) != SQLITE_OK) {
			fprintf(stderr, "mkstore: %s\n",
			    sqlite3_errmsg(sw_store_db(st)));
			return 1;
		}
		printf("holding\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (fixture(st, &err) == -1) {
		fprintf(stderr, "mkstore: %s\n", err.msg);
		sw_store_close(st);
		return 1;
	}
	sw_store_close(st);
	return 0;
}
