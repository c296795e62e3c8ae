#include "config.h"
/*
 * err.c: the caller-owned error record. First error wins; nothing allocated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "slopewatch/err.h"

void
sw_err_clear(struct sw_err *err)
{
	if (err == NULL)
		return;
	err->set = 0;
	err->msg[0] = '\0';
}

static void err_vset(struct sw_err *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
err_vset(struct sw_err *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	err->set = 1;
}

int
sw_err_set(struct sw_err *err, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || err->set)
		return -1;
	va_start(ap, fmt);
	err_vset(err, fmt, ap);
	va_end(ap);
	return -1;
}

int
sw_err_sys(struct sw_err *err, int errnum, const char *fmt, ...)
{
	va_list	ap;
	size_t	len;

	if (err == NULL || err->set)
		return -1;
	va_start(ap, fmt);
	err_vset(err, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	if (len < sizeof(err->msg))
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
		    strerror(errnum));
	return -1;
}
