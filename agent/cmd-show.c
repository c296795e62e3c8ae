#include "config.h"

/*
 * cmd-show.c: `slopewatch show SERIES`, the samples of one series (or, with
 * --events, the events of its target) from the store, opened read-only so it
 * works while the agent writes.
 *
 * The --csv and --json shapes are stable interfaces (SPEC §2): CSV is the
 * header "time,value" then one "MS,VALUE" row per sample; JSON is an array
 * of {"time": MS, "value": V}. Values are printed with the fewest digits
 * that read back as the same double (sw_store_fmt_value); a non-finite value
 * is "+Inf"/"-Inf" in CSV and null in JSON (JSON has no infinity).
 *
 * Reads go in chunks (SHOW_CHUNK samples, SHOW_EV_CHUNK events), each in its
 * own short read transaction, and output is written between chunks: a
 * `show | less` left open must not hold a snapshot that stops the agent's
 * WAL checkpoints (the WAL would grow without bound).
 */

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/store.h"
#include "slopewatch/text.h"
#include "slopewatch/units.h"

#define SHOW_STOP	2	/* a callback's "stop, no error" */
#define SHOW_CHUNK	4096	/* samples read per transaction */
#define SHOW_EV_CHUNK	128	/* events read per transaction */
#define SHOW_NEAR	10	/* names suggested for an unknown series */
#define SHOW_NAME_MAX	256	/* bytes of a name compared for suggestions */
#if SHOW_NAME_MAX > SW_TEXT_DIST_MAX
#error "sw_text_distance measures at most SW_TEXT_DIST_MAX bytes"
#endif

enum show_fmt {
	SHOW_TEXT = 0,
	SHOW_CSV,
	SHOW_JSON,
};

struct show_ctx {
	enum show_fmt	 fmt;
	FILE		*out;
	int		 has_unit;
	enum sw_unit	 unit;
	int64_t		 until;
	uint64_t	 n;
};

struct show_chunk {
	int	 n;
	int64_t	 ts[SHOW_CHUNK];
	double	 v[SHOW_CHUNK];
};

struct show_ev_chunk {
	int		 n;
	int64_t		 until;
	int64_t		 after_ts;	/* skip (ts, id) <= (after_ts, after_id) */
	int64_t		 after_id;
	struct sw_event	 ev[SHOW_EV_CHUNK];	/* strings owned */
};

static const char show_usage[] =
    "usage: slopewatch show SERIES [--since T] [--until T] [--json | --csv]\n"
    "                       [--events] [-c FILE] [--db PATH]\n"
    "\n"
    "Prints the samples of SERIES (TARGET.METRIC or TARGET.METRIC{k=\"v\"})\n"
    "from the store, oldest first.\n"
    "\n"
    "  --since T   start: a duration back from now (90m, 1d), unix seconds or\n"
    "              milliseconds, or RFC 3339 (default: 1h)\n"
    "  --until T   end, exclusive (default: now and later)\n"
    "  --csv       header \"time,value\", then one row per sample, time in unix ms\n"
    "  --json      an array of {\"time\": ms, \"value\": v}\n"
    "  --events    the events of the series' target instead (process starts,\n"
    "              stops, restarts, action runs, notifications); SERIES may be\n"
    "              just the target name\n"
    "  -c FILE     the config, which names the database\n"
    "  --db PATH   the database, overriding the config\n"
    "\n"
    "Text output gives RFC 3339 UTC times and values with units. Exit status:\n"
    "0 ok, 1 unknown series or a read error, 2 usage or config error.\n";

/* Unit of a series from its stored unit word. */
static int
show_unit(const char *name, enum sw_unit *unit)
{
	enum sw_unit	u;
	const char	*n;

	if (name == NULL || *name == '\0')
		return 0;
	for (u = SW_UNIT_NONE; u <= SW_UNIT_PER_S; u++) {
		if ((n = sw_unit_name(u)) != NULL && strcmp(n, name) == 0) {
			*unit = u;
			return 1;
		}
	}
	return 0;
}

