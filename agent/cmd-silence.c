#include "config.h"
/*
 * cmd-silence.c: `slopewatch silence add|list|rm`. Silences live in the
 * store (table silence, outbox.h); the running agent reads them each time
 * it routes an alert, so they apply at once, without a reload.
 *
 *   silence add RULE|TARGET --for 2h --reason TEXT   (a name or an
 *                                                    fnmatch pattern)
 *   silence list [--all] [--json]
 *   silence rm ID
 *
 * add and rm open the store for writing (a short transaction next to the
 * agent's, WAL); list opens it read-only.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/outbox.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#define SILENCE_MAX_MS	(366LL * 86400 * 1000)

static const char silence_usage[] =
    "usage: slopewatch silence add RULE|TARGET --for DURATION --reason TEXT\n"
    "       slopewatch silence list [--all] [--json]\n"
    "       slopewatch silence rm ID\n"
    "\n"
    "Mutes the notifications of a rule or of every rule about a target (a\n"
    "name or a shell pattern like 'web-*') for a while. The running agent\n"
    "honours a silence at once. A resolved message still goes to a\n"
    "notifier that was told the alert was firing.\n"
    "\n"
    "  --for D      how long (e.g. 30m, 2h, 1d; at most a year)\n"
    "  --reason T   why (required for add)\n"
    "  --all        list expired silences too\n"
    "  --json       list as a JSON array\n"
    "  -c FILE      the config (it names the database)\n"
    "  --db PATH    the database, overriding the config\n";

/* The store for writing: from --db, else the config's data path. */
static int
silence_open_rw(const char *conf_opt, const char *db_opt, struct sw_conf **conf,
    struct sw_store **st)
{
	struct sw_err	 err;
	const char	*db = db_opt;

	*conf = NULL;
	*st = NULL;
	if (db == NULL) {
		if (sw_conf_load(sw_cli_conf_path(conf_opt), conf,
		    sw_conf_diag_stderr, NULL, NULL) == -1)
			return SW_EXIT_USAGE;
		db = (*conf)->data;
	}
	sw_err_clear(&err);
	if (sw_store_open(db, 0, st, &err) == -1 ||
	    sw_outbox_schema(sw_store_db(*st), &err) == -1) {
		fprintf(stderr, "slopewatch silence: %s\n", err.msg);
		sw_store_close(*st);
		*st = NULL;
		sw_conf_free(*conf);
		*conf = NULL;
		return SW_EXIT_PROBLEM;
	}
	return SW_EXIT_OK;
}

static const char *
silence_author(char *buf, size_t sz)
{
	struct passwd	*pw;
	const char	*s;

	if ((s = getenv("SUDO_USER")) != NULL && *s != '\0')
		snprintf(buf, sz, "%s", s);
	else if ((pw = getpwuid(getuid())) != NULL)
		snprintf(buf, sz, "%s", pw->pw_name);
	else
		snprintf(buf, sz, "uid %ld", (long)getuid());
	return buf;
}

static int
silence_known(const struct sw_conf *conf, const char *m)
{
	const struct sw_conf_rule	*r;
	const struct sw_conf_target	*t;

	if (conf == NULL || strpbrk(m, "*?[") != NULL)
		return 1;
	for (r = conf->rules; r != NULL; r = r->next)
		if (strcmp(r->name, m) == 0)
			return 1;
	for (t = conf->targets; t != NULL; t = t->next)
		if (strcmp(t->name, m) == 0)
			return 1;
	return 0;
}

struct silence_list {
	int64_t	 now;
	int	 count;
	json_t	*arr;
};

static int
silence_print(const struct sw_silence *s, void *arg)
{
	struct silence_list	*l = arg;
	char			 until[40], left[32], m[300], r[600], a[200];

	sw_store_fmt_time(until, sizeof(until), s->until_ms);
	if (l->arr != NULL) {
		json_array_append_new(l->arr, json_pack("{s:I, s:s, s:I, s:I,"
		    " s:s, s:s, s:b}", "id", (json_int_t)s->id, "matcher",
		    s->matcher, "created_ms", (json_int_t)s->created_ms,
		    "until_ms", (json_int_t)s->until_ms, "reason", s->reason,
		    "author", s->author, "active", s->until_ms > l->now));
		return 0;
	}
	if (l->count++ == 0)
		printf("%-5s %-24s %-26s %-10s %s\n", "ID", "RULE|TARGET",
		    "UNTIL", "LEFT", "REASON (AUTHOR)");
	if (s->until_ms > l->now)
		sw_fmt_duration_ms(left, sizeof(left), s->until_ms - l->now);
	else
		snprintf(left, sizeof(left), "expired");
	printf("%-5" PRId64 " %-24s %-26s %-10s %s (%s)\n", s->id,
	    sw_log_escape(m, sizeof(m), s->matcher, strlen(s->matcher)),
	    until, left, sw_log_escape(r, sizeof(r), s->reason,
	    strlen(s->reason)), sw_log_escape(a, sizeof(a), s->author,
	    strlen(s->author)));
	return 0;
}

