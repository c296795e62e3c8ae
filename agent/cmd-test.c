#include "config.h"
/*
 * cmd-test.c: `slopewatch test FILE...`, rule unit tests in the spirit of
 * `promtool test rules` (file format: slopewatch-test(5)). Each test case's
 * series are replayed through a fresh engine built from the file's rules
 * (plus stub targets for what the rules file does not define) exactly as
 * the agent would have lived them, and its expectations are checked
 * against the transitions the engine reported.
 *
 * Output: one "ok" line per passing case; for a failing case, per failing
 * expectation the rule, "- expected" and "+ got" lines and the rule's
 * timeline (times as offsets from the case's start). Exit status: 0 every
 * expectation holds, 1 one or more fail, 2 a syntax, rules or usage error
 * (reported as FILE:LINE:COL).
 */

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/rtest.h"
#include "slopewatch/units.h"

#define TL_MAX	12	/* events shown in a timeline */

static const char test_usage[] =
    "usage: slopewatch test [-v] [-c RULES] FILE...\n"
    "\n"
    "Runs rule unit tests: the series of each test case go through the\n"
    "rules, and the alerts expected at given times are checked.\n"
    "See slopewatch-test(5) for the file format.\n"
    "\n"
    "  -v          print every rule's timeline, also of passing tests\n"
    "  -c RULES    use RULES instead of the file's `rules` line\n"
    "\n"
    "Exit status: 0 all expectations hold, 1 some failed (a diff is\n"
    "printed), 2 a syntax error in a test or rules file, or a usage error.\n";

static const char *
state_name(enum sw_alert_state s)
{
	return sw_alert_state_name(s);
}

static void
fmt_when(char *dst, size_t dstsz, const struct sw_rtest_case *c, int64_t ms)
{
	sw_rtest_fmt_offset(dst, dstsz, ms - c->start_ms);
}

