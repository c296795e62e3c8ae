#include "config.h"
/*
 * test_scrape.c: the scrape source (lib/source-scrape.c) against a fake HTTP
 * client and a recording sink. This file defines sw_http_start,
 * sw_http_cancel, sw_http_fail_name and sw_target_done itself, so the
 * library's http.o and target.o are not linked in: each test starts a
 * collection, hands the source a response of its choice and checks what
 * reached the sink. The real HTTP path is covered by tests/e2e/scrape.sh.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/err.h"
#include "slopewatch/http.h"
#include "slopewatch/source.h"
#include "slopewatch/units.h"

/* --- fakes --- */

static struct {
	sw_http_done_cb	 cb;
	void		*arg;
	int		 started;
	int		 cancelled;
	int		 fail_start;
	char		 url[256];
	size_t		 max_body;
	int		 has_accept;
} fake;

struct sw_http_xfer {
	int	dummy;
};
static struct sw_http_xfer fake_xfer;

struct sw_http_xfer *
sw_http_start(struct sw_http *http, const struct sw_http_req *req,
    sw_http_done_cb cb, void *arg, struct sw_err *err)
{
	int	i;

	(void)http;
	if (fake.fail_start) {
		sw_err_set(err, "cannot start");
		return NULL;
	}
	fake.cb = cb;
	fake.arg = arg;
	fake.started++;
	snprintf(fake.url, sizeof(fake.url), "%s", req->url);
	fake.max_body = req->max_body;
	fake.has_accept = 0;
	for (i = 0; req->headers != NULL && i < req->headers->n; i++)
		if (strncmp(req->headers->v[i], "Accept: text/plain", 18) == 0)
			fake.has_accept = 1;
	return &fake_xfer;
}

void
sw_http_cancel(struct sw_http_xfer *x)
{
	assert_ptr_equal(x, &fake_xfer);
	fake.cancelled++;
}

const char *
sw_http_fail_name(enum sw_http_fail f)
{
	return f == SW_HTTP_REFUSED ? "refused" : "other";
}

static struct {
	int	calls;
	int	ok;
	char	error[512];
} done;

void
sw_target_done(struct sw_target *t, int ok, const char *error)
{
	t->busy = 0;
	done.calls++;
	done.ok = ok;
	snprintf(done.error, sizeof(done.error), "%s",
	    error != NULL ? error : "");
}

/* --- recording sink --- */

struct rec {
	char	line[640];
};

static struct {
	struct rec	v[256];
	int		n;
} sink;

static void
sink_sample(void *arg, const char *target, const char *metric,
    const char *labels, const char *unit, int64_t ts_ms, double v)
{
	(void)arg;
	assert_true(sink.n < 256);
	snprintf(sink.v[sink.n++].line, sizeof(sink.v[0].line),
	    "%s.%s{%s} %s %lld %.17g", target, metric, labels,
	    *unit != '\0' ? unit : "-", (long long)ts_ms, v);
}

/* The recorded line for target.metric{labels}, or NULL. */
static const char *
sink_find(const char *series)
{
	int	i;
	size_t	n = strlen(series);

	for (i = 0; i < sink.n; i++)
		if (strncmp(sink.v[i].line, series, n) == 0 &&
		    sink.v[i].line[n] == ' ')
			return sink.v[i].line + n + 1;
	return NULL;
}

/* --- fixture --- */

struct fix {
	struct sw_conf_target	conf;
	struct sw_targets_ctx	ctx;
	struct sw_target	t;
	char			*keep[4];
};

static void
fix_init(struct fix *f, const char *const *keep, int nkeep)
{
	struct sw_err	err;
	int		i;

	memset(&fake, 0, sizeof(fake));
	memset(&done, 0, sizeof(done));
	memset(&sink, 0, sizeof(sink));
	memset(f, 0, sizeof(*f));
	f->conf.name = (char *)"app";
	f->conf.kind = SW_TARGET_SCRAPE;
	f->conf.every_ms = 1000;
	f->conf.u.scrape.url = (char *)"http://127.0.0.1:1/metrics";
	for (i = 0; i < nkeep; i++)
		f->keep[i] = (char *)keep[i];
	f->conf.u.scrape.keep.v = f->keep;
	f->conf.u.scrape.keep.n = nkeep;
	f->ctx.http = (struct sw_http *)&fake_xfer;	/* never dereferenced */
	f->ctx.sink.sample = sink_sample;
	f->t.conf = &f->conf;
	f->t.ctx = &f->ctx;
	f->t.ops = &sw_source_scrape;
	sw_err_clear(&err);
	assert_int_equal(sw_source_scrape.init(&f->t, &err), 0);
	sw_clock_set_fake(1000000, 1700000000000LL);
}

static void
fix_release(struct fix *f)
{
	sw_source_scrape.free(&f->t);
	assert_null(f->t.impl);
	sw_clock_set_fake(-1, 0);
}

