/*
 * buf.h: the one growable byte buffer. Every buffer has a maximum fixed at
 * init; an append that would pass it fails (returns -1) and leaves the buffer
 * as it was, so a peer can never make us allocate without bound. The data is
 * always NUL-terminated (the NUL is not counted in len, and fits in max).
 */
#ifndef SW_BUF_H
#define SW_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct sw_buf {
	char	*data;	/* NULL until the first append; then NUL-terminated */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* most bytes it may hold, NUL excluded */
};

/* Caller storage; no allocation until the first append. */
void	sw_buf_init(struct sw_buf *b, size_t max);
/* Frees the data; b may be reused after sw_buf_init. */
void	sw_buf_release(struct sw_buf *b);
/* Empties b, keeping its allocation. */
void	sw_buf_reset(struct sw_buf *b);
/* Append; -1 (b unchanged) when it would pass max or memory is short. */
int	sw_buf_add(struct sw_buf *b, const void *p, size_t n);
int	sw_buf_adds(struct sw_buf *b, const char *s);
int	sw_buf_addc(struct sw_buf *b, char c);
int	sw_buf_addf(struct sw_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	sw_buf_vaddf(struct sw_buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* Returns the text ("" when empty); borrowed, valid until the next change. */
const char *sw_buf_str(const struct sw_buf *b);
/* Hands the data to the caller (new, free() it; "" alloc'd when empty) and
 * resets b. NULL on allocation failure. */
char	*sw_buf_detach(struct sw_buf *b);

/* Reads a whole regular file into b (appending), failing if it passes
 * b->max. Opened non-blocking; anything but a regular file (a FIFO, a device)
 * fails with EINVAL so a user-named path can never stall the loop. */
struct sw_err;
int	sw_buf_read_file(struct sw_buf *b, const char *path, struct sw_err *err);
/* Same for a file relative to a directory fd (see openat(2)). Returns -1 with
 * errno preserved so callers can tell ENOENT/ESRCH (process gone) apart. */
int	sw_buf_read_fileat(struct sw_buf *b, int dirfd, const char *path,
	    struct sw_err *err);

#endif
