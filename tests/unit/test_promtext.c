#include "config.h"
/*
 * test_promtext.c: the Prometheus text parser (lib/promtext.c).
 *
 * Golden files under tests/fixtures/prom/: promclient.txt is real prom-client
 * output (gen-promclient.js); bad/NAME.txt must fail with exactly the message
 * in bad/NAME.err; good/NAME.txt must give exactly the samples listed in
 * good/NAME.out. Every input is handed to the parser in a buffer of exactly
 * its length, without a NUL, so that valgrind and ASan catch any read past
 * len. The fuzz corpus (tests/fuzz/corpus-promtext/) is replayed here too, so
 * that what the fuzzer once found stays fixed in ordinary builds.
 */
#include <dirent.h>
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
#include "slopewatch/err.h"
#include "slopewatch/promtext.h"

#ifndef SW_SRCDIR
#define SW_SRCDIR "."
#endif

static const char *
srcdir(void)
{
	const char	*s = getenv("top_srcdir");

	return s != NULL && *s != '\0' ? s : SW_SRCDIR;
}

/* Reads a file into an exact-size allocation (no NUL after it). */
static char *
read_exact(const char *path, size_t *lenp)
{
	struct sw_buf	 b;
	struct sw_err	 err;
	char		*p;

	sw_buf_init(&b, 16 * 1024 * 1024);
	sw_err_clear(&err);
	if (sw_buf_read_file(&b, path, &err) == -1)
		fail_msg("%s: %s", path, err.msg);
	*lenp = b.len;
	p = malloc(b.len > 0 ? b.len : 1);
	assert_non_null(p);
	if (b.len > 0)
		memcpy(p, b.data, b.len);
	sw_buf_release(&b);
	return p;
}

/* Parses a C string from an exact-size copy. */
static int
parse_str(const char *text, sw_prom_sample_cb cb, void *arg,
    struct sw_err *err)
{
	size_t	 n = strlen(text);
	char	*p = malloc(n > 0 ? n : 1);
	int	 r;

	assert_non_null(p);
	memcpy(p, text, n);
	sw_err_clear(err);
	r = sw_prom_parse(p, n, cb, arg, err);
	free(p);
	return r;
}

/* Writes each sample as "name|labels|value|ts|type|family|line\n". */
static void
fmt_value(struct sw_buf *b, double v)
{
	if (isnan(v))
		sw_buf_adds(b, "NaN");
	else if (isinf(v))
		sw_buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	else
		sw_buf_addf(b, "%.17g", v);
}

static int
collect_cb(const struct sw_prom_sample *s, void *arg)
{
	struct sw_buf	*b = arg;

	sw_buf_addf(b, "%s|%s|", s->name, s->labels);
	fmt_value(b, s->value);
	if (s->has_ts)
		sw_buf_addf(b, "|%lld", (long long)s->ts_ms);
	else
		sw_buf_adds(b, "|");
	sw_buf_addf(b, "|%s|%s|%d\n", sw_prom_type_name(s->type), s->family,
	    s->line);
	return 0;
}

/* Sorted names of the files in dir ending with suffix. */
static int
list_dir(const char *dir, const char *suffix, char ***out)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL;
	int		 n = 0, i, j;
	size_t		 l, sl = strlen(suffix);
	char		*tmp;

	d = opendir(dir);
	if (d == NULL)
		fail_msg("cannot open %s", dir);
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < sl ||
		    strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		v = realloc(v, sizeof(*v) * (size_t)(n + 1));
		assert_non_null(v);
		v[n] = strdup(de->d_name);
		assert_non_null(v[n]);
		n++;
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			tmp = v[j];
			v[j] = v[j - 1];
			v[j - 1] = tmp;
		}
	*out = v;
	return n;
}

