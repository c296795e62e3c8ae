#include "config.h"
/*
 * test_action.c: restart actions with real child processes: exit codes,
 * signals, an exec failure told apart from "exited 127", the timeout
 * killing a hanging child and its grandchildren (process group), the
 * output cap, no inherited fds, a clean environment that carries alert
 * data verbatim (shell metacharacters run nothing), the before step, and
 * verify; then the guard rails with the fake clock (cooldown, budget, one
 * escalation per exhaustion period, silence, dry run, reload), and their
 * persistence through a real store file. Last, the check-time validation
 * of programs and the permission rule for files holding actions.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "slopewatch/action.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/loop.h"
#include "slopewatch/store.h"

#define MAX_REPORTS	16

struct rep {
	enum sw_action_report_kind kind;
	int		 ok;
	char		 text[1024];
	char		 detail[8192];
	int		 has_run, has_before;
	struct sw_action_result run, before;	/* output/text re-pointed */
	char		 run_out[70000], run_text[320];
	char		 before_out[4096], before_text[320];
	long		 new_pid;
	int		 cleared;
	enum sw_severity severity;
};

struct recorder {
	struct rep	 r[MAX_REPORTS];
	int		 n;
	/* verify answers */
	long		 new_pid;
	int		 cleared;
	const char	*now;
	int		 nverify;
	char		 vtarget[64];
	long		 vold;
};

static char	 tmpdir[64];
static char	 envdump[PATH_MAX];

static void
copy_result(struct sw_action_result *dst, char *out, size_t outsz,
    char *text, size_t textsz, const struct sw_action_result *src)
{
	size_t	n = src->output_len < outsz - 1 ? src->output_len : outsz - 1;

	*dst = *src;
	memcpy(out, src->output, n);
	out[n] = '\0';
	dst->output = out;
	snprintf(text, textsz, "%s", src->text);
	dst->text = text;
}

static void
on_report(void *arg, const struct sw_action_report *r)
{
	struct recorder	*rc = arg;
	struct rep	*p;

	assert_true(rc->n < MAX_REPORTS);
	p = &rc->r[rc->n++];
	memset(p, 0, sizeof(*p));
	p->kind = r->kind;
	p->ok = r->ok;
	p->severity = r->severity;
	snprintf(p->text, sizeof(p->text), "%s", r->text);
	snprintf(p->detail, sizeof(p->detail), "%s",
	    r->detail != NULL ? r->detail : "");
	if (r->run != NULL) {
		p->has_run = 1;
		copy_result(&p->run, p->run_out, sizeof(p->run_out),
		    p->run_text, sizeof(p->run_text), r->run);
	}
	if (r->before != NULL) {
		p->has_before = 1;
		copy_result(&p->before, p->before_out, sizeof(p->before_out),
		    p->before_text, sizeof(p->before_text), r->before);
	}
	p->new_pid = r->new_pid;
	p->cleared = r->cleared;
}

static void
on_verify(void *arg, struct sw_action_verify *v)
{
	struct recorder	*rc = arg;

	rc->nverify++;
	snprintf(rc->vtarget, sizeof(rc->vtarget), "%s", v->target);
	rc->vold = v->old_pid;
	v->new_pid = rc->new_pid;
	v->cleared = rc->cleared;
	if (rc->now != NULL)
		snprintf(v->now, sizeof(v->now), "%s", rc->now);
}

/* A test bed: a conf from text, a loop, the actions. */
struct bed {
	struct sw_conf		*conf;
	struct sw_loop		*loop;
	struct sw_actions	*acts;
	struct recorder		 rec;
	struct sw_store		*st;
};

static struct sw_conf *
parse(const char *text)
{
	struct sw_conf	*conf = NULL;
	int		 n = -1;

	if (sw_conf_parse_string("t.conf", text, &conf, sw_conf_diag_stderr,
	    NULL, &n) != 0) {
		print_message("conf:\n%s\n", text);
		fail();
	}
	return conf;
}

static void
bed_open(struct bed *b, const char *action_body, int dry_run,
    struct sw_store *st)
{
	struct sw_actions_opts	opts;
	struct sw_err		err;
	char			text[4096];

	memset(b, 0, sizeof(*b));
	snprintf(text, sizeof(text), "action a {\n%s\n}\n"
	    "rule r { when 1 > 0; severity warning; action a }\n"
	    "rule r2 { when 1 > 0; action a }\n", action_body);
	b->conf = parse(text);
	sw_err_clear(&err);
	b->loop = sw_loop_new(&err);
	assert_non_null(b->loop);
	memset(&opts, 0, sizeof(opts));
	opts.dry_run = dry_run;
	opts.kill_grace_ms = 300;
	opts.report = on_report;
	opts.verify = on_verify;
	opts.arg = &b->rec;
	b->st = st;
	b->acts = sw_actions_new(b->conf, b->loop, st, &opts, &err);
	if (b->acts == NULL)
		print_message("%s\n", err.msg);
	assert_non_null(b->acts);
}

static void
bed_close(struct bed *b)
{
	sw_actions_free(b->acts);
	sw_loop_free(b->loop);
	sw_conf_free(b->conf);
}

static int64_t
real_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the loop until no sequence is in flight (at most limit_ms). */
static void
bed_wait(struct bed *b, int64_t limit_ms)
{
	int64_t	end = real_ms() + limit_ms;

	while (sw_actions_busy(b->acts) > 0 && real_ms() < end)
		assert_int_equal(sw_loop_once(b->loop, 20000, NULL), 0);
	assert_int_equal(sw_actions_busy(b->acts), 0);
}

