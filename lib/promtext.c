#include "config.h"
/*
 * promtext.c: the Prometheus text exposition (0.0.4) parser. The text is
 * walked line by line; a line is never read past its '\n' and the text never
 * past len, so the input need not be NUL-terminated. Every name and value the
 * callback sees is copied (unescaped) into buffers that are reused from
 * sample to sample; the only state that grows over a parse is the set of
 * TYPE'd names and the set of sample names seen (for "TYPE after samples"),
 * both bounded by the number of lines, itself bounded by SW_PROM_MAX_SAMPLES
 * and the length of the text.
 *
 * What is accepted and rejected is listed in promtext.h; the rule of thumb is
 * "what Prometheus's own text parser accepts", except that the few checks it
 * leaves to later stages (TYPE twice or after samples, bad escapes, trailing
 * garbage) fail here, at the line that has them.
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slopewatch/buf.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/promtext.h"
#include "slopewatch/units.h"

const char *const sw_prom_default_keep[] = {
	"process_resident_memory_bytes",
	"nodejs_heap_*",
	"nodejs_eventloop_lag_*",
	"*_duration_seconds_bucket",
	"*_duration_seconds_sum",
	"*_duration_seconds_count",
	NULL,
};

/* A set of names with an int each (open addressing, linear probing). */
struct nameset_ent {
	char	*key;
	int	 val;
};

struct nameset {
	struct nameset_ent	*v;
	size_t			 n;
	size_t			 cap;	/* 0 or a power of two */
};

struct label {
	size_t	name_off;	/* into scratch, NUL-terminated */
	size_t	value_off;
	size_t	value_len;
	int	col;		/* of the label name, 1-based */
	int	legacy;		/* name is a legacy label name */
};

struct prom {
	const char		*ln;	/* the current line (no '\n') */
	size_t			 lnlen;
	int			 line;
	struct sw_err		*err;
	sw_prom_sample_cb	 cb;
	void			*arg;

	struct nameset		 types;	/* TYPE'd names -> enum sw_prom_type */
	struct nameset		 seen;	/* names of samples so far -> 1 */

	struct sw_buf		 name;	/* the metric name of the line */
	struct sw_buf		 fam;	/* a family name being looked up */
	struct sw_buf		 scratch; /* label names and values */
	struct sw_buf		 canon;	/* canonical labels */
	struct label		 labels[SW_PROM_MAX_LABELS];
	int			 nlabels;
	int			 legacy;
	int			 nsamples;
};

static const char *const type_names[] = {
	"untyped", "counter", "gauge", "histogram", "summary",
};

const char *
sw_prom_type_name(enum sw_prom_type type)
{
	if ((unsigned)type >= sizeof(type_names) / sizeof(type_names[0]))
		return "untyped";
	return type_names[type];
}

int
sw_prom_keep(const char *const *globs, int n, const char *name,
    const char *family)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (globs[i] == NULL)
			continue;
		if (fnmatch(globs[i], name, 0) == 0)
			return 1;
		if (family != NULL && strcmp(family, name) != 0 &&
		    fnmatch(globs[i], family, 0) == 0)
			return 1;
	}
	return 0;
}

/* --- name sets --- */

