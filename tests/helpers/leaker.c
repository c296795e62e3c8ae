#include "config.h"
/*
 * leaker.c: a test program that leaks memory at a known rate, for the
 * process-target tests (tests/e2e/process.sh).
 *
 *   leaker --rate BYTES_PER_S [--hold BYTES] [--children N] [--grandchild]
 *          [--child-rate BYTES_PER_S] [--pidfile F] [--duration S]
 *          [--max BYTES] [--log FILE]
 *
 * Every process first allocates and touches --hold bytes, then the parent
 * leaks --rate bytes per second (children --child-rate, default 0: they
 * sit) in small steps, each memset so the pages land in RSS, computed from a
 * monotonic clock so the growth is linear in time. After --duration seconds
 * (default: never) or --max bytes (default 1 GiB) it stops growing and
 * sits. The pidfile is written (atomically) once the children exist.
 * --log records "UNIX_MS BYTES" after each step of the parent's growth, so
 * a test can compare what it measured with what really happened even when
 * a loaded machine made the leaker fall behind its schedule.
 * Children die with their parent (PR_SET_PDEATHSIG), so killing the parent
 * cleans up the tree.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STEP_NS	10000000L	/* 10 ms */

static double
mono_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_num(const char *s, long long *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: leaker --rate BYTES_PER_S [--hold BYTES] "
	    "[--children N] [--grandchild] [--child-rate BYTES_PER_S] "
	    "[--pidfile F] [--duration S] [--max BYTES] [--log FILE]\n");
	exit(2);
}

/*
 * Maps and touches n bytes; they are never unmapped (that is the point).
 * mmap rather than malloc so that no allocator (nor a sanitizer's) adds
 * its own overhead to the rate the tests measure.
 */
static void
leak(size_t n)
{
	void	*p;

	if (n == 0)
		return;
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "leaker: mmap: %s\n", strerror(errno));
		exit(1);
	}
	memset(p, 0xa5, n);
}

/* Where the parent logs "UNIX_MS BYTES" after each step, or NULL. */
static FILE	*logf;

static long long
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Grows at rate for duration seconds (< 0: forever), then sits. */
static void
run(long long rate, double duration, long long max)
{
	struct timespec	 step = { 0, STEP_NS };
	double		 t0 = mono_s(), el;
	long long	 done = 0, want;

	for (;;) {
		el = mono_s() - t0;
		if (duration >= 0 && el > duration)
			el = duration;
		want = (long long)((double)rate * el);
		if (want > max)
			want = max;
		if (want > done) {
			leak((size_t)(want - done));
			done = want;
			if (logf != NULL) {
				fprintf(logf, "%lld %lld\n", wall_ms(), done);
				fflush(logf);
			}
		}
		if ((duration >= 0 && el >= duration) || done >= max ||
		    rate == 0)
			break;
		nanosleep(&step, NULL);
	}
	for (;;)
		pause();
}

static pid_t
spawn(long long hold, long long rate, double duration, long long max,
    int grandchild)
{
	pid_t	pid;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "leaker: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid != 0)
		return pid;
	logf = NULL;	/* the log is the parent's */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(0);
	leak((size_t)hold);
	if (grandchild)
		spawn(hold, rate, duration, max, 0);
	run(rate, duration, max);
	_exit(0);
}

int
main(int argc, char **argv)
{
	long long	 rate = -1, hold = 0, children = 0, crate = 0;
	long long	 dur = -1, max = 1LL << 30;
	const char	*pidfile = NULL, *logpath = NULL;
	char		 tmp[4096];
	FILE		*f;
	int		 i, grandchild = 0;

	for (i = 1; i < argc; i++) {
		const char	*a = argv[i];
		long long	*dst = NULL;

		if (strcmp(a, "--grandchild") == 0) {
			grandchild = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--rate") == 0)
			dst = &rate;
		else if (strcmp(a, "--hold") == 0)
			dst = &hold;
		else if (strcmp(a, "--children") == 0)
			dst = &children;
		else if (strcmp(a, "--child-rate") == 0)
			dst = &crate;
		else if (strcmp(a, "--duration") == 0)
			dst = &dur;
		else if (strcmp(a, "--max") == 0)
			dst = &max;
		else if (strcmp(a, "--pidfile") == 0) {
			pidfile = argv[++i];
			continue;
		} else if (strcmp(a, "--log") == 0) {
			logpath = argv[++i];
			continue;
		} else
			usage();
		if (parse_num(argv[++i], dst) != 0)
			usage();
	}
	if (rate < 0 || children > 64)
		usage();

	if (logpath != NULL && (logf = fopen(logpath, "w")) == NULL) {
		fprintf(stderr, "leaker: %s: %s\n", logpath, strerror(errno));
		return 1;
	}
	leak((size_t)hold);
	for (i = 0; i < children; i++)
		spawn(hold, crate, dur < 0 ? -1.0 : (double)dur, max,
		    grandchild && i == 0);
	if (pidfile != NULL) {
		snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
		if ((f = fopen(tmp, "w")) == NULL ||
		    fprintf(f, "%ld\n", (long)getpid()) < 0 ||
		    fclose(f) != 0 || rename(tmp, pidfile) != 0) {
			fprintf(stderr, "leaker: %s: %s\n", pidfile,
			    strerror(errno));
			return 1;
		}
	}
	run(rate, dur < 0 ? -1.0 : (double)dur, max);
	return 0;
}
