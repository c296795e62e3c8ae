#include "config.h"
/*
 * clock.c: the two clocks, and a fake for tests. Monotonic microseconds for
 * scheduling, wall-clock milliseconds for what is stored.
 */
#include <time.h>

#include "slopewatch/clock.h"

static int	fake;
static int64_t	fake_mono_us;
static int64_t	fake_wall_ms;

int64_t
sw_clock_mono_us(void)
{
	struct timespec	ts;

	if (fake)
		return fake_mono_us;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
sw_clock_wall_ms(void)
{
	struct timespec	ts;

	if (fake)
		return fake_wall_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sw_clock_set_fake(int64_t mono_us, int64_t wall_ms)
{
	fake = mono_us >= 0;
	fake_mono_us = mono_us;
	fake_wall_ms = wall_ms;
}

void
sw_clock_advance_us(int64_t us)
{
	fake_mono_us += us;
	fake_wall_ms += us / 1000;
}
