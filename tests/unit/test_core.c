#include "config.h"
/*
 * test_core.c: unit tests of the core pieces every module leans on: the
 * error record, the bounded buffer, log escaping, the clocks and the loop
 * (timers in order, cancellation, fd readiness, signals through the pipe).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/loop.h"

static void
test_err_first_wins(void **state)
{
	struct sw_err	err;

	(void)state;
	sw_err_clear(&err);
	assert_int_equal(sw_err_set(&err, "inner %d", 1), -1);
	sw_err_set(&err, "outer");
	assert_string_equal(err.msg, "inner 1");
	sw_err_clear(&err);
	sw_err_sys(&err, ENOENT, "open %s", "x");
	assert_string_equal(err.msg, "open x: No such file or directory");
	assert_int_equal(sw_err_set(NULL, "ignored"), -1);
}

static void
test_buf_cap(void **state)
{
	struct sw_buf	b;

	(void)state;
	sw_buf_init(&b, 8);
	assert_string_equal(sw_buf_str(&b), "");
	assert_int_equal(sw_buf_adds(&b, "abcdef"), 0);
	assert_int_equal(sw_buf_adds(&b, "xyz"), -1);	/* would pass 8 */
	assert_string_equal(sw_buf_str(&b), "abcdef");	/* unchanged */
	assert_int_equal(sw_buf_addf(&b, "%d", 42), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(sw_buf_str(&b), "abcdef42");
	assert_int_equal(sw_buf_addc(&b, '!'), -1);
	sw_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(sw_buf_str(&b), "");
	sw_buf_release(&b);
}

static void
test_buf_read_file(void **state)
{
	struct sw_buf	b;
	struct sw_err	err;
	char		path[] = "/tmp/sw-test-buf.XXXXXX";
	int		fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	sw_buf_init(&b, 100);
	sw_err_clear(&err);
	assert_int_equal(sw_buf_read_file(&b, path, &err), 0);
	assert_string_equal(sw_buf_str(&b), "0123456789");
	sw_buf_release(&b);

	sw_buf_init(&b, 5);
	assert_int_equal(sw_buf_read_file(&b, path, &err), -1);
	assert_non_null(strstr(err.msg, "larger than 5 bytes"));
	sw_buf_release(&b);

	sw_err_clear(&err);
	unlink(path);
	sw_buf_init(&b, 5);
	assert_int_equal(sw_buf_read_file(&b, path, &err), -1);
	assert_int_equal(errno, ENOENT);
	sw_buf_release(&b);
}

/* A FIFO named where a file is expected (a pidfile, a secret) fails at
 * once instead of blocking the loop until a writer appears. */