/* One collection answered with status and body. */
static void
scrape(struct fix *f, enum sw_http_fail fail, long status, const char *body)
{
	struct sw_http_result	res;
	struct sw_buf		b;

	sink.n = 0;
	done.calls = 0;
	f->t.busy = 1;
	sw_source_scrape.collect(&f->t);
	assert_int_equal(fake.started, 1);
	fake.started = 0;
	sw_buf_init(&b, 1 << 20);
	if (body != NULL)
		assert_int_equal(sw_buf_adds(&b, body), 0);
	memset(&res, 0, sizeof(res));
	res.fail = fail;
	res.status = status;
	res.total_s = 0.25;
	res.body = &b;
	res.retry_after_ms = -1;
	if (fail == SW_HTTP_REFUSED)
		snprintf(res.error, sizeof(res.error), "connection\nrefused");
	fake.cb(&res, fake.arg);
	sw_buf_release(&b);
	assert_int_equal(done.calls, 1);
}

static const char text[] =
    "# TYPE nodejs_heap_space_size_used_bytes gauge\n"
    "nodejs_heap_space_size_used_bytes{space=\"old\"} 4120752\n"
    "nodejs_heap_space_size_used_bytes{space=\"new\"} 1000\n"
    "nodejs_heap_space_size_used_bytes{space=\"old\"} 99\n"	/* dup */
    "process_resident_memory_bytes 5e7 1699999990000\n"
    "# TYPE http_request_duration_seconds histogram\n"
    "http_request_duration_seconds_bucket{le=\"0.1\",route=\"/a\\\"b\"} 3\n"
    "http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/a\\\"b\"} 4\n"
    "http_request_duration_seconds_sum{route=\"/a\\\"b\"} 1.5\n"
    "http_request_duration_seconds_count{route=\"/a\\\"b\"} 4\n"
    "process_cpu_seconds_total 12\n"
    "http_requests_total 7\n"
    "{\"nodejs_heap.x\"} 1\n";

static void
test_default_keep(void **state)
{
	struct fix	f;

	(void)state;
	fix_init(&f, NULL, 0);
	scrape(&f, SW_HTTP_OK, 200, text);
	assert_int_equal(done.ok, 1);
	assert_true(fake.has_accept);
	assert_int_equal(fake.max_body, 4 * 1024 * 1024);
	assert_string_equal(fake.url, "http://127.0.0.1:1/metrics");

	/* the first of a duplicate series wins */
	assert_string_equal(sink_find(
	    "app.nodejs_heap_space_size_used_bytes{space=\"old\"}"),
	    "bytes 1700000000000 4120752");
	/* a sample's own timestamp is kept when near our clock, and
	 * replaced by the scrape time when it is far off (here 3 years) */
	assert_string_equal(sink_find("app.process_resident_memory_bytes{}"),
	    "bytes 1699999990000 50000000");
	assert_string_equal(sink_find("app.http_request_duration_seconds_bucket"
	    "{le=\"0.1\",route=\"/a\\\"b\"}"), "- 1700000000000 3");
	assert_string_equal(sink_find("app.http_request_duration_seconds_bucket"
	    "{le=\"+Inf\",route=\"/a\\\"b\"}"), "- 1700000000000 4");
	assert_string_equal(sink_find("app.http_request_duration_seconds_sum"
	    "{route=\"/a\\\"b\"}"), "seconds 1700000000000 1.5");
	assert_string_equal(sink_find("app.http_request_duration_seconds_count"
	    "{route=\"/a\\\"b\"}"), "- 1700000000000 4");
	/* not in the default keep list; non-legacy names skipped */
	assert_null(sink_find("app.process_cpu_seconds_total{}"));
	assert_null(sink_find("app.http_requests_total{}"));
	assert_null(sink_find("app.nodejs_heap.x{}"));
	/* the scrape's own series */
	assert_string_equal(sink_find("app.up{}"), "- 1700000000000 1");
	assert_string_equal(sink_find("app.scrape_samples{}"),
	    "- 1700000000000 11");
	assert_string_equal(sink_find("app.scrape_duration_seconds{}"),
	    "seconds 1700000000000 0.25");
	assert_int_equal(sink.n, 10);
	fix_release(&f);
}

static void
test_keep_globs(void **state)
{
	const char *const	keep[] = { "*_total", "http_request_duration_seconds" };
	struct fix		f;

	(void)state;
	fix_init(&f, keep, 2);
	scrape(&f, SW_HTTP_OK, 200, text);
	assert_int_equal(done.ok, 1);
	assert_string_equal(sink_find("app.process_cpu_seconds_total{}"),
	    "seconds 1700000000000 12");
	assert_string_equal(sink_find("app.http_requests_total{}"),
	    "- 1700000000000 7");
	/* the family name keeps the histogram's samples */
	assert_non_null(sink_find("app.http_request_duration_seconds_sum"
	    "{route=\"/a\\\"b\"}"));
	assert_null(sink_find(
	    "app.nodejs_heap_space_size_used_bytes{space=\"old\"}"));
	assert_int_equal(sink.n, 6 + 3);
	fix_release(&f);
}

