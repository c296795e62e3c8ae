#include "config.h"
/*
 * test_units.c: the checked number parsers and unit formatting of units.h:
 * what each accepts, what it refuses (and that it leaves *out alone then),
 * and that formatted durations parse back to the same value.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slopewatch/units.h"

#define WHOLE ((size_t)-1)

static void
test_int64(void **state)
{
	int64_t	v;

	(void)state;
	assert_int_equal(sw_parse_int64("42", WHOLE, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(sw_parse_int64("-7", WHOLE, &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(sw_parse_int64("+3", WHOLE, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(sw_parse_int64("9223372036854775807", WHOLE, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(sw_parse_int64("-9223372036854775808", WHOLE, &v), 0);
	assert_true(v == INT64_MIN);
	/* only the first n bytes */
	assert_int_equal(sw_parse_int64("123abc", 3, &v), 0);
	assert_int_equal(v, 123);

	v = 99;
	assert_int_equal(sw_parse_int64("9223372036854775808", WHOLE, &v), -1);
	assert_int_equal(sw_parse_int64("-9223372036854775809", WHOLE, &v), -1);
	assert_int_equal(sw_parse_int64("", WHOLE, &v), -1);
	assert_int_equal(sw_parse_int64("-", WHOLE, &v), -1);
	assert_int_equal(sw_parse_int64(" 1", WHOLE, &v), -1);
	assert_int_equal(sw_parse_int64("1 ", WHOLE, &v), -1);
	assert_int_equal(sw_parse_int64("1x", WHOLE, &v), -1);
	assert_int_equal(sw_parse_int64("0x10", WHOLE, &v), -1);
	assert_int_equal(sw_parse_int64("1.0", WHOLE, &v), -1);
	assert_int_equal(v, 99);	/* untouched on failure */
}

static void
test_double(void **state)
{
	double	v;

	(void)state;
	assert_int_equal(sw_parse_double("1.5", WHOLE, &v), 0);
	assert_true(v == 1.5);
	assert_int_equal(sw_parse_double("-2", WHOLE, &v), 0);
	assert_true(v == -2);
	assert_int_equal(sw_parse_double(".5", WHOLE, &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(sw_parse_double("5.", WHOLE, &v), 0);
	assert_true(v == 5);
	assert_int_equal(sw_parse_double("1e3", WHOLE, &v), 0);
	assert_true(v == 1000);
	assert_int_equal(sw_parse_double("2.5E-1", WHOLE, &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(sw_parse_double("12345", 2, &v), 0);
	assert_true(v == 12);

	v = 7;
	assert_int_equal(sw_parse_double("inf", WHOLE, &v), -1);
	assert_int_equal(sw_parse_double("nan", WHOLE, &v), -1);
	assert_int_equal(sw_parse_double("0x10", WHOLE, &v), -1);
	assert_int_equal(sw_parse_double("1e999", WHOLE, &v), -1);
	assert_int_equal(sw_parse_double("1e", WHOLE, &v), -1);
	assert_int_equal(sw_parse_double(".", WHOLE, &v), -1);
	assert_int_equal(sw_parse_double("", WHOLE, &v), -1);
	assert_int_equal(sw_parse_double(" 1", WHOLE, &v), -1);
	assert_int_equal(sw_parse_double("1.5.5", WHOLE, &v), -1);
	assert_true(v == 7);
}

static void
test_duration(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 ms;
	} good[] = {
		{ "15s", 15000 },
		{ "250ms", 250 },
		{ "10m", 600000 },
		{ "1.5h", 5400000 },
		{ "1d", 86400000 },
		{ "2w", 14 * 86400000LL },
		{ "2y", 730 * 86400000LL },
		{ "1h30m", 5400000 },
		{ "1m30s", 90000 },
		{ "1s500ms", 1500 },
		{ "0s", 0 },
		{ "0.5s", 500 },
		{ ".5s", 500 },
	};
	static const char *bad[] = {
		"15", "15x", "", "s", "-1s", "1.5", "1m 30s", " 1s", "1s ",
		"1S", "1mo", "1e3s", "5m5", "1000000y",
	};
	size_t	i;
	int64_t	v;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		assert_int_equal(sw_parse_duration_ms(good[i].s, WHOLE, &v), 0);
		assert_true(v == good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		if (sw_parse_duration_ms(bad[i], WHOLE, &v) != -1)
			fail_msg("duration \"%s\" was accepted", bad[i]);
		assert_true(v == 42);
	}
	/* n bounds the read: "15s" out of "15sx" */
	assert_int_equal(sw_parse_duration_ms("15sx", 3, &v), 0);
	assert_true(v == 15000);
}

static void
test_size(void **state)
{
	static const struct {
		const char	*s;
		double		 bytes;
	} good[] = {
		{ "1MiB", 1048576 },
		{ "1MB", 1e6 },
		{ "512KB", 512e3 },
		{ "512KiB", 512 * 1024.0 },
		{ "1.5GiB", 1.5 * 1024 * 1024 * 1024 },
		{ "2GB", 2e9 },
		{ "1TB", 1e12 },
		{ "1TiB", 1024.0 * 1024 * 1024 * 1024 },
		{ "100", 100 },
		{ "100B", 100 },
		{ "4mib", 4 * 1048576.0 },
	};
	static const char *bad[] = {
		"12XB", "MB", "1 MB", "-1MB", "", "1MBs", "1M", "1e3MB", "1.5.5B",
	};
	size_t	i;
	double	v;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		assert_int_equal(sw_parse_size(good[i].s, WHOLE, &v), 0);
		assert_true(fabs(v - good[i].bytes) < 1e-6);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		if (sw_parse_size(bad[i], WHOLE, &v) != -1)
			fail_msg("size \"%s\" was accepted", bad[i]);
		assert_true(v == 42);
	}
}

static void
test_quantity(void **state)
{
	static const struct {
		const char	*s;
		double		 v;
		enum sw_unit	 unit;
	} good[] = {
		{ "1%", 0.01, SW_UNIT_RATIO },
		{ "12.5%", 0.125, SW_UNIT_RATIO },
		{ "100MB/d", 1e8 / 86400, SW_UNIT_BYTES_PER_S },
		{ "1GiB/h", 1073741824.0 / 3600, SW_UNIT_BYTES_PER_S },
		{ "5/m", 5.0 / 60, SW_UNIT_PER_S },
		{ "10/5m", 10.0 / 300, SW_UNIT_PER_S },
		{ "1s/d", 1.0 / 86400, SW_UNIT_PER_S },
		{ "5m", 300, SW_UNIT_SECONDS },
		{ "250ms", 0.25, SW_UNIT_SECONDS },
		{ "1GB", 1e9, SW_UNIT_BYTES },
		{ "10", 10, SW_UNIT_NONE },
		{ "-0.5", -0.5, SW_UNIT_NONE },
		{ "1e3", 1000, SW_UNIT_NONE },
	};
	static const char *bad[] = {
		"%", "5/x", "5/0s", "5/", "/d", "MB/d", "1x", "", "1%%", "abc",
		"1MB/d/d",
	};
	struct sw_quantity	q;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&q, 0, sizeof(q));
		if (sw_parse_quantity(good[i].s, WHOLE, &q) != 0)
			fail_msg("quantity \"%s\" was refused", good[i].s);
		assert_int_equal(q.unit, good[i].unit);
		assert_true(fabs(q.v - good[i].v) < 1e-9 * fabs(good[i].v) +
		    1e-12);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q.v = 42;
		q.unit = SW_UNIT_NONE;
		if (sw_parse_quantity(bad[i], WHOLE, &q) != -1)
			fail_msg("quantity \"%s\" was accepted", bad[i]);
		assert_true(q.v == 42);
	}
}

