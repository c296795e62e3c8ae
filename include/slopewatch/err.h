/*
 * err.h: the one error type. Functions return 0 on success and -1 on failure
 * and fill an optional caller-owned struct sw_err. The first error wins: later
 * calls to sw_err_set on an already set error do nothing, so the innermost,
 * most precise message survives. Nothing is allocated on the error path.
 */
#ifndef SW_ERR_H
#define SW_ERR_H

#include <stddef.h>

#define SW_ERR_MAX 512

struct sw_err {
	int	set;
	char	msg[SW_ERR_MAX];
};

/* Clears err (may be NULL). */
void	sw_err_clear(struct sw_err *err);

/* Sets err's message once (first error wins); err may be NULL. Returns -1
 * so callers can write `return sw_err_set(err, ...)`. */
int	sw_err_set(struct sw_err *err, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Like sw_err_set, appending ": strerror(errnum)". */
int	sw_err_sys(struct sw_err *err, int errnum, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
