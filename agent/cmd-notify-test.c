#include "config.h"
/*
 * cmd-notify-test.c: `slopewatch notify-test NAME`, one test message
 * through a notifier of the config, sent at once (not through the outbox)
 * by the same payload builder and HTTP client the agent uses, on a loop
 * run until the answer comes. Prints the HTTP result of each request
 * (PagerDuty: the trigger, then a resolve so no incident stays open; an
 * Alertmanager block: each URL). Exit 0 when every request succeeded as
 * the service defines success, 1 otherwise, 2 on usage/config errors.
 *
 * Secrets never show: URLs print as scheme://host/<redacted> and every
 * error text is scrubbed of the notifier's URL, key and secret.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/log.h"
#include "slopewatch/loop.h"
#include "slopewatch/notify.h"
#include "slopewatch/outbox.h"
#include "slopewatch/store.h"
#include "slopewatch/text.h"
#include "slopewatch/units.h"

static const char nt_usage[] =
    "usage: slopewatch notify-test NAME [-c FILE] [--event firing|resolved]\n"
    "                              [--timeout DURATION] [--outbox ...]\n"
    "       slopewatch notify-test --status [-c FILE]\n"
    "\n"
    "Sends a test message through the notifier NAME of the config and\n"
    "prints the HTTP result. PagerDuty gets a trigger and then its resolve.\n"
    "Exit status 0 when the service accepted every request, 1 otherwise.\n"
    "\n"
    "  --event E    firing (default) or resolved\n"
    "  --timeout D  per request, default 30s (with --outbox: in all)\n"
    "  -c FILE      the config\n"
    "\n"
    "Through the durable outbox (the config's database; what the agent\n"
    "does, retries included):\n"
    "  --outbox        queue the message(s) and deliver them until none\n"
    "                  waits or the timeout passes; print each message\n"
    "  --count N       queue N messages (targets example-1..N)\n"
    "  --deliver-only  queue nothing; deliver what waits for NAME\n"
    "  --backoff D     first retry delay (default 5s; for tests)\n"
    "  --max-age D     give up after (default 24h)\n"
    "  --group-wait D  the grouping window (default none here)\n"
    "  --status        (no NAME) print the outbox of every notifier\n";

struct nt_wait {
	enum sw_notify_type	 type;
	int			 done;
	long			 status;
	enum sw_outbox_verdict	 verdict;
	char			 why[SW_OUTBOX_ERROR_MAX];
	double			 total_s;
	char			 body[128];
};

static void
nt_done(const struct sw_http_result *res, void *arg)
{
	struct nt_wait	*w = arg;
	const char	*b;
	size_t		 n;

	w->done = 1;
	w->status = res->status;
	w->total_s = res->total_s;
	b = res->body != NULL ? sw_buf_str(res->body) : "";
	n = strlen(b);
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		n--;
	sw_log_escape(w->body, sizeof(w->body), b, n > 80 ? 80 : n);
	/* judged as the outbox judges it */
	w->verdict = sw_notify_judge(w->type, res, w->why, sizeof(w->why));
}