/* Fires the rule (target web, pid 4121); returns sw_actions_alert's. */
static int
bed_fire(struct bed *b, const char *summary, int silenced)
{
	struct sw_action_alert	al;
	struct sw_err		err;
	int			rc;

	memset(&al, 0, sizeof(al));
	al.rule = b->conf->rules;
	al.event = "firing";
	al.target = "web";
	al.pid = 4121;
	al.value = 31457280.5;
	al.summary = summary;
	al.silenced = silenced;
	sw_err_clear(&err);
	rc = sw_actions_alert(b->acts, &al, &err);
	if (rc == -1)
		print_message("alert: %s\n", err.msg);
	return rc;
}

/* The last report of a kind, or fail. */
static struct rep *
last_report(struct bed *b, enum sw_action_report_kind kind)
{
	int	i;

	for (i = b->rec.n - 1; i >= 0; i--)
		if (b->rec.r[i].kind == kind)
			return &b->rec.r[i];
	fail_msg("no report of kind %d", (int)kind);
	return NULL;
}

static int
count_reports(struct bed *b, enum sw_action_report_kind kind)
{
	int	i, n = 0;

	for (i = 0; i < b->rec.n; i++)
		n += b->rec.r[i].kind == kind;
	return n;
}

/* Runs one action body once (real clock) and returns its RAN report. */
static struct rep *
run_once(struct bed *b, const char *body)
{
	bed_open(b, body, 0, NULL);
	assert_int_equal(bed_fire(b, "sum", 0), 1);
	bed_wait(b, 10000);
	return last_report(b, SW_ACTION_RAN);
}

/* ------------------------------------------------------------------ */
/* envdump output */

struct dump {
	char	*text;
	size_t	 len;
};

static void
dump_read(struct dump *d, const char *path)
{
	FILE	*f;
	long	 n;

	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d->text = calloc(1, (size_t)n + 1);
	assert_non_null(d->text);
	assert_int_equal(fread(d->text, 1, (size_t)n, f), (size_t)n);
	d->len = (size_t)n;
	fclose(f);
}

/* The i-th record of kind ("env", "argv") into dst; 0 found, -1 not. */
static int
dump_rec(const struct dump *d, const char *kind, int i, char *dst,
    size_t dstsz)
{
	const char	*p = d->text, *end = d->text + d->len;
	size_t		 kl = strlen(kind), n;
	char		*q;
	int		 k = 0;

	while (p < end) {
		if (strncmp(p, kind, kl) == 0 && p[kl] == ' ' &&
		    (strcmp(kind, "env") == 0 || strcmp(kind, "argv") == 0)) {
			n = strtoul(p + kl + 1, &q, 10);
			q++;
			if (k++ == i) {
				snprintf(dst, dstsz, "%.*s", (int)n, q);
				return 0;
			}
			p = q + n + 1;
			continue;
		}
		if (strncmp(p, kind, kl) == 0 && p[kl] == ' ') {
			q = strchr(p, '\n');
			if (k++ == i) {
				snprintf(dst, dstsz, "%.*s", (int)(q - p - kl - 1),
				    p + kl + 1);
				return 0;
			}
			p = q + 1;
			continue;
		}
		/* a record of another kind: skip it */
		if ((strncmp(p, "env ", 4) == 0 || strncmp(p, "argv ", 5) == 0)) {
			q = strchr(p, ' ');
			n = strtoul(q + 1, &q, 10);
			p = q + 1 + n + 1;
		} else {
			q = strchr(p, '\n');
			if (q == NULL)
				break;
			p = q + 1;
		}
	}
	return -1;
}

/* The value of NAME in the dumped environment, or NULL. */
static const char *
dump_env(const struct dump *d, const char *name, char *dst, size_t dstsz)
{
	char	rec[8192];
	size_t	nl = strlen(name);
	int	i;

	for (i = 0; dump_rec(d, "env", i, rec, sizeof(rec)) == 0; i++)
		if (strncmp(rec, name, nl) == 0 && rec[nl] == '=') {
			snprintf(dst, dstsz, "%s", rec + nl + 1);
			return dst;
		}
	return NULL;
}

static void
path_in_tmp(char *dst, size_t dstsz, const char *name)
{
	snprintf(dst, dstsz, "%s/%s", tmpdir, name);
}

/* ------------------------------------------------------------------ */
/* outcomes */

static void
test_exit_codes(void **state)
{
	struct bed	 b;
	struct rep	*r;

	(void)state;
	r = run_once(&b, "run /bin/sh -c 'exit 3'");
	assert_int_equal(r->run.ran, 1);
	assert_int_equal(r->run.exited, 1);
	assert_int_equal(r->run.status, 3);
	assert_string_equal(r->run.text, "exited 3");
	assert_false(r->ok);
	assert_non_null(strstr(r->text, "ran a for rule r: exited 3 in "));
	assert_non_null(strstr(r->detail, "\"result\":\"exited 3\""));
	assert_non_null(strstr(r->detail, "\"exit\":3"));
	bed_close(&b);

	r = run_once(&b, "run /bin/true");
	assert_true(r->ok);
	assert_string_equal(r->run.text, "exited 0");
	bed_close(&b);
}

static void
test_signal(void **state)
{
	struct bed	 b;
	struct rep	*r;

	(void)state;
	r = run_once(&b, "run /bin/sh -c 'kill -9 $$'");
	assert_int_equal(r->run.ran, 1);
	assert_int_equal(r->run.exited, 0);
	assert_int_equal(r->run.signo, 9);
	assert_string_equal(r->run.text, "killed by signal 9");
	assert_non_null(strstr(r->detail, "\"signal\":9"));
	bed_close(&b);
}

/* valgrind cannot survive a failed execve in a child it runs: the exec
 * failure cases need the real thing */
