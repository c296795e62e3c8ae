#include "config.h"
/*
 * cmd-run.c: `slopewatch run`, the agent. One thread, one poll loop:
 *
 *   timers -> sources (lib/target.c) -> sink below -> store queue
 *   sink -> rules engine (lib/rules.c: per-series summaries)
 *   flush timer (1 s) -> one SQLite transaction + target state
 *   eval timer (SW_ENGINE_EVAL_MS) -> rules -> alert transitions, logged
 *     (the built-in `log` notifier) and stored as "alert" events
 *   retention timer -> rollups and pruning
 *   SIGTERM/SIGINT -> final flush, exit 0;  SIGHUP -> reload config
 *
 * A reload parses the new file completely, and builds its rules engine
 * (history loaded from the store, alert states read back), before touching
 * anything; a bad config keeps the old one running and says why. The store path cannot
 * change on reload (that would split the history); a changed `data` is
 * reported and ignored until restart.
 */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slopewatch/action.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/log.h"
#include "slopewatch/loop.h"
#include "slopewatch/notify.h"
#include "slopewatch/rules.h"
#include "slopewatch/source.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#define FLUSH_EVERY_US		(1000LL * 1000)
#define RETENTION_EVERY_US	(600LL * 1000000)

struct agent {
	const char		*conf_path;
	struct sw_conf		*conf;
	struct sw_store		*store;
	struct sw_loop		*loop;
	struct sw_http		*http;
	struct sw_targets	 targets;
	struct sw_engine	*engine;
	struct sw_notify	*notify;	/* NULL: notifications off */
	struct sw_actions	*actions;	/* NULL: actions off */
	int			 dry_run;	/* --dry-run: log actions only */
	int64_t			 eval_us;	/* rule evaluation interval */
	int64_t			 stop_after_us;	/* --for, 0 = run forever */
	int			 exit_status;
	uint64_t		 samples;
	struct sw_complain	 store_complain;
	struct sw_complain	 series_complain;
};

static void
agent_sample(void *arg, const char *target, const char *metric,
    const char *labels, const char *unit, int64_t ts_ms, double v)
{
	struct agent	*a = arg;
	struct sw_err	 err;
	int64_t		 id;

	sw_err_clear(&err);
	id = sw_store_series_id(a->store, target, metric, labels, unit, 1, &err);
	if (id <= 0 || sw_store_add(a->store, id, ts_ms, v, &err) == -1) {
		sw_complain(&a->series_complain, "store: %s.%s: %s", target,
		    metric, err.msg);
	} else
		a->samples++;
	if (a->engine != NULL)
		sw_engine_sample(a->engine, target, metric, labels, ts_ms, v);
}

/* The process's own start time from a start/restart event's detail. */
static int64_t
detail_started_ms(const char *detail)
{
	json_t		*j, *v;
	int64_t		 ms = 0;

	if (detail == NULL || (j = json_loads(detail, 0, NULL)) == NULL)
		return 0;
	if ((v = json_object_get(j, "started_ms")) != NULL &&
	    json_is_integer(v))
		ms = (int64_t)json_integer_value(v);
	json_decref(j);
	return ms;
}

static void
agent_event(void *arg, const char *target, const char *kind, long pid,
    int64_t ts_ms, const char *detail)
{
	struct agent	*a = arg;
	struct sw_err	 err;

	sw_log_info("%s: %s (pid %ld)", target, kind, pid);
	sw_err_clear(&err);
	if (sw_store_event(a->store, ts_ms, target, kind, pid, detail, &err) == -1)
		sw_log_error("store: event %s of %s lost: %s", kind, target,
		    err.msg);
	if (a->engine != NULL && (strcmp(kind, "start") == 0 ||
	    strcmp(kind, "restart") == 0))
		sw_engine_instance_at(a->engine, target, ts_ms, pid,
		    detail_started_ms(detail));
}

