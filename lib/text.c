#include "config.h"
/*
 * text.c: edit distance and closest-candidate search for "did you mean"
 * hints (lib/conf.c, lib/expr.c, agent/cmd-show.c).
 *
 * Invariants: nothing allocates; the distance uses one row on the stack, so
 * strings are capped (SW_TEXT_DIST_MAX) and a longer one is "infinitely"
 * far rather than cut; case folding is ASCII only (no locale).
 */
#include <string.h>

#include "slopewatch/text.h"

static int
text_lower(int c, int flags)
{
	if ((flags & SW_TEXT_FOLD) && c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	return c;
}

size_t
sw_text_distance(const char *a, size_t la, const char *b, size_t lb,
    int flags)
{
	size_t	row[SW_TEXT_DIST_MAX + 1], i, j, prev, cur, best;

	if (la > SW_TEXT_DIST_MAX || lb > SW_TEXT_DIST_MAX)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];		/* row i-1, column j-1 */
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = row[j];	/* row i-1, column j */
			best = prev + (text_lower((unsigned char)a[i - 1],
			    flags) != text_lower((unsigned char)b[j - 1],
			    flags));
			if (cur + 1 < best)
				best = cur + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

void
sw_text_suggest_init(struct sw_text_suggest *sg, const char *word, int flags)
{
	sg->word = word;
	sg->best = NULL;
	sg->dist = (size_t)-1;
	sg->flags = flags;
}

void
sw_text_suggest_try(struct sw_text_suggest *sg, const char *cand)
{
	size_t	la, lb, d;

	if (cand == NULL)
		return;
	if ((sg->flags & SW_TEXT_SKIP_SAME) && strcmp(cand, sg->word) == 0)
		return;
	la = strlen(sg->word);
	lb = strlen(cand);
	if (la > SW_TEXT_SUGGEST_MAX || lb > SW_TEXT_SUGGEST_MAX)
		return;
	d = sw_text_distance(sg->word, la, cand, lb, sg->flags);
	if (d < sg->dist) {
		sg->dist = d;
		sg->best = cand;
	}
}