/* Sends one event through d; prints the result; 0 ok, 1 not. */
static int
nt_send(struct sw_loop *loop, struct sw_http *http,
    const struct sw_notify_dest *d, const char *event, int64_t timeout_ms)
{
	struct sw_buf		 doc;
	struct sw_outbox_request req;
	struct sw_outbox_wire	 w;
	struct sw_http_req	 hr;
	struct sw_http_xfer	*x;
	struct sw_err		 err;
	struct nt_wait		 wt;
	json_t			*j = NULL;
	json_error_t		 je;
	char			 key[64], shown[256];
	int64_t			 now, deadline;
	int			 ret = 1;

	sw_outbox_redact_url(shown, sizeof(shown), d->url);
	sw_buf_init(&doc, SW_OUTBOX_DOC_MAX);
	memset(&req, 0, sizeof(req));
	sw_buf_init(&req.body, SW_OUTBOX_BODY_MAX);
	memset(&wt, 0, sizeof(wt));
	wt.type = d->type;
	sw_err_clear(&err);
	now = sw_clock_wall_ms();
	snprintf(key, sizeof(key), "msg_test%" PRIx64 "%lx", now,
	    (unsigned long)getpid());
	if (sw_notify_test_doc(d->host, event, now, &doc, &err) == -1 ||
	    (j = json_loads(sw_buf_str(&doc), 0, &je)) == NULL) {
		if (!err.set)
			sw_err_set(&err, "test document: %s", je.text);
		goto fail;
	}
	if (sw_notify_render(d, &j, 1, key, now, 0, &req, &err) == -1)
		goto fail;
	sw_outbox_wire(&req, key, timeout_ms, &w, &hr);
	if ((x = sw_http_start(http, &hr, nt_done, &wt, &err)) == NULL)
		goto fail;
	deadline = sw_clock_mono_us() + (timeout_ms + 5000) * 1000;
	while (!wt.done && sw_clock_mono_us() < deadline)
		if (sw_loop_once(loop, 100000, &err) == -1)
			break;
	if (!wt.done) {
		sw_http_cancel(x);
		sw_err_set(&err, "no answer");
		goto fail;
	}
	ret = 0;
	goto out;
fail:
	sw_notify_scrub(d, err.msg, sizeof(err.msg));
	printf("%s (%s, %s %s): failed: %s\n", d->name, shown,
	    sw_notify_type_name(d->type), event, err.msg);
	ret = 1;
	goto done;
out:
	sw_notify_scrub(d, wt.why, sizeof(wt.why));
	sw_notify_scrub(d, wt.body, sizeof(wt.body));
	if (wt.status == 0) {
		printf("%s (%s, %s %s): failed: %s\n", d->name, shown,
		    sw_notify_type_name(d->type), event, wt.why);
		ret = 1;
	} else if (wt.verdict == SW_OUTBOX_OK) {
		printf("%s (%s, %s %s): HTTP %ld in %.3f s: %s\n", d->name,
		    shown, sw_notify_type_name(d->type), event, wt.status,
		    wt.total_s, wt.body[0] != '\0' ? wt.body : "(empty body)");
		ret = 0;
	} else {
		printf("%s (%s, %s %s): HTTP %ld: %s (%s)\n", d->name, shown,
		    sw_notify_type_name(d->type), event, wt.status, wt.why,
		    wt.verdict == SW_OUTBOX_RETRY ? "would be retried" :
		    "permanent failure");
		ret = 1;
	}
done:
	json_decref(j);
	sw_buf_release(&doc);
	if (req.body.data != NULL)	/* it may hold a routing key */
		memset(req.body.data, 0, req.body.len);
	sw_buf_release(&req.body);
	fflush(stdout);
	return ret;
}

/* --outbox: the rows of notifier name (its destinations) after id from. */
struct nt_rows {
	const char	*name;
	int64_t		 from;
	int64_t		 now;
	int		 waiting, delivered, failed, print;
};

static int
nt_mine(const char *notifier, const char *name)
{
	size_t	n = strlen(name);

	return strncmp(notifier, name, n) == 0 && (notifier[n] == '\0' ||
	    notifier[n] == '#');
}

static int
nt_rows_cb(const struct sw_outbox_row *r, void *arg)
{
	struct nt_rows	*nr = arg;
	char		 e[SW_OUTBOX_ERROR_MAX], d[32];

	if (r->id <= nr->from || !nt_mine(r->notifier, nr->name))
		return 0;
	if (strcmp(r->state, "pending") == 0)
		nr->waiting++;
	else if (strcmp(r->state, "delivered") == 0)
		nr->delivered++;
	else
		nr->failed++;
	if (!nr->print)
		return 0;
	sw_log_escape(e, sizeof(e), r->last_error, strlen(r->last_error));
	if (strcmp(r->state, "pending") == 0)
		printf("%s message %" PRId64 " %s (%s): pending, %" PRId64
		    " attempts, next in %s%s%s\n", r->notifier, r->id, r->event,
		    r->msg_key, r->attempts, sw_fmt_duration_ms(d, sizeof(d),
		    r->next_ms > nr->now ? r->next_ms - nr->now : 0),
		    e[0] != '\0' ? ", last error: " : "", e);
	else
		printf("%s message %" PRId64 " %s (%s): %s, HTTP %ld after %"
		    PRId64 " attempts%s%s\n", r->notifier, r->id, r->event,
		    r->msg_key, r->state, r->last_status, r->attempts,
		    e[0] != '\0' ? ": " : "", e);
	return 0;
}

