#include "config.h"
/*
 * source-process.c: process targets. Memory, CPU, threads and fds of one
 * process (or its tree, or a cgroup) from /proc and cgroup v2.
 *
 * Each collection resolves the selector to a set of pids (pid, pidfile,
 * match: a POSIX ERE on the command line, unit: a systemd unit's cgroup,
 * cgroup: a cgroup v2 directory) and picks the main instance: the selected
 * pid, or the oldest process of the set. An instance is (pid, start time),
 * so a recycled pid is a new instance. Events, once per transition:
 *   start    the first instance seen, or a new one while the old one lives
 *   restart  a new instance after the previous one vanished
 *   stop     the instance vanished and nothing replaced it
 *   down     the target was never found up (once)
 * A target whose process is gone is down (sw_target_done with ok = 0, which
 * the scheduler logs once), never an error storm. A process that exits
 * mid-read is dropped quietly; one we may not read falls back to what we may
 * (status instead of smaps_rollup) and says so once.
 *
 * Series (labels ""): rss pss anon swap limit cgroup_current (bytes),
 * cpu (seconds per second), threads fds pid processes oom_kills (plain).
 * With `children yes` memory, cpu, threads and fds are sums over the tree.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slopewatch/buf.h"
#include "slopewatch/clock.h"
#include "slopewatch/err.h"
#include "slopewatch/log.h"
#include "slopewatch/procfs.h"
#include "slopewatch/source.h"
#include "slopewatch/units.h"

enum proc_sel {
	SEL_PID = 0,
	SEL_PIDFILE,
	SEL_MATCH,
	SEL_UNIT,
	SEL_CGROUP,
};

/* One process as a scan of the root saw it. */
struct pinfo {
	long		pid;
	long		ppid;
	uint64_t	starttime;
};

/* CPU ticks of one process at the previous collection. */
struct cpu_ent {
	long		pid;
	uint64_t	starttime;
	uint64_t	ticks;
};

/* What one collection adds up. */
struct sums {
	uint64_t	rss, pss, anon, swap;
	long		threads, fds, nproc;
	int		all_pss, all_fds;	/* every process gave one */
	struct cpu_ent	*cpu;			/* this collection's ticks */
	size_t		ncpu, capcpu;
};

struct proc_target {
	struct sw_procfs fs;
	int		 fs_open;
	enum proc_sel	 sel;
	regex_t		 re;
	int		 have_re;
	char		 cg_mount[PATH_MAX];	/* "" when none */
	char		 cg_dir[PATH_MAX];	/* unit/cgroup: this collection */
	struct sw_buf	 cmd;			/* command line scratch */
	long		 self_pid;

	/* the instance */
	int		 have_inst;
	long		 inst_pid;
	uint64_t	 inst_start;
	int64_t		 inst_start_ms;
	int		 ever_up;
	int		 down_said;	/* the "down" event was stored */
	long		 old_pid;	/* the previous instance, for restart */
	int64_t		 old_start_ms;

	/* CPU of the previous collection, sorted by pid */
	struct cpu_ent	*cpu;
	size_t		 ncpu;
	int64_t		 cpu_mono_us;
	int64_t		 cpu_wall_ms;

	int		 said_access;	/* smaps_rollup not readable: logged */
	int		 said_fds;	/* fd directory not readable: logged */
	struct sw_complain c_read;	/* other read failures */
	struct sw_complain c_cgroup;	/* cgroup files */
};

static const char *
tname(const struct sw_target *t)
{
	return t->conf->name;
}

