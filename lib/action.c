#include "config.h"
/*
 * action.c: restart actions (action.h has the contract, slopewatch-actions(7)
 * the user's view).
 *
 * One struct act_state per configured action holds its guard rails (start
 * times of the sequences in the budget window, ascending; the last start;
 * the last escalation) and at most one sequence in flight (struct act_seq).
 * A sequence owns copies of everything it needs (argv, environment, limits,
 * names), so a reload or a freed conf never pulls data from under a child.
 *
 * Spawning follows git's run-command.c: every allocation, the user lookup,
 * the pipes and /dev/null happen before fork, with all signals blocked so
 * that no handler of ours runs in the child; the child only makes
 * async-signal-safe calls and reports a failure before exec (stage and
 * errno) through a close-on-exec pipe. The parent reads that pipe at once:
 * it is closed by the successful execve, so the read is bounded by the
 * child's few setup syscalls.
 *
 * Invariants: a step's pid is reaped exactly once (pidfd readiness or the
 * fallback poll timer, then waitpid(pid, WNOHANG)); a step finishes when its
 * pid is reaped and, if it timed out, when the SIGKILL of its group after
 * the grace period has been sent; every fd and timer a step registers is
 * removed before the step finishes or the module is freed.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slopewatch/action.h"
#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/loop.h"
#include "slopewatch/store.h"
#include "slopewatch/units.h"

#define ACT_POLL_US	50000		/* waitpid poll, the last resort */
#define ACT_ENV_MAX	(256 * 1024)	/* bytes of one child's environment */
#define ACT_JSON_ARGS	64		/* argv words kept in an event */
#define ACT_JSON_ARGLEN	512		/* bytes of each */
#define ACT_MAX_GROUPS	65536

/* Where the child failed before (or at) exec. */
enum act_stage {
	ST_SETSID = 1,
	ST_DUP2,
	ST_SETGROUPS,
	ST_SETGID,
	ST_SETUID,
	ST_CHDIR,
	ST_EXECVE,
};

enum act_phase {
	PH_IDLE = 0,
	PH_BEFORE,
	PH_RUN,
	PH_VERIFY,
};

struct act_seq;

/* One child: the before or the run step of a sequence. */
struct act_step {
	struct act_seq		*seq;
	const char		*name;		/* "before", "run" */
	char			**argv;		/* the sequence's copy */
	int			 used;		/* attempted */
	int			 done;
	pid_t			 pid;
	int			 pidfd;
	int			 outfd;
	uint64_t		 timeout_timer;
	uint64_t		 grace_timer;
	uint64_t		 poll_timer;
	int			 reaped;
	int			 grace_pending;
	int64_t			 start_us;
	struct sw_buf		 out;
	struct sw_action_result	 res;
	char			 text[320];
};

struct act_state {
	char			*name;
	const struct sw_conf_action *conf;	/* NULL: gone from the config */
	int64_t			*runs;		/* starts in the window, ascending */
	int			 nruns, capruns;
	int64_t			 last_run_ms;
	int64_t			 escalated_ms;
	struct act_seq		*seq;		/* in flight */
	uint64_t		 nrun, nskipped;
	char			 last_result[320];
	char			 last_verify[512];
	struct act_state	*next;
};

struct act_seq {
	struct sw_actions	*acts;
	struct act_state	*state;
	char			*rule, *action, *target, *event;
	long			 pid;
	enum sw_severity	 severity;
	int64_t			 started_ms;
	int64_t			 timeout_ms;
	int64_t			 verify_ms;
	char			**run_argv;
	char			**before_argv;
	char			**envp;
	int			 phase_idx;	/* envp slot of SLOPEWATCH_PHASE */
	char			*phase_before, *phase_run;
	char			*cwd;
	int			 switch_user;
	uid_t			 uid;
	gid_t			 gid;
	gid_t			*groups;
	int			 ngroups;
	char			 user_error[160];	/* "" when fine */
	int			 max_fd;	/* for the close loop fallback */
	enum act_phase		 phase;
	struct act_step		 before, run;
	uint64_t		 verify_timer;
};

struct sw_actions {
	const struct sw_conf	*conf;
	struct sw_loop		*loop;
	struct sw_store		*st;
	struct sw_actions_opts	 opts;
	struct act_state	*states;
	int			 busy;
	int			 sigchld;	/* reaping on SIGCHLD (no pidfd) */
	struct sw_actions	*live_next;
};

/*
 * Without pidfd_open (kernels before 5.3, valgrind) children are reaped on
 * SIGCHLD: the loop calls act_sigchld, which tries waitpid(pid, WNOHANG) on
 * the running steps of every live sw_actions. The loop cannot unregister a
 * signal callback, so it gets no pointer to an object that may be freed:
 * the live list is the only link, and sw_actions_free unlinks.
 */
static struct sw_actions	*act_live;
static int			 act_pidfd_ok = -1;

static void	step_finish(struct act_step *);
static int	step_reap(struct act_step *);
static void	seq_step_done(struct act_seq *, struct act_step *);

/* ------------------------------------------------------------------ */
/* small helpers */

static const char *
errno_name(int e)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
	const char	*s = strerrorname_np(e);

	if (s != NULL)
		return s;
#endif
	(void)e;
	return "?";
}