static size_t
nameset_hash(const char *s)
{
	size_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct nameset_ent *
nameset_find(const struct nameset *ns, const char *key)
{
	size_t	i;

	if (ns->cap == 0)
		return NULL;
	i = nameset_hash(key) & (ns->cap - 1);
	while (ns->v[i].key != NULL) {
		if (strcmp(ns->v[i].key, key) == 0)
			return &ns->v[i];
		i = (i + 1) & (ns->cap - 1);
	}
	return NULL;
}

/* Adds key (copied) with val, or updates it. 0 or -1 (memory). */
static int
nameset_put(struct nameset *ns, const char *key, int val)
{
	struct nameset_ent	*e, *nv;
	size_t			 i, j, ncap;

	if ((e = nameset_find(ns, key)) != NULL) {
		e->val = val;
		return 0;
	}
	if ((ns->n + 1) * 2 > ns->cap) {
		ncap = ns->cap ? ns->cap * 2 : 64;
		if ((nv = calloc(ncap, sizeof(*nv))) == NULL)
			return -1;
		for (i = 0; i < ns->cap; i++) {
			if (ns->v[i].key == NULL)
				continue;
			j = nameset_hash(ns->v[i].key) & (ncap - 1);
			while (nv[j].key != NULL)
				j = (j + 1) & (ncap - 1);
			nv[j] = ns->v[i];
		}
		free(ns->v);
		ns->v = nv;
		ns->cap = ncap;
	}
	i = nameset_hash(key) & (ns->cap - 1);
	while (ns->v[i].key != NULL)
		i = (i + 1) & (ns->cap - 1);
	if ((ns->v[i].key = strdup(key)) == NULL)
		return -1;
	ns->v[i].val = val;
	ns->n++;
	return 0;
}

static void
nameset_release(struct nameset *ns)
{
	size_t	i;

	for (i = 0; i < ns->cap; i++)
		free(ns->v[i].key);
	free(ns->v);
	ns->v = NULL;
	ns->n = ns->cap = 0;
}

/* --- errors --- */

static int
prom_error(struct prom *p, size_t col0, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets "line N:COL: message" (col0 is the 0-based offset in the line). */
static int
prom_error(struct prom *p, size_t col0, const char *fmt, ...)
{
	char	msg[SW_ERR_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sw_err_set(p->err, "line %d:%zu: %s", p->line, col0 + 1, msg);
}

/* Escapes n bytes of outside text for an error message. */
static const char *
prom_quote(char *dst, size_t dstsz, const char *s, size_t n)
{
	return sw_log_escape(dst, dstsz, s, n);
}

/* --- lexical helpers --- */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':';
}

static int
is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int
is_label_start(char c)
{
	return c != ':' && is_name_start(c);
}

static int
is_label_char(char c)
{
	return c != ':' && is_name_char(c);
}

static size_t
skip_blanks(const struct prom *p, size_t i)
{
	while (i < p->lnlen && is_blank(p->ln[i]))
		i++;
	return i;
}

/* Whether s (NUL-terminated) is a legacy metric name (label name if
 * label). */
static int
is_legacy(const char *s, int label)
{
	if (label ? !is_label_start(*s) : !is_name_start(*s))
		return 0;
	for (s++; *s != '\0'; s++) {
		if (label ? !is_label_char(*s) : !is_name_char(*s))
			return 0;
	}
	return 1;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t		len, i;
	unsigned long	cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Reads the quoted string starting at *i (at the '"'), appending its
 * unescaped bytes to out. Escapes: \\ \" \n. On success *i is past the
 * closing quote. what names the thing for errors ("label value").
 */
static int
read_quoted(struct prom *p, size_t *i, struct sw_buf *out, const char *what)
{
	size_t	start = *i, j = *i + 1, n;
	char	c;

	while (j < p->lnlen) {
		c = p->ln[j];
		if (c == '"') {
			*i = j + 1;
			return 0;
		}
		if (c == '\\') {
			if (j + 1 >= p->lnlen)
				break;
			switch (p->ln[j + 1]) {
			case '\\':
				c = '\\';
				break;
			case '"':
				c = '"';
				break;
			case 'n':
				c = '\n';
				break;
			default:
				return prom_error(p, j, "bad escape in %s: "
				    "only \\\\, \\\" and \\n are allowed", what);
			}
			if (sw_buf_addc(out, c) == -1)
				goto nomem;
			j += 2;
			continue;
		}
		if ((n = utf8_len((const unsigned char *)p->ln + j,
		    p->lnlen - j)) == 0)
			return prom_error(p, j, "%s is not valid UTF-8", what);
		if (sw_buf_add(out, p->ln + j, n) == -1)
			goto nomem;
		j += n;
	}
	return prom_error(p, start, "unterminated %s", what);
nomem:
	return prom_error(p, j, "out of memory");
}

/* Reads a legacy metric name at *i into p->name; 0 or -1 when there is
 * none there. */
static int
read_name(struct prom *p, size_t *i)
{
	size_t	j = *i;

	if (j >= p->lnlen || !is_name_start(p->ln[j]))
		return -1;
	while (j < p->lnlen && is_name_char(p->ln[j]))
		j++;
	sw_buf_reset(&p->name);
	if (sw_buf_add(&p->name, p->ln + *i, j - *i) == -1)
		return prom_error(p, *i, "out of memory");
	*i = j;
	return 0;
}

/* The end of the token at i: the next blank or the end of the line. */
static size_t
token_end(const struct prom *p, size_t i)
{
	while (i < p->lnlen && !is_blank(p->ln[i]))
		i++;
	return i;
}

/* A sample value, as Go's strconv.ParseFloat reads it. */
static int
parse_value(const char *s, size_t n, double *out)
{
	char	 tmp[64], *end;
	size_t	 i;
	double	 v;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	for (i = 0; i < n; i++) {
		/* nothing strtod would read past the token, nor its
		 * "nan(...)" form */
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    s[i] == '+' || s[i] == '-' || s[i] == '.'))
			return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtod(tmp, &end);
	if (end != tmp + n)
		return -1;
	if (errno == ERANGE && isinf(v))
		return -1;	/* overflow; Go rejects it too */
	*out = v;
	return 0;
}

/* A timestamp: an optional '-' and decimal digits, fitting in int64. */
static int
parse_timestamp(const char *s, size_t n, int64_t *out)
{
	if (n == 0 || s[0] == '+')
		return -1;
	return sw_parse_int64(s, n, out);
}

/* --- families --- */

struct suffix {
	const char	*s;
	unsigned	 types;	/* bit per enum sw_prom_type */
};

#define T(x)	(1u << (x))

static const struct suffix suffixes[] = {
	{ "_bucket",	T(SW_PROM_HISTOGRAM) },
	{ "_sum",	T(SW_PROM_HISTOGRAM) | T(SW_PROM_SUMMARY) },
	{ "_count",	T(SW_PROM_HISTOGRAM) | T(SW_PROM_SUMMARY) },
	{ "_total",	T(SW_PROM_COUNTER) },
	{ "_created",	T(SW_PROM_COUNTER) | T(SW_PROM_HISTOGRAM) |
			T(SW_PROM_SUMMARY) },
};

/* Finds the family of sample name (NUL-terminated): sets *family (borrowed
 * from the type set, or name itself) and *type. */
static int
prom_family(struct prom *p, const char *name, const char **family,
    enum sw_prom_type *type)
{
	const struct nameset_ent	*e;
	size_t				 n = strlen(name), sl, k;

	*family = name;
	*type = SW_PROM_UNTYPED;
	if (p->types.n == 0)
		return 0;
	if ((e = nameset_find(&p->types, name)) != NULL) {
		*family = e->key;
		*type = (enum sw_prom_type)e->val;
		return 0;
	}
	for (k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
		sl = strlen(suffixes[k].s);
		if (n <= sl || strcmp(name + n - sl, suffixes[k].s) != 0)
			continue;
		sw_buf_reset(&p->fam);
		if (sw_buf_add(&p->fam, name, n - sl) == -1)
			return -1;
		e = nameset_find(&p->types, sw_buf_str(&p->fam));
		if (e != NULL && (suffixes[k].types & T(e->val))) {
			*family = e->key;
			*type = (enum sw_prom_type)e->val;
			return 0;
		}
	}
	return 0;
}

/* Whether a sample of the family name (of type) was seen already. */
static int
prom_family_seen(struct prom *p, const char *name, enum sw_prom_type type)
{
	size_t	k;

	if (nameset_find(&p->seen, name) != NULL)
		return 1;
	for (k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
		if (!(suffixes[k].types & T(type)))
			continue;
		sw_buf_reset(&p->fam);
		if (sw_buf_adds(&p->fam, name) == -1 ||
		    sw_buf_adds(&p->fam, suffixes[k].s) == -1)
			return 0;
		if (nameset_find(&p->seen, sw_buf_str(&p->fam)) != NULL)
			return 1;
	}
	return 0;
}

/* --- lines --- */

/* "# HELP name text", "# TYPE name type" or a comment; i is past '#'. */
static int
prom_comment(struct prom *p, size_t i)
{
	char		 q[96];
	size_t		 kw, j, start;
	int		 is_type, t;
	const char	*name;

	if (i >= p->lnlen || !is_blank(p->ln[i]))
		return 0;	/* "#text": a comment */
	i = skip_blanks(p, i);
	if (p->lnlen - i < 4)
		return 0;
	if (memcmp(p->ln + i, "HELP", 4) == 0)
		is_type = 0;
	else if (memcmp(p->ln + i, "TYPE", 4) == 0)
		is_type = 1;
	else
		return 0;
	kw = i;
	i += 4;
	if (i >= p->lnlen || !is_blank(p->ln[i]))
		return 0;	/* "# HELPFUL", "# HELP": comments */
	i = skip_blanks(p, i);
	start = i;
	if (i < p->lnlen && p->ln[i] == '"') {
		sw_buf_reset(&p->name);
		if (read_quoted(p, &i, &p->name, "metric name") == -1)
			return -1;
		if (p->name.len == 0)
			return prom_error(p, start, "empty metric name");
	} else if (read_name(p, &i) == -1)
		return prom_error(p, i, "missing or bad metric name after %s",
		    is_type ? "TYPE" : "HELP");
	if (i < p->lnlen && !is_blank(p->ln[i])) {
		return prom_error(p, i, "bad character '%s' in metric name",
		    prom_quote(q, sizeof(q), p->ln + i, 1));
	}
	if (!is_type)
		return 0;	/* HELP text is not kept */
	name = sw_buf_str(&p->name);

	i = skip_blanks(p, i);
	j = token_end(p, i);
	if (i == j)
		return prom_error(p, i, "missing type after TYPE %s",
		    prom_quote(q, sizeof(q), name, p->name.len));
	for (t = 0; t < (int)(sizeof(type_names) / sizeof(type_names[0]));
	    t++) {
		if (strlen(type_names[t]) == j - i &&
		    memcmp(type_names[t], p->ln + i, j - i) == 0)
			break;
	}
	if (t == (int)(sizeof(type_names) / sizeof(type_names[0])))
		return prom_error(p, i, "unknown metric type \"%s\"",
		    prom_quote(q, sizeof(q), p->ln + i, j - i));
	if (skip_blanks(p, j) != p->lnlen)
		return prom_error(p, skip_blanks(p, j),
		    "unexpected text after metric type");
	if (nameset_find(&p->types, name) != NULL)
		return prom_error(p, kw, "second TYPE line for %s",
		    prom_quote(q, sizeof(q), name, p->name.len));
	if (prom_family_seen(p, name, (enum sw_prom_type)t))
		return prom_error(p, kw, "TYPE line for %s after its samples",
		    prom_quote(q, sizeof(q), name, p->name.len));
	if (nameset_put(&p->types, name, t) == -1)
		return prom_error(p, kw, "out of memory");
	return 0;
}

static int
label_cmp(const struct label *la, const struct label *lb, const char *s)
{
	int	r;

	if ((r = strcmp(s + la->name_off, s + lb->name_off)) != 0)
		return r;
	return la->col < lb->col ? -1 : la->col > lb->col;
}

/* Insertion sort: at most SW_PROM_MAX_LABELS, usually a handful, and
 * qsort has no context argument. */
static void
labels_sort(struct label *v, int n, const char *scratch)
{
	struct label	tmp;
	int		i, j;

	for (i = 1; i < n; i++) {
		tmp = v[i];
		for (j = i; j > 0 && label_cmp(&v[j - 1], &tmp, scratch) > 0;
		    j--)
			v[j] = v[j - 1];
		v[j] = tmp;
	}
}

/* Appends a value with Prometheus escapes. */
static int
canon_add_escaped(struct sw_buf *b, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\':
			if (sw_buf_add(b, "\\\\", 2) == -1)
				return -1;
			break;
		case '"':
			if (sw_buf_add(b, "\\\"", 2) == -1)
				return -1;
			break;
		case '\n':
			if (sw_buf_add(b, "\\n", 2) == -1)
				return -1;
			break;
		default:
			if (sw_buf_addc(b, s[i]) == -1)
				return -1;
		}
	}
	return 0;
}