static void
free_list(char **v, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* --- the real prom-client fixture --- */

struct find {
	const char		*name;
	const char		*labels;
	int			 found;
	double			 value;
	enum sw_prom_type	 type;
	char			 family[128];
	int			 count;		/* all samples */
	int			 histograms;	/* samples of histogram families */
};

static int
find_cb(const struct sw_prom_sample *s, void *arg)
{
	struct find	*f = arg;

	f->count++;
	if (s->type == SW_PROM_HISTOGRAM)
		f->histograms++;
	if (strcmp(s->name, f->name) == 0 && strcmp(s->labels, f->labels) == 0) {
		f->found++;
		f->value = s->value;
		f->type = s->type;
		snprintf(f->family, sizeof(f->family), "%s", s->family);
	}
	return 0;
}

static struct find
find_in(const char *text, size_t len, const char *name, const char *labels)
{
	struct find	f;
	struct sw_err	err;
	int		n;

	memset(&f, 0, sizeof(f));
	f.name = name;
	f.labels = labels;
	sw_err_clear(&err);
	n = sw_prom_parse(text, len, find_cb, &f, &err);
	if (n == -1)
		fail_msg("parse failed: %s", err.msg);
	assert_int_equal(n, f.count);
	return f;
}

static void
test_promclient(void **state)
{
	char		 path[1024];
	char		*text;
	size_t		 len, i;
	int		 lines = 0;
	struct find	 f;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/fixtures/prom/promclient.txt",
	    srcdir());
	text = read_exact(path, &len);

	/* one sample per line that is neither blank nor a comment */
	for (i = 0; i < len; i++) {
		if ((i == 0 || text[i - 1] == '\n') && text[i] != '\n' &&
		    text[i] != '#')
			lines++;
	}

	f = find_in(text, len, "http_request_duration_seconds_bucket",
	    "code=\"200\",le=\"0.1\",method=\"GET\",route=\"/checkout\"");
	assert_int_equal(f.count, lines);
	assert_int_equal(f.count, 90);
	assert_int_equal(f.histograms, 9 + 22);
	assert_int_equal(f.found, 1);
	assert_true(f.value == 3);
	assert_int_equal(f.type, SW_PROM_HISTOGRAM);
	assert_string_equal(f.family, "http_request_duration_seconds");

	/* a label value with escaped quote, backslash and newline */
	f = find_in(text, len, "http_request_duration_seconds_bucket",
	    "code=\"500\",le=\"+Inf\",method=\"POST\","
	    "route=\"/api/\\\"quoted\\\"\\\\path\\nnext\"");
	assert_int_equal(f.found, 1);
	assert_true(f.value == 2);
	f = find_in(text, len, "http_request_duration_seconds_sum",
	    "code=\"500\",method=\"POST\","
	    "route=\"/api/\\\"quoted\\\"\\\\path\\nnext\"");
	assert_int_equal(f.found, 1);
	assert_true(fabs(f.value - 6.004) < 1e-12);
	assert_string_equal(f.family, "http_request_duration_seconds");
	f = find_in(text, len, "http_request_duration_seconds_count",
	    "code=\"200\",method=\"GET\",route=\"/checkout\"");
	assert_true(f.value == 6);
	assert_int_equal(f.type, SW_PROM_HISTOGRAM);

	/* the series of story 4, as the e2e test reads it too */
	f = find_in(text, len, "nodejs_heap_space_size_used_bytes",
	    "space=\"old\"");
	assert_int_equal(f.found, 1);
	assert_true(f.value == 4120752);
	assert_int_equal(f.type, SW_PROM_GAUGE);

	f = find_in(text, len, "process_resident_memory_bytes", "");
	assert_int_equal(f.found, 1);
	assert_true(f.value > 1e6);

	f = find_in(text, len, "nodejs_version_info",
	    "major=\"20\",minor=\"20\",patch=\"2\",version=\"v20.20.2\"");
	assert_int_equal(f.found, 1);

	f = find_in(text, len, "process_cpu_user_seconds_total", "");
	assert_int_equal(f.type, SW_PROM_COUNTER);
	assert_string_equal(f.family, "process_cpu_user_seconds_total");

	f = find_in(text, len, "job_queue_wait_seconds", "quantile=\"0.99\"");
	assert_int_equal(f.type, SW_PROM_SUMMARY);
	assert_true(f.value == 0.4);
	f = find_in(text, len, "job_queue_wait_seconds_count", "");
	assert_int_equal(f.type, SW_PROM_SUMMARY);
	assert_string_equal(f.family, "job_queue_wait_seconds");
	assert_true(f.value == 4);
	free(text);
}

/* --- golden files --- */

struct upto {
	int	line;		/* the error's line */
	int	max_line;	/* of the samples given to cb */
	int	n;
};

static int
upto_cb(const struct sw_prom_sample *s, void *arg)
{
	struct upto	*u = arg;

	u->n++;
	if (s->line > u->max_line)
		u->max_line = s->line;
	return 0;
}

