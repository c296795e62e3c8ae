/*
 * procfs.h: reading processes from /proc, the htop way. A process is opened
 * once as a directory fd (/proc/PID with O_DIRECTORY) and every file is read
 * relative to that fd, so all reads see one instance: if the pid is recycled
 * meanwhile, the reads fail (ENOENT/ESRCH) instead of describing another
 * process. Files are read whole with a cap. The root is a parameter so tests
 * can point it at a fake tree (tests/fixtures/proc).
 *
 * Failure convention: functions return 0 or -1 and fill an optional
 * struct sw_err; on -1 errno is preserved so that callers can tell "the
 * process is gone" (sw_procfs_gone) and "not allowed" (EACCES/EPERM) apart
 * from a malformed file (EINVAL).
 */
#ifndef SW_PROCFS_H
#define SW_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "slopewatch/buf.h"

struct sw_err;

/* Caps on what one read may hold. */
#define SW_PROCFS_FILE_MAX	16384	/* stat, status, smaps_rollup */
#define SW_PROCFS_CMDLINE_MAX	32768	/* longer command lines are cut */
#define SW_PROCFS_SMALL_MAX	4096	/* pidfiles, cgroup files */
#define SW_PROCFS_MAX_PIDS	(1L << 22)	/* PID_MAX_LIMIT */

/* An opened procfs root. */
struct sw_procfs {
	int	 rootfd;	/* the root, O_DIRECTORY; -1 when closed */
	char	 root[256];
	long	 clk_tck;	/* sysconf(_SC_CLK_TCK) */
	int64_t	 btime_ms;	/* boot time, unix ms ("btime" of ROOT/stat) */
	struct sw_buf scratch;	/* reused by the read functions */
};

/* Sets the root sw_procfs_open uses when given NULL (NULL restores
 * "/proc"). For tests that run a whole source against a fake tree; not
 * thread-safe, call before opening. */
void	sw_procfs_set_default_root(const char *root);

/* Opens root (the default root, "/proc", when NULL) and reads its boot time. Caller storage;
 * release with sw_procfs_close. -1 with err when root cannot be opened or
 * ROOT/stat has no btime. */
int	sw_procfs_open(struct sw_procfs *fs, const char *root,
	    struct sw_err *err);
void	sw_procfs_close(struct sw_procfs *fs);

/* True for the errno values that mean "the process is gone" (it exited, or
 * was reaped, between two reads). */
int	sw_procfs_gone(int errnum);

/* One process instance: ROOT/PID opened as a directory. */
struct sw_proc {
	struct sw_procfs *fs;	/* borrowed */
	long		 pid;
	int		 dirfd;	/* -1 when closed */
};

/* Opens ROOT/PID. -1 with errno ENOENT when there is no such process. */
int	sw_proc_open(struct sw_procfs *fs, long pid, struct sw_proc *p,
	    struct sw_err *err);
void	sw_proc_close(struct sw_proc *p);

#define SW_PROC_COMM_MAX	64
#define SW_PROC_PF_KTHREAD	0x00200000UL	/* stat "flags": a kernel thread */

/* What /proc/PID/stat says (fields numbered as in proc(5)). */
struct sw_proc_stat {
	long		 pid;		/* 1 */
	char		 comm[SW_PROC_COMM_MAX];	/* 2, raw, cut to fit */
	char		 state;		/* 3: R S D Z T t X I ... */
	long		 ppid;		/* 4 */
	unsigned long	 flags;		/* 9 */
	uint64_t	 utime;		/* 14, clock ticks */
	uint64_t	 stime;		/* 15, clock ticks */
	long		 num_threads;	/* 20 */
	uint64_t	 starttime;	/* 22, clock ticks after boot */
	uint64_t	 vsize;		/* 23, bytes */
	int64_t		 rss_pages;	/* 24 */
};

/* Parses the text of a stat file (len bytes, need not be NUL-terminated).
 * comm is the text between the first '(' and the last ')', so names holding
 * spaces or ')' work. -1 with err (errno EINVAL) when a field up to 24 is
 * missing or is not a number. */
int	sw_procfs_parse_stat(const char *text, size_t len,
	    struct sw_proc_stat *st, struct sw_err *err);

/* Memory in bytes. A have_ flag is 0 when the file lacked the field
 * (kernel threads and zombies have no Vm* lines and an empty rollup). */