/* Enqueues count test messages for cn through the real dispatcher and
 * outbox in the config's database, and delivers until none of them waits
 * (or the timeout). */
static int
nt_outbox(struct sw_conf *conf, const struct sw_conf_notify *cn,
    const char *event, int count, int deliver_only, int64_t timeout_ms,
    int64_t backoff_ms, int64_t max_age_ms, int64_t group_wait_ms)
{
	struct sw_store		*st = NULL;
	struct sw_loop		*loop = NULL;
	struct sw_http		*http = NULL;
	struct sw_notify	*nt = NULL;
	struct sw_notify_opts	 opts;
	struct sw_notify_alert	 a;
	struct sw_value		 v;
	struct sw_strlist	 only;
	struct nt_rows		 nr;
	struct sw_err		 err;
	sqlite3			*db;
	sqlite3_stmt		*q;
	char			 target[64], summary[128];
	char			*names[1];
	int64_t			 deadline, now;
	int			 i, rows = 0, status = SW_EXIT_PROBLEM;

	sw_err_clear(&err);
	if (sw_store_open(conf->data, 0, &st, &err) == -1 ||
	    (loop = sw_loop_new(&err)) == NULL ||
	    (http = sw_http_new(loop, &err)) == NULL) {
		fprintf(stderr, "slopewatch notify-test: %s\n", err.msg);
		goto out;
	}
	db = sw_store_db(st);
	memset(&opts, 0, sizeof(opts));
	opts.only = cn->name;
	opts.group_wait_ms = group_wait_ms > 0 ? group_wait_ms : 1;
	opts.outbox.backoff_base_ms = backoff_ms;
	opts.outbox.max_age_ms = max_age_ms;
	if (sw_notify_new(conf, db, loop, http, &opts, &nt, &err) == -1) {
		fprintf(stderr, "slopewatch notify-test: %s\n", err.msg);
		goto out;
	}
	memset(&nr, 0, sizeof(nr));
	nr.name = cn->name;
	if (deliver_only) {
		/* only what waits now counts (not old failures) */
		if (sqlite3_prepare_v2(db, "SELECT coalesce(min(id), 0) - 1"
		    " FROM outbox WHERE state = 'pending' AND (notifier = ?1"
		    " OR notifier LIKE ?1 || '#%')", -1, &q, NULL) ==
		    SQLITE_OK) {
			sqlite3_bind_text(q, 1, cn->name, -1, SQLITE_STATIC);
			if (sqlite3_step(q) == SQLITE_ROW)
				nr.from = sqlite3_column_int64(q, 0);
			sqlite3_finalize(q);
		}
		if (nr.from < 0) {
			printf("%s: nothing waits\n", cn->name);
			status = SW_EXIT_OK;
			goto out;
		}
	} else {
		if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM"
		    " outbox", -1, &q, NULL) == SQLITE_OK) {
			if (sqlite3_step(q) == SQLITE_ROW)
				nr.from = sqlite3_column_int64(q, 0);
			sqlite3_finalize(q);
		}
		names[0] = (char *)cn->name;
		only.v = names;
		only.n = 1;
		memset(&v, 0, sizeof(v));
		v.ok = 1;
		v.is_bool = 1;
		v.v = 1;
		v.lhs = 812e6;
		v.rhs = 500e6;
		v.lhs_unit = SW_UNIT_BYTES;
		snprintf(v.lhs_text, sizeof(v.lhs_text), "last(example.rss)");
		if (sw_notify_begin(nt, &err) == -1) {
			fprintf(stderr, "slopewatch notify-test: %s\n",
			    err.msg);
			goto out;
		}
		for (i = 0; i < count; i++) {
			memset(&a, 0, sizeof(a));
			snprintf(target, sizeof(target), "example-%d", i + 1);
			snprintf(summary, sizeof(summary), "slopewatch test "
			    "message %d of %d", i + 1, count);
			a.rule = "slopewatch-test";
			a.event = event;
			a.severity = SW_SEV_INFO;
			a.summary = summary;
			a.target = target;
			a.time_ms = sw_clock_wall_ms();
			a.active_since_ms = a.time_ms;
			a.value = &v;
			a.notify = &only;
			a.pid = (long)getpid();
			a.test = 1;
			rows += sw_notify_route(nt, &a, &err) > 0;
		}
		if (sw_notify_commit(nt, &err) == -1) {
			fprintf(stderr, "slopewatch notify-test: %s\n",
			    err.msg);
			goto out;
		}
		if (rows == 0) {
			printf("%s: nothing queued (silenced, or a resolve for "
			    "an alert it was not told about)\n", cn->name);
			goto out;
		}
		printf("%s: queued %d message%s\n", cn->name, rows,
		    rows == 1 ? "" : "s");
		fflush(stdout);
	}
	deadline = sw_clock_mono_us() + timeout_ms * 1000;
	for (;;) {
		nr.waiting = nr.delivered = nr.failed = 0;
		if (sw_outbox_rows_each(db, NULL, nt_rows_cb, &nr, &err) == -1) {
			fprintf(stderr, "slopewatch notify-test: %s\n",
			    err.msg);
			goto out;
		}
		if (nr.waiting == 0 || sw_clock_mono_us() >= deadline)
			break;
		if (sw_loop_once(loop, 100000, &err) == -1)
			break;
	}
	now = sw_clock_wall_ms();
	nr.now = now;
	nr.print = 1;
	nr.waiting = nr.delivered = nr.failed = 0;
	sw_outbox_rows_each(db, NULL, nt_rows_cb, &nr, &err);
	printf("%s: %d delivered, %d failed, %d waiting\n", cn->name,
	    nr.delivered, nr.failed, nr.waiting);
	status = nr.failed == 0 && nr.waiting == 0 ? SW_EXIT_OK :
	    SW_EXIT_PROBLEM;