/* Sorts the labels, rejects duplicates and builds p->canon. */
static int
prom_canon(struct prom *p, int *ncanon)
{
	char			 q[96];
	const char		*s, *nm;
	const struct label	*l;
	int			 i, n = 0;

	s = sw_buf_str(&p->scratch);
	labels_sort(p->labels, p->nlabels, s);
	sw_buf_reset(&p->canon);
	for (i = 0; i < p->nlabels; i++) {
		l = &p->labels[i];
		nm = s + l->name_off;
		if (i > 0 && strcmp(s + p->labels[i - 1].name_off, nm) == 0)
			return prom_error(p, (size_t)l->col - 1,
			    "duplicate label name %s",
			    prom_quote(q, sizeof(q), nm, strlen(nm)));
		if (l->value_len == 0)
			continue;
		if (n++ > 0 && sw_buf_addc(&p->canon, ',') == -1)
			goto nomem;
		if (l->legacy) {
			if (sw_buf_adds(&p->canon, nm) == -1)
				goto nomem;
		} else if (sw_buf_addc(&p->canon, '"') == -1 ||
		    canon_add_escaped(&p->canon, nm, strlen(nm)) == -1 ||
		    sw_buf_addc(&p->canon, '"') == -1)
			goto nomem;
		if (sw_buf_add(&p->canon, "=\"", 2) == -1 ||
		    canon_add_escaped(&p->canon, s + l->value_off,
		    l->value_len) == -1 ||
		    sw_buf_addc(&p->canon, '"') == -1)
			goto nomem;
	}
	*ncanon = n;
	return 0;
nomem:
	return prom_error(p, 0, "out of memory");
}

