#include "config.h"
/*
 * expr.c: the rule expression language: a tokenizer, a recursive-descent
 * parser, the unit and type checker, and the printer (slopewatch-rules(7)).
 *
 * Grammar, loosest first:
 *   or    := and ('or' and)*
 *   and   := not ('and' not)*
 *   not   := 'not' not | cmp
 *   cmp   := add (('<' | '<=' | '>' | '>=' | '==' | '!=') add)?
 *   add   := mul (('+' | '-') mul)*
 *   mul   := unary (('*' | '/') unary)*
 *   unary := '-' unary | primary
 *   primary := NUMBER | SERIES | NAME '(' args ')' | NAME | '(' or ')'
 *
 * Invariants: the text is at most SW_EXPR_MAX_LEN bytes; the parser recurses
 * at most SW_EXPR_MAX_DEPTH levels (parentheses, calls, not, unary minus) and
 * builds no tree higher than SW_EXPR_MAX_DEPTH, so every walk of a tree is
 * bounded too. A syntax error stops the parse; type and unit errors are
 * checked bottom-up as nodes are built, each reported once at the operator
 * or argument it is about, and a node with an error is INVALID, which its
 * parents accept silently (no cascades). A tree handed to a caller has no
 * INVALID node and no unknown function.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slopewatch/buf.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/expr.h"
#include "slopewatch/store.h"
#include "slopewatch/text.h"
#include "slopewatch/units.h"

#define EXPR_FMT_MAX	(64 * 1024)	/* bytes of formatted text */
#define EXPR_EXCERPT	60		/* bytes of an expression in a message */
#define EXPR_NAME_SHOW	48		/* bytes of a name in a message */

enum tok_type {
	T_EOF = 0,
	T_NUM,
	T_SERIES,
	T_IDENT,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_EQ,
	T_NE,
	T_AND,
	T_OR,
	T_NOT,
};

struct tok {
	enum tok_type		type;
	size_t			off;
	size_t			len;
	struct sw_quantity	q;		/* T_NUM */
	size_t			tlen;		/* T_SERIES: target [off, off+tlen) */
	size_t			moff, mlen;	/* T_SERIES: metric */
};

struct parse {
	const char		*text;
	size_t			 len;
	size_t			 pos;
	struct tok		 peek;
	int			 has_peek;
	struct tok		 cur;		/* the last token taken */
	struct tok		 prev;		/* the one before it */
	const struct sw_conf	*conf;
	struct sw_loc		 at;
	sw_conf_diag_cb		 diag;
	void			*arg;
	int			 nerr;
	int			 depth;
	/* canonical labels of the last T_SERIES lexed (consumed at once) */
	char			 labels[SW_STORE_LABELS_MAX + 1];
};

