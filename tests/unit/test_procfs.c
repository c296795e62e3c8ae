#include "config.h"
/*
 * test_procfs.c: the /proc reader and the process source.
 *
 * Parsers run against a fake /proc tree (tests/fixtures/proc/root) holding
 * the edge cases: a kernel thread with no smaps, a zombie, a comm with
 * spaces and ')' in it, truncated and malformed files. Then a real forked
 * child is read, killed and read again through the same directory fd (the
 * process vanishing mid-read), and the whole source runs against both the
 * fake tree (selection, tree sums, cgroup files) and real children
 * (start/restart/stop events through a pidfile).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "slopewatch/buf.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/procfs.h"
#include "slopewatch/source.h"

#ifndef SW_TEST_SRCDIR
#define SW_TEST_SRCDIR "."
#endif

static char root[1100], fixtures[1024];

static const char *
srcdir(void)
{
	const char	*s = getenv("top_srcdir");

	return s != NULL && *s != '\0' ? s : SW_TEST_SRCDIR;
}

static int
setup_paths(void **state)
{
	(void)state;
	snprintf(fixtures, sizeof fixtures, "%s/tests/fixtures/proc",
	    srcdir());
	snprintf(root, sizeof root, "%s/root", fixtures);
	sw_log_set_level(SW_LOG_ERROR);
	return 0;
}

static void
open_fake(struct sw_procfs *fs)
{
	struct sw_err	err;

	sw_err_clear(&err);
	if (sw_procfs_open(fs, root, &err) != 0)
		fail_msg("open %s: %s", root, err.msg);
}

static void
test_open_btime(void **state)
{
	struct sw_procfs	fs;
	struct sw_err		err;

	(void)state;
	open_fake(&fs);
	assert_int_equal(fs.btime_ms, 1700000000000LL);
	assert_true(fs.clk_tck > 0);
	assert_int_equal(sw_procfs_start_ms(&fs, (uint64_t)fs.clk_tck * 5),
	    1700000005000LL);
	sw_procfs_close(&fs);

	sw_err_clear(&err);
	assert_int_equal(sw_procfs_open(&fs, "/nonexistent/proc", &err), -1);
	assert_true(err.set);
	assert_non_null(strstr(err.msg, "/nonexistent/proc"));
	sw_procfs_close(&fs);
}

static int
cmp_long(const void *a, const void *b)
{
	long	x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static void
test_list_pids(void **state)
{
	struct sw_procfs	 fs;
	long			*pids, want[] = { 1, 2, 42, 43, 44, 45, 50, 60 };
	size_t			 n, i;

	(void)state;
	open_fake(&fs);
	assert_int_equal(sw_procfs_list_pids(&fs, &pids, &n, NULL), 0);
	qsort(pids, n, sizeof *pids, cmp_long);
	assert_int_equal(n, sizeof want / sizeof want[0]);
	for (i = 0; i < n; i++)
		assert_int_equal(pids[i], want[i]);
	free(pids);
	sw_procfs_close(&fs);
}

static void
open_pid(struct sw_procfs *fs, long pid, struct sw_proc *p)
{
	struct sw_err	err;

	sw_err_clear(&err);
	if (sw_proc_open(fs, pid, p, &err) != 0)
		fail_msg("open pid %ld: %s", pid, err.msg);
}

static void
test_normal(void **state)
{
	struct sw_procfs	 fs;
	struct sw_proc		 p;
	struct sw_proc_stat	 st;
	struct sw_proc_status	 ss;
	struct sw_proc_rollup	 ru;
	struct sw_buf		 b;
	char			 cg[256];
	long			 fds;

	(void)state;
	open_fake(&fs);
	open_pid(&fs, 1, &p);
	assert_int_equal(sw_proc_read_stat(&p, &st, NULL), 0);
	assert_int_equal(st.pid, 1);
	assert_string_equal(st.comm, "init");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 0);
	assert_int_equal(st.utime, 150);
	assert_int_equal(st.stime, 50);
	assert_int_equal(st.num_threads, 1);
	assert_int_equal(st.starttime, 3);
	assert_int_equal(st.vsize, 170000000);
	assert_int_equal(st.rss_pages, 3000);
	assert_int_equal(st.flags & SW_PROC_PF_KTHREAD, 0);

	assert_int_equal(sw_proc_read_status(&p, &ss, NULL), 0);
	assert_true(ss.have_rss && ss.have_anon && ss.have_swap);
	assert_int_equal(ss.rss, 12000 * 1024);
	assert_int_equal(ss.anon, 3000 * 1024);
	assert_int_equal(ss.swap, 0);
	assert_int_equal(ss.threads, 1);
	assert_int_equal(ss.state, 'S');

	assert_int_equal(sw_proc_read_rollup(&p, &ru, NULL), 0);
	assert_true(ru.have);
	assert_int_equal(ru.rss, 12000 * 1024);
	assert_int_equal(ru.pss, 4000 * 1024);
	assert_int_equal(ru.anon, 3000 * 1024);

	sw_buf_init(&b, SW_PROCFS_CMDLINE_MAX);
	assert_int_equal(sw_proc_read_cmdline(&p, &b, NULL), 0);
	assert_string_equal(sw_buf_str(&b), "/sbin/init splash");
	sw_buf_release(&b);

	assert_int_equal(sw_proc_count_fds(&p, &fds, NULL), 0);
	assert_int_equal(fds, 3);
	assert_int_equal(sw_proc_read_cgroup(&p, cg, sizeof cg, NULL), 0);
	assert_string_equal(cg, "/init.scope");
	sw_proc_close(&p);
	sw_procfs_close(&fs);
}

static void
test_comm_with_parens(void **state)
{
	struct sw_procfs	 fs;
	struct sw_proc		 p;
	struct sw_proc_stat	 st;
	struct sw_proc_status	 ss;
	struct sw_proc_rollup	 ru;
	struct sw_buf		 b;
	char			 cg[256];
	long			 fds;

	(void)state;
	open_fake(&fs);
	open_pid(&fs, 42, &p);
	assert_int_equal(sw_proc_read_stat(&p, &st, NULL), 0);
	assert_int_equal(st.pid, 42);
	assert_string_equal(st.comm, "my (proc) x)");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.utime, 1234);
	assert_int_equal(st.stime, 567);
	assert_int_equal(st.num_threads, 7);
	assert_int_equal(st.starttime, 250000);
	assert_int_equal(st.rss_pages, 25600);

	assert_int_equal(sw_proc_read_status(&p, &ss, NULL), 0);
	assert_int_equal(ss.rss, 102400 * 1024);
	assert_int_equal(ss.anon, 81920 * 1024);
	assert_int_equal(ss.swap, 2048 * 1024);
	assert_int_equal(ss.threads, 7);
	assert_int_equal(ss.ppid, 1);

	assert_int_equal(sw_proc_read_rollup(&p, &ru, NULL), 0);
	assert_int_equal(ru.rss, 102400 * 1024);
	assert_int_equal(ru.pss, 90000 * 1024);
	assert_int_equal(ru.anon, 81920 * 1024);
	assert_int_equal(ru.swap, 2048 * 1024);

	sw_buf_init(&b, SW_PROCFS_CMDLINE_MAX);
	assert_int_equal(sw_proc_read_cmdline(&p, &b, NULL), 0);
	assert_string_equal(sw_buf_str(&b), "node server.js --port 3000");
	sw_buf_release(&b);
	assert_int_equal(sw_proc_count_fds(&p, &fds, NULL), 0);
	assert_int_equal(fds, 5);
	/* the v1 line before it is skipped */
	assert_int_equal(sw_proc_read_cgroup(&p, cg, sizeof cg, NULL), 0);
	assert_string_equal(cg, "/system.slice/web.service");
	assert_int_equal(sw_proc_read_cgroup(&p, cg, 8, NULL), -1);
	sw_proc_close(&p);
	sw_procfs_close(&fs);
}