/* Adds one label; name and value are already in scratch. */
static int
prom_add_label(struct prom *p, size_t name_off, size_t value_off, size_t col0,
    int legacy)
{
	struct label	*l;

	if (p->nlabels == SW_PROM_MAX_LABELS)
		return prom_error(p, col0, "more than %d labels",
		    SW_PROM_MAX_LABELS);
	l = &p->labels[p->nlabels++];
	l->name_off = name_off;
	l->value_off = value_off;
	l->value_len = p->scratch.len - value_off;
	l->col = (int)col0 + 1;
	l->legacy = legacy;
	/* NUL-terminate the value in scratch too */
	if (sw_buf_addc(&p->scratch, '\0') == -1)
		return prom_error(p, col0, "out of memory");
	if (!legacy)
		p->legacy = 0;
	return 0;
}

/* The label set; i is past '{'. On success *ip is past '}'. have_name says
 * whether a metric name came before the brace. */
static int
prom_labels(struct prom *p, size_t *ip, int have_name)
{
	char	q[96];
	size_t	i = *ip, start, name_off, value_off;
	int	legacy, first = 1;

	for (;;) {
		i = skip_blanks(p, i);
		if (i >= p->lnlen)
			return prom_error(p, i, "missing '}'");
		if (p->ln[i] == '}') {
			i++;
			break;
		}
		start = i;
		name_off = p->scratch.len;
		if (p->ln[i] == '"') {
			if (read_quoted(p, &i, &p->scratch, "name") == -1)
				return -1;
			if (sw_buf_addc(&p->scratch, '\0') == -1)
				return prom_error(p, i, "out of memory");
			i = skip_blanks(p, i);
			if (i >= p->lnlen || p->ln[i] != '=') {
				/* {"metric.name", ...} */
				if (!first || have_name)
					return prom_error(p, start, "label "
					    "name without '=' and value");
				if (p->scratch.len - 1 == name_off)
					return prom_error(p, start,
					    "empty metric name");
				sw_buf_reset(&p->name);
				if (sw_buf_adds(&p->name,
				    p->scratch.data + name_off) == -1)
					return prom_error(p, i, "out of memory");
				p->scratch.len = name_off;
				p->scratch.data[name_off] = '\0';
				have_name = 1;
				first = 0;
				goto next;
			}
			if (p->scratch.len - 1 == name_off)
				return prom_error(p, start, "empty label name");
			legacy = is_legacy(p->scratch.data + name_off, 1);
		} else {
			if (!is_label_start(p->ln[i]))
				return prom_error(p, i, "bad label name "
				    "starting with '%s'",
				    prom_quote(q, sizeof(q), p->ln + i, 1));
			while (i < p->lnlen && is_label_char(p->ln[i]))
				i++;
			if (sw_buf_add(&p->scratch, p->ln + start,
			    i - start) == -1 ||
			    sw_buf_addc(&p->scratch, '\0') == -1)
				return prom_error(p, i, "out of memory");
			legacy = 1;
			if (i < p->lnlen && !is_blank(p->ln[i]) &&
			    p->ln[i] != '=' && p->ln[i] != ',' &&
			    p->ln[i] != '}')
				return prom_error(p, i, "bad character '%s' "
				    "in label name", prom_quote(q, sizeof(q),
				    p->ln + i, 1));
			i = skip_blanks(p, i);
			if (i >= p->lnlen || p->ln[i] != '=')
				return prom_error(p, i,
				    "missing '=' after label name");
		}
		first = 0;
		i = skip_blanks(p, i + 1);	/* past '=' */
		if (i >= p->lnlen || p->ln[i] != '"')
			return prom_error(p, i, "label value must be quoted");
		value_off = p->scratch.len;
		if (read_quoted(p, &i, &p->scratch, "label value") == -1)
			return -1;
		if (prom_add_label(p, name_off, value_off, start,
		    legacy) == -1)
			return -1;
next:
		i = skip_blanks(p, i);
		if (i < p->lnlen && p->ln[i] == ',') {
			i++;
			continue;
		}
		if (i < p->lnlen && p->ln[i] == '}') {
			i++;
			break;
		}
		if (i >= p->lnlen)
			return prom_error(p, i, "missing '}'");
		return prom_error(p, i, "expected ',' or '}' after label, "
		    "not '%s'", prom_quote(q, sizeof(q), p->ln + i, 1));
	}
	if (!have_name)
		return prom_error(p, *ip - 1, "missing metric name");
	*ip = i;
	return 0;
}

