#include "config.h"
/*
 * units.c: the checked number parsers and the units of the config language
 * (durations, sizes, rates, percentages), and their human formatting.
 *
 * Invariants: every parser reads exactly the n bytes it is given (the text
 * need not be NUL-terminated), accepts only the whole of it, and never
 * touches *out on failure. Numbers are plain decimal: no leading blanks, no
 * hex, no inf/nan. strtod only ever sees a bounded, NUL-terminated copy
 * that has already been checked against that grammar.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slopewatch/units.h"

#define NUM_MAX	64	/* longest number text we accept */

static size_t
units_len(const char *s, size_t n)
{
	return n == (size_t)-1 ? strlen(s) : n;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Length of the longest prefix of s[0..n) that is a decimal number:
 * [+-]? digits [. digits]? ([eE] [+-]? digits)?  (digits before or after
 * the point, at least one). allow_exp: whether an exponent may follow (not
 * for "1e" where "e" could be a unit; no unit starts with e, but be strict).
 * Returns 0 if there is no number.
 */
static size_t
number_prefix(const char *s, size_t n, int allow_sign, int allow_exp)
{
	size_t	i = 0, digits = 0, save;

	if (i < n && allow_sign && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && is_digit(s[i])) {
		i++;
		digits++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && is_digit(s[i])) {
			i++;
			digits++;
		}
	}
	if (digits == 0)
		return 0;
	if (allow_exp && i < n && (s[i] == 'e' || s[i] == 'E')) {
		save = i;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i < n && is_digit(s[i])) {
			while (i < n && is_digit(s[i]))
				i++;
		} else
			i = save;
	}
	return i;
}

/* Converts exactly s[0..n), already checked by number_prefix. */
static int
number_value(const char *s, size_t n, double *out)
{
	char	 tmp[NUM_MAX + 1];
	char	*end;
	double	 v;

	if (n == 0 || n > NUM_MAX)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	v = strtod(tmp, &end);
	if (end != tmp + n || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int
sw_parse_int64(const char *s, size_t n, int64_t *out)
{
	size_t		i = 0;
	int		neg = 0;
	uint64_t	v = 0, lim;

	n = units_len(s, n);
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i++;
	}
	if (i == n)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int
sw_parse_double(const char *s, size_t n, double *out)
{
	n = units_len(s, n);
	if (n == 0 || number_prefix(s, n, 1, 1) != n)
		return -1;
	return number_value(s, n, out);
}

/* Duration units, "ms" before "m" so that it wins. */
static const struct {
	const char	*name;
	double		 ms;
} duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000.0 },
	{ "h", 3600 * 1000.0 },
	{ "d", 86400 * 1000.0 },
	{ "w", 7 * 86400 * 1000.0 },
	{ "y", 365 * 86400 * 1000.0 },	/* for retention: "1h 2y" */
};

/* Reads one duration unit at s[0..n); returns its length, 0 if none. */
static size_t
duration_unit(const char *s, size_t n, double *ms)
{
	size_t	i, len;

	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]);
	    i++) {
		len = strlen(duration_units[i].name);
		if (len <= n && memcmp(s, duration_units[i].name, len) == 0 &&
		    (len == n || !(s[len] >= 'a' && s[len] <= 'z'))) {
			*ms = duration_units[i].ms;
			return len;
		}
	}
	return 0;
}

/* A duration in milliseconds as a double: one or more NUMBER UNIT pairs
 * ("1h30m"). */
static int
duration_value(const char *s, size_t n, double *out)
{
	size_t	i = 0, k, u;
	double	total = 0, v, ms;

	if (n == 0)
		return -1;
	while (i < n) {
		if ((k = number_prefix(s + i, n - i, 0, 0)) == 0)
			return -1;
		if (number_value(s + i, k, &v) == -1)
			return -1;
		i += k;
		if ((u = duration_unit(s + i, n - i, &ms)) == 0)
			return -1;
		i += u;
		total += v * ms;
	}
	if (!isfinite(total))
		return -1;
	*out = total;
	return 0;
}

int
sw_parse_duration_ms(const char *s, size_t n, int64_t *out)
{
	double	ms;

	n = units_len(s, n);
	if (duration_value(s, n, &ms) == -1)
		return -1;
	/* a hundred years is plenty and keeps int64 arithmetic safe */
	if (ms > 100.0 * 366 * 86400 * 1000)
		return -1;
	*out = (int64_t)llround(ms);
	return 0;
}

static const struct {
	const char	*name;
	double		 bytes;
} size_units[] = {
	{ "B", 1 },
	{ "KB", 1e3 },
	{ "MB", 1e6 },
	{ "GB", 1e9 },
	{ "TB", 1e12 },
	{ "KiB", 1024.0 },
	{ "MiB", 1024.0 * 1024 },
	{ "GiB", 1024.0 * 1024 * 1024 },
	{ "TiB", 1024.0 * 1024 * 1024 * 1024 },
};