static void
test_kernel_thread(void **state)
{
	struct sw_procfs	 fs;
	struct sw_proc		 p;
	struct sw_proc_stat	 st;
	struct sw_proc_status	 ss;
	struct sw_proc_rollup	 ru;
	struct sw_buf		 b;

	(void)state;
	open_fake(&fs);
	open_pid(&fs, 2, &p);
	assert_int_equal(sw_proc_read_stat(&p, &st, NULL), 0);
	assert_string_equal(st.comm, "kthreadd");
	assert_true(st.flags & SW_PROC_PF_KTHREAD);
	assert_int_equal(sw_proc_read_status(&p, &ss, NULL), 0);
	assert_false(ss.have_rss);
	assert_false(ss.have_anon);
	assert_true(ss.have_threads);
	/* an empty smaps_rollup is no data, not an error */
	assert_int_equal(sw_proc_read_rollup(&p, &ru, NULL), 0);
	assert_false(ru.have);
	sw_buf_init(&b, SW_PROCFS_CMDLINE_MAX);
	assert_int_equal(sw_proc_read_cmdline(&p, &b, NULL), 0);
	assert_int_equal(b.len, 0);
	sw_buf_release(&b);
	sw_proc_close(&p);
	sw_procfs_close(&fs);
}

static void
test_zombie(void **state)
{
	struct sw_procfs	 fs;
	struct sw_proc		 p;
	struct sw_proc_stat	 st;
	struct sw_proc_status	 ss;
	struct sw_proc_rollup	 ru;

	(void)state;
	open_fake(&fs);
	open_pid(&fs, 43, &p);
	assert_int_equal(sw_proc_read_stat(&p, &st, NULL), 0);
	assert_int_equal(st.state, 'Z');
	assert_int_equal(st.ppid, 42);
	assert_int_equal(sw_proc_read_status(&p, &ss, NULL), 0);
	assert_int_equal(ss.state, 'Z');
	assert_false(ss.have_rss);
	assert_int_equal(sw_proc_read_rollup(&p, &ru, NULL), 0);
	assert_false(ru.have);
	sw_proc_close(&p);
	sw_procfs_close(&fs);
}

