#include "config.h"
/*
 * conf-lex.c: the tokenizer of slopewatch.conf(5).
 *
 * Tokens: bare words (anything but blanks, ; { } " ' , and newline), double
 * quoted strings with \" \\ \n \t escapes, single quoted literal strings,
 * and the punctuation { } ; , and newline (a newline ends a statement, so
 * it is a token). A '#' that begins a token starts a comment to the end of
 * the line; inside a word it is part of the word (URLs keep their
 * fragments). Rule expressions are read raw by conf_lex_expr.
 *
 * Invariants: every token carries the 1-based line and byte column of its
 * first byte; the lexer never reads past end (the text need not be
 * NUL-terminated); strings never span lines, so an unterminated string
 * costs one line, not the rest of the file.
 */
#include <stdlib.h>
#include <string.h>

#include "slopewatch/buf.h"
#include "slopewatch/log.h"

#include "conf-int.h"

void
conf_lex_init(struct conf_lex *lx, struct conf_parse *ps, const char *file,
    const char *text, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->ps = ps;
	lx->file = file;
	lx->p = text;
	lx->end = text + len;
	lx->bol = text;
	lx->line = 1;
}

void
conf_tok_release(struct conf_tok *tok)
{
	free(tok->text);
	tok->text = NULL;
	tok->len = 0;
}

void
conf_lex_release(struct conf_lex *lx)
{
	if (lx->has_peek)
		conf_tok_release(&lx->peek);
	lx->has_peek = 0;
}