static char *
xstrdup0(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static void
argv_free(char **v)
{
	char	**p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* A NULL-terminated copy of a string list; NULL on allocation failure. */
static char **
argv_copy(const struct sw_strlist *l)
{
	char	**v;
	int	  i;

	if ((v = calloc((size_t)l->n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < l->n; i++) {
		if ((v[i] = strdup(l->v[i])) == NULL) {
			argv_free(v);
			return NULL;
		}
	}
	return v;
}

/* Appends n bytes, escaped to printable ASCII: \n \r \t \\ \" and \xNN for
 * every other control or non-ASCII byte. -1 when b is full. */
static int
esc_add(struct sw_buf *b, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	  c;
	char		  t[4];
	size_t		  i, tn;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		tn = 0;
		if (c == '\n') {
			t[tn++] = '\\'; t[tn++] = 'n';
		} else if (c == '\r') {
			t[tn++] = '\\'; t[tn++] = 'r';
		} else if (c == '\t') {
			t[tn++] = '\\'; t[tn++] = 't';
		} else if (c == '\\' || c == '"') {
			t[tn++] = '\\'; t[tn++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			t[tn++] = '\\'; t[tn++] = 'x';
			t[tn++] = hex[c >> 4]; t[tn++] = hex[c & 15];
		} else
			t[tn++] = (char)c;
		if (sw_buf_add(b, t, tn) == -1)
			return -1;
	}
	return 0;
}

/* A JSON string: s as is when it is valid UTF-8, else escaped. */
static json_t *
jstr(const char *s)
{
	struct sw_buf	 b;
	json_t		*j;

	if (s == NULL)
		s = "";
	if ((j = json_string(s)) != NULL)
		return j;
	sw_buf_init(&b, 16384);
	(void)esc_add(&b, s, strlen(s));	/* truncated if it is huge */
	j = json_string(sw_buf_str(&b));
	sw_buf_release(&b);
	return j;
}

/* "/usr/bin/pm2 restart web" for logs: each word escaped, quoted when it
 * holds a blank or is empty. */
static void
argv_text(char *dst, size_t dstsz, char **argv)
{
	struct sw_buf	b;
	size_t		n;
	int		i;

	sw_buf_init(&b, dstsz > 0 ? dstsz - 1 : 0);
	for (i = 0; argv != NULL && argv[i] != NULL; i++) {
		n = strlen(argv[i]);
		if ((i > 0 && sw_buf_addc(&b, ' ') == -1))
			break;
		if (n == 0 || strpbrk(argv[i], " \t") != NULL) {
			if (sw_buf_addc(&b, '"') == -1 ||
			    esc_add(&b, argv[i], n) == -1 ||
			    sw_buf_addc(&b, '"') == -1)
				break;
		} else if (esc_add(&b, argv[i], n) == -1)
			break;
	}
	snprintf(dst, dstsz, "%s", sw_buf_str(&b));
	sw_buf_release(&b);
}

/* "1.2 s", "350 ms" */
static char *
fmt_dur(char *dst, size_t dstsz, int64_t ms)
{
	if (ms < 1000)
		snprintf(dst, dstsz, "%lld ms", (long long)ms);
	else if (ms % 1000 == 0)
		snprintf(dst, dstsz, "%lld s", (long long)(ms / 1000));
	else
		snprintf(dst, dstsz, "%.1f s", (double)ms / 1000.0);
	return dst;
}

/* The shortest text that reads back as v. */
static void
fmt_value(char *dst, size_t dstsz, double v)
{
	int	p;

	if (isnan(v)) {
		snprintf(dst, dstsz, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(dst, dstsz, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (p = 15; p <= 17; p++) {
		snprintf(dst, dstsz, "%.*g", p, v);
		if (strtod(dst, NULL) == v)
			return;
	}
}

/* ------------------------------------------------------------------ */
/* guard-rail state */

static struct act_state *
state_find(struct sw_actions *acts, const char *name)
{
	struct act_state	*s;

	for (s = acts->states; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static void
state_free(struct act_state *s)
{
	free(s->runs);
	free(s->name);
	free(s);
}

/* Drops the starts that left the budget window at now (and, after a
 * config change, the oldest beyond the limit). */
static void
state_prune(struct act_state *s, int64_t now_ms)
{
	int	drop = 0;

	if (s->conf == NULL || s->conf->limit_n <= 0) {
		s->nruns = 0;
		return;
	}
	while (drop < s->nruns &&
	    s->runs[drop] <= now_ms - s->conf->limit_per_ms)
		drop++;
	if (s->nruns - drop > s->conf->limit_n)
		drop = s->nruns - s->conf->limit_n;
	if (drop > 0) {
		memmove(s->runs, s->runs + drop,
		    (size_t)(s->nruns - drop) * sizeof(*s->runs));
		s->nruns -= drop;
	}
}

/* Records a start (kept ascending). -1 on allocation failure. */
static int
state_add_run(struct act_state *s, int64_t ms)
{
	int64_t	*nr;
	int	 cap, i;

	if (ms > s->last_run_ms)
		s->last_run_ms = ms;
	if (s->conf == NULL || s->conf->limit_n <= 0)
		return 0;
	if (s->nruns == s->capruns) {
		cap = s->capruns ? s->capruns * 2 : 4;
		if ((nr = reallocarray(s->runs, (size_t)cap,
		    sizeof(*nr))) == NULL)
			return -1;
		s->runs = nr;
		s->capruns = cap;
	}
	for (i = s->nruns; i > 0 && s->runs[i - 1] > ms; i--)
		s->runs[i] = s->runs[i - 1];
	s->runs[i] = ms;
	s->nruns++;
	return 0;
}

/* Makes the states match conf: existing ones (by name) are kept, new ones
 * added, removed ones dropped unless a sequence is in flight. */
static int
states_sync(struct sw_actions *acts, const struct sw_conf *conf,
    struct sw_err *err)
{
	const struct sw_conf_action	*a;
	struct act_state		*s, **sp, *head = NULL, **tail = &head;

	/* build the new list in config order, reusing states by name */
	for (a = conf->actions; a != NULL; a = a->next) {
		if (a->name == NULL)
			continue;
		if ((s = state_find(acts, a->name)) != NULL) {
			/* unlink from the old list */
			for (sp = &acts->states; *sp != s; sp = &(*sp)->next)
				;
			*sp = s->next;
		} else {
			if ((s = calloc(1, sizeof(*s))) == NULL ||
			    (s->name = strdup(a->name)) == NULL) {
				free(s);
				goto fail;
			}
		}
		s->conf = a;
		s->next = NULL;
		*tail = s;
		tail = &s->next;
	}
	/* what is left is gone from the config */
	while ((s = acts->states) != NULL) {
		acts->states = s->next;
		s->conf = NULL;
		s->next = NULL;
		if (s->seq != NULL) {
			*tail = s;	/* dropped when its sequence ends */
			tail = &s->next;
		} else
			state_free(s);
	}
	acts->states = head;
	acts->conf = conf;
	return 0;
fail:
	/* put the list back together: head's states, then the old ones */
	*tail = acts->states;
	acts->states = head;
	return sw_err_set(err, "actions: out of memory");
}

/* Rebuilds the rails from the store's "action" events. */
static int
load_event(const struct sw_event *ev, void *arg)
{
	struct sw_actions	*acts = arg;
	struct act_state	*s;
	json_t			*j, *v;
	const char		*phase, *name;

	if (strcmp(ev->kind, "action") != 0 || ev->detail == NULL ||
	    (j = json_loads(ev->detail, 0, NULL)) == NULL)
		return 0;
	phase = json_string_value(json_object_get(j, "phase"));
	name = json_string_value(json_object_get(j, "action"));
	if (phase == NULL || name == NULL ||
	    (s = state_find(acts, name)) == NULL || s->conf == NULL)
		goto out;
	if (strcmp(phase, "run") == 0) {
		v = json_object_get(j, "dry_run");
		if (v == NULL || !json_is_true(v))
			(void)state_add_run(s, ev->ts_ms);
	} else if (strcmp(phase, "escalate") == 0) {
		if (ev->ts_ms > s->escalated_ms)
			s->escalated_ms = ev->ts_ms;
	}
out:
	json_decref(j);
	return 0;
}

static int
states_load(struct sw_actions *acts, int64_t now_ms, struct sw_err *err)
{
	struct act_state	*s;
	int64_t			 span = 0;

	for (s = acts->states; s != NULL; s = s->next) {
		if (s->conf == NULL)
			continue;
		if (s->conf->limit_n > 0 && s->conf->limit_per_ms > span)
			span = s->conf->limit_per_ms;
		if (s->conf->cooldown_ms > span)
			span = s->conf->cooldown_ms;
	}
	if (acts->st == NULL || span == 0)
		return 0;
	if (sw_store_events_each(acts->st, NULL, now_ms - span, load_event,
	    acts, err) == -1)
		return -1;
	for (s = acts->states; s != NULL; s = s->next)
		state_prune(s, now_ms);
	return 0;
}

/* ------------------------------------------------------------------ */
/* events and reports */

static json_t *
result_json(const struct act_step *p)
{
	const struct sw_action_result	*r = &p->res;
	json_t				*o, *a;
	struct sw_buf			 ex;
	size_t				 half = SW_ACTION_EXCERPT_MAX / 2;
	int				 i;
	char				 mark[64];

	if ((o = json_object()) == NULL)
		return NULL;
	a = json_array();
	for (i = 0; a != NULL && p->argv != NULL && p->argv[i] != NULL &&
	    i < ACT_JSON_ARGS; i++) {
		if (strlen(p->argv[i]) > ACT_JSON_ARGLEN) {
			char	cut[ACT_JSON_ARGLEN + 4];

			snprintf(cut, sizeof(cut), "%.*s...", ACT_JSON_ARGLEN,
			    p->argv[i]);
			json_array_append_new(a, jstr(cut));
		} else
			json_array_append_new(a, jstr(p->argv[i]));
	}
	json_object_set_new(o, "argv", a);
	json_object_set_new(o, "result", jstr(r->text));
	if (r->exited)
		json_object_set_new(o, "exit", json_integer(r->status));
	if (r->signo)
		json_object_set_new(o, "signal", json_integer(r->signo));
	if (!r->ran)
		json_object_set_new(o, "error", jstr(errno_name(r->error)));
	json_object_set_new(o, "timed_out", json_boolean(r->timed_out));
	json_object_set_new(o, "duration_ms", json_integer(r->duration_ms));

	/* the excerpt: all of a short output, else its head and tail */
	sw_buf_init(&ex, SW_ACTION_EXCERPT_MAX * 4 + 128);
	if (r->output_len <= SW_ACTION_EXCERPT_MAX)
		(void)esc_add(&ex, r->output, r->output_len);
	else {
		snprintf(mark, sizeof(mark), "[... %zu bytes ...]",
		    r->output_len - 2 * half);
		(void)esc_add(&ex, r->output, half);
		(void)sw_buf_adds(&ex, mark);
		(void)esc_add(&ex, r->output + r->output_len - half, half);
	}
	json_object_set_new(o, "output", json_string(sw_buf_str(&ex)));
	sw_buf_release(&ex);
	json_object_set_new(o, "output_bytes",
	    json_integer((json_int_t)r->output_len));
	json_object_set_new(o, "output_dropped",
	    json_integer((json_int_t)r->output_dropped));
	return o;
}

static json_t *
event_base(const struct act_seq *q, const char *phase)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "phase", json_string(phase));
	json_object_set_new(o, "rule", jstr(q->rule));
	json_object_set_new(o, "action", jstr(q->action));
	json_object_set_new(o, "event", jstr(q->event));
	json_object_set_new(o, "started_ms", json_integer(q->started_ms));
	return o;
}

/* Queues the event (kind "action") and returns its detail text (new, or
 * NULL when memory is short). */
static char *
event_record(struct sw_actions *acts, const struct act_seq *q, int64_t ts_ms,
    json_t *o)
{
	struct sw_err	 err;
	char		*detail;

	detail = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (detail == NULL) {
		sw_log_error("action %s: event lost: out of memory", q->action);
		return NULL;
	}
	if (acts->st != NULL) {
		sw_err_clear(&err);
		if (sw_store_event(acts->st, ts_ms, q->target[0] != '\0' ?
		    q->target : q->action, "action", q->pid, detail,
		    &err) == -1)
			sw_log_error("action %s: event lost: %s", q->action,
			    err.msg);
	}
	return detail;
}

static void
report(struct sw_actions *acts, struct sw_action_report *r)
{
	if (acts->opts.report != NULL)
		acts->opts.report(acts->opts.arg, r);
}

/* ------------------------------------------------------------------ */
/* sequences */

static void
seq_free(struct act_seq *q)
{
	if (q == NULL)
		return;
	free(q->rule);
	free(q->action);
	free(q->target);
	free(q->event);
	argv_free(q->run_argv);
	argv_free(q->before_argv);
	if (q->envp != NULL) {
		if (q->phase_idx >= 0)
			q->envp[q->phase_idx] = NULL;	/* borrowed slot */
		argv_free(q->envp);
	}
	free(q->phase_before);
	free(q->phase_run);
	free(q->cwd);
	free(q->groups);
	sw_buf_release(&q->before.out);
	sw_buf_release(&q->run.out);
	free(q);
}

/* Adds "k=v" to envp[*n]; the total size is bounded by ACT_ENV_MAX. */
static int
env_add(char **envp, int *n, size_t *total, const char *k, const char *v)
{
	size_t	len = strlen(k) + 1 + strlen(v) + 1;
	char	*s;

	if (*total + len > ACT_ENV_MAX)
		return -1;
	*total += len;
	if ((s = malloc(len)) == NULL)
		return -1;
	snprintf(s, len, "%s=%s", k, v);
	envp[(*n)++] = s;
	return 0;
}

static int
kv_count(const struct sw_kv *kv)
{
	int	n = 0;

	for (; kv != NULL; kv = kv->next)
		n++;
	return n;
}

/* The child's environment (see action.h), with a slot for PHASE. -1 when
 * memory is short or it would pass ACT_ENV_MAX. */
static int
seq_build_env(struct act_seq *q, const struct sw_conf_action *a,
    const struct sw_action_alert *al)
{
	const struct sw_kv	*kv;
	size_t			 total = 0;
	char			 pid[32], val[64];
	int			 n = 0, has_path = 0;

	if ((q->envp = calloc((size_t)kv_count(a->env) + 12,
	    sizeof(*q->envp))) == NULL)
		return -1;
	if (al->pid > 0)
		snprintf(pid, sizeof(pid), "%ld", al->pid);
	else
		pid[0] = '\0';
	fmt_value(val, sizeof(val), al->value);
	for (kv = a->env; kv != NULL; kv = kv->next)
		if (strcmp(kv->key, "PATH") == 0)
			has_path = 1;
	if ((!has_path && env_add(q->envp, &n, &total, "PATH",
	    SW_ACTION_PATH) == -1) ||
	    env_add(q->envp, &n, &total, "SLOPEWATCH_RULE", q->rule) == -1 ||
	    env_add(q->envp, &n, &total, "SLOPEWATCH_ACTION", q->action) ==
	    -1 ||
	    env_add(q->envp, &n, &total, "SLOPEWATCH_EVENT", q->event) == -1 ||
	    env_add(q->envp, &n, &total, "SLOPEWATCH_TARGET", q->target) ==
	    -1 ||
	    env_add(q->envp, &n, &total, "SLOPEWATCH_PID", pid) == -1 ||
	    env_add(q->envp, &n, &total, "SLOPEWATCH_VALUE", val) == -1 ||
	    env_add(q->envp, &n, &total, "SLOPEWATCH_SEVERITY",
	    sw_severity_name(q->severity)) == -1 ||
	    env_add(q->envp, &n, &total, "SLOPEWATCH_SUMMARY",
	    al->summary != NULL ? al->summary : "") == -1)
		return -1;
	for (kv = a->env; kv != NULL; kv = kv->next)
		if (env_add(q->envp, &n, &total, kv->key, kv->value) == -1)
			return -1;
	if ((q->phase_before = strdup("SLOPEWATCH_PHASE=before")) == NULL ||
	    (q->phase_run = strdup("SLOPEWATCH_PHASE=run")) == NULL)
		return -1;
	q->phase_idx = n;
	q->envp[n] = q->phase_run;
	return 0;
}

/* Looks the `user` up before fork. Problems go to q->user_error (the run
 * is then "could not run"); -1 only when memory is short. */
static int
seq_resolve_user(struct act_seq *q, const char *user)
{
	struct passwd	 pw, *res = NULL;
	char		*buf;
	long		 sz;
	int		 ng, e, rc = -1;
	gid_t		*g;

	if (user == NULL)
		return 0;
	sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	if (sz < 16384)
		sz = 16384;
	if ((buf = malloc((size_t)sz)) == NULL)
		return -1;
	e = getpwnam_r(user, &pw, buf, (size_t)sz, &res);
	if (res == NULL) {
		snprintf(q->user_error, sizeof(q->user_error), "unknown user "
		    "\"%s\"%s%s", user, e != 0 ? ": " : "",
		    e != 0 ? strerror(e) : "");
		rc = 0;
		goto out;
	}
	if (pw.pw_uid == geteuid() && pw.pw_gid == getegid()) {
		rc = 0;		/* already that user */
		goto out;
	}
	if (geteuid() != 0) {
		snprintf(q->user_error, sizeof(q->user_error), "running as "
		    "user \"%s\" needs root", user);
		rc = 0;
		goto out;
	}
	ng = 32;
	for (;;) {
		if ((g = reallocarray(q->groups, (size_t)ng,
		    sizeof(*g))) == NULL)
			goto out;
		q->groups = g;
		if (getgrouplist(pw.pw_name, pw.pw_gid, q->groups, &ng) != -1)
			break;
		if (ng > ACT_MAX_GROUPS) {
			ng = 0;	/* absurd: the primary group only */
			break;
		}
	}
	q->ngroups = ng;
	q->uid = pw.pw_uid;
	q->gid = pw.pw_gid;
	q->switch_user = 1;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* A new sequence for the alert (everything copied), or NULL. */
static struct act_seq *
seq_new(struct sw_actions *acts, struct act_state *s,
    const struct sw_action_alert *al, int64_t now_ms)
{
	const struct sw_conf_action	*a = s->conf;
	struct act_seq			*q;
	long				 maxfd;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->acts = acts;
	q->state = s;
	q->phase_idx = -1;
	q->pid = al->pid;
	q->severity = al->rule->severity;
	q->started_ms = now_ms;
	q->timeout_ms = a->timeout_ms > 0 ? a->timeout_ms : 60000;
	q->verify_ms = a->verify_ms;
	q->before.seq = q->run.seq = q;
	q->before.name = "before";
	q->run.name = "run";
	q->before.pidfd = q->before.outfd = -1;
	q->run.pidfd = q->run.outfd = -1;
	sw_buf_init(&q->before.out, SW_ACTION_OUTPUT_MAX);
	sw_buf_init(&q->run.out, SW_ACTION_OUTPUT_MAX);
	maxfd = sysconf(_SC_OPEN_MAX);
	q->max_fd = maxfd < 256 ? 256 : maxfd > 65536 ? 65536 : (int)maxfd;
	if ((q->rule = xstrdup0(al->rule->name)) == NULL ||
	    (q->action = xstrdup0(a->name)) == NULL ||
	    (q->target = xstrdup0(al->target)) == NULL ||
	    (q->event = xstrdup0(al->event)) == NULL ||
	    (q->run_argv = argv_copy(&a->run)) == NULL ||
	    (a->before.n > 0 &&
	    (q->before_argv = argv_copy(&a->before)) == NULL) ||
	    (a->cwd != NULL && (q->cwd = strdup(a->cwd)) == NULL) ||
	    seq_build_env(q, a, al) == -1 ||
	    seq_resolve_user(q, a->user) == -1) {
		seq_free(q);
		return NULL;
	}
	q->run.argv = q->run_argv;
	q->before.argv = q->before_argv;
	return q;
}

/* ------------------------------------------------------------------ */
/* the child */

static void
child_close_fds(int keep, int max_fd)
{
	int	fd;

#ifdef SYS_close_range
	if ((keep <= 3 || syscall(SYS_close_range, 3U,
	    (unsigned int)keep - 1, 0U) == 0) &&
	    syscall(SYS_close_range, (unsigned int)keep + 1, ~0U, 0U) == 0)
		return;
#endif
	for (fd = 3; fd < max_fd; fd++)
		if (fd != keep)
			(void)close(fd);
}

/* In the child between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
child_exec(const struct act_seq *q, char **argv, int errw, int outw,
    int devnull)
{
	struct sigaction	sa;
	sigset_t		empty;
	int			i, msg[2], stage;
	/* an all-zero kernel sigaction is SIG_DFL, no flags, empty mask,
	 * whatever the architecture's layout */
	static const unsigned long ksa_dfl[8];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 1; i < NSIG; i++) {
		if (sigaction(i, &sa, NULL) == 0 || i == SIGKILL ||
		    i == SIGSTOP)
			continue;
		/* libc keeps its own signals (32, 33) from sigaction, yet
		 * an ignored one is inherited across exec: reset it raw */
		(void)syscall(SYS_rt_sigaction, i, ksa_dfl, NULL,
		    (size_t)(NSIG / 8));
	}

	stage = ST_SETSID;
	if (setsid() == -1)
		goto fail;
	stage = ST_DUP2;
	if (dup2(devnull, 0) == -1 || dup2(outw, 1) == -1 ||
	    dup2(outw, 2) == -1)
		goto fail;
	child_close_fds(errw, q->max_fd);
	if (q->switch_user) {
		stage = ST_SETGROUPS;
		if (setgroups((size_t)q->ngroups, q->groups) == -1)
			goto fail;
		stage = ST_SETGID;
		if (setgid(q->gid) == -1)
			goto fail;
		stage = ST_SETUID;
		if (setuid(q->uid) == -1)
			goto fail;
	}
	stage = ST_CHDIR;
	if (q->cwd != NULL && chdir(q->cwd) == -1)
		goto fail;
	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);
	stage = ST_EXECVE;
	execve(argv[0], argv, q->envp);
fail:
	msg[0] = stage;
	msg[1] = errno;
	(void)!write(errw, msg, sizeof(msg));
	_exit(127);
}

/* ------------------------------------------------------------------ */
/* steps in the parent */

static const char *
stage_name(int stage)
{
	switch (stage) {
	case ST_SETSID:		return "setsid";
	case ST_DUP2:		return "dup2";
	case ST_SETGROUPS:	return "setgroups";
	case ST_SETGID:		return "setgid";
	case ST_SETUID:		return "setuid";
	case ST_CHDIR:		return "chdir";
	case ST_EXECVE:		return "execve";
	default:		return "spawn";
	}
}

/* The step could not run: what, and errno e (0 for none). Finishes it. */
static void
step_not_run(struct act_step *p, const char *what, const char *obj, int e)
{
	p->res.ran = 0;
	p->res.error = e;
	if (e != 0)
		snprintf(p->text, sizeof(p->text), "could not run: %s%s%s: %s "
		    "(%s)", what, obj != NULL ? " " : "", obj != NULL ? obj : "",
		    strerror(e), errno_name(e));
	else
		snprintf(p->text, sizeof(p->text), "could not run: %s", what);
	p->reaped = 1;
	step_finish(p);
}

static void
step_read(struct act_step *p)
{
	char	buf[4096];
	size_t	room, take;
	ssize_t	n;

	for (;;) {
		n = read(p->outfd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		room = p->out.max - p->out.len;
		take = (size_t)n < room ? (size_t)n : room;
		if (take > 0 && sw_buf_add(&p->out, buf, take) == -1)
			take = 0;	/* out of memory: count it dropped */
		p->res.output_dropped += (uint64_t)((size_t)n - take);
	}
	if (n == 0) {
		/* EOF: every writer is gone */
		sw_loop_fd_del(p->seq->acts->loop, p->outfd);
		close(p->outfd);
		p->outfd = -1;
	}
}

static void
step_out_cb(int fd, short revents, void *arg)
{
	(void)fd;
	(void)revents;
	step_read(arg);
}

static void
step_unwatch(struct act_step *p)
{
	struct sw_loop	*loop = p->seq->acts->loop;

	if (p->pidfd != -1) {
		sw_loop_fd_del(loop, p->pidfd);
		close(p->pidfd);
		p->pidfd = -1;
	}
	if (p->outfd != -1) {
		sw_loop_fd_del(loop, p->outfd);
		close(p->outfd);
		p->outfd = -1;
	}
	sw_loop_timer_cancel(loop, p->poll_timer);
	sw_loop_timer_cancel(loop, p->timeout_timer);
	sw_loop_timer_cancel(loop, p->grace_timer);
	p->poll_timer = p->timeout_timer = p->grace_timer = 0;
}

/* Reaps the step's pid if it has exited. Returns 0 when it has not (p
 * untouched), 1 when it was reaped (p may be freed by then). */
static int
step_reap(struct act_step *p)
{
	struct sw_loop	*loop = p->seq->acts->loop;
	int		 status = 0;
	pid_t		 r;

	if (p->reaped)
		return 1;
	do
		r = waitpid(p->pid, &status, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return 0;
	p->reaped = 1;
	p->res.ran = 1;
	if (r == -1) {
		/* ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN) */
		snprintf(p->text, sizeof(p->text), "exit status unknown: %s",
		    strerror(errno));
	} else if (WIFEXITED(status)) {
		p->res.exited = 1;
		p->res.status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status))
		p->res.signo = WTERMSIG(status);
	if (p->pidfd != -1) {
		sw_loop_fd_del(loop, p->pidfd);
		close(p->pidfd);
		p->pidfd = -1;
	}
	sw_loop_timer_cancel(loop, p->poll_timer);
	sw_loop_timer_cancel(loop, p->timeout_timer);
	p->poll_timer = p->timeout_timer = 0;
	/* what is in the pipe now; a grandchild may keep it open, so do
	 * not wait for EOF */
	if (p->outfd != -1) {
		step_read(p);
		if (p->outfd != -1) {
			sw_loop_fd_del(loop, p->outfd);
			close(p->outfd);
			p->outfd = -1;
		}
	}
	if (!p->grace_pending)
		step_finish(p);
	return 1;
}

static void
step_pidfd_cb(int fd, short revents, void *arg)
{
	(void)fd;
	(void)revents;
	(void)step_reap(arg);
}

static void
step_poll_timer(void *arg)
{
	struct act_step	*p = arg;

	p->poll_timer = 0;
	if (step_reap(p) == 0)
		p->poll_timer = sw_loop_timer_at(p->seq->acts->loop,
		    sw_clock_mono_us() + ACT_POLL_US, step_poll_timer, p);
}

static void
step_grace_timer(void *arg)
{
	struct act_step	*p = arg;

	p->grace_timer = 0;
	p->grace_pending = 0;
	/* the whole group: grandchildren that ignored SIGTERM too */
	(void)kill(-p->pid, SIGKILL);
	if (p->reaped)
		step_finish(p);
}

static void
step_timeout_timer(void *arg)
{
	struct act_step		*p = arg;
	struct act_seq		*q = p->seq;
	int64_t			 grace = q->acts->opts.kill_grace_ms;

	p->timeout_timer = 0;
	p->res.timed_out = 1;
	sw_log_warn("action %s (rule %s): %s step timed out after %lld ms; "
	    "sending SIGTERM to its process group", q->action, q->rule,
	    p->name, (long long)q->timeout_ms);
	(void)kill(-p->pid, SIGTERM);
	p->grace_pending = 1;
	p->grace_timer = sw_loop_timer_at(q->acts->loop, sw_clock_mono_us() +
	    (grace > 0 ? grace : SW_ACTION_KILL_GRACE_MS) * 1000,
	    step_grace_timer, p);
	if (p->grace_timer == 0)
		step_grace_timer(p);	/* no memory for a timer: now */
}

/* Does this kernel (and this valgrind) have pidfd_open? */
static int
pidfd_supported(void)
{
	int	fd = -1;

	if (act_pidfd_ok != -1)
		return act_pidfd_ok;
#ifdef SYS_pidfd_open
	fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
#endif
	act_pidfd_ok = fd != -1;
	if (fd != -1)
		close(fd);
	return act_pidfd_ok;
}

static void
act_sigchld(int signo, void *arg)
{
	struct sw_actions	*acts;
	struct act_state	*s, *next;
	struct act_seq		*q;
	struct act_step		*p;

	(void)signo;
	(void)arg;
	for (acts = act_live; acts != NULL; acts = acts->live_next) {
		for (s = acts->states; s != NULL; s = next) {
			next = s->next;	/* s may go with its sequence */
			if ((q = s->seq) == NULL)
				continue;
			p = q->phase == PH_BEFORE ? &q->before :
			    q->phase == PH_RUN ? &q->run : NULL;
			if (p != NULL && p->used && !p->done && !p->reaped &&
			    p->pid > 0)
				(void)step_reap(p);
		}
	}
}

/* Moves fd to 3 or above (close-on-exec), so that the child's dup2 onto
 * 0..2 cannot clobber it when the agent runs with a closed stdio fd. */
static int
fd_high(int *fd)
{
	int	nfd;

	if (*fd >= 3)
		return 0;
	if ((nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

/* Starts a step. Never fails as such: a step that cannot start is
 * finished at once with a "could not run" result. */
static void
step_start(struct act_step *p)
{
	struct act_seq	*q = p->seq;
	struct sw_loop	*loop = q->acts->loop;
	int		 errp[2] = { -1, -1 }, outp[2] = { -1, -1 };
	int		 devnull = -1, msg[2], e, status;
	sigset_t	 all, old;
	ssize_t		 n;
	size_t		 got = 0;
	pid_t		 pid;
	int		 nargs;

	p->used = 1;
	p->start_us = sw_clock_mono_us();
	q->envp[q->phase_idx] = p == &q->before ? q->phase_before :
	    q->phase_run;
	/* the program only: arguments may carry tokens (the full argv is in
	 * the action's event, which holds nothing the config did not) */
	for (nargs = 0; p->argv[nargs] != NULL; nargs++)
		;
	sw_log_info("action %s (rule %s): %s: %s (%d argument%s)", q->action,
	    q->rule, p->name, p->argv[0], nargs - 1, nargs == 2 ? "" : "s");
	if (q->user_error[0] != '\0') {
		step_not_run(p, q->user_error, NULL, 0);
		return;
	}
	if (pipe2(errp, O_CLOEXEC) == -1 || pipe2(outp, O_CLOEXEC) == -1 ||
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    fd_high(&errp[0]) == -1 || fd_high(&errp[1]) == -1 ||
	    fd_high(&outp[0]) == -1 || fd_high(&outp[1]) == -1 ||
	    fd_high(&devnull) == -1 ||
	    fcntl(outp[0], F_SETFL, O_NONBLOCK) == -1) {
		e = errno;
		goto fail_fds;
	}

	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(q, p->argv, errp[1], outp[1], devnull);
	e = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	close(errp[1]);
	close(outp[1]);
	close(devnull);
	errp[1] = outp[1] = devnull = -1;
	if (pid == -1)
		goto fail_fds;

	/* closed by a successful execve; a message when it failed */
	while (got < sizeof(msg)) {
		n = read(errp[0], (char *)msg + got, sizeof(msg) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(errp[0]);
	if (got == sizeof(msg)) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		close(outp[0]);
		step_not_run(p, stage_name(msg[0]), msg[0] == ST_EXECVE ?
		    p->argv[0] : msg[0] == ST_CHDIR ? q->cwd : NULL, msg[1]);
		return;
	}

	p->pid = pid;
	p->outfd = outp[0];
	if (sw_loop_fd_set(loop, p->outfd, POLLIN, step_out_cb, p) == -1) {
		close(p->outfd);	/* no memory: output is lost */
		p->outfd = -1;
	}
#ifdef SYS_pidfd_open
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (p->pidfd != -1 && sw_loop_fd_set(loop, p->pidfd, POLLIN,
	    step_pidfd_cb, p) == -1) {
		close(p->pidfd);
		p->pidfd = -1;
	}
	if (p->pidfd == -1 && !q->acts->sigchld)
		p->poll_timer = sw_loop_timer_at(loop, sw_clock_mono_us() +
		    ACT_POLL_US, step_poll_timer, p);
	p->timeout_timer = sw_loop_timer_at(loop, sw_clock_mono_us() +
	    q->timeout_ms * 1000, step_timeout_timer, p);
	if ((p->pidfd == -1 && !q->acts->sigchld && p->poll_timer == 0) ||
	    p->timeout_timer == 0) {
		/* cannot watch it: do not leave it running unwatched */
		sw_log_error("action %s: out of memory watching pid %ld; "
		    "killing it", q->action, (long)pid);
		(void)kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		step_unwatch(p);
		step_not_run(p, "out of memory watching the child", NULL, 0);
	}
	return;

fail_fds:
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	if (outp[0] != -1)
		close(outp[0]);
	if (outp[1] != -1)
		close(outp[1]);
	if (devnull != -1)
		close(devnull);
	step_not_run(p, "spawn", NULL, e);
}

/* The step is over: fill its result and move the sequence on. */
static void
step_finish(struct act_step *p)
{
	struct sw_action_result	*r = &p->res;
	char			 d[32], t[64];

	if (p->done)
		return;
	p->done = 1;
	step_unwatch(p);
	r->duration_ms = (sw_clock_mono_us() - p->start_us) / 1000;
	r->output = sw_buf_str(&p->out);
	r->output_len = p->out.len;
	if (r->ran) {
		if (r->exited)
			snprintf(t, sizeof(t), "exited %d", r->status);
		else if (r->signo)
			snprintf(t, sizeof(t), "killed by signal %d", r->signo);
		else
			t[0] = '\0';
		if (r->timed_out)
			snprintf(p->text, sizeof(p->text), "timed out after %s "
			    "(%s)", fmt_dur(d, sizeof(d), p->seq->timeout_ms),
			    t[0] != '\0' ? t : "status unknown");
		else if (t[0] != '\0')
			snprintf(p->text, sizeof(p->text), "%s", t);
	}
	r->text = p->text;
	seq_step_done(p->seq, p);
}

/* ------------------------------------------------------------------ */
/* the sequence */

static void
seq_end(struct act_seq *q)
{
	struct sw_actions	*acts = q->acts;
	struct act_state	*s = q->state, **sp;

	s->seq = NULL;
	acts->busy--;
	if (s->conf == NULL) {
		/* gone from the config while it ran */
		for (sp = &acts->states; *sp != NULL; sp = &(*sp)->next)
			if (*sp == s) {
				*sp = s->next;
				break;
			}
		state_free(s);
	}
	seq_free(q);
}

static void
seq_verify_timer(void *arg)
{
	struct act_seq		*q = arg;
	struct sw_actions	*acts = q->acts;
	struct sw_action_verify	 v;
	struct sw_action_report	 r;
	json_t			*o;
	char			 who[192], text[512], *detail;
	const char		*tname;
	int			 changed, ok;

	q->verify_timer = 0;
	memset(&v, 0, sizeof(v));
	v.rule = q->rule;
	v.action = q->action;
	v.target = q->target;
	v.old_pid = q->pid;
	v.started_ms = q->started_ms;
	v.cleared = -1;
	acts->opts.verify(acts->opts.arg, &v);
	v.now[sizeof(v.now) - 1] = '\0';

	tname = q->target[0] != '\0' ? q->target : "the target";
	changed = q->pid > 0 && v.new_pid > 0 ? v.new_pid != q->pid : -1;
	ok = v.cleared == 1 && changed != 0;
	if (changed == 1)
		snprintf(who, sizeof(who), "%s (pid %ld \u2192 %ld)", tname,
		    q->pid, v.new_pid);
	else if (changed == 0)
		snprintf(who, sizeof(who), "%s still pid %ld", tname, q->pid);
	else if (v.new_pid > 0)
		snprintf(who, sizeof(who), "%s (pid %ld)", tname, v.new_pid);
	else
		snprintf(who, sizeof(who), "%s", tname);
	if (ok)
		snprintf(text, sizeof(text), "restarted %s%s%s", who,
		    v.now[0] != '\0' ? "; " : "", v.now);
	else
		snprintf(text, sizeof(text), "restart did not %s: %s%s%s",
		    changed == 0 ? "replace the process" : "clear the alert",
		    who, v.now[0] != '\0' ? "; " : "", v.now);
	snprintf(q->state->last_verify, sizeof(q->state->last_verify), "%s",
	    text);
	if (ok)
		sw_log_info("action %s (rule %s): %s", q->action, q->rule, text);
	else
		sw_log_warn("action %s (rule %s): %s", q->action, q->rule, text);

	detail = NULL;
	if ((o = event_base(q, "verify")) != NULL) {
		json_object_set_new(o, "old_pid", json_integer(q->pid));
		json_object_set_new(o, "new_pid", json_integer(v.new_pid));
		json_object_set_new(o, "cleared", v.cleared < 0 ? json_null() :
		    json_boolean(v.cleared));
		json_object_set_new(o, "ok", json_boolean(ok));
		json_object_set_new(o, "text", jstr(text));
		detail = event_record(acts, q, sw_clock_wall_ms(), o);
	}
	memset(&r, 0, sizeof(r));
	r.kind = SW_ACTION_VERIFIED;
	r.rule = q->rule;
	r.action = q->action;
	r.target = q->target;
	r.pid = q->pid;
	r.severity = q->severity;
	r.ok = ok;
	r.text = text;
	r.detail = detail;
	r.new_pid = v.new_pid;
	r.cleared = v.cleared;
	report(acts, &r);
	free(detail);
	seq_end(q);
}

/* The run step is over: event, report, then verify or the end. */
static void
seq_ran(struct act_seq *q)
{
	struct sw_actions	*acts = q->acts;
	struct sw_action_report	 r;
	const struct sw_action_result *run = &q->run.res;
	const char		*vtext = NULL;
	json_t			*o, *b;
	char			 text[768], d[32], *detail = NULL;
	int			 ok = run->ran && run->exited && run->status == 0;

	if (q->verify_ms > 0) {
		if (!ok)
			vtext = "not run: the restart failed";
		else if (acts->opts.verify == NULL)
			vtext = "not run: no verify callback";
		else
			vtext = "pending";
	}
	if (q->before.used)
		snprintf(text, sizeof(text), "ran %s for rule %s: %s in %s; "
		    "before: %s", q->action, q->rule, run->text,
		    fmt_dur(d, sizeof(d), run->duration_ms), q->before.res.text);
	else
		snprintf(text, sizeof(text), "ran %s for rule %s: %s in %s",
		    q->action, q->rule, run->text,
		    fmt_dur(d, sizeof(d), run->duration_ms));
	snprintf(q->state->last_result, sizeof(q->state->last_result), "%s",
	    run->text);
	if (ok)
		sw_log_info("action %s: %s", q->action, text);
	else
		sw_log_warn("action %s: %s", q->action, text);

	if ((o = event_base(q, "run")) != NULL) {
		if ((b = result_json(&q->run)) != NULL) {
			json_object_update(o, b);
			json_decref(b);
		}
		json_object_set_new(o, "before", q->before.used ?
		    result_json(&q->before) : json_null());
		json_object_set_new(o, "verify", vtext != NULL ? jstr(vtext) :
		    json_null());
		json_object_set_new(o, "dry_run", json_false());
		detail = event_record(acts, q, q->started_ms, o);
	}
	memset(&r, 0, sizeof(r));
	r.kind = SW_ACTION_RAN;
	r.rule = q->rule;
	r.action = q->action;
	r.target = q->target;
	r.pid = q->pid;
	r.severity = q->severity;
	r.ok = ok;
	r.text = text;
	r.detail = detail;
	r.before = q->before.used ? &q->before.res : NULL;
	r.run = run;
	report(acts, &r);
	free(detail);

	if (vtext != NULL && strcmp(vtext, "pending") == 0) {
		q->phase = PH_VERIFY;
		q->verify_timer = sw_loop_timer_at(acts->loop,
		    sw_clock_mono_us() + q->verify_ms * 1000, seq_verify_timer,
		    q);
		if (q->verify_timer != 0)
			return;
		sw_log_error("action %s: out of memory: no verify", q->action);
	}
	seq_end(q);
}

static void
seq_step_done(struct act_seq *q, struct act_step *p)
{
	if (p == &q->before) {
		if (p->res.ran && p->res.exited && p->res.status == 0)
			sw_log_info("action %s (rule %s): before: %s",
			    q->action, q->rule, p->text);
		else
			sw_log_warn("action %s (rule %s): before: %s; "
			    "running the action anyway", q->action, q->rule,
			    p->text);
		q->phase = PH_RUN;
		step_start(&q->run);
		return;
	}
	seq_ran(q);
}

/* ------------------------------------------------------------------ */
/* the API */

static struct sw_actions *
actions_new(const struct sw_conf *conf, struct sw_loop *loop,
    struct sw_store *st, const struct sw_actions_opts *opts,
    struct sw_err *err)
{
	struct sw_actions	*acts;

	if ((acts = calloc(1, sizeof(*acts))) == NULL) {
		sw_err_set(err, "actions: out of memory");
		return NULL;
	}
	acts->loop = loop;
	acts->st = st;
	if (opts != NULL)
		acts->opts = *opts;
	if (states_sync(acts, conf, err) == -1) {
		sw_actions_free(acts);
		return NULL;
	}
	return acts;
}

struct sw_actions *
sw_actions_new(const struct sw_conf *conf, struct sw_loop *loop,
    struct sw_store *st, const struct sw_actions_opts *opts,
    struct sw_err *err)
{
	struct sw_actions	*acts;
	struct sw_err		 lerr;

	if ((acts = actions_new(conf, loop, st, opts, err)) == NULL)
		return NULL;
	sw_err_clear(&lerr);
	if (!pidfd_supported()) {
		if (sw_loop_signal(loop, SIGCHLD, act_sigchld, NULL,
		    &lerr) == 0)
			acts->sigchld = 1;
		else
			sw_log_warn("actions: no pidfd and no SIGCHLD (%s): "
			    "children are polled", lerr.msg);
		sw_err_clear(&lerr);
	}
	acts->live_next = act_live;
	act_live = acts;
	if (states_load(acts, sw_clock_wall_ms(), &lerr) == -1)
		sw_log_error("actions: guard rails not restored from the "
		    "store, they start empty: %s", lerr.msg);
	return acts;
}

int
sw_actions_set_conf(struct sw_actions *acts, const struct sw_conf *conf,
    struct sw_err *err)
{
	return states_sync(acts, conf, err);
}

static void
step_abandon(struct act_step *p)
{
	if (p->used && !p->done && p->pid > 0 && !p->reaped) {
		(void)kill(-p->pid, SIGTERM);
		(void)waitpid(p->pid, NULL, WNOHANG);
	}
	if (p->seq->acts->loop != NULL)
		step_unwatch(p);
}

void
sw_actions_free(struct sw_actions *acts)
{
	struct act_state	*s;
	struct act_seq		*q;
	struct sw_actions	**lp;

	if (acts == NULL)
		return;
	for (lp = &act_live; *lp != NULL; lp = &(*lp)->live_next)
		if (*lp == acts) {
			*lp = acts->live_next;
			break;
		}
	while ((s = acts->states) != NULL) {
		acts->states = s->next;
		if ((q = s->seq) != NULL) {
			sw_log_warn("action %s (rule %s): abandoned at exit",
			    q->action, q->rule);
			step_abandon(&q->before);
			step_abandon(&q->run);
			sw_loop_timer_cancel(acts->loop, q->verify_timer);
			seq_free(q);
		}
		state_free(s);
	}
	free(acts);
}

int
sw_actions_busy(const struct sw_actions *acts)
{
	return acts->busy;
}

/* Budget spent: one escalation per exhaustion period. */
static void
escalate(struct sw_actions *acts, struct act_state *s,
    const struct sw_action_alert *al, int64_t now_ms)
{
	struct sw_action_report	 r;
	struct act_seq		 q;	/* only the names, for the event */
	json_t			*o;
	char			 w[64], text[512], *detail = NULL;

	sw_fmt_duration_ms(w, sizeof(w), s->conf->limit_per_ms);
	snprintf(text, sizeof(text), "restarts are not helping: %s ran %d "
	    "time%s in %s and rule %s is still firing", s->name, s->nruns,
	    s->nruns == 1 ? "" : "s", w, al->rule->name);
	sw_log_error("action %s: %s", s->name, text);
	s->escalated_ms = now_ms;

	memset(&q, 0, sizeof(q));
	q.rule = al->rule->name;
	q.action = s->name;
	q.target = (char *)(al->target != NULL ? al->target : "");
	q.event = (char *)(al->event != NULL ? al->event : "");
	q.pid = al->pid;
	q.started_ms = now_ms;
	if ((o = event_base(&q, "escalate")) != NULL) {
		json_object_set_new(o, "severity", json_string("critical"));
		json_object_set_new(o, "runs", json_integer(s->nruns));
		json_object_set_new(o, "window_ms",
		    json_integer(s->conf->limit_per_ms));
		json_object_set_new(o, "text", jstr(text));
		detail = event_record(acts, &q, now_ms, o);
	}
	memset(&r, 0, sizeof(r));
	r.kind = SW_ACTION_ESCALATE;
	r.rule = al->rule->name;
	r.action = s->name;
	r.target = q.target;
	r.pid = al->pid;
	r.severity = SW_SEV_CRITICAL;
	r.text = text;
	r.detail = detail;
	report(acts, &r);
	free(detail);
}

static void
dry_run(struct sw_actions *acts, struct act_state *s,
    const struct sw_action_alert *al)
{
	struct sw_action_report	 r;
	char			**argv, line[512], text[768];

	if ((argv = argv_copy(&s->conf->run)) == NULL)
		line[0] = '\0';
	else
		argv_text(line, sizeof(line), argv);
	argv_free(argv);
	snprintf(text, sizeof(text), "dry run: would run %s (action %s, rule "
	    "%s, target %s, pid %ld)%s", line, s->name, al->rule->name,
	    al->target != NULL && al->target[0] != '\0' ? al->target : "-",
	    al->pid, s->conf->before.n > 0 ? " after its before step" : "");
	sw_log_info("%s", text);
	memset(&r, 0, sizeof(r));
	r.kind = SW_ACTION_DRY_RUN;
	r.rule = al->rule->name;
	r.action = s->name;
	r.target = al->target != NULL ? al->target : "";
	r.pid = al->pid;
	r.severity = al->rule->severity;
	r.ok = 1;
	r.text = text;
	report(acts, &r);
}

int
sw_actions_alert(struct sw_actions *acts, const struct sw_action_alert *al,
    struct sw_err *err)
{
	struct act_state	*s;
	struct act_seq		*q;
	int64_t			 now;
	char			 d[64];

	if (al->rule == NULL || al->rule->action == NULL || al->event == NULL ||
	    (strcmp(al->event, "firing") != 0 &&
	    strcmp(al->event, "repeat") != 0))
		return 0;
	if ((s = state_find(acts, al->rule->action)) == NULL ||
	    s->conf == NULL)
		return sw_err_set(err, "rule %s: unknown action \"%s\"",
		    al->rule->name, al->rule->action);
	now = sw_clock_wall_ms();
	state_prune(s, now);
	if (al->silenced) {
		sw_log_info("action %s (rule %s): not run: the rule is "
		    "silenced", s->name, al->rule->name);
		s->nskipped++;
		return 0;
	}
	if (s->seq != NULL) {
		sw_log_info("action %s (rule %s): not run: still busy with "
		    "the run for rule %s", s->name, al->rule->name,
		    s->seq->rule);
		s->nskipped++;
		return 0;
	}
	if (s->conf->limit_n > 0 && s->nruns >= s->conf->limit_n) {
		s->nskipped++;
		if (s->escalated_ms < s->runs[s->nruns - 1])
			escalate(acts, s, al, now);
		else
			sw_log_info("action %s (rule %s): not run: budget of "
			    "%d per %s spent (escalated)", s->name,
			    al->rule->name, s->conf->limit_n,
			    sw_fmt_duration_ms(d, sizeof(d),
			    s->conf->limit_per_ms));
		return 0;
	}
	if (s->last_run_ms > 0 && s->conf->cooldown_ms > 0 &&
	    now - s->last_run_ms < s->conf->cooldown_ms) {
		sw_log_info("action %s (rule %s): not run: cooling down for "
		    "%s more", s->name, al->rule->name,
		    sw_fmt_duration_ms(d, sizeof(d), s->conf->cooldown_ms -
		    (now - s->last_run_ms)));
		s->nskipped++;
		return 0;
	}
	if (acts->opts.dry_run) {
		if (state_add_run(s, now) == -1)
			return sw_err_set(err, "actions: out of memory");
		s->nrun++;
		dry_run(acts, s, al);
		return 1;
	}
	if ((q = seq_new(acts, s, al, now)) == NULL)
		return sw_err_set(err, "action %s: out of memory", s->name);
	if (state_add_run(s, now) == -1) {
		seq_free(q);
		return sw_err_set(err, "action %s: out of memory", s->name);
	}
	s->nrun++;
	s->seq = q;
	acts->busy++;
	if (q->before_argv != NULL) {
		q->phase = PH_BEFORE;
		step_start(&q->before);
	} else {
		q->phase = PH_RUN;
		step_start(&q->run);
	}
	return 1;
}

static const char *
phase_name(enum act_phase ph)
{
	switch (ph) {
	case PH_BEFORE:	return "before";
	case PH_RUN:	return "run";
	case PH_VERIFY:	return "verify";
	case PH_IDLE:
	default:	return "idle";
	}
}

int
sw_actions_status_each(struct sw_actions *acts, sw_action_status_cb cb,
    void *arg)
{
	struct sw_action_status	 as;
	struct act_state	*s;
	struct act_seq		*q;
	int64_t			 now = sw_clock_wall_ms();
	int			 rc;

	for (s = acts->states; s != NULL; s = s->next) {
		if (s->conf == NULL)
			continue;
		state_prune(s, now);
		memset(&as, 0, sizeof(as));
		q = s->seq;
		as.name = s->name;
		as.phase = phase_name(q != NULL ? q->phase : PH_IDLE);
		if (q != NULL && q->phase == PH_BEFORE)
			as.child_pid = q->before.pid;
		else if (q != NULL && q->phase == PH_RUN)
			as.child_pid = q->run.pid;
		as.last_run_ms = s->last_run_ms;
		as.last_result = s->last_result;
		as.last_verify = s->last_verify;
		as.runs_in_window = s->nruns;
		as.limit_n = s->conf->limit_n;
		as.limit_per_ms = s->conf->limit_per_ms;
		as.budget_spent = s->conf->limit_n > 0 &&
		    s->nruns >= s->conf->limit_n;
		if (as.budget_spent)
			as.budget_until_ms = s->runs[0] +
			    s->conf->limit_per_ms;
		if (s->last_run_ms > 0 && s->conf->cooldown_ms > 0 &&
		    now - s->last_run_ms < s->conf->cooldown_ms)
			as.cooldown_until_ms = s->last_run_ms +
			    s->conf->cooldown_ms;
		as.escalated_ms = s->escalated_ms;
		as.runs = s->nrun;
		as.skipped = s->nskipped;
		if ((rc = cb(&as, arg)) != 0)
			return rc;
	}
	return 0;
}

/* The last run's result and verify text, for status from the store. */
static int
load_last(const struct sw_event *ev, void *arg)
{
	struct sw_actions	*acts = arg;
	struct act_state	*s;
	json_t			*j;
	const char		*phase, *name, *t;

	if (strcmp(ev->kind, "action") != 0 || ev->detail == NULL ||
	    (j = json_loads(ev->detail, 0, NULL)) == NULL)
		return 0;
	phase = json_string_value(json_object_get(j, "phase"));
	name = json_string_value(json_object_get(j, "action"));
	if (phase != NULL && name != NULL &&
	    (s = state_find(acts, name)) != NULL) {
		if (strcmp(phase, "run") == 0 && (t = json_string_value(
		    json_object_get(j, "result"))) != NULL)
			snprintf(s->last_result, sizeof(s->last_result), "%s",
			    t);
		else if (strcmp(phase, "verify") == 0 && (t =
		    json_string_value(json_object_get(j, "text"))) != NULL)
			snprintf(s->last_verify, sizeof(s->last_verify), "%s",
			    t);
	}
	json_decref(j);
	return 0;
}

int
sw_actions_status_load(const struct sw_conf *conf, struct sw_store *st,
    int64_t now_ms, sw_action_status_cb cb, void *arg, struct sw_err *err)
{
	struct sw_actions	*acts;
	int			 rc = -1;

	if ((acts = actions_new(conf, NULL, st, NULL, err)) == NULL)
		return -1;
	if (states_load(acts, now_ms, err) == -1 ||
	    sw_store_events_last(st, NULL, 200, load_last, acts, err) == -1)
		goto out;
	rc = sw_actions_status_each(acts, cb, arg);
out:
	sw_actions_free(acts);
	return rc;
}

/* ------------------------------------------------------------------ */
/* check */

static int
check_program(const struct sw_conf_action *a, const struct sw_strlist *argv,
    const struct sw_loc *where, const char *key, sw_conf_diag_cb diag,
    void *diag_arg)
{
	struct stat	 sb;
	const char	*prog;
	char		 msg[SW_ERR_MAX];
	const struct sw_loc *loc = where->line > 0 ? where : &a->loc;

	if (argv->n == 0 || (prog = argv->v[0]) == NULL || prog[0] != '/')
		return 0;	/* absent, or already reported by the parser */
	if (stat(prog, &sb) == -1)
		snprintf(msg, sizeof(msg), "action %s: %s program %s is not "
		    "executable: %s", a->name, key, prog, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		snprintf(msg, sizeof(msg), "action %s: %s program %s is not a "
		    "regular file", a->name, key, prog);
	else if (access(prog, X_OK) == -1)
		snprintf(msg, sizeof(msg), "action %s: %s program %s is not "
		    "executable: %s", a->name, key, prog, strerror(errno));
	else
		return 0;
	if (diag != NULL)
		diag(loc, msg, diag_arg);
	return 1;
}

int
sw_actions_check_conf(const struct sw_conf *conf, sw_conf_diag_cb diag,
    void *diag_arg)
{
	const struct sw_conf_action	*a;
	struct passwd			 pw, *res;
	char				 buf[16384], msg[SW_ERR_MAX];
	int				 n = 0;

	for (a = conf->actions; a != NULL; a = a->next) {
		n += check_program(a, &a->run, &a->run_loc, "run", diag,
		    diag_arg);
		n += check_program(a, &a->before, &a->before_loc, "before",
		    diag, diag_arg);
		if (a->user != NULL) {
			res = NULL;
			(void)getpwnam_r(a->user, &pw, buf, sizeof(buf), &res);
			if (res == NULL) {
				snprintf(msg, sizeof(msg), "action %s: unknown "
				    "user \"%s\"", a->name, a->user);
				if (diag != NULL)
					diag(&a->loc, msg, diag_arg);
				n++;
			}
		}
	}
	return n;
}
