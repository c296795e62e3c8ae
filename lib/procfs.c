#include "config.h"
/*
 * procfs.c: reading /proc and cgroup v2 files, the htop way.
 *
 * Invariants:
 * - A process is opened once (ROOT/PID as an O_DIRECTORY fd) and every file
 *   is read relative to that fd: one instance, never a recycled pid. When the
 *   process exits mid-read the read fails with ENOENT or ESRCH, errno is kept
 *   and callers drop the process quietly (sw_procfs_gone).
 * - Every file is read whole into a buffer with a cap (the command line is
 *   cut instead); nothing from /proc makes us allocate without bound.
 * - Numbers are parsed with the checked parsers of units.h; a malformed
 *   field is an error naming the field, never a crash or a guess.
 * - comm is found with strrchr(')') so names with spaces or ')' parse.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slopewatch/buf.h"
#include "slopewatch/err.h"
#include "slopewatch/procfs.h"
#include "slopewatch/units.h"

/* cgroup.procs may list many pids; 1 MiB holds well over 100000. */
#define PROCS_FILE_MAX	(1024 * 1024)

/* Where sw_procfs_open(NULL) looks; tests point it at a fake tree. */
static char default_root[256] = "/proc";

void
sw_procfs_set_default_root(const char *root)
{
	snprintf(default_root, sizeof default_root, "%s",
	    root != NULL ? root : "/proc");
}

int
sw_procfs_gone(int errnum)
{
	return errnum == ENOENT || errnum == ESRCH;
}

/* Parses a decimal integer of the text [s, s+n). */
static int
parse_i64(const char *s, size_t n, int64_t *v)
{
	if (n == 0)
		return -1;
	return sw_parse_int64(s, n, v);
}

static int
parse_u64(const char *s, size_t n, uint64_t *v)
{
	int64_t	x;

	if (parse_i64(s, n, &x) != 0 || x < 0)
		return -1;
	*v = (uint64_t)x;
	return 0;
}

/* Reads btime from the text of ROOT/stat. */
static int
parse_btime(const char *text, int64_t *btime)
{
	const char	*p = text, *eol;

	while (*p != '\0') {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		if (strncmp(p, "btime ", 6) == 0) {
			p += 6;
			while (p < eol && *p == ' ')
				p++;
			return parse_i64(p, (size_t)(eol - p), btime);
		}
		p = (*eol == '\n') ? eol + 1 : eol;
	}
	return -1;
}

int
sw_procfs_open(struct sw_procfs *fs, const char *root, struct sw_err *err)
{
	int64_t	btime;
	int	e;

	memset(fs, 0, sizeof *fs);
	fs->rootfd = -1;
	sw_buf_init(&fs->scratch, SW_PROCFS_FILE_MAX);
	if (root == NULL)
		root = default_root;
	if ((size_t)snprintf(fs->root, sizeof fs->root, "%s", root) >=
	    sizeof fs->root) {
		sw_err_set(err, "%s: path too long", root);
		errno = ENAMETOOLONG;
		return -1;
	}
	fs->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->rootfd == -1) {
		e = errno;
		sw_err_sys(err, e, "%s", root);
		errno = e;
		return -1;
	}
	fs->clk_tck = sysconf(_SC_CLK_TCK);
	if (fs->clk_tck <= 0)
		fs->clk_tck = 100;
	if (sw_buf_read_fileat(&fs->scratch, fs->rootfd, "stat", err) != 0) {
		e = errno;
		sw_procfs_close(fs);
		errno = e;
		return -1;
	}
	/* in range, so that btime_ms and sw_procfs_start_ms cannot overflow */
	if (parse_btime(sw_buf_str(&fs->scratch), &btime) != 0 || btime < 0 ||
	    btime > INT64_MAX / 1000) {
		sw_err_set(err, "%s/stat: no btime line", root);
		sw_procfs_close(fs);
		errno = EINVAL;
		return -1;
	}
	fs->btime_ms = btime * 1000;
	sw_buf_reset(&fs->scratch);
	return 0;
}

