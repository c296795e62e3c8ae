#include "config.h"
/*
 * source-self.c: the agent watches itself like any other target, as the
 * built-in target "slopewatch": rss (bytes), cpu (seconds per second) and
 * the store's size. A leak detector must not leak; this is how users see it.
 */
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/err.h"
#include "slopewatch/source.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

struct self {
	int64_t	last_cpu_us;
	int64_t	last_mono_us;
};

static int
self_init(struct sw_target *t, struct sw_err *err)
{
	if ((t->impl = calloc(1, sizeof(struct self))) == NULL)
		return sw_err_set(err, "out of memory");
	return 0;
}

static int
self_rss(double *out)
{
	struct sw_buf		 b;
	unsigned long long	 size, resident;
	int			 r = -1;

	sw_buf_init(&b, 4096);
	if (sw_buf_read_file(&b, "/proc/self/statm", NULL) == 0 &&
	    sscanf(sw_buf_str(&b), "%llu %llu", &size, &resident) == 2) {
		*out = (double)resident * (double)sysconf(_SC_PAGESIZE);
		r = 0;
	}
	sw_buf_release(&b);
	return r;
}

static void
self_collect(struct sw_target *t)
{
	struct self		*s = t->impl;
	const struct sw_sink	*k = &t->ctx->sink;
	struct rusage		 ru;
	int64_t			 now = sw_clock_wall_ms(), mono = sw_clock_mono_us();
	int64_t			 cpu_us, size;
	double			 rss;
	const char		*name = t->conf->name;

	if (self_rss(&rss) == 0)
		k->sample(k->arg, name, "rss", "", sw_unit_name(SW_UNIT_BYTES),
		    now, rss);
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		cpu_us = (int64_t)ru.ru_utime.tv_sec * 1000000 +
		    ru.ru_utime.tv_usec + (int64_t)ru.ru_stime.tv_sec * 1000000 +
		    ru.ru_stime.tv_usec;
		if (s->last_mono_us != 0 && mono > s->last_mono_us)
			k->sample(k->arg, name, "cpu", "",
			    sw_unit_name(SW_UNIT_PER_S), now,
			    (double)(cpu_us - s->last_cpu_us) /
			    (double)(mono - s->last_mono_us));
		s->last_cpu_us = cpu_us;
		s->last_mono_us = mono;
	}
	if (t->ctx->store != NULL && (size = sw_store_size(t->ctx->store)) >= 0)
		k->sample(k->arg, name, "store_bytes", "",
		    sw_unit_name(SW_UNIT_BYTES), now, (double)size);
	t->pid = (long)getpid();
	sw_target_done(t, 1, NULL);
}

static void
self_free(struct sw_target *t)
{
	free(t->impl);
	t->impl = NULL;
}

const struct sw_source_ops sw_source_self = {
	"self", self_init, self_collect, self_free,
};
