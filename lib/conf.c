#include "config.h"
/*
 * conf.c: the parser of slopewatch.conf(5): statements and blocks, their
 * keys and values, includes, secrets, permissions, and the cross checks that
 * need the whole configuration (names, references).
 *
 * Invariants:
 *  - Every error names FILE:LINE:COL of the token at fault (or FILE alone
 *    for a whole-file problem), says what was expected and what was found,
 *    and the parser then skips to the end of the statement and goes on, so
 *    one run reports every error. Any error makes sw_conf_load fail.
 *  - Statements are read whole (key, value tokens, terminator) before they
 *    are interpreted; a handler that finds an error simply drops its
 *    statement. Blocks are allocated when their header is read and always
 *    linked into the conf, so sw_conf_free frees every path.
 *  - A secret's value (from $ENV or @file) is never copied into a message;
 *    messages only ever quote the token as written ("$NAME", "@path").
 *  - The conf owns every file name (conf->files); locations borrow them.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slopewatch/buf.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/text.h"
#include "slopewatch/units.h"

#include "conf-int.h"

#define SECRET_FILE_MAX	(64 * 1024)
#define NAME_MAX_LEN	128
#define MAX_KEYS	32

/* One file being read. */
struct conf_file {
	const char		*name;		/* owned by conf->files */
	char			*dir;		/* its directory ("" = cwd) */
	dev_t			 dev;
	ino_t			 ino;
	int			 have_id;
	mode_t			 mode;
	int			 depth;		/* 0 = the main file */
	int			 holds_secret;
	int			 holds_action;
	struct conf_file	*parent;
};

/* A reference to check once everything is read (rule -> notify/action). */
struct conf_ref {
	int		 is_action;
	char		*name;
	struct sw_loc	 loc;
	struct conf_ref	*next;
};

struct conf_parse {
	struct sw_conf		 *conf;
	sw_conf_diag_cb		  diag;
	void			 *diag_arg;
	int			  nerrors;
	int			  check_perms;
	struct sw_loc		  top_seen[3];	/* data, listen, retention */
	struct conf_ref		 *refs;
	struct conf_ref		**refs_tail;
	struct sw_conf_target	**targets_tail;
	struct sw_conf_notify	**notifiers_tail;
	struct sw_conf_action	**actions_tail;
	struct sw_conf_rule	**rules_tail;
};

/* One statement: key, value tokens (words, strings, commas), terminator. */
struct stmt {
	int		 has_key;
	struct conf_tok	 key;
	struct conf_tok	*args;
	int		 nargs;
	int		 argcap;
	struct conf_tok	 end;	/* no text */
};

enum blk_kind {
	BLK_ENDPOINT = 0,
	BLK_PROCESS,
	BLK_SCRAPE,
	BLK_NOTIFY,
	BLK_ACTION,
	BLK_RULE,
};

static const char *blk_names[] = {
	"endpoint", "process", "scrape", "notify", "action", "rule",
};

struct blk;
typedef void (*key_fn)(struct blk *, struct stmt *);

/* How a key reads its value: most keys are one value of a common kind
 * stored in a field of the block's object (blk_obj(), at off); the rest
 * have a function of their own. */
enum key_type {
	KT_FN = 0,	/* fn does it all */
	KT_BOOL,	/* yes or no: int */
	KT_STRING,	/* one non-empty value (what): char * */
	KT_TEXT,	/* one value, even empty (what): char * */
	KT_URL,		/* an http:// or https:// URL: char * */
	KT_DURATION,	/* a duration, 0 allowed: int64_t ms */
	KT_POS_DURATION, /* a duration above zero: int64_t ms */
	KT_MAX_BODY,	/* a size above zero, at most 1GiB: int64_t */
	KT_SECRET,	/* a value, $ENV or @file: struct sw_secret */
	KT_ARGV,	/* a command: struct sw_strlist */
	KT_LABEL,	/* label NAME VALUE: struct sw_kv * */
};

struct keydef {
	const char	*name;
	int		 repeat;	/* may appear more than once */
	enum key_type	 type;
	key_fn		 fn;		/* KT_FN */
	size_t		 off;		/* of the field in blk_obj() */
	const char	*what;		/* KT_STRING, KT_TEXT: expected value */
};

#define K_FN(n, r, f)		{ .name = (n), .repeat = (r), .fn = (f) }
#define K_SET(n, t, o)		{ .name = (n), .type = (t), .off = (o) }
#define K_SETW(n, t, o, w)	{ .name = (n), .type = (t), .off = (o), \
				  .what = (w) }
#define K_LABEL(o)		{ .name = "label", .repeat = 1, \
				  .type = KT_LABEL, .off = (o) }
#define T_OFF(f)		offsetof(struct sw_conf_target, f)

/* The block being read. */
struct blk {
	struct conf_parse	*ps;
	struct conf_file	*cf;
	enum blk_kind		 kind;
	const char		*name;		/* borrowed from the object */
	struct sw_loc		 loc;		/* of the name (or keyword) */
	const struct keydef	*keys;
	struct sw_loc		 seen[MAX_KEYS];
	union {
		struct sw_conf_target	*t;
		struct sw_conf_notify	*n;
		struct sw_conf_action	*a;
		struct sw_conf_rule	*r;
	} o;
	/* process: the selector given first */
	const char		*selector;
	struct sw_loc		 selector_loc;
};

/* ------------------------------------------------------------------ */
/* errors */

void
conf_error(struct conf_parse *ps, const struct sw_loc *loc, const char *fmt,
    ...)
{
	char	msg[1024];
	va_list	ap;

	ps->nerrors++;
	if (ps->nerrors > CONF_MAX_ERRORS + 1)
		return;
	if (ps->nerrors == CONF_MAX_ERRORS + 1) {
		if (ps->diag != NULL)
			ps->diag(NULL, "too many errors; not showing the rest",
			    ps->diag_arg);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->diag != NULL)
		ps->diag(loc, msg, ps->diag_arg);
}

const char *
conf_quote(char *dst, size_t dstsz, const char *s, size_t n)
{
	char	tmp[96];

	sw_log_escape(tmp, sizeof(tmp), s, n);
	snprintf(dst, dstsz, "\"%s\"", tmp);
	return dst;
}

/* Describes a token for "got ..." in messages. */
static const char *
tok_desc(const struct conf_tok *t, char *buf, size_t sz)
{
	switch (t->type) {
	case CT_WORD:
	case CT_STRING:
		return conf_quote(buf, sz, t->text, t->len);
	case CT_LBRACE:
		return "\"{\"";
	case CT_RBRACE:
		return "\"}\"";
	case CT_SEMI:
		return "\";\"";
	case CT_COMMA:
		return "\",\"";
	case CT_NL:
		return "end of line";
	case CT_EOF:
	default:
		return "end of file";
	}
}

/* Where a location was, for "first defined at ...": "line 3" in the same
 * file, else "FILE:3". */
static const char *
loc_ref(const struct sw_loc *here, const struct sw_loc *there, char *buf,
    size_t sz)
{
	if (here->file != NULL && there->file != NULL &&
	    strcmp(here->file, there->file) == 0)
		snprintf(buf, sz, "line %d", there->line);
	else
		snprintf(buf, sz, "%s:%d", there->file ? there->file : "?",
		    there->line);
	return buf;
}

static void
oom(struct conf_parse *ps, const struct sw_loc *loc)
{
	conf_error(ps, loc, "out of memory");
}

void
sw_conf_diag_stderr(const struct sw_loc *loc, const char *msg, void *arg)
{
	(void)arg;
	if (loc == NULL || loc->file == NULL)
		fprintf(stderr, "slopewatch: %s\n", msg);
	else if (loc->line <= 0)
		fprintf(stderr, "%s: %s\n", loc->file, msg);
	else
		fprintf(stderr, "%s:%d:%d: %s\n", loc->file, loc->line,
		    loc->col, msg);
}

/* ------------------------------------------------------------------ */
/* "did you mean" */

/* " (did you mean \"x\"?)" when a candidate is close enough, else "". */
static const char *
suggestion(const struct sw_text_suggest *sg, char *buf, size_t sz)
{
	size_t	len = strlen(sg->word);

	if (sg->best == NULL || sg->dist == 0 || sg->dist > 2 ||
	    sg->dist >= len || (len <= 3 && sg->dist > 1))
		return "";
	snprintf(buf, sz, " (did you mean \"%s\"?)", sg->best);
	return buf;
}

/* ------------------------------------------------------------------ */
/* small helpers */

static char *
xstrdup(struct conf_parse *ps, const struct sw_loc *loc, const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		oom(ps, loc);
	return p;
}

static int
strlist_add(struct sw_strlist *l, const char *s)
{
	char	**v;
	char	 *p;

	if (l->n >= INT_MAX / 2)
		return -1;
	if ((p = strdup(s)) == NULL)
		return -1;
	if ((v = realloc(l->v, sizeof(*v) * ((size_t)l->n + 2))) == NULL) {
		free(p);
		return -1;
	}
	l->v = v;
	l->v[l->n++] = p;
	l->v[l->n] = NULL;	/* argv-friendly */
	return 0;
}

