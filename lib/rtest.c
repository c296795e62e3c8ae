#include "config.h"
/*
 * rtest.c: replaying series through the rules (rtest.h): in-memory series
 * from CSV files and from the series notation of rule-test files, the
 * config a replay runs with (stub targets for what the rules file does not
 * define), the replay itself, and the rule-test file parser and checker
 * (slopewatch-test(5)).
 *
 * Invariants: every series is in non-decreasing time order (push refuses
 * anything else), so the replay is a k-way merge; the replay never reads
 * the clock, so a run is a pure function of its inputs; every input is
 * capped (SW_RTEST_MAX_*), and every error names FILE:LINE:COL.
 */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slopewatch/buf.h"
#include "slopewatch/err.h"
#include "slopewatch/expr.h"
#include "slopewatch/log.h"
#include "slopewatch/rtest.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#define RT_NAME_MAX	(SW_STORE_NAME_MAX + 1)
#define RT_LABELS_MAX	(SW_STORE_LABELS_MAX + 1)
#define RT_SHOW		64	/* bytes of outside text quoted in errors */

/* ------------------------------------------------------------------ */
/* small helpers */

static int
strlist_add(struct sw_strlist *l, const char *s, const char **copy)
{
	char	**v, *c;

	if ((c = strdup(s)) == NULL)
		return -1;
	if ((v = realloc(l->v, (size_t)(l->n + 1) * sizeof(*v))) == NULL) {
		free(c);
		return -1;
	}
	l->v = v;
	l->v[l->n++] = c;
	if (copy != NULL)
		*copy = c;
	return 0;
}

static const char *
esc(char *dst, size_t dstsz, const char *s, size_t n)
{
	return sw_log_escape(dst, dstsz, s, n);
}

/* floor(a / b) for b > 0 */
static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t	q = a / b;

	if ((a % b != 0) && (a < 0))
		q--;
	return q;
}

/* ------------------------------------------------------------------ */
/* data */

void
sw_rtest_data_init(struct sw_rtest_data *d)
{
	memset(d, 0, sizeof(*d));
}

void
sw_rtest_data_release(struct sw_rtest_data *d)
{
	int	i;

	for (i = 0; i < d->n; i++) {
		free(d->s[i].name);
		free(d->s[i].target);
		free(d->s[i].metric);
		free(d->s[i].labels);
		free(d->s[i].ts);
		free(d->s[i].v);
	}
	free(d->s);
	sw_strlist_release(&d->files);
	memset(d, 0, sizeof(*d));
}

const char *
sw_rtest_data_file(struct sw_rtest_data *d, const char *path)
{
	const char	*c;
	int		 i;

	for (i = 0; i < d->files.n; i++)
		if (strcmp(d->files.v[i], path) == 0)
			return d->files.v[i];
	if (strlist_add(&d->files, path, &c) == -1)
		return NULL;
	return c;
}

struct sw_rtest_series *
sw_rtest_data_find(const struct sw_rtest_data *d, const char *name)
{
	int	i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->s[i].name, name) == 0)
			return &d->s[i];
	return NULL;
}

int
sw_rtest_data_add(struct sw_rtest_data *d, const char *name,
    const struct sw_loc *loc, struct sw_rtest_series **out,
    struct sw_err *err)
{
	char			 target[RT_NAME_MAX], metric[RT_NAME_MAX];
	char			 labels[RT_LABELS_MAX], canon[RT_NAME_MAX * 2 +
				    RT_LABELS_MAX + 4], e[RT_SHOW];
	struct sw_rtest_series	*s, *v;
	int			 ncap;

	if (sw_series_parse(name, target, sizeof(target), metric,
	    sizeof(metric), labels, sizeof(labels), err) == -1)
		return -1;
	sw_series_format(canon, sizeof(canon), target, metric, labels);
	if (sw_rtest_data_find(d, canon) != NULL)
		return sw_err_set(err, "series %s given twice",
		    esc(e, sizeof(e), canon, strlen(canon)));
	if (d->n >= SW_RTEST_MAX_SERIES)
		return sw_err_set(err, "too many series (at most %d)",
		    SW_RTEST_MAX_SERIES);
	if (d->n == d->cap) {
		ncap = d->cap == 0 ? 8 : d->cap * 2;
		if ((v = realloc(d->s, (size_t)ncap * sizeof(*v))) == NULL)
			return sw_err_sys(err, ENOMEM, "series");
		d->s = v;
		d->cap = ncap;
	}
	s = &d->s[d->n];
	memset(s, 0, sizeof(*s));
	s->name = strdup(canon);
	s->target = strdup(target);
	s->metric = strdup(metric);
	s->labels = strdup(labels);
	if (s->name == NULL || s->target == NULL || s->metric == NULL ||
	    s->labels == NULL) {
		free(s->name);
		free(s->target);
		free(s->metric);
		free(s->labels);
		return sw_err_sys(err, ENOMEM, "series");
	}
	if (loc != NULL)
		s->loc = *loc;
	s->is_pid = strcmp(metric, "pid") == 0;
	d->n++;
	if (out != NULL)
		*out = s;
	return 0;
}

int
sw_rtest_series_push(struct sw_rtest_data *d, struct sw_rtest_series *s,
    int64_t ts, double v, struct sw_err *err)
{
	size_t	 ncap;
	int64_t	*nts;
	double	*nv;

	if (s->n > 0 && ts < s->ts[s->n - 1])
		return sw_err_set(err, "series %s goes back in time", s->name);
	if (d->nsamples >= SW_RTEST_MAX_SAMPLES)
		return sw_err_set(err, "too many samples (at most %d)",
		    SW_RTEST_MAX_SAMPLES);
	if (s->n == s->cap) {
		ncap = s->cap == 0 ? 256 : s->cap * 2;
		if ((nts = realloc(s->ts, ncap * sizeof(*nts))) == NULL)
			return sw_err_sys(err, ENOMEM, "samples");
		s->ts = nts;
		if ((nv = realloc(s->v, ncap * sizeof(*nv))) == NULL)
			return sw_err_sys(err, ENOMEM, "samples");
		s->v = nv;
		s->cap = ncap;
	}
	s->ts[s->n] = ts;
	s->v[s->n] = v;
	s->n++;
	d->nsamples++;
	return 0;
}