void
sw_procfs_close(struct sw_procfs *fs)
{
	if (fs->rootfd != -1)
		close(fs->rootfd);
	fs->rootfd = -1;
	sw_buf_release(&fs->scratch);
	sw_buf_init(&fs->scratch, SW_PROCFS_FILE_MAX);
}

int64_t
sw_procfs_start_ms(const struct sw_procfs *fs, uint64_t starttime)
{
	uint64_t	tck = fs->clk_tck > 0 ? (uint64_t)fs->clk_tck : 100;
	uint64_t	secs = starttime / tck, ms;

	/* starttime comes from /proc: saturate rather than overflow */
	if (secs > (uint64_t)INT64_MAX / 1000)
		return INT64_MAX;
	ms = secs * 1000 + starttime % tck * 1000 / tck;
	if (fs->btime_ms < 0 || ms > (uint64_t)(INT64_MAX - fs->btime_ms))
		return INT64_MAX;
	return fs->btime_ms + (int64_t)ms;
}

int
sw_proc_open(struct sw_procfs *fs, long pid, struct sw_proc *p,
    struct sw_err *err)
{
	char	name[32];
	int	e;

	p->fs = fs;
	p->pid = pid;
	p->dirfd = -1;
	if (pid <= 0) {
		sw_err_set(err, "pid %ld: not a process id", pid);
		errno = ENOENT;
		return -1;
	}
	snprintf(name, sizeof name, "%ld", pid);
	p->dirfd = openat(fs->rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd == -1) {
		e = errno;
		sw_err_sys(err, e, "%s/%s", fs->root, name);
		errno = e;
		return -1;
	}
	return 0;
}

void
sw_proc_close(struct sw_proc *p)
{
	if (p->dirfd != -1)
		close(p->dirfd);
	p->dirfd = -1;
}

