/*
 * units.h: checked number parsers and the units of the config language.
 * Values are kept in base units, as Prometheus does: seconds (durations are
 * also available as integer milliseconds), bytes, ratios 0-1, and rates per
 * second. Parsers take the whole string and fail on trailing garbage; they
 * never touch *out on failure.
 *
 *   durations  ms s m h d w y    "1.5h", "250ms", "10m", "1h30m" (y = 365d)
 *   sizes      B KB MB GB TB (powers of 1000), KiB MiB GiB TiB (of 1024)
 *   rates      SIZE/DURATION or NUMBER/DURATION    "100MB/d", "5/m"
 *   percent    "1%" = 0.01
 */
#ifndef SW_UNITS_H
#define SW_UNITS_H

#include <stddef.h>
#include <stdint.h>

enum sw_unit {
	SW_UNIT_NONE = 0,	/* plain number */
	SW_UNIT_SECONDS,
	SW_UNIT_BYTES,
	SW_UNIT_RATIO,		/* percent literal */
	SW_UNIT_BYTES_PER_S,
	SW_UNIT_PER_S,		/* number per second, or seconds per second */
};

/* A number with its unit, in base units. */
struct sw_quantity {
	double		v;
	enum sw_unit	unit;
};

/* Strict parsers: the whole of s (length n, or strlen if n == (size_t)-1).
 * Return 0 and set *out, or -1. */
int	sw_parse_int64(const char *s, size_t n, int64_t *out);
int	sw_parse_double(const char *s, size_t n, double *out);	/* finite only */
int	sw_parse_duration_ms(const char *s, size_t n, int64_t *out);
int	sw_parse_size(const char *s, size_t n, double *out);	/* bytes */
/* Any quantity: number, duration, size, rate or percent. */
int	sw_parse_quantity(const char *s, size_t n, struct sw_quantity *out);

/* Human text for a value in base units ("812 MB", "1.5 s", "19 h", "12%").
 * Writes at most dstsz bytes (NUL-terminated); returns dst. */
char	*sw_fmt_quantity(char *dst, size_t dstsz, double v, enum sw_unit unit);
char	*sw_fmt_duration_ms(char *dst, size_t dstsz, int64_t ms);

/* "seconds", "bytes", "ratio", "bytes_per_second", ... and "" for a plain
 * number (for JSON and docs). Static text; an unknown unit is a plain
 * number. */
const char *sw_unit_name(enum sw_unit unit);
/* The same in words for messages: "seconds", "bytes per second", "plain
 * number", ... */
const char *sw_unit_desc(enum sw_unit unit);

#endif