static void
test_bad_fixtures(void **state)
{
	char		  dir[1024], path[1200], **names;
	char		 *text, *exp;
	size_t		  len, elen;
	int		  n, i, fails = 0;
	struct sw_err	  err;
	struct upto	  u;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/prom/bad", srcdir());
	n = list_dir(dir, ".txt", &names);
	assert_true(n >= 30);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = read_exact(path, &len);
		snprintf(path, sizeof(path), "%s/%.*s.err", dir,
		    (int)(strlen(names[i]) - 4), names[i]);
		exp = read_exact(path, &elen);
		while (elen > 0 && exp[elen - 1] == '\n')
			elen--;
		memset(&u, 0, sizeof(u));
		sw_err_clear(&err);
		if (sw_prom_parse(text, len, upto_cb, &u, &err) != -1) {
			print_error("%s: parsed, expected \"%.*s\"\n", names[i],
			    (int)elen, exp);
			fails++;
		} else if (strlen(err.msg) != elen ||
		    memcmp(err.msg, exp, elen) != 0) {
			print_error("%s: got \"%s\", expected \"%.*s\"\n",
			    names[i], err.msg, (int)elen, exp);
			fails++;
		} else if (sscanf(err.msg, "line %d:", &u.line) != 1 ||
		    (u.n > 0 && u.max_line >= u.line)) {
			print_error("%s: samples after the error line\n",
			    names[i]);
			fails++;
		}
		free(exp);
		free(text);
	}
	free_list(names, n);
	assert_int_equal(fails, 0);
}

static void
test_bad_keeps_earlier(void **state)
{
	char		 path[1024], *text;
	size_t		 len;
	struct sw_err	 err;
	struct upto	 u;

	(void)state;
	/* real output broken at line 153: the 60 samples before it were
	 * given to the callback, none after */
	snprintf(path, sizeof(path),
	    "%s/tests/fixtures/prom/bad/promclient-bad-value.txt", srcdir());
	text = read_exact(path, &len);
	memset(&u, 0, sizeof(u));
	sw_err_clear(&err);
	assert_int_equal(sw_prom_parse(text, len, upto_cb, &u, &err), -1);
	assert_int_equal(u.n, 60);
	assert_int_equal(u.max_line, 152);
	free(text);
}

static void
test_good_fixtures(void **state)
{
	char		  dir[1024], path[1200], **names;
	char		 *text, *exp;
	size_t		  len, elen;
	int		  n, i, fails = 0;
	struct sw_err	  err;
	struct sw_buf	  out;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/prom/good", srcdir());
	n = list_dir(dir, ".txt", &names);
	assert_true(n >= 3);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = read_exact(path, &len);
		snprintf(path, sizeof(path), "%s/%.*s.out", dir,
		    (int)(strlen(names[i]) - 4), names[i]);
		exp = read_exact(path, &elen);
		sw_buf_init(&out, 1024 * 1024);
		sw_err_clear(&err);
		if (sw_prom_parse(text, len, collect_cb, &out, &err) == -1) {
			print_error("%s: %s\n", names[i], err.msg);
			fails++;
		} else if (out.len != elen ||
		    memcmp(sw_buf_str(&out), exp, elen) != 0) {
			print_error("%s: got\n%s\nexpected\n%.*s\n", names[i],
			    sw_buf_str(&out), (int)elen, exp);
			fails++;
		}
		sw_buf_release(&out);
		free(exp);
		free(text);
	}
	free_list(names, n);
	assert_int_equal(fails, 0);
}

/* --- canonical labels --- */

static int
first_cb(const struct sw_prom_sample *s, void *arg)
{
	struct sw_buf	*b = arg;

	if (b->len == 0)
		sw_buf_adds(b, s->labels);
	return 0;
}

static void
expect_canon(const char *text, const char *canon)
{
	struct sw_buf	b;
	struct sw_err	err;

	sw_buf_init(&b, 4096);
	if (parse_str(text, first_cb, &b, &err) == -1)
		fail_msg("%s: %s", text, err.msg);
	assert_string_equal(sw_buf_str(&b), canon);
	sw_buf_release(&b);
}