/* Reads ROOT/PID/name into the root's scratch buffer. */
static int
read_at(struct sw_proc *p, const char *name, struct sw_err *err)
{
	struct sw_buf	*b = &p->fs->scratch;
	struct sw_err	 e2;
	int		 e;

	sw_buf_reset(b);
	sw_err_clear(&e2);
	if (sw_buf_read_fileat(b, p->dirfd, name, &e2) != 0) {
		e = errno;
		sw_err_set(err, "%s/%ld/%s: %s", p->fs->root, p->pid, name,
		    e2.set ? e2.msg : strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

int
sw_procfs_parse_stat(const char *text, size_t len, struct sw_proc_stat *st,
    struct sw_err *err)
{
	const char	*open_p, *close_p, *p, *end = text + len, *tok;
	size_t		 n;
	int64_t		 v;
	int		 field;

	memset(st, 0, sizeof *st);
	open_p = memchr(text, '(', len);
	close_p = NULL;
	for (p = end; p > text; p--) {
		if (p[-1] == ')') {
			close_p = p - 1;
			break;
		}
	}
	if (open_p == NULL || close_p == NULL || close_p < open_p) {
		sw_err_set(err, "stat: no (comm)");
		errno = EINVAL;
		return -1;
	}
	n = (size_t)(open_p - text);
	while (n > 0 && text[n - 1] == ' ')
		n--;
	if (parse_i64(text, n, &v) != 0 || v <= 0 || v > LONG_MAX) {
		sw_err_set(err, "stat: field 1 (pid) is not a pid");
		errno = EINVAL;
		return -1;
	}
	st->pid = (long)v;
	n = (size_t)(close_p - open_p - 1);
	if (n >= sizeof st->comm)
		n = sizeof st->comm - 1;
	memcpy(st->comm, open_p + 1, n);
	st->comm[n] = '\0';

	p = close_p + 1;
	for (field = 3; field <= 24; field++) {
		while (p < end && *p == ' ')
			p++;
		tok = p;
		while (p < end && *p != ' ' && *p != '\n' && *p != '\0')
			p++;
		n = (size_t)(p - tok);
		if (n == 0) {
			sw_err_set(err, "stat: truncated at field %d", field);
			errno = EINVAL;
			return -1;
		}
		if (field == 3) {
			st->state = tok[0];
			continue;
		}
		if (parse_i64(tok, n, &v) != 0) {
			sw_err_set(err, "stat: field %d is not a number", field);
			errno = EINVAL;
			return -1;
		}
		switch (field) {
		case 4:
			st->ppid = (long)v;
			break;
		case 9:
			st->flags = (unsigned long)v;
			break;
		case 14:
			st->utime = (uint64_t)(v < 0 ? 0 : v);
			break;
		case 15:
			st->stime = (uint64_t)(v < 0 ? 0 : v);
			break;
		case 20:
			st->num_threads = (long)v;
			break;
		case 22:
			st->starttime = (uint64_t)(v < 0 ? 0 : v);
			break;
		case 23:
			st->vsize = (uint64_t)(v < 0 ? 0 : v);
			break;
		case 24:
			st->rss_pages = v;
			break;
		}
	}
	return 0;
}

/*
 * Walks "Key:   value [kB]" lines, calling cb for each. The value is the first
 * token after the colon and the multiplier 1024 when the unit is kB.
 */
struct kv_line {
	const char	*key;
	size_t		 keylen;
	const char	*val;
	size_t		 vallen;
	int		 kb;
};

static int
next_kv(const char **pp, const char *end, struct kv_line *kv)
{
	const char	*p = *pp, *eol, *colon, *q;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL) {
			p = eol + (eol < end);
			continue;
		}
		kv->key = p;
		kv->keylen = (size_t)(colon - p);
		q = colon + 1;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		kv->val = q;
		while (q < eol && *q != ' ' && *q != '\t')
			q++;
		kv->vallen = (size_t)(q - kv->val);
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		kv->kb = (eol - q >= 2 && strncmp(q, "kB", 2) == 0);
		*pp = eol + (eol < end);
		return 1;
	}
	*pp = end;
	return 0;
}

static int
key_is(const struct kv_line *kv, const char *key)
{
	return kv->keylen == strlen(key) && memcmp(kv->key, key, kv->keylen) == 0;
}

/* The value of kv in bytes (kB lines) or as is. */
static int
kv_number(const struct kv_line *kv, const char *file, uint64_t *out,
    struct sw_err *err)
{
	uint64_t	v;

	if (parse_u64(kv->val, kv->vallen, &v) != 0 ||
	    (kv->kb && v > UINT64_MAX / 1024)) {
		sw_err_set(err, "%s: field %.*s is not a number", file,
		    (int)(kv->keylen > 64 ? 64 : kv->keylen), kv->key);
		errno = EINVAL;
		return -1;
	}
	*out = kv->kb ? v * 1024 : v;
	return 0;
}

int
sw_procfs_parse_status(const char *text, size_t len,
    struct sw_proc_status *st, struct sw_err *err)
{
	const char	*p = text, *end = text + len;
	struct kv_line	 kv;
	uint64_t	 v;

	memset(st, 0, sizeof *st);
	while (next_kv(&p, end, &kv)) {
		if (key_is(&kv, "State")) {
			st->state = kv.vallen > 0 ? kv.val[0] : 0;
			continue;
		}
		if (key_is(&kv, "VmRSS")) {
			if (kv_number(&kv, "status", &st->rss, err) != 0)
				return -1;
			st->have_rss = 1;
		} else if (key_is(&kv, "RssAnon")) {
			if (kv_number(&kv, "status", &st->anon, err) != 0)
				return -1;
			st->have_anon = 1;
		} else if (key_is(&kv, "VmSwap")) {
			if (kv_number(&kv, "status", &st->swap, err) != 0)
				return -1;
			st->have_swap = 1;
		} else if (key_is(&kv, "Threads")) {
			if (kv_number(&kv, "status", &v, err) != 0)
				return -1;
			st->threads = v > LONG_MAX ? LONG_MAX : (long)v;
			st->have_threads = 1;
		} else if (key_is(&kv, "PPid")) {
			if (kv_number(&kv, "status", &v, err) != 0)
				return -1;
			st->ppid = v > LONG_MAX ? LONG_MAX : (long)v;
			st->have_ppid = 1;
		}
	}
	return 0;
}

int
sw_procfs_parse_rollup(const char *text, size_t len, struct sw_proc_rollup *r,
    struct sw_err *err)
{
	const char	*p = text, *end = text + len;
	struct kv_line	 kv;

	memset(r, 0, sizeof *r);
	while (next_kv(&p, end, &kv)) {
		if (key_is(&kv, "Rss")) {
			if (kv_number(&kv, "smaps_rollup", &r->rss, err) != 0)
				return -1;
			r->have = 1;
		} else if (key_is(&kv, "Pss")) {
			if (kv_number(&kv, "smaps_rollup", &r->pss, err) != 0)
				return -1;
		} else if (key_is(&kv, "Anonymous")) {
			if (kv_number(&kv, "smaps_rollup", &r->anon, err) != 0)
				return -1;
		} else if (key_is(&kv, "Swap")) {
			if (kv_number(&kv, "smaps_rollup", &r->swap, err) != 0)
				return -1;
		}
	}
	return 0;
}

/* The files of ROOT/PID that are read whole and parsed. */
enum proc_file {
	PROC_STAT,
	PROC_STATUS,
	PROC_ROLLUP,
};

/* Reads ROOT/PID/name and parses it into out (the struct of the file's
 * parser); a parse error is prefixed with the file's path. */
static int
read_parsed(struct sw_proc *p, enum proc_file f, void *out,
    struct sw_err *err)
{
	static const char	*names[] = { "stat", "status", "smaps_rollup" };
	struct sw_err		 e2;
	const char		*text;
	size_t			 len;
	int			 rc;

	if (read_at(p, names[f], err) != 0)
		return -1;
	text = sw_buf_str(&p->fs->scratch);
	len = p->fs->scratch.len;
	sw_err_clear(&e2);
	switch (f) {
	case PROC_STAT:
		rc = sw_procfs_parse_stat(text, len, out, &e2);
		break;
	case PROC_STATUS:
		rc = sw_procfs_parse_status(text, len, out, &e2);
		break;
	case PROC_ROLLUP:
	default:
		rc = sw_procfs_parse_rollup(text, len, out, &e2);
		break;
	}
	if (rc != 0) {
		sw_err_set(err, "%s/%ld/%s: %s", p->fs->root, p->pid, names[f],
		    e2.msg);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
sw_proc_read_stat(struct sw_proc *p, struct sw_proc_stat *st,
    struct sw_err *err)
{
	return read_parsed(p, PROC_STAT, st, err);
}

int
sw_proc_read_status(struct sw_proc *p, struct sw_proc_status *st,
    struct sw_err *err)
{
	return read_parsed(p, PROC_STATUS, st, err);
}

int
sw_proc_read_rollup(struct sw_proc *p, struct sw_proc_rollup *r,
    struct sw_err *err)
{
	return read_parsed(p, PROC_ROLLUP, r, err);
}

int
sw_proc_read_cmdline(struct sw_proc *p, struct sw_buf *b, struct sw_err *err)
{
	char	 chunk[4096];
	size_t	 total = 0, i;
	ssize_t	 n;
	int	 fd, e;

	sw_buf_reset(b);
	fd = openat(p->dirfd, "cmdline", O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		sw_err_sys(err, e, "%s/%ld/cmdline", p->fs->root, p->pid);
		errno = e;
		return -1;
	}
	while (total < SW_PROCFS_CMDLINE_MAX) {
		n = read(fd, chunk, sizeof chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			close(fd);
			sw_err_sys(err, e, "%s/%ld/cmdline", p->fs->root,
			    p->pid);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		if ((size_t)n > SW_PROCFS_CMDLINE_MAX - total)
			n = (ssize_t)(SW_PROCFS_CMDLINE_MAX - total);
		for (i = 0; i < (size_t)n; i++) {
			if (chunk[i] == '\0')
				chunk[i] = ' ';
		}
		if (sw_buf_add(b, chunk, (size_t)n) != 0) {
			close(fd);
			sw_err_set(err, "%s/%ld/cmdline: too long",
			    p->fs->root, p->pid);
			errno = ENOMEM;
			return -1;
		}
		total += (size_t)n;
	}
	close(fd);
	while (b->len > 0 && b->data[b->len - 1] == ' ')
		b->data[--b->len] = '\0';
	return 0;
}

int
sw_proc_count_fds(struct sw_proc *p, long *n, struct sw_err *err)
{
	struct dirent	*de;
	DIR		*d;
	long		 count = 0;
	int		 fd, e;

	fd = openat(p->dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		sw_err_sys(err, e, "%s/%ld/fd", p->fs->root, p->pid);
		errno = e;
		return -1;
	}
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		sw_err_sys(err, e, "%s/%ld/fd", p->fs->root, p->pid);
		errno = e;
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			count++;
		errno = 0;
	}
	e = errno;
	closedir(d);
	if (e != 0) {
		sw_err_sys(err, e, "%s/%ld/fd", p->fs->root, p->pid);
		errno = e;
		return -1;
	}
	*n = count;
	return 0;
}

int
sw_proc_read_cgroup(struct sw_proc *p, char *dst, size_t dstsz,
    struct sw_err *err)
{
	const char	*s, *eol, *end;
	size_t		 n;

	if (read_at(p, "cgroup", err) != 0)
		return -1;
	s = sw_buf_str(&p->fs->scratch);
	end = s + p->fs->scratch.len;
	while (s < end) {
		eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL)
			eol = end;
		if (eol - s >= 3 && strncmp(s, "0::", 3) == 0) {
			n = (size_t)(eol - s - 3);
			if (n == 0 || n >= dstsz) {
				sw_err_set(err, "%s/%ld/cgroup: bad v2 path",
				    p->fs->root, p->pid);
				errno = EINVAL;
				return -1;
			}
			memcpy(dst, s + 3, n);
			dst[n] = '\0';
			return 0;
		}
		s = eol + (eol < end);
	}
	sw_err_set(err, "%s/%ld/cgroup: no cgroup v2 entry", p->fs->root,
	    p->pid);
	errno = ENOENT;
	return -1;
}

/* Appends pid to a growing array; -1 when past the cap or short of memory. */
static int
pid_push(long **pids, size_t *n, size_t *cap, long pid)
{
	long	*np;
	size_t	 ncap;

	if (*n >= (size_t)SW_PROCFS_MAX_PIDS)
		return -1;
	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 256;
		if (ncap > (size_t)SW_PROCFS_MAX_PIDS)
			ncap = (size_t)SW_PROCFS_MAX_PIDS;
		np = realloc(*pids, ncap * sizeof *np);
		if (np == NULL)
			return -1;
		*pids = np;
		*cap = ncap;
	}
	(*pids)[(*n)++] = pid;
	return 0;
}

/* A positive decimal number with nothing else, as in a /proc entry name. */
static int
name_pid(const char *s, long *pid)
{
	int64_t	v;
	size_t	i, n = strlen(s);

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
	}
	if (sw_parse_int64(s, n, &v) != 0 || v <= 0 || v > LONG_MAX)
		return -1;
	*pid = (long)v;
	return 0;
}

