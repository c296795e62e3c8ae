#include "config.h"
/*
 * test_text.c: the edit distance and closest-candidate search of text.h
 * (the "did you mean" hints of the config, rule expressions and show):
 * distances, case folding, length caps, first-wins ties and skipping the
 * word itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slopewatch/text.h"

static size_t
dist(const char *a, const char *b, int flags)
{
	return sw_text_distance(a, strlen(a), b, strlen(b), flags);
}

static void
test_distance(void **state)
{
	(void)state;
	assert_int_equal(dist("", "", 0), 0);
	assert_int_equal(dist("", "abc", 0), 3);
	assert_int_equal(dist("abc", "", 0), 3);
	assert_int_equal(dist("every", "every", 0), 0);
	assert_int_equal(dist("evrey", "every", 0), 2);	/* a swap is 2 */
	assert_int_equal(dist("evry", "every", 0), 1);
	assert_int_equal(dist("everyy", "every", 0), 1);
	assert_int_equal(dist("kitten", "sitting", 0), 3);
	assert_int_equal(dist("flaw", "lawn", 0), 2);
	/* symmetric */
	assert_int_equal(dist("sitting", "kitten", 0), 3);
	/* case */
	assert_int_equal(dist("Every", "every", 0), 1);
	assert_int_equal(dist("EVERY", "every", SW_TEXT_FOLD), 0);
	/* folding is ASCII only: bytes above 127 compare as they are */
	assert_int_equal(dist("\xc3\x89", "\xc3\xa9", SW_TEXT_FOLD), 1);
	/* only the given lengths are read */
	assert_int_equal(sw_text_distance("abcXYZ", 3, "abc", 3, 0), 0);
}

static void
test_distance_cap(void **state)
{
	char	a[SW_TEXT_DIST_MAX + 2], b[SW_TEXT_DIST_MAX + 2];

	(void)state;
	memset(a, 'a', sizeof(a));
	memset(b, 'a', sizeof(b));
	a[SW_TEXT_DIST_MAX] = '\0';
	b[SW_TEXT_DIST_MAX] = '\0';
	b[0] = 'b';
	/* at the cap: measured */
	assert_int_equal(dist(a, b, 0), 1);
	assert_int_equal(dist(a, "", 0), SW_TEXT_DIST_MAX);
	/* over it: too far to say */
	a[SW_TEXT_DIST_MAX] = 'a';
	a[SW_TEXT_DIST_MAX + 1] = '\0';
	assert_true(dist(a, b, 0) == (size_t)-1);
	assert_true(dist(b, a, 0) == (size_t)-1);
}

static void
test_suggest(void **state)
{
	struct sw_text_suggest	sg;

	(void)state;
	sw_text_suggest_init(&sg, "evry", 0);
	assert_null(sg.best);
	assert_true(sg.dist == (size_t)-1);
	sw_text_suggest_try(&sg, NULL);
	assert_null(sg.best);
	sw_text_suggest_try(&sg, "timeout");
	assert_string_equal(sg.best, "timeout");
	sw_text_suggest_try(&sg, "every");
	assert_string_equal(sg.best, "every");
	assert_int_equal(sg.dist, 1);
	/* a tie keeps the first */
	sw_text_suggest_try(&sg, "very");
	assert_string_equal(sg.best, "every");
	/* closer wins */
	sw_text_suggest_try(&sg, "evry");
	assert_string_equal(sg.best, "evry");
	assert_int_equal(sg.dist, 0);
}

static void
test_suggest_flags(void **state)
{
	struct sw_text_suggest	sg;

	(void)state;
	/* the word itself is skipped, not a hint to itself */
	sw_text_suggest_init(&sg, "p50", SW_TEXT_SKIP_SAME);
	sw_text_suggest_try(&sg, "p50");
	assert_null(sg.best);
	sw_text_suggest_try(&sg, "p90");
	assert_string_equal(sg.best, "p90");
	assert_int_equal(sg.dist, 1);

	/* folded: a case difference is no difference */
	sw_text_suggest_init(&sg, "URL", SW_TEXT_FOLD);
	sw_text_suggest_try(&sg, "urls");
	sw_text_suggest_try(&sg, "url");
	assert_string_equal(sg.best, "url");
	assert_int_equal(sg.dist, 0);
}

static void
test_suggest_long(void **state)
{
	struct sw_text_suggest	sg;
	char			w[SW_TEXT_SUGGEST_MAX + 2];

	(void)state;
	memset(w, 'x', sizeof(w));
	w[SW_TEXT_SUGGEST_MAX] = '\0';
	sw_text_suggest_init(&sg, w, 0);
	sw_text_suggest_try(&sg, "xx");
	assert_non_null(sg.best);
	/* a word over the cap is close to nothing */
	w[SW_TEXT_SUGGEST_MAX] = 'x';
	w[SW_TEXT_SUGGEST_MAX + 1] = '\0';
	sw_text_suggest_init(&sg, w, 0);
	sw_text_suggest_try(&sg, "xx");
	assert_null(sg.best);
	/* nor is a candidate over it */
	sw_text_suggest_init(&sg, "xx", 0);
	sw_text_suggest_try(&sg, w);
	assert_null(sg.best);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_distance_cap),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_suggest_flags),
		cmocka_unit_test(test_suggest_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