static void
test_malformed_stores_nothing(void **state)
{
	struct fix	f;
	char		bad[sizeof(text) + 64];

	(void)state;
	fix_init(&f, NULL, 0);
	snprintf(bad, sizeof(bad), "%sbroken{ 1\n", text);
	scrape(&f, SW_HTTP_OK, 200, bad);
	assert_int_equal(done.ok, 0);
	assert_string_equal(done.error, "metrics text: line 14:9: "
	    "bad label name starting with '1'");
	/* only up 0: none of the samples before the bad line */
	assert_int_equal(sink.n, 1);
	assert_string_equal(sink_find("app.up{}"), "- 1700000000000 0");

	/* a truncated body */
	scrape(&f, SW_HTTP_OK, 200, "a_duration_seconds_count 1\nb_dur");
	assert_int_equal(done.ok, 0);
	assert_string_equal(done.error, "metrics text: line 2:6: last line "
	    "does not end with a newline");
	assert_int_equal(sink.n, 1);

	/* recovers on the next good scrape */
	scrape(&f, SW_HTTP_OK, 200, text);
	assert_int_equal(done.ok, 1);
	assert_int_equal(sink.n, 10);
	fix_release(&f);
}

static void
test_http_failures(void **state)
{
	struct fix	f;

	(void)state;
	fix_init(&f, NULL, 0);
	scrape(&f, SW_HTTP_REFUSED, 0, NULL);
	assert_int_equal(done.ok, 0);
	/* outside text escaped */
	assert_string_equal(done.error, "refused: connection\\nrefused");
	assert_string_equal(sink_find("app.up{}"), "- 1700000000000 0");

	scrape(&f, SW_HTTP_OK, 503, "a 1\n");
	assert_int_equal(done.ok, 0);
	assert_string_equal(done.error, "HTTP status 503");
	assert_int_equal(sink.n, 1);

	/* an empty body is a good, empty scrape */
	scrape(&f, SW_HTTP_OK, 200, "");
	assert_int_equal(done.ok, 1);
	assert_string_equal(sink_find("app.scrape_samples{}"),
	    "- 1700000000000 0");

	/* cannot even start */
	fake.fail_start = 1;
	done.calls = 0;
	sink.n = 0;
	sw_source_scrape.collect(&f.t);
	assert_int_equal(done.calls, 1);
	assert_int_equal(done.ok, 0);
	assert_string_equal(done.error, "cannot start");
	fix_release(&f);
}

static void
test_free_cancels(void **state)
{
	struct fix	f;

	(void)state;
	fix_init(&f, NULL, 0);
	sw_source_scrape.collect(&f.t);
	assert_int_equal(fake.started, 1);
	fix_release(&f);
	assert_int_equal(fake.cancelled, 1);
	assert_int_equal(done.calls, 0);
}

static void
test_init_rejects_bad_url(void **state)
{
	struct sw_conf_target	conf;
	struct sw_target	t;
	struct sw_err		err;

	(void)state;
	memset(&conf, 0, sizeof(conf));
	memset(&t, 0, sizeof(t));
	conf.name = (char *)"app";
	conf.kind = SW_TARGET_SCRAPE;
	conf.u.scrape.url = (char *)"ftp://x/metrics";
	t.conf = &conf;
	sw_err_clear(&err);
	assert_int_equal(sw_source_scrape.init(&t, &err), -1);
	assert_non_null(strstr(err.msg, "http://"));
	assert_null(t.impl);
}

/* A peer's timestamp far from our clock (3 years back, a day ahead) is
 * replaced by the scrape time; one within the window is kept. */
static void
test_far_timestamps(void **state)
{
	struct fix	f;

	(void)state;
	fix_init(&f, NULL, 0);
	scrape(&f, SW_HTTP_OK, 200,
	    "process_resident_memory_bytes 1 1600000000000\n"
	    "nodejs_heap_size_used_bytes 2 1700086400000\n"
	    "nodejs_heap_size_total_bytes 3 1699999000000\n");
	assert_int_equal(done.ok, 1);
	assert_string_equal(sink_find("app.process_resident_memory_bytes{}"),
	    "bytes 1700000000000 1");
	assert_string_equal(sink_find("app.nodejs_heap_size_used_bytes{}"),
	    "bytes 1700000000000 2");
	assert_string_equal(sink_find("app.nodejs_heap_size_total_bytes{}"),
	    "bytes 1699999000000 3");
	fix_release(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_keep),
		cmocka_unit_test(test_far_timestamps),
		cmocka_unit_test(test_keep_globs),
		cmocka_unit_test(test_malformed_stores_nothing),
		cmocka_unit_test(test_http_failures),
		cmocka_unit_test(test_free_cancels),
		cmocka_unit_test(test_init_rejects_bad_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