static void
fmt_value(char *dst, size_t dstsz, const struct sw_rtest_event *ev)
{
	enum sw_unit	u;
	double		v = sw_rtest_event_value(ev, &u);

	if (!ev->ok)
		snprintf(dst, dstsz, "no verdict");
	else if (isinf(v))
		snprintf(dst, dstsz, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		snprintf(dst, dstsz, "NaN");
	else
		sw_fmt_quantity(dst, dstsz, v, u);
}

/* "pending at 5h40m (19 h), firing at 6h10m (18.2 h)" */
static void
print_timeline(FILE *f, const struct sw_rtest_case *c,
    const struct sw_rtest_result *r, const char *rule)
{
	char	t[32], v[64];
	size_t	i;
	int	n = 0, more = 0;

	for (i = 0; i < r->n; i++) {
		const struct sw_rtest_event *ev = &r->ev[i];

		if (strcmp(ev->rule->name, rule) != 0)
			continue;
		if (ev->event == NULL && ev->state != SW_ALERT_INACTIVE)
			continue;	/* shown by its event */
		if (n == TL_MAX) {
			more++;
			continue;
		}
		fmt_when(t, sizeof(t), c, ev->time_ms);
		fmt_value(v, sizeof(v), ev);
		fprintf(f, "%s%s at %s (%s)", n == 0 ? "" : ", ",
		    ev->event != NULL ? ev->event : "inactive", t, v);
		n++;
	}
	if (n == 0)
		fprintf(f, "no alerts");
	if (more > 0)
		fprintf(f, ", ... %d more", more);
}

static void
print_expected(FILE *f, const struct sw_rtest_case *c,
    const struct sw_rtest_expect *x)
{
	char	t1[32], t2[32];

	fmt_when(t1, sizeof(t1), c, x->t1_ms);
	fmt_when(t2, sizeof(t2), c, x->t2_ms);
	switch (x->kind) {
	case SW_EXPECT_NONE:
		fprintf(f, "no alerts");
		break;
	case SW_EXPECT_NEVER:
		fprintf(f, "never %s", x->event);
		break;
	case SW_EXPECT_STATE_AT:
		fprintf(f, "%s at %s", state_name(x->state), t1);
		break;
	case SW_EXPECT_BY:
		fprintf(f, "%s by %s", x->event, t1);
		break;
	case SW_EXPECT_AFTER:
		fprintf(f, "%s after %s", x->event, t1);
		break;
	case SW_EXPECT_BETWEEN:
		fprintf(f, "%s between %s and %s", x->event, t1, t2);
		break;
	}
}

static void
print_got(FILE *f, const struct sw_rtest_case *c,
    const struct sw_rtest_expect *x, const struct sw_rtest_result *r)
{
	const struct sw_rtest_event	*first = NULL;
	enum sw_alert_state		 st = SW_ALERT_INACTIVE;
	int64_t				 since = 0;
	char				 t[32];
	size_t				 i;

	switch (x->kind) {
	case SW_EXPECT_NONE:
		print_timeline(f, c, r, x->rule);
		return;
	case SW_EXPECT_STATE_AT:
		for (i = 0; i < r->n && r->ev[i].time_ms <= x->t1_ms; i++)
			if (strcmp(r->ev[i].rule->name, x->rule) == 0 &&
			    r->ev[i].state != st) {
				st = r->ev[i].state;
				since = r->ev[i].time_ms;
			}
		fmt_when(t, sizeof(t), c, x->t1_ms);
		fprintf(f, "%s at %s", state_name(st), t);
		if (st != SW_ALERT_INACTIVE) {
			fmt_when(t, sizeof(t), c, since);
			fprintf(f, " (since %s)", t);
		}
		return;
	default:
		break;
	}
	for (i = 0; i < r->n; i++)
		if (r->ev[i].event != NULL && strcmp(r->ev[i].event,
		    x->event) == 0 && strcmp(r->ev[i].rule->name,
		    x->rule) == 0) {
			first = &r->ev[i];
			break;
		}
	if (first == NULL) {
		fprintf(f, "never %s", x->event);
		return;
	}
	fmt_when(t, sizeof(t), c, first->time_ms);
	fprintf(f, "%s%s at %s", x->kind == SW_EXPECT_NEVER ? "" : "first ",
	    x->event, t);
}

struct tally {
	int	cases, failed_cases, expects, failed;
};

/* Runs one case; 0 ran (failures counted), -1 a config/run error. */
static int
run_case(const struct sw_rtest_file *tf, const struct sw_rtest_case *c,
    const char *rules, int verbose, struct tally *tl)
{
	struct sw_conf			*conf = NULL;
	struct sw_rtest_result		 r;
	struct sw_err			 err;
	const struct sw_conf_rule	*rule;
	int				 i, rc = -1, nfail = 0, bad = 0;
	char				 label[256];

	sw_rtest_result_init(&r);
	if (sw_rtest_conf_build(rules, &c->data, tf->targets, tf->ntargets,
	    &conf, sw_conf_diag_stderr, NULL) == -1)
		goto out;
	for (i = 0; i < c->nexpect; i++) {
		for (rule = conf->rules; rule != NULL; rule = rule->next)
			if (strcmp(rule->name, c->expect[i].rule) == 0)
				break;
		if (rule == NULL) {
			fprintf(stderr, "%s:%d:%d: no rule named %s in %s\n",
			    c->expect[i].loc.file, c->expect[i].loc.line,
			    c->expect[i].loc.col, c->expect[i].rule,
			    rules);
			bad++;
		}
	}
	if (bad > 0)
		goto out;
	sw_err_clear(&err);
	if (sw_rtest_run(conf, &c->data, c->until_ms, c->eval_ms, &r, sw_conf_diag_stderr,
	    NULL, &err) == -1) {
		fprintf(stderr, "%s:%d:1: %s\n", c->loc.file, c->loc.line,
		    err.msg);
		goto out;
	}
	if (*c->name != '\0')
		snprintf(label, sizeof(label), "test \"%s\"", c->name);
	else
		snprintf(label, sizeof(label), "test");
	for (i = 0; i < c->nexpect; i++) {
		const struct sw_rtest_expect *x = &c->expect[i];

		tl->expects++;
		if (sw_rtest_expect_check(x, &r))
			continue;
		if (nfail++ == 0)
			printf("FAIL %s:%d: %s\n", c->loc.file, c->loc.line,
			    label);
		tl->failed++;
		printf("  %s (line %d)\n", x->rule, x->loc.line);
		printf("  - expected: ");
		print_expected(stdout, c, x);
		printf("\n  + got:      ");
		print_got(stdout, c, x, &r);
		if (x->kind != SW_EXPECT_NONE) {
			printf("\n    timeline: ");
			print_timeline(stdout, c, &r, x->rule);
		}
		printf("\n");
	}
	tl->cases++;
	if (nfail > 0)
		tl->failed_cases++;
	else
		printf("ok   %s:%d: %s (%d expectation%s)\n", c->loc.file,
		    c->loc.line, label, c->nexpect, c->nexpect == 1 ? "" :
		    "s");
	if (verbose) {
		for (rule = conf->rules; rule != NULL; rule = rule->next) {
			printf("    %s: ", rule->name);
			print_timeline(stdout, c, &r, rule->name);
			printf("\n");
		}
	}
	if (r.dropped > 0)
		printf("  (%zu transitions past the first %d were not "
		    "recorded)\n", r.dropped, SW_RTEST_MAX_EVENTS);
	rc = 0;
out:
	sw_rtest_result_release(&r);
	sw_conf_free(conf);
	return rc;
}

int
sw_cmd_test(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct sw_rtest_file	*tf;
	struct tally		 tl;
	const char		*rules_opt = NULL;
	int			 ch, i, j, verbose = 0, usage_err = 0;

	memset(&tl, 0, sizeof(tl));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hvc:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(test_usage, stdout);
			return SW_EXIT_OK;
		case 'v':
			verbose = 1;
			break;
		case 'c':
			rules_opt = optarg;
			break;
		default:
			fputs(test_usage, stderr);
			return SW_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(test_usage, stderr);
		return SW_EXIT_USAGE;
	}
	for (i = optind; i < argc; i++) {
		if (sw_rtest_file_load(argv[i], &tf, sw_conf_diag_stderr, NULL,
		    NULL) == -1) {
			usage_err = 1;
			continue;
		}
		for (j = 0; j < tf->ncases; j++)
			if (run_case(tf, &tf->cases[j], rules_opt != NULL ?
			    rules_opt : tf->rules, verbose, &tl) == -1)
				usage_err = 1;
		sw_rtest_file_free(tf);
	}
	if (tl.cases == 0)
		return usage_err ? SW_EXIT_USAGE : SW_EXIT_OK;
	printf("%d test%s, %d failed; %d expectation%s, %d failed\n",
	    tl.cases, tl.cases == 1 ? "" : "s", tl.failed_cases, tl.expects,
	    tl.expects == 1 ? "" : "s", tl.failed);
	if (usage_err)
		return SW_EXIT_USAGE;
	return tl.failed > 0 ? SW_EXIT_PROBLEM : SW_EXIT_OK;
}