void
sw_strlist_release(struct sw_strlist *l)
{
	int	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
strlist_has(const struct sw_strlist *l, const char *s)
{
	int	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static void
kv_free(struct sw_kv *kv)
{
	struct sw_kv	*next;

	for (; kv != NULL; kv = next) {
		next = kv->next;
		free(kv->key);
		free(kv->value);
		free(kv);
	}
}

static const struct sw_kv *
kv_find(const struct sw_kv *kv, const char *key)
{
	for (; kv != NULL; kv = kv->next)
		if (strcmp(kv->key, key) == 0)
			return kv;
	return NULL;
}

/* Appends (keeps file order). */
static int
kv_add(struct sw_kv **head, const char *key, const char *value)
{
	struct sw_kv	*kv;

	if ((kv = calloc(1, sizeof(*kv))) == NULL)
		return -1;
	kv->key = strdup(key);
	kv->value = strdup(value);
	if (kv->key == NULL || kv->value == NULL) {
		free(kv->key);
		free(kv->value);
		free(kv);
		return -1;
	}
	while (*head != NULL)
		head = &(*head)->next;
	*head = kv;
	return 0;
}

static void
secret_free(struct sw_secret *s)
{
	free(s->value);
	free(s->source);
	s->value = NULL;
	s->source = NULL;
	s->is_secret = 0;
}

/* Secrets are wiped before their memory goes back. */
static void
secret_wipe_free(struct sw_secret *s)
{
	if (s->value != NULL)
		memset(s->value, 0, strlen(s->value));
	secret_free(s);
}

static int
is_name(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return n > 0 && n <= NAME_MAX_LEN;
}

/* [A-Za-z_][A-Za-z0-9_]* of length n */
static int
is_ident(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* Directory part of a path: "" for "x.conf", "/" for "/x.conf". */
static char *
path_dir(const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup("");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* rel against dir (new string); absolute paths are kept. */
static char *
path_join(const char *dir, const char *rel)
{
	struct sw_buf	b;

	if (rel[0] == '/' || dir[0] == '\0')
		return strdup(rel);
	sw_buf_init(&b, PATH_MAX * 4);
	if (sw_buf_adds(&b, dir) == -1 ||
	    (dir[strlen(dir) - 1] != '/' && sw_buf_addc(&b, '/') == -1) ||
	    sw_buf_adds(&b, rel) == -1) {
		sw_buf_release(&b);
		return NULL;
	}
	return sw_buf_detach(&b);
}

/* ------------------------------------------------------------------ */
/* statements */

static void
stmt_free(struct stmt *st)
{
	int	i;

	if (st->has_key)
		conf_tok_release(&st->key);
	for (i = 0; i < st->nargs; i++)
		conf_tok_release(&st->args[i]);
	free(st->args);
	memset(st, 0, sizeof(*st));
}

static int
stmt_push(struct conf_parse *ps, struct stmt *st, struct conf_tok *tok)
{
	struct conf_tok	*a;
	int		 cap;

	if (st->nargs == st->argcap) {
		cap = st->argcap ? st->argcap * 2 : 8;
		if ((a = realloc(st->args, sizeof(*a) * (size_t)cap)) == NULL) {
			oom(ps, &tok->loc);
			conf_tok_release(tok);
			return -1;
		}
		st->args = a;
		st->argcap = cap;
	}
	st->args[st->nargs++] = *tok;
	return 0;
}

static void
lex_unget(struct conf_lex *lx, struct conf_tok *tok)
{
	lx->peek = *tok;
	lx->has_peek = 1;
}

/* Skips a { ... } block whose "{" was just read. */
static void
skip_block(struct conf_lex *lx)
{
	struct conf_tok	tok;
	int		depth = 1;

	while (depth > 0) {
		conf_lex_next(lx, &tok);
		if (tok.type == CT_LBRACE)
			depth++;
		else if (tok.type == CT_RBRACE)
			depth--;
		else if (tok.type == CT_EOF)
			break;
		conf_tok_release(&tok);
	}
}

/*
 * Reads the next statement. Without a key (st->has_key == 0) st->end is the
 * "}" or end of file that was met first. A "}" that ends a statement is
 * left for the caller's next read. in_rule: "when" takes a raw expression.
 */
static void
read_stmt(struct conf_parse *ps, struct conf_lex *lx, int in_rule,
    struct stmt *st)
{
	struct conf_tok	tok;

	memset(st, 0, sizeof(*st));
	for (;;) {
		conf_lex_next(lx, &tok);
		switch (tok.type) {
		case CT_NL:
		case CT_SEMI:
			continue;
		case CT_EOF:
		case CT_RBRACE:
			st->end = tok;
			return;
		case CT_LBRACE:
			conf_error(ps, &tok.loc, "unexpected \"{\" (expected a "
			    "key)");
			skip_block(lx);
			continue;
		case CT_COMMA:
			conf_error(ps, &tok.loc, "unexpected \",\" (expected a "
			    "key)");
			continue;
		case CT_WORD:
		case CT_STRING:
			break;
		}
		break;
	}
	st->key = tok;
	st->has_key = 1;

	if (in_rule && tok.type == CT_WORD && strcmp(tok.text, "when") == 0) {
		conf_lex_expr(lx, &tok);
		if (stmt_push(ps, st, &tok) == -1)
			return;
	}
	for (;;) {
		conf_lex_next(lx, &tok);
		switch (tok.type) {
		case CT_WORD:
		case CT_STRING:
		case CT_COMMA:
			if (stmt_push(ps, st, &tok) == -1)
				return;
			continue;
		case CT_NL:
			/* a line ending in "," goes on */
			if (st->nargs > 0 &&
			    st->args[st->nargs - 1].type == CT_COMMA)
				continue;
			st->end = tok;
			return;
		case CT_RBRACE:
			st->end = tok;
			lex_unget(lx, &tok);
			return;
		case CT_SEMI:
		case CT_LBRACE:
		case CT_EOF:
			st->end = tok;
			return;
		}
	}
}

/* ------------------------------------------------------------------ */
/* values */

/* The one value of a statement, or NULL after an error. */
static struct conf_tok *
want_value(struct blk *b, struct stmt *st, const char *expected)
{
	char	desc[128];

	if (st->nargs == 0 || st->args[0].type == CT_COMMA) {
		conf_error(b->ps, st->nargs ? &st->args[0].loc : &st->end.loc,
		    "expected %s after \"%s\", got %s", expected, st->key.text,
		    tok_desc(st->nargs ? &st->args[0] : &st->end, desc,
		    sizeof(desc)));
		return NULL;
	}
	return &st->args[0];
}

/* Fails if the statement has more than n value tokens. */
static int
want_end(struct blk *b, struct stmt *st, int n)
{
	char		 desc[128];
	struct conf_tok	*t;

	if (st->nargs <= n)
		return 0;
	t = &st->args[n];
	conf_error(b->ps, &t->loc, "expected the end of the statement after "
	    "the value of \"%s\", got %s%s", st->key.text,
	    tok_desc(t, desc, sizeof(desc)),
	    t->type == CT_COMMA ? "" : " (quote values that contain spaces)");
	return -1;
}

static int
bad_value(struct blk *b, const struct conf_tok *t, const char *expected)
{
	char	desc[128];

	conf_error(b->ps, &t->loc, "expected %s, got %s", expected,
	    tok_desc(t, desc, sizeof(desc)));
	return -1;
}

#define EXP_DURATION	"a duration like 15s or 5m"
#define EXP_SIZE	"a size like 512KiB or 1MB"
#define EXP_BOOL	"yes or no"

/* A duration; "0" alone is allowed. positive: must be more than 0. */
static int
val_duration(struct blk *b, const struct conf_tok *t, int positive,
    int64_t *out)
{
	int64_t	ms;

	if (strcmp(t->text, "0") == 0)
		ms = 0;
	else if (sw_parse_duration_ms(t->text, t->len, &ms) == -1)
		return bad_value(b, t, EXP_DURATION);
	if (positive && ms <= 0)
		return bad_value(b, t, "a duration above zero like 15s or 5m");
	*out = ms;
	return 0;
}

static int
val_bool(struct blk *b, const struct conf_tok *t, int *out)
{
	static const char	*yes[] = { "yes", "true", "on" };
	static const char	*no[] = { "no", "false", "off" };
	size_t			 i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(t->text, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(t->text, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return bad_value(b, t, EXP_BOOL);
}

/* A whole number of bytes in [min, max]; range: words for the range. */
static int
val_size(struct blk *b, const struct conf_tok *t, double min, double max,
    const char *range, int64_t *out)
{
	double	v;

	if (sw_parse_size(t->text, t->len, &v) == -1)
		return bad_value(b, t, EXP_SIZE);
	if (v < min || v > max)
		return bad_value(b, t, range);
	*out = (int64_t)v;
	return 0;
}

static int
val_int(struct blk *b, const struct conf_tok *t, int64_t min, int64_t max,
    int64_t *out)
{
	int64_t	v;
	char	exp[128];

	if (sw_parse_int64(t->text, t->len, &v) == -1 || v < min || v > max) {
		snprintf(exp, sizeof(exp), "a whole number from %lld to %lld",
		    (long long)min, (long long)max);
		return bad_value(b, t, exp);
	}
	*out = v;
	return 0;
}

static int
val_name(struct blk *b, const struct conf_tok *t)
{
	if (!is_name(t->text))
		return bad_value(b, t, "a name of letters, digits, \"_\" and "
		    "\"-\"");
	return 0;
}

static int
val_url(struct blk *b, const struct conf_tok *t)
{
	if (strncasecmp(t->text, "http://", 7) != 0 &&
	    strncasecmp(t->text, "https://", 8) != 0)
		return bad_value(b, t, "an http:// or https:// URL");
	if (strlen(t->text) != t->len || strpbrk(t->text, " \t\r\n") != NULL)
		return bad_value(b, t, "a URL without blanks");
	return 0;
}

/* Replaces *dst with a copy of the token's text. */
static int
set_str(struct blk *b, const struct conf_tok *t, char **dst)
{
	char	*p;

	if ((p = xstrdup(b->ps, &t->loc, t->text)) == NULL)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

/* Reads a secret file (at most SECRET_FILE_MAX, trailing newline cut). */
static int
read_secret_file(struct blk *b, const struct conf_tok *t, const char *path,
    const char *shown, char **out)
{
	struct sw_buf	 buf;
	struct stat	 sb;
	char		 chunk[4096], q[128];
	ssize_t		 n;
	int		 fd, rc = -1;

	sw_buf_init(&buf, SECRET_FILE_MAX);
	conf_quote(q, sizeof(q), shown, strlen(shown));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		conf_error(b->ps, &t->loc, "cannot read secret file %s: %s", q,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) == -1) {
		conf_error(b->ps, &t->loc, "cannot read secret file %s: %s", q,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		conf_error(b->ps, &t->loc, "secret file %s is not a regular "
		    "file", q);
		goto out;
	}
	if (b->ps->check_perms && (sb.st_mode & (S_IWGRP | S_IWOTH))) {
		conf_error(b->ps, &t->loc, "secret file %s is writable by "
		    "group/others; run chmod go-w %s", q, shown);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			conf_error(b->ps, &t->loc, "cannot read secret file "
			    "%s: %s", q, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (sw_buf_add(&buf, chunk, (size_t)n) == -1) {
			conf_error(b->ps, &t->loc, "secret file %s is larger "
			    "than 64 KiB", q);
			goto out;
		}
	}
	if (buf.len > 0 && buf.data[buf.len - 1] == '\n')
		buf.data[--buf.len] = '\0';
	if (buf.len > 0 && buf.data[buf.len - 1] == '\r')
		buf.data[--buf.len] = '\0';
	if (buf.len == 0) {
		conf_error(b->ps, &t->loc, "secret file %s is empty", q);
		goto out;
	}
	if (memchr(buf.data, '\n', buf.len) != NULL ||
	    memchr(buf.data, '\0', buf.len) != NULL) {
		conf_error(b->ps, &t->loc, "secret file %s must hold a single "
		    "line", q);
		goto out;
	}
	if ((*out = sw_buf_detach(&buf)) == NULL) {
		oom(b->ps, &t->loc);
		goto out;
	}
	rc = 0;
out:
	/* the buffer may hold the secret: wipe it */
	if (buf.data != NULL)
		memset(buf.data, 0, buf.cap);
	sw_buf_release(&buf);
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * A secret-capable value: "$NAME" reads the environment, "@path" a file
 * (relative to the file being read); anything else, and any quoted string,
 * is literal.
 */
static int
val_secret(struct blk *b, const struct conf_tok *t, struct sw_secret *out)
{
	struct sw_secret	 s;
	const char		*v;
	char			*path;
	int			 rc;

	memset(&s, 0, sizeof(s));
	/* even a literal routing key or HMAC secret is a secret in the file;
	 * the caller marks those */
	if (t->type == CT_WORD && (t->text[0] == '$' || t->text[0] == '@')) {
		b->cf->holds_secret = 1;
		b->ps->conf->has_secrets = 1;
		s.is_secret = 1;
	}
	if (s.is_secret && t->text[0] == '$') {
		if (!is_ident(t->text + 1, t->len - 1))
			return bad_value(b, t, "an environment variable name "
			    "after \"$\" like $SLACK_WEBHOOK_URL");
		if ((v = getenv(t->text + 1)) == NULL) {
			conf_error(b->ps, &t->loc, "environment variable %s is "
			    "not set", t->text + 1);
			return -1;
		}
		if (*v == '\0') {
			conf_error(b->ps, &t->loc, "environment variable %s is "
			    "empty", t->text + 1);
			return -1;
		}
		s.value = xstrdup(b->ps, &t->loc, v);
	} else if (s.is_secret) {
		if (t->len < 2)
			return bad_value(b, t, "a file name after \"@\" like "
			    "@/etc/slopewatch/pd.key");
		if ((path = path_join(b->cf->dir, t->text + 1)) == NULL) {
			oom(b->ps, &t->loc);
			return -1;
		}
		rc = read_secret_file(b, t, path, t->text + 1, &s.value);
		free(path);
		if (rc == -1)
			return -1;
	} else
		s.value = xstrdup(b->ps, &t->loc, t->text);
	if (s.value == NULL)
		return -1;
	if (s.is_secret && (s.source = xstrdup(b->ps, &t->loc, t->text)) ==
	    NULL) {
		free(s.value);
		return -1;
	}
	secret_free(out);
	*out = s;
	return 0;
}

/*
 * Splits the values of a statement into comma separated items: items[i]
 * is the index of the first token of item i, counts[i] its token count.
 * Reports a misplaced comma. Returns the number of items or -1.
 */
static int
split_list(struct blk *b, struct stmt *st, int *items, int *counts, int max,
    const char *expected)
{
	char	desc[128];
	int	i, n = 0, want = 1;

	for (i = 0; i < st->nargs; i++) {
		if (st->args[i].type == CT_COMMA) {
			if (want) {
				conf_error(b->ps, &st->args[i].loc, "expected %s "
				    "%s \"%s\", got \",\"", expected,
				    n == 0 ? "after" : "in the list of",
				    st->key.text);
				return -1;
			}
			want = 1;
			continue;
		}
		if (want) {
			if (n == max) {
				conf_error(b->ps, &st->args[i].loc, "too many "
				    "values for \"%s\" (at most %d)",
				    st->key.text, max);
				return -1;
			}
			items[n] = i;
			counts[n++] = 1;
			want = 0;
		} else
			counts[n - 1]++;
	}
	if (want) {
		conf_error(b->ps, &st->end.loc, "expected %s after \"%s\", got "
		    "%s", expected, n == 0 ? st->key.text : ",",
		    tok_desc(&st->end, desc, sizeof(desc)));
		return -1;
	}
	return n;
}

/* Each list item must be a single token. */
static int
list_singles(struct blk *b, struct stmt *st, const int *items,
    const int *counts, int n)
{
	char	desc[128];
	int	i;

	for (i = 0; i < n; i++) {
		if (counts[i] != 1) {
			conf_error(b->ps, &st->args[items[i] + 1].loc,
			    "expected \",\" or the end of the statement, got %s",
			    tok_desc(&st->args[items[i] + 1], desc,
			    sizeof(desc)));
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* keys shared by targets */


/* label KEY VALUE into *head */
static void
label_into(struct blk *b, struct stmt *st, struct sw_kv **head)
{
	struct conf_tok	*k, *v;
	char		 desc[128];

	if ((k = want_value(b, st, "a label name like env")) == NULL)
		return;
	if (!is_ident(k->text, k->len) || strncmp(k->text, "__", 2) == 0) {
		bad_value(b, k, "a label name of letters, digits and \"_\"");
		return;
	}
	if (st->nargs < 2 || st->args[1].type == CT_COMMA) {
		conf_error(b->ps, st->nargs < 2 ? &st->end.loc :
		    &st->args[1].loc, "expected a label value after \"label "
		    "%s\", got %s", k->text, tok_desc(st->nargs < 2 ? &st->end :
		    &st->args[1], desc, sizeof(desc)));
		return;
	}
	v = &st->args[1];
	if (want_end(b, st, 2) == -1)
		return;
	if (kv_find(*head, k->text) != NULL) {
		conf_error(b->ps, &k->loc, "duplicate label \"%s\"", k->text);
		return;
	}
	if (kv_add(head, k->text, v->text) == -1)
		oom(b->ps, &k->loc);
}


/* A duration in ms; positive: must be more than 0. */
static void
key_duration_into(struct blk *b, struct stmt *st, int positive, int64_t *dst)
{
	struct conf_tok	*t;
	int64_t		 ms = 0;

	if ((t = want_value(b, st, EXP_DURATION)) == NULL ||
	    val_duration(b, t, positive, &ms) == -1 ||
	    want_end(b, st, 1) == -1)
		return;
	*dst = ms;
}

static void
key_bool_into(struct blk *b, struct stmt *st, int *dst)
{
	struct conf_tok	*t;
	int		 v = 0;

	if ((t = want_value(b, st, EXP_BOOL)) == NULL ||
	    val_bool(b, t, &v) == -1 || want_end(b, st, 1) == -1)
		return;
	*dst = v;
}

static void
key_url_into(struct blk *b, struct stmt *st, char **dst)
{
	struct conf_tok	*t;

	if ((t = want_value(b, st, "an http:// or https:// URL")) == NULL ||
	    val_url(b, t) == -1 || want_end(b, st, 1) == -1)
		return;
	set_str(b, t, dst);
}

/* One value; nonempty: not empty and without NUL bytes (file names, user
 * names), else anything (a body, a summary). */
static void
key_value_into(struct blk *b, struct stmt *st, const char *expected,
    int nonempty, char **dst)
{
	struct conf_tok	*t;

	if ((t = want_value(b, st, expected)) == NULL ||
	    want_end(b, st, 1) == -1)
		return;
	if (nonempty && (t->len == 0 || strlen(t->text) != t->len)) {
		bad_value(b, t, expected);
		return;
	}
	set_str(b, t, dst);
}

static void
key_string_into(struct blk *b, struct stmt *st, const char *expected,
    char **dst)
{
	key_value_into(b, st, expected, 1, dst);
}

static void
key_max_body(struct blk *b, struct stmt *st, int64_t *dst)
{
	struct conf_tok	*t;
	int64_t		 v = 0;

	if ((t = want_value(b, st, EXP_SIZE)) == NULL ||
	    val_size(b, t, 1, 1024.0 * 1024 * 1024, "a size above zero and at "
	    "most 1GiB", &v) == -1 ||
	    want_end(b, st, 1) == -1)
		return;
	*dst = v;
}

/* ------------------------------------------------------------------ */
/* endpoint */

#define EP(b)	(&(b)->o.t->u.endpoint)
#define EP_OFF(f)	offsetof(struct sw_conf_target, u.endpoint.f)


static void
ep_method(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;
	size_t		 i;

	if ((t = want_value(b, st, "an HTTP method like GET")) == NULL)
		return;
	for (i = 0; i < t->len; i++)
		if (!isupper((unsigned char)t->text[i]))
			break;
	if (t->len == 0 || t->len > 16 || i != t->len) {
		bad_value(b, t, "an HTTP method like GET or POST");
		return;
	}
	if (want_end(b, st, 1) == -1)
		return;
	set_str(b, t, &EP(b)->method);
}

static void
ep_header(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;
	const char	*colon;
	size_t		 i;

	if ((t = want_value(b, st, "a header like \"Name: value\"")) == NULL)
		return;
	/* the value may be a credential: never echo it */
	colon = memchr(t->text, ':', t->len);
	for (i = 0; colon != NULL && t->text + i < colon; i++)
		if (!isalnum((unsigned char)t->text[i]) &&
		    strchr("!#$%&'*+.^_`|~-", t->text[i]) == NULL)
			break;
	if (colon == NULL || colon == t->text || t->text + i != colon ||
	    strlen(t->text) != t->len || strpbrk(t->text, "\r\n") != NULL) {
		conf_error(b->ps, &t->loc, "expected a header like "
		    "\"Name: value\" (quoted, a name, a colon, a value)");
		return;
	}
	if (want_end(b, st, 1) == -1)
		return;
	if (strlist_add(&EP(b)->headers, t->text) == -1)
		oom(b->ps, &t->loc);
}


/* "200" or "200-399" */
static int
parse_status_range(const char *s, struct sw_status_range *r)
{
	const char	*dash = strchr(s, '-');
	int64_t		 lo, hi;

	if (dash == NULL) {
		if (sw_parse_int64(s, strlen(s), &lo) == -1)
			return -1;
		hi = lo;
	} else if (sw_parse_int64(s, (size_t)(dash - s), &lo) == -1 ||
	    sw_parse_int64(dash + 1, strlen(dash + 1), &hi) == -1)
		return -1;
	if (lo < 100 || hi > 599 || lo > hi || s[0] == '+' || s[0] == '-' ||
	    (dash != NULL && (dash[1] == '+' || dash[1] == '-')))
		return -1;
	r->lo = (int)lo;
	r->hi = (int)hi;
	return 0;
}

static void
ep_expect(struct blk *b, struct stmt *st)
{
	int			items[SW_CONF_MAX_EXPECT], counts[SW_CONF_MAX_EXPECT];
	struct sw_status_range	r[SW_CONF_MAX_EXPECT];
	int			n, i;

	n = split_list(b, st, items, counts, SW_CONF_MAX_EXPECT,
	    "a status code or range like 200-399");
	if (n == -1 || list_singles(b, st, items, counts, n) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (parse_status_range(st->args[items[i]].text, &r[i]) == -1) {
			bad_value(b, &st->args[items[i]], "a status code or "
			    "range from 100 to 599 like 200 or 200-399");
			return;
		}
	}
	memcpy(EP(b)->expect, r, sizeof(r[0]) * (size_t)n);
	EP(b)->nexpect = n;
}



static void
ep_max_redirects(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;
	int64_t		 v = 0;

	if ((t = want_value(b, st, "a number of redirects")) == NULL ||
	    val_int(b, t, 0, 50, &v) == -1 || want_end(b, st, 1) == -1)
		return;
	EP(b)->max_redirects = (int)v;
}






static const struct keydef endpoint_keys[] = {
	K_SET("url",		KT_URL,		EP_OFF(url)),
	K_FN("method",		0,		ep_method),
	K_FN("header",		1,		ep_header),
	K_SETW("body",		KT_TEXT,	EP_OFF(body), "a request body"),
	K_FN("expect",		0,		ep_expect),
	K_SET("every",		KT_POS_DURATION, T_OFF(every_ms)),
	K_SET("timeout",	KT_POS_DURATION, EP_OFF(timeout_ms)),
	K_SET("max-body",	KT_MAX_BODY,	EP_OFF(max_body)),
	K_FN("max-redirects",	0,		ep_max_redirects),
	K_SET("insecure",	KT_BOOL,	EP_OFF(insecure)),
	K_SET("reuse",		KT_BOOL,	EP_OFF(reuse)),
	K_SETW("cacert",	KT_STRING,	EP_OFF(cacert), "a file name"),
	K_SETW("cert",		KT_STRING,	EP_OFF(cert), "a file name"),
	K_SETW("key",		KT_STRING,	EP_OFF(key), "a file name"),
	K_LABEL(T_OFF(labels)),
	{ .name = NULL },
};

/* ------------------------------------------------------------------ */
/* process */

#define PR(b)	(&(b)->o.t->u.process)
#define PR_OFF(f)	offsetof(struct sw_conf_target, u.process.f)

/* Only one of pidfile, match, unit, cgroup, pid. */
static int
pr_selector(struct blk *b, struct stmt *st)
{
	if (b->selector != NULL) {
		conf_error(b->ps, &st->key.loc, "process \"%s\" has both %s and "
		    "%s (expected exactly one of pidfile, match, unit, cgroup "
		    "or pid)", b->name ? b->name : "", b->selector,
		    st->key.text);
		return -1;
	}
	return 0;
}

static void
pr_selected(struct blk *b, struct stmt *st, const char *which)
{
	b->selector = which;
	b->selector_loc = st->key.loc;
}

static void
pr_pidfile(struct blk *b, struct stmt *st)
{
	if (pr_selector(b, st) == -1)
		return;
	key_string_into(b, st, "a pid file name", &PR(b)->pidfile);
	if (PR(b)->pidfile != NULL)
		pr_selected(b, st, "pidfile");
}

static void
pr_match(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;
	regex_t		 re;
	char		 msg[256];
	int		 rc;

	if (pr_selector(b, st) == -1)
		return;
	if ((t = want_value(b, st, "a regular expression like "
	    "\"node .*server.js\"")) == NULL || want_end(b, st, 1) == -1)
		return;
	if (t->len == 0 || strlen(t->text) != t->len) {
		bad_value(b, t, "a regular expression");
		return;
	}
	if ((rc = regcomp(&re, t->text, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &re, msg, sizeof(msg));
		conf_error(b->ps, &t->loc, "bad regular expression: %s", msg);
		return;
	}
	regfree(&re);
	if (set_str(b, t, &PR(b)->match) == 0)
		pr_selected(b, st, "match");
}

static void
pr_unit(struct blk *b, struct stmt *st)
{
	if (pr_selector(b, st) == -1)
		return;
	key_string_into(b, st, "a systemd unit like web.service",
	    &PR(b)->unit);
	if (PR(b)->unit != NULL)
		pr_selected(b, st, "unit");
}

static void
pr_cgroup(struct blk *b, struct stmt *st)
{
	if (pr_selector(b, st) == -1)
		return;
	key_string_into(b, st, "a cgroup v2 path", &PR(b)->cgroup);
	if (PR(b)->cgroup != NULL)
		pr_selected(b, st, "cgroup");
}

static void
pr_pid(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;
	int64_t		 v = 0;

	if (pr_selector(b, st) == -1)
		return;
	if ((t = want_value(b, st, "a process id")) == NULL ||
	    val_int(b, t, 1, INT_MAX, &v) == -1 || want_end(b, st, 1) == -1)
		return;
	PR(b)->pid = (long)v;
	pr_selected(b, st, "pid");
}



/* limit SIZE, or a percentage of the machine's memory */
static void
pr_limit(struct blk *b, struct stmt *st)
{
	struct conf_tok		*t;
	struct sw_quantity	 q;
	double			 v;
	long			 pages, pagesz;

	if ((t = want_value(b, st, "a memory limit like 1.5GiB or 80%")) ==
	    NULL)
		return;
	if (t->len > 0 && t->text[t->len - 1] == '%') {
		if (sw_parse_quantity(t->text, t->len, &q) == -1 ||
		    q.unit != SW_UNIT_RATIO) {
			bad_value(b, t, "a percentage like 80%");
			return;
		}
		if (q.v <= 0 || q.v > 1) {
			bad_value(b, t, "a percentage above 0% and at most "
			    "100%");
			return;
		}
		pages = sysconf(_SC_PHYS_PAGES);
		pagesz = sysconf(_SC_PAGESIZE);
		if (pages <= 0 || pagesz <= 0) {
			conf_error(b->ps, &t->loc, "cannot learn the size of "
			    "memory for %s; give the limit in bytes", t->text);
			return;
		}
		v = q.v * (double)pages * (double)pagesz;
	} else if (sw_parse_size(t->text, t->len, &v) == -1 || v <= 0) {
		bad_value(b, t, "a memory limit like 1.5GiB or 80%");
		return;
	}
	if (want_end(b, st, 1) == -1)
		return;
	PR(b)->limit = v;
}

static const struct keydef process_keys[] = {
	K_FN("pidfile",		0,		pr_pidfile),
	K_FN("match",		0,		pr_match),
	K_FN("unit",		0,		pr_unit),
	K_FN("cgroup",		0,		pr_cgroup),
	K_FN("pid",		0,		pr_pid),
	K_SET("every",		KT_POS_DURATION, T_OFF(every_ms)),
	K_SET("children",	KT_BOOL,	PR_OFF(children)),
	K_SET("warmup",		KT_DURATION,	PR_OFF(warmup_ms)),
	K_FN("limit",		0,		pr_limit),
	K_LABEL(T_OFF(labels)),
	{ .name = NULL },
};

/* ------------------------------------------------------------------ */
/* scrape */

#define SC(b)	(&(b)->o.t->u.scrape)
#define SC_OFF(f)	offsetof(struct sw_conf_target, u.scrape.f)





static void
sc_keep(struct blk *b, struct stmt *st)
{
	int	*items, *counts, n, i;
	size_t	 j;

	items = calloc((size_t)st->nargs + 1, sizeof(*items));
	counts = calloc((size_t)st->nargs + 1, sizeof(*counts));
	if (items == NULL || counts == NULL) {
		oom(b->ps, &st->key.loc);
		goto out;
	}
	n = split_list(b, st, items, counts, st->nargs + 1,
	    "a metric name or glob like nodejs_heap_*");
	if (n == -1 || list_singles(b, st, items, counts, n) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		const struct conf_tok *t = &st->args[items[i]];

		for (j = 0; j < t->len; j++)
			if (!isalnum((unsigned char)t->text[j]) &&
			    strchr("_:*?[]!-", t->text[j]) == NULL)
				break;
		if (t->len == 0 || j != t->len) {
			bad_value(b, t, "a metric name or glob like "
			    "nodejs_heap_*");
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		if (strlist_add(&SC(b)->keep, st->args[items[i]].text) == -1) {
			oom(b->ps, &st->key.loc);
			goto out;
		}
out:
	free(items);
	free(counts);
}

static const struct keydef scrape_keys[] = {
	K_SET("url",		KT_URL,		SC_OFF(url)),
	K_SET("every",		KT_POS_DURATION, T_OFF(every_ms)),
	K_SET("timeout",	KT_POS_DURATION, SC_OFF(timeout_ms)),
	K_SET("max-body",	KT_MAX_BODY,	SC_OFF(max_body)),
	K_FN("keep",		1,		sc_keep),
	K_SET("insecure",	KT_BOOL,	SC_OFF(insecure)),
	K_LABEL(T_OFF(labels)),
	{ .name = NULL },
};

/* ------------------------------------------------------------------ */
/* notify */

#define NO(b)	((b)->o.n)
#define NO_OFF(f)	offsetof(struct sw_conf_notify, f)

static void
no_url(struct blk *b, struct stmt *st)
{
	int		 items[16], counts[16], n, i;
	struct sw_secret s;

	n = split_list(b, st, items, counts, 16, "a URL, $ENV or @file");
	if (n == -1 || list_singles(b, st, items, counts, n) == -1)
		return;
	if (n > 1 && (NO(b)->type == NULL ||
	    strcmp(NO(b)->type, "alertmanager") != 0)) {
		conf_error(b->ps, &st->args[items[1] - 1].loc, "only "
		    "alertmanager takes a list of URLs; expected the end of "
		    "the statement, got \",\"");
		return;
	}
	for (i = 0; i < n; i++) {
		const struct conf_tok *t = &st->args[items[i]];

		memset(&s, 0, sizeof(s));
		if (val_secret(b, t, &s) == -1)
			continue;
		/* a literal URL may carry a token: never echo it */
		if (!s.is_secret && strncasecmp(s.value, "http://", 7) != 0 &&
		    strncasecmp(s.value, "https://", 8) != 0) {
			conf_error(b->ps, &t->loc, "expected an http:// or "
			    "https:// URL, $ENV or @file");
			secret_wipe_free(&s);
			continue;
		}
		if (n > 1 && strlist_add(&NO(b)->urls, s.value) == -1)
			oom(b->ps, &t->loc);
		if (i == 0) {
			secret_wipe_free(&NO(b)->url);
			NO(b)->url = s;
		} else
			secret_wipe_free(&s);
	}
}

static void
no_secret_into(struct blk *b, struct stmt *st, struct sw_secret *dst)
{
	struct conf_tok	*t;

	if ((t = want_value(b, st, "a value, $ENV or @file")) == NULL ||
	    want_end(b, st, 1) == -1)
		return;
	/* a literal key in the file is a secret in the file */
	b->cf->holds_secret = 1;
	val_secret(b, t, dst);
}






static const struct keydef notify_keys[] = {
	K_FN("url",		0,		no_url),
	K_SET("routing-key",	KT_SECRET,	NO_OFF(routing_key)),
	K_SET("secret",		KT_SECRET,	NO_OFF(secret)),
	K_SETW("channel",	KT_STRING,	NO_OFF(channel),
	    "a channel like #ops"),
	K_SETW("username",	KT_STRING,	NO_OFF(username), "a user name"),
	K_SETW("icon",		KT_STRING,	NO_OFF(icon),
	    "an icon like :warning:"),
	K_SET("max-age",	KT_POS_DURATION, NO_OFF(max_age_ms)),
	{ .name = NULL },
};

static const char *notify_types[] = {
	"slack", "pagerduty", "alertmanager", "webhook", "log", NULL,
};

/* ------------------------------------------------------------------ */
/* action */

#define AC(b)	((b)->o.a)
#define AC_OFF(f)	offsetof(struct sw_conf_action, f)

/* run/before: argv from the statement's words; an absolute program. */
static void
ac_argv(struct blk *b, struct stmt *st, struct sw_strlist *dst)
{
	struct sw_strlist	argv;
	int			i;

	memset(&argv, 0, sizeof(argv));
	if (want_value(b, st, "a command like /usr/bin/pm2 restart web") ==
	    NULL)
		return;
	for (i = 0; i < st->nargs; i++) {
		const struct conf_tok *t = &st->args[i];

		if (t->type == CT_COMMA) {
			conf_error(b->ps, &t->loc, "unexpected \",\" in a "
			    "command (quote it: \",\")");
			goto fail;
		}
		if (strlen(t->text) != t->len) {
			bad_value(b, t, "an argument without NUL bytes");
			goto fail;
		}
		if (i == 0 && t->text[0] != '/') {
			bad_value(b, t, "the program as an absolute path like "
			    "/usr/bin/pm2 (commands run without a shell or "
			    "PATH)");
			goto fail;
		}
		if (strlist_add(&argv, t->text) == -1) {
			oom(b->ps, &t->loc);
			goto fail;
		}
	}
	sw_strlist_release(dst);
	*dst = argv;
	/* action area: remember where the program is, for the
	 * executable check of sw_actions_check_conf (lib/action.c) */
	if (dst == &AC(b)->run)
		AC(b)->run_loc = st->args[0].loc;
	else if (dst == &AC(b)->before)
		AC(b)->before_loc = st->args[0].loc;
	return;
fail:
	sw_strlist_release(&argv);
}






#define EXP_LIMIT "a restart budget like \"3 per 6h\" or 3/6h"

/* limit N per D, or limit N/D */
static void
ac_limit(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t, *per, *dur;
	const char	*slash;
	int64_t		 n, ms;
	char		 desc[128];

	if ((t = want_value(b, st, EXP_LIMIT)) == NULL)
		return;
	if ((slash = memchr(t->text, '/', t->len)) != NULL) {
		if (sw_parse_int64(t->text, (size_t)(slash - t->text), &n) ==
		    -1 || n < 1 || n > 1000000 ||
		    sw_parse_duration_ms(slash + 1, strlen(slash + 1), &ms) ==
		    -1 || ms <= 0) {
			bad_value(b, t, EXP_LIMIT);
			return;
		}
		if (want_end(b, st, 1) == -1)
			return;
	} else {
		if (val_int(b, t, 1, 1000000, &n) == -1)
			return;
		per = st->nargs > 1 ? &st->args[1] : &st->end;
		if (per->type != CT_WORD || strcmp(per->text, "per") != 0) {
			conf_error(b->ps, &per->loc, "expected \"per\" after "
			    "\"limit %lld\", got %s", (long long)n,
			    tok_desc(per, desc, sizeof(desc)));
			return;
		}
		dur = st->nargs > 2 ? &st->args[2] : &st->end;
		if (dur->type != CT_WORD && dur->type != CT_STRING) {
			conf_error(b->ps, &dur->loc, "expected %s after \"per\", "
			    "got %s", EXP_DURATION, tok_desc(dur, desc,
			    sizeof(desc)));
			return;
		}
		if (val_duration(b, dur, 1, &ms) == -1 ||
		    want_end(b, st, 3) == -1)
			return;
	}
	AC(b)->limit_n = (int)n;
	AC(b)->limit_per_ms = ms;
}

static void
ac_env(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;
	const char	*eq;
	char		*k;

	if ((t = want_value(b, st, "a variable like NAME=value")) == NULL)
		return;
	eq = memchr(t->text, '=', t->len);
	if (eq == NULL || !is_ident(t->text, (size_t)(eq - t->text)) ||
	    strlen(t->text) != t->len) {
		bad_value(b, t, "a variable like NAME=value");
		return;
	}
	if (want_end(b, st, 1) == -1)
		return;
	if ((k = strndup(t->text, (size_t)(eq - t->text))) == NULL) {
		oom(b->ps, &t->loc);
		return;
	}
	if (strncmp(k, "SLOPEWATCH_", 11) == 0)
		conf_error(b->ps, &t->loc, "%s is set by slopewatch itself "
		    "(expected a variable not starting with SLOPEWATCH_)", k);
	else if (kv_find(AC(b)->env, k) != NULL)
		conf_error(b->ps, &t->loc, "duplicate environment variable "
		    "%s", k);
	else if (kv_add(&AC(b)->env, k, eq + 1) == -1)
		oom(b->ps, &t->loc);
	free(k);
}


static void
ac_cwd(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;

	if ((t = want_value(b, st, "an absolute directory")) == NULL)
		return;
	if (t->text[0] != '/') {
		bad_value(b, t, "an absolute directory like /srv/web");
		return;
	}
	if (want_end(b, st, 1) == -1)
		return;
	set_str(b, t, &AC(b)->cwd);
}

static const struct keydef action_keys[] = {
	K_SET("run",		KT_ARGV,	AC_OFF(run)),
	K_SET("before",		KT_ARGV,	AC_OFF(before)),
	K_SET("timeout",	KT_POS_DURATION, AC_OFF(timeout_ms)),
	K_SET("cooldown",	KT_DURATION,	AC_OFF(cooldown_ms)),
	K_FN("limit",		0,		ac_limit),
	K_FN("env",		1,		ac_env),
	K_SETW("user",		KT_STRING,	AC_OFF(user), "a user name"),
	K_FN("cwd",		0,		ac_cwd),
	K_SET("verify",		KT_DURATION,	AC_OFF(verify_ms)),
	{ .name = NULL },
};

/* ------------------------------------------------------------------ */
/* rule */

#define RU(b)	((b)->o.r)
#define RU_OFF(f)	offsetof(struct sw_conf_rule, f)

static void
ru_when(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;

	/* read_stmt put the raw expression in args[0] */
	if (st->nargs == 0 || st->args[0].len == 0) {
		conf_error(b->ps, st->nargs ? &st->args[0].loc : &st->key.loc,
		    "expected an expression like p50(checkout.latency, 5m) > "
		    "2s after \"when\", got %s", st->end.type == CT_RBRACE ?
		    "\"}\"" : st->end.type == CT_SEMI ? "\";\"" :
		    st->end.type == CT_EOF ? "end of file" : "end of line");
		return;
	}
	t = &st->args[0];
	if (strlen(t->text) != t->len) {
		bad_value(b, t, "an expression");
		return;
	}
	if (set_str(b, t, &RU(b)->when) == 0)
		RU(b)->when_loc = t->loc;
}





static void
ru_severity(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;
	enum sw_severity sev;

	if ((t = want_value(b, st, "info, warning or critical")) == NULL)
		return;
	if (strcmp(t->text, "info") == 0)
		sev = SW_SEV_INFO;
	else if (strcmp(t->text, "warning") == 0)
		sev = SW_SEV_WARNING;
	else if (strcmp(t->text, "critical") == 0)
		sev = SW_SEV_CRITICAL;
	else {
		bad_value(b, t, "info, warning or critical");
		return;
	}
	if (want_end(b, st, 1) == -1)
		return;
	RU(b)->severity = sev;
}



static int
add_ref(struct blk *b, int is_action, const struct conf_tok *t)
{
	struct conf_ref	*ref;

	if ((ref = calloc(1, sizeof(*ref))) == NULL ||
	    (ref->name = strdup(t->text)) == NULL) {
		free(ref);
		oom(b->ps, &t->loc);
		return -1;
	}
	ref->is_action = is_action;
	ref->loc = t->loc;
	*b->ps->refs_tail = ref;
	b->ps->refs_tail = &ref->next;
	return 0;
}

static void
ru_notify(struct blk *b, struct stmt *st)
{
	int	*items, *counts, n, i, j;

	items = calloc((size_t)st->nargs + 1, sizeof(*items));
	counts = calloc((size_t)st->nargs + 1, sizeof(*counts));
	if (items == NULL || counts == NULL) {
		oom(b->ps, &st->key.loc);
		goto out;
	}
	n = split_list(b, st, items, counts, st->nargs + 1,
	    "the name of a notify block");
	if (n == -1 || list_singles(b, st, items, counts, n) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		const struct conf_tok *t = &st->args[items[i]];

		if (val_name(b, t) == -1)
			goto out;
		for (j = 0; j < i; j++)
			if (strcmp(st->args[items[j]].text, t->text) == 0)
				break;
		if (j < i || strlist_has(&RU(b)->notify, t->text)) {
			conf_error(b->ps, &t->loc, "notifier \"%s\" is listed "
			    "twice", t->text);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		const struct conf_tok *t = &st->args[items[i]];

		if (strlist_add(&RU(b)->notify, t->text) == -1) {
			oom(b->ps, &t->loc);
			goto out;
		}
		add_ref(b, 0, t);
	}
out:
	free(items);
	free(counts);
}

static void
ru_action(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;

	if ((t = want_value(b, st, "the name of an action block")) == NULL ||
	    val_name(b, t) == -1 || want_end(b, st, 1) == -1)
		return;
	if (set_str(b, t, &RU(b)->action) == 0)
		add_ref(b, 1, t);
}


static const struct keydef rule_keys[] = {
	K_FN("when",		0,		ru_when),
	K_SET("for",		KT_DURATION,	RU_OFF(for_ms)),
	K_SET("keep",		KT_DURATION,	RU_OFF(keep_ms)),
	K_SET("repeat",		KT_DURATION,	RU_OFF(repeat_ms)),
	K_FN("severity",	0,		ru_severity),
	K_SETW("summary",	KT_TEXT,	RU_OFF(summary), "a text in quotes"),
	K_LABEL(RU_OFF(labels)),
	K_FN("notify",		1,		ru_notify),
	K_FN("action",		0,		ru_action),
	K_SET("across-restarts", KT_BOOL,	RU_OFF(across_restarts)),
	{ .name = NULL },
};

static const struct keydef *blk_keys[] = {
	endpoint_keys, process_keys, scrape_keys, notify_keys, action_keys,
	rule_keys,
};

/* The object whose fields a block's typed keys set (struct keydef.off). */
static char *
blk_obj(struct blk *b)
{
	switch (b->kind) {
	case BLK_NOTIFY:
		return (char *)b->o.n;
	case BLK_ACTION:
		return (char *)b->o.a;
	case BLK_RULE:
		return (char *)b->o.r;
	case BLK_ENDPOINT:
	case BLK_PROCESS:
	case BLK_SCRAPE:
	default:
		return (char *)b->o.t;
	}
}

/* Reads the statement of key k into its field (or calls its function). */
static void
key_run(struct blk *b, const struct keydef *k, struct stmt *st)
{
	void	*field = blk_obj(b) + k->off;

	switch (k->type) {
	case KT_FN:
		k->fn(b, st);
		break;
	case KT_BOOL:
		key_bool_into(b, st, field);
		break;
	case KT_STRING:
	case KT_TEXT:
		key_value_into(b, st, k->what, k->type == KT_STRING, field);
		break;
	case KT_URL:
		key_url_into(b, st, field);
		break;
	case KT_DURATION:
	case KT_POS_DURATION:
		key_duration_into(b, st, k->type == KT_POS_DURATION, field);
		break;
	case KT_MAX_BODY:
		key_max_body(b, st, field);
		break;
	case KT_SECRET:
		no_secret_into(b, st, field);
		break;
	case KT_ARGV:
		ac_argv(b, st, field);
		break;
	case KT_LABEL:
		label_into(b, st, field);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* blocks */

/* Allocates the block's object with its defaults and links it in. */
static int
blk_new(struct conf_parse *ps, struct blk *b, enum blk_kind kind,
    const struct sw_loc *loc)
{
	struct sw_conf_target	*t;

	b->kind = kind;
	b->keys = blk_keys[kind];
	b->loc = *loc;
	switch (kind) {
	case BLK_ENDPOINT:
	case BLK_PROCESS:
	case BLK_SCRAPE:
		if ((t = calloc(1, sizeof(*t))) == NULL)
			break;
		t->loc = *loc;
		if (kind == BLK_ENDPOINT) {
			t->kind = SW_TARGET_ENDPOINT;
			t->every_ms = 15000;
			t->u.endpoint.timeout_ms = 10000;
			t->u.endpoint.max_body = 1024 * 1024;
			t->u.endpoint.max_redirects = 5;
		} else if (kind == BLK_PROCESS) {
			t->kind = SW_TARGET_PROCESS;
			t->every_ms = 10000;
		} else {
			t->kind = SW_TARGET_SCRAPE;
			t->every_ms = 30000;
			t->u.scrape.timeout_ms = 10000;
			t->u.scrape.max_body = 4 * 1024 * 1024;
		}
		*ps->targets_tail = t;
		ps->targets_tail = &t->next;
		b->o.t = t;
		return 0;
	case BLK_NOTIFY:
		if ((b->o.n = calloc(1, sizeof(*b->o.n))) == NULL)
			break;
		b->o.n->loc = *loc;
		*ps->notifiers_tail = b->o.n;
		ps->notifiers_tail = &b->o.n->next;
		return 0;
	case BLK_ACTION:
		if ((b->o.a = calloc(1, sizeof(*b->o.a))) == NULL)
			break;
		b->o.a->loc = *loc;
		b->o.a->timeout_ms = 60000;
		b->o.a->cooldown_ms = 30 * 60000;
		*ps->actions_tail = b->o.a;
		ps->actions_tail = &b->o.a->next;
		return 0;
	case BLK_RULE:
		if ((b->o.r = calloc(1, sizeof(*b->o.r))) == NULL)
			break;
		b->o.r->loc = *loc;
		b->o.r->severity = SW_SEV_WARNING;
		*ps->rules_tail = b->o.r;
		ps->rules_tail = &b->o.r->next;
		return 0;
	}
	oom(ps, loc);
	return -1;
}

static char **
blk_name_slot(struct blk *b)
{
	switch (b->kind) {
	case BLK_ENDPOINT:
	case BLK_PROCESS:
	case BLK_SCRAPE:
		return &b->o.t->name;
	case BLK_NOTIFY:
		return &b->o.n->name;
	case BLK_ACTION:
		return &b->o.a->name;
	case BLK_RULE:
	default:
		return &b->o.r->name;
	}
}

/* Whether t names the block of kind what called name (at loc): reports the
 * duplicate. */
static int
dup_name(struct conf_parse *ps, const struct conf_tok *t, const char *what,
    const char *name, const struct sw_loc *loc)
{
	char	where[PATH_MAX + 32];

	if (name == NULL || strcmp(name, t->text) != 0)
		return 0;
	conf_error(ps, &t->loc, "duplicate %s name \"%s\" (first defined at "
	    "%s)", what, t->text, loc_ref(&t->loc, loc, where, sizeof(where)));
	return 1;
}

/* Checks that the name of the new block b is free. */
static void
blk_check_name(struct conf_parse *ps, struct blk *b,
    const struct conf_tok *t)
{
	const struct sw_conf_target	*ot;
	const struct sw_conf_notify	*on;
	const struct sw_conf_action	*oa;
	const struct sw_conf_rule	*orl;
	char				 where[PATH_MAX + 32];

	switch (b->kind) {
	case BLK_ENDPOINT:
	case BLK_PROCESS:
	case BLK_SCRAPE:
		if (strcmp(t->text, "slopewatch") == 0) {
			conf_error(ps, &t->loc, "target name \"slopewatch\" is "
			    "reserved for the agent itself");
			return;
		}
		for (ot = ps->conf->targets; ot != b->o.t; ot = ot->next) {
			if (ot->name == NULL || strcmp(ot->name, t->text) != 0)
				continue;
			conf_error(ps, &t->loc, "duplicate target name \"%s\" "
			    "(already used by the %s at %s)", t->text,
			    sw_target_kind_name(ot->kind),
			    loc_ref(&t->loc, &ot->loc, where, sizeof(where)));
			return;
		}
		break;
	case BLK_NOTIFY:
		for (on = ps->conf->notifiers; on != b->o.n; on = on->next)
			if (dup_name(ps, t, "notify", on->name, &on->loc))
				return;
		break;
	case BLK_ACTION:
		for (oa = ps->conf->actions; oa != b->o.a; oa = oa->next)
			if (dup_name(ps, t, "action", oa->name, &oa->loc))
				return;
		break;
	case BLK_RULE:
		for (orl = ps->conf->rules; orl != b->o.r; orl = orl->next)
			if (dup_name(ps, t, "rule", orl->name, &orl->loc))
				return;
		break;
	}
}

/* Reads the header "KIND NAME [TYPE]". Errors are reported; the block is
 * read anyway (so its body is checked too). */
static void
blk_header(struct conf_parse *ps, struct blk *b, struct stmt *st)
{
	struct conf_tok		*t;
	char			 desc[128], sbuf[64];
	struct sw_text_suggest	 sg;
	int			 want = b->kind == BLK_NOTIFY ? 2 : 1, i;
	char			**slot = blk_name_slot(b);

	if (st->nargs == 0 || st->args[0].type == CT_COMMA) {
		t = st->nargs ? &st->args[0] : &st->end;
		conf_error(ps, &t->loc, "expected a name after \"%s\", got %s",
		    st->key.text, tok_desc(t, desc, sizeof(desc)));
		return;
	}
	t = &st->args[0];
	if (!is_name(t->text)) {
		bad_value(b, t, "a name of letters, digits, \"_\" and \"-\"");
		return;
	}
	blk_check_name(ps, b, t);
	if ((*slot = xstrdup(ps, &t->loc, t->text)) == NULL)
		return;
	b->name = *slot;
	if (b->kind == BLK_NOTIFY) {
		if (st->nargs < 2 || st->args[1].type == CT_COMMA) {
			t = st->nargs > 1 ? &st->args[1] : &st->end;
			conf_error(ps, &t->loc, "expected a notifier type "
			    "(slack, pagerduty, alertmanager, webhook or log) "
			    "after notify \"%s\", got %s", b->name,
			    tok_desc(t, desc, sizeof(desc)));
			return;
		}
		t = &st->args[1];
		sw_text_suggest_init(&sg, t->text, SW_TEXT_FOLD);
		for (i = 0; notify_types[i] != NULL; i++) {
			if (strcmp(t->text, notify_types[i]) == 0)
				break;
			sw_text_suggest_try(&sg, notify_types[i]);
		}
		if (notify_types[i] == NULL) {
			conf_error(ps, &t->loc, "unknown notifier type %s%s; "
			    "expected slack, pagerduty, alertmanager, webhook "
			    "or log", tok_desc(t, desc, sizeof(desc)),
			    suggestion(&sg, sbuf, sizeof(sbuf)));
			return;
		}
		b->o.n->type = xstrdup(ps, &t->loc, t->text);
	}
	if (st->nargs > want) {
		t = &st->args[want];
		conf_error(ps, &t->loc, "expected \"{\" after %s \"%s\", got %s",
		    blk_names[b->kind], b->name, tok_desc(t, desc,
		    sizeof(desc)));
	}
}

/* What a finished block must have. A required key that was given but had
 * an error (so it is still unset) has been reported already. */
static void
blk_finish(struct conf_parse *ps, struct blk *b)
{
	struct sw_conf_endpoint	*ep;
	const char		*missing = NULL, *type;
	int			 idx = 0;	/* of the key in the block's table */

	switch (b->kind) {
	case BLK_ENDPOINT:
		ep = &b->o.t->u.endpoint;
		if (ep->url == NULL)
			missing = "url";
		if (ep->method == NULL)
			ep->method = xstrdup(ps, &b->loc, "GET");
		if (ep->nexpect == 0) {
			ep->expect[0].lo = 200;
			ep->expect[0].hi = 399;
			ep->nexpect = 1;
		}
		break;
	case BLK_SCRAPE:
		if (b->o.t->u.scrape.url == NULL)
			missing = "url";
		break;
	case BLK_PROCESS:
		if (b->selector == NULL && b->seen[0].line == 0 &&
		    b->seen[1].line == 0 && b->seen[2].line == 0 &&
		    b->seen[3].line == 0 && b->seen[4].line == 0)
			conf_error(ps, &b->loc, "missing a process selector in "
			    "process block \"%s\" (expected one of pidfile, "
			    "match, unit, cgroup or pid)", b->name ? b->name :
			    "");
		break;
	case BLK_NOTIFY:
		if ((type = b->o.n->type) == NULL)
			break;
		if ((strcmp(type, "slack") == 0 ||
		    strcmp(type, "webhook") == 0 ||
		    strcmp(type, "alertmanager") == 0) &&
		    b->o.n->url.value == NULL)
			missing = "url";
		else if (strcmp(type, "pagerduty") == 0 &&
		    b->o.n->routing_key.value == NULL) {
			missing = "routing-key";
			idx = 1;
		}
		break;
	case BLK_ACTION:
		if (b->o.a->run.n == 0)
			missing = "run";
		break;
	case BLK_RULE:
		if (b->o.r->when == NULL)
			missing = "when";
		break;
	}
	if (missing != NULL && b->seen[idx].line == 0)
		conf_error(ps, &b->loc, "missing required key \"%s\" in %s "
		    "block \"%s\"", missing, blk_names[b->kind],
		    b->name ? b->name : "");
}

/* Whether a statement is the header of a block: a missed "}". */
static int
is_block_header(const struct stmt *st)
{
	size_t	i;

	if (st->key.type != CT_WORD || st->end.type != CT_LBRACE)
		return 0;
	for (i = 0; i < sizeof(blk_names) / sizeof(blk_names[0]); i++)
		if (strcmp(st->key.text, blk_names[i]) == 0)
			return 1;
	return 0;
}

/*
 * Reads the body of a block whose "{" (at open) was just read. When the
 * "}" is missing and the next block's header comes instead, that header is
 * left in *pending for the top level (returns 1), so one missing brace is
 * one error and the next block is still read.
 */
static int
blk_body(struct conf_parse *ps, struct conf_lex *lx, struct blk *b,
    const struct sw_loc *open, struct stmt *pending)
{
	struct stmt		 st;
	const struct keydef	*k;
	struct sw_text_suggest	 sg;
	char			 sbuf[64], where[PATH_MAX + 32];
	int			 i;

	for (;;) {
		read_stmt(ps, lx, b->kind == BLK_RULE, &st);
		if (!st.has_key) {
			if (st.end.type == CT_EOF)
				conf_error(ps, open, "%s block \"%s\" is not "
				    "closed (expected \"}\" before the end of "
				    "the file)", blk_names[b->kind],
				    b->name ? b->name : "");
			break;
		}
		if (is_block_header(&st)) {
			conf_error(ps, open, "%s block \"%s\" is not closed "
			    "(expected \"}\" before the %s block at line %d)",
			    blk_names[b->kind], b->name ? b->name : "",
			    st.key.text, st.key.loc.line);
			*pending = st;
			blk_finish(ps, b);
			return 1;
		}
		sw_text_suggest_init(&sg, st.key.text, SW_TEXT_FOLD);
		for (i = 0, k = b->keys; k->name != NULL; k++, i++) {
			if (strcmp(k->name, st.key.text) == 0)
				break;
			sw_text_suggest_try(&sg, k->name);
		}
		if (st.end.type == CT_LBRACE) {
			conf_error(ps, &st.end.loc, "unexpected \"{\" (blocks do "
			    "not nest; expected \";\" or the end of the line)");
			skip_block(lx);
			/* given, if wrong: not "missing" as well */
			if (k->name != NULL && b->seen[i].line == 0)
				b->seen[i] = st.key.loc;
		} else if (k->name == NULL) {
			conf_error(ps, &st.key.loc, "unknown key \"%s\" in %s "
			    "block%s", st.key.text, blk_names[b->kind],
			    suggestion(&sg, sbuf, sizeof(sbuf)));
		} else if (!k->repeat && b->seen[i].line != 0) {
			conf_error(ps, &st.key.loc, "duplicate key \"%s\" "
			    "(first given at %s)", k->name,
			    loc_ref(&st.key.loc, &b->seen[i], where,
			    sizeof(where)));
		} else {
			b->seen[i] = st.key.loc;
			key_run(b, k, &st);
		}
		stmt_free(&st);
	}
	blk_finish(ps, b);
	return 0;
}

/* ------------------------------------------------------------------ */
/* top level */

static int load_file(struct conf_parse *, const char *, struct conf_file *,
    const struct sw_loc *, const char *);

static void
top_data(struct blk *b, struct stmt *st)
{
	key_string_into(b, st, "a database file name", &b->ps->conf->data);
}

static void
top_listen(struct blk *b, struct stmt *st)
{
	struct conf_tok	*t;
	const char	*colon;
	int64_t		 port;

	if ((t = want_value(b, st, "HOST:PORT like 127.0.0.1:9106")) == NULL)
		return;
	colon = strrchr(t->text, ':');
	if (colon == NULL || sw_parse_int64(colon + 1, strlen(colon + 1),
	    &port) == -1 || port < 0 || port > 65535 || colon[1] == '+' ||
	    colon[1] == '-' || strpbrk(t->text, " \t/") != NULL ||
	    strlen(t->text) != t->len) {
		bad_value(b, t, "HOST:PORT like 127.0.0.1:9106");
		return;
	}
	if (want_end(b, st, 1) == -1)
		return;
	set_str(b, t, &b->ps->conf->listen);
}

static void
top_retention(struct blk *b, struct stmt *st)
{
	struct sw_retention_level lv[SW_CONF_MAX_RETENTION];
	int		items[SW_CONF_MAX_RETENTION];
	int		counts[SW_CONF_MAX_RETENTION];
	int		n, i;
	char		desc[128], desc2[128];
	struct conf_tok	*res, *keep;

	n = split_list(b, st, items, counts, SW_CONF_MAX_RETENTION,
	    "a level like \"raw 7d\" or \"1m 90d\"");
	if (n == -1)
		return;
	for (i = 0; i < n; i++) {
		res = &st->args[items[i]];
		if (i == 0 && strcmp(res->text, "raw") != 0) {
			bad_value(b, res, "\"raw\" first (retention raw 7d, 1m "
			    "90d, 1h 2y)");
			return;
		}
		if (i == 0)
			lv[i].res_ms = 0;
		else if (val_duration(b, res, 1, &lv[i].res_ms) == -1)
			return;
		if (i > 0 && lv[i].res_ms <= lv[i - 1].res_ms) {
			bad_value(b, res, "a resolution coarser than the one "
			    "before");
			return;
		}
		if (counts[i] < 2) {
			keep = items[i] + 1 < st->nargs ?
			    &st->args[items[i] + 1] : &st->end;
			conf_error(b->ps, &keep->loc, "expected how long to keep "
			    "%s samples (a duration like 7d) after %s, got %s",
			    res->text, tok_desc(res, desc, sizeof(desc)),
			    tok_desc(keep, desc2, sizeof(desc2)));
			return;
		}
		keep = &st->args[items[i] + 1];
		if (val_duration(b, keep, 1, &lv[i].keep_ms) == -1)
			return;
		if (counts[i] > 2) {
			conf_error(b->ps, &st->args[items[i] + 2].loc, "expected "
			    "\",\" or the end of the statement, got %s",
			    tok_desc(&st->args[items[i] + 2], desc,
			    sizeof(desc)));
			return;
		}
	}
	memcpy(b->ps->conf->retention, lv, sizeof(lv[0]) * (size_t)n);
	b->ps->conf->nretention = n;
}

static void
top_include(struct conf_parse *ps, struct conf_file *cf, struct blk *b,
    struct stmt *st)
{
	struct conf_tok	*t;
	char		*pattern;
	glob_t		 g;
	size_t		 i;
	int		 rc;

	if ((t = want_value(b, st, "a file name or glob like "
	    "rules/*.rules")) == NULL || want_end(b, st, 1) == -1)
		return;
	if (t->len == 0 || strlen(t->text) != t->len) {
		bad_value(b, t, "a file name or glob");
		return;
	}
	if (cf->depth + 1 > CONF_MAX_INCLUDE_DEPTH) {
		conf_error(ps, &t->loc, "includes are nested too deeply (more "
		    "than %d levels)", CONF_MAX_INCLUDE_DEPTH);
		return;
	}
	if ((pattern = path_join(cf->dir, t->text)) == NULL) {
		oom(ps, &t->loc);
		return;
	}
	if (strpbrk(t->text, "*?[") == NULL) {
		load_file(ps, pattern, cf, &t->loc, t->text);
		free(pattern);
		return;
	}
	memset(&g, 0, sizeof(g));
	rc = glob(pattern, 0, NULL, &g);
	if (rc == GLOB_NOSPACE)
		oom(ps, &t->loc);
	else if (rc == GLOB_ABORTED)
		conf_error(ps, &t->loc, "cannot read the directory of include "
		    "\"%s\"", t->text);
	else if (rc == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			load_file(ps, g.gl_pathv[i], cf, &t->loc,
			    g.gl_pathv[i]);
	}
	/* GLOB_NOMATCH: an empty rules directory is fine */
	globfree(&g);
	free(pattern);
}

static const char *top_keys[] = {
	"data", "listen", "retention", "include", "endpoint", "process",
	"scrape", "notify", "action", "rule", NULL,
};

/* Parses one file's text. */
static void
parse_text(struct conf_parse *ps, struct conf_file *cf, const char *text,
    size_t len)
{
	struct conf_lex		 lx;
	struct stmt		 st;
	struct blk		 b;
	const struct conf_tok	*pk;
	struct conf_tok		 tok, brace;
	struct sw_text_suggest	 sg;
	char			 sbuf[64], desc[128], where[PATH_MAX + 32];
	struct stmt		 pending;
	int			 kind, top, have_pending = 0;

	conf_lex_init(&lx, ps, cf->name, text, len);
	for (;;) {
		if (have_pending) {
			st = pending;
			have_pending = 0;
		} else
			read_stmt(ps, &lx, 0, &st);
		if (!st.has_key) {
			if (st.end.type == CT_EOF)
				break;
			conf_error(ps, &st.end.loc, "unexpected \"}\" (no block "
			    "is open)");
			continue;
		}
		memset(&b, 0, sizeof(b));
		b.ps = ps;
		b.cf = cf;
		b.loc = st.key.loc;
		sw_text_suggest_init(&sg, st.key.text, SW_TEXT_FOLD);
		for (top = 0; top_keys[top] != NULL; top++) {
			if (st.key.type == CT_WORD &&
			    strcmp(top_keys[top], st.key.text) == 0)
				break;
			sw_text_suggest_try(&sg, top_keys[top]);
		}
		kind = top >= 4 && top_keys[top] != NULL ? top - 4 : -1;
		if (top_keys[top] == NULL) {
			conf_error(ps, &st.key.loc, "unknown key \"%s\" at the "
			    "top level%s", st.key.text,
			    suggestion(&sg, sbuf, sizeof(sbuf)));
			if (st.end.type == CT_LBRACE)
				skip_block(&lx);
			stmt_free(&st);
			continue;
		}
		if (kind == -1) {
			if (st.end.type == CT_LBRACE) {
				conf_error(ps, &st.end.loc, "unexpected \"{\" "
				    "after \"%s\" (only endpoint, process, "
				    "scrape, notify, action and rule have "
				    "blocks)", st.key.text);
				skip_block(&lx);
			} else if (top < 3 && ps->top_seen[top].line != 0) {
				conf_error(ps, &st.key.loc, "duplicate key "
				    "\"%s\" (first given at %s)", st.key.text,
				    loc_ref(&st.key.loc, &ps->top_seen[top],
				    where, sizeof(where)));
			} else if (top < 3) {
				ps->top_seen[top] = st.key.loc;
				if (top == 0)
					top_data(&b, &st);
				else if (top == 1)
					top_listen(&b, &st);
				else
					top_retention(&b, &st);
			} else
				top_include(ps, cf, &b, &st);
			stmt_free(&st);
			continue;
		}

		/* a block: the "{" may follow on a later line */
		brace = st.end;
		if (st.end.type == CT_NL) {
			while ((pk = conf_lex_peek(&lx))->type == CT_NL) {
				conf_lex_next(&lx, &tok);
				conf_tok_release(&tok);
			}
			if (pk->type == CT_LBRACE) {
				conf_lex_next(&lx, &brace);
			}
		}
		if (brace.type != CT_LBRACE) {
			conf_error(ps, &st.end.loc, "expected \"{\" to open the "
			    "%s block, got %s", st.key.text,
			    tok_desc(&st.end, desc, sizeof(desc)));
			stmt_free(&st);
			continue;
		}
		if (blk_new(ps, &b, (enum blk_kind)kind, st.nargs > 0 &&
		    st.args[0].type != CT_COMMA ? &st.args[0].loc :
		    &st.key.loc) == -1) {
			skip_block(&lx);
			stmt_free(&st);
			continue;
		}
		b.ps = ps;
		b.cf = cf;
		if (kind == BLK_ACTION)
			cf->holds_action = 1;
		blk_header(ps, &b, &st);
		have_pending = blk_body(ps, &lx, &b, &brace.loc, &pending);
		stmt_free(&st);
	}
	conf_lex_release(&lx);
}

/* Reads a whole regular file from fd into *out (new), at most max bytes. */
static int
read_fd(int fd, size_t max, char **out, size_t *len)
{
	struct sw_buf	b;
	char		chunk[8192];
	ssize_t		n;

	sw_buf_init(&b, max);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		if (sw_buf_add(&b, chunk, (size_t)n) == -1) {
			if (errno == 0)
				errno = EFBIG;
			goto fail;
		}
	}
	*len = b.len;
	if ((*out = sw_buf_detach(&b)) == NULL)
		goto fail;
	return 0;
fail:
	sw_buf_release(&b);
	return -1;
}

/*
 * Opens, checks and parses one file. parent is NULL for the main file;
 * then inc_loc is NULL too. shown: the name used in messages about the
 * include statement.
 */
static int
load_file(struct conf_parse *ps, const char *path, struct conf_file *parent,
    const struct sw_loc *inc_loc, const char *shown)
{
	struct conf_file	 cf, *p;
	struct stat		 sb;
	struct sw_loc		 floc;
	char			*text = NULL, q[128];
	size_t			 len = 0;
	int			 fd, rc = -1, e;

	memset(&cf, 0, sizeof(cf));
	floc.file = path;
	floc.line = 0;
	floc.col = 0;
	conf_quote(q, sizeof(q), shown, strlen(shown));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		e = errno;
		if (inc_loc != NULL && e == ENOENT)
			conf_error(ps, inc_loc, "include file %s does not "
			    "exist", q);
		else if (inc_loc != NULL)
			conf_error(ps, inc_loc, "cannot read include file %s: "
			    "%s", q, strerror(e));
		else
			conf_error(ps, &floc, "cannot read the configuration: "
			    "%s", strerror(e));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		conf_error(ps, inc_loc ? inc_loc : &floc, "cannot read %s: %s",
		    q, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		conf_error(ps, inc_loc ? inc_loc : &floc, "%s%s is not a "
		    "regular file", inc_loc ? "include file " : "",
		    inc_loc ? q : "the configuration");
		goto out;
	}
	for (p = parent; p != NULL; p = p->parent) {
		if (p->have_id && p->dev == sb.st_dev && p->ino == sb.st_ino) {
			conf_error(ps, inc_loc, "include cycle: %s is already "
			    "being read", q);
			goto out;
		}
	}
	errno = 0;
	if (read_fd(fd, CONF_MAX_FILE, &text, &len) == -1) {
		e = errno;
		if (e == EMSGSIZE || e == EFBIG)
			conf_error(ps, inc_loc ? inc_loc : &floc, "%s is larger "
			    "than %d MiB", inc_loc ? q : "the configuration",
			    CONF_MAX_FILE / (1024 * 1024));
		else
			conf_error(ps, inc_loc ? inc_loc : &floc, "cannot read "
			    "%s: %s", q, strerror(e));
		goto out;
	}
	if (strlist_add(&ps->conf->files, path) == -1 ||
	    (cf.dir = path_dir(path)) == NULL) {
		oom(ps, inc_loc ? inc_loc : &floc);
		goto out;
	}
	cf.name = ps->conf->files.v[ps->conf->files.n - 1];
	cf.dev = sb.st_dev;
	cf.ino = sb.st_ino;
	cf.have_id = 1;
	cf.mode = sb.st_mode;
	cf.parent = parent;
	cf.depth = parent ? parent->depth + 1 : 0;
	close(fd);
	fd = -1;

	parse_text(ps, &cf, text, len);

	if (ps->check_perms && (cf.holds_action || cf.holds_secret) &&
	    (cf.mode & (S_IWGRP | S_IWOTH))) {
		floc.file = cf.name;
		conf_error(ps, &floc, "holds actions or secrets but is writable "
		    "by group/others; run chmod go-w %s", cf.name);
	}
	rc = 0;
out:
	free(cf.dir);
	free(text);
	if (fd != -1)
		close(fd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the whole configuration */

static struct sw_conf *
conf_new(const char *path)
{
	struct sw_conf	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return NULL;
	if ((conf->path = strdup(path)) == NULL ||
	    (conf->data = strdup("./slopewatch.db")) == NULL) {
		free(conf->path);
		free(conf);
		return NULL;
	}
	conf->retention[0].res_ms = 0;
	conf->retention[0].keep_ms = 7 * 86400000LL;
	conf->retention[1].res_ms = 60000;
	conf->retention[1].keep_ms = 90 * 86400000LL;
	conf->retention[2].res_ms = 3600000;
	conf->retention[2].keep_ms = 2 * 365 * 86400000LL;
	conf->nretention = 3;
	return conf;
}

static void
parse_init(struct conf_parse *ps, struct sw_conf *conf, sw_conf_diag_cb diag,
    void *diag_arg, int check_perms)
{
	memset(ps, 0, sizeof(*ps));
	ps->conf = conf;
	ps->diag = diag;
	ps->diag_arg = diag_arg;
	ps->check_perms = check_perms;
	ps->refs_tail = &ps->refs;
	ps->targets_tail = &conf->targets;
	ps->notifiers_tail = &conf->notifiers;
	ps->actions_tail = &conf->actions;
	ps->rules_tail = &conf->rules;
}

/* Cross checks that need every file: rule references. */
static void
parse_check_refs(struct conf_parse *ps)
{
	const struct conf_ref		*ref;
	const struct sw_conf_notify	*n;
	const struct sw_conf_action	*a;
	struct sw_text_suggest		 sg;
	char				 sbuf[64];
	int				 found;

	for (ref = ps->refs; ref != NULL; ref = ref->next) {
		sw_text_suggest_init(&sg, ref->name, SW_TEXT_FOLD);
		found = 0;
		if (ref->is_action) {
			for (a = ps->conf->actions; a != NULL && !found;
			    a = a->next)
				if (a->name != NULL) {
					found = strcmp(a->name, ref->name) == 0;
					sw_text_suggest_try(&sg, a->name);
				}
		} else {
			for (n = ps->conf->notifiers; n != NULL && !found;
			    n = n->next)
				if (n->name != NULL) {
					found = strcmp(n->name, ref->name) == 0;
					sw_text_suggest_try(&sg, n->name);
				}
		}
		if (!found)
			conf_error(ps, &ref->loc, "unknown %s \"%s\" (no %s block "
			    "has that name)%s", ref->is_action ? "action" :
			    "notifier", ref->name, ref->is_action ? "action" :
			    "notify", suggestion(&sg, sbuf, sizeof(sbuf)));
	}
}

static void
parse_release(struct conf_parse *ps)
{
	struct conf_ref	*ref, *next;

	for (ref = ps->refs; ref != NULL; ref = next) {
		next = ref->next;
		free(ref->name);
		free(ref);
	}
	ps->refs = NULL;
}

static int
conf_finish(struct conf_parse *ps, struct sw_conf **out, int *nerrors)
{
	parse_check_refs(ps);
	parse_release(ps);
	if (nerrors != NULL)
		*nerrors = ps->nerrors;
	if (ps->nerrors > 0) {
		sw_conf_free(ps->conf);
		*out = NULL;
		return -1;
	}
	*out = ps->conf;
	return 0;
}

int
sw_conf_load(const char *path, struct sw_conf **out, sw_conf_diag_cb diag,
    void *diag_arg, int *nerrors)
{
	struct conf_parse	ps;
	struct sw_conf		*conf;
	struct sw_loc		 loc = { path, 0, 0 };

	*out = NULL;
	if ((conf = conf_new(path)) == NULL) {
		if (diag != NULL)
			diag(&loc, "out of memory", diag_arg);
		if (nerrors != NULL)
			*nerrors = 1;
		return -1;
	}
	parse_init(&ps, conf, diag, diag_arg, 1);
	load_file(&ps, path, NULL, NULL, path);
	return conf_finish(&ps, out, nerrors);
}

int
sw_conf_parse_string(const char *name, const char *text,
    struct sw_conf **out, sw_conf_diag_cb diag, void *diag_arg,
    int *nerrors)
{
	struct conf_parse	 ps;
	struct conf_file	 cf;
	struct sw_conf		*conf;
	struct sw_loc		 loc = { name, 0, 0 };

	*out = NULL;
	memset(&cf, 0, sizeof(cf));
	if ((conf = conf_new(name)) == NULL ||
	    strlist_add(&conf->files, name) == -1 ||
	    (cf.dir = path_dir(name)) == NULL) {
		sw_conf_free(conf);
		if (diag != NULL)
			diag(&loc, "out of memory", diag_arg);
		if (nerrors != NULL)
			*nerrors = 1;
		return -1;
	}
	parse_init(&ps, conf, diag, diag_arg, 0);
	cf.name = conf->files.v[0];
	parse_text(&ps, &cf, text, strlen(text));
	free(cf.dir);
	return conf_finish(&ps, out, nerrors);
}

static void
target_free(struct sw_conf_target *t)
{
	free(t->name);
	kv_free(t->labels);
	switch (t->kind) {
	case SW_TARGET_ENDPOINT:
		free(t->u.endpoint.url);
		free(t->u.endpoint.method);
		sw_strlist_release(&t->u.endpoint.headers);
		free(t->u.endpoint.body);
		free(t->u.endpoint.cacert);
		free(t->u.endpoint.cert);
		free(t->u.endpoint.key);
		break;
	case SW_TARGET_PROCESS:
		free(t->u.process.pidfile);
		free(t->u.process.match);
		free(t->u.process.unit);
		free(t->u.process.cgroup);
		break;
	case SW_TARGET_SCRAPE:
		free(t->u.scrape.url);
		sw_strlist_release(&t->u.scrape.keep);
		break;
	case SW_TARGET_SELF:
		break;
	}
	free(t);
}

void
sw_conf_free(struct sw_conf *conf)
{
	struct sw_conf_target	*t, *tn;
	struct sw_conf_notify	*n, *nn;
	struct sw_conf_action	*a, *an;
	struct sw_conf_rule	*r, *rn;
	int			 i;

	if (conf == NULL)
		return;
	for (t = conf->targets; t != NULL; t = tn) {
		tn = t->next;
		target_free(t);
	}
	for (n = conf->notifiers; n != NULL; n = nn) {
		nn = n->next;
		free(n->name);
		free(n->type);
		secret_wipe_free(&n->url);
		for (i = 0; i < n->urls.n; i++)
			memset(n->urls.v[i], 0, strlen(n->urls.v[i]));
		sw_strlist_release(&n->urls);
		secret_wipe_free(&n->routing_key);
		secret_wipe_free(&n->secret);
		free(n->channel);
		free(n->username);
		free(n->icon);
		kv_free(n->options);
		free(n);
	}
	for (a = conf->actions; a != NULL; a = an) {
		an = a->next;
		free(a->name);
		sw_strlist_release(&a->run);
		sw_strlist_release(&a->before);
		kv_free(a->env);
		free(a->user);
		free(a->cwd);
		free(a);
	}
	for (r = conf->rules; r != NULL; r = rn) {
		rn = r->next;
		free(r->name);
		free(r->when);
		free(r->summary);
		kv_free(r->labels);
		sw_strlist_release(&r->notify);
		free(r->action);
		free(r);
	}
	sw_strlist_release(&conf->files);
	free(conf->path);
	free(conf->data);
	free(conf->listen);
	free(conf);
}

const struct sw_conf_target *
sw_conf_target_find(const struct sw_conf *conf, const char *name)
{
	const struct sw_conf_target	*t;

	for (t = conf->targets; t != NULL; t = t->next)
		if (t->name != NULL && strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

const char *
sw_target_kind_name(enum sw_target_kind kind)
{
	switch (kind) {
	case SW_TARGET_ENDPOINT:
		return "endpoint";
	case SW_TARGET_PROCESS:
		return "process";
	case SW_TARGET_SCRAPE:
		return "scrape";
	case SW_TARGET_SELF:
		return "self";
	}
	return "unknown";
}

const char *
sw_severity_name(enum sw_severity sev)
{
	switch (sev) {
	case SW_SEV_INFO:
		return "info";
	case SW_SEV_WARNING:
		return "warning";
	case SW_SEV_CRITICAL:
		return "critical";
	}
	return "unknown";
}
