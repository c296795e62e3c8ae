#include "config.h"
/*
 * target.c: the scheduler of collections. Every target has its own fixed-
 * rate timer on the loop (next due = previous due + interval, so a slow
 * collection never makes the schedule drift). When a target's timer fires
 * while its previous collection is still in flight, that slot is skipped
 * and counted: a probe is never started twice. Sources end each collection
 * with sw_target_done, which records the state `status` shows.
 */
#include <stdlib.h>
#include <string.h>

#include "slopewatch/clock.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/loop.h"
#include "slopewatch/source.h"
#include "slopewatch/store.h"

#define SELF_NAME	"slopewatch"
#define SELF_EVERY_MS	10000

static void target_due(void *arg);

static const struct sw_source_ops *
target_ops(enum sw_target_kind kind)
{
	switch (kind) {
	case SW_TARGET_ENDPOINT:
		return &sw_source_endpoint;
	case SW_TARGET_PROCESS:
		return &sw_source_process;
	case SW_TARGET_SCRAPE:
		return &sw_source_scrape;
	case SW_TARGET_SELF:
		return &sw_source_self;
	}
	return NULL;
}

static int64_t
target_every_us(const struct sw_target *t)
{
	int64_t	ms = t->conf->every_ms;

	return (ms > 0 ? ms : 10000) * 1000;
}

static void
target_schedule(struct sw_target *t)
{
	int64_t	now = sw_clock_mono_us(), every = target_every_us(t);

	/* fixed rate; slots missed entirely (a stopped clock, a long stall)
	 * are dropped rather than run back to back */
	t->next_us += every;
	if (t->next_us <= now)
		t->next_us = now + every - (now - t->next_us) % every;
	t->timer = sw_loop_timer_at(t->ctx->loop, t->next_us, target_due, t);
}

static void
target_due(void *arg)
{
	struct sw_target	*t = arg;

	t->timer = 0;
	target_schedule(t);
	if (t->busy) {
		t->skipped++;
		sw_log_debug("%s: collection still in flight, interval skipped",
		    t->conf->name);
		return;
	}
	t->busy = 1;
	t->started_us = sw_clock_mono_us();
	t->ops->collect(t);
}

void
sw_target_done(struct sw_target *t, int ok, const char *error)
{
	int	was_up = t->up;

	t->busy = 0;
	if (ok) {
		t->up = 1;
		t->last_ok_ms = sw_clock_wall_ms();
		if (was_up == 0)
			sw_log_info("%s: up again", t->conf->name);
	} else {
		t->up = 0;
		t->failures++;
		t->last_error_ms = sw_clock_wall_ms();
		snprintf(t->last_error, sizeof(t->last_error), "%s",
		    error != NULL ? error : "failed");
		/* a failure that repeats is logged when it starts, not every
		 * interval: the count and the last error are in `status` */
		if (was_up != 0)
			sw_log_warn("%s: %s", t->conf->name, t->last_error);
	}
	t->state_dirty = 1;
}

static struct sw_target *
target_new(const struct sw_conf_target *conf, struct sw_targets *ts)
{
	struct sw_target	*t;
	struct sw_err		 err;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (conf == NULL) {
		t->self_conf.name = (char *)SELF_NAME;
		t->self_conf.kind = SW_TARGET_SELF;
		t->self_conf.every_ms = SELF_EVERY_MS;
		conf = &t->self_conf;
	}
	t->conf = conf;
	t->ctx = &ts->ctx;
	t->ops = target_ops(conf->kind);
	t->up = -1;
	t->state_dirty = 1;
	sw_err_clear(&err);
	if (t->ops == NULL || t->ops->init(t, &err) == -1) {
		sw_log_error("%s: %s", conf->name,
		    err.set ? err.msg : "unknown kind of target");
		free(t);
		return NULL;
	}
	return t;
}

int
sw_targets_init(struct sw_targets *ts, const struct sw_conf *conf,
    const struct sw_targets_ctx *ctx, struct sw_err *err)
{
	const struct sw_conf_target	*c;
	struct sw_target		*t, **tail;

	memset(ts, 0, sizeof(*ts));
	ts->ctx = *ctx;
	tail = &ts->list;
	for (c = conf->targets; ; c = c->next) {
		/* the self target comes last */
		if ((t = target_new(c, ts)) != NULL) {
			*tail = t;
			tail = &t->next;
		}
		if (c == NULL)
			break;
	}
	(void)err;
	return 0;
}

void
sw_targets_start(struct sw_targets *ts)
{
	struct sw_target	*t;
	int64_t			 now = sw_clock_mono_us();
	int			 i = 0;

	/* first collections right away, staggered by 10 ms so that a large
	 * config does not open every connection in the same instant */
	for (t = ts->list; t != NULL; t = t->next, i++) {
		t->next_us = now + (int64_t)(i % 100) * 10000 -
		    target_every_us(t);
		target_schedule(t);
	}
	ts->running = 1;
}

void
sw_targets_release(struct sw_targets *ts)
{
	struct sw_target	*t, *next;

	for (t = ts->list; t != NULL; t = next) {
		next = t->next;
		if (t->timer != 0)
			sw_loop_timer_cancel(t->ctx->loop, t->timer);
		t->ops->free(t);
		free(t);
	}
	ts->list = NULL;
	ts->running = 0;
}

void
sw_targets_save_state(struct sw_targets *ts, struct sw_store *st)
{
	struct sw_target	*t;
	struct sw_target_state	 s;
	struct sw_err		 err;

	for (t = ts->list; t != NULL; t = t->next) {
		if (!t->state_dirty)
			continue;
		memset(&s, 0, sizeof(s));
		s.target = t->conf->name;
		s.kind = sw_target_kind_name(t->conf->kind);
		s.updated_ms = sw_clock_wall_ms();
		s.up = t->up;
		s.last_ok_ms = t->last_ok_ms;
		s.failures = t->failures;
		s.last_error = t->last_error;
		s.last_error_ms = t->last_error_ms;
		s.pid = t->pid;
		s.started_ms = t->started_ms;
		sw_err_clear(&err);
		if (sw_store_target_state_put(st, &s, &err) == -1) {
			sw_log_error("store: %s", err.msg);
			return;
		}
		t->state_dirty = 0;
	}
}
