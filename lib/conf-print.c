#include "config.h"
/*
 * conf-print.c: the summary `slopewatch check` prints of a parsed
 * configuration.
 *
 * Invariant: no secret reaches the output. Values that came from $ENV or
 * @file print as written ("$NAME", "@/path"); literal values of
 * secret-capable keys print as "<redacted>" (URLs keep their scheme and
 * host); header values, request bodies and URL credentials are never
 * printed. Text from the file is printed with control characters escaped.
 */
#include <stdio.h>
#include <string.h>

#include "slopewatch/conf.h"
#include "slopewatch/units.h"

#include "conf-int.h"

/* Writes s with control characters escaped. */
static void
put_text(FILE *f, const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

/* A word, quoted when it holds blanks or is empty. */
static void
put_word(FILE *f, const char *s)
{
	if (*s == '\0' || strpbrk(s, " \t\"';{},#") != NULL) {
		fputc('"', f);
		for (; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				fputc('\\', f);
			if (*s == '\n')
				fputs("\\n", f);
			else if (*s == '\t')
				fputs("\\t", f);
			else
				fputc(*s, f);
		}
		fputc('"', f);
	} else
		put_text(f, s);
}

/* A URL without credentials: "https://user:<redacted>@host/...". */
static void
put_url(FILE *f, const char *url)
{
	const char	*scheme, *auth, *at, *end;

	scheme = strstr(url, "://");
	if (scheme == NULL) {
		put_text(f, url);
		return;
	}
	auth = scheme + 3;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
	if (at == NULL) {
		put_text(f, url);
		return;
	}
	fprintf(f, "%.*s<redacted>", (int)(auth - url), url);
	put_text(f, at);
}

/* A secret-capable value. */
static void
put_secret(FILE *f, const struct sw_secret *s, int is_url)
{
	const char	*scheme, *end;

	if (s->value == NULL && s->source == NULL) {
		fputs("-", f);
		return;
	}
	if (s->is_secret && s->source != NULL) {
		put_text(f, s->source);
		return;
	}
	if (is_url && s->value != NULL &&
	    (scheme = strstr(s->value, "://")) != NULL) {
		/* scheme and host say where alerts go; the rest may be a
		 * token (Slack webhook paths are) */
		end = scheme + 3 + strcspn(scheme + 3, "/?#@");
		if (*end == '@') {
			fputs("<redacted>", f);
			return;
		}
		fprintf(f, "%.*s", (int)(end - s->value), s->value);
		if (*end != '\0' && strcmp(end, "/") != 0)
			fputs("/<redacted>", f);
		return;
	}
	fputs("<redacted>", f);
}

static void
put_argv(FILE *f, const struct sw_strlist *l)
{
	int	i;

	for (i = 0; i < l->n; i++) {
		if (i > 0)
			fputc(' ', f);
		put_word(f, l->v[i]);
	}
}

static void
put_labels(FILE *f, const struct sw_kv *kv)
{
	for (; kv != NULL; kv = kv->next) {
		fputs("  label ", f);
		put_word(f, kv->key);
		fputc(' ', f);
		put_word(f, kv->value);
	}
}

static void
put_dur(FILE *f, const char *key, int64_t ms)
{
	char	buf[64];

	fprintf(f, "  %s %s", key, sw_fmt_duration_ms(buf, sizeof(buf), ms));
}

/* Sizes as written most often: "1MiB" for exact binary multiples. */
static void
put_size(FILE *f, const char *key, double bytes)
{
	static const char	*bin[] = { "KiB", "MiB", "GiB", "TiB" };
	char			 buf[64];
	double			 v = bytes;
	int			 i = -1;

	while (i < 3 && v >= 1024 && v / 1024 == (double)(long long)(v / 1024)) {
		v /= 1024;
		i++;
	}
	if (i >= 0)
		fprintf(f, "  %s %.0f%s", key, v, bin[i]);
	else
		fprintf(f, "  %s %s", key, sw_fmt_quantity(buf, sizeof(buf),
		    bytes, SW_UNIT_BYTES));
}

static void
print_target(FILE *f, const struct sw_conf_target *t, int width)
{
	const struct sw_conf_endpoint	*ep;
	const struct sw_conf_process	*pr;
	const struct sw_conf_scrape	*sc;
	char				 buf[64];
	int				 i;

	fprintf(f, "  %-8s %-*s every %s", sw_target_kind_name(t->kind), width,
	    t->name ? t->name : "", sw_fmt_duration_ms(buf, sizeof(buf),
	    t->every_ms));
	switch (t->kind) {
	case SW_TARGET_ENDPOINT:
		ep = &t->u.endpoint;
		fprintf(f, "  %s ", ep->method ? ep->method : "GET");
		put_url(f, ep->url ? ep->url : "");
		put_dur(f, "timeout", ep->timeout_ms);
		fputs("  expect ", f);
		for (i = 0; i < ep->nexpect; i++) {
			fprintf(f, "%s%d", i ? "," : "", ep->expect[i].lo);
			if (ep->expect[i].hi != ep->expect[i].lo)
				fprintf(f, "-%d", ep->expect[i].hi);
		}
		put_size(f, "max-body", (double)ep->max_body);
		fprintf(f, "  max-redirects %d", ep->max_redirects);
		for (i = 0; i < ep->headers.n; i++) {
			/* the name only: values are often credentials */
			fprintf(f, "  header %.*s: <redacted>",
			    (int)strcspn(ep->headers.v[i], ":"),
			    ep->headers.v[i]);
		}
		if (ep->body != NULL)
			fprintf(f, "  body (%zu bytes)", strlen(ep->body));
		if (ep->insecure)
			fputs("  insecure yes", f);
		if (ep->reuse)
			fputs("  reuse yes", f);
		if (ep->cacert != NULL) {
			fputs("  cacert ", f);
			put_word(f, ep->cacert);
		}
		if (ep->cert != NULL) {
			fputs("  cert ", f);
			put_word(f, ep->cert);
		}
		if (ep->key != NULL) {
			fputs("  key ", f);
			put_word(f, ep->key);
		}
		break;
	case SW_TARGET_PROCESS:
		pr = &t->u.process;
		if (pr->pidfile != NULL) {
			fputs("  pidfile ", f);
			put_word(f, pr->pidfile);
		} else if (pr->match != NULL) {
			fputs("  match ", f);
			put_word(f, pr->match);
		} else if (pr->unit != NULL) {
			fputs("  unit ", f);
			put_word(f, pr->unit);
		} else if (pr->cgroup != NULL) {
			fputs("  cgroup ", f);
			put_word(f, pr->cgroup);
		} else if (pr->pid > 0)
			fprintf(f, "  pid %ld", pr->pid);
		fprintf(f, "  children %s", pr->children ? "yes" : "no");
		if (pr->warmup_ms > 0)
			put_dur(f, "warmup", pr->warmup_ms);
		if (pr->limit > 0)
			put_size(f, "limit", pr->limit);
		break;
	case SW_TARGET_SCRAPE:
		sc = &t->u.scrape;
		fputs("  ", f);
		put_url(f, sc->url ? sc->url : "");
		put_dur(f, "timeout", sc->timeout_ms);
		put_size(f, "max-body", (double)sc->max_body);
		if (sc->keep.n > 0) {
			fputs("  keep ", f);
			for (i = 0; i < sc->keep.n; i++) {
				if (i > 0)
					fputs(", ", f);
				put_word(f, sc->keep.v[i]);
			}
		}
		if (sc->insecure)
			fputs("  insecure yes", f);
		break;
	case SW_TARGET_SELF:
		break;
	}
	put_labels(f, t->labels);
	fputc('\n', f);
}

static void
print_notify(FILE *f, const struct sw_conf_notify *n, int width)
{
	fprintf(f, "  %-*s %-12s", width, n->name ? n->name : "",
	    n->type ? n->type : "?");
	if (n->url.value != NULL || n->url.source != NULL) {
		fputs("  url ", f);
		put_secret(f, &n->url, 1);
		if (n->urls.n > 1)
			fprintf(f, " (and %d more)", n->urls.n - 1);
	}
	if (n->routing_key.value != NULL || n->routing_key.source != NULL) {
		fputs("  routing-key ", f);
		put_secret(f, &n->routing_key, 0);
	}
	if (n->secret.value != NULL || n->secret.source != NULL) {
		fputs("  secret ", f);
		put_secret(f, &n->secret, 0);
	}
	if (n->channel != NULL) {
		fputs("  channel ", f);
		put_word(f, n->channel);
	}
	if (n->username != NULL) {
		fputs("  username ", f);
		put_word(f, n->username);
	}
	if (n->icon != NULL) {
		fputs("  icon ", f);
		put_word(f, n->icon);
	}
	fputc('\n', f);
}

static void
print_action(FILE *f, const struct sw_conf_action *a)
{
	const struct sw_kv	*kv;
	char			 buf[64];

	fprintf(f, "  %s\n    run ", a->name ? a->name : "");
	put_argv(f, &a->run);
	fputc('\n', f);
	if (a->before.n > 0) {
		fputs("    before ", f);
		put_argv(f, &a->before);
		fputc('\n', f);
	}
	fputs("  ", f);
	put_dur(f, "timeout", a->timeout_ms);
	put_dur(f, "cooldown", a->cooldown_ms);
	if (a->limit_n > 0)
		fprintf(f, "  limit %d per %s", a->limit_n,
		    sw_fmt_duration_ms(buf, sizeof(buf), a->limit_per_ms));
	if (a->verify_ms > 0)
		put_dur(f, "verify", a->verify_ms);
	if (a->user != NULL) {
		fputs("  user ", f);
		put_word(f, a->user);
	}
	if (a->cwd != NULL) {
		fputs("  cwd ", f);
		put_word(f, a->cwd);
	}
	for (kv = a->env; kv != NULL; kv = kv->next) {
		fputs("  env ", f);
		put_text(f, kv->key);
		fputs("=...", f);
	}
	fputc('\n', f);
}

static void
print_rule(FILE *f, const struct sw_conf_rule *r)
{
	int	i;

	fprintf(f, "  %s  %s\n    when ", r->name ? r->name : "",
	    sw_severity_name(r->severity));
	put_text(f, r->when ? r->when : "");
	fputc('\n', f);
	fputs("  ", f);
	if (r->for_ms > 0)
		put_dur(f, "for", r->for_ms);
	if (r->keep_ms > 0)
		put_dur(f, "keep", r->keep_ms);
	if (r->repeat_ms > 0)
		put_dur(f, "repeat", r->repeat_ms);
	if (r->notify.n > 0) {
		fputs("  notify ", f);
		for (i = 0; i < r->notify.n; i++)
			fprintf(f, "%s%s", i ? ", " : "", r->notify.v[i]);
	}
	if (r->action != NULL)
		fprintf(f, "  action %s", r->action);
	if (r->across_restarts)
		fputs("  across-restarts yes", f);
	put_labels(f, r->labels);
	if (r->summary != NULL) {
		fputs("  summary ", f);
		put_word(f, r->summary);
	}
	fputc('\n', f);
}

void
sw_conf_print_summary(const struct sw_conf *conf, FILE *f)
{
	const struct sw_conf_target	*t;
	const struct sw_conf_notify	*n;
	const struct sw_conf_action	*a;
	const struct sw_conf_rule	*r;
	char				 b1[64], b2[64];
	int				 i, count, width;

	fputs("config    ", f);
	put_text(f, conf->path ? conf->path : "");
	if (conf->files.n > 1)
		fprintf(f, " (and %d included file%s)", conf->files.n - 1,
		    conf->files.n == 2 ? "" : "s");
	fputs("\ndata      ", f);
	put_text(f, conf->data ? conf->data : "");
	fputs("\nlisten    ", f);
	if (conf->listen != NULL)
		put_text(f, conf->listen);
	else
		fputs("(none)", f);
	fputs("\nretention ", f);
	for (i = 0; i < conf->nretention; i++) {
		fprintf(f, "%s%s %s", i ? ", " : "",
		    conf->retention[i].res_ms == 0 ? "raw" :
		    sw_fmt_duration_ms(b1, sizeof(b1),
		    conf->retention[i].res_ms),
		    sw_fmt_duration_ms(b2, sizeof(b2),
		    conf->retention[i].keep_ms));
	}
	fputc('\n', f);

	for (count = 0, width = 4, t = conf->targets; t != NULL; t = t->next) {
		count++;
		if (t->name != NULL && (int)strlen(t->name) > width)
			width = (int)strlen(t->name);
	}
	fprintf(f, "targets (%d, and the agent itself as \"slopewatch\"):\n",
	    count);
	for (t = conf->targets; t != NULL; t = t->next)
		print_target(f, t, width);

	for (count = 0, width = 4, n = conf->notifiers; n != NULL;
	    n = n->next) {
		count++;
		if (n->name != NULL && (int)strlen(n->name) > width)
			width = (int)strlen(n->name);
	}
	fprintf(f, "notifiers (%d):\n", count);
	for (n = conf->notifiers; n != NULL; n = n->next)
		print_notify(f, n, width);

	for (count = 0, a = conf->actions; a != NULL; a = a->next)
		count++;
	fprintf(f, "actions (%d):\n", count);
	for (a = conf->actions; a != NULL; a = a->next)
		print_action(f, a);

	for (count = 0, r = conf->rules; r != NULL; r = r->next)
		count++;
	fprintf(f, "rules (%d):\n", count);
	for (r = conf->rules; r != NULL; r = r->next)
		print_rule(f, r);
}