static const struct sw_target *
agent_target(const struct agent *a, const char *name)
{
	const struct sw_target	*t;

	for (t = a->targets.list; t != NULL && name != NULL; t = t->next)
		if (strcmp(t->conf->name, name) == 0)
			return t;
	return NULL;
}

/* Whether a rule (or the target it is about) is silenced right now. */
static int
agent_silenced(struct agent *a, const char *rule, const char *target)
{
	struct sw_err	err;
	int		rc;

	sw_err_clear(&err);
	rc = sw_silence_match(sw_store_db(a->store), rule, target,
	    sw_clock_wall_ms(), NULL, NULL, NULL, 0, &err);
	if (rc == -1)
		sw_log_error("silences: %s", err.msg);
	return rc == 1;
}

/* A firing (or repeated) rule with an action: hand it to the guard rails
 * (lib/action.c decides about cooldown, budget and escalation). */
static void
agent_alert_action(struct agent *a, const struct sw_alert_event *ev,
    const char *description)
{
	struct sw_action_alert	 al;
	const struct sw_target	*t;
	struct sw_err		 err;

	if (a->actions == NULL || ev->rule->action == NULL ||
	    (strcmp(ev->event, "firing") != 0 &&
	    strcmp(ev->event, "repeat") != 0))
		return;
	memset(&al, 0, sizeof(al));
	al.rule = ev->rule;
	al.event = ev->event;
	al.target = a->engine != NULL ?
	    sw_engine_rule_target(a->engine, ev->rule->name) : NULL;
	if ((t = agent_target(a, al.target)) != NULL)
		al.pid = t->pid;
	al.value = ev->value.is_bool ? ev->value.lhs : ev->value.v;
	al.summary = ev->rule->summary != NULL ? ev->rule->summary :
	    description;
	al.silenced = agent_silenced(a, ev->rule->name, al.target);
	sw_err_clear(&err);
	if (sw_actions_alert(a->actions, &al, &err) == -1)
		sw_log_error("action %s: %s", ev->rule->action, err.msg);
}

/*
 * What an action did, to the rule's notifiers: the run (with its exit and
 * the before step), the recovery check, and the escalation when the
 * restart budget is spent ("restarts are not helping", critical).
 */
static void
agent_action_report(void *arg, const struct sw_action_report *r)
{
	struct agent			*a = arg;
	const struct sw_conf_rule	*cr;
	struct sw_notify_alert		 na;
	struct sw_err			 err;

	/* lib/action.c has logged it */
	if (a->notify == NULL || r->kind == SW_ACTION_DRY_RUN)
		return;
	for (cr = a->conf->rules; cr != NULL; cr = cr->next)
		if (strcmp(cr->name, r->rule) == 0)
			break;
	if (cr == NULL)
		return;
	memset(&na, 0, sizeof(na));
	na.rule = cr->name;
	na.event = "repeat";	/* about an alert that is firing */
	na.severity = r->kind == SW_ACTION_ESCALATE ? SW_SEV_CRITICAL :
	    cr->severity;
	na.summary = r->text;
	na.labels = cr->labels;
	na.action = r->action;
	na.action_result = r->text;
	na.target = *r->target != '\0' ? r->target : NULL;
	na.time_ms = sw_clock_wall_ms();
	na.pid = r->kind == SW_ACTION_VERIFIED ? r->new_pid : r->pid;
	na.notify = &cr->notify;
	sw_err_clear(&err);
	if (sw_notify_route(a->notify, &na, &err) == -1)
		sw_log_error("notify: action report of %s: %s", r->rule,
		    err.msg);
}

/* After a restart: did the instance change, and did the condition clear?
 * Asked of the target's state and the engine, never of the store. */
