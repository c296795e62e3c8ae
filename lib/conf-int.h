/*
 * conf-int.h: what the pieces of the config parser share (lib/conf-lex.c,
 * lib/conf.c, lib/conf-print.c). Not a public header: nothing outside these
 * files includes it.
 */
#ifndef SW_CONF_INT_H
#define SW_CONF_INT_H

#include <stddef.h>

#include "slopewatch/conf.h"

#define CONF_MAX_FILE		(4 * 1024 * 1024)	/* bytes per file */
#define CONF_MAX_TOKEN		(64 * 1024)	/* bytes per word or string */
#define CONF_MAX_ERRORS		200
#define CONF_MAX_INCLUDE_DEPTH	8

enum conf_tok_type {
	CT_WORD = 0,	/* bare word */
	CT_STRING,	/* quoted string, escapes done */
	CT_LBRACE,
	CT_RBRACE,
	CT_SEMI,
	CT_NL,
	CT_COMMA,
	CT_EOF,
};

struct conf_tok {
	enum conf_tok_type	 type;
	char			*text;	/* new, NUL-terminated (WORD/STRING only) */
	size_t			 len;
	struct sw_loc		 loc;
};

struct conf_parse;

struct conf_lex {
	struct conf_parse	*ps;		/* for errors */
	const char		*file;		/* loc.file, owned by the conf */
	const char		*p, *end;
	const char		*bol;		/* start of the current line */
	int			 line;
	struct conf_tok		 peek;
	int			 has_peek;
};

/* Error at loc (file, line, col); counts it and calls the diag callback. */
void	conf_error(struct conf_parse *ps, const struct sw_loc *loc,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Quoted, escaped, shortened copy of a token's text for messages. */
const char *conf_quote(char *dst, size_t dstsz, const char *s, size_t n);

void	conf_lex_init(struct conf_lex *lx, struct conf_parse *ps,
	    const char *file, const char *text, size_t len);
void	conf_lex_release(struct conf_lex *lx);
/* Next token (the caller owns tok->text: conf_tok_release). Lexical errors
 * are reported and the lexer goes on. Returns -1 only when memory is short
 * (reported too; the token is then CT_EOF). */
int	conf_lex_next(struct conf_lex *lx, struct conf_tok *tok);
/* Looks at the next token without taking it (borrowed). */
const struct conf_tok *conf_lex_peek(struct conf_lex *lx);
/* Reads a rule expression: from the next non-blank byte to an unnested ';',
 * the end of the line, an unnested '}' or a comment, trailing blanks
 * trimmed. Must be called with nothing peeked. tok->type is CT_WORD and
 * tok->text the text ("" when empty; loc is then where it was expected). */
int	conf_lex_expr(struct conf_lex *lx, struct conf_tok *tok);
void	conf_tok_release(struct conf_tok *tok);

#endif