out:
	fflush(stdout);
	sw_notify_free(nt);
	sw_http_free(http);
	sw_loop_free(loop);
	sw_store_close(st);
	return status;
}

int
sw_cmd_notify_test(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "event",	required_argument,	NULL, 'e' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "outbox",	no_argument,		NULL, 'o' },
		{ "deliver-only", no_argument,		NULL, 'D' },
		{ "count",	required_argument,	NULL, 'n' },
		{ "backoff",	required_argument,	NULL, 'b' },
		{ "max-age",	required_argument,	NULL, 'm' },
		{ "group-wait",	required_argument,	NULL, 'g' },
		{ "status",	no_argument,		NULL, 's' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char			*conf_opt = NULL, *event = NULL;
	const struct sw_conf_notify	*cn;
	struct sw_conf			*conf = NULL;
	struct sw_loop			*loop = NULL;
	struct sw_http			*http = NULL;
	struct sw_notify_dest		 d;
	struct sw_text_suggest		 sg;
	struct sw_err			 err;
	char				 host[256], ext[512];
	int64_t				 timeout_ms = 30000, backoff_ms = 0;
	int64_t				 max_age_ms = 0, n64;
	int64_t				 group_wait_ms = 0;
	int				 c, i, nurls, status = SW_EXIT_OK;
	int				 outbox = 0, deliver_only = 0, count = 1;
	int				 show_status = 0;

	while ((c = getopt_long(argc, argv, "c:e:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf_opt = optarg;
			break;
		case 'e':
			if (strcmp(optarg, "firing") != 0 &&
			    strcmp(optarg, "resolved") != 0) {
				fprintf(stderr, "slopewatch notify-test: "
				    "--event is firing or resolved\n");
				return SW_EXIT_USAGE;
			}
			event = optarg;
			break;
		case 't':
			if (sw_parse_duration_ms(optarg, (size_t)-1,
			    &timeout_ms) == -1 || timeout_ms <= 0) {
				fprintf(stderr, "slopewatch notify-test: bad "
				    "--timeout \"%s\"\n", optarg);
				return SW_EXIT_USAGE;
			}
			break;
		case 'o':
			outbox = 1;
			break;
		case 'D':
			outbox = deliver_only = 1;
			break;
		case 's':
			show_status = 1;
			break;
		case 'n':
			if (sw_parse_int64(optarg, (size_t)-1, &n64) == -1 ||
			    n64 < 1 || n64 > 1000) {
				fprintf(stderr, "slopewatch notify-test: "
				    "--count is 1 to 1000\n");
				return SW_EXIT_USAGE;
			}
			count = (int)n64;
			break;
		case 'b':
		case 'm':
		case 'g':
			if (sw_parse_duration_ms(optarg, (size_t)-1, &n64) ==
			    -1 || n64 <= 0) {
				fprintf(stderr, "slopewatch notify-test: bad "
				    "duration \"%s\"\n", optarg);
				return SW_EXIT_USAGE;
			}
			if (c == 'b')
				backoff_ms = n64;
			else if (c == 'g')
				group_wait_ms = n64;
			else
				max_age_ms = n64;
			break;
		case 'h':
			fputs(nt_usage, stdout);
			return SW_EXIT_OK;
		default:
			fputs(nt_usage, stderr);
			return SW_EXIT_USAGE;
		}
	}
	if (show_status && optind == argc) {
		struct sw_store	*st;

		if ((status = sw_cli_open_store(conf_opt, NULL, &conf, &st)) !=
		    SW_EXIT_OK)
			return status;
		sw_err_clear(&err);
		if (sw_notify_status_print(sw_store_db(st), stdout,
		    sw_clock_wall_ms(), &err) == -1) {
			fprintf(stderr, "slopewatch notify-test: %s\n",
			    err.msg);
			status = SW_EXIT_PROBLEM;
		}
		sw_store_close(st);
		sw_conf_free(conf);
		return status;
	}
	if (optind + 1 != argc) {
		fputs(nt_usage, stderr);
		return SW_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (sw_conf_load(sw_cli_conf_path(conf_opt), &conf,
	    sw_conf_diag_stderr, NULL, NULL) == -1)
		return SW_EXIT_USAGE;
	sw_text_suggest_init(&sg, argv[optind], SW_TEXT_SKIP_SAME);
	for (cn = conf->notifiers; cn != NULL; cn = cn->next) {
		if (strcmp(cn->name, argv[optind]) == 0)
			break;
		sw_text_suggest_try(&sg, cn->name);
	}
	if (cn == NULL) {
		fprintf(stderr, "slopewatch notify-test: no notifier \"%s\" in "
		    "%s%s%s%s\n", argv[optind], conf->path, sg.best != NULL &&
		    sg.dist <= 2 ? "; did you mean \"" : "", sg.best != NULL &&
		    sg.dist <= 2 ? sg.best : "", sg.best != NULL &&
		    sg.dist <= 2 ? "\"?" : "");
		status = SW_EXIT_USAGE;
		goto out;
	}
	if (sw_notify_type_of(cn->type) == SW_NOTIFY_LOG) {
		printf("%s (log): writes to the agent's log; nothing to send\n",
		    cn->name);
		goto out;
	}
	if (outbox) {
		status = nt_outbox(conf, cn, event != NULL ? event : "firing",
		    count, deliver_only, timeout_ms, backoff_ms, max_age_ms,
		    group_wait_ms);
		goto out;
	}
	if (gethostname(host, sizeof(host) - 1) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (conf->listen != NULL)
		snprintf(ext, sizeof(ext), "http://%s", conf->listen);
	else
		snprintf(ext, sizeof(ext), "http://%s", host);
	sw_err_clear(&err);
	if ((loop = sw_loop_new(&err)) == NULL ||
	    (http = sw_http_new(loop, &err)) == NULL) {
		fprintf(stderr, "slopewatch notify-test: %s\n", err.msg);
		status = SW_EXIT_PROBLEM;
		goto out;
	}
	nurls = cn->urls.n > 1 ? cn->urls.n : 1;
	for (i = 0; i < nurls; i++) {
		sw_err_clear(&err);
		if (sw_notify_dest_init(&d, cn, i, host, ext, 0, &err) == -1) {
			fprintf(stderr, "slopewatch notify-test: %s\n",
			    err.msg);
			status = SW_EXIT_USAGE;
			goto out;
		}
		if (event != NULL) {
			if (nt_send(loop, http, &d, event, timeout_ms) != 0)
				status = SW_EXIT_PROBLEM;
			continue;
		}
		if (nt_send(loop, http, &d, "firing", timeout_ms) != 0)
			status = SW_EXIT_PROBLEM;
		else if (d.type == SW_NOTIFY_PAGERDUTY &&
		    nt_send(loop, http, &d, "resolved", timeout_ms) != 0)
			status = SW_EXIT_PROBLEM;
	}
out:
	sw_http_free(http);
	sw_loop_free(loop);
	sw_conf_free(conf);
	return status;
}