static void
test_fmt_duration(void **state)
{
	static const struct {
		int64_t		 ms;
		const char	*s;
	} cases[] = {
		{ 15000, "15s" },
		{ 5400000, "1h30m" },
		{ 0, "0s" },
		{ 1500, "1s500ms" },
		{ 86400000, "1d" },
		{ 7 * 86400000LL, "7d" },
		{ 730 * 86400000LL, "2y" },
		{ 366 * 86400000LL, "366d" },
		{ -60000, "-1m" },
	};
	char	buf[64], small[4];
	size_t	i;
	int64_t	back;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(sw_fmt_duration_ms(buf, sizeof(buf),
		    cases[i].ms), cases[i].s);
		if (cases[i].ms >= 0) {
			assert_int_equal(sw_parse_duration_ms(buf, WHOLE, &back),
			    0);
			assert_true(back == cases[i].ms);
		}
	}
	/* truncated, still terminated */
	sw_fmt_duration_ms(small, sizeof(small), 5400000);
	assert_true(strlen(small) < sizeof(small));
}

static void
test_fmt_quantity(void **state)
{
	char	buf[64];

	(void)state;
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 812e6,
	    SW_UNIT_BYTES), "812 MB");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 1.5e9,
	    SW_UNIT_BYTES), "1.5 GB");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 512,
	    SW_UNIT_BYTES), "512 B");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 1.5,
	    SW_UNIT_SECONDS), "1.5 s");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 0.25,
	    SW_UNIT_SECONDS), "250 ms");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 19 * 3600,
	    SW_UNIT_SECONDS), "19 h");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 3 * 86400,
	    SW_UNIT_SECONDS), "3 d");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 0.12,
	    SW_UNIT_RATIO), "12%");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 1e8 / 86400,
	    SW_UNIT_BYTES_PER_S), "1.16 KB/s");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 1e6 / 86400,
	    SW_UNIT_BYTES_PER_S), "11.6 B/s");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 0.5 / 86400,
	    SW_UNIT_BYTES_PER_S), "0.5 B/d");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 5.0 / 60,
	    SW_UNIT_PER_S), "5/min");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), 42,
	    SW_UNIT_NONE), "42");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), INFINITY,
	    SW_UNIT_SECONDS), "inf");
	assert_string_equal(sw_fmt_quantity(buf, sizeof(buf), NAN,
	    SW_UNIT_BYTES), "NaN");
}

static void
test_unit_names(void **state)
{
	(void)state;
	assert_string_equal(sw_unit_name(SW_UNIT_SECONDS), "seconds");
	assert_string_equal(sw_unit_name(SW_UNIT_BYTES), "bytes");
	assert_string_equal(sw_unit_name(SW_UNIT_RATIO), "ratio");
	assert_string_equal(sw_unit_name(SW_UNIT_BYTES_PER_S),
	    "bytes_per_second");
	assert_string_equal(sw_unit_name(SW_UNIT_PER_S), "per_second");
	assert_string_equal(sw_unit_name(SW_UNIT_NONE), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int64),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_quantity),
		cmocka_unit_test(test_fmt_duration),
		cmocka_unit_test(test_fmt_quantity),
		cmocka_unit_test(test_unit_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