static int
proc_init(struct sw_target *t, struct sw_err *err)
{
	const struct sw_conf_process	*c = &t->conf->u.process;
	struct proc_target		*pt;
	struct sw_err			 e2;
	char				 mi[PATH_MAX], msg[256];
	int				 nsel = 0, rc;

	nsel = (c->pid > 0) + (c->pidfile != NULL) + (c->match != NULL) +
	    (c->unit != NULL) + (c->cgroup != NULL);
	if (nsel != 1)
		return sw_err_set(err, "%s:%d:%d: %s: give exactly one of pid, "
		    "pidfile, match, unit, cgroup", t->conf->loc.file,
		    t->conf->loc.line, t->conf->loc.col, tname(t));
	if (c->unit != NULL && (c->unit[0] == '\0' ||
	    strchr(c->unit, '/') != NULL || strcmp(c->unit, "..") == 0 ||
	    strcmp(c->unit, ".") == 0))
		return sw_err_set(err, "%s:%d:%d: %s: bad unit name",
		    t->conf->loc.file, t->conf->loc.line, t->conf->loc.col,
		    tname(t));
	if ((pt = calloc(1, sizeof *pt)) == NULL)
		return sw_err_set(err, "out of memory");
	sw_buf_init(&pt->cmd, SW_PROCFS_CMDLINE_MAX);
	pt->self_pid = (long)getpid();
	if (c->pid > 0)
		pt->sel = SEL_PID;
	else if (c->pidfile != NULL)
		pt->sel = SEL_PIDFILE;
	else if (c->match != NULL)
		pt->sel = SEL_MATCH;
	else if (c->unit != NULL)
		pt->sel = SEL_UNIT;
	else
		pt->sel = SEL_CGROUP;

	if (pt->sel == SEL_MATCH) {
		rc = regcomp(&pt->re, c->match, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &pt->re, msg, sizeof msg);
			free(pt);
			return sw_err_set(err, "%s:%d:%d: %s: match: %s",
			    t->conf->loc.file, t->conf->loc.line,
			    t->conf->loc.col, tname(t), msg);
		}
		pt->have_re = 1;
	}
	if (sw_procfs_open(&pt->fs, NULL, err) != 0) {
		if (pt->have_re)
			regfree(&pt->re);
		free(pt);
		return -1;
	}
	pt->fs_open = 1;

	/* The cgroup v2 mount, from our own mountinfo; without one, unit
	 * targets cannot work and limits come from the config only. */
	snprintf(mi, sizeof mi, "%s/self/mountinfo", pt->fs.root);
	sw_err_clear(&e2);
	if (sw_procfs_cgroup2_mount(mi, pt->cg_mount, sizeof pt->cg_mount,
	    &e2) != 0) {
		pt->cg_mount[0] = '\0';
		if (pt->sel == SEL_UNIT)
			sw_log_warn("%s: %s; unit targets need cgroup v2",
			    tname(t), e2.msg);
	}
	t->impl = pt;
	return 0;
}

static void
proc_free(struct sw_target *t)
{
	struct proc_target	*pt = t->impl;

	if (pt == NULL)
		return;
	if (pt->have_re)
		regfree(&pt->re);
	if (pt->fs_open)
		sw_procfs_close(&pt->fs);
	sw_buf_release(&pt->cmd);
	free(pt->cpu);
	free(pt);
	t->impl = NULL;
}

static void
emit(struct sw_target *t, const char *metric, enum sw_unit unit,
    int64_t now, double v)
{
	const struct sw_sink	*k = &t->ctx->sink;

	k->sample(k->arg, tname(t), metric, "", sw_unit_name(unit), now, v);
}

/* Stores an event with a JSON detail (stolen); the sink logs it. */
static void
event(struct sw_target *t, const char *kind, long pid, int64_t now,
    json_t *detail)
{
	const struct sw_sink	*k = &t->ctx->sink;
	char			*s = NULL;

	if (detail != NULL)
		s = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	k->event(k->arg, tname(t), kind, pid, now, s);
	free(s);
	json_decref(detail);
}

/*
 * Opens pid and reads its stat. 0 with p open and st filled; 1 when the
 * process is gone, a zombie or a kernel thread (p closed); -1 on another
 * failure (p closed, err set).
 */
static int
open_live(struct proc_target *pt, long pid, struct sw_proc *p,
    struct sw_proc_stat *st, struct sw_err *err)
{
	if (sw_proc_open(&pt->fs, pid, p, err) != 0)
		return sw_procfs_gone(errno) ? 1 : -1;
	if (sw_proc_read_stat(p, st, err) != 0) {
		sw_proc_close(p);
		return sw_procfs_gone(errno) ? 1 : -1;
	}
	if (st->state == 'Z' || st->state == 'X' ||
	    (st->flags & SW_PROC_PF_KTHREAD) != 0) {
		sw_proc_close(p);
		return 1;
	}
	return 0;
}

