/*
 * source.h: where samples come from. A target (one endpoint, process or
 * scrape block of the config, or the agent itself) is collected on its own
 * interval by the scheduler (lib/target.c). Collection may be synchronous
 * (reading /proc) or asynchronous (an HTTP request on the shared curl multi
 * handle); either way the source reports through the sink and then calls
 * sw_target_done, and the scheduler never starts a collection of a target
 * whose previous one has not finished.
 *
 * Data flows one way: source -> sink (store + summaries) -> rules.
 */
#ifndef SW_SOURCE_H
#define SW_SOURCE_H

#include <stdint.h>

#include "slopewatch/conf.h"

struct sw_loop;
struct sw_http;
struct sw_err;
struct sw_target;

/* Where a source reports. Implemented by the agent (store writer) and by
 * tests. Strings are borrowed for the duration of the call. */
struct sw_sink {
	void	*arg;
	/* labels canonical ("" for none), unit a sw_unit_name() word */
	void	(*sample)(void *arg, const char *target, const char *metric,
		    const char *labels, const char *unit, int64_t ts_ms, double v);
	/* kind: "start", "stop", "restart", "down", ...; detail JSON or NULL */
	void	(*event)(void *arg, const char *target, const char *kind,
		    long pid, int64_t ts_ms, const char *detail);
};

/* What every kind of source implements. */
struct sw_source_ops {
	const char	*kind;
	/* Sets t->impl. -1 with err on a target that cannot work at all. */
	int	(*init)(struct sw_target *t, struct sw_err *err);
	/* Starts one collection. Must end (now or later, from a loop
	 * callback) with sw_target_done. */
	void	(*collect)(struct sw_target *t);
	/* Frees t->impl, cancelling anything in flight (no done call). */
	void	(*free)(struct sw_target *t);
};

extern const struct sw_source_ops sw_source_endpoint;
extern const struct sw_source_ops sw_source_process;
extern const struct sw_source_ops sw_source_scrape;
extern const struct sw_source_ops sw_source_self;

/* The shared context every target of a set sees. */
struct sw_targets_ctx {
	struct sw_loop		*loop;
	struct sw_http		*http;	/* shared curl multi (lib/http.c) */
	struct sw_sink		 sink;
	struct sw_store		*store;	/* for the self source (db size); may be NULL */
};

struct sw_target {
	const struct sw_conf_target	*conf;	/* borrowed from the conf */
	struct sw_conf_target		 self_conf; /* used for the self target */
	const struct sw_source_ops	*ops;
	struct sw_targets_ctx		*ctx;
	void				*impl;
	int				 busy;		/* collection in flight */
	uint64_t			 timer;
	int64_t				 next_us;	/* next due (monotonic) */
	int64_t				 started_us;	/* of the collection in flight */
	uint64_t			 skipped;	/* intervals skipped while busy */

	/* state for status; set by sources through sw_target_done */
	int				 up;		/* 1, 0, -1 unknown */
	int64_t				 last_ok_ms;
	int64_t				 failures;
	char				 last_error[256];
	int64_t				 last_error_ms;
	long				 pid;		/* process instance */
	int64_t				 started_ms;
	int				 state_dirty;

	struct sw_target		*next;
};

/* A source ends a collection: ok = 1 success, 0 failure (error text, escaped
 * by the source if it came from outside; NULL allowed when ok). Schedules the
 * next collection. */
void	sw_target_done(struct sw_target *t, int ok, const char *error);

struct sw_targets {
	struct sw_targets_ctx	 ctx;
	struct sw_target	*list;
	int			 running;
};

/* Builds one target per conf target plus the self target, each with its
 * ops. ctx is copied. Targets that fail init are logged and left out. */
int	sw_targets_init(struct sw_targets *ts, const struct sw_conf *conf,
	    const struct sw_targets_ctx *ctx, struct sw_err *err);
/* Schedules every target's first collection (spread over its interval). */
void	sw_targets_start(struct sw_targets *ts);
/* Stops and frees all targets. */
void	sw_targets_release(struct sw_targets *ts);
/* Writes each target's state (if changed) to the store. */
void	sw_targets_save_state(struct sw_targets *ts, struct sw_store *st);

#endif