static int
under_valgrind(void)
{
	const char	*p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* "could not run" (ENOENT through the exec pipe) is not "exited 127". */
static void
test_exec_failure(void **state)
{
	struct bed	 b;
	struct rep	*r;
	char		 body[PATH_MAX + 64], script[PATH_MAX];
	FILE		*f;

	(void)state;
	if (under_valgrind())
		goto no_exec;
	r = run_once(&b, "run /nonexistent/prog arg");
	assert_int_equal(r->run.ran, 0);
	assert_int_equal(r->run.exited, 0);
	assert_int_equal(r->run.error, ENOENT);
	assert_string_equal(r->run.text, "could not run: execve "
	    "/nonexistent/prog: No such file or directory (ENOENT)");
	assert_non_null(strstr(r->detail, "\"error\":\"ENOENT\""));
	bed_close(&b);

	r = run_once(&b, "run /bin/sh -c 'exit 127'");
	assert_int_equal(r->run.ran, 1);
	assert_int_equal(r->run.exited, 1);
	assert_int_equal(r->run.status, 127);
	assert_string_equal(r->run.text, "exited 127");
	bed_close(&b);

	/* executable, but its interpreter is missing: execve fails too */
	path_in_tmp(script, sizeof(script), "badinterp.sh");
	f = fopen(script, "w");
	assert_non_null(f);
	fputs("#!/nonexistent/sh\nexit 0\n", f);
	fclose(f);
	chmod(script, 0755);
	snprintf(body, sizeof(body), "run %s", script);
	r = run_once(&b, body);
	assert_int_equal(r->run.ran, 0);
	assert_int_equal(r->run.error, ENOENT);
	bed_close(&b);

no_exec:
	/* a cwd that does not exist */
	r = run_once(&b, "run /bin/true; cwd /nonexistent/dir");
	assert_string_equal(r->run.text, "could not run: chdir "
	    "/nonexistent/dir: No such file or directory (ENOENT)");
	bed_close(&b);

	/* an unknown user */
	r = run_once(&b, "run /bin/true; user no-such-user-sw");
	assert_int_equal(r->run.ran, 0);
	assert_non_null(strstr(r->run.text, "could not run: unknown user "
	    "\"no-such-user-sw\""));
	bed_close(&b);
}

/* A pid read from a file, gone (or a zombie) within limit_ms? */
static int
pid_gone(const char *pidfile, int64_t limit_ms)
{
	FILE	*f;
	long	 pid = 0;
	int64_t	 end = real_ms() + limit_ms;
	char	 path[64], buf[512], *p;

	if ((f = fopen(pidfile, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	while (real_ms() < end) {
		if ((f = fopen(path, "r")) == NULL)
			return 1;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		/* reparented to a pid 1 that may not reap: a zombie is dead */
		if (p == NULL || ((p = strrchr(buf, ')')) != NULL &&
		    p[1] == ' ' && p[2] == 'Z'))
			return 1;
		usleep(20000);
	}
	return 0;
}

/* A hanging child and its grandchild are killed at the timeout; one that
 * ignores SIGTERM gets SIGKILL after the grace period. */
static void
test_timeout_kills_group(void **state)
{
	struct bed	 b;
	struct rep	*r;
	char		 body[PATH_MAX * 2], pidf[PATH_MAX];
	int64_t		 t0;

	(void)state;
	path_in_tmp(pidf, sizeof(pidf), "grandchild1.pid");
	snprintf(body, sizeof(body), "run /bin/sh -c 'sleep 30 & echo $! > "
	    "%s; echo started; sleep 30'; timeout 300ms", pidf);
	t0 = real_ms();
	r = run_once(&b, body);
	assert_true(real_ms() - t0 < 5000);
	assert_int_equal(r->run.timed_out, 1);
	assert_int_equal(r->run.signo, SIGTERM);
	assert_string_equal(r->run.text, "timed out after 300 ms (killed by "
	    "signal 15)");
	assert_string_equal(r->run.output, "started\n");
	assert_true(pid_gone(pidf, 3000));
	assert_non_null(strstr(r->detail, "\"timed_out\":true"));
	bed_close(&b);

	/* everyone ignores SIGTERM: SIGKILL to the group after the grace */
	path_in_tmp(pidf, sizeof(pidf), "grandchild2.pid");
	snprintf(body, sizeof(body), "run /bin/sh -c 'trap \"\" TERM; "
	    "sleep 30 & echo $! > %s; sleep 30'; timeout 200ms", pidf);
	r = run_once(&b, body);
	assert_int_equal(r->run.timed_out, 1);
	assert_int_equal(r->run.signo, SIGKILL);
	assert_string_equal(r->run.text, "timed out after 200 ms (killed by "
	    "signal 9)");
	assert_true(pid_gone(pidf, 3000));
	bed_close(&b);
}

static void
test_output_cap(void **state)
{
	struct bed	 b;
	struct rep	*r;
	int		 i;

	(void)state;
	r = run_once(&b, "run /bin/sh -c 'head -c 100000 /dev/zero | "
	    "tr \"\\\\0\" x; echo tail >&2'");
	assert_true(r->run.exited && r->run.status == 0);
	assert_int_equal(r->run.output_len, SW_ACTION_OUTPUT_MAX);
	assert_int_equal(r->run.output_dropped, 100000 + 5 -
	    SW_ACTION_OUTPUT_MAX);
	for (i = 0; i < SW_ACTION_OUTPUT_MAX; i++)
		if (r->run.output[i] != 'x')
			fail_msg("byte %d is %d", i, r->run.output[i]);
	/* the event keeps a bounded, escaped excerpt */
	assert_non_null(strstr(r->detail, "\"output_bytes\":65536"));
	assert_non_null(strstr(r->detail, "\"output_dropped\":34469"));
	assert_non_null(strstr(r->detail, "[... 63488 bytes ...]"));
	assert_true(strlen(r->detail) < 4000);
	bed_close(&b);

	/* stdout and stderr in one pipe; control bytes escaped in the event */
	r = run_once(&b, "run /bin/sh -c 'printf \"a\\\\tb\\\\001\\\\n\"; "
	    "echo err >&2'");
	assert_string_equal(r->run.output, "a\tb\001\nerr\n");
	assert_non_null(strstr(r->detail,
	    "\"output\":\"a\\\\tb\\\\x01\\\\nerr\\\\n\""));
	bed_close(&b);
}

/* The child sees: no inherited fd, a clean environment with the alert
 * data verbatim, its own session, default signals and an empty mask. */
static void
test_child_view(void **state)
{
	struct bed	 b;
	struct rep	*r;
	struct dump	 d;
	char		 body[PATH_MAX * 3], out[PATH_MAX], rec[8192], v[8192];
	char		 pwned[PATH_MAX], summary[PATH_MAX * 3], pipeinfo[64];
	int		 leak, pfd[2], i, nfd = 0;
	long		 pid = 0, pgid = -1, sid = -2;
	sigset_t	 set, old;

	(void)state;
	/* fds the child must not get: no CLOEXEC on purpose */
	leak = open("/dev/null", O_RDONLY);
	assert_true(leak >= 0);
	assert_int_equal(pipe(pfd), 0);
	setenv("SW_SECRET_TOKEN", "must-not-leak", 1);
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);

	path_in_tmp(out, sizeof(out), "envdump.out");
	path_in_tmp(pwned, sizeof(pwned), "pwned");
	snprintf(body, sizeof(body), "run %s %s 'a b' \"q'uote\"; "
	    "env EXTRA=x=y; env PATH=/custom/bin; cwd /tmp", envdump, out);
	snprintf(summary, sizeof(summary), "; rm -rf / $(touch %s) `touch "
	    "%s` 'single' \"double\" \\ \nnew line $HOME *", pwned, pwned);
	bed_open(&b, body, 0, NULL);
	assert_int_equal(bed_fire(&b, summary, 0), 1);
	bed_wait(&b, 10000);
	r = last_report(&b, SW_ACTION_RAN);
	assert_true(r->ok);
	assert_string_equal(r->run.output, "envdump ok\nenvdump err\n");
	dump_read(&d, out);

	/* argv as configured */
	assert_int_equal(dump_rec(&d, "argv", 1, rec, sizeof(rec)), 0);
	assert_string_equal(rec, out);
	assert_int_equal(dump_rec(&d, "argv", 2, rec, sizeof(rec)), 0);
	assert_string_equal(rec, "a b");
	assert_int_equal(dump_rec(&d, "argv", 3, rec, sizeof(rec)), 0);
	assert_string_equal(rec, "q'uote");

	/* exactly the documented environment */
	for (i = 0; dump_rec(&d, "env", i, rec, sizeof(rec)) == 0; i++)
		;
	assert_int_equal(i, 11);
	assert_string_equal(dump_env(&d, "SLOPEWATCH_SUMMARY", v, sizeof(v)),
	    summary);
	assert_string_equal(dump_env(&d, "SLOPEWATCH_RULE", v, sizeof(v)),
	    "r");
	assert_string_equal(dump_env(&d, "SLOPEWATCH_ACTION", v, sizeof(v)),
	    "a");
	assert_string_equal(dump_env(&d, "SLOPEWATCH_EVENT", v, sizeof(v)),
	    "firing");
	assert_string_equal(dump_env(&d, "SLOPEWATCH_PHASE", v, sizeof(v)),
	    "run");
	assert_string_equal(dump_env(&d, "SLOPEWATCH_TARGET", v, sizeof(v)),
	    "web");
	assert_string_equal(dump_env(&d, "SLOPEWATCH_PID", v, sizeof(v)),
	    "4121");
	assert_string_equal(dump_env(&d, "SLOPEWATCH_VALUE", v, sizeof(v)),
	    "31457280.5");
	assert_string_equal(dump_env(&d, "SLOPEWATCH_SEVERITY", v, sizeof(v)),
	    "warning");
	assert_string_equal(dump_env(&d, "EXTRA", v, sizeof(v)), "x=y");
	assert_string_equal(dump_env(&d, "PATH", v, sizeof(v)), "/custom/bin");
	assert_null(dump_env(&d, "SW_SECRET_TOKEN", v, sizeof(v)));
	assert_null(dump_env(&d, "HOME", v, sizeof(v)));
	/* nothing ran the metacharacters */
	assert_int_equal(access(pwned, F_OK), -1);

	/* fds: 0 /dev/null, 1 and 2 the same pipe, nothing else */
	for (i = 0; dump_rec(&d, "fd", i, rec, sizeof(rec)) == 0; i++) {
		nfd++;
		if (strncmp(rec, "0 ", 2) == 0)
			assert_string_equal(rec, "0 /dev/null");
		else if (strncmp(rec, "1 ", 2) == 0) {
			assert_non_null(strstr(rec, "pipe:"));
			snprintf(pipeinfo, sizeof(pipeinfo), "%.60s", rec + 2);
		} else if (strncmp(rec, "2 ", 2) == 0)
			assert_int_equal(strncmp(rec + 2, pipeinfo,
			    strlen(pipeinfo)), 0);
		else
			fail_msg("inherited fd: %s", rec);
	}
	assert_int_equal(nfd, 3);

	/* its own session and group; default signals, empty mask */
	assert_int_equal(dump_rec(&d, "pid", 0, rec, sizeof(rec)), 0);
	pid = strtol(rec, NULL, 10);
	assert_int_equal(dump_rec(&d, "pgid", 0, rec, sizeof(rec)), 0);
	pgid = strtol(rec, NULL, 10);
	assert_int_equal(dump_rec(&d, "sid", 0, rec, sizeof(rec)), 0);
	sid = strtol(rec, NULL, 10);
	assert_true(pid > 0 && pgid == pid && sid == pid);
	assert_int_equal(dump_rec(&d, "sigblk", 0, rec, sizeof(rec)), 0);
	assert_string_equal(rec, "0000000000000000");
	assert_int_equal(dump_rec(&d, "sigign", 0, rec, sizeof(rec)), 0);
	assert_string_equal(rec, "0000000000000000");
	assert_int_equal(dump_rec(&d, "cwd", 0, rec, sizeof(rec)), 0);
	assert_string_equal(rec, "/tmp");

	free(d.text);
	bed_close(&b);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	unsetenv("SW_SECRET_TOKEN");
	close(leak);
	close(pfd[0]);
	close(pfd[1]);
}

/* The before step runs first; its output and status reach the event; a
 * failing before step does not stop the restart. */
static void
test_before_step(void **state)
{
	struct bed	 b;
	struct rep	*r;

	(void)state;
	r = run_once(&b, "before /bin/sh -c 'echo snapshot at "
	    "/tmp/x.heapsnapshot for $SLOPEWATCH_PID in $SLOPEWATCH_PHASE'\n"
	    "run /bin/sh -c 'echo restarting in $SLOPEWATCH_PHASE'");
	assert_true(r->ok);
	assert_true(r->has_before);
	assert_string_equal(r->before.output, "snapshot at "
	    "/tmp/x.heapsnapshot for 4121 in before\n");
	assert_string_equal(r->before.text, "exited 0");
	assert_string_equal(r->run.output, "restarting in run\n");
	assert_non_null(strstr(r->text, "; before: exited 0"));
	assert_non_null(strstr(r->detail, "\"before\":{\"argv\":"
	    "[\"/bin/sh\",\"-c\","));
	assert_non_null(strstr(r->detail, "snapshot at /tmp/x.heapsnapshot "
	    "for 4121 in before\\\\n"));
	bed_close(&b);

	r = run_once(&b, "before /bin/sh -c 'echo no space; exit 2'\n"
	    "run /bin/true");
	assert_true(r->ok);
	assert_string_equal(r->before.text, "exited 2");
	assert_non_null(strstr(r->text, "exited 0 in "));
	assert_non_null(strstr(r->text, "; before: exited 2"));
	bed_close(&b);

	/* no before: the report says so */
	r = run_once(&b, "run /bin/true");
	assert_false(r->has_before);
	assert_non_null(strstr(r->detail, "\"before\":null"));
	bed_close(&b);
}

/* ------------------------------------------------------------------ */
/* verify and the guard rails (fake clock) */

#define T0_WALL	1700000000000LL
#define T0_MONO	1000000000LL

static void
advance_ms(struct bed *b, int64_t ms)
{
	sw_clock_advance_us(ms * 1000);
	(void)sw_loop_once(b->loop, 0, NULL);
}

static void
test_verify(void **state)
{
	struct bed	 b;
	struct rep	*r;

	(void)state;
	sw_clock_set_fake(T0_MONO, T0_WALL);
	bed_open(&b, "run /bin/true; verify 2m; cooldown 0", 0, NULL);
	b.rec.new_pid = 5530;
	b.rec.cleared = 1;
	b.rec.now = "RSS back to 180 MB";
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	/* the run ends; verify waits for its time */
	while (count_reports(&b, SW_ACTION_RAN) == 0)
		assert_int_equal(sw_loop_once(b.loop, 20000, NULL), 0);
	r = last_report(&b, SW_ACTION_RAN);
	assert_non_null(strstr(r->detail, "\"verify\":\"pending\""));
	assert_int_equal(sw_actions_busy(b.acts), 1);
	advance_ms(&b, 119000);
	assert_int_equal(b.rec.nverify, 0);
	advance_ms(&b, 1000);
	assert_int_equal(b.rec.nverify, 1);
	assert_string_equal(b.rec.vtarget, "web");
	assert_int_equal(b.rec.vold, 4121);
	assert_int_equal(sw_actions_busy(b.acts), 0);
	r = last_report(&b, SW_ACTION_VERIFIED);
	assert_true(r->ok);
	assert_string_equal(r->text, "restarted web (pid 4121 \u2192 5530); "
	    "RSS back to 180 MB");

	/* the alert did not clear */
	b.rec.cleared = 0;
	b.rec.now = "RSS 812 MB";
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	while (count_reports(&b, SW_ACTION_RAN) < 2)
		assert_int_equal(sw_loop_once(b.loop, 20000, NULL), 0);
	advance_ms(&b, 120000);
	r = last_report(&b, SW_ACTION_VERIFIED);
	assert_false(r->ok);
	assert_string_equal(r->text, "restart did not clear the alert: web "
	    "(pid 4121 \u2192 5530); RSS 812 MB");
	assert_non_null(strstr(r->detail, "\"cleared\":false"));

	/* the same process still there */
	b.rec.new_pid = 4121;
	b.rec.cleared = 1;
	b.rec.now = NULL;
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	while (count_reports(&b, SW_ACTION_RAN) < 3)
		assert_int_equal(sw_loop_once(b.loop, 20000, NULL), 0);
	advance_ms(&b, 120000);
	r = last_report(&b, SW_ACTION_VERIFIED);
	assert_false(r->ok);
	assert_string_equal(r->text, "restart did not replace the process: "
	    "web still pid 4121");
	bed_close(&b);

	/* a failed restart is not verified */
	bed_open(&b, "run /bin/false; verify 2m", 0, NULL);
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	bed_wait(&b, 10000);
	r = last_report(&b, SW_ACTION_RAN);
	assert_non_null(strstr(r->detail, "\"verify\":\"not run: the restart "
	    "failed\""));
	assert_int_equal(b.rec.nverify, 0);
	bed_close(&b);
	sw_clock_set_fake(-1, 0);
}

static void
test_guard_rails(void **state)
{
	struct bed		 b;
	struct rep		*r;
	struct sw_action_alert	 al;
	struct sw_err		 err;
	int			 i;

	(void)state;
	sw_clock_set_fake(T0_MONO, T0_WALL);
	bed_open(&b, "run /bin/true; cooldown 10m; limit 3 per 1h", 0, NULL);

	/* other events do nothing; an unknown action is an error */
	memset(&al, 0, sizeof(al));
	al.rule = b.conf->rules;
	al.event = "resolved";
	assert_int_equal(sw_actions_alert(b.acts, &al, NULL), 0);
	al.event = "pending";
	assert_int_equal(sw_actions_alert(b.acts, &al, NULL), 0);

	assert_int_equal(bed_fire(&b, "s", 0), 1);		/* t = 0 */
	/* busy: a second alert (another rule) while it runs */
	al.rule = b.conf->rules->next;
	al.event = "repeat";
	assert_int_equal(sw_actions_alert(b.acts, &al, NULL), 0);
	bed_wait(&b, 5000);
	advance_ms(&b, 60000);					/* 1m */
	assert_int_equal(bed_fire(&b, "s", 0), 0);		/* cooldown */
	advance_ms(&b, 9 * 60000 - 1);
	assert_int_equal(bed_fire(&b, "s", 0), 0);		/* still */
	advance_ms(&b, 1);					/* 10m */
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	bed_wait(&b, 5000);
	advance_ms(&b, 10 * 60000);				/* 20m */
	assert_int_equal(bed_fire(&b, "s", 1), 0);		/* silenced */
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	bed_wait(&b, 5000);
	assert_int_equal(count_reports(&b, SW_ACTION_RAN), 3);
	assert_int_equal(count_reports(&b, SW_ACTION_ESCALATE), 0);

	/* the budget is spent: one escalation, then silence */
	for (i = 0; i < 3; i++) {
		advance_ms(&b, 10 * 60000);			/* 30m..50m */
		assert_int_equal(bed_fire(&b, "s", 0), 0);
	}
	assert_int_equal(count_reports(&b, SW_ACTION_ESCALATE), 1);
	r = last_report(&b, SW_ACTION_ESCALATE);
	assert_int_equal(r->severity, SW_SEV_CRITICAL);
	assert_string_equal(r->text, "restarts are not helping: a ran 3 times "
	    "in 1h and rule r is still firing");
	assert_non_null(strstr(r->detail, "\"phase\":\"escalate\""));

	/* at 60m the first run leaves the window: one more run */
	advance_ms(&b, 10 * 60000);				/* 60m */
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	bed_wait(&b, 5000);
	advance_ms(&b, 5 * 60000);				/* 65m */
	/* spent again (runs at 10m, 20m, 60m): a new exhaustion period,
	 * a new escalation */
	assert_int_equal(bed_fire(&b, "s", 0), 0);
	assert_int_equal(count_reports(&b, SW_ACTION_ESCALATE), 2);
	assert_int_equal(count_reports(&b, SW_ACTION_RAN), 4);
	bed_close(&b);

	/* an action the actions do not know (conf mismatch) */
	bed_open(&b, "run /bin/true", 0, NULL);
	{
		struct sw_conf_rule	rule;

		memset(&rule, 0, sizeof(rule));
		rule.name = "x";
		rule.action = "nope";
		al.rule = &rule;
		al.event = "firing";
		sw_err_clear(&err);
		assert_int_equal(sw_actions_alert(b.acts, &al, &err), -1);
		assert_string_equal(err.msg, "rule x: unknown action \"nope\"");
	}
	bed_close(&b);
	sw_clock_set_fake(-1, 0);
}

/* The strings of a status are borrowed for the call: copied here. */
static char	status_result[320], status_phase[16], status_name[16];

static int
status_cb(const struct sw_action_status *s, void *arg)
{
	struct sw_action_status	*out = arg;

	*out = *s;
	snprintf(status_result, sizeof(status_result), "%s", s->last_result);
	snprintf(status_phase, sizeof(status_phase), "%s", s->phase);
	snprintf(status_name, sizeof(status_name), "%s", s->name);
	out->last_result = status_result;
	out->phase = status_phase;
	out->name = status_name;
	out->last_verify = NULL;
	return 0;
}

static void
test_dry_run_status_reload(void **state)
{
	struct bed		 b;
	struct rep		*r;
	struct sw_action_status	 st;
	struct sw_conf		*conf2;
	char			 body[PATH_MAX + 64], f[PATH_MAX];

	(void)state;
	sw_clock_set_fake(T0_MONO, T0_WALL);
	path_in_tmp(f, sizeof(f), "dry-run-touched");
	snprintf(body, sizeof(body), "run /bin/touch %s; cooldown 5m", f);
	bed_open(&b, body, 1, NULL);
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	assert_int_equal(sw_actions_busy(b.acts), 0);
	r = last_report(&b, SW_ACTION_DRY_RUN);
	assert_non_null(strstr(r->text, "dry run: would run /bin/touch "));
	assert_int_equal(count_reports(&b, SW_ACTION_RAN), 0);
	/* the rails apply in dry-run too */
	assert_int_equal(bed_fire(&b, "s", 0), 0);
	usleep(100000);
	(void)sw_loop_once(b.loop, 0, NULL);
	assert_int_equal(access(f, F_OK), -1);
	bed_close(&b);

	/* status, and a reload that keeps the rails */
	bed_open(&b, "run /bin/sh -c 'exit 4'; cooldown 5m; limit 2 per 1h",
	    0, NULL);
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	bed_wait(&b, 5000);
	memset(&st, 0, sizeof(st));
	assert_int_equal(sw_actions_status_each(b.acts, status_cb, &st), 0);
	assert_string_equal(st.name, "a");
	assert_string_equal(st.phase, "idle");
	assert_int_equal(st.runs_in_window, 1);
	assert_int_equal(st.limit_n, 2);
	assert_false(st.budget_spent);
	assert_true(st.last_run_ms == T0_WALL);
	assert_true(st.cooldown_until_ms == T0_WALL + 300000);
	assert_string_equal(st.last_result, "exited 4");

	conf2 = parse("action a { run /bin/true; cooldown 5m; limit 2 per 1h }"
	    "\nrule r { when 1 > 0; action a }\n");
	assert_int_equal(sw_actions_set_conf(b.acts, conf2, NULL), 0);
	sw_conf_free(b.conf);
	b.conf = conf2;
	advance_ms(&b, 60000);
	assert_int_equal(bed_fire(&b, "s", 0), 0);	/* still cooling down */
	advance_ms(&b, 4 * 60000);
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	bed_wait(&b, 5000);
	assert_string_equal(last_report(&b, SW_ACTION_RAN)->run.text,
	    "exited 0");
	assert_int_equal(sw_actions_status_each(b.acts, status_cb, &st), 0);
	assert_int_equal(st.runs_in_window, 2);
	assert_true(st.budget_spent);
	assert_true(st.budget_until_ms == T0_WALL + 3600000);
	bed_close(&b);
	sw_clock_set_fake(-1, 0);
}

/* Freeing the actions with a step running: SIGTERM to its group, fds and
 * timers gone from the loop (valgrind: nothing leaks). */
static void
test_free_running(void **state)
{
	struct bed		 b;
	struct sw_action_status	 st;
	char			 pidf[PATH_MAX];
	FILE			*f;
	long			 pid;

	(void)state;
	bed_open(&b, "run /bin/sleep 30", 0, NULL);
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	memset(&st, 0, sizeof(st));
	assert_int_equal(sw_actions_status_each(b.acts, status_cb, &st), 0);
	assert_string_equal(st.phase, "run");
	pid = st.child_pid;
	assert_true(pid > 0);
	assert_int_equal(sw_actions_busy(b.acts), 1);
	bed_close(&b);
	path_in_tmp(pidf, sizeof(pidf), "abandoned.pid");
	f = fopen(pidf, "w");
	assert_non_null(f);
	fprintf(f, "%ld\n", pid);
	fclose(f);
	assert_true(pid_gone(pidf, 3000));
	(void)waitpid((pid_t)pid, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* persistence */

struct evcount {
	int	run, escalate, verify;
	char	last[4096];
};

static int
count_event(const struct sw_event *ev, void *arg)
{
	struct evcount	*c = arg;

	if (strcmp(ev->kind, "action") != 0)
		return 0;
	if (strstr(ev->detail, "\"phase\":\"run\"") != NULL)
		c->run++;
	if (strstr(ev->detail, "\"phase\":\"escalate\"") != NULL)
		c->escalate++;
	assert_string_equal(ev->target, "web");
	assert_int_equal(ev->pid, 4121);
	snprintf(c->last, sizeof(c->last), "%s", ev->detail);
	return 0;
}

static void
test_persistence(void **state)
{
	struct bed		 b;
	struct sw_store		*st;
	struct sw_err		 err;
	struct evcount		 c;
	struct sw_action_status	 as;
	char			 db[PATH_MAX];
	const char		*body = "run /bin/sh -c 'echo restarted'; "
	    "cooldown 1m; limit 2 per 1h";

	(void)state;
	sw_clock_set_fake(T0_MONO, T0_WALL);
	path_in_tmp(db, sizeof(db), "actions.db");
	unlink(db);
	sw_err_clear(&err);
	assert_int_equal(sw_store_open(db, 0, &st, &err), 0);

	/* two runs, the budget spent */
	bed_open(&b, body, 0, st);
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	bed_wait(&b, 5000);
	advance_ms(&b, 2 * 60000);
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	bed_wait(&b, 5000);
	assert_int_equal(sw_store_flush(st, &err), 0);
	bed_close(&b);
	sw_store_close(st);

	/* the agent restarts: the budget is still spent; one escalation */
	sw_clock_advance_us(2 * 60000000LL);
	assert_int_equal(sw_store_open(db, 0, &st, &err), 0);
	bed_open(&b, body, 0, st);
	assert_int_equal(bed_fire(&b, "s", 0), 0);
	assert_int_equal(count_reports(&b, SW_ACTION_RAN), 0);
	assert_int_equal(count_reports(&b, SW_ACTION_ESCALATE), 1);
	assert_int_equal(sw_store_flush(st, &err), 0);
	bed_close(&b);
	sw_store_close(st);

	/* and again: the escalation was recorded, not repeated */
	sw_clock_advance_us(60000000LL);
	assert_int_equal(sw_store_open(db, 0, &st, &err), 0);
	bed_open(&b, body, 0, st);
	assert_int_equal(bed_fire(&b, "s", 0), 0);
	assert_int_equal(count_reports(&b, SW_ACTION_ESCALATE), 0);
	bed_close(&b);

	/* the events, and status from the store alone */
	memset(&c, 0, sizeof(c));
	assert_int_equal(sw_store_events_each(st, NULL, 0, count_event, &c,
	    &err), 0);
	assert_int_equal(c.run, 2);
	assert_int_equal(c.escalate, 1);
	memset(&as, 0, sizeof(as));
	{
		struct sw_conf	*conf = parse("action a { run /bin/true; "
		    "cooldown 1m; limit 2 per 1h }\n");

		assert_int_equal(sw_actions_status_load(conf, st,
		    sw_clock_wall_ms(), status_cb, &as, &err), 0);
		sw_conf_free(conf);
	}
	assert_int_equal(as.runs_in_window, 2);
	assert_true(as.budget_spent);
	assert_true(as.last_run_ms == T0_WALL + 120000);
	assert_true(as.escalated_ms == T0_WALL + 240000);
	assert_string_equal(as.last_result, "exited 0");
	sw_store_close(st);

	/* an hour after the first run, a slot is free again */
	sw_clock_advance_us(3600LL * 1000000);
	assert_int_equal(sw_store_open(db, 0, &st, &err), 0);
	bed_open(&b, body, 0, st);
	assert_int_equal(bed_fire(&b, "s", 0), 1);
	bed_wait(&b, 5000);
	bed_close(&b);
	sw_store_close(st);
	sw_clock_set_fake(-1, 0);
}

/* ------------------------------------------------------------------ */
/* check */

struct diags {
	int	n;
	char	line[8][600];
};

static void
collect(const struct sw_loc *loc, const char *msg, void *arg)
{
	struct diags	*d = arg;

	if (d->n < 8)
		snprintf(d->line[d->n], sizeof(d->line[0]), "%s:%d:%d: %s",
		    loc != NULL && loc->file != NULL ? loc->file : "-",
		    loc != NULL ? loc->line : 0, loc != NULL ? loc->col : 0,
		    msg);
	d->n++;
}

static void
test_check_conf(void **state)
{
	struct sw_conf	*conf;
	struct diags	 d;
	char		 noexec[PATH_MAX], text[3 * PATH_MAX], path[PATH_MAX];
	int		 fd, n = -1;

	(void)state;
	path_in_tmp(noexec, sizeof(noexec), "noexec.sh");
	fd = open(noexec, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
	chmod(noexec, 0644);
	snprintf(text, sizeof(text), "action a {\n\trun %s now\n"
	    "\tbefore %s\n}\n"
	    "action ok { run /bin/true; user root }\n", envdump, envdump);
	conf = parse(text);
	memset(&d, 0, sizeof(d));
	assert_int_equal(sw_actions_check_conf(conf, collect, &d), 0);
	sw_conf_free(conf);
	snprintf(text, sizeof(text), "action a {\n\trun %s now\n"
	    "\tbefore /nonexistent/snap\n}\n"
	    "action b { run /tmp }\n"
	    "action ok { run /bin/true; before %s }\n"
	    "action u { run /bin/true; user no-such-user-sw }\n",
	    noexec, envdump);
	conf = parse(text);
	assert_int_equal(sw_actions_check_conf(conf, collect, &d), 4);
	snprintf(text, sizeof(text), "t.conf:2:6: action a: run program %s "
	    "is not executable: Permission denied", noexec);
	assert_string_equal(d.line[0], text);
	assert_string_equal(d.line[1], "t.conf:3:9: action a: before program "
	    "/nonexistent/snap is not executable: No such file or directory");
	assert_string_equal(d.line[2], "t.conf:5:16: action b: run program "
	    "/tmp is not a regular file");
	assert_string_equal(d.line[3], "t.conf:7:8: action u: unknown user "
	    "\"no-such-user-sw\"");
	sw_conf_free(conf);

	/* the permission rule for files holding actions */
	path_in_tmp(path, sizeof(path), "loose.conf");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_true(write(fd, "action a { run /bin/true }\n", 27) == 27);
	close(fd);
	chmod(path, 0664);
	memset(&d, 0, sizeof(d));
	assert_int_equal(sw_conf_load(path, &conf, collect, &d, &n), -1);
	assert_int_equal(n, 1);
	assert_non_null(strstr(d.line[0], "holds actions or secrets but is "
	    "writable by group/others"));
	chmod(path, 0640);
	memset(&d, 0, sizeof(d));
	assert_int_equal(sw_conf_load(path, &conf, collect, &d, &n), 0);
	sw_conf_free(conf);
}

/* ------------------------------------------------------------------ */

static int
setup(void **state)
{
	const char	*b = getenv("top_builddir");

	(void)state;
	sw_log_set_level(SW_LOG_ERROR);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sw-action.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
#ifdef SW_TOP_BUILDDIR
	if (b == NULL)
		b = SW_TOP_BUILDDIR;
#endif
	snprintf(envdump, sizeof(envdump), "%s/tests/helpers/envdump",
	    b != NULL ? b : "..");
	if (access(envdump, X_OK) == -1) {
		fprintf(stderr, "no %s\n", envdump);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	pid_t	pid;

	(void)state;
	if ((pid = fork()) == 0) {
		execl("/bin/rm", "rm", "-rf", tmpdir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_exec_failure),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_child_view),
		cmocka_unit_test(test_before_step),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_guard_rails),
		cmocka_unit_test(test_dry_run_status_reload),
		cmocka_unit_test(test_free_running),
		cmocka_unit_test(test_persistence),
		cmocka_unit_test(test_check_conf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
