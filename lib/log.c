#include "config.h"
/*
 * log.c: levelled logging to stderr. Under systemd (JOURNAL_STREAM names our
 * stderr) lines carry sd-daemon "<N>" priority prefixes and no timestamp, as
 * journald adds its own; elsewhere a UTC timestamp and a level word. One
 * write(2) per line so lines from a dying process are never interleaved.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "slopewatch/clock.h"
#include "slopewatch/log.h"

static enum sw_log_level log_level = SW_LOG_INFO;
static int	log_journal = -1;	/* -1 not yet known */

static const char *const level_words[] = { "error", "warn", "info", "debug" };
static const int level_prio[] = { 3, 4, 6, 7 };

void
sw_log_set_level(enum sw_log_level level)
{
	log_level = level;
}

enum sw_log_level
sw_log_get_level(void)
{
	return log_level;
}

static int
log_is_journal(void)
{
	const char		*js;
	struct stat		 st;
	unsigned long long	 dev, ino;

	if ((js = getenv("JOURNAL_STREAM")) == NULL)
		return 0;
	if (sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
sw_log(enum sw_log_level level, const char *fmt, ...)
{
	char		line[2048];
	size_t		n = 0;
	va_list		ap;
	int		r, saved = errno;
	int64_t		ms;
	time_t		secs;
	struct tm	tm;

	if (level > log_level)
		return;
	if (log_journal == -1)
		log_journal = log_is_journal();
	if (log_journal) {
		r = snprintf(line, sizeof(line), "<%d>", level_prio[level]);
	} else {
		ms = sw_clock_wall_ms();
		secs = (time_t)(ms / 1000);
		gmtime_r(&secs, &tm);
		r = snprintf(line, sizeof(line),
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s: ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)(ms % 1000), level_words[level]);
	}
	if (r > 0)
		n = (size_t)r < sizeof(line) ? (size_t)r : sizeof(line) - 1;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	while (write(STDERR_FILENO, line, n) == -1 && errno == EINTR)
		;
	errno = saved;
}

char *
sw_log_escape(char *dst, size_t dstsz, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i, o = 0;
	unsigned char	c;
	char		tmp[4];
	size_t		tn;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < n; i++) {
		c = (unsigned char)src[i];
		tn = 0;
		if (c == '\n') {
			tmp[tn++] = '\\'; tmp[tn++] = 'n';
		} else if (c == '\r') {
			tmp[tn++] = '\\'; tmp[tn++] = 'r';
		} else if (c == '\t') {
			tmp[tn++] = '\\'; tmp[tn++] = 't';
		} else if (c == '\\' || c == '"') {
			tmp[tn++] = '\\'; tmp[tn++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			tmp[tn++] = '\\'; tmp[tn++] = 'x';
			tmp[tn++] = hex[c >> 4]; tmp[tn++] = hex[c & 15];
		} else
			tmp[tn++] = (char)c;
		if (o + tn + 1 > dstsz) {
			/* truncate, leaving room for "..." */
			if (dstsz >= 4) {
				o = o > dstsz - 4 ? dstsz - 4 : o;
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, tmp, tn);
		o += tn;
	}
	dst[o < dstsz ? o : dstsz - 1] = '\0';
	return dst;
}

#define COMPLAIN_MIN_US		(60LL * 1000000)
#define COMPLAIN_MAX_US		(3600LL * 1000000)

void
sw_complain(struct sw_complain *c, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;
	int64_t	now = sw_clock_mono_us();

	c->count++;
	if (c->failing && now - c->last_us < c->interval_us)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->failing && c->count > 1)
		sw_log(c->loud ? SW_LOG_ERROR : SW_LOG_WARN,
		    "%s (%lu times since last report)", msg, c->count);
	else
		sw_log(c->loud ? SW_LOG_ERROR : SW_LOG_WARN, "%s", msg);
	if (!c->failing)
		c->interval_us = COMPLAIN_MIN_US;
	else if (c->interval_us < COMPLAIN_MAX_US)
		c->interval_us *= 2;
	c->failing = 1;
	c->last_us = now;
	c->count = 0;
}

void
sw_complain_release(struct sw_complain *c, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	if (!c->failing)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sw_log_info("%s", msg);
	c->failing = 0;
	c->count = 0;
	c->interval_us = 0;
}
