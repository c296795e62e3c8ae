#include "config.h"
/*
 * cmd-backtest.c: `slopewatch backtest`, when each rule would have gone
 * pending, fired and resolved over past data: the store's history
 * (--since, default 7d) or a CSV file (--csv). The data are replayed
 * through a fresh engine exactly as the agent would have lived them
 * (lib/rtest.c): samples in time order, a new process instance whenever a
 * TARGET.pid series changes, an evaluation every SW_ENGINE_EVAL_MS.
 *
 * With --csv, the config (-c) may be a whole config or a rules file on its
 * own: targets that the CSV's columns or the rules name and the file does
 * not define get a stub whose kind is inferred from the metric names
 * (rss, pss, ... -> process; latency, up, ... -> endpoint; else scrape).
 *
 * Stable output (SPEC §2): --json prints an array of
 * {"rule": NAME, "event": "pending"|"firing"|"resolved", "time": ms,
 * "value": v}, v in base units (the measured side of the rule's
 * comparison, e.g. the doubling time in seconds; null when not finite).
 * Text output is a table with RFC 3339 times and values with units.
 * History is read with the config's targets, so --since needs no stubs;
 * windows fill up as the replay goes, as they do after an agent start.
 */

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/expr.h"
#include "slopewatch/rtest.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#define BT_DEFAULT_SINCE	"7d"

static const char backtest_usage[] =
    "usage: slopewatch backtest [--since T | --csv FILE] [--until T]\n"
    "                           [-c FILE] [--db PATH] [--step D] [--json]\n"
    "                           [RULE...]\n"
    "\n"
    "Replays history through the rules and prints when each would have\n"
    "gone pending, fired and resolved.\n"
    "\n"
    "  --since T   replay the store from T: a duration back from now (7d),\n"
    "              unix seconds or milliseconds, or RFC 3339 (default 7d)\n"
    "  --until T   ... up to T (default: now)\n"
    "  --csv FILE  replay a CSV file instead: header row, first column the\n"
    "              time (unix s, unix ms or RFC 3339), each other column a\n"
    "              series named by its header (web.rss); a TARGET.pid\n"
    "              column gives the process instance (restarts)\n"
    "  -c FILE     the config, or with --csv also a rules file alone\n"
    "              (targets it does not define are inferred from the\n"
    "              metric names)\n"
    "  --db PATH   the database, overriding the config\n"
    "  --step D    evaluate every D of replayed time instead of every 10 s,\n"
    "              as the agent does (faster over long histories; for and\n"
    "              keep then resolve to multiples of D)\n"
    "  --json      an array of {\"rule\", \"event\", \"time\" (ms), \"value\"}\n"
    "  RULE...     only these rules (default: all)\n"
    "\n"
    "Exit status: 0 ok (alerts or not), 2 usage, config or data error.\n";

struct bt_load {
	struct sw_rtest_data	*d;
	struct sw_store		*st;
	int64_t			 from, to;
	char			**targets;
	int			 ntargets;
	int			 rc;
	struct sw_err		 err;
	struct sw_rtest_series	*cur;
};

static int
bt_collect_targets(const struct sw_expr *x, char ***v, int *n)
{
	char	**nv;
	int	  i;

	if (x == NULL)
		return 0;
	if ((x->kind == SW_EXPR_SERIES || x->kind == SW_EXPR_TARGET) &&
	    x->target != NULL) {
		for (i = 0; i < *n; i++)
			if (strcmp((*v)[i], x->target) == 0)
				break;
		if (i == *n) {
			if ((nv = realloc(*v, (size_t)(*n + 1) *
			    sizeof(*nv))) == NULL)
				return -1;
			*v = nv;
			if ((nv[*n] = strdup(x->target)) == NULL)
				return -1;
			(*n)++;
		}
	}
	for (i = 0; i < x->nargs; i++)
		if (bt_collect_targets(x->arg[i], v, n) == -1)
			return -1;
	return 0;
}

static int
bt_sample(int64_t ts, double v, void *arg)
{
	struct bt_load	*l = arg;

	if (sw_rtest_series_push(l->d, l->cur, ts, v, &l->err) == -1)
		return -1;
	return 0;
}