static void
lex_loc(const struct conf_lex *lx, const char *at, struct sw_loc *loc)
{
	loc->file = lx->file;
	loc->line = lx->line;
	loc->col = (int)(at - lx->bol) + 1;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int
is_word_char(char c)
{
	return !is_blank(c) && c != '\n' && c != ';' && c != '{' && c != '}' &&
	    c != '"' && c != '\'' && c != ',' && c != '\0';
}

static int
lex_oom(struct conf_lex *lx, struct conf_tok *tok)
{
	struct sw_loc	loc;

	lex_loc(lx, lx->p, &loc);
	conf_error(lx->ps, &loc, "out of memory");
	tok->type = CT_EOF;
	tok->text = NULL;
	lx->p = lx->end;
	return -1;
}

/* A quoted string starting at lx->p (the quote). */
static int
lex_string(struct conf_lex *lx, struct conf_tok *tok)
{
	struct sw_buf	 b;
	char		 q = *lx->p, c;
	struct sw_loc	 eloc;
	const char	*esc;

	sw_buf_init(&b, CONF_MAX_FILE);
	lx->p++;
	for (;;) {
		if (lx->p == lx->end || *lx->p == '\n') {
			conf_error(lx->ps, &tok->loc,
			    "unterminated string (expected a closing %s "
			    "before the end of the line)",
			    q == '"' ? "'\"'" : "\"'\"");
			break;
		}
		c = *lx->p;
		if (c == q) {
			lx->p++;
			break;
		}
		if (c == '\\' && q == '"') {
			esc = lx->p;
			if (esc + 1 == lx->end || esc[1] == '\n') {
				lx->p++;
				continue;	/* unterminated, said above */
			}
			switch (esc[1]) {
			case '"':
			case '\\':
				c = esc[1];
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			default:
				lex_loc(lx, esc, &eloc);
				if ((unsigned char)esc[1] >= 0x20 &&
				    (unsigned char)esc[1] < 0x7f)
					conf_error(lx->ps, &eloc, "unknown escape "
					    "\"\\%c\" in string (expected \\\", "
					    "\\\\, \\n or \\t)", esc[1]);
				else
					conf_error(lx->ps, &eloc, "unknown escape "
					    "in string (expected \\\", \\\\, \\n "
					    "or \\t)");
				c = esc[1];
				break;
			}
			lx->p += 2;
		} else if (c == '\0') {
			lex_loc(lx, lx->p, &eloc);
			conf_error(lx->ps, &eloc, "unexpected NUL byte in string");
			lx->p++;
			continue;
		} else
			lx->p++;
		if (sw_buf_addc(&b, c) == -1) {
			sw_buf_release(&b);
			return lex_oom(lx, tok);
		}
	}
	tok->type = CT_STRING;
	tok->len = b.len;
	if ((tok->text = sw_buf_detach(&b)) == NULL)
		return lex_oom(lx, tok);
	return 0;
}

int
conf_lex_next(struct conf_lex *lx, struct conf_tok *tok)
{
	const char	*start;
	char		 c;

	if (lx->has_peek) {
		*tok = lx->peek;
		lx->has_peek = 0;
		memset(&lx->peek, 0, sizeof(lx->peek));
		return 0;
	}
	memset(tok, 0, sizeof(*tok));
	for (;;) {
		while (lx->p < lx->end && is_blank(*lx->p))
			lx->p++;
		lex_loc(lx, lx->p, &tok->loc);
		if (lx->p == lx->end) {
			tok->type = CT_EOF;
			return 0;
		}
		c = *lx->p;
		if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (c == '\0') {
			conf_error(lx->ps, &tok->loc, "unexpected NUL byte");
			lx->p++;
			continue;
		}
		break;
	}
	switch (c) {
	case '\n':
		tok->type = CT_NL;
		lx->p++;
		lx->line++;
		lx->bol = lx->p;
		return 0;
	case '{':
		tok->type = CT_LBRACE;
		lx->p++;
		return 0;
	case '}':
		tok->type = CT_RBRACE;
		lx->p++;
		return 0;
	case ';':
		tok->type = CT_SEMI;
		lx->p++;
		return 0;
	case ',':
		tok->type = CT_COMMA;
		lx->p++;
		return 0;
	case '"':
	case '\'':
		return lex_string(lx, tok);
	}
	start = lx->p;
	while (lx->p < lx->end && is_word_char(*lx->p))
		lx->p++;
	tok->type = CT_WORD;
	tok->len = (size_t)(lx->p - start);
	if ((tok->text = strndup(start, tok->len)) == NULL)
		return lex_oom(lx, tok);
	return 0;
}

const struct conf_tok *
conf_lex_peek(struct conf_lex *lx)
{
	if (!lx->has_peek) {
		conf_lex_next(lx, &lx->peek);
		lx->has_peek = 1;
	}
	return &lx->peek;
}

#define EXPR_MAX_NEST 64

int
conf_lex_expr(struct conf_lex *lx, struct conf_tok *tok)
{
	char		 stack[EXPR_MAX_NEST];
	int		 depth = 0, extra = 0;
	const char	*start, *last, *p, *qstart;
	char		 c, q;
	struct sw_loc	 qloc;

	memset(tok, 0, sizeof(*tok));
	while (lx->p < lx->end && is_blank(*lx->p))
		lx->p++;
	start = p = lx->p;
	lex_loc(lx, start, &tok->loc);
	while (p < lx->end) {
		c = *p;
		if (c == '\n' || c == '\0')
			break;
		if (c == '#' && (p == start || is_blank(p[-1])))
			break;
		if (c == ';' && depth == 0 && extra == 0)
			break;
		if (c == '"' || c == '\'') {
			q = c;
			qstart = p++;
			while (p < lx->end && *p != q && *p != '\n') {
				if (q == '"' && *p == '\\' && p + 1 < lx->end &&
				    p[1] != '\n')
					p++;
				p++;
			}
			if (p == lx->end || *p == '\n') {
				lex_loc(lx, qstart, &qloc);
				conf_error(lx->ps, &qloc, "unterminated string "
				    "(expected a closing %s before the end of "
				    "the line)", q == '"' ? "'\"'" : "\"'\"");
				break;
			}
			p++;
			continue;
		}
		if (c == '(' || c == '{' || c == '[') {
			if (depth < EXPR_MAX_NEST)
				stack[depth++] = c;
			else
				extra++;
		} else if (c == ')' || c == ']') {
			if (extra > 0)
				extra--;
			else if (depth > 0 &&
			    stack[depth - 1] == (c == ')' ? '(' : '['))
				depth--;
		} else if (c == '}') {
			if (extra > 0)
				extra--;
			else if (depth > 0 && stack[depth - 1] == '{')
				depth--;
			else
				break;	/* closes the rule block */
		}
		p++;
	}
	last = p;
	while (last > start && is_blank(last[-1]))
		last--;
	lx->p = p;
	tok->type = CT_WORD;
	tok->len = (size_t)(last - start);
	if ((tok->text = strndup(start, tok->len)) == NULL)
		return lex_oom(lx, tok);
	return 0;
}