static void
test_canonical_labels(void **state)
{
	(void)state;
	expect_canon("m 1\n", "");
	expect_canon("m{} 1\n", "");
	expect_canon("m{z=\"1\",a=\"2\",m=\"3\"} 1\n", "a=\"2\",m=\"3\",z=\"1\"");
	/* byte order: upper case before lower case, '_' between */
	expect_canon("m{b=\"1\",B=\"2\",_x=\"3\"} 1\n",
	    "B=\"2\",_x=\"3\",b=\"1\"");
	expect_canon("m{a=\"\",b=\"x\"} 1\n", "b=\"x\"");
	expect_canon("m{a=\"q\\\"b\\\\n\\n\"} 1\n", "a=\"q\\\"b\\\\n\\n\"");
	expect_canon("m{a=\"ünïcødé ✓\"} 1\n", "a=\"ünïcødé ✓\"");
	expect_canon("m { a = \"1\" , b=\"2\" , } 1\n", "a=\"1\",b=\"2\"");
	expect_canon("{\"m.x\",\"l.y\"=\"1\",a=\"2\"} 1\n",
	    "a=\"2\",\"l.y\"=\"1\"");
	expect_canon("{\"m\",\"a\"=\"1\"} 1\n", "a=\"1\"");
}

struct legacy {
	int	legacy;
	char	name[64];
};

static int
legacy_cb(const struct sw_prom_sample *s, void *arg)
{
	struct legacy	*l = arg;

	l->legacy = s->legacy;
	snprintf(l->name, sizeof(l->name), "%s", s->name);
	return 0;
}

static void
test_quoted_names(void **state)
{
	struct legacy	l;
	struct sw_err	err;

	(void)state;
	assert_int_equal(parse_str("{\"my.metric\"} 1\n", legacy_cb, &l,
	    &err), 1);
	assert_string_equal(l.name, "my.metric");
	assert_int_equal(l.legacy, 0);
	assert_int_equal(parse_str("{\"ok_metric\",a=\"b\"} 1\n", legacy_cb,
	    &l, &err), 1);
	assert_string_equal(l.name, "ok_metric");
	assert_int_equal(l.legacy, 1);
	assert_int_equal(parse_str("ok{\"a.b\"=\"c\"} 1\n", legacy_cb, &l,
	    &err), 1);
	assert_int_equal(l.legacy, 0);
	assert_int_equal(parse_str("# TYPE \"my.metric\" gauge\n"
	    "{\"my.metric\"} 1\n", NULL, NULL, &err), 1);
	assert_int_equal(parse_str("{\"\"} 1\n", NULL, NULL, &err), -1);
	assert_string_equal(err.msg, "line 1:2: empty metric name");
	assert_int_equal(parse_str("m{\"\"=\"x\"} 1\n", NULL, NULL, &err), -1);
	assert_string_equal(err.msg, "line 1:3: empty label name");
}

/* --- values, caps, callbacks --- */

static int
value_cb(const struct sw_prom_sample *s, void *arg)
{
	*(double *)arg = s->value;
	return 0;
}

static double
value_of(const char *text)
{
	double		v = -12345;
	struct sw_err	err;

	if (parse_str(text, value_cb, &v, &err) != 1)
		fail_msg("%s: %s", text, err.msg);
	return v;
}

static void
test_values(void **state)
{
	struct sw_err	err;

	(void)state;
	assert_true(isnan(value_of("m NaN\n")));
	assert_true(isnan(value_of("m nan\n")));
	assert_true(isinf(value_of("m +Inf\n")) && value_of("m +Inf\n") > 0);
	assert_true(isinf(value_of("m -Inf\n")) && value_of("m -Inf\n") < 0);
	assert_true(isinf(value_of("m Inf\n")));
	assert_true(value_of("m 1e3\n") == 1000);
	assert_true(value_of("m -0.5\n") == -0.5);
	assert_true(value_of("m .5\n") == 0.5);
	assert_true(value_of("m 0x10\n") == 16);
	assert_true(value_of("m 1e-400\n") == 0);
	assert_true(value_of("m 9007199254740993\n") == 9007199254740992.0);
	assert_int_equal(parse_str("m 1,5\n", NULL, NULL, &err), -1);
	assert_int_equal(parse_str("m nan(0x1)\n", NULL, NULL, &err), -1);
	assert_int_equal(parse_str("m 1_000\n", NULL, NULL, &err), -1);
	assert_int_equal(parse_str("m \n", NULL, NULL, &err), -1);
	assert_int_equal(parse_str("m 1 9223372036854775808\n", NULL, NULL,
	    &err), -1);
	assert_string_equal(err.msg,
	    "line 1:5: bad timestamp \"9223372036854775808\"");
	assert_int_equal(parse_str("m 1 -9223372036854775808\n", NULL, NULL,
	    &err), 1);
	assert_int_equal(parse_str("m 1 01\n", NULL, NULL, &err), 1);
}