/* every series of a referenced target, from the store */
static int
bt_series(const struct sw_series_info *s, void *arg)
{
	struct bt_load	*l = arg;
	char		 name[SW_STORE_NAME_MAX * 2 + SW_STORE_LABELS_MAX + 8];
	struct sw_err	 e;
	int		 i;

	for (i = 0; i < l->ntargets; i++)
		if (strcmp(l->targets[i], s->target) == 0)
			break;
	if (i == l->ntargets)
		return 0;
	sw_series_format(name, sizeof(name), s->target, s->metric, s->labels);
	if (sw_rtest_data_add(l->d, name, NULL, &l->cur, &l->err) == -1)
		return -1;
	sw_err_clear(&e);
	if (sw_store_samples_each(l->st, s->id, l->from, l->to, bt_sample, l,
	    &e) != 0) {
		if (e.set)
			sw_err_set(&l->err, "%s", e.msg);
		return -1;
	}
	return 0;
}

static int
bt_load_store(const struct sw_conf *conf, struct sw_store *st,
    int64_t from, int64_t to, struct sw_rtest_data *d)
{
	const struct sw_conf_rule	*r;
	struct sw_expr			*x;
	struct bt_load			 l;
	struct sw_err			 e;
	int				 i, rc = -1;

	memset(&l, 0, sizeof(l));
	l.d = d;
	l.st = st;
	l.from = from;
	l.to = to;
	for (r = conf->rules; r != NULL; r = r->next) {
		if ((x = sw_expr_parse(r->when, &r->when_loc, conf,
		    SW_EXPR_CONDITION, sw_conf_diag_stderr, NULL,
		    NULL)) == NULL)
			goto out;
		i = bt_collect_targets(x, &l.targets, &l.ntargets);
		sw_expr_free(x);
		if (i == -1) {
			fprintf(stderr, "slopewatch: out of memory\n");
			goto out;
		}
	}
	sw_err_clear(&e);
	sw_err_clear(&l.err);
	if (sw_store_series_each(st, bt_series, &l, &e) != 0) {
		fprintf(stderr, "slopewatch: %s\n", l.err.set ? l.err.msg :
		    e.msg);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < l.ntargets; i++)
		free(l.targets[i]);
	free(l.targets);
	return rc;
}

static int
bt_wanted(const char *rule, char **names, int n)
{
	int	i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], rule) == 0)
			return 1;
	return 0;
}

static int
bt_shown(const struct sw_rtest_event *ev)
{
	return ev->event != NULL && (strcmp(ev->event, "pending") == 0 ||
	    strcmp(ev->event, "firing") == 0 ||
	    strcmp(ev->event, "resolved") == 0);
}

static void
bt_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
bt_print(const struct sw_rtest_result *r, char **names, int nnames,
    int json, int64_t first, int64_t last)
{
	char		t[64], v[64], span[32];
	size_t		i;
	int		n = 0;
	double		x;
	enum sw_unit	u;

	if (json)
		printf("[");
	else
		printf("%-24s  %-24s  %-8s  %s\n", "TIME", "RULE", "EVENT",
		    "VALUE");
	for (i = 0; i < r->n; i++) {
		const struct sw_rtest_event *ev = &r->ev[i];

		if (!bt_shown(ev) || !bt_wanted(ev->rule->name, names, nnames))
			continue;
		x = sw_rtest_event_value(ev, &u);
		if (json) {
			printf("%s\n  {\"rule\": ", n == 0 ? "" : ",");
			bt_json_str(stdout, ev->rule->name);
			printf(", \"event\": \"%s\", \"time\": %lld, "
			    "\"value\": ", ev->event, (long long)ev->time_ms);
			if (isfinite(x) && ev->ok)
				printf("%s}", sw_store_fmt_value(v, sizeof(v),
				    x));
			else
				printf("null}");
		} else {
			if (!ev->ok)
				snprintf(v, sizeof(v), "-");
			else if (isinf(x))
				snprintf(v, sizeof(v), "%s", x > 0 ? "+Inf" :
				    "-Inf");
			else
				sw_fmt_quantity(v, sizeof(v), x, u);
			printf("%-24s  %-24s  %-8s  %s\n",
			    sw_store_fmt_time(t, sizeof(t), ev->time_ms),
			    ev->rule->name, ev->event, v);
		}
		n++;
	}
	if (json) {
		printf("%s]\n", n == 0 ? "" : "\n");
		return;
	}
	sw_rtest_fmt_offset(span, sizeof(span), last - first);
	printf("# %s of data from %s: %llu evaluations, %d transition%s\n",
	    span, sw_store_fmt_time(t, sizeof(t), first),
	    (unsigned long long)r->evals, n, n == 1 ? "" : "s");
}

