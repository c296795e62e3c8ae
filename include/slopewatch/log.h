/*
 * log.h: levelled logging to stderr, one line per message, journald-friendly
 * ("<N>" priority prefixes when stderr is the journal, else a plain level
 * word). Text that came from outside must pass through sw_log_escape first.
 * struct sw_complain rate-limits a failure that repeats: logged once, then
 * with backoff, then "recovered" once.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stddef.h>
#include <stdint.h>

enum sw_log_level {
	SW_LOG_ERROR = 0,
	SW_LOG_WARN,
	SW_LOG_INFO,
	SW_LOG_DEBUG,
};

void	sw_log_set_level(enum sw_log_level level);
enum sw_log_level sw_log_get_level(void);
void	sw_log(enum sw_log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define sw_log_error(...)	sw_log(SW_LOG_ERROR, __VA_ARGS__)
#define sw_log_warn(...)	sw_log(SW_LOG_WARN, __VA_ARGS__)
#define sw_log_info(...)	sw_log(SW_LOG_INFO, __VA_ARGS__)
#define sw_log_debug(...)	sw_log(SW_LOG_DEBUG, __VA_ARGS__)

/* Copies src (n bytes) into dst (size dstsz, always NUL-terminated) with
 * control characters, quotes and backslashes escaped C-style and the result
 * truncated with "..." if needed. Returns dst. */
char	*sw_log_escape(char *dst, size_t dstsz, const char *src, size_t n);

/* A failure that repeats. Zero-initialise. */
struct sw_complain {
	int64_t	 last_us;	/* when it was last logged */
	int64_t	 interval_us;	/* current backoff; doubles up to 1 h */
	unsigned long count;	/* failures since the last log line */
	int	 failing;
	int	 loud;		/* set: log at ERROR instead of WARN */
};

/* Logs the failure at WARN (ERROR when c->loud) if it is new or the backoff
 * has passed. */
void	sw_complain(struct sw_complain *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Logs "recovered" once at INFO if c was failing; resets it. */
void	sw_complain_release(struct sw_complain *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