static void
test_truncated(void **state)
{
	struct sw_procfs	 fs;
	struct sw_proc		 p;
	struct sw_proc_stat	 st;
	struct sw_proc_status	 ss;
	struct sw_proc_rollup	 ru;
	struct sw_err		 err;

	(void)state;
	open_fake(&fs);
	open_pid(&fs, 50, &p);
	sw_err_clear(&err);
	assert_int_equal(sw_proc_read_stat(&p, &st, &err), -1);
	assert_int_equal(errno, EINVAL);
	if (strstr(err.msg, "50/stat: stat: truncated at field 11") == NULL)
		fail_msg("%s", err.msg);
	sw_err_clear(&err);
	assert_int_equal(sw_proc_read_status(&p, &ss, &err), -1);
	assert_non_null(strstr(err.msg, "VmRSS"));
	sw_err_clear(&err);
	assert_int_equal(sw_proc_read_rollup(&p, &ru, &err), -1);
	assert_non_null(strstr(err.msg, "smaps_rollup"));
	assert_non_null(strstr(err.msg, "Rss"));
	sw_proc_close(&p);

	open_pid(&fs, 60, &p);
	sw_err_clear(&err);
	assert_int_equal(sw_proc_read_stat(&p, &st, &err), -1);
	assert_non_null(strstr(err.msg, "field 14 is not a number"));
	sw_err_clear(&err);
	assert_int_equal(sw_proc_read_status(&p, &ss, &err), -1);
	assert_non_null(strstr(err.msg, "VmRSS"));
	sw_err_clear(&err);
	assert_int_equal(sw_proc_read_rollup(&p, &ru, &err), -1);
	sw_proc_close(&p);
	sw_procfs_close(&fs);
}

static void
test_missing(void **state)
{
	struct sw_procfs	 fs;
	struct sw_proc		 p;
	struct sw_err		 err;
	long			 fds;

	(void)state;
	open_fake(&fs);
	sw_err_clear(&err);
	assert_int_equal(sw_proc_open(&fs, 999, &p, &err), -1);
	assert_true(sw_procfs_gone(errno));
	assert_non_null(strstr(err.msg, "999"));
	assert_int_equal(sw_proc_open(&fs, 0, &p, NULL), -1);
	assert_int_equal(sw_proc_open(&fs, -4, &p, NULL), -1);
	/* no fd directory in the fixture of the kernel thread */
	open_pid(&fs, 2, &p);
	assert_int_equal(sw_proc_count_fds(&p, &fds, NULL), -1);
	assert_true(sw_procfs_gone(errno));
	sw_proc_close(&p);
	sw_procfs_close(&fs);
}