/* After the value (and timestamp): only blanks or an exemplar. */
static int
prom_tail(struct prom *p, size_t i, const char *after)
{
	char	q[96];
	size_t	j;

	i = skip_blanks(p, i);
	if (i >= p->lnlen)
		return 0;
	if (p->ln[i] == '#') {
		/* an OpenMetrics exemplar, " # {labels} value [ts]": ignored */
		j = skip_blanks(p, i + 1);
		if (j > i + 1 && j < p->lnlen && p->ln[j] == '{')
			return 0;
	}
	j = token_end(p, i);
	return prom_error(p, i, "unexpected \"%s\" after %s",
	    prom_quote(q, sizeof(q), p->ln + i, j - i), after);
}

static int
prom_sample(struct prom *p)
{
	char			 q[96];
	struct sw_prom_sample	 s;
	size_t			 i, j, start;
	int			 have_name = 0, ncanon = 0;

	memset(&s, 0, sizeof(s));
	i = skip_blanks(p, 0);
	start = i;
	p->nlabels = 0;
	p->legacy = 1;
	sw_buf_reset(&p->scratch);
	sw_buf_reset(&p->name);
	if (p->ln[i] != '{') {
		if (read_name(p, &i) == -1)
			return prom_error(p, i, "bad metric name starting with "
			    "'%s'", prom_quote(q, sizeof(q), p->ln + i, 1));
		have_name = 1;
		if (i < p->lnlen && !is_blank(p->ln[i]) && p->ln[i] != '{')
			return prom_error(p, i, "bad character '%s' in metric "
			    "name", prom_quote(q, sizeof(q), p->ln + i, 1));
		i = skip_blanks(p, i);
	}
	if (i < p->lnlen && p->ln[i] == '{') {
		i++;
		if (prom_labels(p, &i, have_name) == -1)
			return -1;
		if (!is_legacy(sw_buf_str(&p->name), 0))
			p->legacy = 0;
		i = skip_blanks(p, i);
	}
	if (p->nsamples == SW_PROM_MAX_SAMPLES)
		return prom_error(p, start, "more than %d samples",
		    SW_PROM_MAX_SAMPLES);

	/* value */
	j = token_end(p, i);
	if (i == j)
		return prom_error(p, i, "missing value");
	if (parse_value(p->ln + i, j - i, &s.value) == -1)
		return prom_error(p, i, "bad value \"%s\"",
		    prom_quote(q, sizeof(q), p->ln + i, j - i));
	i = skip_blanks(p, j);

	/* optional timestamp, then nothing but an exemplar */
	if (i < p->lnlen && p->ln[i] != '#') {
		j = token_end(p, i);
		if (parse_timestamp(p->ln + i, j - i, &s.ts_ms) == -1)
			return prom_error(p, i, "bad timestamp \"%s\"",
			    prom_quote(q, sizeof(q), p->ln + i, j - i));
		s.has_ts = 1;
		if (prom_tail(p, j, "timestamp") == -1)
			return -1;
	} else if (prom_tail(p, i, "value") == -1)
		return -1;

	if (prom_canon(p, &ncanon) == -1)
		return -1;
	s.name = sw_buf_str(&p->name);
	if (prom_family(p, s.name, &s.family, &s.type) == -1)
		return prom_error(p, start, "out of memory");
	s.labels = sw_buf_str(&p->canon);
	s.nlabels = ncanon;
	s.legacy = p->legacy;
	s.line = p->line;
	if (nameset_put(&p->seen, s.name, 1) == -1)
		return prom_error(p, start, "out of memory");
	p->nsamples++;
	if (p->cb != NULL && p->cb(&s, p->arg) == -1)
		return prom_error(p, start, "stopped");
	return 0;
}

