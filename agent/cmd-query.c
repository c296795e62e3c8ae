#include "config.h"
/*
 * cmd-query.c: `slopewatch query EXPR [--at T] [--json]`: evaluates a rule
 * expression (a number or a condition) against the stored history, as the
 * agent would at time T (default now). Builds a rules engine from the
 * config (so targets, units and warm-ups are known), lets the query
 * register its series, loads their history from the store (opened
 * read-only, so it works while the agent runs) and prints the value with
 * its unit; for trend functions also the confidence, the CI, the points
 * and the data range used, and the per-lifetime slopes.
 *
 * Exit: 0 a value, 1 no verdict (too little data), 2 usage, config or
 * parse error (the expression's column is named).
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/rules.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

static const char query_usage[] =
    "usage: slopewatch query EXPR [--at T] [--json] [-c FILE] [--db PATH]\n"
    "\n"
    "Evaluates a rule expression against the stored history (see\n"
    "slopewatch-rules(7)), e.g.\n"
    "  slopewatch query 'p50(checkout.latency, 5m)'\n"
    "  slopewatch query 'doubling(web.rss, 6h) < 1d'\n"
    "\n"
    "  --at T          evaluate at T: a duration back from now (1h), unix\n"
    "                  seconds or ms, or RFC 3339 (default: now)\n"
    "  --json          print a JSON object\n"
    "  -c, --config F  configuration (targets, units, warm-up, database)\n"
    "      --db PATH   database (default: the config's data)\n"
    "  -h, --help      this text\n"
    "\n"
    "Exit status: 0 a value, 1 no verdict (not enough data), 2 usage,\n"
    "config or expression error.\n";

static json_t *
num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* +Inf as a string, so JSON readers can tell "never" from "unknown". */
static json_t *
num_inf(double v)
{
	if (isinf(v))
		return json_string(v > 0 ? "+Inf" : "-Inf");
	return num(v);
}

static void
print_json(const char *expr, int64_t at, const struct sw_value *v)
{
	const struct sw_trend_info	*t = &v->trend;
	json_t				*o, *tr, *lt;
	int				 i;

	o = json_object();
	json_object_set_new(o, "expr", json_string(expr));
	json_object_set_new(o, "time", json_integer(at));
	json_object_set_new(o, "ok", json_boolean(v->ok));
	json_object_set_new(o, "condition", json_boolean(v->is_bool));
	if (v->is_bool)
		json_object_set_new(o, "value", v->ok ? json_boolean(v->v != 0) :
		    json_null());
	else
		json_object_set_new(o, "value", v->ok ? num_inf(v->v) :
		    json_null());
	json_object_set_new(o, "unit", json_string(sw_unit_name(v->unit)));
	if (!v->ok)
		json_object_set_new(o, "why", json_string(v->why));
	if (v->is_bool && v->lhs_text[0] != '\0') {
		json_object_set_new(o, "lhs", num_inf(v->lhs));
		json_object_set_new(o, "rhs", num_inf(v->rhs));
		json_object_set_new(o, "conservative",
		    json_boolean(v->conservative));
	}
	if (t->valid) {
		tr = json_object();
		json_object_set_new(tr, "function", json_string(t->fn));
		json_object_set_new(tr, "series", json_string(t->series));
		json_object_set_new(tr, "points", json_integer(t->points));
		json_object_set_new(tr, "point_ms", json_integer(t->width_ms));
		json_object_set_new(tr, "from", json_integer(t->from_ms));
		json_object_set_new(tr, "to", json_integer(t->to_ms));
		json_object_set_new(tr, "segments", json_integer(t->segments));
		json_object_set_new(tr, "slope", num(t->slope));
		json_object_set_new(tr, "slope_lo", num(t->slope_lo));
		json_object_set_new(tr, "slope_hi", num(t->slope_hi));
		json_object_set_new(tr, "doubling", num_inf(t->doubling_s));
		json_object_set_new(tr, "doubling_lo", num_inf(t->doubling_lo_s));
		json_object_set_new(tr, "doubling_hi", num_inf(t->doubling_hi_s));
		json_object_set_new(tr, "eta", num_inf(t->eta_s));
		json_object_set_new(tr, "eta_lo", num_inf(t->eta_lo_s));
		json_object_set_new(tr, "eta_hi", num_inf(t->eta_hi_s));
		json_object_set_new(tr, "level", num(t->level));
		json_object_set_new(tr, "mann_kendall_z", num(t->z));
		json_object_set_new(tr, "decel", num(t->decel));
		json_object_set_new(tr, "gates", json_boolean(t->gates));
		json_object_set_new(tr, "confidence", num(t->confidence));
		lt = json_array();
		for (i = 0; i < t->nlifetimes; i++)
			json_array_append_new(lt, num(t->lifetime_slope[i]));
		json_object_set_new(tr, "lifetime_slopes", lt);
		json_object_set_new(o, "trend", tr);
	}
	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
}

static enum sw_unit
rate_unit(enum sw_unit u)
{
	return u == SW_UNIT_BYTES ? SW_UNIT_BYTES_PER_S : SW_UNIT_PER_S;
}