static void
test_parse_stat_edges(void **state)
{
	struct sw_proc_stat	 st;
	struct sw_err		 err;
	char			 line[512];
	const char		*tail = " R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"
	    " 17 18 19 20 21 22";

	(void)state;
	sw_err_clear(&err);
	assert_int_equal(sw_procfs_parse_stat("", 0, &st, &err), -1);
	assert_true(err.set);
	assert_int_equal(sw_procfs_parse_stat("12 (abc", 7, &st, NULL), -1);
	assert_int_equal(sw_procfs_parse_stat("12 abc) S", 9, &st, NULL), -1);
	assert_int_equal(sw_procfs_parse_stat("x (a) S 1", 9, &st, NULL), -1);
	/* no trailing newline; not NUL-terminated at len */
	snprintf(line, sizeof line, "7 (a b)%sXYZ", tail);
	assert_int_equal(sw_procfs_parse_stat(line, strlen(line) - 3, &st,
	    NULL), 0);
	assert_string_equal(st.comm, "a b");
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.starttime, 19);
	assert_int_equal(st.rss_pages, 21);
	/* a comm longer than the field is cut, the rest still parses */
	snprintf(line, sizeof line, "8 (%070d)%s\n", 0, tail);
	assert_int_equal(sw_procfs_parse_stat(line, strlen(line), &st, NULL),
	    0);
	assert_int_equal(strlen(st.comm), SW_PROC_COMM_MAX - 1);
	assert_int_equal(st.vsize, 20);
	/* the empty comm */
	snprintf(line, sizeof line, "9 ()%s", tail);
	assert_int_equal(sw_procfs_parse_stat(line, strlen(line), &st, NULL),
	    0);
	assert_string_equal(st.comm, "");
}

static void
test_parse_status_edges(void **state)
{
	struct sw_proc_status	 ss;
	struct sw_proc_rollup	 ru;
	const char		*t;

	(void)state;
	t = "VmRSS:\t18446744073709551615 kB\n";
	assert_int_equal(sw_procfs_parse_status(t, strlen(t), &ss, NULL), -1);
	t = "Name:\tx:y\nVmRSS: 4 kB\nThreads:\t3";
	assert_int_equal(sw_procfs_parse_status(t, strlen(t), &ss, NULL), 0);
	assert_int_equal(ss.rss, 4096);
	assert_int_equal(ss.threads, 3);
	t = "no colon here\n\n\nRssAnon:\t2 kB\n";
	assert_int_equal(sw_procfs_parse_status(t, strlen(t), &ss, NULL), 0);
	assert_int_equal(ss.anon, 2048);
	assert_false(ss.have_rss);
	t = "Rss: 1 kB\nPss:\n";
	assert_int_equal(sw_procfs_parse_rollup(t, strlen(t), &ru, NULL), -1);
	t = "[rollup]\nRss: 1 kB\nPss: 1 kB\n";
	assert_int_equal(sw_procfs_parse_rollup(t, strlen(t), &ru, NULL), 0);
	assert_true(ru.have);
	assert_int_equal(ru.pss, 1024);
}