static int
prom_line(struct prom *p)
{
	size_t	i = skip_blanks(p, 0);

	if (i == p->lnlen)
		return 0;
	if (p->ln[i] == '#')
		return prom_comment(p, i + 1);
	return prom_sample(p);
}

int
sw_prom_parse(const char *text, size_t len, sw_prom_sample_cb cb, void *arg,
    struct sw_err *err)
{
	struct prom	 p;
	const char	*nl, *bad;
	size_t		 pos = 0, i;
	int		 rv = -1;

	memset(&p, 0, sizeof(p));
	p.err = err;
	p.cb = cb;
	p.arg = arg;
	/* a line's unescaped parts are never longer than the line; its
	 * canonical labels at most twice as long */
	sw_buf_init(&p.name, SW_PROM_MAX_LINE);
	sw_buf_init(&p.fam, SW_PROM_MAX_LINE + 16);
	sw_buf_init(&p.scratch, SW_PROM_MAX_LINE + 2 * SW_PROM_MAX_LABELS);
	sw_buf_init(&p.canon, 2 * SW_PROM_MAX_LINE + 8 * SW_PROM_MAX_LABELS);

	while (pos < len) {
		p.ln = text + pos;
		p.line++;
		nl = memchr(p.ln, '\n', len - pos);
		p.lnlen = nl != NULL ? (size_t)(nl - p.ln) : len - pos;
		if (p.lnlen > SW_PROM_MAX_LINE) {
			prom_error(&p, SW_PROM_MAX_LINE,
			    "line longer than %d bytes", SW_PROM_MAX_LINE);
			goto out;
		}
		if ((bad = memchr(p.ln, '\0', p.lnlen)) != NULL) {
			prom_error(&p, (size_t)(bad - p.ln), "NUL byte");
			goto out;
		}
		if ((bad = memchr(p.ln, '\r', p.lnlen)) != NULL) {
			prom_error(&p, (size_t)(bad - p.ln), "carriage return "
			    "(lines must end with \\n alone)");
			goto out;
		}
		if (nl == NULL) {
			/* blanks after the last newline are harmless; text
			 * is a truncated body */
			if ((i = skip_blanks(&p, 0)) < p.lnlen) {
				prom_error(&p, p.lnlen,
				    "last line does not end with a newline");
				goto out;
			}
			break;
		}
		if (prom_line(&p) == -1)
			goto out;
		pos += p.lnlen + 1;
	}
	rv = p.nsamples;
out:
	sw_buf_release(&p.canon);
	sw_buf_release(&p.scratch);
	sw_buf_release(&p.fam);
	sw_buf_release(&p.name);
	nameset_release(&p.seen);
	nameset_release(&p.types);
	return rv;
}