int
sw_cmd_backtest(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", required_argument, NULL, 'C' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "step", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct sw_rtest_data		 d;
	struct sw_rtest_result		 r;
	struct sw_conf			*conf = NULL;
	struct sw_store			*st = NULL;
	const struct sw_conf_rule	*rule;
	struct sw_err			 err;
	const char			*csv = NULL, *since = NULL, *until = NULL;
	const char			*conf_opt = NULL, *db_opt = NULL;
	long long			 from = 0, to = 0, now;
	int64_t				 first, last;
	int64_t				 step_ms = SW_ENGINE_EVAL_MS;
	int				 ch, json = 0, i, rc = SW_EXIT_USAGE;

	sw_rtest_data_init(&d);
	sw_rtest_result_init(&r);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(backtest_usage, stdout);
			return SW_EXIT_OK;
		case 'j':
			json = 1;
			break;
		case 'C':
			csv = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'd':
			db_opt = optarg;
			break;
		case 'c':
			conf_opt = optarg;
			break;
		case 'S':
			if (sw_parse_duration_ms(optarg, (size_t)-1,
			    &step_ms) == -1 || step_ms < 1000 ||
			    step_ms % 1000 != 0 || step_ms > 3600000) {
				fprintf(stderr, "slopewatch backtest: bad --step "
				    "\"%s\" (whole seconds, 1s to 1h)\n", optarg);
				return SW_EXIT_USAGE;
			}
			break;
		default:
			fputs(backtest_usage, stderr);
			return SW_EXIT_USAGE;
		}
	}
	if (csv != NULL && (since != NULL || until != NULL || db_opt != NULL)) {
		fprintf(stderr, "slopewatch backtest: --csv replays the file; "
		    "--since, --until and --db read the store\n");
		return SW_EXIT_USAGE;
	}
	now = sw_clock_wall_ms();
	if (csv != NULL) {
		sw_err_clear(&err);
		if (sw_rtest_csv_load(&d, csv, &err) == -1) {
			fprintf(stderr, "%s\n", err.msg);
			goto out;
		}
		if (sw_rtest_conf_build(sw_cli_conf_path(conf_opt), &d, NULL, 0,
		    &conf, sw_conf_diag_stderr, NULL) == -1)
			goto out;
	} else {
		if (sw_cli_parse_time(since != NULL ? since : BT_DEFAULT_SINCE,
		    now, &from) == -1) {
			fprintf(stderr, "slopewatch backtest: bad --since "
			    "\"%s\"\n", since);
			goto out;
		}
		if (until == NULL)
			to = now + 1;
		else if (sw_cli_parse_time(until, now, &to) == -1) {
			fprintf(stderr, "slopewatch backtest: bad --until "
			    "\"%s\"\n", until);
			goto out;
		}
		if ((rc = sw_cli_open_store(conf_opt, db_opt, &conf, &st)) !=
		    SW_EXIT_OK)
			goto out;
		rc = SW_EXIT_USAGE;
		if (conf == NULL) {
			fprintf(stderr, "slopewatch backtest: no config (-c) "
			    "to take the rules from\n");
			goto out;
		}
		if (bt_load_store(conf, st, from, to, &d) == -1)
			goto out;
	}
	for (i = optind; i < argc; i++) {
		for (rule = conf->rules; rule != NULL; rule = rule->next)
			if (strcmp(rule->name, argv[i]) == 0)
				break;
		if (rule == NULL) {
			fprintf(stderr, "slopewatch backtest: no rule named "
			    "\"%s\"\n", argv[i]);
			goto out;
		}
	}
	if (conf->rules == NULL) {
		fprintf(stderr, "slopewatch backtest: %s has no rules\n",
		    conf->path != NULL ? conf->path : "the config");
		goto out;
	}
	if (sw_rtest_data_span(&d, &first, &last) == -1) {
		fprintf(stderr, "slopewatch backtest: no samples of the "
		    "series the rules use%s\n", csv != NULL ? " in the file" :
		    " in that time range");
		goto out;
	}
	sw_err_clear(&err);
	if (sw_rtest_run(conf, &d, csv != NULL ? last : (int64_t)to - 1,
	    step_ms, &r, sw_conf_diag_stderr, NULL, &err) == -1) {
		fprintf(stderr, "slopewatch backtest: %s\n", err.msg);
		goto out;
	}
	if (r.dropped > 0)
		fprintf(stderr, "slopewatch backtest: only the first %d "
		    "transitions are shown\n", SW_RTEST_MAX_EVENTS);
	bt_print(&r, argv + optind, argc - optind, json, first,
	    csv != NULL ? last : (int64_t)to - 1);
	rc = SW_EXIT_OK;
out:
	sw_rtest_result_release(&r);
	sw_rtest_data_release(&d);
	sw_store_close(st);
	sw_conf_free(conf);
	return rc;
}