struct sw_proc_status {
	int		 have_rss, have_anon, have_swap, have_threads, have_ppid;
	uint64_t	 rss;		/* VmRSS */
	uint64_t	 anon;		/* RssAnon */
	uint64_t	 swap;		/* VmSwap */
	long		 threads;	/* Threads */
	long		 ppid;		/* PPid */
	char		 state;		/* first letter of State, 0 if absent */
};

/* Parses status text. Unknown lines are ignored; a known line with a bad
 * number is an error (-1, EINVAL) naming the field. */
int	sw_procfs_parse_status(const char *text, size_t len,
	    struct sw_proc_status *st, struct sw_err *err);

struct sw_proc_rollup {
	int		 have;		/* 0: empty file (kernel thread, zombie) */
	uint64_t	 rss;		/* Rss */
	uint64_t	 pss;		/* Pss */
	uint64_t	 anon;		/* Anonymous */
	uint64_t	 swap;		/* Swap */
};

/* Parses smaps_rollup text (the "[rollup]" header line is skipped). Same
 * failure rules as sw_procfs_parse_status. have is set only when Rss was
 * found. */
int	sw_procfs_parse_rollup(const char *text, size_t len,
	    struct sw_proc_rollup *r, struct sw_err *err);

/* Readers: read the file relative to p->dirfd and parse it. -1 with errno
 * preserved when the read fails (see sw_procfs_gone; EACCES for a process
 * we may not read), EINVAL for malformed text. */
int	sw_proc_read_stat(struct sw_proc *p, struct sw_proc_stat *st,
	    struct sw_err *err);
int	sw_proc_read_status(struct sw_proc *p, struct sw_proc_status *st,
	    struct sw_err *err);
int	sw_proc_read_rollup(struct sw_proc *p, struct sw_proc_rollup *r,
	    struct sw_err *err);
/* The command line with NULs turned to spaces and trailing ones dropped,
 * cut at SW_PROCFS_CMDLINE_MAX. Empty for kernel threads and zombies. b is
 * reset first. */
int	sw_proc_read_cmdline(struct sw_proc *p, struct sw_buf *b,
	    struct sw_err *err);
/* Counts the entries of PID/fd. EACCES when we may not look. */
int	sw_proc_count_fds(struct sw_proc *p, long *n, struct sw_err *err);
/* The cgroup v2 path of the process (the "0::" line of PID/cgroup) into dst,
 * e.g. "/system.slice/web.service". -1 (ENOENT) when there is no v2 line. */
int	sw_proc_read_cgroup(struct sw_proc *p, char *dst, size_t dstsz,
	    struct sw_err *err);

/* Instance start time in unix ms: btime + starttime / CLK_TCK. */
int64_t	sw_procfs_start_ms(const struct sw_procfs *fs, uint64_t starttime);

/* Every numeric entry of the root, unsorted, into *pids (new, free() it) and
 * *n. At most SW_PROCFS_MAX_PIDS. */
int	sw_procfs_list_pids(struct sw_procfs *fs, long **pids, size_t *n,
	    struct sw_err *err);

/* Reads a pidfile: one positive decimal pid, optional surrounding white
 * space. -1 with err naming the file when it is missing, empty, too big or
 * not a pid. */
int	sw_procfs_read_pidfile(const char *path, long *pid, struct sw_err *err);

/* Where the cgroup v2 hierarchy is mounted, from mountinfo (a path such as
 * "/proc/self/mountinfo"; the first "cgroup2" entry wins). -1 (ENOENT) with
 * err when there is none. */
int	sw_procfs_cgroup2_mount(const char *mountinfo, char *dst, size_t dstsz,
	    struct sw_err *err);

/* Reads a cgroup file holding one number or "max" (memory.max,
 * memory.current, memory.high). *v is set to -1 for "max". */
int	sw_procfs_read_cgroup_value(const char *dir, const char *name,
	    int64_t *v, struct sw_err *err);
/* The value of key in a flat-keyed cgroup file (memory.events "oom_kill").
 * -1 (ENOENT) when the file or key is absent. */
int	sw_procfs_read_cgroup_key(const char *dir, const char *name,
	    const char *key, int64_t *v, struct sw_err *err);
/* The pids of DIR/cgroup.procs, appended to *pids (realloc'd, *n updated).
 * At most SW_PROCFS_MAX_PIDS in all. */
int	sw_procfs_read_cgroup_procs(const char *dir, long **pids, size_t *n,
	    struct sw_err *err);

#endif