static int
cmp_pinfo_ppid(const void *a, const void *b)
{
	const struct pinfo	*x = a, *y = b;

	if (x->ppid != y->ppid)
		return (x->ppid > y->ppid) - (x->ppid < y->ppid);
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int
cmp_long(const void *a, const void *b)
{
	long	x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int
cmp_cpu(const void *a, const void *b)
{
	const struct cpu_ent	*x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/*
 * Scans the root: every live user process as a pinfo (kernel threads and
 * zombies left out). For match targets, also the matches. *all is new.
 */
static int
scan(struct sw_target *t, struct pinfo **all, size_t *nall, long **match,
    size_t *nmatch, struct sw_err *err)
{
	struct proc_target	*pt = t->impl;
	struct sw_proc		 p;
	struct sw_proc_stat	 st;
	struct sw_err		 e2;
	struct pinfo		*v = NULL;
	long			*pids = NULL, *m = NULL;
	size_t			 npids, i, nv = 0, nm = 0;
	int			 r, rc = -1;

	*all = NULL;
	*nall = 0;
	if (match != NULL) {
		*match = NULL;
		*nmatch = 0;
	}
	if (sw_procfs_list_pids(&pt->fs, &pids, &npids, err) != 0)
		return -1;
	if (npids > 0) {
		v = calloc(npids, sizeof *v);
		if (match != NULL)
			m = calloc(npids, sizeof *m);
		if (v == NULL || (match != NULL && m == NULL)) {
			sw_err_set(err, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < npids; i++) {
		sw_err_clear(&e2);
		r = open_live(pt, pids[i], &p, &st, &e2);
		if (r != 0)
			continue;	/* gone, zombie, kernel thread, unreadable */
		v[nv].pid = st.pid;
		v[nv].ppid = st.ppid;
		v[nv].starttime = st.starttime;
		nv++;
		if (match != NULL && st.pid != pt->self_pid &&
		    sw_proc_read_cmdline(&p, &pt->cmd, &e2) == 0 &&
		    pt->cmd.len > 0 &&
		    regexec(&pt->re, sw_buf_str(&pt->cmd), 0, NULL, 0) == 0)
			m[nm++] = st.pid;
		sw_proc_close(&p);
	}
	*all = v;
	*nall = nv;
	v = NULL;
	if (match != NULL) {
		*match = m;
		*nmatch = nm;
		m = NULL;
	}
	rc = 0;
out:
	free(pids);
	free(v);
	free(m);
	return rc;
}

/* Appends every descendant of the pids in set (not already in it). */
static int
add_descendants(struct pinfo *all, size_t nall, long **set, size_t *nset,
    struct sw_err *err)
{
	unsigned char	*seen = NULL;
	long		*q = NULL, pid;
	size_t		 nq = 0, head = 0, i, lo, hi, mid;
	struct pinfo	 key;
	int		 rc = -1;

	if (nall == 0)
		return 0;
	/* by ppid, so a node's children are one range */
	qsort(all, nall, sizeof *all, cmp_pinfo_ppid);
	seen = calloc(nall, 1);
	q = calloc(nall + *nset, sizeof *q);
	if (seen == NULL || q == NULL) {
		sw_err_set(err, "out of memory");
		goto out;
	}
	for (i = 0; i < *nset; i++)
		q[nq++] = (*set)[i];
	/* the roots are taken: sorted, so each process is looked up once */
	qsort(*set, *nset, sizeof **set, cmp_long);
	for (i = 0; i < nall; i++)
		if (bsearch(&all[i].pid, *set, *nset, sizeof **set,
		    cmp_long) != NULL)
			seen[i] = 1;
	while (head < nq) {
		pid = q[head++];
		key.ppid = pid;
		key.pid = 0;
		lo = 0;
		hi = nall;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (cmp_pinfo_ppid(&all[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (i = lo; i < nall && all[i].ppid == pid; i++) {
			if (seen[i])
				continue;
			seen[i] = 1;
			q[nq++] = all[i].pid;
		}
	}
	free(*set);
	*set = q;
	*nset = nq;
	q = NULL;
	rc = 0;
out:
	free(seen);
	free(q);
	return rc;
}

/* The directory of a unit or cgroup target into pt->cg_dir. */
static int
resolve_cgroup(struct sw_target *t, struct sw_err *err)
{
	const struct sw_conf_process	*c = &t->conf->u.process;
	struct proc_target		*pt = t->impl;
	struct stat			 sb;
	const char			*rel;
	int				 n;

	if (pt->sel == SEL_CGROUP && c->cgroup[0] == '/' &&
	    stat(c->cgroup, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		/* a full file system path */
		n = snprintf(pt->cg_dir, sizeof pt->cg_dir, "%s", c->cgroup);
		if (n < 0 || (size_t)n >= sizeof pt->cg_dir)
			return sw_err_set(err, "cgroup %s: path too long",
			    c->cgroup);
		return 0;
	}
	if (pt->cg_mount[0] == '\0')
		return sw_err_set(err, "%s %s: no cgroup v2 file system",
		    pt->sel == SEL_UNIT ? "unit" : "cgroup",
		    pt->sel == SEL_UNIT ? c->unit : c->cgroup);
	if (pt->sel == SEL_UNIT)
		n = snprintf(pt->cg_dir, sizeof pt->cg_dir,
		    "%s/system.slice/%s%s", pt->cg_mount, c->unit,
		    strchr(c->unit, '.') == NULL ? ".service" : "");
	else {
		rel = c->cgroup;
		while (*rel == '/')
			rel++;
		n = snprintf(pt->cg_dir, sizeof pt->cg_dir, "%s/%s",
		    pt->cg_mount, rel);
	}
	if (n < 0 || (size_t)n >= sizeof pt->cg_dir)
		return sw_err_set(err, "%s: cgroup path too long", tname(t));
	return 0;
}

/*
 * The candidate pids of this collection (new array). *why receives the
 * reason when there are none.
 */
static int
candidates(struct sw_target *t, long **pids, size_t *n, struct pinfo **all,
    size_t *nall, char *why, size_t whysz)
{
	const struct sw_conf_process	*c = &t->conf->u.process;
	struct proc_target		*pt = t->impl;
	struct sw_err			 err;
	char				 esc[256];
	long				 pid;

	*pids = NULL;
	*n = 0;
	*all = NULL;
	*nall = 0;
	sw_err_clear(&err);
	switch (pt->sel) {
	case SEL_PID:
	case SEL_PIDFILE:
		if (pt->sel == SEL_PID)
			pid = c->pid;
		else if (sw_procfs_read_pidfile(c->pidfile, &pid, &err) != 0) {
			sw_log_escape(esc, sizeof esc, err.msg, strlen(err.msg));
			snprintf(why, whysz, "%s", esc);
			return 0;
		}
		if ((*pids = malloc(sizeof **pids)) == NULL)
			return -1;
		(*pids)[0] = pid;
		*n = 1;
		break;
	case SEL_MATCH:
		if (scan(t, all, nall, pids, n, &err) != 0)
			goto fail;
		break;
	case SEL_UNIT:
	case SEL_CGROUP:
		if (resolve_cgroup(t, &err) != 0)
			goto fail;
		if (sw_procfs_read_cgroup_procs(pt->cg_dir, pids, n,
		    &err) != 0) {
			if (errno == ENOENT) {
				sw_log_escape(esc, sizeof esc, pt->cg_dir,
				    strlen(pt->cg_dir));
				snprintf(why, whysz, "%s %s: no cgroup at %s",
				    pt->sel == SEL_UNIT ? "unit" : "cgroup",
				    pt->sel == SEL_UNIT ? c->unit : c->cgroup,
				    esc);
				free(*pids);
				*pids = NULL;
				*n = 0;
				return 0;
			}
			goto fail;
		}
		break;
	}
	return 0;
fail:
	free(*pids);
	*pids = NULL;
	*n = 0;
	sw_log_escape(esc, sizeof esc, err.msg, strlen(err.msg));
	snprintf(why, whysz, "%s", esc);
	return 0;
}

/* Finds the previous ticks of (pid, starttime), or NULL. */
static const struct cpu_ent *
cpu_prev(const struct proc_target *pt, long pid, uint64_t starttime)
{
	struct cpu_ent		 key;
	const struct cpu_ent	*e;

	if (pt->cpu == NULL)
		return NULL;
	key.pid = pid;
	e = bsearch(&key, pt->cpu, pt->ncpu, sizeof key, cmp_cpu);
	if (e == NULL || e->starttime != starttime)
		return NULL;
	return e;
}

static int
cpu_push(struct sums *s, long pid, uint64_t starttime, uint64_t ticks)
{
	struct cpu_ent	*n;
	size_t		 ncap;

	if (s->ncpu == s->capcpu) {
		ncap = s->capcpu ? s->capcpu * 2 : 16;
		if ((n = realloc(s->cpu, ncap * sizeof *n)) == NULL)
			return -1;
		s->cpu = n;
		s->capcpu = ncap;
	}
	s->cpu[s->ncpu].pid = pid;
	s->cpu[s->ncpu].starttime = starttime;
	s->cpu[s->ncpu].ticks = ticks;
	s->ncpu++;
	return 0;
}

/*
 * Reads one open process into the sums. 0 read, 1 gone meanwhile, -1 failed
 * (err set).
 */
static int
read_one(struct sw_target *t, struct sw_proc *p, const struct sw_proc_stat *st,
    struct sums *s, struct sw_err *err)
{
	struct proc_target	*pt = t->impl;
	struct sw_proc_status	 status;
	struct sw_proc_rollup	 ru;
	struct sw_err		 e2;
	long			 fds;
	int			 have_ru = 0;

	if (sw_proc_read_status(p, &status, err) != 0)
		return sw_procfs_gone(errno) ? 1 : -1;
	sw_err_clear(&e2);
	if (sw_proc_read_rollup(p, &ru, &e2) == 0)
		have_ru = ru.have;
	else if (sw_procfs_gone(errno))
		return 1;
	else if (errno == EACCES || errno == EPERM) {
		if (!pt->said_access)
			sw_log_warn("%s: cannot read smaps_rollup of pid %ld "
			    "(%s); pss not reported, rss from status (said "
			    "once)", tname(t), p->pid, strerror(errno));
		pt->said_access = 1;
	} else
		sw_complain(&pt->c_read, "%s: %s", tname(t), e2.msg);

	if (have_ru) {
		s->rss += ru.rss;
		s->pss += ru.pss;
		s->anon += ru.anon;
		s->swap += ru.swap;
	} else {
		s->all_pss = 0;
		s->rss += status.rss;
		s->anon += status.anon;
		s->swap += status.swap;
	}
	s->threads += status.have_threads ? status.threads : st->num_threads;

	sw_err_clear(&e2);
	if (sw_proc_count_fds(p, &fds, &e2) == 0)
		s->fds += fds;
	else if (sw_procfs_gone(errno))
		return 1;
	else {
		s->all_fds = 0;
		if (!pt->said_fds)
			sw_log_warn("%s: cannot count fds of pid %ld (%s); fds "
			    "not reported (said once)", tname(t), p->pid,
			    strerror(errno));
		pt->said_fds = 1;
	}
	if (cpu_push(s, p->pid, st->starttime, st->utime + st->stime) != 0)
		return sw_err_set(err, "out of memory");
	s->nproc++;
	return 0;
}

/* The smallest memory limit that applies: config, memory.high, memory.max
 * of dir (may be NULL). -1 when none. */
static double
find_limit(struct sw_target *t, const char *dir)
{
	double	 lim = t->conf->u.process.limit > 0 ?
		    t->conf->u.process.limit : -1;
	int64_t	 v;
	const char *files[] = { "memory.max", "memory.high" };
	size_t	 i;

	if (dir == NULL)
		return lim;
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (sw_procfs_read_cgroup_value(dir, files[i], &v, NULL) != 0 ||
		    v < 0)
			continue;
		if (lim < 0 || (double)v < lim)
			lim = (double)v;
	}
	return lim;
}

/* The cgroup directory of a process, for its limit. */
static int
proc_cgroup_dir(struct proc_target *pt, struct sw_proc *p, char *dst,
    size_t dstsz)
{
	char	rel[PATH_MAX];
	int	n;

	if (pt->cg_mount[0] == '\0' ||
	    sw_proc_read_cgroup(p, rel, sizeof rel, NULL) != 0 ||
	    strstr(rel, "/..") != NULL)
		return -1;
	n = snprintf(dst, dstsz, "%s%s", pt->cg_mount,
	    strcmp(rel, "/") == 0 ? "" : rel);
	return (n < 0 || (size_t)n >= dstsz) ? -1 : 0;
}

/* The target is down this collection: events once, then done(0). */
static void
went_down(struct sw_target *t, int64_t now, const char *why)
{
	struct proc_target	*pt = t->impl;

	if (pt->have_inst) {
		event(t, "stop", pt->inst_pid, now,
		    json_pack("{s:I,s:I,s:s}", "pid", (json_int_t)pt->inst_pid,
		    "started_ms", (json_int_t)pt->inst_start_ms, "reason",
		    why));
		pt->old_pid = pt->inst_pid;
		pt->old_start_ms = pt->inst_start_ms;
		pt->have_inst = 0;
	} else if (!pt->ever_up && !pt->down_said) {
		event(t, "down", 0, now, json_pack("{s:s}", "reason", why));
		pt->down_said = 1;
	}
	free(pt->cpu);
	pt->cpu = NULL;
	pt->ncpu = 0;
	t->pid = 0;
	t->started_ms = 0;
	sw_target_done(t, 0, why);
}

/* Is (pid, starttime) still alive? */
static int
instance_alive(struct proc_target *pt, long pid, uint64_t starttime)
{
	struct sw_proc		p;
	struct sw_proc_stat	st;

	if (open_live(pt, pid, &p, &st, NULL) != 0)
		return 0;
	sw_proc_close(&p);
	return st.starttime == starttime;
}

/* Records the main instance, with its event when it is new. */
static void
track_instance(struct sw_target *t, int64_t now, long pid, uint64_t start)
{
	struct proc_target	*pt = t->impl;
	int64_t			 start_ms = sw_procfs_start_ms(&pt->fs, start);
	json_t			*d;
	const char		*kind;

	if (pt->have_inst && pt->inst_pid == pid && pt->inst_start == start)
		return;
	if (pt->have_inst) {
		/* replaced between two collections */
		pt->old_pid = pt->inst_pid;
		pt->old_start_ms = pt->inst_start_ms;
		kind = instance_alive(pt, pt->inst_pid, pt->inst_start) ?
		    "start" : "restart";
	} else
		kind = pt->ever_up ? "restart" : "start";
	d = json_pack("{s:I,s:I}", "pid", (json_int_t)pid, "started_ms",
	    (json_int_t)start_ms);
	if (d != NULL && pt->ever_up) {
		json_object_set_new(d, "old_pid", json_integer(pt->old_pid));
		json_object_set_new(d, "old_started_ms",
		    json_integer(pt->old_start_ms));
	}
	event(t, kind, pid, now, d);
	pt->have_inst = 1;
	pt->ever_up = 1;
	pt->inst_pid = pid;
	pt->inst_start = start;
	pt->inst_start_ms = start_ms;
	/* a new instance starts its cpu afresh */
	free(pt->cpu);
	pt->cpu = NULL;
	pt->ncpu = 0;
	t->pid = pid;
	t->started_ms = start_ms;
}

/* CPU seconds per second over the set since the previous collection. */
static int
cpu_rate(struct proc_target *pt, const struct sums *s, int64_t mono,
    double *out)
{
	const struct cpu_ent	*prev;
	uint64_t		 delta = 0;
	size_t			 i;

	if (pt->cpu == NULL || mono <= pt->cpu_mono_us)
		return -1;
	for (i = 0; i < s->ncpu; i++) {
		prev = cpu_prev(pt, s->cpu[i].pid, s->cpu[i].starttime);
		if (prev != NULL) {
			if (s->cpu[i].ticks >= prev->ticks)
				delta += s->cpu[i].ticks - prev->ticks;
		} else if (sw_procfs_start_ms(&pt->fs, s->cpu[i].starttime) >=
		    pt->cpu_wall_ms)
			delta += s->cpu[i].ticks;	/* born since */
	}
	*out = (double)delta / (double)pt->fs.clk_tck /
	    ((double)(mono - pt->cpu_mono_us) / 1e6);
	return 0;
}

static void
proc_collect(struct sw_target *t)
{
	const struct sw_conf_process	*c = &t->conf->u.process;
	struct proc_target		*pt = t->impl;
	int64_t				 now = sw_clock_wall_ms();
	int64_t				 mono = sw_clock_mono_us();
	struct pinfo			*all = NULL;
	struct sums			 s;
	struct sw_proc			 p, mp;
	struct sw_proc_stat		 st, mst;
	struct sw_err			 err;
	char				 why[512], esc[200], cgdir[PATH_MAX];
	const char			*limdir = NULL;
	long				*pids = NULL, main_pid = 0;
	size_t				 npids = 0, nall = 0, i;
	uint64_t			 main_start = 0;
	double				 v;
	int64_t				 iv;
	int				 r, have_main = 0;

	memset(&s, 0, sizeof s);
	memset(&mst, 0, sizeof mst);
	s.all_pss = s.all_fds = 1;
	mp.dirfd = -1;
	why[0] = '\0';
	if (candidates(t, &pids, &npids, &all, &nall, why, sizeof why) != 0)
		snprintf(why, sizeof why, "out of memory");

	/* the main instance: the oldest live candidate */
	for (i = 0; i < npids; i++) {
		sw_err_clear(&err);
		r = open_live(pt, pids[i], &p, &st, &err);
		if (r == -1)
			sw_complain(&pt->c_read, "%s: %s", tname(t), err.msg);
		if (r != 0)
			continue;
		if (!have_main || st.starttime < mst.starttime ||
		    (st.starttime == mst.starttime && st.pid < mst.pid)) {
			if (have_main)
				sw_proc_close(&mp);
			mp = p;
			mst = st;
			have_main = 1;
		} else
			sw_proc_close(&p);
	}
	if (!have_main) {
		if (why[0] == '\0') {
			switch (pt->sel) {
			case SEL_PID:
				snprintf(why, sizeof why,
				    "pid %ld is not running", c->pid);
				break;
			case SEL_PIDFILE:
				sw_log_escape(esc, sizeof esc, c->pidfile,
				    strlen(c->pidfile));
				snprintf(why, sizeof why, "pidfile %s: pid %ld "
				    "is not running", esc,
				    npids > 0 ? pids[0] : 0L);
				break;
			case SEL_MATCH:
				sw_log_escape(esc, sizeof esc, c->match,
				    strlen(c->match));
				snprintf(why, sizeof why,
				    "no process matches \"%s\"", esc);
				break;
			default:
				sw_log_escape(esc, sizeof esc, pt->cg_dir,
				    strlen(pt->cg_dir));
				snprintf(why, sizeof why,
				    "no process in cgroup %s", esc);
				break;
			}
		}
		went_down(t, now, why);
		goto out;
	}
	main_pid = mst.pid;
	main_start = mst.starttime;

	/* the set: the main, or with children the whole tree (for cgroup
	 * targets every process of the cgroup and their descendants) */
	if (c->children) {
		if (pt->sel != SEL_UNIT && pt->sel != SEL_CGROUP) {
			pids[0] = main_pid;
			npids = 1;
		}
		if (all == NULL) {
			sw_err_clear(&err);
			if (scan(t, &all, &nall, NULL, NULL, &err) != 0)
				sw_complain(&pt->c_read, "%s: %s", tname(t),
				    err.msg);
		}
		sw_err_clear(&err);
		if (add_descendants(all, nall, &pids, &npids, &err) != 0)
			sw_complain(&pt->c_read, "%s: %s", tname(t), err.msg);
	} else {
		pids[0] = main_pid;
		npids = 1;
	}

	/* the main first, through the fd that identified it */
	sw_err_clear(&err);
	r = read_one(t, &mp, &mst, &s, &err);
	/* the main's own cgroup bounds it (unit/cgroup targets use theirs) */
	if (pt->sel != SEL_UNIT && pt->sel != SEL_CGROUP &&
	    proc_cgroup_dir(pt, &mp, cgdir, sizeof cgdir) == 0)
		limdir = cgdir;
	sw_proc_close(&mp);
	if (r != 0) {
		if (r == -1) {
			sw_log_escape(esc, sizeof esc, err.msg, strlen(err.msg));
			snprintf(why, sizeof why, "%s", esc);
		} else
			snprintf(why, sizeof why, "pid %ld exited", main_pid);
		went_down(t, now, why);
		goto out;
	}
	qsort(pids, npids, sizeof *pids, cmp_long);
	for (i = 0; i < npids; i++) {
		if (pids[i] == main_pid || (i > 0 && pids[i] == pids[i - 1]))
			continue;	/* read above, or listed twice */
		sw_err_clear(&err);
		if (open_live(pt, pids[i], &p, &st, &err) != 0)
			continue;	/* gone: dropped quietly */
		sw_err_clear(&err);
		if (read_one(t, &p, &st, &s, &err) == -1)
			sw_complain(&pt->c_read, "%s: %s", tname(t), err.msg);
		sw_proc_close(&p);
	}

	track_instance(t, now, main_pid, main_start);

	emit(t, "rss", SW_UNIT_BYTES, now, (double)s.rss);
	if (s.all_pss)
		emit(t, "pss", SW_UNIT_BYTES, now, (double)s.pss);
	emit(t, "anon", SW_UNIT_BYTES, now, (double)s.anon);
	emit(t, "swap", SW_UNIT_BYTES, now, (double)s.swap);
	if (cpu_rate(pt, &s, mono, &v) == 0)
		emit(t, "cpu", SW_UNIT_PER_S, now, v);
	emit(t, "threads", SW_UNIT_NONE, now, (double)s.threads);
	if (s.all_fds)
		emit(t, "fds", SW_UNIT_NONE, now, (double)s.fds);
	emit(t, "pid", SW_UNIT_NONE, now, (double)main_pid);
	if (c->children || pt->sel == SEL_UNIT || pt->sel == SEL_CGROUP)
		emit(t, "processes", SW_UNIT_NONE, now, (double)s.nproc);
	if (pt->sel == SEL_UNIT || pt->sel == SEL_CGROUP) {
		limdir = pt->cg_dir;
		sw_err_clear(&err);
		if (sw_procfs_read_cgroup_value(pt->cg_dir, "memory.current",
		    &iv, &err) == 0 && iv >= 0) {
			emit(t, "cgroup_current", SW_UNIT_BYTES, now,
			    (double)iv);
			sw_complain_release(&pt->c_cgroup, "%s: memory.current "
			    "readable again", tname(t));
		} else
			sw_complain(&pt->c_cgroup, "%s: %s (is the memory "
			    "controller enabled?)", tname(t), err.msg);
		if (sw_procfs_read_cgroup_key(pt->cg_dir, "memory.events",
		    "oom_kill", &iv, NULL) == 0)
			emit(t, "oom_kills", SW_UNIT_NONE, now, (double)iv);
	}
	if ((v = find_limit(t, limdir)) > 0)
		emit(t, "limit", SW_UNIT_BYTES, now, v);

	/* keep this collection's ticks for the next cpu rate */
	qsort(s.cpu, s.ncpu, sizeof *s.cpu, cmp_cpu);
	free(pt->cpu);
	pt->cpu = s.cpu;
	pt->ncpu = s.ncpu;
	s.cpu = NULL;
	pt->cpu_mono_us = mono;
	pt->cpu_wall_ms = now;
	pt->down_said = 0;
	sw_target_done(t, 1, NULL);
out:
	free(s.cpu);
	free(pids);
	free(all);
}

const struct sw_source_ops sw_source_process = {
	"process", proc_init, proc_collect, proc_free,
};
