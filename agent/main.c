#include "config.h"
/*
 * main.c: the slopewatch command line. Dispatches to one command per file
 * (cmd-*.c) and holds what the commands share: finding the config, opening
 * the store for reading, parsing times.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#define DEFAULT_SYSTEM_CONF	"/etc/slopewatch/slopewatch.conf"
#define DEFAULT_LOCAL_CONF	"slopewatch.conf"
#define DEFAULT_DB		"slopewatch.db"

struct command {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*summary;
};

static const struct command commands[] = {
	{ "run",	sw_cmd_run,	"run the agent (foreground)" },
	{ "check",	sw_cmd_check,	"validate the config, print FILE:LINE:COL errors" },
	{ "status",	sw_cmd_status,	"targets, last values, failures, recent events" },
	{ "show",	sw_cmd_show,	"print a series (--csv, --json) or its events" },
	{ "query",	sw_cmd_query,	"evaluate a rule expression against stored data" },
	{ "test",	sw_cmd_test,	"run rule unit tests (series in, expected alerts out)" },
	{ "backtest",	sw_cmd_backtest, "replay history (or a CSV) through the rules" },
	{ "notify-test", sw_cmd_notify_test, "send a test message through a notifier" },
	{ "silence",	sw_cmd_silence,	"add, list or remove silences of a rule or target" },
	{ NULL, NULL, NULL },
};

static void
usage(FILE *f)
{
	const struct command	*c;

	fprintf(f,
	    "usage: slopewatch COMMAND [-c FILE] [options]\n"
	    "\n"
	    "Catches memory leaks and latency creep in long-running services.\n"
	    "\n"
	    "commands:\n");
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f,
	    "\n"
	    "Every command takes -c FILE (default: $SLOPEWATCH_CONF, else\n"
	    "./" DEFAULT_LOCAL_CONF " if present, else " DEFAULT_SYSTEM_CONF ")\n"
	    "and --help; slopewatch --version prints the version. Exit status: 0 ok, 1 a problem was found and reported,\n"
	    "2 usage or configuration error. See slopewatch(8), slopewatch.conf(5).\n");
}

int
main(int argc, char **argv)
{
	const struct command	*c;

	if (argc < 2) {
		usage(stderr);
		return SW_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return SW_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("slopewatch %s\n", PACKAGE_VERSION);
		return SW_EXIT_OK;
	}
	for (c = commands; c->name != NULL; c++) {
		if (strcmp(argv[1], c->name) == 0)
			return c->fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "slopewatch: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return SW_EXIT_USAGE;
}

const char *
sw_cli_conf_path(const char *opt)
{
	const char	*env;

	if (opt != NULL)
		return opt;
	if ((env = getenv("SLOPEWATCH_CONF")) != NULL && *env != '\0')
		return env;
	if (access(DEFAULT_LOCAL_CONF, F_OK) == 0)
		return DEFAULT_LOCAL_CONF;
	return DEFAULT_SYSTEM_CONF;
}

int
sw_cli_open_store(const char *conf_opt, const char *db_opt,
    struct sw_conf **conf, struct sw_store **st)
{
	const char	*path, *db = db_opt;
	struct sw_err	 err;

	*conf = NULL;
	*st = NULL;
	if (db == NULL) {
		path = sw_cli_conf_path(conf_opt);
		if (conf_opt == NULL && access(path, F_OK) == -1 &&
		    errno == ENOENT) {
			db = DEFAULT_DB;
		} else {
			if (sw_conf_load(path, conf, sw_conf_diag_stderr, NULL,
			    NULL) == -1)
				return SW_EXIT_USAGE;
			db = (*conf)->data;
		}
	}
	sw_err_clear(&err);
	if (sw_store_open(db, SW_STORE_READONLY, st, &err) == -1) {
		fprintf(stderr, "slopewatch: %s\n", err.msg);
		sw_conf_free(*conf);
		*conf = NULL;
		return SW_EXIT_USAGE;
	}
	return SW_EXIT_OK;
}

/* RFC 3339: 2026-11-22T18:00:00Z, with optional fraction and offset. */
static int
parse_rfc3339(const char *s, long long *ms)
{
	struct tm	tm;
	const char	*p;
	char		*end;
	long		frac_ms = 0, off = 0;
	int		digits = 0, sign;
	long		oh, om;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (digits < 3) {
				frac_ms = frac_ms * 10 + (*p - '0');
				digits++;
			}
			p++;
		}
		while (digits < 3 && digits > 0) {
			frac_ms *= 10;
			digits++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		oh = strtol(p + 1, &end, 10);
		if (end != p + 3 || *end != ':')
			return -1;
		om = strtol(end + 1, &end, 10);
		if (end != p + 6)
			return -1;
		off = sign * (oh * 3600 + om * 60);
		p = end;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	*ms = ((long long)timegm(&tm) - off) * 1000 + frac_ms;
	return 0;
}

int
sw_cli_parse_time(const char *s, long long now_ms, long long *ms)
{
	int64_t	d, n;

	if (sw_parse_duration_ms(s, (size_t)-1, &d) == 0) {
		*ms = now_ms - d;
		return 0;
	}
	if (sw_parse_int64(s, (size_t)-1, &n) == 0 && n >= 0) {
		/* unix seconds or milliseconds, told apart by magnitude */
		*ms = n < 100000000000LL ? n * 1000 : n;
		return 0;
	}
	return parse_rfc3339(s, ms);
}
