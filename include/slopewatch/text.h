/*
 * text.h: small string helpers shared by the config parser, the rule
 * expression checker and the commands: the edit distance behind every
 * "did you mean" hint, and the search for the closest candidate. Each
 * caller keeps its own policy (how close is close enough, how the hint is
 * worded); only the measuring is shared.
 */
#ifndef SW_TEXT_H
#define SW_TEXT_H

#include <stddef.h>

/* Longest string sw_text_distance measures (bytes). */
#define SW_TEXT_DIST_MAX	256
/* Longest word (and candidate) sw_text_suggest_try compares; longer ones
 * are never close. */
#define SW_TEXT_SUGGEST_MAX	64

/* Flags. */
#define SW_TEXT_FOLD		0x1	/* ASCII letters compare without case */
#define SW_TEXT_SKIP_SAME	0x2	/* suggest: ignore a candidate equal
					   (strcmp) to the word */

/* Levenshtein distance (insert, delete, substitute: 1 each) between the la
 * bytes at a and the lb bytes at b, SW_TEXT_FOLD honoured. Returns
 * (size_t)-1 when la or lb is over SW_TEXT_DIST_MAX. No allocation. */
size_t	sw_text_distance(const char *a, size_t la, const char *b, size_t lb,
	    int flags);

/* The closest candidate to a word so far: the first one at the smallest
 * distance. Caller storage; word and the candidates are borrowed and must
 * outlive it. */
struct sw_text_suggest {
	const char	*word;
	const char	*best;	/* NULL while there is none */
	size_t		 dist;	/* of best; (size_t)-1 while there is none */
	int		 flags;
};

void	sw_text_suggest_init(struct sw_text_suggest *sg, const char *word,
	    int flags);
/* Measures cand (NULL is ignored) and keeps it if it is closer than the
 * best so far. Words or candidates over SW_TEXT_SUGGEST_MAX are never
 * kept. */
void	sw_text_suggest_try(struct sw_text_suggest *sg, const char *cand);

#endif