int
sw_rtest_data_span(const struct sw_rtest_data *d, int64_t *first,
    int64_t *last)
{
	int	i, any = 0;

	for (i = 0; i < d->n; i++) {
		if (d->s[i].n == 0)
			continue;
		if (!any || d->s[i].ts[0] < *first)
			*first = d->s[i].ts[0];
		if (!any || d->s[i].ts[d->s[i].n - 1] > *last)
			*last = d->s[i].ts[d->s[i].n - 1];
		any = 1;
	}
	return any ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* time */

/* days since 1970-01-01 of a civil date (H. Hinnant's algorithm) */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
digits(const char *s, size_t n, size_t *i, int k, int *out)
{
	int	v = 0, j;

	for (j = 0; j < k; j++, (*i)++) {
		if (*i >= n || !isdigit((unsigned char)s[*i]))
			return -1;
		v = v * 10 + (s[*i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_rfc3339(const char *s, size_t n, int64_t *ms)
{
	size_t	i = 0;
	int	y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0, frac = 0, nf = 0;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (digits(s, n, &i, 4, &y) == -1 || i >= n || s[i++] != '-' ||
	    digits(s, n, &i, 2, &mo) == -1 || i >= n || s[i++] != '-' ||
	    digits(s, n, &i, 2, &d) == -1 || i >= n ||
	    (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
		return -1;
	i++;
	if (digits(s, n, &i, 2, &h) == -1 || i >= n || s[i++] != ':' ||
	    digits(s, n, &i, 2, &mi) == -1 || i >= n || s[i++] != ':' ||
	    digits(s, n, &i, 2, &se) == -1)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !isdigit((unsigned char)s[i]))
			return -1;
		while (i < n && isdigit((unsigned char)s[i])) {
			if (nf < 3) {
				frac = frac * 10 + (s[i] - '0');
				nf++;
			}
			i++;
		}
		while (nf < 3) {
			frac *= 10;
			nf++;
		}
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		sign = s[i++] == '-' ? -1 : 1;
		if (digits(s, n, &i, 2, &oh) == -1 || i >= n || s[i++] != ':' ||
		    digits(s, n, &i, 2, &om) == -1 || oh > 23 || om > 59)
			return -1;
	} else
		return -1;
	if (i != n)
		return -1;
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) -
	    sign * (oh * 3600 + om * 60)) * 1000 + frac;
	return 0;
}

int
sw_rtest_parse_time(const char *s, size_t n, int64_t *ms)
{
	size_t	i, dot = (size_t)-1;
	int64_t	ip, frac = 0;
	int	nf = 0;

	if (n == (size_t)-1)
		n = strlen(s);
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' && dot == (size_t)-1)
			dot = i;
		else if (!isdigit((unsigned char)s[i]))
			return parse_rfc3339(s, n, ms);
	}
	if (dot == 0 || dot == n - 1)
		return -1;
	if (sw_parse_int64(s, dot == (size_t)-1 ? n : dot, &ip) == -1 ||
	    ip < 0 || ip > INT64_MAX / 1000 - 1)
		return -1;
	if (dot == (size_t)-1) {
		/* unix seconds or milliseconds, told apart by magnitude */
		*ms = ip < 100000000000LL ? ip * 1000 : ip;
		return 0;
	}
	for (i = dot + 1; i < n; i++) {
		if (nf < 3) {
			frac = frac * 10 + (s[i] - '0');
			nf++;
		} else if (nf == 3) {
			if (s[i] >= '5')
				frac++;	/* round to the millisecond */
			nf++;
		}
	}
	while (nf < 3) {
		frac *= 10;
		nf++;
	}
	*ms = ip * 1000 + frac;
	return 0;
}

/* ------------------------------------------------------------------ */
/* CSV */

struct csv_field {
	size_t	 off;		/* in the line, for the column */
	size_t	 start;		/* in the scratch buffer */
	char	*text;		/* unquoted, NUL-terminated (in scratch) */
	size_t	 len;
};

#define CSV_MAX_FIELDS	(SW_RTEST_MAX_SERIES + 1)

/* Splits one line (without its newline) into fields, unquoting into buf.
 * Returns the field count, or -1 with *bad the offset of the fault. */
static int
csv_split(const char *line, size_t n, struct sw_buf *buf,
    struct csv_field *f, size_t *bad, const char **why)
{
	size_t	i = 0, start;
	int	nf = 0;

	sw_buf_reset(buf);
	for (;;) {
		if (nf >= CSV_MAX_FIELDS) {
			*bad = i;
			*why = "too many fields";
			return -1;
		}
		f[nf].off = i;
		start = buf->len;
		if (i < n && line[i] == '"') {
			i++;
			for (;;) {
				if (i >= n) {
					*bad = f[nf].off;
					*why = "unterminated quote";
					return -1;
				}
				if (line[i] == '"') {
					if (i + 1 < n && line[i + 1] == '"') {
						if (sw_buf_addc(buf, '"') == -1)
							goto full;
						i += 2;
						continue;
					}
					i++;
					break;
				}
				if (sw_buf_addc(buf, line[i++]) == -1)
					goto full;
			}
			if (i < n && line[i] != ',') {
				*bad = i;
				*why = "expected ',' after a quoted field";
				return -1;
			}
		} else {
			while (i < n && line[i] != ',') {
				if (line[i] == '"') {
					*bad = i;
					*why = "unexpected quote (quote the whole "
					    "field, doubling inner quotes)";
					return -1;
				}
				if (sw_buf_addc(buf, line[i++]) == -1)
					goto full;
			}
		}
		if (sw_buf_addc(buf, '\0') == -1)
			goto full;
		f[nf].len = buf->len - 1 - start;
		f[nf].start = start;	/* buf may move: pointers below */
		nf++;
		if (i >= n)
			break;
		i++;	/* the comma */
	}
	for (i = 0; i < (size_t)nf; i++)
		f[i].text = buf->data + f[i].start;
	return nf;
full:
	*bad = i;
	*why = "line too long";
	return -1;
}

/* trims blanks around a field in place */
static void
csv_trim(struct csv_field *f)
{
	while (f->len > 0 && (f->text[0] == ' ' || f->text[0] == '\t')) {
		f->text++;
		f->off++;
		f->len--;
	}
	while (f->len > 0 && (f->text[f->len - 1] == ' ' ||
	    f->text[f->len - 1] == '\t'))
		f->text[--f->len] = '\0';
}

int
sw_rtest_csv_parse(struct sw_rtest_data *d, const char *name,
    const char *text, size_t len, struct sw_err *err)
{
	struct csv_field	 f[CSV_MAX_FIELDS];
	struct sw_rtest_series	*col[CSV_MAX_FIELDS];
	struct sw_buf		 buf;
	struct sw_err		 e;
	struct sw_loc		 loc;
	const char		*file, *line, *nl, *why = "";
	size_t			 pos = 0, n, bad;
	int			 lineno = 0, nf, ncols = 0, i, rc = -1;
	int64_t			 ts, prev = INT64_MIN;
	double			 v;
	char			 s[RT_SHOW];

	sw_buf_init(&buf, SW_RTEST_MAX_LINE * 4);
	if ((file = sw_rtest_data_file(d, name)) == NULL) {
		sw_err_sys(err, ENOMEM, "%s", name);
		goto out;
	}
	while (pos < len) {
		line = text + pos;
		nl = memchr(line, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		lineno++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (memchr(line, '\0', n) != NULL) {
			sw_err_set(err, "%s:%d:1: NUL byte in the line", file,
			    lineno);
			goto out;
		}
		for (i = 0; (size_t)i < n && (line[i] == ' ' ||
		    line[i] == '\t'); i++)
			;
		if ((size_t)i == n)
			continue;	/* blank */
		if ((nf = csv_split(line, n, &buf, f, &bad, &why)) == -1) {
			sw_err_set(err, "%s:%d:%zu: %s", file, lineno, bad + 1,
			    why);
			goto out;
		}
		for (i = 0; i < nf; i++)
			csv_trim(&f[i]);
		if (ncols == 0) {
			/* the header */
			if (nf < 2) {
				sw_err_set(err, "%s:%d:1: expected a header "
				    "like time,web.rss (the time, then one "
				    "column per series)", file, lineno);
				goto out;
			}
			for (i = 1; i < nf; i++) {
				loc.file = file;
				loc.line = lineno;
				loc.col = (int)f[i].off + 1;
				sw_err_clear(&e);
				if (sw_rtest_data_add(d, f[i].text, &loc,
				    &col[i], &e) == -1) {
					sw_err_set(err, "%s:%d:%d: %s", file,
					    lineno, loc.col, e.msg);
					goto out;
				}
			}
			ncols = nf;
			continue;
		}
		if (nf != ncols) {
			sw_err_set(err, "%s:%d:1: %d fields, the header has %d",
			    file, lineno, nf, ncols);
			goto out;
		}
		if (sw_rtest_parse_time(f[0].text, f[0].len, &ts) == -1) {
			sw_err_set(err, "%s:%d:%zu: bad time \"%s\" (expected "
			    "unix seconds, unix milliseconds or RFC 3339)",
			    file, lineno, f[0].off + 1, esc(s, sizeof(s),
			    f[0].text, f[0].len));
			goto out;
		}
		if (ts < prev) {
			sw_err_set(err, "%s:%d:%zu: time goes back (rows must "
			    "be in time order)", file, lineno, f[0].off + 1);
			goto out;
		}
		prev = ts;
		for (i = 1; i < nf; i++) {
			if (f[i].len == 0 || strcmp(f[i].text, "_") == 0 ||
			    strcasecmp(f[i].text, "nan") == 0)
				continue;
			if (sw_parse_double(f[i].text, f[i].len, &v) == -1) {
				sw_err_set(err, "%s:%d:%zu: bad number \"%s\" "
				    "(values are plain numbers in base units: "
				    "bytes, seconds)", file, lineno, f[i].off +
				    1, esc(s, sizeof(s), f[i].text, f[i].len));
				goto out;
			}
			sw_err_clear(&e);
			if (sw_rtest_series_push(d, col[i], ts, v, &e) == -1) {
				sw_err_set(err, "%s:%d:%zu: %s", file, lineno,
				    f[i].off + 1, e.msg);
				goto out;
			}
		}
	}
	if (ncols == 0) {
		sw_err_set(err, "%s: empty (expected a header like "
		    "time,web.rss)", file);
		goto out;
	}
	rc = 0;
out:
	sw_buf_release(&buf);
	return rc;
}

int
sw_rtest_csv_load(struct sw_rtest_data *d, const char *path,
    struct sw_err *err)
{
	struct sw_buf	b;
	int		rc;

	sw_buf_init(&b, SW_RTEST_MAX_FILE);
	if (sw_buf_read_file(&b, path, err) == -1) {
		sw_buf_release(&b);
		return -1;
	}
	rc = sw_rtest_csv_parse(d, path, sw_buf_str(&b), b.len, err);
	sw_buf_release(&b);
	return rc;
}

/* ------------------------------------------------------------------ */
/* series notation */

struct rng {
	uint64_t	s;
	int		has;
	double		spare;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t	z;

	z = (r->s += 0x9e3779b97f4a7c15ULL);	/* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in (0, 1) */
static double
rng_unit(struct rng *r)
{
	return ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

static double
rng_gauss(struct rng *r)
{
	double	u, v;

	if (r->has) {
		r->has = 0;
		return r->spare;
	}
	u = rng_unit(r);
	v = rng_unit(r);
	r->spare = sqrt(-2 * log(u)) * sin(2 * M_PI * v);
	r->has = 1;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

enum ov_kind { OV_SAW, OV_WAVE, OV_NOISE, OV_JITTER, OV_SPIKE };

struct overlay {
	enum ov_kind	kind;
	double		a;	/* amplitude, sigma, height */
	int64_t		p_ms;	/* period, or spike offset */
	int		done;	/* spike applied */
};

#define NOT_MAX_OVERLAYS	16

struct notation {
	struct sw_rtest_data	*d;
	struct sw_rtest_series	*s;
	const struct sw_loc	*at;
	struct sw_err		*err;
	int64_t			 start, step, t;
	size_t			 k;		/* samples emitted (index) */
	struct overlay		 ov[NOT_MAX_OVERLAYS];
	int			 nov;
	struct rng		 rng;
	/* pass 1 collects the raw values; overlays applied in pass 2 */
	int			 pass;
};

static int
not_error(struct notation *nt, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
not_error(struct notation *nt, size_t off, const char *fmt, ...)
{
	char	msg[SW_ERR_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sw_err_set(nt->err, "%s:%d:%zu: %s", nt->at->file != NULL ?
	    nt->at->file : "-", nt->at->line, (size_t)nt->at->col + off, msg);
}

/* A quantity: number with an optional unit (kept in base units). */
static int
not_value(const char *s, size_t n, double *v, enum sw_unit *unit)
{
	struct sw_quantity	q;

	if (sw_parse_quantity(s, n, &q) == -1)
		return -1;
	*v = q.v;
	if (unit != NULL)
		*unit = q.unit;
	return 0;
}

static int
not_emit(struct notation *nt, double v, size_t off)
{
	struct sw_err	e;
	int		i;
	double		ph;
	int64_t		rel = nt->t - nt->start;

	if (!isnan(v)) {
		for (i = 0; i < nt->nov; i++) {
			struct overlay	*o = &nt->ov[i];

			switch (o->kind) {
			case OV_SAW:
				ph = (double)(((rel % o->p_ms) + o->p_ms) %
				    o->p_ms) / (double)o->p_ms;
				v += o->a * ph;
				break;
			case OV_WAVE:
				v += o->a * sin(2 * M_PI * (double)rel /
				    (double)o->p_ms);
				break;
			case OV_NOISE:
				v += o->a * rng_gauss(&nt->rng);
				break;
			case OV_JITTER:
				v *= exp(o->a * rng_gauss(&nt->rng));
				break;
			case OV_SPIKE:
				if (!o->done && rel >= o->p_ms) {
					v += o->a;
					o->done = 1;
				}
				break;
			}
		}
		sw_err_clear(&e);
		if (sw_rtest_series_push(nt->d, nt->s, nt->t, v, &e) == -1)
			return not_error(nt, off, "%s", e.msg);
	}
	nt->t += nt->step;
	nt->k++;
	return 0;
}

/* "xN" count: digits, or a duration divided by the step. */
static int
not_count(struct notation *nt, const char *s, size_t n, size_t off,
    int64_t *cnt)
{
	int64_t	c, ms;

	if (n == 0)
		return not_error(nt, off, "expected a count after 'x' (x600, "
		    "or a duration like x6h)");
	if (sw_parse_int64(s, n, &c) == 0 && c >= 0) {
		*cnt = c;
	} else if (sw_parse_duration_ms(s, n, &ms) == 0 && ms >= 0) {
		*cnt = ms / nt->step;
	} else {
		char	e[RT_SHOW];

		return not_error(nt, off, "bad count \"%s\" (expected a "
		    "number of steps like 600, or a duration like 6h)",
		    esc(e, sizeof(e), s, n));
	}
	if (*cnt > SW_RTEST_MAX_SAMPLES)
		return not_error(nt, off, "count %" PRId64 " is too large (at "
		    "most %d)", *cnt, SW_RTEST_MAX_SAMPLES);
	return 0;
}

static int
not_term(struct notation *nt, const char *s, size_t n, size_t off)
{
	size_t		 i, xpos = (size_t)-1, op = 0;
	int64_t		 cnt = -1, k;
	double		 a, b = 0;
	enum sw_unit	 ua, ub;
	char		 opc = 0, e[RT_SHOW];

	/* the count: the last 'x' (no unit contains one) */
	for (i = n; i > 0; i--)
		if (s[i - 1] == 'x') {
			xpos = i - 1;
			break;
		}
	if (xpos != (size_t)-1) {
		if (not_count(nt, s + xpos + 1, n - xpos - 1, off + xpos + 1,
		    &cnt) == -1)
			return -1;
		n = xpos;
	}
	if (n == 1 && s[0] == '_') {
		if (cnt < 0)
			cnt = 1;	/* promtool: _xN is N missing samples */
		for (k = 0; k < cnt; k++)
			if (not_emit(nt, NAN, off) == -1)
				return -1;
		return 0;
	}
	/* the operator: + - * past the first byte, not an exponent sign */
	for (i = 1; i < n; i++) {
		if (s[i] != '+' && s[i] != '-' && s[i] != '*')
			continue;
		if (s[i] != '*' && (s[i - 1] == 'e' || s[i - 1] == 'E') &&
		    i >= 2 && isdigit((unsigned char)s[i - 2]))
			continue;
		op = i;
		opc = s[i];
		break;
	}
	if (op == 0) {
		if (not_value(s, n, &a, NULL) == -1)
			return not_error(nt, off, "bad value \"%s\" (expected "
			    "a number with an optional unit, like 100MB, "
			    "250ms or 5%%)", esc(e, sizeof(e), s, n));
		if (cnt < 0)
			cnt = 0;
		for (k = 0; k <= cnt; k++)
			if (not_emit(nt, a, off) == -1)
				return -1;
		return 0;
	}
	if (cnt < 0)
		return not_error(nt, off + n, "expected xN after \"%s\" (the "
		    "number of further samples)", esc(e, sizeof(e), s, n));
	if (not_value(s, op, &a, &ua) == -1)
		return not_error(nt, off, "bad value \"%s\"",
		    esc(e, sizeof(e), s, op));
	if (not_value(s + op + 1, n - op - 1, &b, &ub) == -1)
		return not_error(nt, off + op + 1, "bad step \"%s\"",
		    esc(e, sizeof(e), s + op + 1, n - op - 1));
	if (opc == '*') {
		if (ub != SW_UNIT_NONE)
			return not_error(nt, off + op + 1, "the factor of "
			    "a*bxN is a plain number, like 1.01");
	} else if (ub != ua && ub != SW_UNIT_NONE && ua != SW_UNIT_NONE)
		return not_error(nt, off + op + 1, "the step's unit differs "
		    "from the start value's");
	if (opc == '-')
		b = -b;
	for (k = 0; k <= cnt; k++) {
		double	v;

		if (opc == '*')
			v = a * pow(b, (double)k);
		else
			v = a + b * (double)k;
		if (not_emit(nt, v, off) == -1)
			return -1;
	}
	return 0;
}

/* name(ARG, ARG): overlays */
static int
not_overlay(struct notation *nt, const char *s, size_t n, size_t off)
{
	static const struct {
		const char	*name;
		enum ov_kind	 kind;
		int		 nargs;
		const char	*usage;
	} tab[] = {
		{ "saw", OV_SAW, 2, "saw(AMPLITUDE, PERIOD)" },
		{ "wave", OV_WAVE, 2, "wave(AMPLITUDE, PERIOD)" },
		{ "noise", OV_NOISE, 1, "noise(SIGMA)" },
		{ "jitter", OV_JITTER, 1, "jitter(PERCENT)" },
		{ "spike", OV_SPIKE, 2, "spike(AT, HEIGHT)" },
	};
	const char	*arg[2];
	size_t		 alen[2], aoff[2], i, j, p;
	size_t		 nl;
	int		 na = 0, t = -1;
	struct overlay	*o;
	int64_t		 ms;
	char		 e[RT_SHOW];

	p = (size_t)((const char *)memchr(s, '(', n) - s);
	nl = p;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == nl &&
		    strncmp(tab[i].name, s, nl) == 0)
			t = (int)i;
	if (t < 0)
		return not_error(nt, off, "unknown overlay \"%s\" (expected "
		    "saw, wave, noise, jitter or spike)",
		    esc(e, sizeof(e), s, nl));
	if (s[n - 1] != ')')
		return not_error(nt, off + n, "expected ')' to close %s",
		    tab[t].usage);
	/* split the arguments */
	i = p + 1;
	while (i < n - 1) {
		while (i < n - 1 && (s[i] == ' ' || s[i] == '\t'))
			i++;
		j = i;
		while (j < n - 1 && s[j] != ',')
			j++;
		if (na == 2)
			return not_error(nt, off + i, "too many arguments; "
			    "expected %s", tab[t].usage);
		arg[na] = s + i;
		aoff[na] = i;
		alen[na] = j - i;
		while (alen[na] > 0 && (arg[na][alen[na] - 1] == ' ' ||
		    arg[na][alen[na] - 1] == '\t'))
			alen[na]--;
		na++;
		i = j + 1;
	}
	if (na != tab[t].nargs)
		return not_error(nt, off, "expected %s", tab[t].usage);
	if (nt->nov == NOT_MAX_OVERLAYS)
		return not_error(nt, off, "too many overlays (at most %d)",
		    NOT_MAX_OVERLAYS);
	o = &nt->ov[nt->nov];
	memset(o, 0, sizeof(*o));
	o->kind = tab[t].kind;
	switch (o->kind) {
	case OV_SAW:
	case OV_WAVE:
		if (not_value(arg[0], alen[0], &o->a, NULL) == -1)
			return not_error(nt, off + aoff[0], "bad amplitude "
			    "\"%s\"", esc(e, sizeof(e), arg[0], alen[0]));
		if (sw_parse_duration_ms(arg[1], alen[1], &ms) == -1 || ms <= 0)
			return not_error(nt, off + aoff[1], "bad period \"%s\" "
			    "(expected a duration like 5m)",
			    esc(e, sizeof(e), arg[1], alen[1]));
		o->p_ms = ms;
		break;
	case OV_NOISE:
	case OV_JITTER:
		if (not_value(arg[0], alen[0], &o->a, NULL) == -1 || o->a < 0)
			return not_error(nt, off + aoff[0], "bad %s \"%s\"",
			    o->kind == OV_NOISE ? "sigma" : "percentage",
			    esc(e, sizeof(e), arg[0], alen[0]));
		break;
	case OV_SPIKE:
		if (sw_parse_duration_ms(arg[0], alen[0], &ms) == -1 || ms < 0)
			return not_error(nt, off + aoff[0], "bad offset \"%s\" "
			    "(expected a duration like 6h)",
			    esc(e, sizeof(e), arg[0], alen[0]));
		o->p_ms = ms;
		if (not_value(arg[1], alen[1], &o->a, NULL) == -1)
			return not_error(nt, off + aoff[1], "bad height \"%s\"",
			    esc(e, sizeof(e), arg[1], alen[1]));
		break;
	}
	nt->nov++;
	return 0;
}

/* splits text into words (parentheses group blanks); cb per word */
struct word {
	size_t	off, len;
};

#define NOT_MAX_WORDS	4096

static int
not_words(struct notation *nt, const char *text, struct word *w, int *nw)
{
	size_t	i = 0, n = strlen(text), st;
	int	depth;

	*nw = 0;
	for (;;) {
		while (i < n && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i >= n || text[i] == '#')
			break;
		st = i;
		depth = 0;
		while (i < n && (depth > 0 || (text[i] != ' ' &&
		    text[i] != '\t'))) {
			if (text[i] == '(')
				depth++;
			else if (text[i] == ')' && --depth < 0)
				return not_error(nt, i, "unbalanced ')'");
			i++;
		}
		if (depth > 0)
			return not_error(nt, st, "unclosed '('");
		if (*nw == NOT_MAX_WORDS)
			return not_error(nt, st, "too many terms (at most %d)",
			    NOT_MAX_WORDS);
		w[*nw].off = st;
		w[*nw].len = i - st;
		(*nw)++;
	}
	return 0;
}

int
sw_rtest_notation(struct sw_rtest_data *d, struct sw_rtest_series *s,
    const char *text, const struct sw_loc *at, int64_t start_ms,
    int64_t step_ms, uint64_t seed, struct sw_err *err)
{
	struct notation	 nt;
	struct sw_loc	 here = { "-", 1, 1 };
	struct word	*w;
	int		 nw, i, nterms = 0, rc = -1;

	memset(&nt, 0, sizeof(nt));
	nt.d = d;
	nt.s = s;
	nt.at = at != NULL ? at : &here;
	nt.err = err;
	nt.start = nt.t = start_ms;
	nt.step = step_ms;
	nt.rng.s = seed;
	if (step_ms <= 0)
		return not_error(&nt, 0, "the step must be positive");
	if ((w = calloc(NOT_MAX_WORDS, sizeof(*w))) == NULL)
		return sw_err_sys(err, ENOMEM, "series");
	if (not_words(&nt, text, w, &nw) == -1)
		goto out;
	/* overlays first (they apply to the whole line), then the terms */
	for (i = 0; i < nw; i++) {
		const char *p = text + w[i].off;

		if (memchr(p, '(', w[i].len) != NULL) {
			if (not_overlay(&nt, p, w[i].len, w[i].off) == -1)
				goto out;
		} else if (nt.nov > 0) {
			not_error(&nt, w[i].off, "a term after an overlay; "
			    "write the terms first, then overlays such as "
			    "saw(50MB, 5m)");
			goto out;
		} else
			nterms++;
	}
	if (nterms == 0) {
		not_error(&nt, 0, "expected values, like 100MB+2MBx600");
		goto out;
	}
	for (i = 0; i < nw; i++) {
		const char *p = text + w[i].off;

		if (memchr(p, '(', w[i].len) != NULL)
			break;
		if (not_term(&nt, p, w[i].len, w[i].off) == -1)
			goto out;
	}
	rc = 0;
out:
	free(w);
	return rc;
}

/* ------------------------------------------------------------------ */
/* config: the rules plus stub targets */

static const char *const process_metric_names[] = {
	"rss", "pss", "anon", "swap", "limit", "cgroup_current", "cpu",
	"threads", "fds", "processes", "pid", "oom_kills", NULL,
};
static const char *const endpoint_metric_names[] = {
	"latency", "dns", "connect", "tls", "ttfb", "status", "up", "bytes",
	"failures", NULL,
};

static int
in_list(const char *const *l, const char *s)
{
	for (; *l != NULL; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

enum sw_target_kind
sw_rtest_infer_kind(const char *metric)
{
	if (in_list(process_metric_names, metric))
		return SW_TARGET_PROCESS;
	if (in_list(endpoint_metric_names, metric))
		return SW_TARGET_ENDPOINT;
	return SW_TARGET_SCRAPE;
}

struct need {
	char		*name;
	int		 kind;		/* -1 unknown (scrape if nothing else) */
	int64_t		 every_ms;	/* 0 unknown */
	const struct sw_rtest_target *tg;
};

struct needs {
	struct need	*v;
	int		 n;
	int		 cap;
	int		 oom;
};

static struct need *
needs_get(struct needs *ns, const char *name)
{
	struct need	*v;
	int		 i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i].name, name) == 0)
			return &ns->v[i];
	if (ns->n == ns->cap) {
		int ncap = ns->cap == 0 ? 8 : ns->cap * 2;

		if ((v = realloc(ns->v, (size_t)ncap * sizeof(*v))) == NULL) {
			ns->oom = 1;
			return NULL;
		}
		ns->v = v;
		ns->cap = ncap;
	}
	memset(&ns->v[ns->n], 0, sizeof(ns->v[0]));
	if ((ns->v[ns->n].name = strdup(name)) == NULL) {
		ns->oom = 1;
		return NULL;
	}
	ns->v[ns->n].kind = -1;
	return &ns->v[ns->n++];
}

static void
needs_metric(struct needs *ns, const char *target, const char *metric)
{
	struct need		*nd;
	enum sw_target_kind	 k;

	if ((nd = needs_get(ns, target)) == NULL)
		return;
	k = metric != NULL ? sw_rtest_infer_kind(metric) : SW_TARGET_ENDPOINT;
	if (nd->kind == -1 || nd->kind == SW_TARGET_SCRAPE)
		nd->kind = (int)k;
}

static void
needs_walk(struct needs *ns, const struct sw_expr *x)
{
	int	i;

	if (x == NULL)
		return;
	if (x->kind == SW_EXPR_SERIES && x->target != NULL)
		needs_metric(ns, x->target, x->metric);
	else if (x->kind == SW_EXPR_TARGET && x->target != NULL)
		needs_metric(ns, x->target, NULL);
	for (i = 0; i < x->nargs; i++)
		needs_walk(ns, x->arg[i]);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* median spacing of a series (0 when it has fewer than 2 samples) */
static int64_t
median_step(const struct sw_rtest_series *s)
{
	int64_t	*dt, m;
	size_t	 i, n;

	if (s->n < 2)
		return 0;
	n = s->n - 1 > 4096 ? 4096 : s->n - 1;
	if ((dt = malloc(n * sizeof(*dt))) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		dt[i] = s->ts[i + 1] - s->ts[i];
	qsort(dt, n, sizeof(*dt), cmp_i64);
	m = dt[n / 2];
	free(dt);
	return m;
}

static void
needs_free(struct needs *ns)
{
	int	i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i].name);
	free(ns->v);
}

static void
diag_msg(sw_conf_diag_cb diag, void *arg, const struct sw_loc *loc,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
diag_msg(sw_conf_diag_cb diag, void *arg, const struct sw_loc *loc,
    const char *fmt, ...)
{
	char	msg[SW_ERR_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (diag != NULL)
		diag(loc, msg, arg);
}

/* The text of an include line for path: a quoted absolute path. */
static int
add_include(struct sw_buf *b, const char *path)
{
	char		*abs;
	const char	*p;
	int		 rc = 0;

	if ((abs = realpath(path, NULL)) == NULL)
		return -1;
	rc |= sw_buf_adds(b, "include \"");
	for (p = abs; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			rc |= sw_buf_addc(b, '\\');
		rc |= sw_buf_addc(b, *p);
	}
	rc |= sw_buf_adds(b, "\"\n");
	free(abs);
	return rc != 0 ? -1 : 0;
}

int
sw_rtest_conf_build(const char *path, const struct sw_rtest_data *d,
    const struct sw_rtest_target *tg, int ntg, struct sw_conf **out,
    sw_conf_diag_cb diag, void *diag_arg)
{
	struct sw_conf			*base = NULL;
	const struct sw_conf_rule	*r;
	const struct sw_conf_target	*ct;
	struct sw_expr			*x;
	struct needs			 ns;
	struct need			*nd;
	struct sw_buf			 b;
	char				*name = NULL;
	int				 i, j, nstubs = 0, rc = -1, errs = 0;
	int64_t				 st;

	*out = NULL;
	memset(&ns, 0, sizeof(ns));
	sw_buf_init(&b, 1 << 20);
	if (sw_conf_load(path, &base, diag, diag_arg, NULL) == -1)
		goto out;
	/* what the data, the rules and the target lines name */
	for (i = 0; d != NULL && i < d->n; i++)
		needs_metric(&ns, d->s[i].target, d->s[i].metric);
	for (r = base->rules; r != NULL; r = r->next) {
		if (r->when == NULL)
			continue;
		x = sw_expr_parse(r->when, &r->when_loc, NULL,
		    SW_EXPR_CONDITION, NULL, NULL, NULL);
		needs_walk(&ns, x);	/* errors: the engine reports them */
		sw_expr_free(x);
	}
	for (i = 0; i < ntg; i++) {
		if ((ct = sw_conf_target_find(base, tg[i].name)) != NULL) {
			diag_msg(diag, diag_arg, &tg[i].loc, "target %s is "
			    "defined in %s:%d; a target line only sets up a "
			    "target the rules file does not define",
			    tg[i].name, ct->loc.file != NULL ? ct->loc.file :
			    path, ct->loc.line);
			errs++;
			continue;
		}
		if ((nd = needs_get(&ns, tg[i].name)) != NULL) {
			nd->tg = &tg[i];
			if (tg[i].kind >= 0)
				nd->kind = tg[i].kind;
		}
	}
	if (ns.oom) {
		diag_msg(diag, diag_arg, NULL, "out of memory");
		goto out;
	}
	if (errs > 0)
		goto out;
	/* sample spacing per target */
	for (i = 0; d != NULL && i < d->n; i++) {
		if ((nd = needs_get(&ns, d->s[i].target)) == NULL)
			continue;
		if (nd->every_ms == 0 && (st = median_step(&d->s[i])) > 0)
			nd->every_ms = st;
	}
	if (add_include(&b, path) == -1) {
		diag_msg(diag, diag_arg, NULL, "%s: cannot resolve the path: "
		    "%s", path, strerror(errno));
		goto out;
	}
	for (i = 0; i < ns.n; i++) {
		nd = &ns.v[i];
		if (strcmp(nd->name, "slopewatch") == 0 ||
		    sw_conf_target_find(base, nd->name) != NULL)
			continue;
		if (nd->kind == -1)
			nd->kind = SW_TARGET_SCRAPE;
		if (nd->tg != NULL && nd->kind != SW_TARGET_PROCESS &&
		    (nd->tg->warmup_ms >= 0 || nd->tg->limit > 0)) {
			diag_msg(diag, diag_arg, &nd->tg->loc, "target %s: "
			    "warmup and limit are for process targets",
			    nd->name);
			errs++;
			continue;
		}
		switch (nd->kind) {
		case SW_TARGET_PROCESS:
			sw_buf_addf(&b, "process %s { pid 1", nd->name);
			if (nd->tg != NULL && nd->tg->warmup_ms >= 0)
				sw_buf_addf(&b, "; warmup %" PRId64 "ms",
				    nd->tg->warmup_ms);
			if (nd->tg != NULL && nd->tg->limit > 0)
				sw_buf_addf(&b, "; limit %.0f", nd->tg->limit);
			break;
		case SW_TARGET_ENDPOINT:
			sw_buf_addf(&b, "endpoint %s { url http://127.0.0.1/",
			    nd->name);
			break;
		default:
			sw_buf_addf(&b, "scrape %s { url "
			    "http://127.0.0.1/metrics", nd->name);
			break;
		}
		if (nd->every_ms > 0) {
			st = nd->every_ms < 1000 ? 1000 : nd->every_ms >
			    3600000 ? 3600000 : nd->every_ms;
			sw_buf_addf(&b, "; every %" PRId64 "ms", st);
		}
		if (sw_buf_adds(&b, " }\n") == -1) {
			diag_msg(diag, diag_arg, NULL, "too many targets");
			goto out;
		}
		nstubs++;
	}
	if (errs > 0)
		goto out;
	if (nstubs == 0) {
		*out = base;
		base = NULL;
		rc = 0;
		goto out;
	}
	j = snprintf(NULL, 0, "%s (inferred targets)", path);
	if ((name = malloc((size_t)j + 1)) == NULL) {
		diag_msg(diag, diag_arg, NULL, "out of memory");
		goto out;
	}
	snprintf(name, (size_t)j + 1, "%s (inferred targets)", path);
	if (sw_conf_parse_string(name, sw_buf_str(&b), out, diag, diag_arg,
	    NULL) == -1)
		goto out;
	rc = 0;
out:
	free(name);
	sw_conf_free(base);
	needs_free(&ns);
	sw_buf_release(&b);
	return rc;
}

/* ------------------------------------------------------------------ */
/* replay */

void
sw_rtest_result_init(struct sw_rtest_result *r)
{
	memset(r, 0, sizeof(*r));
}

void
sw_rtest_result_release(struct sw_rtest_result *r)
{
	free(r->ev);
	memset(r, 0, sizeof(*r));
}

static struct sw_rtest_event *
result_push(struct sw_rtest_result *r)
{
	struct sw_rtest_event	*v;
	size_t			 ncap;

	if (r->n >= SW_RTEST_MAX_EVENTS) {
		r->dropped++;
		return NULL;
	}
	if (r->n == r->cap) {
		ncap = r->cap == 0 ? 64 : r->cap * 2;
		if ((v = realloc(r->ev, ncap * sizeof(*v))) == NULL) {
			r->dropped++;
			return NULL;
		}
		r->ev = v;
		r->cap = ncap;
	}
	memset(&r->ev[r->n], 0, sizeof(r->ev[0]));
	return &r->ev[r->n++];
}

struct run_ctx {
	struct sw_rtest_result	*r;
	size_t			 tick_first;	/* first event of this tick */
};

static void
run_cb(const struct sw_alert_event *ae, void *arg)
{
	struct run_ctx		*c = arg;
	struct sw_rtest_event	*ev;

	if ((ev = result_push(c->r)) == NULL)
		return;
	ev->rule = ae->rule;
	ev->event = ae->event;
	ev->time_ms = ae->time_ms;
	ev->ok = ae->value.ok;
	ev->is_bool = ae->value.is_bool;
	ev->v = ae->value.v;
	ev->lhs = ae->value.lhs;
	ev->rhs = ae->value.rhs;
	ev->unit = ae->value.unit;
	ev->lhs_unit = ae->value.lhs_unit;
	sw_value_describe(&ae->value, ev->desc, sizeof(ev->desc));
	ev->state = SW_ALERT_INACTIVE;	/* set after the evaluation */
}

int
sw_rtest_run(const struct sw_conf *conf, const struct sw_rtest_data *d,
    int64_t until_ms, int64_t step_ms, struct sw_rtest_result *r,
    sw_conf_diag_cb diag, void *diag_arg, struct sw_err *err)
{
	struct sw_engine		*e = NULL;
	const struct sw_conf_rule	*rule;
	struct run_ctx			 c;
	size_t				*idx = NULL, k;
	double				*lastpid = NULL;
	enum sw_alert_state		*prev = NULL, stt;
	int64_t				 first, last, tick, ts;
	int				 i, j, nrules = 0, rc = -1, ri;
	const struct sw_rtest_series	*s;
	struct sw_value			 val;

	if (sw_rtest_data_span(d, &first, &last) == -1)
		return sw_err_set(err, "no samples to replay");
	if (until_ms > last)
		last = until_ms;
	if (last - first > SW_RTEST_MAX_SPAN_MS)
		return sw_err_set(err, "the data spans more than %lld days",
		    SW_RTEST_MAX_SPAN_MS / 86400000LL);
	if (step_ms > 86400000LL)
		return sw_err_set(err, "evaluation interval longer than a day");
	if (sw_engine_new(conf, diag, diag_arg, &e) == -1)
		return sw_err_set(err, "cannot build the rules engine");
	for (rule = conf->rules; rule != NULL; rule = rule->next)
		nrules++;
	idx = calloc((size_t)d->n + 1, sizeof(*idx));
	lastpid = calloc((size_t)d->n + 1, sizeof(*lastpid));
	prev = calloc((size_t)nrules + 1, sizeof(*prev));
	if (idx == NULL || lastpid == NULL || prev == NULL) {
		sw_err_sys(err, ENOMEM, "replay");
		goto out;
	}
	for (i = 0; i < d->n; i++)
		lastpid[i] = NAN;
	c.r = r;
	if (step_ms <= 0)
		step_ms = SW_ENGINE_EVAL_MS;
	tick = (floordiv(first - 1, step_ms) + 1) * step_ms;
	r->first_eval_ms = tick;
	for (; tick <= last + step_ms - 1; tick += step_ms) {
		/* every sample at or before tick, in time order */
		for (;;) {
			j = -1;
			for (i = 0; i < d->n; i++) {
				s = &d->s[i];
				if (idx[i] >= s->n || s->ts[idx[i]] > tick)
					continue;
				if (j < 0 || s->ts[idx[i]] <
				    d->s[j].ts[idx[j]] ||
				    (s->ts[idx[i]] == d->s[j].ts[idx[j]] &&
				    s->is_pid && !d->s[j].is_pid))
					j = i;
			}
			if (j < 0)
				break;
			s = &d->s[j];
			ts = s->ts[idx[j]];
			if (isfinite(s->v[idx[j]])) {
				if (s->is_pid && s->v[idx[j]] != lastpid[j]) {
					sw_engine_instance(e, s->target, ts,
					    (long)s->v[idx[j]]);
					lastpid[j] = s->v[idx[j]];
				}
				sw_engine_sample(e, s->target, s->metric,
				    s->labels, ts, s->v[idx[j]]);
			}
			idx[j]++;
		}
		c.tick_first = r->n;
		sw_engine_eval(e, tick, run_cb, &c);
		r->evals++;
		r->last_eval_ms = tick;
		for (rule = conf->rules, ri = 0; rule != NULL;
		    rule = rule->next, ri++) {
			int	seen = 0;

			memset(&val, 0, sizeof(val));
			stt = sw_engine_rule_state(e, rule->name, &val);
			for (k = c.tick_first; k < r->n; k++)
				if (r->ev[k].rule == rule) {
					r->ev[k].state = stt;
					seen = 1;
				}
			if (stt != prev[ri] && !seen) {
				struct sw_rtest_event	*ev;

				if ((ev = result_push(r)) != NULL) {
					ev->rule = rule;
					ev->event = NULL;
					ev->state = stt;
					ev->time_ms = tick;
					ev->ok = val.ok;
					ev->is_bool = val.is_bool;
					ev->v = val.v;
					ev->lhs = val.lhs;
					ev->rhs = val.rhs;
					ev->unit = val.unit;
					ev->lhs_unit = val.lhs_unit;
					sw_value_describe(&val, ev->desc,
					    sizeof(ev->desc));
				}
			}
			prev[ri] = stt;
		}
	}
	r->engine_bytes = sw_engine_memory(e);
	rc = 0;
out:
	free(idx);
	free(lastpid);
	free(prev);
	sw_engine_free(e);
	return rc;
}

double
sw_rtest_event_value(const struct sw_rtest_event *ev, enum sw_unit *unit)
{
	if (ev->is_bool && !isnan(ev->lhs)) {
		if (unit != NULL)
			*unit = ev->lhs_unit;
		return ev->lhs;
	}
	if (unit != NULL)
		*unit = ev->unit;
	return ev->v;
}

/* ------------------------------------------------------------------ */
/* test files */

char *
sw_rtest_fmt_offset(char *dst, size_t dstsz, int64_t ms)
{
	static const struct {
		int64_t		ms;
		const char	*u;
	} units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" }, { 1, "ms" },
	};
	size_t	len = 0;
	int	i, parts = 0;
	int64_t	q;

	if (dstsz == 0)
		return dst;
	dst[0] = '\0';
	if (ms == 0) {
		snprintf(dst, dstsz, "0s");
		return dst;
	}
	if (ms < 0) {
		len += (size_t)snprintf(dst, dstsz, "-");
		ms = ms == INT64_MIN ? INT64_MAX : -ms;
	}
	for (i = 0; i < 5 && parts < 2 && len < dstsz; i++) {
		q = ms / units[i].ms;
		if (q == 0) {
			if (parts > 0)
				break;	/* "1d" rather than "1d0h5m" */
			continue;
		}
		len += (size_t)snprintf(dst + len, dstsz - len, "%" PRId64 "%s",
		    q, units[i].u);
		ms -= q * units[i].ms;
		parts++;
		if (ms == 0)
			break;
	}
	return dst;
}

/* a parsed line: words with their offsets */
struct tline {
	const char	*text;
	size_t		 len;
	struct word	 w[16];
	int		 nw;
	int		 lineno;
};

struct pending_series {
	char		*text;		/* the notation (owned) */
	struct sw_loc	 loc;		/* of the notation's first byte */
	struct sw_loc	 nloc;		/* of the name */
	char		*name;
	int64_t		 from_ms;	/* offset */
	int64_t		 step_ms;
	uint64_t	 seed;
};

struct texpect {
	struct sw_rtest_expect	 x;
	int64_t			 o1, o2;	/* offsets */
	int			 abs1, abs2;
};

struct tparse {
	struct sw_rtest_file	*f;
	const char		*file;		/* owned by f->files */
	const char		*dir;		/* owned by f->files */
	sw_conf_diag_cb		 diag;
	void			*arg;
	int			 nerr;
	int			 nexpect;
	/* file-level defaults */
	int64_t			 interval, start, eval;
	int			 has_start;
	uint64_t		 seed;
	/* the current case */
	struct sw_rtest_case	*c;
	int64_t			 c_interval, c_start, c_eval;
	int			 c_has_start;
	uint64_t		 c_seed;
	int			 c_csv;		/* a csv line was read */
	struct pending_series	*ps;
	int			 nps;
	struct texpect		*te;
	int			 nte;
};

static void
tp_error(struct tparse *tp, int line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
tp_error(struct tparse *tp, int line, size_t col, const char *fmt, ...)
{
	struct sw_loc	loc;
	char		msg[SW_ERR_MAX];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	loc.file = tp->file;
	loc.line = line;
	loc.col = (int)col;
	tp->nerr++;
	if (tp->diag != NULL && tp->nerr <= 200)
		tp->diag(&loc, msg, tp->arg);
}

/* reports an sw_err message that already holds "FILE:LINE:COL: " */
static void
tp_error_err(struct tparse *tp, const struct sw_err *e, int line)
{
	struct sw_loc	 loc;
	const char	*p = e->msg, *q;
	long		 l, c;
	char		*end;
	size_t		 fl = strlen(tp->file);

	loc.file = tp->file;
	loc.line = line;
	loc.col = 1;
	if (strncmp(p, tp->file, fl) == 0 && p[fl] == ':') {
		q = p + fl + 1;
		l = strtol(q, &end, 10);
		if (end != q && *end == ':') {
			q = end + 1;
			c = strtol(q, &end, 10);
			if (end != q && *end == ':' && end[1] == ' ') {
				loc.line = (int)l;
				loc.col = (int)c;
				p = end + 2;
			}
		}
	}
	tp->nerr++;
	if (tp->diag != NULL && tp->nerr <= 200)
		tp->diag(&loc, p, tp->arg);
}

static int
tl_split(struct tline *tl)
{
	size_t	i = 0, st;
	int	inq;

	tl->nw = 0;
	for (;;) {
		while (i < tl->len && (tl->text[i] == ' ' ||
		    tl->text[i] == '\t'))
			i++;
		if (i >= tl->len || tl->text[i] == '#')
			return 0;
		if (tl->nw == (int)(sizeof(tl->w) / sizeof(tl->w[0])))
			return 0;	/* the rest: only `series` reads it raw */
		st = i;
		inq = tl->text[i] == '"';
		if (inq) {
			i++;
			while (i < tl->len && tl->text[i] != '"')
				i++;
			if (i >= tl->len)
				return -1;
			i++;
		} else {
			while (i < tl->len && tl->text[i] != ' ' &&
			    tl->text[i] != '\t')
				i++;
		}
		tl->w[tl->nw].off = st;
		tl->w[tl->nw].len = i - st;
		tl->nw++;
	}
}

static int
tl_is(const struct tline *tl, int i, const char *s)
{
	return i < tl->nw && tl->w[i].len == strlen(s) &&
	    strncmp(tl->text + tl->w[i].off, s, tl->w[i].len) == 0;
}

static char *
tl_dup(const struct tline *tl, int i)
{
	const char	*p = tl->text + tl->w[i].off;
	size_t		 n = tl->w[i].len;

	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
	}
	return strndup(p, n);
}

static size_t
tl_col(const struct tline *tl, int i)
{
	return i < tl->nw ? tl->w[i].off + 1 : tl->len + 1;
}

/* a time in an expect: an offset (duration) or an absolute time */
static int
tp_time(struct tparse *tp, const struct tline *tl, int i, int64_t *ms,
    int *abs)
{
	const char	*p;
	size_t		 n;
	char		 e[RT_SHOW];

	if (i >= tl->nw) {
		tp_error(tp, tl->lineno, tl_col(tl, i), "expected a time (an "
		    "offset like 6h, or RFC 3339)");
		return -1;
	}
	p = tl->text + tl->w[i].off;
	n = tl->w[i].len;
	if (n == 1 && p[0] == '0') {
		*ms = 0;
		*abs = 0;
		return 0;
	}
	if (sw_parse_duration_ms(p, n, ms) == 0) {
		*abs = 0;
		return 0;
	}
	if (memchr(p, '-', n) != NULL && sw_rtest_parse_time(p, n, ms) == 0) {
		*abs = 1;
		return 0;
	}
	tp_error(tp, tl->lineno, tl_col(tl, i), "bad time \"%s\" (expected an "
	    "offset from the start like 6h or 1d2h, or RFC 3339)",
	    esc(e, sizeof(e), p, n));
	return -1;
}

static int
tp_duration(struct tparse *tp, const struct tline *tl, int i, int64_t *ms,
    int positive)
{
	char	e[RT_SHOW];

	if (i >= tl->nw) {
		tp_error(tp, tl->lineno, tl_col(tl, i), "expected a duration "
		    "like 1m");
		return -1;
	}
	if (tl->w[i].len == 1 && tl->text[tl->w[i].off] == '0')
		*ms = 0;
	else if (sw_parse_duration_ms(tl->text + tl->w[i].off, tl->w[i].len,
	    ms) == -1)
		*ms = -1;
	if (*ms < 0 || (positive && *ms == 0)) {
		tp_error(tp, tl->lineno, tl_col(tl, i), "bad duration \"%s\" "
		    "(expected a%s duration like 1m)", esc(e, sizeof(e),
		    tl->text + tl->w[i].off, tl->w[i].len),
		    positive ? " positive" : "");
		return -1;
	}
	return 0;
}

static int
tp_end(struct tparse *tp, const struct tline *tl, int i)
{
	if (i < tl->nw) {
		tp_error(tp, tl->lineno, tl_col(tl, i), "unexpected \"%.*s\"",
		    (int)(tl->w[i].len > 40 ? 40 : tl->w[i].len),
		    tl->text + tl->w[i].off);
		return -1;
	}
	return 0;
}

static char *
tp_path(struct tparse *tp, const char *rel)
{
	char	*p;
	size_t	 n;

	if (rel[0] == '/' || tp->dir[0] == '\0')
		return strdup(rel);
	n = strlen(tp->dir) + strlen(rel) + 2;
	if ((p = malloc(n)) != NULL)
		snprintf(p, n, "%s/%s", tp->dir, rel);
	return p;
}

static void
pending_free(struct tparse *tp)
{
	int	i;

	for (i = 0; i < tp->nps; i++) {
		free(tp->ps[i].text);
		free(tp->ps[i].name);
	}
	free(tp->ps);
	tp->ps = NULL;
	tp->nps = 0;
	for (i = 0; i < tp->nte; i++)
		free(tp->te[i].x.rule);
	free(tp->te);
	tp->te = NULL;
	tp->nte = 0;
}

/* Ends the current case: its start, its generated series, its times. */
static void
tp_case_end(struct tparse *tp)
{
	struct sw_rtest_case	*c = tp->c;
	struct sw_rtest_series	*s;
	struct sw_err		 e;
	int64_t			 first, last, until;
	int			 i;

	if (c == NULL)
		return;
	if (tp->c_has_start)
		c->start_ms = tp->c_start;
	else if (tp->c_csv && sw_rtest_data_span(&c->data, &first,
	    &last) == 0)
		c->start_ms = first;
	else
		c->start_ms = SW_RTEST_DEFAULT_START;
	for (i = 0; i < tp->nps; i++) {
		struct pending_series *p = &tp->ps[i];

		sw_err_clear(&e);
		if (sw_rtest_data_add(&c->data, p->name, &p->nloc, &s,
		    &e) == -1) {
			tp_error(tp, p->nloc.line, (size_t)p->nloc.col, "%s",
			    e.msg);
			continue;
		}
		if (sw_rtest_notation(&c->data, s, p->text, &p->loc,
		    c->start_ms + p->from_ms, p->step_ms, p->seed, &e) == -1)
			tp_error_err(tp, &e, p->loc.line);
	}
	until = c->start_ms;
	if (sw_rtest_data_span(&c->data, &first, &last) == 0 && last > until)
		until = last;
	if ((c->expect = calloc((size_t)tp->nte + 1,
	    sizeof(*c->expect))) == NULL) {
		tp_error(tp, c->loc.line, 1, "out of memory");
		pending_free(tp);
		return;
	}
	for (i = 0; i < tp->nte; i++) {
		struct texpect *t = &tp->te[i];

		t->x.t1_ms = t->abs1 ? t->o1 : c->start_ms + t->o1;
		t->x.t2_ms = t->abs2 ? t->o2 : c->start_ms + t->o2;
		if (t->x.kind == SW_EXPECT_STATE_AT ||
		    t->x.kind == SW_EXPECT_BY || t->x.kind == SW_EXPECT_AFTER ||
		    t->x.kind == SW_EXPECT_BETWEEN) {
			if (t->x.t1_ms > until)
				until = t->x.t1_ms;
		}
		if (t->x.kind == SW_EXPECT_BETWEEN && t->x.t2_ms > until)
			until = t->x.t2_ms;
		c->expect[c->nexpect++] = t->x;
		t->x.rule = NULL;	/* moved */
	}
	c->until_ms = until;
	c->eval_ms = tp->c_eval;
	pending_free(tp);
	tp->c = NULL;
}

static struct sw_rtest_case *
tp_case_new(struct tparse *tp, const char *name, int line)
{
	struct sw_rtest_file	*f = tp->f;
	struct sw_rtest_case	*v, *c;

	tp_case_end(tp);
	if (f->ncases >= SW_RTEST_MAX_CASES) {
		tp_error(tp, line, 1, "too many test cases (at most %d)",
		    SW_RTEST_MAX_CASES);
		return NULL;
	}
	if ((v = realloc(f->cases, (size_t)(f->ncases + 1) *
	    sizeof(*v))) == NULL) {
		tp_error(tp, line, 1, "out of memory");
		return NULL;
	}
	f->cases = v;
	c = &f->cases[f->ncases];
	memset(c, 0, sizeof(*c));
	sw_rtest_data_init(&c->data);
	if ((c->name = strdup(name)) == NULL) {
		tp_error(tp, line, 1, "out of memory");
		return NULL;
	}
	c->loc.file = tp->file;
	c->loc.line = line;
	c->loc.col = 1;
	f->ncases++;
	tp->c = c;
	tp->c_interval = tp->interval;
	tp->c_eval = tp->eval;
	tp->c_start = tp->start;
	tp->c_has_start = tp->has_start;
	tp->c_seed = tp->seed;
	tp->c_csv = 0;
	return c;
}

static struct sw_rtest_case *
tp_case(struct tparse *tp, int line)
{
	if (tp->c != NULL)
		return tp->c;
	return tp_case_new(tp, "", line);
}

static const char *
event_word(const struct tline *tl, int i)
{
	static const char *const ev[] = { "pending", "firing", "resolved" };
	size_t	k;

	for (k = 0; k < 3; k++)
		if (tl_is(tl, i, ev[k]))
			return ev[k];
	return NULL;
}

static int
state_word(const struct tline *tl, int i, enum sw_alert_state *st)
{
	if (tl_is(tl, i, "inactive"))
		*st = SW_ALERT_INACTIVE;
	else if (tl_is(tl, i, "pending"))
		*st = SW_ALERT_PENDING;
	else if (tl_is(tl, i, "firing"))
		*st = SW_ALERT_FIRING;
	else
		return -1;
	return 0;
}

/* expect RULE none | never EVENT | STATE at T | EVENT by|after T |
 * EVENT between T and T */
static void
tp_expect(struct tparse *tp, const struct tline *tl)
{
	struct texpect	 t, *v;
	const char	*ev;

	memset(&t, 0, sizeof(t));
	if (tl->nw < 3) {
		tp_error(tp, tl->lineno, tl_col(tl, tl->nw), "expected "
		    "\"expect RULE firing by 6h\", \"expect RULE none\" or "
		    "another form of slopewatch-test(5)");
		return;
	}
	if (tp->nexpect >= SW_RTEST_MAX_EXPECTS) {
		tp_error(tp, tl->lineno, 1, "too many expectations (at most "
		    "%d)", SW_RTEST_MAX_EXPECTS);
		return;
	}
	t.x.loc.file = tp->file;
	t.x.loc.line = tl->lineno;
	t.x.loc.col = (int)tl_col(tl, 1);
	if (tl_is(tl, 2, "none")) {
		t.x.kind = SW_EXPECT_NONE;
		if (tp_end(tp, tl, 3) == -1)
			return;
	} else if (tl_is(tl, 2, "never")) {
		t.x.kind = SW_EXPECT_NEVER;
		if ((t.x.event = event_word(tl, 3)) == NULL) {
			tp_error(tp, tl->lineno, tl_col(tl, 3), "expected "
			    "pending, firing or resolved after never");
			return;
		}
		if (tp_end(tp, tl, 4) == -1)
			return;
	} else if (tl_is(tl, 3, "at")) {
		t.x.kind = SW_EXPECT_STATE_AT;
		if (state_word(tl, 2, &t.x.state) == -1) {
			tp_error(tp, tl->lineno, tl_col(tl, 2), "expected a "
			    "state (inactive, pending or firing) before at%s",
			    tl_is(tl, 2, "resolved") ? "; resolved is an "
			    "event: use \"resolved by T\"" : "");
			return;
		}
		if (tp_time(tp, tl, 4, &t.o1, &t.abs1) == -1 ||
		    tp_end(tp, tl, 5) == -1)
			return;
	} else {
		if ((ev = event_word(tl, 2)) == NULL) {
			tp_error(tp, tl->lineno, tl_col(tl, 2), "expected "
			    "none, never, or an event (pending, firing, "
			    "resolved) or state (inactive, pending, firing)");
			return;
		}
		t.x.event = ev;
		if (tl_is(tl, 3, "by"))
			t.x.kind = SW_EXPECT_BY;
		else if (tl_is(tl, 3, "after"))
			t.x.kind = SW_EXPECT_AFTER;
		else if (tl_is(tl, 3, "between"))
			t.x.kind = SW_EXPECT_BETWEEN;
		else {
			tp_error(tp, tl->lineno, tl_col(tl, 3), "expected at, "
			    "by, after or between after %s", ev);
			return;
		}
		if (tp_time(tp, tl, 4, &t.o1, &t.abs1) == -1)
			return;
		if (t.x.kind == SW_EXPECT_BETWEEN) {
			if (!tl_is(tl, 5, "and")) {
				tp_error(tp, tl->lineno, tl_col(tl, 5),
				    "expected and (between T and T)");
				return;
			}
			if (tp_time(tp, tl, 6, &t.o2, &t.abs2) == -1 ||
			    tp_end(tp, tl, 7) == -1)
				return;
			if (t.abs1 == t.abs2 && t.o2 < t.o1) {
				tp_error(tp, tl->lineno, tl_col(tl, 6), "the "
				    "end of the interval is before its start");
				return;
			}
		} else if (tp_end(tp, tl, 5) == -1)
			return;
	}
	if ((t.x.rule = tl_dup(tl, 1)) == NULL ||
	    (v = realloc(tp->te, (size_t)(tp->nte + 1) * sizeof(*v))) == NULL) {
		free(t.x.rule);
		tp_error(tp, tl->lineno, 1, "out of memory");
		return;
	}
	tp->te = v;
	tp->te[tp->nte++] = t;
	tp->nexpect++;
}

/* series NAME [every D] [from T] NOTATION... */
static void
tp_series(struct tparse *tp, const struct tline *tl)
{
	struct pending_series	 p, *v;
	int			 i = 2, j;
	int64_t			 ms;

	memset(&p, 0, sizeof(p));
	p.step_ms = tp->c_interval;
	if (tl->nw < 3) {
		tp_error(tp, tl->lineno, tl_col(tl, tl->nw), "expected "
		    "\"series TARGET.METRIC VALUES\", like series web.rss "
		    "100MB+2MBx600");
		return;
	}
	for (;;) {
		if (tl_is(tl, i, "every")) {
			if (tp_duration(tp, tl, i + 1, &p.step_ms, 1) == -1)
				return;
			i += 2;
		} else if (tl_is(tl, i, "from")) {
			if (tp_duration(tp, tl, i + 1, &ms, 0) == -1)
				return;
			p.from_ms = ms;
			i += 2;
		} else
			break;
	}
	if (i >= tl->nw) {
		tp_error(tp, tl->lineno, tl_col(tl, i), "expected values, like "
		    "100MB+2MBx600");
		return;
	}
	p.nloc.file = p.loc.file = tp->file;
	p.nloc.line = p.loc.line = tl->lineno;
	p.nloc.col = (int)tl_col(tl, 1);
	p.loc.col = (int)tl_col(tl, i);
	p.seed = tp->c_seed * 1000003ULL + (uint64_t)tl->lineno;
	for (j = 0; j < tp->nps; j++)
		if (tl->w[1].len == strlen(tp->ps[j].name) &&
		    strncmp(tp->ps[j].name, tl->text + tl->w[1].off,
		    tl->w[1].len) == 0) {
			tp_error(tp, tl->lineno, tl_col(tl, 1), "series %s "
			    "given twice in this test (line %d)",
			    tp->ps[j].name, tp->ps[j].nloc.line);
			return;
		}
	p.name = tl_dup(tl, 1);
	p.text = strndup(tl->text + tl->w[i].off, tl->len - tl->w[i].off);
	if (p.name == NULL || p.text == NULL ||
	    (v = realloc(tp->ps, (size_t)(tp->nps + 1) * sizeof(*v))) == NULL) {
		free(p.name);
		free(p.text);
		tp_error(tp, tl->lineno, 1, "out of memory");
		return;
	}
	tp->ps = v;
	tp->ps[tp->nps++] = p;
}

/* target NAME [process|endpoint|scrape] [warmup D] [limit SIZE] */
static void
tp_target(struct tparse *tp, const struct tline *tl)
{
	struct sw_rtest_file	*f = tp->f;
	struct sw_rtest_target	 t, *v;
	int			 i = 2;
	char			 e[RT_SHOW];

	memset(&t, 0, sizeof(t));
	t.kind = -1;
	t.warmup_ms = -1;
	if (tp->c != NULL) {
		tp_error(tp, tl->lineno, 1, "target lines go before the first "
		    "test");
		return;
	}
	if (tl->nw < 2) {
		tp_error(tp, tl->lineno, tl_col(tl, 1), "expected a target "
		    "name");
		return;
	}
	if (f->ntargets >= SW_RTEST_MAX_TARGETS) {
		tp_error(tp, tl->lineno, 1, "too many targets");
		return;
	}
	while (i < tl->nw) {
		if (tl_is(tl, i, "process"))
			t.kind = SW_TARGET_PROCESS;
		else if (tl_is(tl, i, "endpoint"))
			t.kind = SW_TARGET_ENDPOINT;
		else if (tl_is(tl, i, "scrape"))
			t.kind = SW_TARGET_SCRAPE;
		else if (tl_is(tl, i, "warmup")) {
			if (tp_duration(tp, tl, i + 1, &t.warmup_ms, 0) == -1)
				return;
			i++;
		} else if (tl_is(tl, i, "limit")) {
			if (i + 1 >= tl->nw || sw_parse_size(tl->text +
			    tl->w[i + 1].off, tl->w[i + 1].len,
			    &t.limit) == -1 || t.limit <= 0) {
				tp_error(tp, tl->lineno, tl_col(tl, i + 1),
				    "expected a size like 1.5GB");
				return;
			}
			i++;
		} else {
			tp_error(tp, tl->lineno, tl_col(tl, i), "unknown "
			    "target option \"%s\" (expected process, "
			    "endpoint, scrape, warmup D or limit SIZE)",
			    esc(e, sizeof(e), tl->text + tl->w[i].off,
			    tl->w[i].len));
			return;
		}
		i++;
	}
	t.loc.file = tp->file;
	t.loc.line = tl->lineno;
	t.loc.col = (int)tl_col(tl, 1);
	if ((t.name = tl_dup(tl, 1)) == NULL ||
	    (v = realloc(f->targets, (size_t)(f->ntargets + 1) *
	    sizeof(*v))) == NULL) {
		free(t.name);
		tp_error(tp, tl->lineno, 1, "out of memory");
		return;
	}
	f->targets = v;
	f->targets[f->ntargets++] = t;
}

static void
tp_line(struct tparse *tp, struct tline *tl)
{
	struct sw_rtest_case	*c;
	struct sw_err		 e;
	char			*p, *name;
	int64_t			 ms;
	int			 abs;
	char			 x[RT_SHOW];

	if (tl_split(tl) == -1) {
		tp_error(tp, tl->lineno, 1, "unterminated quote");
		return;
	}
	if (tl->nw == 0)
		return;
	if (tl_is(tl, 0, "rules")) {
		if (tp->f->rules != NULL) {
			tp_error(tp, tl->lineno, 1, "rules given twice (line "
			    "%d)", tp->f->rules_loc.line);
			return;
		}
		if (tl->nw < 2) {
			tp_error(tp, tl->lineno, tl_col(tl, 1), "expected the "
			    "rules file (relative to this file)");
			return;
		}
		if (tp_end(tp, tl, 2) == -1)
			return;
		if ((name = tl_dup(tl, 1)) == NULL)
			return;
		tp->f->rules = tp_path(tp, name);
		free(name);
		tp->f->rules_loc.file = tp->file;
		tp->f->rules_loc.line = tl->lineno;
		tp->f->rules_loc.col = (int)tl_col(tl, 1);
	} else if (tl_is(tl, 0, "interval")) {
		if (tp_duration(tp, tl, 1, &ms, 1) == -1 ||
		    tp_end(tp, tl, 2) == -1)
			return;
		if (tp->c != NULL)
			tp->c_interval = ms;
		else
			tp->interval = ms;
	} else if (tl_is(tl, 0, "eval-interval")) {
		if (tp_duration(tp, tl, 1, &ms, 1) == -1 ||
		    tp_end(tp, tl, 2) == -1)
			return;
		if (ms % 1000 != 0 || ms > 3600000) {
			tp_error(tp, tl->lineno, tl_col(tl, 1), "the evaluation "
			    "interval is whole seconds, at most 1h");
			return;
		}
		if (tp->c != NULL)
			tp->c_eval = ms;
		else
			tp->eval = ms;
	} else if (tl_is(tl, 0, "start")) {
		if (tl->nw < 2 || sw_rtest_parse_time(tl->text + tl->w[1].off,
		    tl->w[1].len, &ms) == -1) {
			tp_error(tp, tl->lineno, tl_col(tl, 1), "expected a "
			    "time: RFC 3339 (2026-01-01T00:00:00Z) or unix "
			    "seconds");
			return;
		}
		if (tp_end(tp, tl, 2) == -1)
			return;
		if (tp->c != NULL) {
			tp->c_start = ms;
			tp->c_has_start = 1;
		} else {
			tp->start = ms;
			tp->has_start = 1;
		}
	} else if (tl_is(tl, 0, "seed")) {
		int64_t	sd;

		if (tl->nw < 2 || sw_parse_int64(tl->text + tl->w[1].off,
		    tl->w[1].len, &sd) == -1 || sd < 0) {
			tp_error(tp, tl->lineno, tl_col(tl, 1), "expected a "
			    "seed (a non-negative integer)");
			return;
		}
		if (tp_end(tp, tl, 2) == -1)
			return;
		if (tp->c != NULL)
			tp->c_seed = (uint64_t)sd;
		else
			tp->seed = (uint64_t)sd;
	} else if (tl_is(tl, 0, "target")) {
		tp_target(tp, tl);
	} else if (tl_is(tl, 0, "test")) {
		/* the name: the rest of the line, quotes optional */
		if (tl->nw < 2) {
			name = strdup("");
		} else if (tl->nw == 2) {
			name = tl_dup(tl, 1);
		} else {
			name = strndup(tl->text + tl->w[1].off,
			    tl->w[tl->nw - 1].off + tl->w[tl->nw - 1].len -
			    tl->w[1].off);
		}
		if (name == NULL)
			return;
		tp_case_new(tp, name, tl->lineno);
		free(name);
	} else if (tl_is(tl, 0, "series")) {
		if (tp_case(tp, tl->lineno) != NULL)
			tp_series(tp, tl);
	} else if (tl_is(tl, 0, "csv")) {
		if ((c = tp_case(tp, tl->lineno)) == NULL)
			return;
		if (tl->nw < 2) {
			tp_error(tp, tl->lineno, tl_col(tl, 1), "expected a "
			    "CSV file (relative to this file)");
			return;
		}
		if (tp_end(tp, tl, 2) == -1)
			return;
		if ((name = tl_dup(tl, 1)) == NULL ||
		    (p = tp_path(tp, name)) == NULL) {
			free(name);
			return;
		}
		sw_err_clear(&e);
		if (sw_rtest_csv_load(&c->data, p, &e) == -1)
			tp_error(tp, tl->lineno, tl_col(tl, 1), "%s", e.msg);
		tp->c_csv = 1;
		free(p);
		free(name);
	} else if (tl_is(tl, 0, "expect")) {
		if (tp_case(tp, tl->lineno) != NULL)
			tp_expect(tp, tl);
	} else {
		(void)abs;
		tp_error(tp, tl->lineno, 1, "unknown statement \"%s\" "
		    "(expected rules, interval, eval-interval, start, seed, "
		    "target, test, series, csv or expect)", esc(x, sizeof(x),
		    tl->text + tl->w[0].off, tl->w[0].len));
	}
}

void
sw_rtest_file_free(struct sw_rtest_file *f)
{
	int	i, j;

	if (f == NULL)
		return;
	for (i = 0; i < f->ncases; i++) {
		free(f->cases[i].name);
		sw_rtest_data_release(&f->cases[i].data);
		for (j = 0; j < f->cases[i].nexpect; j++)
			free(f->cases[i].expect[j].rule);
		free(f->cases[i].expect);
	}
	free(f->cases);
	for (i = 0; i < f->ntargets; i++)
		free(f->targets[i].name);
	free(f->targets);
	free(f->rules);
	free(f->path);
	sw_strlist_release(&f->files);
	free(f);
}

int
sw_rtest_file_parse(const char *path, const char *text, size_t len,
    struct sw_rtest_file **out, sw_conf_diag_cb diag, void *diag_arg,
    int *nerrors)
{
	struct tparse	 tp;
	struct tline	 tl;
	const char	*nl, *slash;
	char		*dir;
	size_t		 pos = 0, n;
	int		 lineno = 0;

	*out = NULL;
	if (nerrors != NULL)
		*nerrors = 0;
	memset(&tp, 0, sizeof(tp));
	tp.diag = diag;
	tp.arg = diag_arg;
	tp.interval = 60000;
	tp.eval = SW_ENGINE_EVAL_MS;
	tp.start = SW_RTEST_DEFAULT_START;
	tp.seed = 1;
	if ((tp.f = calloc(1, sizeof(*tp.f))) == NULL ||
	    (tp.f->path = strdup(path)) == NULL ||
	    strlist_add(&tp.f->files, path, &tp.file) == -1) {
		sw_rtest_file_free(tp.f);
		if (diag != NULL)
			diag(NULL, "out of memory", diag_arg);
		if (nerrors != NULL)
			*nerrors = 1;
		return -1;
	}
	slash = strrchr(path, '/');
	dir = slash == NULL ? strdup("") : strndup(path, (size_t)(slash -
	    path));
	if (dir == NULL || strlist_add(&tp.f->files, dir, &tp.dir) == -1) {
		free(dir);
		sw_rtest_file_free(tp.f);
		if (diag != NULL)
			diag(NULL, "out of memory", diag_arg);
		if (nerrors != NULL)
			*nerrors = 1;
		return -1;
	}
	free(dir);
	while (pos < len) {
		tl.text = text + pos;
		nl = memchr(tl.text, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - tl.text) : len - pos;
		pos += n + (nl != NULL);
		tl.lineno = ++lineno;
		if (n > 0 && tl.text[n - 1] == '\r')
			n--;
		tl.len = n;
		if (n > SW_RTEST_MAX_LINE) {
			tp_error(&tp, lineno, 1, "line too long (at most %d "
			    "bytes)", SW_RTEST_MAX_LINE);
			continue;
		}
		if (memchr(tl.text, '\0', n) != NULL) {
			tp_error(&tp, lineno, 1, "NUL byte in the line");
			continue;
		}
		tp_line(&tp, &tl);
	}
	tp_case_end(&tp);
	if (tp.f->rules == NULL)
		tp_error(&tp, 1, 1, "no rules line (\"rules FILE\" names the "
		    "rules under test)");
	else if (tp.nerr > 0)
		;	/* the cases may be incomplete because of those errors */
	else if (tp.f->ncases == 0)
		tp_error(&tp, lineno > 0 ? lineno : 1, 1, "no test: expected "
		    "series and expect lines");
	else {
		int	i;

		for (i = 0; i < tp.f->ncases; i++)
			if (tp.f->cases[i].nexpect == 0)
				tp_error(&tp, tp.f->cases[i].loc.line, 1,
				    "test%s%s%s has no expect line",
				    *tp.f->cases[i].name ? " \"" : "",
				    tp.f->cases[i].name,
				    *tp.f->cases[i].name ? "\"" : "");
			else if (tp.f->cases[i].data.n == 0)
				tp_error(&tp, tp.f->cases[i].loc.line, 1,
				    "test%s%s%s has no series or csv line",
				    *tp.f->cases[i].name ? " \"" : "",
				    tp.f->cases[i].name,
				    *tp.f->cases[i].name ? "\"" : "");
	}
	pending_free(&tp);
	if (nerrors != NULL)
		*nerrors = tp.nerr;
	if (tp.nerr > 0) {
		sw_rtest_file_free(tp.f);
		return -1;
	}
	*out = tp.f;
	return 0;
}

int
sw_rtest_file_load(const char *path, struct sw_rtest_file **out,
    sw_conf_diag_cb diag, void *diag_arg, int *nerrors)
{
	struct sw_buf	b;
	struct sw_err	e;
	struct sw_loc	loc = { path, 0, 0 };
	int		rc;

	*out = NULL;
	sw_buf_init(&b, SW_RTEST_MAX_FILE);
	sw_err_clear(&e);
	if (sw_buf_read_file(&b, path, &e) == -1) {
		(void)loc;
		if (diag != NULL)
			diag(NULL, e.msg, diag_arg);
		if (nerrors != NULL)
			*nerrors = 1;
		sw_buf_release(&b);
		return -1;
	}
	rc = sw_rtest_file_parse(path, sw_buf_str(&b), b.len, out, diag,
	    diag_arg, nerrors);
	sw_buf_release(&b);
	return rc;
}

/* The first EVENT of rule in r, or NULL. */
static const struct sw_rtest_event *
first_event(const struct sw_rtest_result *r, const char *rule,
    const char *event)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (r->ev[i].event != NULL && strcmp(r->ev[i].rule->name,
		    rule) == 0 && (event == NULL ||
		    strcmp(r->ev[i].event, event) == 0))
			return &r->ev[i];
	return NULL;
}

int
sw_rtest_expect_check(const struct sw_rtest_expect *x,
    const struct sw_rtest_result *r)
{
	const struct sw_rtest_event	*ev;
	enum sw_alert_state		 st = SW_ALERT_INACTIVE;
	size_t				 i;

	switch (x->kind) {
	case SW_EXPECT_NONE:
		for (i = 0; i < r->n; i++)
			if (strcmp(r->ev[i].rule->name, x->rule) == 0 &&
			    (r->ev[i].event == NULL ||
			    strcmp(r->ev[i].event, "repeat") != 0))
				return 0;
		return 1;
	case SW_EXPECT_NEVER:
		return first_event(r, x->rule, x->event) == NULL;
	case SW_EXPECT_STATE_AT:
		for (i = 0; i < r->n && r->ev[i].time_ms <= x->t1_ms; i++)
			if (strcmp(r->ev[i].rule->name, x->rule) == 0)
				st = r->ev[i].state;
		return st == x->state;
	case SW_EXPECT_BY:
		ev = first_event(r, x->rule, x->event);
		return ev != NULL && ev->time_ms <= x->t1_ms;
	case SW_EXPECT_AFTER:
		ev = first_event(r, x->rule, x->event);
		return ev != NULL && ev->time_ms > x->t1_ms;
	case SW_EXPECT_BETWEEN:
		ev = first_event(r, x->rule, x->event);
		return ev != NULL && ev->time_ms >= x->t1_ms &&
		    ev->time_ms <= x->t2_ms;
	}
	return 0;
}
