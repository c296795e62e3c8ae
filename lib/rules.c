#include "config.h"
/*
 * rules.c: the rules engine (rules.h): the series registry, process
 * instances, history loading, the alert state machine and its persistence.
 * Expression evaluation is lib/eval.c.
 *
 * Registry. At sw_engine_new every rule's `when` is parsed and walked
 * (sw_eval_needs); each series it uses gets one entry keyed by (target,
 * metric, labels) in a hash table, with a summary of its samples (with log
 * histograms only when a quantile function, or a latency trend or anomaly,
 * reads it) and/or a counter view (resets folded in, for rate). A
 * histogram_quantile selection keeps, per `le`, the sum over the matching
 * label sets of each counter's increases. Samples of other series cost one
 * hash lookup (plus, for a name ending in _bucket, a walk of the
 * selections). Memory is therefore bounded by the rules: at most
 * sw_summary_memory_max() per kept view, SW_EVAL_HIST_LE_MAX views per
 * selection and ENGINE_HSRC_MAX label sets per selection.
 *
 * Instances. A start or restart event of a target whose pid differs from
 * the current one starts a new summary segment in every series of that
 * target; the target remembers its last SW_EVAL_SEGS instances (start, the
 * process's own start for warm-up, pid).
 *
 * Alerts. One state per rule, Prometheus semantics (TREND.md 3.5); see
 * engine_step for the transitions and slopewatch-rules(7) for the flap
 * damping. With a store attached, every change of a rule's state is
 * written at once to the alert_state table (created here if missing) and
 * every transition is queued as an "alert" event for the store's next
 * flush, so an agent restart neither forgets a firing alert nor announces
 * it again.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slopewatch/buf.h"
#include "slopewatch/conf.h"
#include "slopewatch/err.h"
#include "slopewatch/eval.h"
#include "slopewatch/expr.h"
#include "slopewatch/log.h"
#include "slopewatch/rules.h"
#include "slopewatch/stats.h"
#include "slopewatch/store.h"
#include "slopewatch/summary.h"
#include "slopewatch/units.h"

#define ENGINE_HASH_INIT	64
#define ENGINE_SERIES_MAX	4096	/* series one engine keeps */
#define ENGINE_TARGETS_MAX	1024
#define ENGINE_HSRC_MAX		1024	/* label sets of one histogram */
#define ENGINE_HSRC_HASH	64
#define ENGINE_FLAP_MIN_MS	(5 * 60 * 1000)
#define ENGINE_OUTAGE_MS	(3600 * 1000)	/* pending survives an agent
						   outage this long */
#define ENGINE_SPAN_MAX		(30 * 86400000LL)
#define ENGINE_LOAD_CHUNK	(3600 * 1000)	/* histogram load, ms */
#define ENGINE_LOAD_MAX		1000000		/* samples of one chunk */

struct target_state {
	struct sw_eval_target	 pub;
	char			*name;
	long			 pid;
	int			 events_loaded;
	struct target_state	*next;
};

struct series {
	struct sw_eval_series	 pub;
	char			*target;
	char			*metric;
	char			*labels;
	uint64_t		 hash;
	int			 flags;		/* SW_EVAL_NEED_* */
	int64_t			 span_ms;
	int			 loaded;
	/* counter view */
	int			 ctr_have;
	double			 ctr_prev;
	double			 ctr_adj;
	int64_t			 ctr_ts;
	struct target_state	*tg;
	struct series		*hnext;
	struct series		*next;
};

/* One label set of a histogram selection (a single counter). */
struct hsrc {
	char		*labels;
	int		 le;		/* index into the selection */
	double		 prev;
	int64_t		 ts;
	struct hsrc	*next;
};

struct histsel {
	struct sw_eval_hist	 pub;
	char			*target;
	char			*metric;	/* without _bucket */
	char			*labels;	/* the selector */
	size_t			 mlen;
	double			 adj[SW_EVAL_HIST_LE_MAX];
	int64_t			 last_ts[SW_EVAL_HIST_LE_MAX];
	struct hsrc		*src[ENGINE_HSRC_HASH];
	int			 nsrc;
	int64_t			 span_ms;
	int			 loaded;
	struct target_state	*tg;
	struct histsel		*next;
};

struct rule {
	const struct sw_conf_rule *conf;
	struct sw_expr		*expr;
	const char		*target;	/* of the events (borrowed) */
	enum sw_alert_state	 state;
	int64_t			 active_since;
	int64_t			 fired;
	int64_t			 last_sent;
	int64_t			 keep_since;	/* 0: condition true */
	int64_t			 resolved;	/* 0: never */
	int64_t			 need_ms;	/* pending time this time */
	int64_t			 updated;
	int			 restored;	/* read from the store */
	int			 dirty;
	struct sw_value		 last;
	int			 have_last;
};

struct sw_engine {
	const struct sw_conf	*conf;
	struct rule		*rules;
	int			 nrules;
	struct series		**hash;
	size_t			 hsize;
	size_t			 nseries;
	struct series		*series;
	struct histsel		*hists;
	struct target_state	*targets;
	int			 ntargets;
	uint32_t		 seg_counter;
	struct sw_store		*store;		/* alert state, events */
	struct sw_store		*history;	/* lazy loads */
	struct sw_eval_scratch	 scratch;
	struct sw_complain	 store_complain;
	int			 across;	/* of the rule being evaluated */
};

static const char *const state_names[] = { "inactive", "pending", "firing" };

const char *
sw_alert_state_name(enum sw_alert_state s)
{
	if ((int)s < 0 || s > SW_ALERT_FIRING)
		return "unknown";
	return state_names[s];
}

/* ---------------------------------------------------------------------- */
/* registry                                                                */