int
sw_procfs_list_pids(struct sw_procfs *fs, long **pids, size_t *n,
    struct sw_err *err)
{
	struct dirent	*de;
	DIR		*d;
	long		*v = NULL, pid;
	size_t		 nv = 0, cap = 0;
	int		 fd, e;

	*pids = NULL;
	*n = 0;
	fd = openat(fs->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		e = errno;
		if (fd != -1)
			close(fd);
		sw_err_sys(err, e, "%s", fs->root);
		errno = e;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (name_pid(de->d_name, &pid) != 0)
			continue;
		if (pid_push(&v, &nv, &cap, pid) != 0) {
			closedir(d);
			free(v);
			sw_err_set(err, "%s: too many processes", fs->root);
			errno = ENOMEM;
			return -1;
		}
	}
	closedir(d);
	*pids = v;
	*n = nv;
	return 0;
}

/*
 * Reads a whole small regular file at path into b (appending). Opened
 * non-blocking and refused (EINVAL) unless it is a regular file: a FIFO or
 * a device where a pidfile should be would otherwise stall the agent's loop
 * in open or read. Messages as sw_buf_read_file's.
 */
static int
read_small(struct sw_buf *b, const char *path, struct sw_err *err)
{
	struct stat	sb;
	char		chunk[4096];
	ssize_t		n;
	int		fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		e = errno;
		sw_err_sys(err, e, "%s", path);
		errno = e;
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		e = errno;
		sw_err_sys(err, e, "%s", path);
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		e = EINVAL;
		sw_err_set(err, "%s: not a regular file", path);
		goto fail;
	}
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			sw_err_sys(err, e, "%s: read", path);
			goto fail;
		}
		if (sw_buf_add(b, chunk, (size_t)n) == -1) {
			e = EMSGSIZE;
			sw_err_set(err, "%s: larger than %zu bytes", path, b->max);
			goto fail;
		}
	}
	close(fd);
	return 0;