static void
print_text(int64_t at, const struct sw_value *v)
{
	const struct sw_trend_info	*t = &v->trend;
	enum sw_unit			 ru = rate_unit(t->unit);
	char				 a[64], b[64], c[64], line[512];
	int				 i;

	if (!v->ok)
		printf("no verdict: %s\n", v->why);
	else if (v->is_bool) {
		printf("%s\n", v->v != 0 ? "true" : "false");
		if (v->lhs_text[0] != '\0')
			printf("  %s = %s, compared with %s%s\n", v->lhs_text,
			    sw_fmt_quantity(a, sizeof(a), v->lhs, v->lhs_unit),
			    sw_fmt_quantity(b, sizeof(b), v->rhs, v->lhs_unit),
			    v->conservative ? " (judged on the confidence "
			    "interval)" : "");
	} else
		printf("%s (%s)\n", sw_fmt_quantity(a, sizeof(a), v->v,
		    v->unit), sw_unit_name(v->unit));
	printf("  at %s\n", sw_store_fmt_time(a, sizeof(a), at));
	if (!t->valid)
		return;
	printf("  %s\n", sw_value_describe(v, line, sizeof(line)));
	if (t->points > 0)
		printf("  data: %d points of %s from %s to %s", t->points,
		    sw_fmt_duration_ms(a, sizeof(a), t->width_ms),
		    sw_store_fmt_time(b, sizeof(b), t->from_ms),
		    sw_store_fmt_time(c, sizeof(c), t->to_ms));
	if (t->points > 0)
		printf(", %d instance%s\n", t->segments,
		    t->segments == 1 ? "" : "s");
	if (!isfinite(t->slope))
		return;
	printf("  slope: %s (99%% CI %s to %s)\n",
	    sw_fmt_quantity(a, sizeof(a), t->slope, ru),
	    sw_fmt_quantity(b, sizeof(b), t->slope_lo, ru),
	    sw_fmt_quantity(c, sizeof(c), t->slope_hi, ru));
	if (!isnan(t->doubling_s))
		printf("  doubling time: %s (99%% CI %s to %s)\n",
		    sw_fmt_quantity(a, sizeof(a), t->doubling_s,
		    SW_UNIT_SECONDS), sw_fmt_quantity(b, sizeof(b),
		    t->doubling_lo_s, SW_UNIT_SECONDS), sw_fmt_quantity(c,
		    sizeof(c), t->doubling_hi_s, SW_UNIT_SECONDS));
	if (!isnan(t->eta_s))
		printf("  time to limit: %s (99%% CI %s to %s)\n",
		    sw_fmt_quantity(a, sizeof(a), t->eta_s, SW_UNIT_SECONDS),
		    sw_fmt_quantity(b, sizeof(b), t->eta_lo_s,
		    SW_UNIT_SECONDS), sw_fmt_quantity(c, sizeof(c),
		    t->eta_hi_s, SW_UNIT_SECONDS));
	printf("  confidence: %.3f (Mann-Kendall Z %.2f), recent-third/whole "
	    "slope %.2f, gates %s\n", t->confidence, t->z, t->decel,
	    t->gates ? "pass" : "fail");
	if (t->nlifetimes > 0) {
		printf("  per instance (newest first):");
		for (i = 0; i < t->nlifetimes; i++)
			printf("%s %s", i > 0 ? "," : "",
			    isnan(t->lifetime_slope[i]) ? "too short" :
			    sw_fmt_quantity(a, sizeof(a), t->lifetime_slope[i],
			    ru));
		printf("\n");
	}
}

int
sw_cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sw_conf		*conf = NULL;
	struct sw_store		*st = NULL;
	struct sw_engine	*e = NULL;
	struct sw_value		 v;
	struct sw_err		 err;
	const char		*conf_opt = NULL, *db_opt = NULL, *at_opt = NULL;
	const char		*expr, *p;
	long long		 at;
	int			 ch, json = 0, rc = SW_EXIT_USAGE, col;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_opt = optarg;
			break;
		case 'd':
			db_opt = optarg;
			break;
		case 'a':
			at_opt = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(query_usage, stdout);
			return SW_EXIT_OK;
		default:
			fputs(query_usage, stderr);
			return SW_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(query_usage, stderr);
		return SW_EXIT_USAGE;
	}
	expr = argv[optind];
	at = sw_clock_wall_ms();
	if (at_opt != NULL && sw_cli_parse_time(at_opt, at, &at) == -1) {
		fprintf(stderr, "slopewatch query: --at: expected a duration "
		    "back from now, unix seconds or ms, or RFC 3339, got "
		    "\"%s\"\n", at_opt);
		return SW_EXIT_USAGE;
	}
	if ((rc = sw_cli_open_store(conf_opt, db_opt, &conf, &st)) != 0)
		return rc;
	rc = SW_EXIT_USAGE;
	if (sw_engine_new(conf, sw_conf_diag_stderr, NULL, &e) == -1)
		goto out;
	sw_engine_set_history(e, st);
	sw_err_clear(&err);
	if (sw_engine_query(e, expr, (int64_t)at, &v, &err) == -1) {
		fprintf(stderr, "slopewatch query: %s\n", err.msg);
		/* "1:COL: ..." points into the expression: show where */
		if (strncmp(err.msg, "1:", 2) == 0 &&
		    sscanf(err.msg + 2, "%d", &col) == 1 && col >= 1 &&
		    (size_t)col <= strlen(expr) + 1 && strlen(expr) < 200) {
			fprintf(stderr, "  %s\n  ", expr);
			for (p = expr; p < expr + col - 1; p++)
				fputc(*p == '\t' ? '\t' : ' ', stderr);
			fputs("^\n", stderr);
		}
		goto out;
	}
	if (json)
		print_json(expr, (int64_t)at, &v);
	else
		print_text((int64_t)at, &v);
	rc = v.ok ? SW_EXIT_OK : SW_EXIT_PROBLEM;
out:
	sw_engine_free(e);
	sw_store_close(st);
	sw_conf_free(conf);
	return rc;
}