static void
agent_action_verify(void *arg, struct sw_action_verify *v)
{
	struct agent			*a = arg;
	const struct sw_conf_rule	*cr;
	const struct sw_target		*t;
	struct sw_value			 val;
	struct sw_err			 err;
	char				 d[256];

	if ((t = agent_target(a, v->target)) != NULL)
		v->new_pid = t->pid;
	for (cr = a->conf->rules; cr != NULL; cr = cr->next)
		if (strcmp(cr->name, v->rule) == 0)
			break;
	v->cleared = -1;
	sw_err_clear(&err);
	if (cr != NULL && a->engine != NULL && sw_engine_query(a->engine,
	    cr->when, sw_clock_wall_ms(), &val, &err) == 0 && val.ok) {
		v->cleared = val.v == 0;
		snprintf(v->now, sizeof(v->now), "%s", sw_value_describe(&val,
		    d, sizeof(d)));
	}
}

/*
 * One alert transition: a log line (the built-in `log` notifier), then
 * the outbox rows for the rule's notifiers, in the evaluation's
 * transaction (see agent_eval_timer). The sparkline and the instance come
 * from memory: the engine's summaries and the target's state.
 */
static void
agent_alert(const struct sw_alert_event *ev, void *arg)
{
	struct agent		*a = arg;
	struct sw_notify_extra	 x;
	const struct sw_target	*t;
	double			 spark[SW_NOTIFY_SPARK_MAX];
	struct sw_err		 err;
	char			 line[512];

	sw_log_warn("rule %s %s: %s", ev->rule->name, ev->event,
	    sw_value_describe(&ev->value, line, sizeof(line)));
	agent_alert_action(a, ev, line);
	if (a->notify == NULL)
		return;
	memset(&x, 0, sizeof(x));
	x.spark = spark;
	x.nspark = sw_engine_spark(a->engine, ev->rule->name, ev->time_ms,
	    spark, SW_NOTIFY_SPARK_MAX, &x.target);
	if ((t = agent_target(a, x.target)) != NULL && t->pid != 0) {
		x.pid = t->pid;
		x.started_ms = t->started_ms;
	}
	sw_err_clear(&err);
	if (sw_notify_event(a->notify, ev, &x, &err) == -1)
		sw_log_error("notify: rule %s %s: %s", ev->rule->name,
		    ev->event, err.msg);
}

/*
 * Rules are evaluated in one transaction with the notifications they
 * cause: the alert state change and its outbox rows are committed
 * together or not at all, so a crash can neither lose a notification nor
 * send one for a state that was never recorded.
 */
static void
agent_eval_timer(void *arg)
{
	struct agent	*a = arg;
	struct sw_err	 err;
	int		 tx = 0;

	sw_err_clear(&err);
	if (a->notify != NULL) {
		if (sw_notify_begin(a->notify, &err) == -1)
			sw_log_error("notify: %s", err.msg);
		else
			tx = 1;
	}
	if (a->engine != NULL)
		sw_engine_eval(a->engine, sw_clock_wall_ms(), agent_alert, a);
	if (tx && sw_notify_commit(a->notify, &err) == -1)
		sw_log_error("notify: alert changes of this evaluation were "
		    "not recorded: %s", err.msg);
	sw_loop_timer_at(a->loop, sw_clock_mono_us() + a->eval_us,
	    agent_eval_timer, a);
}

static void
agent_engine_diag(const struct sw_loc *loc, const char *msg, void *arg)
{
	(void)arg;
	if (loc != NULL && loc->file != NULL)
		sw_log_error("%s:%d:%d: %s", loc->file, loc->line, loc->col,
		    msg);
	else
		sw_log_error("rules: %s", msg);
}

/* A rules engine for conf with its history and alert states from the
 * store (flushed first). NULL when a rule is bad (logged). */
static struct sw_engine *
agent_engine_build(struct agent *a, const struct sw_conf *conf)
{
	struct sw_engine	*e;
	struct sw_err		 err;
	int64_t			 t0 = sw_clock_mono_us();

	if (sw_engine_new(conf, agent_engine_diag, NULL, &e) == -1)
		return NULL;
	sw_err_clear(&err);
	if (sw_store_flush(a->store, &err) == -1 ||
	    sw_engine_load(e, a->store, sw_clock_wall_ms(), &err) == -1)
		sw_log_error("rules: history not loaded, trends start "
		    "afresh: %s", err.msg);
	sw_err_clear(&err);
	if (sw_engine_attach_store(e, a->store, &err) == -1)
		sw_log_error("rules: alert states not kept: %s", err.msg);
	sw_log_info("rules: engine ready in %lld ms, %zu KiB of summaries",
	    (long long)((sw_clock_mono_us() - t0) / 1000),
	    sw_engine_memory(e) / 1024);
	return e;
}