fail:
	close(fd);
	errno = e;
	return -1;
}

/* Trims white space at both ends: sets *s, *n. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

int
sw_procfs_read_pidfile(const char *path, long *pid, struct sw_err *err)
{
	struct sw_buf	 b;
	const char	*s;
	size_t		 n;
	int64_t		 v;
	int		 rc = -1, e = EINVAL;

	sw_buf_init(&b, SW_PROCFS_SMALL_MAX);
	if (read_small(&b, path, NULL) != 0) {
		e = errno;
		if (e == EMSGSIZE)
			sw_err_set(err, "pidfile %s: too big", path);
		else if (e == EINVAL)
			sw_err_set(err, "pidfile %s: not a regular file", path);
		else
			sw_err_sys(err, e, "pidfile %s", path);
		goto out;
	}
	s = sw_buf_str(&b);
	n = b.len;
	trim(&s, &n);
	if (n == 0) {
		sw_err_set(err, "pidfile %s: empty", path);
		goto out;
	}
	if (parse_i64(s, n, &v) != 0 || v <= 0 || v > LONG_MAX) {
		sw_err_set(err, "pidfile %s: not a pid", path);
		goto out;
	}
	*pid = (long)v;
	rc = 0;
out:
	sw_buf_release(&b);
	if (rc != 0)
		errno = e;
	return rc;
}

/*
 * mountinfo fields: id parent major:minor root mount-point options
 * [optional...] - fstype source super-options. Mount points escape space,
 * tab, newline and backslash as octal (\040); undo that.
 */