static int
show_collect(int64_t ts, double v, void *arg)
{
	struct show_chunk	*ch = arg;

	ch->ts[ch->n] = ts;
	ch->v[ch->n] = v;
	return ++ch->n == SHOW_CHUNK ? SHOW_STOP : 0;
}

static void
show_ev_clear(struct show_ev_chunk *ch)
{
	int	i;

	for (i = 0; i < ch->n; i++) {
		free((char *)ch->ev[i].target);
		free((char *)ch->ev[i].kind);
		free((char *)ch->ev[i].detail);
	}
	ch->n = 0;
}

static int
show_ev_collect(const struct sw_event *ev, void *arg)
{
	struct show_ev_chunk	*ch = arg;
	struct sw_event		*e = &ch->ev[ch->n];

	if (ev->ts_ms >= ch->until)
		return SHOW_STOP;
	if (ev->ts_ms == ch->after_ts && ev->id <= ch->after_id)
		return 0;	/* printed with the previous chunk */
	*e = *ev;
	e->target = strdup(ev->target);
	e->kind = strdup(ev->kind);
	e->detail = strdup(ev->detail);
	ch->n++;
	if (e->target == NULL || e->kind == NULL || e->detail == NULL) {
		fprintf(stderr, "slopewatch: show: out of memory\n");
		return -1;
	}
	return ch->n == SHOW_EV_CHUNK ? SHOW_STOP : 0;
}

static void
show_sample(struct show_ctx *c, int64_t ts, double v)
{
	char	tbuf[64], vbuf[64];

	switch (c->fmt) {
	case SHOW_CSV:
		fprintf(c->out, "%" PRId64 ",%s\n", ts,
		    sw_store_fmt_value(vbuf, sizeof(vbuf), v));
		break;
	case SHOW_JSON:
		fprintf(c->out, "%s{\"time\": %" PRId64 ", \"value\": %s}",
		    c->n > 0 ? ",\n " : "\n ", ts, isfinite(v) ?
		    sw_store_fmt_value(vbuf, sizeof(vbuf), v) : "null");
		break;
	case SHOW_TEXT:
		if (c->n == 0)
			fprintf(c->out, "%-24s  %s\n", "TIME", "VALUE");
		if (c->has_unit && isfinite(v))
			sw_fmt_quantity(vbuf, sizeof(vbuf), v, c->unit);
		else
			sw_store_fmt_value(vbuf, sizeof(vbuf), v);
		fprintf(c->out, "%-24s  %s\n",
		    sw_store_fmt_time(tbuf, sizeof(tbuf), ts), vbuf);
		break;
	}
	c->n++;
}