/* ---------------------------------------------------------------------- */
/* characters, names, messages                                             */

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_ident(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

static void expr_error(struct parse *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
expr_error(struct parse *ps, size_t off, const char *fmt, ...)
{
	char		msg[768];
	struct sw_loc	loc;
	va_list		ap;

	ps->nerr++;
	if (ps->diag == NULL || ps->nerr > SW_EXPR_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	loc = ps->at;
	if (off > (size_t)(1 << 20))
		off = 1 << 20;
	loc.col += (int)off;
	ps->diag(&loc, msg, ps->arg);
}

const char *
sw_expr_unit_desc(enum sw_unit unit)
{
	return sw_unit_desc(unit);
}

/* A literal of unit, for examples in messages. */
static const char *
unit_example(const struct sw_expr *e)
{
	if (!e->unit_known)
		return "10";
	switch (e->unit) {
	case SW_UNIT_SECONDS:
		return "2s";
	case SW_UNIT_BYTES:
		return "1GB";
	case SW_UNIT_RATIO:
		return "1%";
	case SW_UNIT_BYTES_PER_S:
		return "100MB/d";
	case SW_UNIT_PER_S:
		return "5/m";
	case SW_UNIT_NONE:
	default:
		return "10";
	}
}

/* Unit words of a number node ("any unit" when it is not known). */
static const char *
node_unit_desc(const struct sw_expr *e)
{
	if (!e->unit_known)
		return "any unit";
	return sw_expr_unit_desc(e->unit);
}

/* Did-you-mean: the closest candidate other than the word itself (case
 * counts; see text.h). */
static void
suggest_init(struct sw_text_suggest *s, const char *word)
{
	sw_text_suggest_init(s, word, SW_TEXT_SKIP_SAME);
}

/* " (did you mean X?)" into dst when the closest candidate is at most 1
 * edit away from a word of up to 3 bytes (else at most 2), or "". */
static const char *
suggest_text(char *dst, size_t dstsz, const struct sw_text_suggest *s)
{
	if (s->best == NULL || s->dist >= (strlen(s->word) <= 3 ? 2u : 3u))
		snprintf(dst, dstsz, "%s", "");
	else
		snprintf(dst, dstsz, " (did you mean %s?)", s->best);
	return dst;
}

/* ---------------------------------------------------------------------- */
/* tokens                                                                  */

static const char *
tok_desc(const struct parse *ps, const struct tok *t, char *dst, size_t dstsz)
{
	int	n = (int)(t->len > EXPR_NAME_SHOW ? EXPR_NAME_SHOW : t->len);

	switch (t->type) {
	case T_EOF:
		snprintf(dst, dstsz, "the end of the expression");
		break;
	case T_NUM:
		snprintf(dst, dstsz, "the number %.*s", n, ps->text + t->off);
		break;
	case T_SERIES:
		snprintf(dst, dstsz, "the series %.*s%s", n, ps->text + t->off,
		    (size_t)n < t->len ? "..." : "");
		break;
	case T_IDENT:
		snprintf(dst, dstsz, "the name %.*s", n, ps->text + t->off);
		break;
	default:
		snprintf(dst, dstsz, "'%.*s'", n, ps->text + t->off);
		break;
	}
	return dst;
}

static int
lex_fail(struct parse *ps)
{
	ps->pos = ps->len;
	return -1;
}

/* Only digits and points: the mantissa before an exponent's sign. */
static int
is_mantissa(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			return 0;
	return n > 0;
}

static int
lex_number(struct parse *ps, struct tok *t)
{
	const char	*s = ps->text;
	size_t		 i = ps->pos, end, j;
	struct sw_quantity q;
	int		 n;

	for (;;) {
		if (i < ps->len && (is_ident(s[i]) || s[i] == '.')) {
			i++;
			continue;
		}
		/* 1e-3: the sign of an exponent right after digits */
		if (i < ps->len && (s[i] == '+' || s[i] == '-') &&
		    i + 1 < ps->len && is_digit(s[i + 1]) &&
		    (s[i - 1] == 'e' || s[i - 1] == 'E') &&
		    is_mantissa(s + ps->pos, i - 1 - ps->pos)) {
			i++;
			continue;
		}
		break;
	}
	if (i < ps->len && s[i] == '%')
		i++;
	end = i;
	/* a rate, "100MB/d": the slash binds only when the whole parses */
	if (i + 1 < ps->len && s[i] == '/' && (is_ident(s[i + 1]) ||
	    s[i + 1] == '.')) {
		j = i + 1;
		while (j < ps->len && (is_ident(s[j]) || s[j] == '.'))
			j++;
		if (sw_parse_quantity(s + ps->pos, j - ps->pos, &q) == 0) {
			t->type = T_NUM;
			t->q = q;
			t->len = j - ps->pos;
			ps->pos = j;
			return 0;
		}
	}
	if (sw_parse_quantity(s + ps->pos, end - ps->pos, &q) == -1) {
		n = (int)(end - ps->pos > EXPR_NAME_SHOW ? EXPR_NAME_SHOW :
		    end - ps->pos);
		expr_error(ps, ps->pos, "bad number %.*s (expected a number "
		    "with an optional unit: 0.5, 2s, 250ms, 1.5GB, 512MiB, "
		    "100MB/d, 1%%)", n, s + ps->pos);
		return lex_fail(ps);
	}
	t->type = T_NUM;
	t->q = q;
	t->len = end - ps->pos;
	ps->pos = end;
	return 0;
}

/* The labels of a series, from the '{' at ps->pos. */
static int
lex_labels(struct parse *ps, struct tok *t)
{
	const char	*s = ps->text;
	size_t		 open = ps->pos, k = open + 1, col;
	int		 inq = 0;
	struct sw_err	 err;
	char		*rest;

	while (k < ps->len) {
		if (inq) {
			if (s[k] == '\\' && k + 1 < ps->len) {
				k += 2;
				continue;
			}
			if (s[k] == '"')
				inq = 0;
		} else if (s[k] == '"')
			inq = 1;
		else if (s[k] == '}')
			break;
		k++;
	}
	if (k >= ps->len) {
		expr_error(ps, open, "unterminated labels: expected '}' to "
		    "close this '{'%s", inq ? " (a label value's string is "
		    "not closed)" : "");
		return lex_fail(ps);
	}
	sw_err_clear(&err);
	if (sw_series_labels_canon(s + open + 1, k - open - 1, ps->labels,
	    sizeof(ps->labels), &err) == -1) {
		/* "column N: ..." is 1-based in the text between the braces */
		if (strncmp(err.msg, "column ", 7) == 0 &&
		    (col = strtoul(err.msg + 7, &rest, 10)) > 0 &&
		    rest[0] == ':' && rest[1] == ' ' && col <= k - open)
			expr_error(ps, open + col, "bad labels: %s", rest + 2);
		else
			expr_error(ps, open, "bad labels: %s", err.msg);
		return lex_fail(ps);
	}
	ps->pos = k + 1;
	t->len = ps->pos - t->off;
	return 0;
}

/* A name: a keyword, a function or target name, or target.metric{...}. */
static int
lex_word(struct parse *ps, struct tok *t)
{
	const char	*s = ps->text;
	size_t		 i = ps->pos, j;

	/* target names may hold dashes between name characters ("my-api") */
	while (i < ps->len && (is_ident(s[i]) || (s[i] == '-' &&
	    i + 1 < ps->len && is_ident(s[i + 1]))))
		i++;
	t->len = i - ps->pos;
	if (i < ps->len && s[i] == '.') {
		j = i + 1;
		if (j >= ps->len || !(is_alpha(s[j]) || s[j] == '_' ||
		    s[j] == ':')) {
			expr_error(ps, j, "expected a metric name after "
			    "\"%.*s.\"", (int)(t->len > EXPR_NAME_SHOW ?
			    EXPR_NAME_SHOW : t->len), s + ps->pos);
			return lex_fail(ps);
		}
		while (j < ps->len && (is_ident(s[j]) || s[j] == ':'))
			j++;
		t->type = T_SERIES;
		t->tlen = i - ps->pos;
		t->moff = i + 1;
		t->mlen = j - (i + 1);
		ps->labels[0] = '\0';
		ps->pos = j;
		t->len = j - t->off;
		if (j < ps->len && s[j] == '{')
			return lex_labels(ps, t);
		return 0;
	}
	ps->pos = i;
	t->type = T_IDENT;
	if (t->len == 3 && memcmp(s + t->off, "and", 3) == 0)
		t->type = T_AND;
	else if (t->len == 2 && memcmp(s + t->off, "or", 2) == 0)
		t->type = T_OR;
	else if (t->len == 3 && memcmp(s + t->off, "not", 3) == 0)
		t->type = T_NOT;
	return 0;
}

static int
lex(struct parse *ps, struct tok *t)
{
	const char	*s = ps->text;
	char		 c, c1;

	memset(t, 0, sizeof(*t));
	while (ps->pos < ps->len && is_blank(s[ps->pos]))
		ps->pos++;
	t->off = ps->pos;
	if (ps->pos >= ps->len) {
		t->type = T_EOF;
		return 0;
	}
	c = s[ps->pos];
	c1 = ps->pos + 1 < ps->len ? s[ps->pos + 1] : '\0';
	if (is_digit(c) || (c == '.' && is_digit(c1)))
		return lex_number(ps, t);
	if (is_alpha(c) || c == '_')
		return lex_word(ps, t);
	t->len = 1;
	switch (c) {
	case '(':
		t->type = T_LPAREN;
		break;
	case ')':
		t->type = T_RPAREN;
		break;
	case ',':
		t->type = T_COMMA;
		break;
	case '+':
		t->type = T_PLUS;
		break;
	case '-':
		t->type = T_MINUS;
		break;
	case '*':
		t->type = T_STAR;
		break;
	case '/':
		t->type = T_SLASH;
		break;
	case '<':
		t->type = c1 == '=' ? T_LE : T_LT;
		break;
	case '>':
		t->type = c1 == '=' ? T_GE : T_GT;
		break;
	case '=':
		if (c1 != '=') {
			expr_error(ps, t->off, "'=' is not an operator: write "
			    "== to compare");
			return lex_fail(ps);
		}
		t->type = T_EQ;
		break;
	case '!':
		if (c1 != '=') {
			expr_error(ps, t->off, "'!' is not an operator: write "
			    "not, or != to compare");
			return lex_fail(ps);
		}
		t->type = T_NE;
		break;
	case '&':
		expr_error(ps, t->off, "'&' is not an operator: write and");
		return lex_fail(ps);
	case '|':
		expr_error(ps, t->off, "'|' is not an operator: write or");
		return lex_fail(ps);
	case '"':
	case '\'':
		expr_error(ps, t->off, "a quoted string can only be a label "
		    "value, as in web.rss{k=\"v\"}");
		return lex_fail(ps);
	case '{':
		expr_error(ps, t->off, "labels follow a series name with no "
		    "space before '{', as in web.rss{k=\"v\"}");
		return lex_fail(ps);
	default:
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			expr_error(ps, t->off, "unexpected character '%c'", c);
		else
			expr_error(ps, t->off, "unexpected byte 0x%02x",
			    (unsigned char)c);
		return lex_fail(ps);
	}
	if (t->type == T_LE || t->type == T_GE || t->type == T_EQ ||
	    t->type == T_NE)
		t->len = 2;
	ps->pos += t->len;
	return 0;
}

static int
next(struct parse *ps, struct tok *t)
{
	if (ps->has_peek) {
		*t = ps->peek;
		ps->has_peek = 0;
	} else if (lex(ps, t) == -1)
		return -1;
	ps->prev = ps->cur;
	ps->cur = *t;
	return 0;
}

/*
 * t, a name, follows a plain number ("1.5 GB"): if together they make a
 * number with a unit, says to write them together and returns 1.
 */
static int
unit_apart(struct parse *ps, const struct tok *t, int taken)
{
	const struct tok	*num = taken ? &ps->prev : &ps->cur;
	struct sw_quantity	 q;
	char			 tmp[2 * EXPR_NAME_SHOW + 2];

	if (t->type != T_IDENT || num->type != T_NUM ||
	    num->q.unit != SW_UNIT_NONE || t->len > EXPR_NAME_SHOW ||
	    num->len > EXPR_NAME_SHOW)
		return 0;
	snprintf(tmp, sizeof(tmp), "%.*s%.*s", (int)num->len,
	    ps->text + num->off, (int)t->len, ps->text + t->off);
	if (sw_parse_quantity(tmp, (size_t)-1, &q) == -1 ||
	    q.unit == SW_UNIT_NONE)
		return 0;
	expr_error(ps, t->off, "write the unit right after the number, with "
	    "no space: %s", tmp);
	return 1;
}

/* The next token, borrowed; NULL after a lexical error (reported). */
static const struct tok *
peek(struct parse *ps)
{
	if (!ps->has_peek) {
		if (lex(ps, &ps->peek) == -1)
			return NULL;
		ps->has_peek = 1;
	}
	return &ps->peek;
}

/* ---------------------------------------------------------------------- */
/* nodes and printing                                                      */

void
sw_expr_free(struct sw_expr *e)
{
	int	i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nargs; i++)
		sw_expr_free(e->arg[i]);
	free(e->text);
	free(e->target);
	free(e->metric);
	free(e->labels);
	free(e->name);
	free(e);
}

static int
prec(const struct sw_expr *e)
{
	switch (e->kind) {
	case SW_EXPR_LOGIC:
		return e->op == SW_OP_OR ? 1 : 2;
	case SW_EXPR_UNARY:
		return e->op == SW_OP_NOT ? 3 : 7;
	case SW_EXPR_COMPARE:
		return 4;
	case SW_EXPR_ARITH:
		return e->op == SW_OP_ADD || e->op == SW_OP_SUB ? 5 : 6;
	default:
		return 8;
	}
}

static const char *
op_text(enum sw_expr_op op)
{
	switch (op) {
	case SW_OP_NEG:
	case SW_OP_SUB:
		return "-";
	case SW_OP_NOT:
		return "not";
	case SW_OP_ADD:
		return "+";
	case SW_OP_MUL:
		return "*";
	case SW_OP_DIV:
		return "/";
	case SW_OP_LT:
		return "<";
	case SW_OP_LE:
		return "<=";
	case SW_OP_GT:
		return ">";
	case SW_OP_GE:
		return ">=";
	case SW_OP_EQ:
		return "==";
	case SW_OP_NE:
		return "!=";
	case SW_OP_AND:
		return "and";
	case SW_OP_OR:
		return "or";
	case SW_OP_NONE:
	default:
		return "?";
	}
}

static int fmt_node(struct sw_buf *, const struct sw_expr *, int);

static int
fmt_child(struct sw_buf *b, const struct sw_expr *e, int paren, int full)
{
	if (!paren || full)
		return fmt_node(b, e, full);
	if (sw_buf_addc(b, '(') == -1 || fmt_node(b, e, full) == -1 ||
	    sw_buf_addc(b, ')') == -1)
		return -1;
	return 0;
}

static int
fmt_node(struct sw_buf *b, const struct sw_expr *e, int full)
{
	int	i, p = prec(e);

	switch (e->kind) {
	case SW_EXPR_NUMBER:
		return sw_buf_adds(b, e->text != NULL ? e->text : "?");
	case SW_EXPR_SERIES:
		if (sw_buf_addf(b, "%s.%s", e->target, e->metric) == -1)
			return -1;
		if (e->labels != NULL && e->labels[0] != '\0')
			return sw_buf_addf(b, "{%s}", e->labels);
		return 0;
	case SW_EXPR_TARGET:
		return sw_buf_adds(b, e->target);
	case SW_EXPR_CALL:
		if (sw_buf_addf(b, "%s(", e->name) == -1)
			return -1;
		for (i = 0; i < e->nargs; i++)
			if ((i > 0 && sw_buf_adds(b, ", ") == -1) ||
			    fmt_node(b, e->arg[i], full) == -1)
				return -1;
		return sw_buf_addc(b, ')');
	case SW_EXPR_UNARY:
		if (full && sw_buf_addc(b, '(') == -1)
			return -1;
		if (sw_buf_adds(b, e->op == SW_OP_NOT ? "not " : "-") == -1 ||
		    fmt_child(b, e->arg[0], prec(e->arg[0]) < p, full) == -1)
			return -1;
		return full ? sw_buf_addc(b, ')') : 0;
	case SW_EXPR_ARITH:
	case SW_EXPR_COMPARE:
	case SW_EXPR_LOGIC:
		if (full && sw_buf_addc(b, '(') == -1)
			return -1;
		/* left-associative; comparisons do not chain */
		if (fmt_child(b, e->arg[0], e->kind == SW_EXPR_COMPARE ?
		    prec(e->arg[0]) <= p : prec(e->arg[0]) < p, full) == -1 ||
		    sw_buf_addf(b, " %s ", op_text(e->op)) == -1 ||
		    fmt_child(b, e->arg[1], prec(e->arg[1]) <= p, full) == -1)
			return -1;
		return full ? sw_buf_addc(b, ')') : 0;
	}
	return -1;
}

static char *
format(const struct sw_expr *e, int full)
{
	struct sw_buf	b;

	if (e == NULL)
		return NULL;
	sw_buf_init(&b, EXPR_FMT_MAX);
	if (fmt_node(&b, e, full) == -1) {
		sw_buf_release(&b);
		return NULL;
	}
	return sw_buf_detach(&b);
}

char *
sw_expr_format(const struct sw_expr *e)
{
	return format(e, 0);
}

char *
sw_expr_format_full(const struct sw_expr *e)
{
	return format(e, 1);
}

/* A short, printable rendering of e for messages. */
static const char *
excerpt(char *dst, size_t dstsz, const struct sw_expr *e)
{
	struct sw_buf	b;
	size_t		i, n;
	const char	*s;

	sw_buf_init(&b, EXPR_FMT_MAX);
	if (fmt_node(&b, e, 0) == -1)
		snprintf(dst, dstsz, "...");
	else {
		s = sw_buf_str(&b);
		n = strlen(s);
		if (n > EXPR_EXCERPT)
			snprintf(dst, dstsz, "%.*s...", EXPR_EXCERPT - 3, s);
		else
			snprintf(dst, dstsz, "%s", s);
	}
	sw_buf_release(&b);
	for (i = 0; dst[i] != '\0'; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
	return dst;
}

/* ---------------------------------------------------------------------- */
/* functions and series                                                    */

enum argkind {
	A_SERIES = 0,
	A_WINDOW,
	A_ENDPOINT,
	A_Q,
	A_HIST,
	A_LIMIT,
	A_HORIZON,
	A_BASELINE,
};

enum reskind {
	R_SAME = 0,
	R_NONE,
	R_PER_S,
	R_RATIO,
	R_SECONDS,
	R_HIST,
};

struct fninfo {
	const char	*name;
	enum sw_expr_fn	 fn;
	int		 nargs;
	enum argkind	 args[3];
	enum reskind	 res;
	const char	*sig;
};

static const struct fninfo fn_quantile = {
	"pNN", SW_FN_QUANTILE, 2, { A_SERIES, A_WINDOW, 0 }, R_SAME,
	"(series, window)"
};

static const struct fninfo fns[] = {
	{ "avg", SW_FN_AVG, 2, { A_SERIES, A_WINDOW, 0 }, R_SAME,
	    "(series, window)" },
	{ "min", SW_FN_MIN, 2, { A_SERIES, A_WINDOW, 0 }, R_SAME,
	    "(series, window)" },
	{ "max", SW_FN_MAX, 2, { A_SERIES, A_WINDOW, 0 }, R_SAME,
	    "(series, window)" },
	{ "last", SW_FN_LAST, 2, { A_SERIES, A_WINDOW, 0 }, R_SAME,
	    "(series, window)" },
	{ "count", SW_FN_COUNT, 2, { A_SERIES, A_WINDOW, 0 }, R_NONE,
	    "(series, window)" },
	{ "rate", SW_FN_RATE, 2, { A_SERIES, A_WINDOW, 0 }, R_PER_S,
	    "(series, window)" },
	{ "delta", SW_FN_DELTA, 2, { A_SERIES, A_WINDOW, 0 }, R_SAME,
	    "(series, window)" },
	{ "errors", SW_FN_ERRORS, 2, { A_ENDPOINT, A_WINDOW, 0 }, R_RATIO,
	    "(endpoint, window)" },
	{ "histogram_quantile", SW_FN_HISTOGRAM_QUANTILE, 3,
	    { A_Q, A_HIST, A_WINDOW }, R_HIST, "(q, histogram, window)" },
	{ "slope", SW_FN_SLOPE, 2, { A_SERIES, A_WINDOW, 0 }, R_PER_S,
	    "(series, window)" },
	{ "doubling", SW_FN_DOUBLING, 2, { A_SERIES, A_WINDOW, 0 }, R_SECONDS,
	    "(series, window)" },
	{ "forecast", SW_FN_FORECAST, 3, { A_SERIES, A_WINDOW, A_HORIZON },
	    R_SAME, "(series, window, horizon)" },
	{ "time_to", SW_FN_TIME_TO, 3, { A_SERIES, A_LIMIT, A_WINDOW },
	    R_SECONDS, "(series, limit, window)" },
	{ "anomaly", SW_FN_ANOMALY, 3, { A_SERIES, A_WINDOW, A_BASELINE },
	    R_NONE, "(series, window, baseline)" },
};
#define NFNS	(sizeof(fns) / sizeof(fns[0]))

/* Names users bring from elsewhere. */
static const struct {
	const char	*from, *to;
} fn_aliases[] = {
	{ "mean", "avg" }, { "average", "avg" }, { "median", "p50" },
	{ "quantile", "p50, p95 or pNN" }, { "increase", "delta" },
	{ "deriv", "slope" }, { "predict_linear", "forecast" },
	{ "avg_over_time", "avg" }, { "max_over_time", "max" },
	{ "min_over_time", "min" }, { "irate", "rate" },
};

const char *
sw_expr_fn_name(enum sw_expr_fn fn)
{
	size_t	i;

	if (fn == SW_FN_QUANTILE)
		return "pNN";
	for (i = 0; i < NFNS; i++)
		if (fns[i].fn == fn)
			return fns[i].name;
	return "?";
}

/*
 * "p" and two or more digits, read as a fraction: p50 = 0.5, p999 = 0.999.
 * Returns 1 and sets *q for a good one, 0 for a name that is not pDIGITS,
 * -1 for a bad percentile (p5, p00, p500).
 */
static int
quantile_name(const char *s, size_t n, double *q)
{
	char	tmp[16];
	size_t	i;

	if (n < 2 || s[0] != 'p')
		return 0;
	for (i = 1; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	if (n < 3 || n > 8 || (n > 3 && s[n - 1] == '0'))
		return -1;
	snprintf(tmp, sizeof(tmp), "0.%.*s", (int)(n - 1), s + 1);
	if (sw_parse_double(tmp, (size_t)-1, q) == -1 || *q <= 0)
		return -1;
	return 1;
}

static const struct fninfo *
fn_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < NFNS; i++)
		if (strcmp(fns[i].name, name) == 0)
			return &fns[i];
	return NULL;
}

struct metric {
	const char	*name;
	enum sw_unit	 unit;
};

static const struct metric endpoint_metrics[] = {
	{ "latency", SW_UNIT_SECONDS }, { "dns", SW_UNIT_SECONDS },
	{ "connect", SW_UNIT_SECONDS }, { "tls", SW_UNIT_SECONDS },
	{ "ttfb", SW_UNIT_SECONDS }, { "status", SW_UNIT_NONE },
	{ "up", SW_UNIT_NONE }, { "bytes", SW_UNIT_BYTES },
	{ "failures", SW_UNIT_NONE }, { NULL, SW_UNIT_NONE },
};

static const struct metric process_metrics[] = {
	{ "rss", SW_UNIT_BYTES }, { "pss", SW_UNIT_BYTES },
	{ "anon", SW_UNIT_BYTES }, { "swap", SW_UNIT_BYTES },
	{ "limit", SW_UNIT_BYTES }, { "cgroup_current", SW_UNIT_BYTES },
	{ "cpu", SW_UNIT_PER_S }, { "threads", SW_UNIT_NONE },
	{ "fds", SW_UNIT_NONE }, { "processes", SW_UNIT_NONE },
	{ "pid", SW_UNIT_NONE }, { "oom_kills", SW_UNIT_NONE },
	{ NULL, SW_UNIT_NONE },
};

static const struct metric self_metrics[] = {
	{ "rss", SW_UNIT_BYTES }, { "cpu", SW_UNIT_PER_S },
	{ "store_bytes", SW_UNIT_BYTES }, { NULL, SW_UNIT_NONE },
};

#define SELF_TARGET	"slopewatch"

static int
has_suffix(const char *s, const char *suffix)
{
	size_t	n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Unit of a scrape metric, from the Prometheus naming conventions. */
static enum sw_unit
scrape_unit(const char *metric)
{
	if (has_suffix(metric, "_bytes"))
		return SW_UNIT_BYTES;
	if (has_suffix(metric, "_seconds"))
		return SW_UNIT_SECONDS;
	return SW_UNIT_NONE;
}

/* The kind of target name: 0 and *kind, or -1 when there is none. */
static int
target_kind(const struct sw_conf *conf, const char *name,
    enum sw_target_kind *kind)
{
	const struct sw_conf_target	*t;

	for (t = conf->targets; t != NULL; t = t->next)
		if (t->name != NULL && strcmp(t->name, name) == 0) {
			*kind = t->kind;
			return 0;
		}
	if (strcmp(name, SELF_TARGET) == 0) {
		*kind = SW_TARGET_SELF;
		return 0;
	}
	return -1;
}

/* Did-you-mean over the targets (of one kind, or any when kind < 0). */
static void
suggest_target(struct sw_text_suggest *s, const struct sw_conf *conf,
    int kind)
{
	const struct sw_conf_target	*t;

	for (t = conf->targets; t != NULL; t = t->next)
		if (kind < 0 || (int)t->kind == kind)
			sw_text_suggest_try(s, t->name);
	if (kind < 0 || kind == SW_TARGET_SELF)
		sw_text_suggest_try(s, SELF_TARGET);
}

static const struct metric *
kind_metrics(enum sw_target_kind kind)
{
	switch (kind) {
	case SW_TARGET_ENDPOINT:
		return endpoint_metrics;
	case SW_TARGET_PROCESS:
		return process_metrics;
	case SW_TARGET_SELF:
		return self_metrics;
	case SW_TARGET_SCRAPE:
	default:
		return NULL;
	}
}

/* "an endpoint", "a process", ... */
static const char *
kind_article(enum sw_target_kind kind)
{
	return kind == SW_TARGET_ENDPOINT ? "an" : "a";
}

static const char *
kind_name(enum sw_target_kind kind)
{
	/* the agent's own target is "built-in" in messages */
	if (kind != SW_TARGET_ENDPOINT && kind != SW_TARGET_PROCESS &&
	    kind != SW_TARGET_SCRAPE)
		return "built-in";
	return sw_target_kind_name(kind);
}

/* A metric a series of this kind of target has, for examples. */
static const char *
kind_example_metric(enum sw_target_kind kind)
{
	switch (kind) {
	case SW_TARGET_ENDPOINT:
		return "latency";
	case SW_TARGET_SCRAPE:
		return "process_resident_memory_bytes";
	case SW_TARGET_PROCESS:
	case SW_TARGET_SELF:
	default:
		return "rss";
	}
}

/* Gives a series node its unit from the conf (unknown without one). */
static void
series_check(struct parse *ps, struct sw_expr *n)
{
	const struct metric	*m, *ms;
	enum sw_target_kind	 kind;
	struct sw_text_suggest	 s;
	struct sw_buf		 known;
	char			 hint[128];

	n->type = SW_EXPR_T_NUMBER;
	n->unit = SW_UNIT_NONE;
	n->unit_known = 0;
	if (ps->conf == NULL)
		return;
	if (target_kind(ps->conf, n->target, &kind) == -1) {
		suggest_init(&s, n->target);
		suggest_target(&s, ps->conf, -1);
		expr_error(ps, n->off, "no target named %s%s", n->target,
		    suggest_text(hint, sizeof(hint), &s));
		n->type = SW_EXPR_T_INVALID;
		return;
	}
	n->unit_known = 1;
	if ((ms = kind_metrics(kind)) == NULL) {
		n->unit = scrape_unit(n->metric);
		return;
	}
	for (m = ms; m->name != NULL; m++)
		if (strcmp(m->name, n->metric) == 0) {
			n->unit = m->unit;
			return;
		}
	suggest_init(&s, n->metric);
	sw_buf_init(&known, 512);
	for (m = ms; m->name != NULL; m++) {
		sw_text_suggest_try(&s, m->name);
		sw_buf_addf(&known, "%s%s", m == ms ? "" : " ", m->name);
	}
	expr_error(ps, n->off + strlen(n->target) + 1, "%s target %s has no "
	    "metric %s%s; its metrics are %s", kind_name(kind), n->target,
	    n->metric, suggest_text(hint, sizeof(hint), &s),
	    sw_buf_str(&known));
	sw_buf_release(&known);
	n->type = SW_EXPR_T_INVALID;
}

/* ---------------------------------------------------------------------- */
/* type checking                                                           */

static int
dimensionless(enum sw_unit u)
{
	return u == SW_UNIT_NONE || u == SW_UNIT_RATIO;
}

/* Reports why e cannot be a value here (a bare name). */
static void
bare_name_error(struct parse *ps, const struct sw_expr *e)
{
	enum sw_target_kind	 kind;
	const struct fninfo	*fi;
	struct sw_text_suggest	 s;
	char			 hint[128];
	double			 q;

	if (ps->conf != NULL && target_kind(ps->conf, e->target, &kind) == 0) {
		expr_error(ps, e->off, "%s is a target, not a value: name one "
		    "of its series, such as %s.%s", e->target, e->target,
		    kind_example_metric(kind));
		return;
	}
	if ((fi = fn_lookup(e->target)) != NULL) {
		expr_error(ps, e->off, "%s is a function: write %s%s",
		    e->target, e->target, fi->sig);
		return;
	}
	if (quantile_name(e->target, strlen(e->target), &q) == 1) {
		expr_error(ps, e->off, "%s is a function: write %s%s",
		    e->target, e->target, fn_quantile.sig);
		return;
	}
	suggest_init(&s, e->target);
	if (ps->conf != NULL)
		suggest_target(&s, ps->conf, -1);
	expr_error(ps, e->off, "unknown name %s%s: expected a series "
	    "(target.metric), a number or a function call", e->target,
	    suggest_text(hint, sizeof(hint), &s));
}

/*
 * Whether e can be an operand that must be a number (want_bool 0) or a
 * condition (1). Reports the error and returns 0 when not; returns 1 for a
 * good operand and for an INVALID one (already reported).
 */
static int
operand_ok(struct parse *ps, const struct sw_expr *e, int want_bool,
    const char *what, size_t at, int unary)
{
	char	ex[EXPR_EXCERPT + 8];

	if (e->kind == SW_EXPR_TARGET) {
		bare_name_error(ps, e);
		return 0;
	}
	if (e->type == SW_EXPR_T_INVALID)
		return 1;
	if (want_bool && e->type != SW_EXPR_T_BOOL) {
		expr_error(ps, e->off, "%s needs %s; %s is a number (%s), "
		    "not a condition (compare it, as in %s > %s)", what,
		    unary ? "a condition" : "a condition on each side",
		    excerpt(ex, sizeof(ex), e), node_unit_desc(e), ex,
		    unit_example(e));
		return 0;
	}
	if (!want_bool && e->type != SW_EXPR_T_NUMBER) {
		expr_error(ps, at, "%s needs %s; %s is a condition (join "
		    "conditions with and, or, not)", what,
		    unary ? "a number" : "numbers", excerpt(ex, sizeof(ex), e));
		return 0;
	}
	return 1;
}

/*
 * The unit of a sum, difference or comparison of a and b: 0 with the result
 * in n, or -1 when the units do not go together.
 */
static int
unify(const struct sw_expr *a, const struct sw_expr *b, struct sw_expr *n)
{
	n->plain = 0;
	n->unit_known = 1;
	if (!a->unit_known || !b->unit_known) {
		if (a->unit_known && !a->plain)
			n->unit = a->unit;
		else if (b->unit_known && !b->plain)
			n->unit = b->unit;
		else {
			n->unit = SW_UNIT_NONE;
			n->unit_known = 0;
		}
		return 0;
	}
	if (a->plain && b->plain) {
		n->unit = SW_UNIT_NONE;
		n->plain = 1;
	} else if (a->plain)
		n->unit = b->unit;
	else if (b->plain)
		n->unit = a->unit;
	else if (a->unit == b->unit)
		n->unit = a->unit;
	else if (dimensionless(a->unit) && dimensionless(b->unit))
		n->unit = SW_UNIT_RATIO;
	else
		return -1;
	return 0;
}

static int
unit_pair(enum sw_unit a, enum sw_unit b, enum sw_unit x, enum sw_unit y)
{
	return (a == x && b == y) || (a == y && b == x);
}

/* The unit of a * b or a / b; -1 when it has none we know. */
static int
mul_unit(const struct sw_expr *a, const struct sw_expr *b, int div,
    struct sw_expr *n)
{
	enum sw_unit	ua, ub;

	n->plain = 0;
	n->unit_known = 1;
	n->unit = SW_UNIT_NONE;
	if (!a->unit_known || !b->unit_known) {
		n->unit_known = 0;
		return 0;
	}
	if (a->plain && b->plain) {
		n->plain = 1;
		return 0;
	}
	ua = a->plain ? SW_UNIT_NONE : a->unit;
	ub = b->plain ? SW_UNIT_NONE : b->unit;
	if (!div) {
		if (dimensionless(ua) && dimensionless(ub))
			n->unit = ua == SW_UNIT_RATIO || ub == SW_UNIT_RATIO ?
			    SW_UNIT_RATIO : SW_UNIT_NONE;
		else if (dimensionless(ua))
			n->unit = ub;
		else if (dimensionless(ub))
			n->unit = ua;
		else if (unit_pair(ua, ub, SW_UNIT_SECONDS, SW_UNIT_PER_S))
			n->unit = SW_UNIT_NONE;
		else if (unit_pair(ua, ub, SW_UNIT_SECONDS,
		    SW_UNIT_BYTES_PER_S))
			n->unit = SW_UNIT_BYTES;
		else
			return -1;
		return 0;
	}
	if (b->plain)
		n->unit = ua;
	else if (ua == ub || (dimensionless(ua) && dimensionless(ub)))
		n->unit = SW_UNIT_NONE;
	else if (dimensionless(ub))
		n->unit = ua;
	else if (ua == SW_UNIT_BYTES && ub == SW_UNIT_SECONDS)
		n->unit = SW_UNIT_BYTES_PER_S;
	else if (dimensionless(ua) && ub == SW_UNIT_SECONDS)
		n->unit = SW_UNIT_PER_S;
	else if (ua == SW_UNIT_BYTES && ub == SW_UNIT_BYTES_PER_S)
		n->unit = SW_UNIT_SECONDS;
	else if (dimensionless(ua) && ub == SW_UNIT_PER_S)
		n->unit = SW_UNIT_SECONDS;
	else
		return -1;
	return 0;
}

static void
check_unary(struct parse *ps, struct sw_expr *n)
{
	const struct sw_expr	*a = n->arg[0];

	n->type = SW_EXPR_T_INVALID;
	if (n->op == SW_OP_NOT) {
		if (!operand_ok(ps, a, 1, "'not'", n->op_off, 1) ||
		    a->type == SW_EXPR_T_INVALID)
			return;
		n->type = SW_EXPR_T_BOOL;
		return;
	}
	if (!operand_ok(ps, a, 0, "unary '-'", n->op_off, 1) ||
	    a->type == SW_EXPR_T_INVALID)
		return;
	n->type = SW_EXPR_T_NUMBER;
	n->unit = a->unit;
	n->unit_known = a->unit_known;
	n->plain = a->plain;
}

static void
check_binary(struct parse *ps, struct sw_expr *n)
{
	const struct sw_expr	*a = n->arg[0], *b = n->arg[1];
	char			 ea[EXPR_EXCERPT + 8], eb[EXPR_EXCERPT + 8];
	char			 what[16];
	int			 oka, okb;

	n->type = SW_EXPR_T_INVALID;
	snprintf(what, sizeof(what), "'%s'", op_text(n->op));
	if (n->kind == SW_EXPR_LOGIC) {
		oka = operand_ok(ps, a, 1, what, n->op_off, 0);
		okb = operand_ok(ps, b, 1, what, n->op_off, 0);
		if (oka && okb && a->type != SW_EXPR_T_INVALID &&
		    b->type != SW_EXPR_T_INVALID)
			n->type = SW_EXPR_T_BOOL;
		return;
	}
	oka = operand_ok(ps, a, 0, what, n->op_off, 0);
	okb = oka ? operand_ok(ps, b, 0, what, n->op_off, 0) : 0;
	if (!oka || !okb || a->type == SW_EXPR_T_INVALID ||
	    b->type == SW_EXPR_T_INVALID)
		return;
	excerpt(ea, sizeof(ea), a);
	excerpt(eb, sizeof(eb), b);
	switch (n->op) {
	case SW_OP_ADD:
	case SW_OP_SUB:
		if (unify(a, b, n) == -1) {
			if (n->op == SW_OP_ADD)
				expr_error(ps, n->op_off, "cannot add %s (%s) "
				    "and %s (%s)", sw_expr_unit_desc(a->unit),
				    ea, sw_expr_unit_desc(b->unit), eb);
			else
				expr_error(ps, n->op_off, "cannot subtract %s "
				    "(%s) from %s (%s)",
				    sw_expr_unit_desc(b->unit), eb,
				    sw_expr_unit_desc(a->unit), ea);
			return;
		}
		n->type = SW_EXPR_T_NUMBER;
		return;
	case SW_OP_MUL:
	case SW_OP_DIV:
		if (mul_unit(a, b, n->op == SW_OP_DIV, n) == -1) {
			expr_error(ps, n->op_off, "cannot %s %s (%s) by %s "
			    "(%s)", n->op == SW_OP_MUL ? "multiply" : "divide",
			    sw_expr_unit_desc(a->unit), ea,
			    sw_expr_unit_desc(b->unit), eb);
			return;
		}
		n->type = SW_EXPR_T_NUMBER;
		return;
	default:
		if (unify(a, b, n) == -1) {
			expr_error(ps, n->op_off, "cannot compare %s (%s) with "
			    "%s (%s)", sw_expr_unit_desc(a->unit), ea,
			    sw_expr_unit_desc(b->unit), eb);
			return;
		}
		n->type = SW_EXPR_T_BOOL;
		n->unit = SW_UNIT_NONE;
		n->unit_known = 1;
		n->plain = 0;
		return;
	}
}

/* A duration literal argument: 0 and *ms, or -1 (reported). */
static int
duration_arg(struct parse *ps, const struct sw_expr *call,
    const struct sw_expr *a, int i, const char *role, const char *example,
    int64_t *ms)
{
	char	ex[EXPR_EXCERPT + 8];
	double	v;

	if (a->type == SW_EXPR_T_INVALID && a->kind != SW_EXPR_TARGET)
		return -1;
	if (a->kind != SW_EXPR_NUMBER || a->unit != SW_UNIT_SECONDS) {
		excerpt(ex, sizeof(ex), a);
		if (a->kind == SW_EXPR_NUMBER && a->plain)
			expr_error(ps, a->off, "%s: argument %d (the %s) must "
			    "be a duration such as %s; %s has no unit",
			    call->name, i + 1, role, example, ex);
		else
			expr_error(ps, a->off, "%s: argument %d (the %s) must "
			    "be a duration such as %s, not %s", call->name,
			    i + 1, role, example, ex);
		return -1;
	}
	v = a->value * 1000.0;
	if (!(v >= 1)) {
		expr_error(ps, a->off, "%s: the %s must be at least 1ms",
		    call->name, role);
		return -1;
	}
	*ms = (int64_t)llround(v);
	return 0;
}

/* Argument i of call must be a series: 0, or -1 (reported). */
static int
series_arg(struct parse *ps, const struct sw_expr *call,
    const struct sw_expr *a, int i)
{
	char			ex[EXPR_EXCERPT + 8];
	enum sw_target_kind	kind;

	if (a->kind == SW_EXPR_SERIES)
		return a->type == SW_EXPR_T_INVALID ? -1 : 0;
	if (a->type == SW_EXPR_T_INVALID && a->kind != SW_EXPR_TARGET)
		return -1;
	if (a->kind == SW_EXPR_TARGET && ps->conf != NULL &&
	    target_kind(ps->conf, a->target, &kind) == 0)
		expr_error(ps, a->off, "%s: argument %d must be a series, not "
		    "the target %s: name one of its series, such as %s.%s",
		    call->name, i + 1, a->target, a->target,
		    kind_example_metric(kind));
	else
		expr_error(ps, a->off, "%s: argument %d must be a series "
		    "(target.metric, such as web.rss), not %s", call->name,
		    i + 1, excerpt(ex, sizeof(ex), a));
	return -1;
}

static int
endpoint_arg(struct parse *ps, const struct sw_expr *call,
    const struct sw_expr *a)
{
	char			ex[EXPR_EXCERPT + 8], hint[128];
	enum sw_target_kind	kind;
	struct sw_text_suggest	s;

	if (a->kind == SW_EXPR_SERIES) {
		expr_error(ps, a->off, "%s: argument 1 must be an endpoint "
		    "target's name, such as %s, not the series %s",
		    call->name, a->target, excerpt(ex, sizeof(ex), a));
		return -1;
	}
	if (a->kind != SW_EXPR_TARGET) {
		if (a->type == SW_EXPR_T_INVALID)
			return -1;
		expr_error(ps, a->off, "%s: argument 1 must be an endpoint "
		    "target's name, such as checkout, not %s", call->name,
		    excerpt(ex, sizeof(ex), a));
		return -1;
	}
	if (ps->conf == NULL)
		return 0;
	if (target_kind(ps->conf, a->target, &kind) == -1) {
		suggest_init(&s, a->target);
		suggest_target(&s, ps->conf, SW_TARGET_ENDPOINT);
		expr_error(ps, a->off, "no endpoint target named %s%s",
		    a->target, suggest_text(hint, sizeof(hint), &s));
		return -1;
	}
	if (kind != SW_TARGET_ENDPOINT) {
		expr_error(ps, a->off, "%s: %s is %s %s target; errors() counts "
		    "failed probes of an endpoint target", call->name,
		    a->target, kind_article(kind), kind_name(kind));
		return -1;
	}
	return 0;
}

static int
quantile_arg(struct parse *ps, const struct sw_expr *call,
    const struct sw_expr *a, double *q)
{
	char	ex[EXPR_EXCERPT + 8];

	if (a->type == SW_EXPR_T_INVALID && a->kind != SW_EXPR_TARGET)
		return -1;
	if (a->kind != SW_EXPR_NUMBER || !(a->plain ||
	    a->unit == SW_UNIT_RATIO) || a->value < 0 || a->value > 1) {
		expr_error(ps, a->off, "%s: argument 1 must be a quantile "
		    "between 0 and 1, such as 0.95, not %s", call->name,
		    excerpt(ex, sizeof(ex), a));
		return -1;
	}
	*q = a->value;
	return 0;
}

/* Labels (canonical) hold a label named name. */
static int
labels_have(const char *labels, const char *name)
{
	size_t		n = strlen(name);
	const char	*p = labels;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return 1;
		/* skip this k="v" (values are escaped) */
		if ((p = strchr(p, '"')) == NULL)
			break;
		for (p++; *p != '\0' && *p != '"'; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		if (*p == '"')
			p++;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
histogram_arg(struct parse *ps, const struct sw_expr *call,
    const struct sw_expr *a)
{
	enum sw_target_kind	kind;
	size_t			n;

	if (series_arg(ps, call, a, 1) == -1)
		return -1;
	if (has_suffix(a->metric, "_bucket")) {
		n = strlen(a->metric) - strlen("_bucket");
		expr_error(ps, a->off, "%s: name the histogram without "
		    "_bucket, as in %s.%.*s", call->name, a->target, (int)n,
		    a->metric);
		return -1;
	}
	if (labels_have(a->labels, "le")) {
		expr_error(ps, a->off, "%s: leave out the le label; the "
		    "buckets are read for you", call->name);
		return -1;
	}
	if (ps->conf != NULL && target_kind(ps->conf, a->target, &kind) == 0 &&
	    kind != SW_TARGET_SCRAPE) {
		expr_error(ps, a->off, "%s needs a histogram of a scrape target;"
		    " %s is %s %s target", call->name, a->target,
		    kind_article(kind), kind_name(kind));
		return -1;
	}
	return 0;
}

/* The unit of a rate or slope of s. */
static void
per_second(const struct sw_expr *s, struct sw_expr *n)
{
	n->unit_known = s->unit_known;
	switch (s->unit) {
	case SW_UNIT_BYTES:
		n->unit = SW_UNIT_BYTES_PER_S;
		break;
	case SW_UNIT_NONE:
	case SW_UNIT_RATIO:
	case SW_UNIT_SECONDS:
		n->unit = SW_UNIT_PER_S;
		break;
	default:
		/* per second per second: no unit of ours; accept anything */
		n->unit = SW_UNIT_NONE;
		n->unit_known = 0;
		break;
	}
}

static void
check_call(struct parse *ps, struct sw_expr *n, const struct fninfo *fi,
    size_t rparen)
{
	const struct sw_expr	*a, *series = NULL, *limit = NULL;
	char			 ws[32], bs[32], es[EXPR_EXCERPT + 8];
	char			 eb[EXPR_EXCERPT + 8];
	struct sw_expr		 u;
	int			 i, bad = 0;

	n->type = SW_EXPR_T_INVALID;
	if (n->nargs != fi->nargs) {
		if (n->nargs > fi->nargs)
			expr_error(ps, n->arg[fi->nargs]->off, "%s takes %d "
			    "arguments %s; this is argument %d", n->name,
			    fi->nargs, fi->sig, fi->nargs + 1);
		else
			expr_error(ps, rparen, "%s takes %d arguments %s, got "
			    "%d", n->name, fi->nargs, fi->sig, n->nargs);
		return;
	}
	for (i = 0; i < n->nargs; i++) {
		a = n->arg[i];
		switch (fi->args[i]) {
		case A_SERIES:
			if (series_arg(ps, n, a, i) == -1)
				bad = 1;
			else
				series = a;
			break;
		case A_HIST:
			if (histogram_arg(ps, n, a) == -1)
				bad = 1;
			else
				series = a;
			break;
		case A_WINDOW:
			if (duration_arg(ps, n, a, i, "window", "5m",
			    &n->window_ms) == -1)
				bad = 1;
			break;
		case A_HORIZON:
			if (duration_arg(ps, n, a, i, "horizon", "1d",
			    &n->extra_ms) == -1)
				bad = 1;
			break;
		case A_BASELINE:
			if (duration_arg(ps, n, a, i, "baseline", "7d",
			    &n->extra_ms) == -1)
				bad = 1;
			break;
		case A_ENDPOINT:
			if (endpoint_arg(ps, n, a) == -1)
				bad = 1;
			break;
		case A_Q:
			if (quantile_arg(ps, n, a, &n->q) == -1)
				bad = 1;
			break;
		case A_LIMIT:
			if (!operand_ok(ps, a, 0, n->name, a->off, 0) ||
			    a->type == SW_EXPR_T_INVALID)
				bad = 1;
			else
				limit = a;
			break;
		}
	}
	if (fi->fn == SW_FN_ANOMALY && !bad && n->extra_ms <= n->window_ms) {
		sw_fmt_duration_ms(ws, sizeof(ws), n->window_ms);
		sw_fmt_duration_ms(bs, sizeof(bs), n->extra_ms);
		expr_error(ps, n->arg[2]->off, "%s: the baseline (%s) must be "
		    "longer than the window (%s)", n->name, bs, ws);
		bad = 1;
	}
	if (limit != NULL && series != NULL) {
		memset(&u, 0, sizeof(u));
		if (unify(series, limit, &u) == -1) {
			expr_error(ps, limit->off, "%s: the limit must be in "
			    "the unit of the series: %s is %s, %s is %s",
			    n->name, excerpt(es, sizeof(es), series),
			    sw_expr_unit_desc(series->unit),
			    excerpt(eb, sizeof(eb), limit),
			    sw_expr_unit_desc(limit->unit));
			bad = 1;
		}
	}
	if (bad)
		return;
	n->series = series;
	n->type = SW_EXPR_T_NUMBER;
	n->unit_known = 1;
	switch (fi->res) {
	case R_SAME:
		n->unit = series->unit;
		n->unit_known = series->unit_known;
		break;
	case R_NONE:
		n->unit = SW_UNIT_NONE;
		break;
	case R_PER_S:
		per_second(series, n);
		break;
	case R_RATIO:
		n->unit = SW_UNIT_RATIO;
		break;
	case R_SECONDS:
		n->unit = SW_UNIT_SECONDS;
		break;
	case R_HIST:
		n->unit = has_suffix(series->metric, "_seconds") ?
		    SW_UNIT_SECONDS : SW_UNIT_NONE;
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* parsing                                                                 */

static struct sw_expr *parse_or(struct parse *);

static struct sw_expr *
node_new(struct parse *ps, enum sw_expr_kind kind, size_t off, size_t len)
{
	struct sw_expr	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		expr_error(ps, off, "out of memory");
		return NULL;
	}
	n->kind = kind;
	n->off = n->op_off = off;
	n->len = len;
	n->height = 1;
	n->type = SW_EXPR_T_INVALID;
	return n;
}

static char *
dup_text(struct parse *ps, const char *s, size_t n, size_t off)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		expr_error(ps, off, "out of memory");
	return p;
}

/* Enters one level of recursion: 0, or -1 when too deep (reported). */
static int
enter(struct parse *ps, size_t off)
{
	if (ps->depth >= SW_EXPR_MAX_DEPTH) {
		expr_error(ps, off, "expression nested too deeply (more than "
		    "%d levels)", SW_EXPR_MAX_DEPTH);
		return -1;
	}
	ps->depth++;
	return 0;
}

/* Sets n's height from its arguments: 0, or -1 when too high (reported). */
static int
set_height(struct parse *ps, struct sw_expr *n)
{
	int	i;

	n->height = 1;
	for (i = 0; i < n->nargs; i++)
		if (n->arg[i]->height + 1 > n->height)
			n->height = n->arg[i]->height + 1;
	if (n->height > SW_EXPR_MAX_DEPTH) {
		expr_error(ps, n->op_off, "expression nested too deeply (more "
		    "than %d levels)", SW_EXPR_MAX_DEPTH);
		return -1;
	}
	return 0;
}

static int
expect(struct parse *ps, enum tok_type type, struct tok *t, const char *what)
{
	char	desc[EXPR_NAME_SHOW + 32];

	if (next(ps, t) == -1)
		return -1;
	if (t->type != type) {
		expr_error(ps, t->off, "expected %s, found %s", what,
		    tok_desc(ps, t, desc, sizeof(desc)));
		return -1;
	}
	return 0;
}

static struct sw_expr *
parse_call(struct parse *ps, const struct tok *name)
{
	const struct fninfo	*fi = NULL;
	struct sw_expr		*n, *a;
	const struct tok	*pt;
	struct tok		 t;
	struct sw_text_suggest	 s;
	char			 hint[128], desc[EXPR_NAME_SHOW + 32];
	size_t			 i;
	double			 q = 0;
	int			 r;

	if ((n = node_new(ps, SW_EXPR_CALL, name->off, name->len)) == NULL)
		return NULL;
	if ((n->name = dup_text(ps, ps->text + name->off, name->len,
	    name->off)) == NULL)
		goto fail;
	if ((r = quantile_name(n->name, name->len, &q)) == 1) {
		fi = &fn_quantile;
		n->q = q;
	} else if (r == -1)
		expr_error(ps, name->off, "bad percentile %s: write two digits "
		    "(p01 to p99) or more for finer ones (p999 = 0.999)",
		    n->name);
	else if ((fi = fn_lookup(n->name)) == NULL) {
		hint[0] = '\0';
		for (i = 0; i < sizeof(fn_aliases) / sizeof(fn_aliases[0]);
		    i++)
			if (strcmp(fn_aliases[i].from, n->name) == 0)
				snprintf(hint, sizeof(hint), " (use %s)",
				    fn_aliases[i].to);
		if (hint[0] == '\0') {
			suggest_init(&s, n->name);
			for (i = 0; i < NFNS; i++)
				sw_text_suggest_try(&s, fns[i].name);
			sw_text_suggest_try(&s, "p50");
			sw_text_suggest_try(&s, "p90");
			sw_text_suggest_try(&s, "p95");
			sw_text_suggest_try(&s, "p99");
			suggest_text(hint, sizeof(hint), &s);
		}
		expr_error(ps, name->off, "unknown function %s%s", n->name,
		    hint);
	}
	n->fn = fi != NULL ? fi->fn : SW_FN_UNKNOWN;
	if (expect(ps, T_LPAREN, &t, "'('") == -1)
		goto fail;
	if ((pt = peek(ps)) == NULL)
		goto fail;
	if (pt->type == T_RPAREN)
		next(ps, &t);
	else {
		for (;;) {
			if (enter(ps, t.off) == -1)
				goto fail;
			a = parse_or(ps);
			ps->depth--;
			if (a == NULL)
				goto fail;
			if (n->nargs == SW_EXPR_MAX_ARGS) {
				expr_error(ps, a->off, "too many arguments to "
				    "%s", n->name);
				sw_expr_free(a);
				goto fail;
			}
			n->arg[n->nargs++] = a;
			if (next(ps, &t) == -1)
				goto fail;
			if (t.type == T_RPAREN)
				break;
			if (t.type != T_COMMA) {
				if (unit_apart(ps, &t, 1))
					goto fail;
				expr_error(ps, t.off, "expected ',' or ')' "
				    "after argument %d of %s, found %s",
				    n->nargs, n->name,
				    tok_desc(ps, &t, desc, sizeof(desc)));
				goto fail;
			}
		}
	}
	n->len = t.off + 1 - n->off;
	if (set_height(ps, n) == -1)
		goto fail;
	if (fi != NULL)
		check_call(ps, n, fi, t.off);
	return n;
fail:
	sw_expr_free(n);
	return NULL;
}

static struct sw_expr *
parse_primary(struct parse *ps)
{
	struct sw_expr		*n;
	const struct tok	*pt;
	struct tok		 t, close;
	char			 desc[EXPR_NAME_SHOW + 32];

	if (next(ps, &t) == -1)
		return NULL;
	switch (t.type) {
	case T_NUM:
		if ((n = node_new(ps, SW_EXPR_NUMBER, t.off, t.len)) == NULL)
			return NULL;
		if ((n->text = dup_text(ps, ps->text + t.off, t.len,
		    t.off)) == NULL) {
			sw_expr_free(n);
			return NULL;
		}
		n->type = SW_EXPR_T_NUMBER;
		n->value = t.q.v;
		n->unit = t.q.unit;
		n->unit_known = 1;
		n->plain = t.q.unit == SW_UNIT_NONE;
		return n;
	case T_SERIES:
		if ((n = node_new(ps, SW_EXPR_SERIES, t.off, t.len)) == NULL)
			return NULL;
		if ((n->target = dup_text(ps, ps->text + t.off, t.tlen,
		    t.off)) == NULL || (n->metric = dup_text(ps, ps->text +
		    t.moff, t.mlen, t.off)) == NULL || (n->labels =
		    dup_text(ps, ps->labels, strlen(ps->labels), t.off)) ==
		    NULL) {
			sw_expr_free(n);
			return NULL;
		}
		series_check(ps, n);
		return n;
	case T_IDENT:
		if ((pt = peek(ps)) == NULL)
			return NULL;
		if (pt->type == T_LPAREN)
			return parse_call(ps, &t);
		/* a bare name: errors()'s endpoint, or an error where used */
		if ((n = node_new(ps, SW_EXPR_TARGET, t.off, t.len)) == NULL)
			return NULL;
		if ((n->target = dup_text(ps, ps->text + t.off, t.len,
		    t.off)) == NULL) {
			sw_expr_free(n);
			return NULL;
		}
		return n;
	case T_LPAREN:
		if (enter(ps, t.off) == -1)
			return NULL;
		n = parse_or(ps);
		ps->depth--;
		if (n == NULL)
			return NULL;
		if (next(ps, &close) == -1) {
			sw_expr_free(n);
			return NULL;
		}
		if (close.type != T_RPAREN) {
			expr_error(ps, close.off, "expected ')' to close the "
			    "'(' at column %d, found %s", ps->at.col +
			    (int)t.off, tok_desc(ps, &close, desc,
			    sizeof(desc)));
			sw_expr_free(n);
			return NULL;
		}
		n->off = t.off;
		n->len = close.off + 1 - t.off;
		return n;
	default:
		expr_error(ps, t.off, "expected a value (a number, a series "
		    "such as web.rss, a function call or '('), found %s",
		    tok_desc(ps, &t, desc, sizeof(desc)));
		return NULL;
	}
}

/*
 * A prefix operator (tok, building op) and its operand: operand() parses
 * the level below, or when the operator is there, self() parses the
 * operand (so the operator may repeat: "- -x", "not not a").
 */
static struct sw_expr *
parse_prefix(struct parse *ps, enum tok_type tok, enum sw_expr_op op,
    struct sw_expr *(*operand)(struct parse *),
    struct sw_expr *(*self)(struct parse *))
{
	const struct tok	*pt;
	struct sw_expr		*a, *n;
	struct tok		 t;

	if ((pt = peek(ps)) == NULL)
		return NULL;
	if (pt->type != tok)
		return operand(ps);
	next(ps, &t);
	if (enter(ps, t.off) == -1)
		return NULL;
	a = self(ps);
	ps->depth--;
	if (a == NULL)
		return NULL;
	if ((n = node_new(ps, SW_EXPR_UNARY, t.off, a->off + a->len -
	    t.off)) == NULL) {
		sw_expr_free(a);
		return NULL;
	}
	n->op = op;
	n->arg[0] = a;
	n->nargs = 1;
	if (set_height(ps, n) == -1) {
		sw_expr_free(n);
		return NULL;
	}
	check_unary(ps, n);
	return n;
}

static struct sw_expr *
parse_unary(struct parse *ps)
{
	return parse_prefix(ps, T_MINUS, SW_OP_NEG, parse_primary,
	    parse_unary);
}

/* l op r, checked; frees both on failure. */
static struct sw_expr *
binary(struct parse *ps, enum sw_expr_kind kind, enum sw_expr_op op,
    size_t op_off, struct sw_expr *l, struct sw_expr *r)
{
	struct sw_expr	*n;

	if ((n = node_new(ps, kind, l->off, r->off + r->len - l->off)) ==
	    NULL) {
		sw_expr_free(l);
		sw_expr_free(r);
		return NULL;
	}
	n->op = op;
	n->op_off = op_off;
	n->arg[0] = l;
	n->arg[1] = r;
	n->nargs = 2;
	if (set_height(ps, n) == -1) {
		sw_expr_free(n);
		return NULL;
	}
	check_binary(ps, n);
	return n;
}

static enum sw_expr_op
tok_op(enum tok_type type)
{
	switch (type) {
	case T_PLUS:
		return SW_OP_ADD;
	case T_MINUS:
		return SW_OP_SUB;
	case T_STAR:
		return SW_OP_MUL;
	case T_SLASH:
		return SW_OP_DIV;
	case T_LT:
		return SW_OP_LT;
	case T_LE:
		return SW_OP_LE;
	case T_GT:
		return SW_OP_GT;
	case T_GE:
		return SW_OP_GE;
	case T_EQ:
		return SW_OP_EQ;
	case T_NE:
		return SW_OP_NE;
	case T_AND:
		return SW_OP_AND;
	case T_OR:
		return SW_OP_OR;
	default:
		return SW_OP_NONE;
	}
}

static int
is_cmp(enum tok_type type)
{
	return type == T_LT || type == T_LE || type == T_GT || type == T_GE ||
	    type == T_EQ || type == T_NE;
}

/* One level of left-associative binary operators. */
static struct sw_expr *
parse_level(struct parse *ps, struct sw_expr *(*sub)(struct parse *),
    enum tok_type t1, enum tok_type t2, enum sw_expr_kind kind)
{
	const struct tok	*pt;
	struct sw_expr		*l, *r;
	struct tok		 t;

	if ((l = sub(ps)) == NULL)
		return NULL;
	for (;;) {
		if ((pt = peek(ps)) == NULL) {
			sw_expr_free(l);
			return NULL;
		}
		if (pt->type != t1 && pt->type != t2)
			return l;
		next(ps, &t);
		if ((r = sub(ps)) == NULL) {
			sw_expr_free(l);
			return NULL;
		}
		if ((l = binary(ps, kind, tok_op(t.type), t.off, l, r)) == NULL)
			return NULL;
	}
}

static struct sw_expr *
parse_mul(struct parse *ps)
{
	return parse_level(ps, parse_unary, T_STAR, T_SLASH, SW_EXPR_ARITH);
}

static struct sw_expr *
parse_add(struct parse *ps)
{
	return parse_level(ps, parse_mul, T_PLUS, T_MINUS, SW_EXPR_ARITH);
}

static struct sw_expr *
parse_cmp(struct parse *ps)
{
	const struct tok	*pt;
	struct sw_expr		*l, *r;
	struct tok		 t;

	if ((l = parse_add(ps)) == NULL)
		return NULL;
	if ((pt = peek(ps)) == NULL) {
		sw_expr_free(l);
		return NULL;
	}
	if (!is_cmp(pt->type))
		return l;
	next(ps, &t);
	if ((r = parse_add(ps)) == NULL) {
		sw_expr_free(l);
		return NULL;
	}
	if ((l = binary(ps, SW_EXPR_COMPARE, tok_op(t.type), t.off, l, r)) ==
	    NULL)
		return NULL;
	if ((pt = peek(ps)) == NULL) {
		sw_expr_free(l);
		return NULL;
	}
	if (is_cmp(pt->type)) {
		expr_error(ps, pt->off, "comparisons do not chain: write "
		    "a < b and b < c");
		sw_expr_free(l);
		return NULL;
	}
	return l;
}

static struct sw_expr *
parse_not(struct parse *ps)
{
	return parse_prefix(ps, T_NOT, SW_OP_NOT, parse_cmp, parse_not);
}

static struct sw_expr *
parse_and(struct parse *ps)
{
	return parse_level(ps, parse_not, T_AND, T_AND, SW_EXPR_LOGIC);
}

static struct sw_expr *
parse_or(struct parse *ps)
{
	return parse_level(ps, parse_and, T_OR, T_OR, SW_EXPR_LOGIC);
}

/* After a complete expression: what is left over. */
static void
trailing_error(struct parse *ps, const struct tok *t)
{
	char	desc[EXPR_NAME_SHOW + 32];

	if (unit_apart(ps, t, 0))
		return;
	expr_error(ps, t->off, "expected an operator or the end of the "
	    "expression, found %s", tok_desc(ps, t, desc, sizeof(desc)));
}

struct sw_expr *
sw_expr_parse(const char *text, const struct sw_loc *at,
    const struct sw_conf *conf, int flags, sw_conf_diag_cb diag, void *arg,
    int *nerrors)
{
	struct parse		*ps;
	struct sw_expr		*e = NULL;
	const struct tok	*pt;
	struct sw_loc		 loc;
	char			 ex[EXPR_EXCERPT + 8];
	size_t			 len;
	int			 n;

	if (nerrors != NULL)
		*nerrors = 0;
	/* the state holds a labels buffer: keep it off the stack */
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		loc.file = at != NULL ? at->file : NULL;
		loc.line = at != NULL ? at->line : 1;
		loc.col = at != NULL ? at->col : 1;
		if (diag != NULL)
			diag(&loc, "out of memory", arg);
		if (nerrors != NULL)
			*nerrors = 1;
		return NULL;
	}
	ps->text = text != NULL ? text : "";
	len = strnlen(ps->text, SW_EXPR_MAX_LEN + 1);
	ps->len = len;
	ps->conf = conf;
	if (at != NULL)
		ps->at = *at;
	else {
		ps->at.file = NULL;
		ps->at.line = 1;
		ps->at.col = 1;
	}
	ps->diag = diag;
	ps->arg = arg;
	if (len > SW_EXPR_MAX_LEN) {
		expr_error(ps, 0, "expression too long (more than %d bytes)",
		    SW_EXPR_MAX_LEN);
		goto out;
	}
	if ((pt = peek(ps)) == NULL)
		goto out;
	if (pt->type == T_EOF) {
		expr_error(ps, pt->off, "empty expression: expected %s",
		    flags & SW_EXPR_CONDITION ? "a condition, such as "
		    "p50(checkout.latency, 5m) > 2s" : "a value or a condition");
		goto out;
	}
	if ((e = parse_or(ps)) == NULL)
		goto out;
	if ((pt = peek(ps)) == NULL)
		goto out;
	if (pt->type != T_EOF) {
		trailing_error(ps, pt);
		goto out;
	}
	if (e->kind == SW_EXPR_TARGET)
		bare_name_error(ps, e);
	else if ((flags & SW_EXPR_CONDITION) &&
	    e->type == SW_EXPR_T_NUMBER)
		expr_error(ps, e->off, "a rule condition must be a comparison, "
		    "such as %s > %s; %s is a number (%s)",
		    excerpt(ex, sizeof(ex), e), unit_example(e), ex,
		    node_unit_desc(e));
out:
	n = ps->nerr;
	if (n > 0 || (e != NULL && e->type == SW_EXPR_T_INVALID)) {
		if (n == 0) {
			/* cannot happen: every INVALID node was reported */
			expr_error(ps, 0, "invalid expression");
			n = ps->nerr;
		}
		sw_expr_free(e);
		e = NULL;
	}
	free(ps);
	if (nerrors != NULL)
		*nerrors = n;
	return e;
}

int
sw_expr_check_rules(const struct sw_conf *conf, sw_conf_diag_cb diag,
    void *arg)
{
	const struct sw_conf_rule	*r;
	struct sw_expr			*e;
	int				 total = 0, n;

	if (conf == NULL)
		return 0;
	for (r = conf->rules; r != NULL; r = r->next) {
		if (r->when == NULL)
			continue;
		e = sw_expr_parse(r->when, &r->when_loc, conf,
		    SW_EXPR_CONDITION, diag, arg, &n);
		sw_expr_free(e);
		total += n;
	}
	return total;
}

int
sw_expr_each_call(const struct sw_expr *e, sw_expr_call_cb cb, void *arg)
{
	int	i, r;

	if (e == NULL)
		return 0;
	if (e->kind == SW_EXPR_CALL && (r = cb(e, arg)) != 0)
		return r;
	for (i = 0; i < e->nargs; i++)
		if ((r = sw_expr_each_call(e->arg[i], cb, arg)) != 0)
			return r;
	return 0;
}