static int
unescape_mount(const char *s, size_t n, char *dst, size_t dstsz)
{
	size_t	i, o = 0;

	for (i = 0; i < n; i++) {
		char	c = s[i];

		if (c == '\\' && i + 3 < n && s[i + 1] >= '0' &&
		    s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
			    (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= dstsz)
			return -1;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

int
sw_procfs_cgroup2_mount(const char *mountinfo, char *dst, size_t dstsz,
    struct sw_err *err)
{
	struct sw_buf	 b;
	const char	*s, *end, *eol, *f[5], *dash, *q;
	size_t		 flen[5];
	int		 i, rc = -1, e = ENOENT;

	sw_buf_init(&b, PROCS_FILE_MAX);
	if (read_small(&b, mountinfo, err) != 0) {
		e = errno;
		goto out;
	}
	s = sw_buf_str(&b);
	end = s + b.len;
	for (; s < end; s = eol + (eol < end)) {
		eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL)
			eol = end;
		/* the first five fields */
		q = s;
		for (i = 0; i < 5; i++) {
			while (q < eol && *q == ' ')
				q++;
			f[i] = q;
			while (q < eol && *q != ' ')
				q++;
			flen[i] = (size_t)(q - f[i]);
		}
		if (flen[4] == 0)
			continue;
		/* " - fstype" after the optional fields */
		dash = q;
		while (dash + 3 <= eol && strncmp(dash, " - ", 3) != 0)
			dash++;
		if (dash + 3 > eol)
			continue;
		dash += 3;
		if ((size_t)(eol - dash) < 8 || strncmp(dash, "cgroup2 ", 8) != 0)
			continue;
		if (unescape_mount(f[4], flen[4], dst, dstsz) != 0) {
			sw_err_set(err, "%s: cgroup2 mount point too long",
			    mountinfo);
			e = ENAMETOOLONG;
			goto out;
		}
		rc = 0;
		goto out;
	}
	sw_err_set(err, "%s: no cgroup2 file system mounted", mountinfo);
out:
	sw_buf_release(&b);
	if (rc != 0)
		errno = e;
	return rc;
}

/* DIR/name into b. */
static int
read_cgroup_file(struct sw_buf *b, const char *dir, const char *name,
    struct sw_err *err)
{
	char	path[4096];

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path) {
		sw_err_set(err, "%s/%s: path too long", dir, name);
		errno = ENAMETOOLONG;
		return -1;
	}
	return read_small(b, path, err);
}

int
sw_procfs_read_cgroup_value(const char *dir, const char *name, int64_t *v,
    struct sw_err *err)
{
	struct sw_buf	 b;
	const char	*s;
	size_t		 n;
	int64_t		 x;
	int		 rc = -1, e = EINVAL;

	sw_buf_init(&b, SW_PROCFS_SMALL_MAX);
	if (read_cgroup_file(&b, dir, name, err) != 0) {
		e = errno;
		goto out;
	}
	s = sw_buf_str(&b);
	n = b.len;
	trim(&s, &n);
	if (n == 3 && memcmp(s, "max", 3) == 0)
		x = -1;
	else if (parse_i64(s, n, &x) != 0 || x < 0) {
		sw_err_set(err, "%s/%s: not a number", dir, name);
		goto out;
	}
	*v = x;
	rc = 0;
out:
	sw_buf_release(&b);
	if (rc != 0)
		errno = e;
	return rc;
}

int
sw_procfs_read_cgroup_key(const char *dir, const char *name, const char *key,
    int64_t *v, struct sw_err *err)
{
	struct sw_buf	 b;
	const char	*s, *end, *eol, *val;
	size_t		 klen = strlen(key), n;
	int64_t		 x;
	int		 rc = -1, e = ENOENT;

	sw_buf_init(&b, SW_PROCFS_SMALL_MAX);
	if (read_cgroup_file(&b, dir, name, err) != 0) {
		e = errno;
		goto out;
	}
	s = sw_buf_str(&b);
	end = s + b.len;
	for (; s < end; s = eol + (eol < end)) {
		eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - s) <= klen || memcmp(s, key, klen) != 0 ||
		    s[klen] != ' ')
			continue;
		val = s + klen + 1;
		n = (size_t)(eol - val);
		trim(&val, &n);
		if (parse_i64(val, n, &x) != 0) {
			sw_err_set(err, "%s/%s: %s is not a number", dir, name,
			    key);
			e = EINVAL;
			goto out;
		}
		*v = x;
		rc = 0;
		goto out;
	}
	sw_err_set(err, "%s/%s: no %s", dir, name, key);