/* One CSV field, quoted when it has to be (RFC 4180). */
static void
show_csv_field(FILE *out, const char *s)
{
	const char	*p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

static int
show_event(struct show_ctx *c, const struct sw_event *ev)
{
	json_t		*o, *detail = NULL;
	char		 tbuf[64], pbuf[32], esc[512], *text = NULL;

	switch (c->fmt) {
	case SHOW_CSV:
		fprintf(c->out, "%" PRId64 ",", ev->ts_ms);
		show_csv_field(c->out, ev->target);
		fputc(',', c->out);
		show_csv_field(c->out, ev->kind);
		fprintf(c->out, ",%ld,", ev->pid);
		show_csv_field(c->out, ev->detail);
		fputc('\n', c->out);
		break;
	case SHOW_JSON:
		if (*ev->detail != '\0' && (detail = json_loads(ev->detail,
		    JSON_DECODE_ANY, NULL)) == NULL)
			detail = json_string(ev->detail);
		o = json_pack("{sI ss ss sI so?}", "time", (json_int_t)ev->ts_ms,
		    "target", ev->target, "kind", ev->kind,
		    "pid", (json_int_t)ev->pid, "detail", detail);
		if (o == NULL) {
			fprintf(stderr, "slopewatch: event %" PRId64 ": cannot "
			    "encode as JSON\n", ev->id);
			return -1;
		}
		fputs(c->n > 0 ? ",\n " : "\n ", c->out);
		json_dumpf(o, c->out, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(o);
		break;
	case SHOW_TEXT:
		if (c->n == 0)
			fprintf(c->out, "%-24s  %-12s  %-8s  %s\n", "TIME",
			    "KIND", "PID", "DETAIL");
		/* detail re-encoded compact when it is JSON (JSON text holds
		 * no raw control character), else escaped */
		if (*ev->detail != '\0' && (detail = json_loads(ev->detail,
		    JSON_DECODE_ANY, NULL)) != NULL)
			text = json_dumps(detail, JSON_COMPACT |
			    JSON_ENCODE_ANY);
		if (ev->pid != 0)
			snprintf(pbuf, sizeof(pbuf), "%ld", ev->pid);
		else
			snprintf(pbuf, sizeof(pbuf), "-");
		fprintf(c->out, "%-24s  %-12s  %-8s  %s\n",
		    sw_store_fmt_time(tbuf, sizeof(tbuf), ev->ts_ms), ev->kind,
		    pbuf, text != NULL ? text : sw_log_escape(esc, sizeof(esc),
		    ev->detail, strlen(ev->detail)));
		free(text);
		json_decref(detail);
		break;
	}
	c->n++;
	return 0;
}

struct show_near {
	const char	*want;
	size_t		 n;
	size_t		 total;
	size_t		 dist[SHOW_NEAR];
	char		 name[SHOW_NEAR][SHOW_NAME_MAX];
};

static int
show_near_cb(const struct sw_series_info *s, void *arg)
{
	struct show_near	*nr = arg;
	char			 name[SHOW_NAME_MAX];
	size_t			 d, i;

	sw_series_format(name, sizeof(name), s->target, s->metric, s->labels);
	/* the first SHOW_NAME_MAX bytes of each */
	d = sw_text_distance(nr->want, strnlen(nr->want, SHOW_NAME_MAX), name,
	    strnlen(name, SHOW_NAME_MAX), 0);
	nr->total++;
	/* keep the SHOW_NEAR closest, sorted, ties in name order */
	for (i = nr->n; i > 0 && nr->dist[i - 1] > d; i--) {
		if (i < SHOW_NEAR) {
			nr->dist[i] = nr->dist[i - 1];
			memcpy(nr->name[i], nr->name[i - 1], SHOW_NAME_MAX);
		}
	}
	if (i < SHOW_NEAR) {
		nr->dist[i] = d;
		memcpy(nr->name[i], name, SHOW_NAME_MAX);
		if (nr->n < SHOW_NEAR)
			nr->n++;
	}
	return 0;
}

static void
show_unknown(struct sw_store *st, const char *want)
{
	struct show_near	 nr;
	struct sw_err		 err;
	size_t			 i;
	char			 esc[SHOW_NAME_MAX];

	memset(&nr, 0, sizeof(nr));
	nr.want = want;
	sw_err_clear(&err);
	sw_log_escape(esc, sizeof(esc), want, strlen(want));
	if (sw_store_series_each(st, show_near_cb, &nr, &err) == -1) {
		fprintf(stderr, "slopewatch: no series %s (%s)\n", esc,
		    err.msg);
		return;
	}
	if (nr.n == 0) {
		fprintf(stderr, "slopewatch: no series %s; the store has no "
		    "series yet\n", esc);
		return;
	}
	fprintf(stderr, "slopewatch: no series %s; known series:", esc);
	for (i = 0; i < nr.n; i++)
		fprintf(stderr, "%s %s", i > 0 ? "," : "", nr.name[i]);
	if (nr.total > nr.n)
		fprintf(stderr, " (and %zu more)", nr.total - nr.n);
	fputc('\n', stderr);
}

static int
show_events(struct sw_store *st, const char *name, struct show_ctx *c,
    int64_t since)
{
	struct show_ev_chunk	*ch;
	struct sw_err		 err;
	const char		*dot;
	char			 target[SW_STORE_NAME_MAX + 1];
	size_t			 n;
	int			 i, rc, ret = SW_EXIT_PROBLEM;
	int64_t			 from = since;

	dot = strchr(name, '.');
	n = dot != NULL ? (size_t)(dot - name) : strlen(name);
	if (n == 0 || n > SW_STORE_NAME_MAX) {
		fprintf(stderr, "slopewatch: bad target in \"%s\"\n", name);
		return SW_EXIT_USAGE;
	}
	memcpy(target, name, n);
	target[n] = '\0';
	if (c->fmt == SHOW_CSV)
		fprintf(c->out, "time,target,kind,pid,detail\n");
	else if (c->fmt == SHOW_JSON)
		fputc('[', c->out);
	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		fprintf(stderr, "slopewatch: show: out of memory\n");
		return SW_EXIT_PROBLEM;
	}
	ch->until = c->until;
	ch->after_ts = INT64_MIN;
	sw_err_clear(&err);
	for (;;) {
		rc = sw_store_events_each(st, target, from, show_ev_collect, ch,
		    &err);
		if (rc != 0 && rc != SHOW_STOP) {
			if (err.set)
				fprintf(stderr, "slopewatch: %s\n", err.msg);
			goto out;
		}
		for (i = 0; i < ch->n; i++)
			if (show_event(c, &ch->ev[i]) == -1)
				goto out;
		if (rc != SHOW_STOP || ch->n < SHOW_EV_CHUNK)
			break;
		from = ch->after_ts = ch->ev[ch->n - 1].ts_ms;
		ch->after_id = ch->ev[ch->n - 1].id;
		show_ev_clear(ch);
	}
	if (c->fmt == SHOW_JSON)
		fputs(c->n > 0 ? "\n]\n" : "]\n", c->out);
	else if (c->fmt == SHOW_TEXT && c->n == 0)
		fprintf(c->out, "no events of %s in the range\n", target);
	ret = SW_EXIT_OK;
out:
	show_ev_clear(ch);
	free(ch);
	return ret;
}

static int
show_samples(struct sw_store *st, const char *name, struct show_ctx *c,
    int64_t since)
{
	struct sw_series_info	 info;
	struct sw_err		 err;
	char			 target[SW_STORE_NAME_MAX + 1];
	char			 metric[SW_STORE_NAME_MAX + 1];
	char			 labels[SW_STORE_LABELS_MAX + 1];
	struct show_chunk	*ch;
	int64_t			 from;
	int			 i, rc;

	sw_err_clear(&err);
	/* a malformed name is a usage error, a read error is not */
	if (sw_series_parse(name, target, sizeof(target), metric,
	    sizeof(metric), labels, sizeof(labels), &err) == -1) {
		fprintf(stderr, "slopewatch: show: %s\n", err.msg);
		return SW_EXIT_USAGE;
	}
	rc = sw_store_series_lookup(st, name, &info, &err);
	if (rc == -1) {
		fprintf(stderr, "slopewatch: %s\n", err.msg);
		return SW_EXIT_PROBLEM;
	}
	if (rc == 0) {
		show_unknown(st, name);
		return SW_EXIT_PROBLEM;
	}
	c->has_unit = show_unit(info.unit, &c->unit);
	if (c->fmt == SHOW_CSV)
		fprintf(c->out, "time,value\n");
	else if (c->fmt == SHOW_JSON)
		fputc('[', c->out);
	if ((ch = malloc(sizeof(*ch))) == NULL) {
		fprintf(stderr, "slopewatch: show: out of memory\n");
		return SW_EXIT_PROBLEM;
	}
	for (from = since;;) {
		ch->n = 0;
		rc = sw_store_samples_each(st, info.id, from, c->until,
		    show_collect, ch, &err);
		if (rc != 0 && rc != SHOW_STOP) {
			if (err.set)
				fprintf(stderr, "slopewatch: %s\n", err.msg);
			free(ch);
			return SW_EXIT_PROBLEM;
		}
		for (i = 0; i < ch->n; i++)
			show_sample(c, ch->ts[i], ch->v[i]);
		if (rc != SHOW_STOP)
			break;
		from = ch->ts[ch->n - 1] + 1;
	}
	free(ch);
	if (c->fmt == SHOW_JSON)
		fputs(c->n > 0 ? "\n]\n" : "]\n", c->out);
	else if (c->fmt == SHOW_TEXT && c->n == 0)
		fprintf(c->out, "no samples of %s in the range\n", name);
	return SW_EXIT_OK;
}

int
sw_cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since",	required_argument,	NULL, 's' },
		{ "until",	required_argument,	NULL, 'u' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "csv",	no_argument,		NULL, 'v' },
		{ "events",	no_argument,		NULL, 'e' },
		{ "db",		required_argument,	NULL, 'd' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "conf",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct show_ctx	 c;
	struct sw_conf	*conf = NULL;
	struct sw_store	*st = NULL;
	const char	*conf_opt = NULL, *db_opt = NULL;
	const char	*since_opt = "1h", *until_opt = NULL;
	long long	 now, since, until;
	int		 ch, events = 0, ret;

	memset(&c, 0, sizeof(c));
	c.out = stdout;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			since_opt = optarg;
			break;
		case 'u':
			until_opt = optarg;
			break;
		case 'j':
		case 'v':
			if (c.fmt != SHOW_TEXT) {
				fprintf(stderr, "slopewatch: show: --json and "
				    "--csv exclude each other\n");
				return SW_EXIT_USAGE;
			}
			c.fmt = ch == 'j' ? SHOW_JSON : SHOW_CSV;
			break;
		case 'e':
			events = 1;
			break;
		case 'd':
			db_opt = optarg;
			break;
		case 'c':
			conf_opt = optarg;
			break;
		case 'h':
			fputs(show_usage, stdout);
			return SW_EXIT_OK;
		default:
			fputs(show_usage, stderr);
			return SW_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "slopewatch: show: %s\n", argc - optind == 0 ?
		    "which series?" : "one series at a time");
		fputs(show_usage, stderr);
		return SW_EXIT_USAGE;
	}
	now = sw_clock_wall_ms();
	if (sw_cli_parse_time(since_opt, now, &since) == -1) {
		fprintf(stderr, "slopewatch: show: --since \"%s\": expected a "
		    "duration (90m, 1d), unix seconds or ms, or RFC 3339\n",
		    since_opt);
		return SW_EXIT_USAGE;
	}
	until = INT64_MAX;
	if (until_opt != NULL && sw_cli_parse_time(until_opt, now, &until)
	    == -1) {
		fprintf(stderr, "slopewatch: show: --until \"%s\": expected a "
		    "duration (90m, 1d), unix seconds or ms, or RFC 3339\n",
		    until_opt);
		return SW_EXIT_USAGE;
	}
	c.until = until;

	if ((ret = sw_cli_open_store(conf_opt, db_opt, &conf, &st)) != 0)
		return ret;
	if (events)
		ret = show_events(st, argv[optind], &c, since);
	else
		ret = show_samples(st, argv[optind], &c, since);
	sw_store_close(st);
	sw_conf_free(conf);
	if (fflush(c.out) == EOF || ferror(c.out)) {
		fprintf(stderr, "slopewatch: show: cannot write output\n");
		return SW_EXIT_PROBLEM;
	}
	return ret;
}