static void
test_cgroup_files(void **state)
{
	char		 path[1200], dir[1200], dst[256];
	int64_t		 v;
	long		*pids = NULL;
	size_t		 n = 0;
	struct sw_err	 err;

	(void)state;
	snprintf(path, sizeof path, "%s/mountinfo", fixtures);
	assert_int_equal(sw_procfs_cgroup2_mount(path, dst, sizeof dst, NULL),
	    0);
	assert_string_equal(dst, "/sys/fs/cgroup/uni fied");
	assert_int_equal(sw_procfs_cgroup2_mount(path, dst, 8, NULL), -1);
	snprintf(path, sizeof path, "%s/mountinfo-v1", fixtures);
	sw_err_clear(&err);
	assert_int_equal(sw_procfs_cgroup2_mount(path, dst, sizeof dst, &err),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err.msg, "no cgroup2"));

	snprintf(dir, sizeof dir, "%s/cgroup/web.service", fixtures);
	assert_int_equal(sw_procfs_read_cgroup_value(dir, "memory.current", &v,
	    NULL), 0);
	assert_int_equal(v, 104857600);
	assert_int_equal(sw_procfs_read_cgroup_value(dir, "memory.max", &v,
	    NULL), 0);
	assert_int_equal(v, -1);
	assert_int_equal(sw_procfs_read_cgroup_value(dir, "memory.high", &v,
	    NULL), 0);
	assert_int_equal(v, 536870912);
	assert_int_equal(sw_procfs_read_cgroup_value(dir, "memory.events", &v,
	    NULL), -1);
	assert_int_equal(sw_procfs_read_cgroup_value(dir, "memory.swap.max",
	    &v, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(sw_procfs_read_cgroup_key(dir, "memory.events",
	    "oom_kill", &v, NULL), 0);
	assert_int_equal(v, 2);
	assert_int_equal(sw_procfs_read_cgroup_key(dir, "memory.events",
	    "oom", &v, NULL), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sw_procfs_read_cgroup_key(dir, "memory.events",
	    "oom_k", &v, NULL), -1);
	assert_int_equal(sw_procfs_read_cgroup_procs(dir, &pids, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pids[0], 42);
	assert_int_equal(pids[2], 45);
	free(pids);
}

/* Writes text to a fresh temp file; returns its path in dst. */
static void
temp_file(char *dst, size_t dstsz, const char *text, size_t n)
{
	int	fd;

	snprintf(dst, dstsz, "/tmp/sw-test-procfs.XXXXXX");
	fd = mkstemp(dst);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

static void
test_pidfile(void **state)
{
	struct {
		const char	*text;
		long		 pid;	/* 0: must fail */
	} cases[] = {
		{ "123\n", 123 }, { "  77  \n", 77 }, { "", 0 }, { "\n", 0 },
		{ "abc", 0 }, { "0", 0 }, { "-5", 0 }, { "12 13", 0 },
		{ "99999999999999999999", 0 },
	};
	char		 path[64], *big;
	long		 pid;
	size_t		 i;
	struct sw_err	 err;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		temp_file(path, sizeof path, cases[i].text,
		    strlen(cases[i].text));
		pid = -1;
		sw_err_clear(&err);
		if (cases[i].pid != 0) {
			assert_int_equal(sw_procfs_read_pidfile(path, &pid,
			    &err), 0);
			assert_int_equal(pid, cases[i].pid);
		} else {
			assert_int_equal(sw_procfs_read_pidfile(path, &pid,
			    &err), -1);
			assert_int_equal(pid, -1);
			assert_non_null(strstr(err.msg, path));
		}
		unlink(path);
	}
	/* bigger than the cap */
	big = malloc(10000);
	assert_non_null(big);
	memset(big, '1', 10000);
	temp_file(path, sizeof path, big, 10000);
	free(big);
	assert_int_equal(sw_procfs_read_pidfile(path, &pid, NULL), -1);
	unlink(path);
	sw_err_clear(&err);
	assert_int_equal(sw_procfs_read_pidfile("/nonexistent/x.pid", &pid,
	    &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/x.pid"));
}

/* Keeps the holder's memory reachable so no compiler drops it. */
static char *volatile held;

/* A child that holds n touched bytes and waits to be killed. Its pid. */
static pid_t
holder(size_t n)
{
	int	 fds[2];
	pid_t	 pid;
	char	 c = 0;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if ((held = malloc(n)) != NULL)
			memset(held, 0x5a, n);
		if (write(fds[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
test_real_child(void **state)
{
	struct sw_procfs	 fs;
	struct sw_proc		 p, me;
	struct sw_proc_stat	 st, mst;
	struct sw_proc_status	 ss;
	struct sw_proc_rollup	 ru;
	struct sw_buf		 b;
	struct sw_err		 err;
	long			 fds;
	pid_t			 pid;
	const size_t		 n = 16u << 20;

	(void)state;
	pid = holder(n);
	sw_err_clear(&err);
	assert_int_equal(sw_procfs_open(&fs, NULL, &err), 0);
	assert_true(fs.btime_ms > 1000000000000LL);
	open_pid(&fs, pid, &p);
	assert_int_equal(sw_proc_read_stat(&p, &st, NULL), 0);
	assert_int_equal(st.pid, pid);
	assert_int_equal(st.ppid, getpid());
	assert_int_not_equal(st.state, 'Z');
	open_pid(&fs, getpid(), &me);
	assert_int_equal(sw_proc_read_stat(&me, &mst, NULL), 0);
	sw_proc_close(&me);
	assert_true(st.starttime >= mst.starttime);
	assert_true(sw_procfs_start_ms(&fs, st.starttime) <=
	    (int64_t)time(NULL) * 1000 + 1000);
	assert_true(sw_procfs_start_ms(&fs, st.starttime) >
	    (int64_t)time(NULL) * 1000 - 600000);

	assert_int_equal(sw_proc_read_status(&p, &ss, NULL), 0);
	assert_true(ss.have_rss);
	assert_true(ss.rss >= n);
	assert_true(ss.anon >= n);
	assert_int_equal(sw_proc_read_rollup(&p, &ru, NULL), 0);
	assert_true(ru.have);
	assert_true(ru.rss >= n);
	assert_true(ru.pss > 0);
	sw_buf_init(&b, SW_PROCFS_CMDLINE_MAX);
	assert_int_equal(sw_proc_read_cmdline(&p, &b, NULL), 0);
	assert_non_null(strstr(sw_buf_str(&b), "test_procfs"));
	assert_int_equal(sw_proc_count_fds(&p, &fds, NULL), 0);
	assert_true(fds >= 3);

	/* the process vanishes between two reads of one instance */
	reap(pid);
	sw_err_clear(&err);
	assert_int_equal(sw_proc_read_stat(&p, &st, &err), -1);
	assert_true(sw_procfs_gone(errno));
	assert_true(err.set);
	assert_int_equal(sw_proc_read_status(&p, &ss, NULL), -1);
	assert_true(sw_procfs_gone(errno));
	assert_int_equal(sw_proc_read_rollup(&p, &ru, NULL), -1);
	assert_true(sw_procfs_gone(errno));
	assert_int_equal(sw_proc_read_cmdline(&p, &b, NULL), -1);
	assert_true(sw_procfs_gone(errno));
	assert_int_equal(sw_proc_count_fds(&p, &fds, NULL), -1);
	assert_true(sw_procfs_gone(errno));
	sw_proc_close(&p);
	assert_int_equal(sw_proc_open(&fs, pid, &p, NULL), -1);
	assert_true(sw_procfs_gone(errno));
	sw_buf_release(&b);
	sw_procfs_close(&fs);
}

/* ---- the source, through a recording sink ---- */

#define MAX_REC	256

struct rec {
	char	metric[32];
	double	v;
};

struct evrec {
	char	kind[16];
	long	pid;
	char	detail[256];
};

static struct rec	samples[MAX_REC];
static int		nsamples;
static struct evrec	events[MAX_REC];
static int		nevents;

static void
rec_sample(void *arg, const char *target, const char *metric,
    const char *labels, const char *unit, int64_t ts_ms, double v)
{
	(void)arg;
	(void)target;
	(void)labels;
	(void)unit;
	(void)ts_ms;
	assert_true(nsamples < MAX_REC);
	snprintf(samples[nsamples].metric, sizeof samples[0].metric, "%s",
	    metric);
	samples[nsamples++].v = v;
}

static void
rec_event(void *arg, const char *target, const char *kind, long pid,
    int64_t ts_ms, const char *detail)
{
	(void)arg;
	(void)target;
	(void)ts_ms;
	assert_true(nevents < MAX_REC);
	snprintf(events[nevents].kind, sizeof events[0].kind, "%s", kind);
	events[nevents].pid = pid;
	snprintf(events[nevents].detail, sizeof events[0].detail, "%s",
	    detail != NULL ? detail : "");
	nevents++;
}

/* The last value of metric in the recording; -1 when absent. */
static double
last(const char *metric)
{
	int	i;

	for (i = nsamples - 1; i >= 0; i--)
		if (strcmp(samples[i].metric, metric) == 0)
			return samples[i].v;
	return -1;
}

static void
rec_reset(void)
{
	nsamples = 0;
	nevents = 0;
}

struct harness {
	struct sw_conf_target	conf;
	struct sw_targets_ctx	ctx;
	struct sw_target	t;
};

static void
harness_init(struct harness *h, const char *name)
{
	memset(h, 0, sizeof *h);
	h->conf.name = (char *)name;
	h->conf.kind = SW_TARGET_PROCESS;
	h->conf.loc.file = "test.conf";
	h->conf.loc.line = 1;
	h->conf.loc.col = 1;
	h->conf.every_ms = 1000;
	h->ctx.sink.sample = rec_sample;
	h->ctx.sink.event = rec_event;
	h->t.conf = &h->conf;
	h->t.ctx = &h->ctx;
	h->t.ops = &sw_source_process;
	h->t.up = -1;
	rec_reset();
}

static void
harness_collect(struct harness *h)
{
	h->t.busy = 1;
	sw_source_process.collect(&h->t);
	assert_int_equal(h->t.busy, 0);
}

static void
test_source_fake_tree(void **state)
{
	struct harness	 h;
	struct sw_err	 err;
	char		 dir[1200], pf[64];

	(void)state;
	sw_procfs_set_default_root(root);

	/* match + children: 42 and its live descendants 44 and 45; the
	 * zombie 43 and the kernel thread are left out */
	harness_init(&h, "web");
	h.conf.u.process.match = (char *)"^node server";
	h.conf.u.process.children = 1;
	sw_err_clear(&err);
	assert_int_equal(sw_source_process.init(&h.t, &err), 0);
	harness_collect(&h);
	assert_int_equal(h.t.up, 1);
	assert_int_equal(h.t.pid, 42);
	assert_int_equal(h.t.started_ms, 1700000000000LL +
	    250000 * 1000 / sysconf(_SC_CLK_TCK));
	assert_true(last("rss") == (102400.0 + 20480 + 1024) * 1024);
	assert_true(last("pss") == (90000.0 + 15000 + 300) * 1024);
	assert_true(last("anon") == (81920.0 + 16384 + 512) * 1024);
	assert_true(last("swap") == 2048.0 * 1024);
	assert_true(last("threads") == 11);
	assert_true(last("fds") == 10);
	assert_true(last("processes") == 3);
	assert_true(last("pid") == 42);
	assert_true(last("cpu") == -1);	/* no rate from one sample */
	assert_true(last("limit") == -1);
	assert_int_equal(nevents, 1);
	assert_string_equal(events[0].kind, "start");
	assert_int_equal(events[0].pid, 42);
	assert_non_null(strstr(events[0].detail, "\"pid\":42"));
	/* the same instance again: no event, and now a cpu rate (0: the
	 * fake tree's ticks do not move) */
	rec_reset();
	harness_collect(&h);
	assert_int_equal(nevents, 0);
	assert_true(last("cpu") == 0);
	sw_source_process.free(&h.t);

	/* without children: the main only, and a configured limit */
	harness_init(&h, "web1");
	h.conf.u.process.match = (char *)"node";
	h.conf.u.process.limit = 1e9;
	assert_int_equal(sw_source_process.init(&h.t, NULL), 0);
	harness_collect(&h);
	assert_int_equal(h.t.pid, 42);	/* the oldest match */
	assert_true(last("rss") == 102400.0 * 1024);
	assert_true(last("processes") == -1);
	assert_true(last("limit") == 1e9);
	sw_source_process.free(&h.t);

	/* a cgroup directory: memory.current, oom kills, memory.high */
	snprintf(dir, sizeof dir, "%s/cgroup/web.service", fixtures);
	harness_init(&h, "cg");
	h.conf.u.process.cgroup = dir;
	assert_int_equal(sw_source_process.init(&h.t, NULL), 0);
	harness_collect(&h);
	assert_int_equal(h.t.up, 1);
	assert_int_equal(h.t.pid, 42);
	assert_true(last("cgroup_current") == 104857600);
	assert_true(last("oom_kills") == 2);
	assert_true(last("limit") == 536870912);
	assert_true(last("processes") == 1);
	sw_source_process.free(&h.t);
	harness_init(&h, "cg");
	h.conf.u.process.cgroup = dir;
	h.conf.u.process.children = 1;
	assert_int_equal(sw_source_process.init(&h.t, NULL), 0);
	harness_collect(&h);
	assert_true(last("processes") == 3);
	assert_true(last("rss") == (102400.0 + 20480 + 1024) * 1024);
	sw_source_process.free(&h.t);

	/* a pidfile naming the zombie: down, one "down" event, not more */
	temp_file(pf, sizeof pf, "43\n", 3);
	harness_init(&h, "z");
	h.conf.u.process.pidfile = pf;
	assert_int_equal(sw_source_process.init(&h.t, NULL), 0);
	harness_collect(&h);
	harness_collect(&h);
	harness_collect(&h);
	assert_int_equal(h.t.up, 0);
	assert_int_equal(h.t.failures, 3);
	assert_non_null(strstr(h.t.last_error, "pid 43 is not running"));
	assert_int_equal(nsamples, 0);
	assert_int_equal(nevents, 1);
	assert_string_equal(events[0].kind, "down");
	sw_source_process.free(&h.t);
	unlink(pf);

	/* no match at all, and a kernel thread never matches */
	harness_init(&h, "k");
	h.conf.u.process.match = (char *)"kthreadd|^$";
	assert_int_equal(sw_source_process.init(&h.t, NULL), 0);
	harness_collect(&h);
	assert_int_equal(h.t.up, 0);
	assert_non_null(strstr(h.t.last_error, "no process matches"));
	sw_source_process.free(&h.t);

	/* bad configurations fail at init with the place */
	harness_init(&h, "bad");
	h.conf.u.process.match = (char *)"(";
	sw_err_clear(&err);
	assert_int_equal(sw_source_process.init(&h.t, &err), -1);
	assert_non_null(strstr(err.msg, "test.conf:1:1"));
	harness_init(&h, "bad");
	sw_err_clear(&err);
	assert_int_equal(sw_source_process.init(&h.t, &err), -1);
	assert_non_null(strstr(err.msg, "exactly one"));
	harness_init(&h, "bad");
	h.conf.u.process.unit = (char *)"../x";
	assert_int_equal(sw_source_process.init(&h.t, NULL), -1);

	sw_procfs_set_default_root(NULL);
}

/* Writes pid to path. */
static void
write_pidfile(const char *path, pid_t pid)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "%ld\n", (long)pid);
	fclose(f);
}

static void
test_source_restart(void **state)
{
	struct harness	 h;
	char		 pf[64];
	pid_t		 a, b;
	int		 i;

	(void)state;
	temp_file(pf, sizeof pf, "", 0);
	a = holder(4u << 20);
	write_pidfile(pf, a);
	harness_init(&h, "svc");
	h.conf.u.process.pidfile = pf;
	assert_int_equal(sw_source_process.init(&h.t, NULL), 0);
	harness_collect(&h);
	assert_int_equal(h.t.up, 1);
	assert_int_equal(h.t.pid, a);
	assert_true(last("rss") >= 4 << 20);
	assert_true(last("fds") >= 3);
	assert_true(last("threads") == 1);
	assert_int_equal(nevents, 1);
	assert_string_equal(events[0].kind, "start");

	/* killed and replaced between two collections: one restart */
	reap(a);
	b = holder(1u << 20);
	write_pidfile(pf, b);
	rec_reset();
	harness_collect(&h);
	assert_int_equal(h.t.pid, b);
	assert_int_equal(nevents, 1);
	assert_string_equal(events[0].kind, "restart");
	assert_int_equal(events[0].pid, b);
	assert_non_null(strstr(events[0].detail, "\"old_pid\""));
	assert_true(last("cpu") == -1);	/* a new instance starts afresh */

	/* gone: one stop, then quiet while down */
	reap(b);
	rec_reset();
	for (i = 0; i < 3; i++)
		harness_collect(&h);
	assert_int_equal(h.t.up, 0);
	assert_int_equal(h.t.pid, 0);
	assert_int_equal(nevents, 1);
	assert_string_equal(events[0].kind, "stop");
	assert_int_equal(events[0].pid, b);

	/* back: a restart naming the previous instance */
	a = holder(1u << 20);
	write_pidfile(pf, a);
	rec_reset();
	harness_collect(&h);
	assert_int_equal(h.t.up, 1);
	assert_int_equal(nevents, 1);
	assert_string_equal(events[0].kind, "restart");
	reap(a);
	sw_source_process.free(&h.t);
	unlink(pf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_btime),
		cmocka_unit_test(test_list_pids),
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_comm_with_parens),
		cmocka_unit_test(test_kernel_thread),
		cmocka_unit_test(test_zombie),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_parse_stat_edges),
		cmocka_unit_test(test_parse_status_edges),
		cmocka_unit_test(test_cgroup_files),
		cmocka_unit_test(test_pidfile),
		cmocka_unit_test(test_real_child),
		cmocka_unit_test(test_source_fake_tree),
		cmocka_unit_test(test_source_restart),
	};

	return cmocka_run_group_tests(tests, setup_paths, NULL);
}
