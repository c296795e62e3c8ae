#include "config.h"
/*
 * cmd-check.c: `slopewatch check [-c FILE] [-q]`: parses the configuration
 * (and its includes) and either prints a summary and "FILE: ok" (exit 0) or
 * every error as FILE:LINE:COL: message on stderr and a count (exit 2).
 * Secrets are never printed: the summary redacts them and the parser's
 * messages only ever quote how a secret was written ($NAME, @path).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "slopewatch/action.h"
#include "slopewatch/conf.h"
#include "slopewatch/expr.h"

static void
check_usage(FILE *f)
{
	fprintf(f,
	    "usage: slopewatch check [-q] [-c FILE]\n"
	    "\n"
	    "Validates the configuration and the files it includes. Prints\n"
	    "each error as FILE:LINE:COL: message on stderr and exits 2, or\n"
	    "prints a summary (secrets redacted) and exits 0.\n"
	    "\n"
	    "  -c, --config FILE  the configuration (default: $SLOPEWATCH_CONF,\n"
	    "                     else ./slopewatch.conf, else\n"
	    "                     /etc/slopewatch/slopewatch.conf)\n"
	    "  -q, --quiet        print errors only\n"
	    "  -h, --help         this text\n");
}

/* Settings that are valid but weaken what the agent measures or protects:
 * warnings on stderr, at the block's location; they do not fail check. */
static void
check_warnings(const struct sw_conf *conf)
{
	const struct sw_conf_target	*t;

	for (t = conf->targets; t != NULL; t = t->next) {
		if ((t->kind == SW_TARGET_ENDPOINT && t->u.endpoint.insecure) ||
		    (t->kind == SW_TARGET_SCRAPE && t->u.scrape.insecure))
			fprintf(stderr, "%s:%d:%d: warning: %s %s: TLS "
			    "certificate verification is disabled (insecure yes)\n",
			    t->loc.file, t->loc.line, t->loc.col,
			    sw_target_kind_name(t->kind), t->name);
	}
}

int
sw_cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sw_conf	*conf = NULL;
	const char	*opt_conf = NULL, *path;
	int		 ch, quiet = 0, nerrors = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			opt_conf = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			check_usage(stdout);
			return SW_EXIT_OK;
		default:
			check_usage(stderr);
			return SW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "slopewatch check: unexpected argument \"%s\"\n",
		    argv[optind]);
		check_usage(stderr);
		return SW_EXIT_USAGE;
	}
	path = sw_cli_conf_path(opt_conf);
	if (sw_conf_load(path, &conf, sw_conf_diag_stderr, NULL,
	    &nerrors) == -1) {
		if (nerrors < 1)
			nerrors = 1;
		fprintf(stderr, "%d error%s\n", nerrors, nerrors == 1 ? "" : "s");
		return SW_EXIT_USAGE;
	}
	/* rule conditions: syntax, series and units (bytes vs seconds) are
	 * errors here, not at run time */
	nerrors = sw_expr_check_rules(conf, sw_conf_diag_stderr, NULL);
	/* action programs must exist and be executable here, users exist */
	nerrors += sw_actions_check_conf(conf, sw_conf_diag_stderr, NULL);
	if (nerrors > 0) {
		fprintf(stderr, "%d error%s\n", nerrors, nerrors == 1 ? "" : "s");
		sw_conf_free(conf);
		return SW_EXIT_USAGE;
	}
	check_warnings(conf);
	if (!quiet) {
		sw_conf_print_summary(conf, stdout);
		printf("%s: ok\n", path);
	}
	sw_conf_free(conf);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("slopewatch check: stdout");
		return SW_EXIT_USAGE;
	}
	return SW_EXIT_OK;
}