out:
	sw_buf_release(&b);
	if (rc != 0)
		errno = e;
	return rc;
}

int
sw_procfs_read_cgroup_procs(const char *dir, long **pids, size_t *n,
    struct sw_err *err)
{
	struct sw_buf	 b;
	const char	*s, *end, *eol, *t;
	size_t		 cap = *n, len;
	int64_t		 v;
	int		 rc = -1, e = EINVAL;

	sw_buf_init(&b, PROCS_FILE_MAX);
	if (read_cgroup_file(&b, dir, "cgroup.procs", err) != 0) {
		e = errno;
		goto out;
	}
	s = sw_buf_str(&b);
	end = s + b.len;
	for (; s < end; s = eol + (eol < end)) {
		eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL)
			eol = end;
		t = s;
		len = (size_t)(eol - s);
		trim(&t, &len);
		if (len == 0)
			continue;
		if (parse_i64(t, len, &v) != 0 || v <= 0 || v > LONG_MAX) {
			sw_err_set(err, "%s/cgroup.procs: not a pid", dir);
			goto out;
		}
		if (pid_push(pids, n, &cap, (long)v) != 0) {
			sw_err_set(err, "%s/cgroup.procs: too many pids", dir);
			e = ENOMEM;
			goto out;
		}
	}
	rc = 0;
out:
	sw_buf_release(&b);
	if (rc != 0)
		errno = e;
	return rc;
}