int
sw_cmd_silence(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "db",		required_argument,	NULL, 'd' },
		{ "for",	required_argument,	NULL, 'f' },
		{ "reason",	required_argument,	NULL, 'r' },
		{ "all",	no_argument,		NULL, 'a' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*conf_opt = NULL, *db_opt = NULL, *reason = NULL;
	const char		*verb;
	struct sw_conf		*conf = NULL;
	struct sw_store		*st = NULL;
	struct sw_err		 err;
	struct silence_list	 l;
	char			 author[128], until[40], d[32];
	int64_t			 for_ms = 0, id, now;
	int			 c, all = 0, json = 0, rc, status;

	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf_opt = optarg;
			break;
		case 'd':
			db_opt = optarg;
			break;
		case 'f':
			if (sw_parse_duration_ms(optarg, (size_t)-1,
			    &for_ms) == -1 || for_ms <= 0 ||
			    for_ms > SILENCE_MAX_MS) {
				fprintf(stderr, "slopewatch silence: bad --for "
				    "\"%s\" (a duration up to a year, like "
				    "2h)\n", optarg);
				return SW_EXIT_USAGE;
			}
			break;
		case 'r':
			reason = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(silence_usage, stdout);
			return SW_EXIT_OK;
		default:
			fputs(silence_usage, stderr);
			return SW_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(silence_usage, stderr);
		return SW_EXIT_USAGE;
	}
	verb = argv[optind++];
	now = sw_clock_wall_ms();
	sw_err_clear(&err);

	if (strcmp(verb, "add") == 0) {
		if (optind + 1 != argc || for_ms <= 0 || reason == NULL ||
		    *reason == '\0') {
			fprintf(stderr, "slopewatch silence add: needs RULE|"
			    "TARGET, --for and --reason\n");
			return SW_EXIT_USAGE;
		}
		if ((status = silence_open_rw(conf_opt, db_opt, &conf, &st)) !=
		    SW_EXIT_OK)
			return status;
		if (!silence_known(conf, argv[optind]))
			fprintf(stderr, "slopewatch silence: note: no rule or "
			    "target named \"%s\" in %s\n", argv[optind],
			    conf->path);
		if (sw_silence_add(sw_store_db(st), argv[optind], now,
		    now + for_ms, reason, silence_author(author,
		    sizeof(author)), &id, &err) == -1) {
			fprintf(stderr, "slopewatch silence: %s\n", err.msg);
			status = SW_EXIT_PROBLEM;
		} else {
			printf("silence %" PRId64 " added: %s for %s, until "
			    "%s\n", id, argv[optind], sw_fmt_duration_ms(d,
			    sizeof(d), for_ms), sw_store_fmt_time(until,
			    sizeof(until), now + for_ms));
			status = SW_EXIT_OK;
		}
	} else if (strcmp(verb, "rm") == 0) {
		if (optind + 1 != argc || sw_parse_int64(argv[optind],
		    (size_t)-1, &id) == -1 || id <= 0) {
			fprintf(stderr, "slopewatch silence rm: needs the ID "
			    "that `silence list` shows\n");
			return SW_EXIT_USAGE;
		}
		if ((status = silence_open_rw(conf_opt, db_opt, &conf, &st)) !=
		    SW_EXIT_OK)
			return status;
		rc = sw_silence_rm(sw_store_db(st), id, &err);
		if (rc == -1) {
			fprintf(stderr, "slopewatch silence: %s\n", err.msg);
			status = SW_EXIT_PROBLEM;
		} else if (rc == 0) {
			fprintf(stderr, "slopewatch silence: no silence %"
			    PRId64 "\n", id);
			status = SW_EXIT_PROBLEM;
		} else {
			printf("silence %" PRId64 " removed\n", id);
			status = SW_EXIT_OK;
		}
	} else if (strcmp(verb, "list") == 0) {
		if (optind != argc) {
			fputs(silence_usage, stderr);
			return SW_EXIT_USAGE;
		}
		if ((status = sw_cli_open_store(conf_opt, db_opt, &conf,
		    &st)) != SW_EXIT_OK)
			return status;
		memset(&l, 0, sizeof(l));
		l.now = now;
		if (json && (l.arr = json_array()) == NULL) {
			status = SW_EXIT_PROBLEM;
			goto out;
		}
		if (sw_silence_each(sw_store_db(st), now, all, silence_print,
		    &l, &err) == -1) {
			fprintf(stderr, "slopewatch silence: %s\n", err.msg);
			status = SW_EXIT_PROBLEM;
		} else if (json) {
			json_dumpf(l.arr, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
		} else if (l.count == 0)
			printf("no %ssilences\n", all ? "" : "active ");
		json_decref(l.arr);
	} else {
		fprintf(stderr, "slopewatch silence: unknown verb \"%s\" "
		    "(add, list, rm)\n", verb);
		return SW_EXIT_USAGE;
	}
out:
	sw_store_close(st);
	sw_conf_free(conf);
	return status;
}