static void
agent_flush(struct agent *a)
{
	struct sw_err	err;

	sw_targets_save_state(&a->targets, a->store);
	sw_err_clear(&err);
	if (sw_store_flush(a->store, &err) == -1) {
		/* loud, but once per backoff period: the queue keeps the
		 * samples (up to its cap) and the agent keeps running */
		sw_complain(&a->store_complain, "store: cannot write, samples "
		    "kept in memory: %s", err.msg);
		return;
	}
	sw_complain_release(&a->store_complain, "store: writing again");
}

static void
agent_flush_timer(void *arg)
{
	struct agent	*a = arg;

	agent_flush(a);
	sw_loop_timer_at(a->loop, sw_clock_mono_us() + FLUSH_EVERY_US,
	    agent_flush_timer, a);
}

static void
agent_retention(struct agent *a)
{
	struct sw_err	err;

	sw_err_clear(&err);
	if (sw_store_retention(a->store, a->conf->retention,
	    a->conf->nretention, sw_clock_wall_ms(), &err) == -1)
		sw_log_error("store: retention: %s", err.msg);
}

static void
agent_retention_timer(void *arg)
{
	struct agent	*a = arg;

	agent_retention(a);
	sw_loop_timer_at(a->loop, sw_clock_mono_us() + RETENTION_EVERY_US,
	    agent_retention_timer, a);
}

static int
agent_start_targets(struct agent *a)
{
	struct sw_targets_ctx	ctx;
	struct sw_err		err;

	memset(&ctx, 0, sizeof(ctx));
	ctx.loop = a->loop;
	ctx.http = a->http;
	ctx.store = a->store;
	ctx.sink.arg = a;
	ctx.sink.sample = agent_sample;
	ctx.sink.event = agent_event;
	sw_err_clear(&err);
	if (sw_targets_init(&a->targets, a->conf, &ctx, &err) == -1) {
		sw_log_error("%s", err.msg);
		return -1;
	}
	sw_targets_start(&a->targets);
	return 0;
}

static void
agent_on_stop(int signo, void *arg)
{
	struct agent	*a = arg;

	sw_log_info("signal %d: stopping", signo);
	sw_loop_stop(a->loop);
}

static void
agent_reload_diag(const struct sw_loc *loc, const char *msg, void *arg)
{
	(void)arg;
	if (loc != NULL && loc->file != NULL)
		sw_log_error("reload: %s:%d:%d: %s", loc->file, loc->line,
		    loc->col, msg);
	else
		sw_log_error("reload: %s", msg);
}

/* The dispatcher and outbox for conf; NULL (logged) runs without them. */
static struct sw_notify *
agent_notify_build(struct agent *a, const struct sw_conf *conf)
{
	struct sw_notify	*n = NULL;
	struct sw_err		 err;

	sw_err_clear(&err);
	if (sw_notify_new(conf, sw_store_db(a->store), a->loop, a->http, NULL,
	    &n, &err) == -1) {
		sw_log_error("notify: %s; alerts are logged but not sent",
		    err.msg);
		return NULL;
	}
	return n;
}

