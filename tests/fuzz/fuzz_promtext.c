#include "config.h"
/*
 * fuzz_promtext.c: libFuzzer target for the Prometheus text parser. The input
 * goes to sw_prom_parse as raw bytes of exactly its size (no NUL after it), so
 * ASan catches any read past len. The callback touches every field so that
 * an unterminated string or a wild pointer in a sample shows up too. Seed
 * corpus: tests/fuzz/corpus-promtext/ (also replayed by test_promtext).
 *
 *   ../configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_promtext
 *   ./tests/fuzz/fuzz_promtext -max_total_time=60 corpus-copy/
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "slopewatch/err.h"
#include "slopewatch/promtext.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_cb(const struct sw_prom_sample *s, void *arg)
{
	size_t	*sum = arg;

	*sum += strlen(s->name) + strlen(s->labels) + strlen(s->family);
	*sum += (size_t)s->nlabels + (size_t)s->legacy + (size_t)s->type;
	if (s->value != s->value)	/* NaN */
		(*sum)++;
	if (s->has_ts)
		*sum += (size_t)(s->ts_ms & 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_err	err;
	size_t		sum = 0;
	int		n;

	sw_err_clear(&err);
	n = sw_prom_parse((const char *)data, size, fuzz_cb, &sum, &err);
	/* an error always says where */
	if (n == -1 && (!err.set || strncmp(err.msg, "line ", 5) != 0))
		__builtin_trap();
	return 0;
}
