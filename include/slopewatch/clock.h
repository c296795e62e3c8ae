/*
 * clock.h: time is an integer. Monotonic microseconds schedule and measure;
 * wall-clock milliseconds stamp what is stored. Tests may replace both.
 */
#ifndef SW_CLOCK_H
#define SW_CLOCK_H

#include <stdint.h>

/* Monotonic microseconds (CLOCK_MONOTONIC), or the test clock. */
int64_t	sw_clock_mono_us(void);
/* Wall clock, unix milliseconds (CLOCK_REALTIME), or the test clock. */
int64_t	sw_clock_wall_ms(void);

/* Tests: freeze both clocks at the given values (mono_us < 0 restores the real
 * clocks). sw_clock_advance_us moves both forward. */
void	sw_clock_set_fake(int64_t mono_us, int64_t wall_ms);
void	sw_clock_advance_us(int64_t us);

#endif