static void
agent_on_hup(int signo, void *arg)
{
	struct agent	*a = arg;
	struct sw_conf		*conf = NULL;
	struct sw_engine	*engine;
	struct sw_notify	*notify;
	struct sw_err		 err;
	int			 nerr = 0;

	(void)signo;
	sw_log_info("SIGHUP: reloading %s", a->conf_path);
	if (sw_conf_load(a->conf_path, &conf, agent_reload_diag, NULL,
	    &nerr) == -1) {
		sw_log_error("reload: %d error%s; keeping the running "
		    "configuration", nerr, nerr == 1 ? "" : "s");
		return;
	}
	if (strcmp(conf->data, a->conf->data) != 0) {
		char	*keep;

		sw_log_warn("reload: data path changed to %s; keeping %s "
		    "until restart", conf->data, a->conf->data);
		/* the conf must name the file in use (status, a later reload) */
		if ((keep = strdup(a->conf->data)) != NULL) {
			free(conf->data);
			conf->data = keep;
		}
	}
	agent_flush(a);
	if ((engine = agent_engine_build(a, conf)) == NULL) {
		sw_log_error("reload: bad rules; keeping the running "
		    "configuration");
		sw_conf_free(conf);
		return;
	}
	sw_targets_release(&a->targets);
	sw_engine_free(a->engine);
	a->engine = engine;
	/* the new dispatcher takes over the outbox; requests in flight are
	 * cancelled and sent again under the same idempotency key */
	notify = agent_notify_build(a, conf);
	sw_notify_free(a->notify);
	a->notify = notify;
	/* guard-rail state and a run in progress survive the reload */
	sw_err_clear(&err);
	if (a->actions != NULL &&
	    sw_actions_set_conf(a->actions, conf, &err) == -1)
		sw_log_error("reload: actions: %s", err.msg);
	sw_conf_free(a->conf);
	a->conf = conf;
	if (agent_start_targets(a) == -1)
		sw_log_error("reload: targets failed to start");
	sw_log_info("reload: %s loaded", a->conf_path);
}

static void
agent_on_deadline(void *arg)
{
	struct agent	*a = arg;

	sw_log_info("--for time is up: stopping");
	sw_loop_stop(a->loop);
}

static void
run_usage(FILE *f)
{
	fprintf(f,
	    "usage: slopewatch run [-c FILE] [-v|-q] [--for D] [--dry-run] [--eval-every D]\n"
	    "\n"
	    "Runs the agent in the foreground: probes endpoints, reads process\n"
	    "memory, scrapes /metrics, stores samples in the configured SQLite\n"
	    "file. Logs go to stderr (journald-friendly).\n"
	    "\n"
	    "  -c, --config FILE  configuration (see slopewatch.conf(5))\n"
	    "  -v, --verbose      debug logging\n"
	    "  -q, --quiet        errors only\n"
	    "      --for D        stop by itself after D (e.g. 30s, 5m)\n"
	    "      --dry-run      log what actions would run, run none\n"
	    "      --eval-every D evaluate the rules every D (default 10s)\n"
	    "  -h, --help         this text\n"
	    "\n"
	    "Signals: SIGTERM/SIGINT stop cleanly (final flush); SIGHUP reloads\n"
	    "the config (a bad config keeps the old one running).\n");
}