/* Size units match case-insensitively ("mb", "MiB", "mib"). */
static int
size_unit(const char *s, size_t n, double *mult)
{
	size_t	i, j, len;

	for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		len = strlen(size_units[i].name);
		if (len != n)
			continue;
		for (j = 0; j < n; j++) {
			char a = s[j], b = size_units[i].name[j];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
		}
		if (j == n) {
			*mult = size_units[i].bytes;
			return 0;
		}
	}
	return -1;
}

/* NUMBER [UNIT]; a bare number is bytes. */
static int
size_value(const char *s, size_t n, int require_unit, double *out)
{
	size_t	k;
	double	v, mult = 1;

	if ((k = number_prefix(s, n, 0, 0)) == 0)
		return -1;
	if (number_value(s, k, &v) == -1)
		return -1;
	if (k < n) {
		if (size_unit(s + k, n - k, &mult) == -1)
			return -1;
	} else if (require_unit)
		return -1;
	v *= mult;
	if (!isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int
sw_parse_size(const char *s, size_t n, double *out)
{
	n = units_len(s, n);
	return size_value(s, n, 0, out);
}

/* The denominator of a rate: a duration, or a bare unit ("d" = "1d"). */
static int
rate_denominator(const char *s, size_t n, double *sec)
{
	double	ms;

	if (n > 0 && !is_digit(s[0]) && s[0] != '.') {
		if (duration_unit(s, n, &ms) != n)
			return -1;
	} else if (duration_value(s, n, &ms) == -1)
		return -1;
	if (ms <= 0)
		return -1;
	*sec = ms / 1000.0;
	return 0;
}

int
sw_parse_quantity(const char *s, size_t n, struct sw_quantity *out)
{
	const char	*slash;
	double		 v, den, ms;
	enum sw_unit	 unit;

	n = units_len(s, n);
	if (n == 0)
		return -1;
	if (s[n - 1] == '%') {
		if (sw_parse_double(s, n - 1, &v) == -1)
			return -1;
		out->v = v / 100.0;
		out->unit = SW_UNIT_RATIO;
		return 0;
	}
	if ((slash = memchr(s, '/', n)) != NULL) {
		size_t	num = (size_t)(slash - s);

		if (rate_denominator(slash + 1, n - num - 1, &den) == -1)
			return -1;
		if (sw_parse_double(s, num, &v) == 0)
			unit = SW_UNIT_PER_S;
		else if (duration_value(s, num, &ms) == 0) {
			v = ms / 1000.0;
			unit = SW_UNIT_PER_S;
		} else if (size_value(s, num, 1, &v) == 0)
			unit = SW_UNIT_BYTES_PER_S;
		else
			return -1;
		out->v = v / den;
		out->unit = unit;
		return 0;
	}
	if (sw_parse_double(s, n, &v) == 0) {
		out->v = v;
		out->unit = SW_UNIT_NONE;
		return 0;
	}
	if (duration_value(s, n, &ms) == 0) {
		out->v = ms / 1000.0;
		out->unit = SW_UNIT_SECONDS;
		return 0;
	}
	if (size_value(s, n, 1, &v) == 0) {
		out->v = v;
		out->unit = SW_UNIT_BYTES;
		return 0;
	}
	return -1;
}

/* A number with about three significant digits, trailing zeros dropped:
 * 812, 19.3, 1.5, 0.25. */
static void
fmt_number(char *dst, size_t dstsz, double v)
{
	double	a = fabs(v);
	char	*p;

	if (a >= 100 || a == 0)
		snprintf(dst, dstsz, "%.0f", v);
	else if (a >= 10)
		snprintf(dst, dstsz, "%.1f", v);
	else if (a >= 0.01)
		snprintf(dst, dstsz, "%.2f", v);
	else
		snprintf(dst, dstsz, "%.3g", v);
	if (strchr(dst, '.') != NULL && strchr(dst, 'e') == NULL) {
		p = dst + strlen(dst) - 1;
		while (*p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
	}
	if (strcmp(dst, "-0") == 0)
		snprintf(dst, dstsz, "0");
}

/* Value and unit word for bytes in SI units ("812 MB"). */
static void
fmt_bytes(char *dst, size_t dstsz, double v, const char *suffix)
{
	static const char	*names[] = { "B", "KB", "MB", "GB", "TB", "PB" };
	char			 num[32];
	size_t			 i = 0;
	double			 a = fabs(v);

	while (a >= 999.5 && i < sizeof(names) / sizeof(names[0]) - 1) {
		a /= 1000;
		v /= 1000;
		i++;
	}
	fmt_number(num, sizeof(num), v);
	snprintf(dst, dstsz, "%s %s%s", num, names[i], suffix);
}

static void
fmt_seconds(char *dst, size_t dstsz, double v)
{
	char	num[32];
	double	a = fabs(v);

	if (a != 0 && a < 1) {
		fmt_number(num, sizeof(num), v * 1000);
		snprintf(dst, dstsz, "%s ms", num);
	} else if (a < 60) {
		fmt_number(num, sizeof(num), v);
		snprintf(dst, dstsz, "%s s", num);
	} else if (a < 3600) {
		fmt_number(num, sizeof(num), v / 60);
		snprintf(dst, dstsz, "%s min", num);
	} else if (a < 86400 * 2) {
		fmt_number(num, sizeof(num), v / 3600);
		snprintf(dst, dstsz, "%s h", num);
	} else {
		fmt_number(num, sizeof(num), v / 86400);
		snprintf(dst, dstsz, "%s d", num);
	}
}

char *
sw_fmt_quantity(char *dst, size_t dstsz, double v, enum sw_unit unit)
{
	static const struct {
		const char	*name;
		double		 sec;
	} per[] = {
		{ "/s", 1 }, { "/min", 60 }, { "/h", 3600 }, { "/d", 86400 },
	};
	char	num[32];
	size_t	i;

	if (dstsz == 0)
		return dst;
	dst[0] = '\0';
	if (isnan(v)) {
		snprintf(dst, dstsz, "NaN");
		return dst;
	}
	if (isinf(v)) {
		snprintf(dst, dstsz, "%s", v > 0 ? "inf" : "-inf");
		return dst;
	}
	switch (unit) {
	case SW_UNIT_SECONDS:
		fmt_seconds(dst, dstsz, v);
		break;
	case SW_UNIT_BYTES:
		fmt_bytes(dst, dstsz, v, "");
		break;
	case SW_UNIT_RATIO:
		fmt_number(num, sizeof(num), v * 100);
		snprintf(dst, dstsz, "%s%%", num);
		break;
	case SW_UNIT_BYTES_PER_S:
	case SW_UNIT_PER_S:
		/* the smallest period that makes the number at least 1 */
		for (i = 0; i < sizeof(per) / sizeof(per[0]) - 1; i++)
			if (v == 0 || fabs(v) * per[i].sec >= 1)
				break;
		if (unit == SW_UNIT_BYTES_PER_S)
			fmt_bytes(dst, dstsz, v * per[i].sec, per[i].name);
		else {
			fmt_number(num, sizeof(num), v * per[i].sec);
			snprintf(dst, dstsz, "%s%s", num, per[i].name);
		}
		break;
	case SW_UNIT_NONE:
	default:
		fmt_number(dst, dstsz, v);
		break;
	}
	return dst;
}

char *
sw_fmt_duration_ms(char *dst, size_t dstsz, int64_t ms)
{
	static const struct {
		const char	*name;
		int64_t		 ms;
	} parts[] = {
		{ "y", 365 * 86400000LL }, { "d", 86400000LL },
		{ "h", 3600000LL }, { "m", 60000LL }, { "s", 1000LL },
		{ "ms", 1LL },
	};
	size_t		i, o = 0;
	uint64_t	left;
	int		k;

	if (dstsz == 0)
		return dst;
	dst[0] = '\0';
	if (ms == 0) {
		snprintf(dst, dstsz, "0s");
		return dst;
	}
	if (ms < 0) {
		k = snprintf(dst, dstsz, "-");
		o = (size_t)k;
		left = (uint64_t)0 - (uint64_t)ms;
	} else
		left = (uint64_t)ms;
	/* years only for a whole number of them ("2y", not "1y35d") */
	i = left % (uint64_t)parts[0].ms == 0 ? 0 : 1;
	for (; i < sizeof(parts) / sizeof(parts[0]) && left > 0; i++) {
		uint64_t	q = left / (uint64_t)parts[i].ms;

		if (q == 0)
			continue;
		left -= q * (uint64_t)parts[i].ms;
		if (o >= dstsz)
			break;
		k = snprintf(dst + o, dstsz - o, "%llu%s",
		    (unsigned long long)q, parts[i].name);
		if (k < 0)
			break;
		o += (size_t)k;
	}
	return dst;
}

/* The names of each unit: for JSON and docs, and in words for messages. */
static const struct {
	const char	*name;
	const char	*desc;
} unit_names[] = {
	[SW_UNIT_NONE] =	{ "",			"plain number" },
	[SW_UNIT_SECONDS] =	{ "seconds",		"seconds" },
	[SW_UNIT_BYTES] =	{ "bytes",		"bytes" },
	[SW_UNIT_RATIO] =	{ "ratio",		"ratio" },
	[SW_UNIT_BYTES_PER_S] =	{ "bytes_per_second",	"bytes per second" },
	[SW_UNIT_PER_S] =	{ "per_second",		"per second" },
};

const char *
sw_unit_name(enum sw_unit unit)
{
	if ((size_t)unit >= sizeof(unit_names) / sizeof(unit_names[0]))
		unit = SW_UNIT_NONE;
	return unit_names[unit].name;
}

const char *
sw_unit_desc(enum sw_unit unit)
{
	if ((size_t)unit >= sizeof(unit_names) / sizeof(unit_names[0]))
		unit = SW_UNIT_NONE;
	return unit_names[unit].desc;
}