static void
test_empty_and_comments(void **state)
{
	struct sw_err	err;

	(void)state;
	assert_int_equal(sw_prom_parse("", 0, NULL, NULL, &err), 0);
	assert_int_equal(sw_prom_parse("x", 0, NULL, NULL, &err), 0);
	assert_int_equal(parse_str("\n\n  \n\t\n", NULL, NULL, &err), 0);
	assert_int_equal(parse_str("# only a comment\n#\n# HELP\n# TYPE\n"
	    "# HELPER x\n# EOF\n", NULL, NULL, &err), 0);
	/* blanks after the last newline are not a truncated line */
	assert_int_equal(parse_str("m 1\n  ", NULL, NULL, &err), 1);
	/* a comment cut short is still a truncated body */
	assert_int_equal(parse_str("m 1\n# HEL", NULL, NULL, &err), -1);
	assert_string_equal(err.msg,
	    "line 2:6: last line does not end with a newline");
	/* HELP may repeat and carry anything */
	assert_int_equal(parse_str("# HELP m a \\q \"b\n# HELP m again\n"
	    "m 1\n", NULL, NULL, &err), 1);
	/* "# TYPE" for another name after samples is fine */
	assert_int_equal(parse_str("a 1\n# TYPE b gauge\nb 2\n", NULL, NULL,
	    &err), 2);
	/* a gauge X after an untyped X_sum: different families */
	assert_int_equal(parse_str("x_sum 1\n# TYPE x gauge\nx 2\n", NULL,
	    NULL, &err), 2);
	assert_int_equal(parse_str("x_sum 1\n# TYPE x summary\nx 2\n", NULL,
	    NULL, &err), -1);
	assert_string_equal(err.msg,
	    "line 2:3: TYPE line for x after its samples");
}

static void
test_caps(void **state)
{
	struct sw_buf	 b;
	struct sw_err	 err;
	int		 i;

	(void)state;
	/* labels */
	sw_buf_init(&b, 1 << 20);
	sw_buf_adds(&b, "m{");
	for (i = 0; i < SW_PROM_MAX_LABELS; i++)
		sw_buf_addf(&b, "l%d=\"v\",", i);
	sw_buf_adds(&b, "} 1\n");
	assert_int_equal(parse_str(sw_buf_str(&b), NULL, NULL, &err), 1);
	sw_buf_reset(&b);
	sw_buf_adds(&b, "m{");
	for (i = 0; i <= SW_PROM_MAX_LABELS; i++)
		sw_buf_addf(&b, "l%d=\"v\",", i);
	sw_buf_adds(&b, "} 1\n");
	assert_int_equal(parse_str(sw_buf_str(&b), NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "more than 64 labels"));
	assert_int_equal(strncmp(err.msg, "line 1:", 7), 0);

	/* line length */
	sw_buf_reset(&b);
	sw_buf_adds(&b, "ok 1\nm{a=\"");
	for (i = 0; i < SW_PROM_MAX_LINE; i++)
		sw_buf_addc(&b, 'x');
	sw_buf_adds(&b, "\"} 1\n");
	assert_int_equal(parse_str(sw_buf_str(&b), NULL, NULL, &err), -1);
	assert_string_equal(err.msg, "line 2:65537: line longer than 65536 "
	    "bytes");

	/* a long line below the cap is fine, escapes and all */
	sw_buf_reset(&b);
	sw_buf_adds(&b, "m{a=\"");
	for (i = 0; i < SW_PROM_MAX_LINE / 2 - 20; i++)
		sw_buf_add(&b, "\\\"", 2);
	sw_buf_adds(&b, "\"} 1\n");
	assert_int_equal(parse_str(sw_buf_str(&b), NULL, NULL, &err), 1);

	/* samples */
	sw_buf_release(&b);
	sw_buf_init(&b, 16 << 20);
	for (i = 0; i < SW_PROM_MAX_SAMPLES; i++)
		sw_buf_addf(&b, "m{i=\"%d\"} 1\n", i);
	assert_int_equal(sw_prom_parse(b.data, b.len, NULL, NULL, &err),
	    SW_PROM_MAX_SAMPLES);
	sw_buf_adds(&b, "m 2\n");
	sw_err_clear(&err);
	assert_int_equal(sw_prom_parse(b.data, b.len, NULL, NULL, &err), -1);
	assert_string_equal(err.msg, "line 200001:1: more than 200000 samples");
	sw_buf_release(&b);
}

