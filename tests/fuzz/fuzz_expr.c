#include "config.h"
/*
 * fuzz_expr.c: libFuzzer target for the rule expression parser
 * (lib/expr.c). Any input is parsed twice, with and without a conf, as a
 * condition and as a value. It must never crash, leak or overflow, and
 * whatever parses must print to a text that parses to the same tree (the
 * printed form printed again is the same), or the target aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slopewatch/conf.h"
#include "slopewatch/expr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sw_conf_target t_webm = {
	.name = "webm", .kind = SW_TARGET_SCRAPE, .next = NULL
};
static struct sw_conf_target t_web = {
	.name = "web", .kind = SW_TARGET_PROCESS, .next = &t_webm
};
static struct sw_conf_target t_checkout = {
	.name = "checkout", .kind = SW_TARGET_ENDPOINT, .next = &t_web
};
static struct sw_conf fuzz_conf = { .targets = &t_checkout };

static void
diag_count(const struct sw_loc *loc, const char *msg, void *arg)
{
	int	*n = arg;

	if (loc == NULL || msg == NULL || *msg == '\0')
		abort();
	(*n)++;
}

static void
roundtrip(const char *text, const struct sw_conf *conf, int flags)
{
	struct sw_expr	*e, *e2;
	char		*s, *s2, *full, *full2;
	int		 nerr, ndiag = 0;

	e = sw_expr_parse(text, NULL, conf, flags, diag_count, &ndiag, &nerr);
	if ((e == NULL) != (nerr > 0) || ndiag != (nerr > SW_EXPR_MAX_ERRORS ?
	    SW_EXPR_MAX_ERRORS : nerr))
		abort();
	if (e == NULL)
		return;
	s = sw_expr_format(e);
	full = sw_expr_format_full(e);
	if (s == NULL || full == NULL)
		abort();
	e2 = sw_expr_parse(s, NULL, conf, flags, NULL, NULL, &nerr);
	if (e2 == NULL)
		abort();
	s2 = sw_expr_format(e2);
	full2 = sw_expr_format_full(e2);
	if (s2 == NULL || full2 == NULL || strcmp(s, s2) != 0 ||
	    strcmp(full, full2) != 0 || e->type != e2->type ||
	    e->unit != e2->unit)
		abort();
	free(s);
	free(s2);
	free(full);
	free(full2);
	sw_expr_free(e);
	sw_expr_free(e2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text;

	if (size > 2 * SW_EXPR_MAX_LEN)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	roundtrip(text, &fuzz_conf, SW_EXPR_CONDITION);
	roundtrip(text, NULL, 0);
	free(text);
	return 0;
}