static void
test_buf_read_fifo(void **state)
{
	struct sw_buf	b;
	struct sw_err	err;
	char		dir[] = "/tmp/sw-test-fifo.XXXXXX", path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	sw_buf_init(&b, 100);
	sw_err_clear(&err);
	assert_int_equal(sw_buf_read_file(&b, path, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	sw_buf_release(&b);
	unlink(path);
	rmdir(dir);
}

static void
test_buf_detach(void **state)
{
	struct sw_buf	 b;
	char		*s;

	(void)state;
	sw_buf_init(&b, 64);
	s = sw_buf_detach(&b);
	assert_string_equal(s, "");
	free(s);
	sw_buf_adds(&b, "hello");
	s = sw_buf_detach(&b);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	free(s);
}

static void
test_log_escape(void **state)
{
	char	out[64];

	(void)state;
	sw_log_escape(out, sizeof(out), "a\nb\"c\\\x01", 7);
	assert_string_equal(out, "a\\nb\\\"c\\\\\\x01");
	sw_log_escape(out, 8, "0123456789abcdef", 16);
	assert_string_equal(out, "0123...");
	assert_true(strlen(out) < 8);
}

/* Runs fn with stderr sent to a file; returns what was written. */
static char *
capture_stderr(void (*fn)(void))
{
	char	 path[] = "/tmp/sw-test-log.XXXXXX";
	int	 fd, saved;
	struct sw_buf b;
	char	*out;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	sw_buf_init(&b, 65536);
	assert_int_equal(sw_buf_read_file(&b, path, NULL), 0);
	unlink(path);
	out = sw_buf_detach(&b);
	return out;
}

static void
complain_sequence(void)
{
	struct sw_complain	c;

	memset(&c, 0, sizeof(c));
	sw_clock_set_fake(1000000, 1700000000000LL);
	sw_complain(&c, "disk %s", "full");		/* logged */
	sw_complain(&c, "disk %s", "full");		/* within backoff: not */
	sw_clock_advance_us(61LL * 1000000);
	sw_complain(&c, "disk %s", "full");		/* logged with a count */
	sw_complain_release(&c, "writing again");	/* logged once */
	sw_complain_release(&c, "writing again");	/* not failing: not */
	c.loud = 1;
	sw_complain(&c, "store gone");			/* ERROR level */
	sw_clock_set_fake(-1, 0);
}

/* A repeating failure: logged once, then after the backoff with the count
 * of failures since, "recovered" once; loud ones at error level. */
static void
test_complain(void **state)
{
	char	*out;

	(void)state;
	sw_log_set_level(SW_LOG_INFO);
	out = capture_stderr(complain_sequence);
	assert_non_null(strstr(out, "warn: disk full\n"));
	assert_non_null(strstr(out, "warn: disk full (2 times since last "
	    "report)\n"));
	assert_non_null(strstr(out, "info: writing again\n"));
	assert_null(strstr(strstr(out, "writing again") + 1, "writing again"));
	assert_non_null(strstr(out, "error: store gone\n"));
	free(out);
}

static void
test_clock_fake(void **state)
{
	(void)state;
	sw_clock_set_fake(1000, 5000);
	assert_int_equal(sw_clock_mono_us(), 1000);
	assert_int_equal(sw_clock_wall_ms(), 5000);
	sw_clock_advance_us(2500000);
	assert_int_equal(sw_clock_mono_us(), 2501000);
	assert_int_equal(sw_clock_wall_ms(), 7500);
	sw_clock_set_fake(-1, 0);
	assert_true(sw_clock_wall_ms() > 1600000000000LL);
}

struct order {
	char	seen[16];
	int	n;
};

static void
timer_mark(void *arg)
{
	struct order	*o = arg;

	o->seen[o->n++] = 'x';
}

static struct order	*order_of;

static void timer_a(void *arg) { (void)arg; order_of->seen[order_of->n++] = 'a'; }
static void timer_b(void *arg) { (void)arg; order_of->seen[order_of->n++] = 'b'; }
static void timer_c(void *arg) { (void)arg; order_of->seen[order_of->n++] = 'c'; }

static void
test_loop_timers(void **state)
{
	struct sw_loop	*loop;
	struct order	 o;
	uint64_t	 id;
	int64_t		 now;

	(void)state;
	memset(&o, 0, sizeof(o));
	order_of = &o;
	loop = sw_loop_new(NULL);
	assert_non_null(loop);
	now = sw_clock_mono_us();
	sw_loop_timer_at(loop, now + 3000, timer_c, NULL);
	sw_loop_timer_at(loop, now + 1000, timer_a, NULL);
	id = sw_loop_timer_at(loop, now + 2000, timer_mark, &o);
	sw_loop_timer_at(loop, now + 2000, timer_b, NULL);
	sw_loop_timer_cancel(loop, id);
	sw_loop_timer_cancel(loop, 9999);	/* unknown: ignored */
	while (o.n < 3)
		assert_int_equal(sw_loop_once(loop, 100000, NULL), 0);
	assert_memory_equal(o.seen, "abc", 3);
	assert_true(sw_clock_mono_us() - now >= 3000);
	sw_loop_free(loop);
}

struct fdstate {
	int	reads;
	char	got[8];
};

static void
fd_ready(int fd, short revents, void *arg)
{
	struct fdstate	*s = arg;
	ssize_t		 n;

	assert_true(revents & POLLIN);
	n = read(fd, s->got, sizeof(s->got) - 1);
	assert_true(n > 0);
	s->got[n] = '\0';
	s->reads++;
}

static void
test_loop_fd(void **state)
{
	struct sw_loop	*loop;
	struct fdstate	 s;
	int		 p[2];

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(pipe(p), 0);
	loop = sw_loop_new(NULL);
	assert_int_equal(sw_loop_fd_set(loop, p[0], POLLIN, fd_ready, &s), 0);
	/* nothing to read: times out without calling back */
	assert_int_equal(sw_loop_once(loop, 10000, NULL), 0);
	assert_int_equal(s.reads, 0);
	assert_int_equal(write(p[1], "hi", 2), 2);
	assert_int_equal(sw_loop_once(loop, 1000000, NULL), 0);
	assert_int_equal(s.reads, 1);
	assert_string_equal(s.got, "hi");
	sw_loop_fd_del(loop, p[0]);
	assert_int_equal(write(p[1], "again", 5), 5);
	assert_int_equal(sw_loop_once(loop, 10000, NULL), 0);
	assert_int_equal(s.reads, 1);	/* removed watch: no callback */
	sw_loop_free(loop);
	close(p[0]);
	close(p[1]);
}

static void
on_signal(int signo, void *arg)
{
	struct sw_loop	*loop = arg;

	assert_int_equal(signo, SIGUSR1);
	sw_loop_stop(loop);
}

static void
test_loop_signal(void **state)
{
	struct sw_loop	*loop;
	struct sw_err	 err;

	(void)state;
	loop = sw_loop_new(NULL);
	sw_err_clear(&err);
	assert_int_equal(sw_loop_signal(loop, SIGUSR1, on_signal, loop, &err), 0);
	raise(SIGUSR1);
	/* run returns only because the signal callback stopped the loop */
	assert_int_equal(sw_loop_run(loop, &err), 0);
	sw_loop_free(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_first_wins),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_read_file),
		cmocka_unit_test(test_buf_read_fifo),
		cmocka_unit_test(test_buf_detach),
		cmocka_unit_test(test_log_escape),
		cmocka_unit_test(test_complain),
		cmocka_unit_test(test_clock_fake),
		cmocka_unit_test(test_loop_timers),
		cmocka_unit_test(test_loop_fd),
		cmocka_unit_test(test_loop_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