int
sw_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "for", required_argument, NULL, 'F' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "eval-every", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent	 a;
	struct sw_err	 err;
	const char	*conf_opt = NULL;
	int		 ch, verbose = 0, quiet = 0, status = SW_EXIT_USAGE;
	int64_t		 for_ms;

	memset(&a, 0, sizeof(a));
	/* a store that cannot write (disk full, read-only) is an error at 3 a.m. */
	a.store_complain.loud = 1;
	a.eval_us = SW_ENGINE_EVAL_MS * 1000LL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:vqh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_opt = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'F':
			if (sw_parse_duration_ms(optarg, (size_t)-1, &for_ms) == -1 ||
			    for_ms <= 0) {
				fprintf(stderr, "slopewatch run: --for: expected "
				    "a duration like 30s or 5m, got \"%s\"\n", optarg);
				return SW_EXIT_USAGE;
			}
			a.stop_after_us = for_ms * 1000;
			break;
		case 'D':
			a.dry_run = 1;
			break;
		case 'E':
			if (sw_parse_duration_ms(optarg, (size_t)-1, &for_ms) == -1 ||
			    for_ms < 100) {
				fprintf(stderr, "slopewatch run: --eval-every: "
				    "expected a duration of at least 100ms, got "
				    "\"%s\"\n", optarg);
				return SW_EXIT_USAGE;
			}
			a.eval_us = for_ms * 1000;
			break;
		case 'h':
			run_usage(stdout);
			return SW_EXIT_OK;
		default:
			run_usage(stderr);
			return SW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		run_usage(stderr);
		return SW_EXIT_USAGE;
	}
	sw_log_set_level(quiet ? SW_LOG_ERROR :
	    verbose ? SW_LOG_DEBUG : SW_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);

	a.conf_path = sw_cli_conf_path(conf_opt);
	if (sw_conf_load(a.conf_path, &a.conf, sw_conf_diag_stderr, NULL,
	    NULL) == -1)
		return SW_EXIT_USAGE;

	sw_err_clear(&err);
	if (sw_store_open(a.conf->data, 0, &a.store, &err) == -1) {
		sw_log_error("%s", err.msg);
		status = SW_EXIT_PROBLEM;
		goto out;
	}
	if ((a.loop = sw_loop_new(&err)) == NULL ||
	    (a.http = sw_http_new(a.loop, &err)) == NULL ||
	    sw_loop_signal(a.loop, SIGTERM, agent_on_stop, &a, &err) == -1 ||
	    sw_loop_signal(a.loop, SIGINT, agent_on_stop, &a, &err) == -1 ||
	    sw_loop_signal(a.loop, SIGHUP, agent_on_hup, &a, &err) == -1) {
		sw_log_error("%s", err.msg);
		status = SW_EXIT_PROBLEM;
		goto out;
	}
	if ((a.engine = agent_engine_build(&a, a.conf)) == NULL) {
		status = SW_EXIT_USAGE;
		goto out;
	}
	a.notify = agent_notify_build(&a, a.conf);
	{
		struct sw_actions_opts	ao;

		memset(&ao, 0, sizeof(ao));
		ao.dry_run = a.dry_run;
		ao.report = agent_action_report;
		ao.verify = agent_action_verify;
		ao.arg = &a;
		sw_err_clear(&err);
		if ((a.actions = sw_actions_new(a.conf, a.loop, a.store, &ao,
		    &err)) == NULL) {
			sw_log_error("%s", err.msg);
			status = SW_EXIT_PROBLEM;
			goto out;
		}
	}
	if (agent_start_targets(&a) == -1) {
		status = SW_EXIT_PROBLEM;
		goto out;
	}
	agent_retention(&a);
	sw_loop_timer_at(a.loop, sw_clock_mono_us() + a.eval_us,
	    agent_eval_timer, &a);
	sw_loop_timer_at(a.loop, sw_clock_mono_us() + FLUSH_EVERY_US,
	    agent_flush_timer, &a);
	sw_loop_timer_at(a.loop, sw_clock_mono_us() + RETENTION_EVERY_US,
	    agent_retention_timer, &a);
	if (a.stop_after_us > 0)
		sw_loop_timer_at(a.loop, sw_clock_mono_us() + a.stop_after_us,
		    agent_on_deadline, &a);
	sw_log_info("slopewatch %s running: %s, data %s", PACKAGE_VERSION,
	    a.conf_path, a.conf->data);

	if (sw_loop_run(a.loop, &err) == -1) {
		sw_log_error("%s", err.msg);
		status = SW_EXIT_PROBLEM;
	} else
		status = SW_EXIT_OK;
	agent_flush(&a);
	sw_targets_release(&a.targets);
	sw_log_info("stopped after %llu samples", (unsigned long long)a.samples);
out:
	sw_actions_free(a.actions);
	sw_notify_free(a.notify);
	sw_engine_free(a.engine);
	sw_http_free(a.http);
	sw_loop_free(a.loop);
	/* the loop gave SIGTERM/SIGINT back to the default action; a second
	 * Ctrl-C while the store closes must not turn a clean stop into 143 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sw_store_close(a.store);
	sw_conf_free(a.conf);
	return status;
}
