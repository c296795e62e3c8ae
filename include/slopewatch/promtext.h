/*
 * promtext.h: parser of the Prometheus text exposition format, version
 * 0.0.4 (what prom-client and every Prometheus client library serve on
 * /metrics). One pass over the text, no copy of it: each sample goes to a
 * callback with its metric name, its labels in canonical form, its value,
 * its optional timestamp and the TYPE of the family it belongs to.
 *
 * Accepted, as Prometheus accepts it:
 *   - "# HELP name text" and "# TYPE name counter|gauge|histogram|summary|
 *     untyped"; any other line starting with '#' is a comment; blank lines;
 *     blanks (space, tab) before and between tokens;
 *   - samples "name{label="value",...} value [timestamp_ms]" with an optional
 *     trailing comma in the label set and an empty set "{}";
 *   - quoted (UTF-8) names: {"my.metric",label="v"} and {"my.label"="v"};
 *   - values as Go's ParseFloat reads them, NaN, +Inf, -Inf included;
 *   - an OpenMetrics exemplar after the value or timestamp (" # {...} v"),
 *     which is ignored.
 * Rejected, each with "line N:COL: message":
 *   bad metric or label names, unterminated or non-UTF-8 label values, escapes
 *   other than \\ \" \n in label values, duplicate label names, a missing or
 *   bad value, a bad timestamp, anything else after the timestamp, an unknown
 *   TYPE, a second TYPE for a name, a TYPE after samples of its family, a NUL
 *   byte, a carriage return (CRLF line endings: Prometheus rejects them too),
 *   a last line without its newline (a truncated body), and the caps below.
 *
 * Canonical labels: sorted by name (byte order), `name="value"` joined by ","
 * with no braces, values escaped as Prometheus writes them (\\ \" \n), labels
 * with an empty value left out (Prometheus treats them as absent). This is the
 * form store.h keeps (see sw_series_parse). Names that are not legacy
 * Prometheus names are written quoted ("my.label"="v").
 *
 * Families: a sample belongs to the family whose TYPE names it. For a
 * histogram X the samples X_bucket, X_sum and X_count belong to X; for a
 * summary X, X_sum and X_count; for a counter X (OpenMetrics style), X_total
 * and X_created. A sample with no TYPE is untyped and its own family.
 */
#ifndef SW_PROMTEXT_H
#define SW_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

struct sw_err;

/* Caps: text beyond them fails the parse (nothing outside can make the
 * parser allocate without bound). */
#define SW_PROM_MAX_LINE	65536	/* bytes in one line, '\n' excluded */
#define SW_PROM_MAX_LABELS	64	/* labels on one sample */
#define SW_PROM_MAX_SAMPLES	200000	/* samples in one text */

enum sw_prom_type {
	SW_PROM_UNTYPED = 0,
	SW_PROM_COUNTER,
	SW_PROM_GAUGE,
	SW_PROM_HISTOGRAM,
	SW_PROM_SUMMARY,
};

/* One sample. Every pointer is borrowed, valid only during the callback;
 * strings are NUL-terminated. */
struct sw_prom_sample {
	const char		*name;		/* metric name, as written */
	const char		*family;	/* its family's name */
	enum sw_prom_type	 type;		/* its family's TYPE */
	const char		*labels;	/* canonical, "" for none */
	int			 nlabels;	/* labels in the canonical form */
	int			 legacy;	/* all names legacy ([a-zA-Z_:]...) */
	double			 value;		/* NaN and +-Inf possible */
	int			 has_ts;
	int64_t			 ts_ms;		/* when has_ts */
	int			 line;		/* 1-based */
};

/* Called for each sample, in text order. Return 0 to go on, -1 to stop the
 * parse: sw_prom_parse then returns -1 (set err yourself to say why;
 * otherwise the parser says "line N: stopped"). */
typedef int (*sw_prom_sample_cb)(const struct sw_prom_sample *s, void *arg);

/* Parses len bytes of text (need not be NUL-terminated; never read past
 * len). Returns the number of samples (>= 0), or -1 with err set to
 * "line N:COL: message" at the first error. Samples before the error have
 * already been given to cb: a caller that wants all or nothing collects them
 * and uses them only on success. cb may be NULL (validation only). */
int	sw_prom_parse(const char *text, size_t len, sw_prom_sample_cb cb,
	    void *arg, struct sw_err *err);

/* "counter", "gauge", "histogram", "summary", "untyped". */
const char *sw_prom_type_name(enum sw_prom_type type);

/* Whether name matches one of the n glob patterns (fnmatch(3), no flags);
 * family (may be NULL) is tried as well, so that "x_duration_seconds" keeps
 * the histogram's _bucket, _sum and _count samples. 1 yes, 0 no. */
int	sw_prom_keep(const char *const *globs, int n, const char *name,
	    const char *family);

/* The globs used when a scrape block has no `keep`: process RSS, the V8
 * heap, event-loop lag and request-duration histograms. NULL-terminated. */
extern const char *const sw_prom_default_keep[];

#endif