static uint64_t
key_hash(const char *target, const char *metric, const char *labels)
{
	uint64_t	 h = 1469598103934665603ULL;
	const char	*parts[3] = { target, metric, labels };
	const char	*p;
	int		 i;

	for (i = 0; i < 3; i++) {
		for (p = parts[i]; *p != '\0'; p++) {
			h ^= (unsigned char)*p;
			h *= 1099511628211ULL;
		}
		h ^= 0xff;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct series *
series_find(const struct sw_engine *e, const char *target, const char *metric,
    const char *labels)
{
	struct series	*s;
	uint64_t	 h;

	if (e->hsize == 0)
		return NULL;
	h = key_hash(target, metric, labels);
	for (s = e->hash[h & (e->hsize - 1)]; s != NULL; s = s->hnext)
		if (s->hash == h && strcmp(s->metric, metric) == 0 &&
		    strcmp(s->target, target) == 0 &&
		    strcmp(s->labels, labels) == 0)
			return s;
	return NULL;
}

static int
hash_grow(struct sw_engine *e)
{
	struct series	**nh, *s;
	size_t		  nsize = e->hsize == 0 ? ENGINE_HASH_INIT :
			    e->hsize * 2;

	if ((nh = calloc(nsize, sizeof(*nh))) == NULL)
		return -1;
	for (s = e->series; s != NULL; s = s->next) {
		s->hnext = nh[s->hash & (nsize - 1)];
		nh[s->hash & (nsize - 1)] = s;
	}
	free(e->hash);
	e->hash = nh;
	e->hsize = nsize;
	return 0;
}

static struct target_state *
target_get(struct sw_engine *e, const char *name)
{
	const struct sw_conf_target	*ct;
	struct target_state		*t;

	for (t = e->targets; t != NULL; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	if (e->ntargets >= ENGINE_TARGETS_MAX ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->name = strdup(name)) == NULL) {
		free(t);
		return NULL;
	}
	t->pub.name = t->name;
	if (e->conf != NULL && (ct = sw_conf_target_find(e->conf, name)) !=
	    NULL && ct->kind == SW_TARGET_PROCESS)
		t->pub.warmup_ms = ct->u.process.warmup_ms;
	t->next = e->targets;
	e->targets = t;
	e->ntargets++;
	return t;
}

static void
series_free(struct series *s)
{
	int	i;

	if (s == NULL)
		return;
	for (i = 0; i < SW_EVAL_QCACHE; i++)
		sw_loghist_release(&s->pub.qc[i].h);
	sw_summary_free(s->pub.raw);
	sw_summary_free(s->pub.ctr);
	free(s->target);
	free(s->metric);
	free(s->labels);
	free(s);
}

/* The current instance of the target, applied to a new summary. */
static void
summary_join(struct sw_summary *sm, const struct target_state *tg)
{
	const struct sw_eval_seg	*sg;

	if (sm == NULL || tg == NULL || tg->pub.nsegs == 0)
		return;
	sg = &tg->pub.segs[tg->pub.nsegs - 1];
	sw_summary_segment(sm, sg->start_ms, sg->id);
}

/* Makes sure s has the views flags asks for. 1 when a view was created
 * (its history is still to load), 0 nothing new, -1 no memory. */
static int
series_views(struct series *s, int flags, struct sw_err *err)
{
	struct sw_summary	*n;
	int			 made = 0, i;

	if ((flags & (SW_EVAL_NEED_RAW | SW_EVAL_NEED_HIST)) &&
	    (s->pub.raw == NULL || ((flags & SW_EVAL_NEED_HIST) &&
	    !(s->flags & SW_EVAL_NEED_HIST)))) {
		if (sw_summary_new(flags & SW_EVAL_NEED_HIST ?
		    SW_SUMMARY_HIST : 0, &n, err) == -1)
			return -1;
		sw_summary_free(s->pub.raw);
		s->pub.raw = n;
		summary_join(n, s->tg);
		for (i = 0; i < SW_EVAL_QCACHE; i++)
			s->pub.qc[i].used = 0;
		made = 1;
	}
	if ((flags & SW_EVAL_NEED_CTR) && s->pub.ctr == NULL) {
		if (sw_summary_new(0, &s->pub.ctr, err) == -1)
			return -1;
		summary_join(s->pub.ctr, s->tg);
		s->ctr_have = 0;
		made = 1;
	}
	s->flags |= flags;
	return made;
}

/* Finds or creates the series of a need. *made is set when a view was
 * created. NULL on failure (err set). */
static struct series *
series_need(struct sw_engine *e, const struct sw_eval_need *nd, int *made,
    struct sw_err *err)
{
	struct series	*s;
	int		 rc, i;

	*made = 0;
	if ((s = series_find(e, nd->target, nd->metric, nd->labels)) == NULL) {
		if (e->nseries >= ENGINE_SERIES_MAX) {
			sw_err_set(err, "rules: more than %d series",
			    ENGINE_SERIES_MAX);
			return NULL;
		}
		if (e->nseries >= e->hsize && hash_grow(e) == -1)
			goto nomem;
		if ((s = calloc(1, sizeof(*s))) == NULL)
			goto nomem;
		s->target = strdup(nd->target);
		s->metric = strdup(nd->metric);
		s->labels = strdup(nd->labels);
		if (s->target == NULL || s->metric == NULL ||
		    s->labels == NULL) {
			series_free(s);
			goto nomem;
		}
		for (i = 0; i < SW_EVAL_QCACHE; i++)
			sw_loghist_init(&s->pub.qc[i].h, SW_SUMMARY_MERGE_BINS);
		s->pub.target = s->target;
		s->pub.metric = s->metric;
		s->pub.labels = s->labels;
		s->pub.unit = nd->unit;
		s->hash = key_hash(s->target, s->metric, s->labels);
		s->tg = target_get(e, s->target);
		s->pub.tgt = s->tg != NULL ? &s->tg->pub : NULL;
		s->next = e->series;
		e->series = s;
		s->hnext = e->hash[s->hash & (e->hsize - 1)];
		e->hash[s->hash & (e->hsize - 1)] = s;
		e->nseries++;
	}
	if (nd->unit_known)
		s->pub.unit = nd->unit;
	if (nd->span_ms > s->span_ms)
		s->span_ms = nd->span_ms > ENGINE_SPAN_MAX ? ENGINE_SPAN_MAX :
		    nd->span_ms;
	if ((rc = series_views(s, nd->flags, err)) == -1)
		return NULL;
	if (rc == 1) {
		*made = 1;
		s->loaded = 0;
	}
	return s;
nomem:
	sw_err_sys(err, ENOMEM, "rules: series %s.%s", nd->target, nd->metric);
	return NULL;
}

static void
hsrc_free_all(struct histsel *h)
{
	struct hsrc	*x, *nx;
	int		 i;

	for (i = 0; i < ENGINE_HSRC_HASH; i++)
		for (x = h->src[i]; x != NULL; x = nx) {
			nx = x->next;
			free(x->labels);
			free(x);
		}
	memset(h->src, 0, sizeof(h->src));
	h->nsrc = 0;
}

static void
histsel_free(struct histsel *h)
{
	int	i;

	if (h == NULL)
		return;
	hsrc_free_all(h);
	for (i = 0; i < h->pub.n; i++)
		sw_summary_free(h->pub.ctr[i]);
	free(h->target);
	free(h->metric);
	free(h->labels);
	free(h);
}

static struct histsel *
histsel_find(const struct sw_engine *e, const char *target,
    const char *metric, const char *labels)
{
	struct histsel	*h;

	for (h = e->hists; h != NULL; h = h->next)
		if (strcmp(h->target, target) == 0 &&
		    strcmp(h->metric, metric) == 0 &&
		    strcmp(h->labels, labels) == 0)
			return h;
	return NULL;
}

static struct histsel *
histsel_need(struct sw_engine *e, const struct sw_eval_need *nd, int *made,
    struct sw_err *err)
{
	struct histsel	*h;

	*made = 0;
	if ((h = histsel_find(e, nd->target, nd->metric, nd->labels)) ==
	    NULL) {
		if ((h = calloc(1, sizeof(*h))) == NULL)
			goto nomem;
		h->target = strdup(nd->target);
		h->metric = strdup(nd->metric);
		h->labels = strdup(nd->labels);
		if (h->target == NULL || h->metric == NULL ||
		    h->labels == NULL) {
			histsel_free(h);
			goto nomem;
		}
		h->mlen = strlen(h->metric);
		h->tg = target_get(e, h->target);
		h->next = e->hists;
		e->hists = h;
		*made = 1;
	}
	if (nd->span_ms > h->span_ms)
		h->span_ms = nd->span_ms > ENGINE_SPAN_MAX ? ENGINE_SPAN_MAX :
		    nd->span_ms;
	return h;
nomem:
	sw_err_sys(err, ENOMEM, "rules: histogram %s.%s", nd->target,
	    nd->metric);
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* labels (canonical text, store.h)                                        */

struct label {
	const char	*k;
	size_t		 klen;
	const char	*v;		/* escaped, without the quotes */
	size_t		 vlen;
};

/* Reads one quoted string at *i (after the opening quote); leaves *i
 * after the closing quote. -1 when unterminated. */
static int
quoted(const char *s, size_t n, size_t *i, const char **p, size_t *len)
{
	size_t	j = *i;

	*p = s + j;
	while (j < n && s[j] != '"') {
		if (s[j] == '\\' && j + 1 < n)
			j++;
		j++;
	}
	if (j >= n)
		return -1;
	*len = (size_t)(s + j - *p);
	*i = j + 1;
	return 0;
}

/* Splits canonical labels into at most max pairs; -1 on bad text. */
static int
labels_split(const char *s, struct label *out, int max)
{
	size_t	n = strlen(s), i = 0;
	int	c = 0;

	while (i < n) {
		if (c == max)
			return -1;
		if (s[i] == '"') {
			i++;
			if (quoted(s, n, &i, &out[c].k, &out[c].klen) == -1)
				return -1;
		} else {
			out[c].k = s + i;
			while (i < n && s[i] != '=')
				i++;
			out[c].klen = (size_t)(s + i - out[c].k);
		}
		if (i + 1 >= n || s[i] != '=' || s[i + 1] != '"')
			return -1;
		i += 2;
		if (quoted(s, n, &i, &out[c].v, &out[c].vlen) == -1)
			return -1;
		c++;
		if (i < n) {
			if (s[i] != ',')
				return -1;
			i++;
		}
	}
	return c;
}

#define LABELS_MAX	64

/* The le of a bucket's labels when every selector label matches. */
static int
bucket_match(const char *labels, const char *selector, double *le)
{
	struct label	l[LABELS_MAX], sel[LABELS_MAX];
	int		nl, ns, i, j, found = 0;
	char		num[64];

	if ((nl = labels_split(labels, l, LABELS_MAX)) < 0 ||
	    (ns = labels_split(selector, sel, LABELS_MAX)) < 0)
		return -1;
	for (i = 0; i < nl; i++)
		if (l[i].klen == 2 && memcmp(l[i].k, "le", 2) == 0) {
			if (l[i].vlen == 0 || l[i].vlen >= sizeof(num))
				return -1;
			memcpy(num, l[i].v, l[i].vlen);
			num[l[i].vlen] = '\0';
			if (strcasecmp(num, "+Inf") == 0 ||
			    strcasecmp(num, "Inf") == 0)
				*le = INFINITY;
			else if (sw_parse_double(num, (size_t)-1, le) == -1)
				return -1;
			found = 1;
		}
	if (!found)
		return -1;
	for (j = 0; j < ns; j++) {
		for (i = 0; i < nl; i++)
			if (l[i].klen == sel[j].klen && l[i].vlen ==
			    sel[j].vlen && memcmp(l[i].k, sel[j].k,
			    l[i].klen) == 0 && memcmp(l[i].v, sel[j].v,
			    l[i].vlen) == 0)
				break;
		if (i == nl)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* samples                                                                 */

static void
series_feed(struct series *s, int64_t ts, double v)
{
	if (s->pub.raw != NULL)
		sw_summary_add(s->pub.raw, ts, v);
	if (s->pub.ctr != NULL && isfinite(v)) {
		if (!s->ctr_have) {
			s->ctr_have = 1;
			s->ctr_adj = v;
		} else if (ts < s->ctr_ts)
			return;		/* late: not in the counter view */
		else if (v >= s->ctr_prev)
			s->ctr_adj += v - s->ctr_prev;
		else
			s->ctr_adj += v;	/* a reset */
		s->ctr_prev = v;
		s->ctr_ts = ts;
		sw_summary_add(s->pub.ctr, ts, s->ctr_adj);
	}
}

static int
histsel_le(struct histsel *h, double le)
{
	int	i;

	for (i = 0; i < h->pub.n; i++)
		if (h->pub.le[i] == le)
			return i;
	if (h->pub.n >= SW_EVAL_HIST_LE_MAX ||
	    sw_summary_new(0, &h->pub.ctr[h->pub.n], NULL) == -1)
		return -1;
	summary_join(h->pub.ctr[h->pub.n], h->tg);
	h->pub.le[h->pub.n] = le;
	h->adj[h->pub.n] = 0;
	h->last_ts[h->pub.n] = INT64_MIN;
	return h->pub.n++;
}

static void
histsel_feed(struct histsel *h, const char *labels, int64_t ts, double v)
{
	struct hsrc	*x;
	uint64_t	 k;
	double		 le, inc;
	int		 i;

	if (!isfinite(v) || bucket_match(labels, h->labels, &le) == -1)
		return;
	k = key_hash("", "", labels) % ENGINE_HSRC_HASH;
	for (x = h->src[k]; x != NULL; x = x->next)
		if (strcmp(x->labels, labels) == 0)
			break;
	if (x == NULL) {
		if (h->nsrc >= ENGINE_HSRC_MAX || (i = histsel_le(h, le)) < 0 ||
		    (x = calloc(1, sizeof(*x))) == NULL)
			return;
		if ((x->labels = strdup(labels)) == NULL) {
			free(x);
			return;
		}
		x->le = i;
		x->prev = v;
		x->ts = ts;
		x->next = h->src[k];
		h->src[k] = x;
		h->nsrc++;
		inc = 0;	/* the first sample is the baseline */
	} else {
		if (ts < x->ts)
			return;
		inc = v >= x->prev ? v - x->prev : v;
		x->prev = v;
		x->ts = ts;
	}
	i = x->le;
	h->adj[i] += inc;
	if (ts < h->last_ts[i])
		ts = h->last_ts[i];	/* keep the view in time order */
	h->last_ts[i] = ts;
	sw_summary_add(h->pub.ctr[i], ts, h->adj[i]);
}

void
sw_engine_sample(struct sw_engine *e, const char *target, const char *metric,
    const char *labels, int64_t ts_ms, double v)
{
	struct series	*s;
	struct histsel	*h;
	size_t		 n;

	if (labels == NULL)
		labels = "";
	if ((s = series_find(e, target, metric, labels)) != NULL)
		series_feed(s, ts_ms, v);
	if (e->hists == NULL)
		return;
	n = strlen(metric);
	if (n < 7 || strcmp(metric + n - 7, "_bucket") != 0)
		return;
	for (h = e->hists; h != NULL; h = h->next)
		if (h->mlen == n - 7 && strncmp(metric, h->metric, n - 7) == 0 &&
		    strcmp(target, h->target) == 0)
			histsel_feed(h, labels, ts_ms, v);
}

/* ---------------------------------------------------------------------- */
/* instances                                                               */

/* Records a new instance of tg (no summary touched). NULL when it is the
 * current one. */
static const struct sw_eval_seg *
target_instance(struct sw_engine *e, struct target_state *tg, int64_t ts,
    long pid, int64_t started)
{
	struct sw_eval_seg	*sg;

	if (pid != 0 && pid == tg->pid)
		return NULL;
	tg->pid = pid;
	if (tg->pub.nsegs == SW_EVAL_SEGS) {
		memmove(&tg->pub.segs[0], &tg->pub.segs[1],
		    (SW_EVAL_SEGS - 1) * sizeof(tg->pub.segs[0]));
		tg->pub.nsegs--;
	}
	sg = &tg->pub.segs[tg->pub.nsegs++];
	sg->id = ++e->seg_counter;
	sg->start_ms = ts;
	sg->started_ms = started > 0 && started <= ts ? started : ts;
	sg->pid = pid;
	return sg;
}

void
sw_engine_instance_at(struct sw_engine *e, const char *target, int64_t ts_ms,
    long pid, int64_t started_ms)
{
	const struct sw_eval_seg	*sg;
	struct target_state		*tg;
	struct series			*s;
	struct histsel			*h;
	int				 i;

	if ((tg = target_get(e, target)) == NULL ||
	    (sg = target_instance(e, tg, ts_ms, pid, started_ms)) == NULL)
		return;
	for (s = e->series; s != NULL; s = s->next)
		if (s->tg == tg) {
			if (s->pub.raw != NULL)
				sw_summary_segment(s->pub.raw, ts_ms, sg->id);
			if (s->pub.ctr != NULL)
				sw_summary_segment(s->pub.ctr, ts_ms, sg->id);
		}
	for (h = e->hists; h != NULL; h = h->next)
		if (h->tg == tg)
			for (i = 0; i < h->pub.n; i++)
				sw_summary_segment(h->pub.ctr[i], ts_ms, sg->id);
}

void
sw_engine_instance(struct sw_engine *e, const char *target, int64_t ts_ms,
    long pid)
{
	sw_engine_instance_at(e, target, ts_ms, pid, 0);
}

/* ---------------------------------------------------------------------- */
/* history                                                                 */

struct ev_load {
	struct sw_engine	*e;
	struct target_state	*tg;
};

static int64_t
detail_int(const char *detail, const char *key)
{
	json_t		*j, *v;
	json_int_t	 n = 0;

	if (detail == NULL || *detail == '\0' ||
	    (j = json_loads(detail, 0, NULL)) == NULL)
		return 0;
	if ((v = json_object_get(j, key)) != NULL && json_is_integer(v))
		n = json_integer_value(v);
	json_decref(j);
	return (int64_t)n;
}

static int
load_event_cb(const struct sw_event *ev, void *arg)
{
	struct ev_load	*l = arg;

	if (strcmp(ev->kind, "start") != 0 && strcmp(ev->kind, "restart") != 0)
		return 0;
	target_instance(l->e, l->tg, ev->ts_ms, ev->pid,
	    detail_int(ev->detail, "started_ms"));
	return 0;
}

static int
load_state_cb(const struct sw_target_state *ts, void *arg)
{
	struct ev_load	*l = arg;

	if (strcmp(ts->target, l->tg->name) == 0 && ts->pid > 0)
		l->tg->pid = ts->pid;
	return 0;
}

/* The instances of tg from the store, once. */
static int
target_load(struct sw_engine *e, struct target_state *tg, struct sw_store *st,
    int64_t from, struct sw_err *err)
{
	struct ev_load	l;

	if (tg == NULL || tg->events_loaded)
		return 0;
	tg->events_loaded = 1;
	l.e = e;
	l.tg = tg;
	/* the pid the agent last saw, so that the "start" the sources
	 * report after an agent restart does not split the series */
	if (tg->pid == 0 && sw_store_target_states_each(st, load_state_cb, &l,
	    err) == -1)
		return -1;
	if (tg->pub.nsegs == 0) {
		long	pid = tg->pid;

		tg->pid = 0;
		if (sw_store_events_each(st, tg->name, from - 86400000LL,
		    load_event_cb, &l, err) == -1)
			return -1;
		if (tg->pub.nsegs == 0)
			tg->pid = pid;
	}
	return 0;
}

struct sample_load {
	struct series			*s;
	struct histsel			*h;
	const struct target_state	*tg;
	int				 k;	/* next segment to apply */
	/* histogram chunk */
	struct hload			*buf;
	size_t				 n, cap;
	const char			*labels;
	int				 full;
};

struct hload {
	int64_t		 ts;
	double		 v;
	const char	*labels;
};

static void
apply_segs(struct sample_load *sl, int64_t ts)
{
	const struct sw_eval_seg	*sg;

	if (sl->tg == NULL)
		return;
	while (sl->k < sl->tg->pub.nsegs &&
	    sl->tg->pub.segs[sl->k].start_ms <= ts) {
		sg = &sl->tg->pub.segs[sl->k++];
		if (sl->s != NULL) {
			if (sl->s->pub.raw != NULL)
				sw_summary_segment(sl->s->pub.raw, sg->start_ms,
				    sg->id);
			if (sl->s->pub.ctr != NULL)
				sw_summary_segment(sl->s->pub.ctr, sg->start_ms,
				    sg->id);
		}
		if (sl->h != NULL) {
			int	i;

			for (i = 0; i < sl->h->pub.n; i++)
				sw_summary_segment(sl->h->pub.ctr[i],
				    sg->start_ms, sg->id);
		}
	}
}

static int
load_sample_cb(int64_t ts, double v, void *arg)
{
	struct sample_load	*sl = arg;

	apply_segs(sl, ts);
	series_feed(sl->s, ts, v);
	return 0;
}

static enum sw_unit
unit_from_name(const char *name)
{
	enum sw_unit	u;

	for (u = SW_UNIT_NONE; u <= SW_UNIT_PER_S; u++)
		if (strcmp(sw_unit_name(u), name) == 0)
			return u;
	return SW_UNIT_NONE;
}

static int
series_load(struct sw_engine *e, struct series *s, struct sw_store *st,
    int64_t now, struct sw_err *err)
{
	struct sw_series_info	 info;
	struct sample_load	 sl;
	int64_t			 from = now - s->span_ms, id;
	char			 name[SW_STORE_NAME_MAX * 2 + SW_STORE_LABELS_MAX];
	int			 rc;

	if (s->loaded)
		return 0;
	s->loaded = 1;
	if (target_load(e, s->tg, st, from, err) == -1)
		return -1;
	sw_series_format(name, sizeof(name), s->target, s->metric, s->labels);
	if ((rc = sw_store_series_lookup(st, name, &info, err)) == -1)
		return -1;
	memset(&sl, 0, sizeof(sl));
	sl.s = s;
	sl.tg = s->tg;
	if (rc == 1) {
		id = info.id;
		if (s->pub.unit == SW_UNIT_NONE && info.unit != NULL)
			s->pub.unit = unit_from_name(info.unit);
		if (sw_store_samples_each(st, id, from, now + 1,
		    load_sample_cb, &sl, err) == -1)
			return -1;
	}
	apply_segs(&sl, INT64_MAX);
	return 0;
}

/* Histogram selections: the matching _bucket series, merged in time order
 * chunk by chunk (the per-le sums need every label set in order). */
struct hseries {
	int64_t		 id;
	char		*labels;
};

struct hfind {
	struct histsel	*h;
	struct hseries	*v;
	int		 n, cap;
};

static int
hfind_cb(const struct sw_series_info *si, void *arg)
{
	struct hfind	*f = arg;
	struct hseries	*nv;
	size_t		 n = strlen(si->metric);
	double		 le;

	if (strcmp(si->target, f->h->target) != 0 || n != f->h->mlen + 7 ||
	    strncmp(si->metric, f->h->metric, f->h->mlen) != 0 ||
	    strcmp(si->metric + f->h->mlen, "_bucket") != 0 ||
	    bucket_match(si->labels, f->h->labels, &le) == -1)
		return 0;
	if (f->n >= ENGINE_HSRC_MAX)
		return 0;
	if (f->n == f->cap) {
		nv = reallocarray(f->v, f->cap == 0 ? 16 : 2 * (size_t)f->cap,
		    sizeof(*nv));
		if (nv == NULL)
			return -1;
		f->v = nv;
		f->cap = f->cap == 0 ? 16 : 2 * f->cap;
	}
	if ((f->v[f->n].labels = strdup(si->labels)) == NULL)
		return -1;
	f->v[f->n++].id = si->id;
	return 0;
}

static int
hload_cb(int64_t ts, double v, void *arg)
{
	struct sample_load	*sl = arg;
	struct hload		*nb;
	size_t			 ncap;

	if (sl->n == sl->cap) {
		if (sl->cap >= ENGINE_LOAD_MAX) {
			sl->full = 1;
			return 1;
		}
		ncap = sl->cap == 0 ? 1024 : sl->cap * 2;
		if ((nb = reallocarray(sl->buf, ncap, sizeof(*nb))) == NULL)
			return -1;
		sl->buf = nb;
		sl->cap = ncap;
	}
	sl->buf[sl->n].ts = ts;
	sl->buf[sl->n].v = v;
	sl->buf[sl->n].labels = sl->labels;
	sl->n++;
	return 0;
}

static int
hload_cmp(const void *a, const void *b)
{
	const struct hload	*x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int
histsel_load(struct sw_engine *e, struct histsel *h, struct sw_store *st,
    int64_t now, struct sw_err *err)
{
	struct hfind		f;
	struct sample_load	sl;
	int64_t			from = now - h->span_ms, t;
	size_t			i;
	int			j, rc = -1;

	if (h->loaded)
		return 0;
	h->loaded = 1;
	if (target_load(e, h->tg, st, from, err) == -1)
		return -1;
	memset(&f, 0, sizeof(f));
	f.h = h;
	memset(&sl, 0, sizeof(sl));
	sl.h = h;
	sl.tg = h->tg;
	if (sw_store_series_each(st, hfind_cb, &f, err) == -1)
		goto out;
	for (t = from; f.n > 0 && t <= now; t += ENGINE_LOAD_CHUNK) {
		sl.n = 0;
		for (j = 0; j < f.n; j++) {
			sl.labels = f.v[j].labels;
			if (sw_store_samples_each(st, f.v[j].id, t,
			    t + ENGINE_LOAD_CHUNK > now + 1 ? now + 1 :
			    t + ENGINE_LOAD_CHUNK, hload_cb, &sl, err) == -1)
				goto out;
		}
		if (sl.full) {
			sw_log_warn("rules: %s.%s: more than %d bucket samples "
			    "in an hour of history; older history is partial",
			    h->target, h->metric, ENGINE_LOAD_MAX);
			sl.full = 0;
		}
		qsort(sl.buf, sl.n, sizeof(*sl.buf), hload_cmp);
		for (i = 0; i < sl.n; i++) {
			apply_segs(&sl, sl.buf[i].ts);
			histsel_feed(h, sl.buf[i].labels, sl.buf[i].ts,
			    sl.buf[i].v);
		}
	}
	apply_segs(&sl, INT64_MAX);
	rc = 0;
out:
	for (j = 0; j < f.n; j++)
		free(f.v[j].labels);
	free(f.v);
	free(sl.buf);
	return rc;
}

int
sw_engine_load(struct sw_engine *e, struct sw_store *st, int64_t now_ms,
    struct sw_err *err)
{
	struct series	*s;
	struct histsel	*h;

	e->history = st;
	for (s = e->series; s != NULL; s = s->next)
		if (series_load(e, s, st, now_ms, err) == -1)
			return -1;
	for (h = e->hists; h != NULL; h = h->next)
		if (histsel_load(e, h, st, now_ms, err) == -1)
			return -1;
	return 0;
}

void
sw_engine_set_history(struct sw_engine *e, struct sw_store *st)
{
	e->history = st;
}

/* ---------------------------------------------------------------------- */
/* building                                                                */

struct reg {
	struct sw_engine	*e;
	struct sw_err		*err;
	int			 made;
	const char		*first_target;
};

static int
reg_cb(const struct sw_eval_need *nd, void *arg)
{
	struct reg	*r = arg;
	int		 made = 0;

	if (r->first_target == NULL)
		r->first_target = nd->target;
	if (nd->flags & SW_EVAL_NEED_HISTSEL) {
		if (histsel_need(r->e, nd, &made, r->err) == NULL)
			return -1;
	} else if (series_need(r->e, nd, &made, r->err) == NULL)
		return -1;
	r->made |= made;
	return 0;
}

int
sw_engine_new(const struct sw_conf *conf, sw_conf_diag_cb diag,
    void *diag_arg, struct sw_engine **out)
{
	const struct sw_conf_rule	*cr;
	struct sw_engine		*e;
	struct rule			*r;
	struct reg			 rg;
	struct sw_err			 err;
	int				 n = 0, nerr, bad = 0;

	*out = NULL;
	sw_err_clear(&err);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto nomem;
	e->conf = conf;
	if (hash_grow(e) == -1 || sw_eval_scratch_init(&e->scratch, &err) == -1)
		goto nomem;
	for (cr = conf != NULL ? conf->rules : NULL; cr != NULL; cr = cr->next)
		n++;
	if (n > 0 && (e->rules = calloc((size_t)n, sizeof(*e->rules))) == NULL)
		goto nomem;
	for (cr = conf != NULL ? conf->rules : NULL; cr != NULL; cr = cr->next) {
		r = &e->rules[e->nrules++];
		r->conf = cr;
		nerr = 0;
		r->expr = sw_expr_parse(cr->when != NULL ? cr->when : "",
		    &cr->when_loc, conf, SW_EXPR_CONDITION, diag, diag_arg,
		    &nerr);
		if (r->expr == NULL) {
			bad++;
			continue;
		}
		memset(&rg, 0, sizeof(rg));
		rg.e = e;
		rg.err = &err;
		if (sw_eval_needs(r->expr, reg_cb, &rg) != 0) {
			if (diag != NULL)
				diag(&cr->loc, err.msg, diag_arg);
			bad++;
			sw_err_clear(&err);
			continue;
		}
		r->target = rg.first_target != NULL ? rg.first_target :
		    cr->name;
	}
	if (bad > 0) {
		sw_engine_free(e);
		return -1;
	}
	*out = e;
	return 0;
nomem:
	if (diag != NULL)
		diag(NULL, "rules: out of memory", diag_arg);
	sw_engine_free(e);
	return -1;
}

void
sw_engine_free(struct sw_engine *e)
{
	struct series		*s, *ns;
	struct histsel		*h, *nh;
	struct target_state	*t, *nt;
	int			 i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nrules; i++)
		sw_expr_free(e->rules[i].expr);
	free(e->rules);
	for (s = e->series; s != NULL; s = ns) {
		ns = s->next;
		series_free(s);
	}
	for (h = e->hists; h != NULL; h = nh) {
		nh = h->next;
		histsel_free(h);
	}
	for (t = e->targets; t != NULL; t = nt) {
		nt = t->next;
		free(t->name);
		free(t);
	}
	free(e->hash);
	sw_eval_scratch_release(&e->scratch);
	free(e);
}

size_t
sw_engine_memory(const struct sw_engine *e)
{
	const struct series	*s;
	const struct histsel	*h;
	size_t			 n;
	int			 i;

	n = sizeof(*e) + e->hsize * sizeof(*e->hash) +
	    (size_t)e->nrules * sizeof(*e->rules) +
	    sw_eval_scratch_memory(&e->scratch);
	for (s = e->series; s != NULL; s = s->next) {
		n += sizeof(*s) + strlen(s->target) + strlen(s->metric) +
		    strlen(s->labels) + 3;
		if (s->pub.raw != NULL)
			n += sw_summary_memory(s->pub.raw);
		if (s->pub.ctr != NULL)
			n += sw_summary_memory(s->pub.ctr);
		for (i = 0; i < SW_EVAL_QCACHE; i++)
			n += (size_t)s->pub.qc[i].h.cap *
			    sizeof(struct sw_loghist_bin);
	}
	for (h = e->hists; h != NULL; h = h->next) {
		n += sizeof(*h) + (size_t)h->nsrc * (sizeof(struct hsrc) + 64);
		for (i = 0; i < h->pub.n; i++)
			n += sw_summary_memory(h->pub.ctr[i]);
	}
	return n;
}

/* ---------------------------------------------------------------------- */
/* evaluation                                                              */

static struct sw_eval_series *
lookup_cb(void *arg, const char *target, const char *metric,
    const char *labels)
{
	struct series	*s = series_find(arg, target, metric, labels);

	return s != NULL ? &s->pub : NULL;
}

static const struct sw_eval_hist *
hist_cb(void *arg, const char *target, const char *metric, const char *labels)
{
	struct histsel	*h = histsel_find(arg, target, metric, labels);

	return h != NULL ? &h->pub : NULL;
}

static void
engine_eval_expr(struct sw_engine *e, const struct sw_expr *x, int across,
    int detail, int64_t now, struct sw_value *out)
{
	struct sw_eval_ctx	c;

	memset(&c, 0, sizeof(c));
	c.now_ms = now;
	c.across_restarts = across;
	c.detail = detail;
	c.lookup = lookup_cb;
	c.hist = hist_cb;
	c.arg = e;
	c.scratch = &e->scratch;
	sw_eval(&c, x, out);
}

struct qdiag {
	struct sw_err	*err;
};

static void
query_diag(const struct sw_loc *loc, const char *msg, void *arg)
{
	struct qdiag	*q = arg;

	if (loc != NULL && loc->line > 0)
		sw_err_set(q->err, "%d:%d: %s", loc->line, loc->col, msg);
	else
		sw_err_set(q->err, "%s", msg);
}

int
sw_engine_query(struct sw_engine *e, const char *text, int64_t now_ms,
    struct sw_value *out, struct sw_err *err)
{
	struct sw_expr	*x;
	struct series	*s;
	struct histsel	*h;
	struct qdiag	 q;
	struct reg	 rg;
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	q.err = err;
	x = sw_expr_parse(text, NULL, e->conf, 0, query_diag, &q, NULL);
	if (x == NULL) {
		sw_err_set(err, "cannot parse the expression");
		return -1;
	}
	memset(&rg, 0, sizeof(rg));
	rg.e = e;
	rg.err = err;
	if (sw_eval_needs(x, reg_cb, &rg) != 0)
		goto out;
	if (e->history != NULL) {
		for (s = e->series; s != NULL; s = s->next)
			if (series_load(e, s, e->history, now_ms, err) == -1)
				goto out;
		for (h = e->hists; h != NULL; h = h->next)
			if (histsel_load(e, h, e->history, now_ms, err) == -1)
				goto out;
	}
	engine_eval_expr(e, x, 0, 1, now_ms, out);
	rc = 0;
out:
	sw_expr_free(x);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* persistence                                                             */

static const char alert_schema[] =
    "CREATE TABLE IF NOT EXISTS alert_state (rule TEXT PRIMARY KEY,"
    " state TEXT NOT NULL, active_since_ms INTEGER NOT NULL DEFAULT 0,"
    " fired_ms INTEGER NOT NULL DEFAULT 0,"
    " last_sent_ms INTEGER NOT NULL DEFAULT 0,"
    " keep_since_ms INTEGER NOT NULL DEFAULT 0,"
    " resolved_ms INTEGER NOT NULL DEFAULT 0,"
    " need_ms INTEGER NOT NULL DEFAULT 0,"
    " updated_ms INTEGER NOT NULL DEFAULT 0, value REAL)";

static struct rule *
rule_find(const struct sw_engine *e, const char *name)
{
	int	i;

	for (i = 0; i < e->nrules; i++)
		if (e->rules[i].conf->name != NULL &&
		    strcmp(e->rules[i].conf->name, name) == 0)
			return &e->rules[i];
	return NULL;
}

static int
state_save(struct sw_engine *e, struct rule *r, struct sw_err *err)
{
	sqlite3		*db = sw_store_db(e->store);
	sqlite3_stmt	*q = NULL;
	int		 rc;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO alert_state (rule,"
	    " state, active_since_ms, fired_ms, last_sent_ms, keep_since_ms,"
	    " resolved_ms, need_ms, updated_ms, value) VALUES"
	    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(q, 1, r->conf->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, sw_alert_state_name(r->state), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, r->active_since);
	sqlite3_bind_int64(q, 4, r->fired);
	sqlite3_bind_int64(q, 5, r->last_sent);
	sqlite3_bind_int64(q, 6, r->keep_since);
	sqlite3_bind_int64(q, 7, r->resolved);
	sqlite3_bind_int64(q, 8, r->need_ms);
	sqlite3_bind_int64(q, 9, r->updated);
	if (r->have_last && r->last.ok && isfinite(r->last.v))
		sqlite3_bind_double(q, 10, r->last.v);
	else
		sqlite3_bind_null(q, 10);
	rc = sqlite3_step(q);
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(q);
	r->dirty = 0;
	return 0;
fail:
	/* the message first: finalize may reset it */
	sw_err_set(err, "alert state of rule %s: %s", r->conf->name,
	    sqlite3_errmsg(db));
	sqlite3_finalize(q);
	return -1;
}

/* Forgets the states of rules that are no longer configured. */
static int
alert_prune(struct sw_engine *e, sqlite3 *db, struct sw_err *err)
{
	struct sw_buf	 sql;
	sqlite3_stmt	*q = NULL;
	int		 i, rc = -1;

	sw_buf_init(&sql, 64 + 2 * (size_t)e->nrules);
	if (sw_buf_adds(&sql, "DELETE FROM alert_state") == -1)
		goto out;
	for (i = 0; i < e->nrules; i++)
		if (sw_buf_adds(&sql, i == 0 ? " WHERE rule NOT IN (?" :
		    ",?") == -1)
			goto out;
	if (e->nrules > 0 && sw_buf_adds(&sql, ")") == -1)
		goto out;
	if (sqlite3_prepare_v2(db, sw_buf_str(&sql), -1, &q, NULL) !=
	    SQLITE_OK) {
		sw_err_set(err, "alert_state: %s", sqlite3_errmsg(db));
		goto out;
	}
	for (i = 0; i < e->nrules; i++)
		sqlite3_bind_text(q, i + 1, e->rules[i].conf->name, -1,
		    SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		sw_err_set(err, "alert_state: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	if (rc == -1 && !(err != NULL && err->set))
		sw_err_set(err, "alert_state: out of memory");
	sqlite3_finalize(q);
	sw_buf_release(&sql);
	return rc;
}

int
sw_engine_attach_store(struct sw_engine *e, struct sw_store *st,
    struct sw_err *err)
{
	sqlite3		*db = sw_store_db(st);
	sqlite3_stmt	*q = NULL;
	struct rule	*r;
	const char	*name, *state;
	int		 rc;

	if (sqlite3_exec(db, alert_schema, NULL, NULL, NULL) != SQLITE_OK)
		return sw_err_set(err, "alert_state table: %s",
		    sqlite3_errmsg(db));
	if (sqlite3_prepare_v2(db, "SELECT rule, state, active_since_ms,"
	    " fired_ms, last_sent_ms, keep_since_ms, resolved_ms, need_ms,"
	    " updated_ms FROM alert_state", -1, &q, NULL) != SQLITE_OK)
		return sw_err_set(err, "alert_state: %s", sqlite3_errmsg(db));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(q, 0);
		state = (const char *)sqlite3_column_text(q, 1);
		if (name == NULL || state == NULL ||
		    (r = rule_find(e, name)) == NULL)
			continue;
		if (strcmp(state, "firing") == 0)
			r->state = SW_ALERT_FIRING;
		else if (strcmp(state, "pending") == 0)
			r->state = SW_ALERT_PENDING;
		else
			r->state = SW_ALERT_INACTIVE;
		r->active_since = sqlite3_column_int64(q, 2);
		r->fired = sqlite3_column_int64(q, 3);
		r->last_sent = sqlite3_column_int64(q, 4);
		r->keep_since = sqlite3_column_int64(q, 5);
		r->resolved = sqlite3_column_int64(q, 6);
		r->need_ms = sqlite3_column_int64(q, 7);
		r->updated = sqlite3_column_int64(q, 8);
		r->restored = 1;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return sw_err_set(err, "alert_state: %s", sqlite3_errmsg(db));
	if (alert_prune(e, db, err) == -1)
		return -1;
	e->store = st;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* the state machine                                                       */

static void
queue_event(struct sw_engine *e, struct rule *r, const struct sw_alert_event
    *ev)
{
	const struct sw_conf_rule	*cr = r->conf;
	const struct sw_trend_info	*ti = &ev->value.trend;
	json_t				*d, *nt, *t;
	struct sw_err			 err;
	char				*text, line[512];
	int				 i;

	if ((d = json_object()) == NULL)
		return;
	json_object_set_new(d, "rule", json_string(cr->name));
	json_object_set_new(d, "event", json_string(ev->event));
	json_object_set_new(d, "severity",
	    json_string(sw_severity_name(cr->severity)));
	json_object_set_new(d, "active_since_ms",
	    json_integer(ev->active_since_ms));
	if (ev->value.ok && isfinite(ev->value.v))
		json_object_set_new(d, "value", json_real(ev->value.v));
	if (isfinite(ev->value.lhs))
		json_object_set_new(d, "lhs", json_real(ev->value.lhs));
	if (isfinite(ev->value.rhs))
		json_object_set_new(d, "rhs", json_real(ev->value.rhs));
	json_object_set_new(d, "description", json_string(
	    sw_value_describe(&ev->value, line, sizeof(line))));
	if (cr->summary != NULL)
		json_object_set_new(d, "summary", json_string(cr->summary));
	if ((nt = json_array()) != NULL) {
		for (i = 0; i < cr->notify.n; i++)
			json_array_append_new(nt, json_string(cr->notify.v[i]));
		json_object_set_new(d, "notify", nt);
	}
	if (cr->action != NULL)
		json_object_set_new(d, "action", json_string(cr->action));
	if (ti->valid && (t = json_object()) != NULL) {
		json_object_set_new(t, "fn", json_string(ti->fn));
		json_object_set_new(t, "series", json_string(ti->series));
		json_object_set_new(t, "points", json_integer(ti->points));
		if (isfinite(ti->slope))
			json_object_set_new(t, "slope", json_real(ti->slope));
		if (isfinite(ti->doubling_s))
			json_object_set_new(t, "doubling_s",
			    json_real(ti->doubling_s));
		if (isfinite(ti->eta_s))
			json_object_set_new(t, "eta_s", json_real(ti->eta_s));
		json_object_set_new(t, "confidence",
		    json_real(ti->confidence));
		/* per-lifetime view: the slope in each of the last instances,
		 * newest first (null where a lifetime was too short) */
		if (ti->nlifetimes > 0 && (nt = json_array()) != NULL) {
			for (i = 0; i < ti->nlifetimes; i++)
				json_array_append_new(nt,
				    isfinite(ti->lifetime_slope[i]) ?
				    json_real(ti->lifetime_slope[i]) :
				    json_null());
			json_object_set_new(t, "lifetime_slopes", nt);
		}
		json_object_set_new(d, "trend", t);
	}
	text = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	if (text == NULL)
		return;
	sw_err_clear(&err);
	if (sw_store_event(e->store, ev->time_ms, r->target, "alert", 0, text,
	    &err) == -1)
		sw_complain(&e->store_complain, "rules: alert event of %s "
		    "lost: %s", cr->name, err.msg);
	free(text);
}

static void
emit(struct sw_engine *e, struct rule *r, const char *what, int64_t now,
    const struct sw_value *v, sw_alert_cb cb, void *arg)
{
	struct sw_alert_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.rule = r->conf;
	ev.event = what;
	ev.time_ms = now;
	ev.active_since_ms = r->active_since;
	ev.value = *v;
	/* a transition is rare: evaluate again for the per-lifetime view */
	if (v->trend.valid)
		engine_eval_expr(e, r->expr, r->conf->across_restarts, 1, now,
		    &ev.value);
	if (cb != NULL)
		cb(&ev, arg);
	if (e->store != NULL)
		queue_event(e, r, &ev);
}

static void
fire(struct sw_engine *e, struct rule *r, int64_t now,
    const struct sw_value *v, sw_alert_cb cb, void *arg)
{
	r->state = SW_ALERT_FIRING;
	r->fired = now;
	r->last_sent = now;
	r->keep_since = 0;
	emit(e, r, "firing", now, v, cb, arg);
}

/* One evaluation of one rule: the transitions of TREND.md 3.5. */
static void
engine_step(struct sw_engine *e, struct rule *r, int64_t now,
    const struct sw_value *v, sw_alert_cb cb, void *arg)
{
	const struct sw_conf_rule	*cr = r->conf;
	enum sw_alert_state		 before = r->state;
	int64_t				 damp;
	int				 cond;

	cond = v->ok && v->is_bool && v->v != 0;
	if (r->restored) {
		/* a pending alert survives a short agent outage only */
		if (r->state == SW_ALERT_PENDING &&
		    now - r->updated > ENGINE_OUTAGE_MS)
			r->active_since = now;
		r->restored = 0;
	}
	switch (r->state) {
	case SW_ALERT_INACTIVE:
		if (!cond)
			break;
		r->active_since = now;
		r->keep_since = 0;
		r->need_ms = cr->for_ms;
		/* flap damping: firing again soon after resolving needs the
		 * condition for max(for, keep, 5 min) */
		damp = cr->keep_ms > ENGINE_FLAP_MIN_MS ? cr->keep_ms :
		    ENGINE_FLAP_MIN_MS;
		if (r->resolved > 0 && now - r->resolved < damp &&
		    r->need_ms < damp)
			r->need_ms = damp;
		if (r->need_ms <= 0)
			fire(e, r, now, v, cb, arg);
		else {
			r->state = SW_ALERT_PENDING;
			emit(e, r, "pending", now, v, cb, arg);
		}
		break;
	case SW_ALERT_PENDING:
		if (!cond) {
			r->state = SW_ALERT_INACTIVE;
			r->active_since = 0;
			break;
		}
		if (now - r->active_since >= r->need_ms)
			fire(e, r, now, v, cb, arg);
		break;
	case SW_ALERT_FIRING:
		if (cond) {
			if (r->keep_since != 0)
				r->dirty = 1;
			r->keep_since = 0;
		} else {
			if (r->keep_since == 0) {
				r->keep_since = now;
				r->dirty = 1;
			}
			if (now - r->keep_since >= cr->keep_ms) {
				r->state = SW_ALERT_INACTIVE;
				r->resolved = now;
				r->keep_since = 0;
				emit(e, r, "resolved", now, v, cb, arg);
				break;
			}
		}
		/* reminders while firing, `keep` included */
		if (cr->repeat_ms > 0 && now - r->last_sent >= cr->repeat_ms) {
			r->last_sent = now;
			r->dirty = 1;
			emit(e, r, "repeat", now, v, cb, arg);
		}
		break;
	}
	if (r->state != before)
		r->dirty = 1;
}

void
sw_engine_eval(struct sw_engine *e, int64_t now_ms, sw_alert_cb cb, void *arg)
{
	struct sw_err	 err;
	struct rule	*r;
	int		 i, failed = 0;

	for (i = 0; i < e->nrules; i++) {
		r = &e->rules[i];
		if (r->expr == NULL)
			continue;
		engine_eval_expr(e, r->expr, r->conf->across_restarts, 0,
		    now_ms, &r->last);
		r->have_last = 1;
		engine_step(e, r, now_ms, &r->last, cb, arg);
		if (r->dirty && e->store != NULL) {
			r->updated = now_ms;
			sw_err_clear(&err);
			if (state_save(e, r, &err) == -1) {
				sw_complain(&e->store_complain, "rules: %s",
				    err.msg);
				failed = 1;
			}
		}
	}
	if (!failed && e->store != NULL)
		sw_complain_release(&e->store_complain, "rules: writing alert "
		    "state again");
}

enum sw_alert_state
sw_engine_rule_state(const struct sw_engine *e, const char *rule,
    struct sw_value *last)
{
	const struct rule	*r = rule_find(e, rule);

	if (r == NULL) {
		if (last != NULL)
			memset(last, 0, sizeof(*last));
		return SW_ALERT_INACTIVE;
	}
	if (last != NULL) {
		if (r->have_last)
			*last = r->last;
		else
			memset(last, 0, sizeof(*last));
	}
	return r->state;
}

/* ---------------------------------------------------------------------- */
/* text                                                                    */

static char *
fmt_dur_s(char *dst, size_t dstsz, double s)
{
	return sw_fmt_quantity(dst, dstsz, s, SW_UNIT_SECONDS);
}

static enum sw_unit
per_second(enum sw_unit u)
{
	return u == SW_UNIT_BYTES ? SW_UNIT_BYTES_PER_S : SW_UNIT_PER_S;
}

char *
sw_value_describe(const struct sw_value *v, char *dst, size_t dstsz)
{
	const struct sw_trend_info	*ti = &v->trend;
	char				 a[48], b[48], c[48];
	enum sw_unit			 u;

	if (dstsz == 0)
		return dst;
	dst[0] = '\0';
	if (!v->ok) {
		snprintf(dst, dstsz, "no verdict: %s", v->why);
		return dst;
	}
	if (ti->valid && strcmp(ti->fn, "doubling") == 0) {
		if (isinf(ti->doubling_s))
			snprintf(dst, dstsz, "%s not growing (%d points)",
			    ti->series, ti->points);
		else
			snprintf(dst, dstsz, "%s doubling every %s (CI %s-%s, "
			    "%d points)", ti->series, fmt_dur_s(a, sizeof(a),
			    ti->doubling_s), fmt_dur_s(b, sizeof(b),
			    ti->doubling_lo_s), fmt_dur_s(c, sizeof(c),
			    ti->doubling_hi_s), ti->points);
		return dst;
	}
	if (ti->valid && strcmp(ti->fn, "time_to") == 0) {
		if (isinf(ti->eta_s))
			snprintf(dst, dstsz, "%s not heading for the limit "
			    "(%d points)", ti->series, ti->points);
		else
			snprintf(dst, dstsz, "%s reaches the limit in %s "
			    "(CI %s-%s, %d points)", ti->series,
			    fmt_dur_s(a, sizeof(a), ti->eta_s),
			    fmt_dur_s(b, sizeof(b), ti->eta_lo_s),
			    fmt_dur_s(c, sizeof(c), ti->eta_hi_s), ti->points);
		return dst;
	}
	if (ti->valid && strcmp(ti->fn, "slope") == 0) {
		u = per_second(ti->unit);
		snprintf(dst, dstsz, "%s changing %s (CI %s to %s, %d points)",
		    ti->series, sw_fmt_quantity(a, sizeof(a), ti->slope, u),
		    sw_fmt_quantity(b, sizeof(b), ti->slope_lo, u),
		    sw_fmt_quantity(c, sizeof(c), ti->slope_hi, u), ti->points);
		return dst;
	}
	if (ti->valid && strcmp(ti->fn, "forecast") == 0 && v->is_bool) {
		snprintf(dst, dstsz, "%s = %s (threshold %s; %s changing %s, "
		    "%d points)", v->lhs_text, sw_fmt_quantity(a, sizeof(a),
		    v->lhs, v->lhs_unit), sw_fmt_quantity(b, sizeof(b), v->rhs,
		    v->lhs_unit), ti->series, sw_fmt_quantity(c, sizeof(c),
		    ti->slope, per_second(ti->unit)), ti->points);
		return dst;
	}
	if (v->is_bool && v->lhs_text[0] != '\0') {
		snprintf(dst, dstsz, "%s = %s (threshold %s)", v->lhs_text,
		    sw_fmt_quantity(a, sizeof(a), v->lhs, v->lhs_unit),
		    sw_fmt_quantity(b, sizeof(b), v->rhs, v->lhs_unit));
		return dst;
	}
	snprintf(dst, dstsz, "%s", sw_fmt_quantity(a, sizeof(a), v->v,
	    v->unit));
	return dst;
}

/* ---------------------------------------------------------------------- */
/* sparklines                                                              */

struct spark_find {
	const struct sw_expr	*call;
};

static int
spark_first_call(const struct sw_expr *call, void *arg)
{
	struct spark_find	*f = arg;

	if (call->series != NULL && call->series->target != NULL) {
		f->call = call;
		return 1;
	}
	return 0;
}

/* The first call of a rule's condition that reads a series. */
static const struct sw_expr *
rule_first_call(const struct sw_engine *e, const char *rule)
{
	const struct rule	*r = rule_find(e, rule);
	struct spark_find	 f;

	if (r == NULL || r->expr == NULL)
		return NULL;
	f.call = NULL;
	sw_expr_each_call(r->expr, spark_first_call, &f);
	return f.call;
}

const char *
sw_engine_rule_target(const struct sw_engine *e, const char *rule)
{
	const struct sw_expr	*call = rule_first_call(e, rule);

	return call != NULL ? call->series->target : NULL;
}

int
sw_engine_spark(struct sw_engine *e, const char *rule, int64_t now_ms,
    double *vals, int max, const char **series_target)
{
	const struct sw_expr		*call;
	struct series			*s;
	struct sw_summary_points	*p;
	int64_t				 w;
	int				 i, n = 0;

	if (series_target != NULL)
		*series_target = NULL;
	if (max <= 0 || (call = rule_first_call(e, rule)) == NULL)
		return 0;
	s = series_find(e, call->series->target, call->series->metric,
	    call->series->labels != NULL ? call->series->labels : "");
	if (s == NULL || s->pub.raw == NULL)
		return 0;
	if (series_target != NULL)
		*series_target = s->target;
	w = call->window_ms > 0 ? call->window_ms : 3600 * 1000;
	if ((p = malloc(sizeof(*p))) == NULL)
		return 0;
	if (max > SW_SUMMARY_POINTS_MAX)
		max = SW_SUMMARY_POINTS_MAX;
	if (sw_summary_points(s->pub.raw, now_ms - w, now_ms + 1, (size_t)max,
	    0, p) == 0) {
		for (i = 0; i < (int)p->n && n < max; i++)
			if (p->count[i] > 0 && isfinite(p->last[i]))
				vals[n++] = p->last[i];
	}
	free(p);
	return n;
}
