#include "config.h"
/*
 * buf.c: the bounded growable buffer. Invariants: len < cap whenever data is
 * not NULL, data[len] == '\0', len <= max. A failed append changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slopewatch/buf.h"
#include "slopewatch/err.h"

void
sw_buf_init(struct sw_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
sw_buf_release(struct sw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
sw_buf_reset(struct sw_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Makes room for n more bytes plus the NUL. */
static int
buf_grow(struct sw_buf *b, size_t n)
{
	size_t	 need, cap;
	char	*p;

	if (n > b->max || b->len > b->max - n) {
		errno = EMSGSIZE;
		return -1;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	if ((p = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
sw_buf_add(struct sw_buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
sw_buf_adds(struct sw_buf *b, const char *s)
{
	return sw_buf_add(b, s, strlen(s));
}

int
sw_buf_addc(struct sw_buf *b, char c)
{
	return sw_buf_add(b, &c, 1);
}

int
sw_buf_vaddf(struct sw_buf *b, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_grow(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
sw_buf_addf(struct sw_buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = sw_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *
sw_buf_str(const struct sw_buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
sw_buf_detach(struct sw_buf *b)
{
	char	*p;

	if (b->data == NULL)
		return strdup("");
	p = b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

static int
buf_read_fd(struct sw_buf *b, int fd, const char *path, struct sw_err *err)
{
	char	chunk[8192];
	ssize_t	n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sw_err_sys(err, errno, "%s: read", path);
		}
		if (sw_buf_add(b, chunk, (size_t)n) == -1) {
			errno = EMSGSIZE;
			return sw_err_set(err, "%s: larger than %zu bytes", path,
			    b->max);
		}
	}
}

int
sw_buf_read_fileat(struct sw_buf *b, int dirfd, const char *path,
    struct sw_err *err)
{
	struct stat	st;
	int		fd, r, saved;

	/* non-blocking open and regular files only: a FIFO or a device
	 * named by a user (a pidfile, a secret) must not stall the loop */
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return sw_err_sys(err, errno, "%s", path);
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return sw_err_sys(err, saved, "%s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return sw_err_set(err, "%s: not a regular file", path);
	}
	r = buf_read_fd(b, fd, path, err);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int
sw_buf_read_file(struct sw_buf *b, const char *path, struct sw_err *err)
{
	return sw_buf_read_fileat(b, AT_FDCWD, path, err);
}