static int
stop_cb(const struct sw_prom_sample *s, void *arg)
{
	int	*n = arg;

	if (++*n == 2)
		return -1;
	(void)s;
	return 0;
}

static void
test_callback_stops(void **state)
{
	struct sw_err	err;
	int		n = 0;

	(void)state;
	assert_int_equal(parse_str("a 1\nb 2\nc 3\n", stop_cb, &n, &err), -1);
	assert_int_equal(n, 2);
	assert_string_equal(err.msg, "line 2:1: stopped");
	/* no err given: still -1, no crash */
	assert_int_equal(sw_prom_parse("a{", 2, NULL, NULL, NULL), -1);
}

static void
test_keep(void **state)
{
	const char	*globs[] = { "foo_*", "bar" };
	int		 n = 0;

	(void)state;
	while (sw_prom_default_keep[n] != NULL)
		n++;
	assert_true(sw_prom_keep(sw_prom_default_keep, n,
	    "process_resident_memory_bytes", NULL));
	assert_false(sw_prom_keep(sw_prom_default_keep, n,
	    "process_virtual_memory_bytes", NULL));
	assert_true(sw_prom_keep(sw_prom_default_keep, n,
	    "nodejs_heap_space_size_used_bytes", NULL));
	assert_true(sw_prom_keep(sw_prom_default_keep, n,
	    "nodejs_eventloop_lag_p99_seconds", NULL));
	assert_true(sw_prom_keep(sw_prom_default_keep, n,
	    "http_request_duration_seconds_bucket",
	    "http_request_duration_seconds"));
	assert_true(sw_prom_keep(sw_prom_default_keep, n,
	    "http_request_duration_seconds_count", NULL));
	assert_false(sw_prom_keep(sw_prom_default_keep, n,
	    "http_requests_total", "http_requests_total"));
	assert_false(sw_prom_keep(sw_prom_default_keep, n,
	    "nodejs_version_info", NULL));

	assert_true(sw_prom_keep(globs, 2, "foo_x", NULL));
	assert_true(sw_prom_keep(globs, 2, "bar", NULL));
	assert_false(sw_prom_keep(globs, 2, "bar_sum", NULL));
	/* a family name keeps its histogram samples */
	assert_true(sw_prom_keep(globs, 2, "bar_sum", "bar"));
	assert_false(sw_prom_keep(globs, 0, "foo_x", NULL));
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_string_equal(sw_prom_type_name(SW_PROM_COUNTER), "counter");
	assert_string_equal(sw_prom_type_name(SW_PROM_SUMMARY), "summary");
	assert_string_equal(sw_prom_type_name((enum sw_prom_type)99),
	    "untyped");
}

/* Replays the fuzz corpus: every file parses or fails cleanly. */
static void
test_corpus_replay(void **state)
{
	char		  dir[1024], path[1200], **names, *text;
	size_t		  len;
	int		  n, i, r;
	struct sw_err	  err;
	struct sw_buf	  out;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus-promtext", srcdir());
	n = list_dir(dir, "", &names);
	assert_true(n >= 10);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = read_exact(path, &len);
		sw_buf_init(&out, 64 << 20);
		sw_err_clear(&err);
		r = sw_prom_parse(text, len, collect_cb, &out, &err);
		assert_true(r >= 0 || (err.set &&
		    strncmp(err.msg, "line ", 5) == 0));
		sw_buf_release(&out);
		free(text);
	}
	free_list(names, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_promclient),
		cmocka_unit_test(test_bad_fixtures),
		cmocka_unit_test(test_bad_keeps_earlier),
		cmocka_unit_test(test_good_fixtures),
		cmocka_unit_test(test_canonical_labels),
		cmocka_unit_test(test_quoted_names),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_corpus_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
