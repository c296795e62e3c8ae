#include "config.h"
/*
 * test_conf.c: the config parser. Golden files first: every
 * tests/fixtures/conf/bad-*.conf is loaded (from a private 0600 copy, so
 * the checkout's umask cannot add permission errors) and its messages must
 * equal bad-*.expected line for line ("LINE:COL: message"). Then the SPEC
 * example, the struct tree a good file fills (defaults included), the
 * lexer's corners, includes (globs, cycles, depth), secrets and their
 * redaction, and the permission rule.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "slopewatch/conf.h"

#define MAX_DIAG	256

/* Collected diagnostics: "LINE:COL: msg" when the error is in the main
 * file, "FILE:LINE:COL: msg" otherwise, "FILE: msg" for whole files. */
struct diag {
	const char	*main;
	int		 n;
	char		 line[MAX_DIAG][600];
};

static void
collect(const struct sw_loc *loc, const char *msg, void *arg)
{
	struct diag	*d = arg;

	if (d->n >= MAX_DIAG) {
		d->n++;
		return;
	}
	if (loc == NULL || loc->file == NULL)
		snprintf(d->line[d->n], sizeof(d->line[0]), "%s", msg);
	else if (loc->line <= 0)
		snprintf(d->line[d->n], sizeof(d->line[0]), "%s: %s",
		    loc->file, msg);
	else if (d->main != NULL && strcmp(loc->file, d->main) == 0)
		snprintf(d->line[d->n], sizeof(d->line[0]), "%d:%d: %s",
		    loc->line, loc->col, msg);
	else
		snprintf(d->line[d->n], sizeof(d->line[0]), "%s:%d:%d: %s",
		    loc->file, loc->line, loc->col, msg);
	d->n++;
}

static char tmpdir[512];

static int
setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/sw-conf-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static void
rm_rf(const char *path)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[PATH_MAX];
	struct stat	 sb;

	if (lstat(path, &sb) == -1)
		return;
	if (S_ISDIR(sb.st_mode) && (d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			rm_rf(p);
		}
		closedir(d);
		rmdir(path);
	} else
		unlink(path);
}

static int
teardown_tmp(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	return 0;
}

/* Writes a file under tmpdir with the given mode; returns its path
 * (static buffer per call site: copy if needed). */
static void
write_file(const char *rel, const char *text, mode_t mode, char *path,
    size_t pathsz)
{
	FILE	*f;
	char	 dir[PATH_MAX], *slash;

	snprintf(path, pathsz, "%s/%s", tmpdir, rel);
	/* make the parent directories */
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = dir + strlen(tmpdir) + 1; (slash = strchr(slash, '/')) !=
	    NULL; slash++) {
		*slash = '\0';
		mkdir(dir, 0700);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static const char *
fixtures_dir(void)
{
	static char	dir[2048];
	const char	*top = getenv("top_srcdir");

#ifdef SW_TOP_SRCDIR
	if (top == NULL || *top == '\0')
		top = SW_TOP_SRCDIR;
#endif
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/conf",
	    top != NULL ? top : "../..");
	return dir;
}

/* Loads text as file rel under tmpdir (0600); returns the result. */
static int
load_text(const char *rel, const char *text, struct sw_conf **conf,
    struct diag *d)
{
	static char	path[PATH_MAX];
	int		n = -1, rc;

	write_file(rel, text, 0600, path, sizeof(path));
	memset(d, 0, sizeof(*d));
	d->main = path;
	rc = sw_conf_load(path, conf, collect, d, &n);
	assert_int_equal(n, d->n);
	return rc;
}

static void
print_diag(const struct diag *d)
{
	int	i;

	for (i = 0; i < d->n && i < MAX_DIAG; i++)
		print_message("  %s\n", d->line[i]);
}

/* ------------------------------------------------------------------ */

static void
test_golden(void **state)
{
	DIR		*dir;
	struct dirent	*e;
	char		 src[PATH_MAX], exp[PATH_MAX], *text, *want, *line;
	char		 got[MAX_DIAG * 600];
	struct sw_conf	*conf;
	struct diag	 d;
	size_t		 len, o;
	int		 i, files = 0, rc, nerr;

	(void)state;
	unsetenv("SLOPEWATCH_TEST_UNSET_VARIABLE");
	dir = opendir(fixtures_dir());
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		len = strlen(e->d_name);
		if (strncmp(e->d_name, "bad-", 4) != 0 || len < 5 ||
		    strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		snprintf(src, sizeof(src), "%s/%s", fixtures_dir(), e->d_name);
		snprintf(exp, sizeof(exp), "%s/%.*s.expected", fixtures_dir(),
		    (int)(len - 5), e->d_name);
		text = slurp(src);
		want = slurp(exp);
		assert_non_null(text);
		if (want == NULL)
			fail_msg("%s has no .expected file", e->d_name);
		conf = (struct sw_conf *)0x1;
		rc = load_text(e->d_name, text, &conf, &d);
		nerr = d.n;
		o = 0;
		got[0] = '\0';
		for (i = 0; i < d.n && i < MAX_DIAG; i++) {
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s\n",
			    d.line[i]);
			if (o >= sizeof(got))
				break;
		}
		if (strcmp(got, want) != 0) {
			print_message("%s: expected:\n%sgot:\n%s", e->d_name,
			    want, got);
			fail_msg("%s: messages differ", e->d_name);
		}
		/* any error fails the load and leaves no conf */
		assert_int_equal(rc, -1);
		assert_null(conf);
		/* every expected line is a located error */
		for (line = want; *line != '\0'; line = strchr(line, '\n') + 1) {
			int	l, c;

			assert_int_equal(sscanf(line, "%d:%d:", &l, &c), 2);
			assert_true(l > 0 && c > 0);
		}
		assert_true(nerr > 0);
		free(text);
		free(want);
		files++;
	}
	closedir(dir);
	/* one fixture per kind of error: do not lose them silently */
	assert_true(files >= 20);
}

static void
test_spec_example(void **state)
{
	char		 src[PATH_MAX], *text;
	struct sw_conf	*conf;
	struct diag	 d;
	int		 rc;

	(void)state;
	setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/"
	    "xyzzy", 1);
	snprintf(src, sizeof(src), "%s/spec-example.conf", fixtures_dir());
	text = slurp(src);
	assert_non_null(text);
	rc = load_text("spec-example.conf", text, &conf, &d);
	if (access("/etc/slopewatch/pd.key", R_OK) == 0) {
		/* this machine has the key: then it must simply parse */
		assert_int_equal(rc, 0);
		sw_conf_free(conf);
	} else {
		/* the only error: the PagerDuty key file it names; the
		 * include glob with no match is fine */
		print_diag(&d);
		assert_int_equal(rc, -1);
		assert_int_equal(d.n, 1);
		assert_non_null(strstr(d.line[0], "11:42: cannot read secret "
		    "file \"/etc/slopewatch/pd.key\""));
	}
	free(text);
	unsetenv("SLACK_WEBHOOK_URL");
}

/* The SPEC example with the key file present: the whole tree. */
static void
test_spec_tree(void **state)
{
	char				 src[PATH_MAX], key[PATH_MAX];
	char				*text, *p, *mod, *out = NULL;
	size_t				 outlen = 0;
	FILE				*mf;
	struct sw_conf			*conf;
	const struct sw_conf_target	*t;
	const struct sw_conf_notify	*n;
	const struct sw_conf_action	*a;
	const struct sw_conf_rule	*r;
	struct diag			 d;
	const char			*needle = "@/etc/slopewatch/pd.key";

	(void)state;
	setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/"
	    "xyzzy", 1);
	write_file("pd.key", "pd-routing-key-42\n", 0600, key, sizeof(key));
	snprintf(src, sizeof(src), "%s/spec-example.conf", fixtures_dir());
	text = slurp(src);
	assert_non_null(text);
	/* the same text, the key now relative to the file: "@pd.key" */
	p = strstr(text, needle);
	assert_non_null(p);
	mod = calloc(1, strlen(text) + 1);
	assert_non_null(mod);
	snprintf(mod, strlen(text) + 1, "%.*s@pd.key%s", (int)(p - text), text,
	    p + strlen(needle));
	if (load_text("spec.conf", mod, &conf, &d) != 0) {
		print_diag(&d);
		fail();
	}

	assert_string_equal(conf->data, "/var/lib/slopewatch/slopewatch.db");
	assert_string_equal(conf->listen, "127.0.0.1:9106");
	assert_int_equal(conf->nretention, 3);
	assert_true(conf->retention[0].res_ms == 0);
	assert_true(conf->retention[0].keep_ms == 7 * 86400000LL);
	assert_true(conf->retention[1].res_ms == 60000);
	assert_true(conf->retention[1].keep_ms == 90 * 86400000LL);
	assert_true(conf->retention[2].res_ms == 3600000);
	assert_true(conf->retention[2].keep_ms == 730 * 86400000LL);
	assert_int_equal(conf->files.n, 1);
	assert_true(conf->has_secrets);

	t = conf->targets;
	assert_non_null(t);
	assert_string_equal(t->name, "checkout");
	assert_int_equal(t->kind, SW_TARGET_ENDPOINT);
	assert_int_equal(t->loc.line, 6);
	assert_int_equal(t->loc.col, 10);
	assert_string_equal(t->u.endpoint.url,
	    "https://shop.example.com/checkout");
	assert_true(t->every_ms == 15000);
	assert_true(t->u.endpoint.timeout_ms == 10000);
	assert_int_equal(t->u.endpoint.nexpect, 1);
	assert_int_equal(t->u.endpoint.expect[0].lo, 200);
	assert_int_equal(t->u.endpoint.expect[0].hi, 399);
	assert_string_equal(t->u.endpoint.method, "GET");
	t = t->next;
	assert_non_null(t);
	assert_string_equal(t->name, "web");
	assert_int_equal(t->kind, SW_TARGET_PROCESS);
	assert_string_equal(t->u.process.pidfile, "/run/web.pid");
	assert_true(t->every_ms == 10000);
	assert_int_equal(t->u.process.children, 1);
	assert_true(t->u.process.warmup_ms == 300000);
	t = t->next;
	assert_non_null(t);
	assert_string_equal(t->name, "webm");
	assert_int_equal(t->kind, SW_TARGET_SCRAPE);
	assert_string_equal(t->u.scrape.url, "http://127.0.0.1:3000/metrics");
	assert_true(t->every_ms == 30000);
	assert_null(t->next);
	assert_ptr_equal(sw_conf_target_find(conf, "web"), conf->targets->next);
	assert_null(sw_conf_target_find(conf, "nope"));

	n = conf->notifiers;
	assert_string_equal(n->name, "ops");
	assert_string_equal(n->type, "slack");
	assert_string_equal(n->url.value,
	    "https://hooks.slack.com/services/T0/B0/xyzzy");
	assert_string_equal(n->url.source, "$SLACK_WEBHOOK_URL");
	assert_true(n->url.is_secret);
	n = n->next;
	assert_string_equal(n->name, "oncall");
	assert_string_equal(n->type, "pagerduty");
	assert_string_equal(n->routing_key.value, "pd-routing-key-42");
	assert_string_equal(n->routing_key.source, "@pd.key");
	n = n->next;
	assert_string_equal(n->type, "alertmanager");
	assert_string_equal(n->url.value, "http://127.0.0.1:9093");
	assert_false(n->url.is_secret);
	assert_null(n->url.source);
	n = n->next;
	assert_string_equal(n->name, "hook");
	assert_string_equal(n->type, "webhook");
	assert_null(n->next);

	a = conf->actions;
	assert_string_equal(a->name, "restart-web");
	assert_int_equal(a->run.n, 3);
	assert_string_equal(a->run.v[0], "/usr/bin/pm2");
	assert_string_equal(a->run.v[1], "restart");
	assert_string_equal(a->run.v[2], "web");
	assert_null(a->run.v[3]);
	assert_int_equal(a->before.n, 1);
	assert_string_equal(a->before.v[0], "/usr/local/bin/heap-snapshot");
	assert_true(a->timeout_ms == 60000);
	assert_true(a->cooldown_ms == 1800000);
	assert_int_equal(a->limit_n, 3);
	assert_true(a->limit_per_ms == 6 * 3600000LL);
	assert_null(a->next);

	r = conf->rules;
	assert_string_equal(r->name, "checkout-slow");
	assert_string_equal(r->when, "p50(checkout.latency, 5m) > 2s");
	assert_int_equal(r->when_loc.line, 23);
	assert_int_equal(r->when_loc.col, 27);
	assert_true(r->for_ms == 600000);
	assert_int_equal(r->severity, SW_SEV_CRITICAL);
	assert_int_equal(r->notify.n, 2);
	assert_string_equal(r->notify.v[0], "ops");
	assert_string_equal(r->notify.v[1], "oncall");
	assert_null(r->action);
	r = r->next;
	assert_string_equal(r->name, "web-leak");
	assert_string_equal(r->when, "doubling(web.rss, 6h) < 1d");
	assert_int_equal(r->severity, SW_SEV_WARNING);
	assert_string_equal(r->action, "restart-web");
	assert_null(r->next);

	/* the summary names secrets by source and never holds them */
	mf = open_memstream(&out, &outlen);
	assert_non_null(mf);
	sw_conf_print_summary(conf, mf);
	fclose(mf);
	assert_null(strstr(out, "xyzzy"));
	assert_null(strstr(out, "pd-routing-key-42"));
	assert_non_null(strstr(out, "$SLACK_WEBHOOK_URL"));
	assert_non_null(strstr(out, "@pd.key"));
	assert_non_null(strstr(out, "p50(checkout.latency, 5m) > 2s"));
	assert_non_null(strstr(out, "retention raw 7d, 1m 90d, 1h 2y"));
	free(out);

	sw_conf_free(conf);
	free(mod);
	free(text);
	unsetenv("SLACK_WEBHOOK_URL");
}

static void
test_defaults(void **state)
{
	struct sw_conf			*conf;
	const struct sw_conf_target	*t;
	struct diag			 d;

	(void)state;
	assert_int_equal(load_text("defaults.conf",
	    "endpoint e { url http://127.0.0.1:1/ }\n"
	    "process p { pid 1 }\n"
	    "scrape s { url http://127.0.0.1:1/metrics }\n"
	    "notify l log { }\n"
	    "action a { run /bin/true }\n"
	    "rule r { when 1 > 0 }\n", &conf, &d), 0);
	assert_string_equal(conf->data, "./slopewatch.db");
	assert_null(conf->listen);
	assert_int_equal(conf->nretention, 3);
	assert_true(conf->retention[2].keep_ms == 730 * 86400000LL);
	assert_false(conf->has_secrets);
	t = conf->targets;
	assert_true(t->every_ms == 15000);
	assert_string_equal(t->u.endpoint.method, "GET");
	assert_true(t->u.endpoint.timeout_ms == 10000);
	assert_true(t->u.endpoint.max_body == 1048576);
	assert_int_equal(t->u.endpoint.max_redirects, 5);
	assert_int_equal(t->u.endpoint.insecure, 0);
	assert_int_equal(t->u.endpoint.reuse, 0);
	assert_int_equal(t->u.endpoint.nexpect, 1);
	assert_int_equal(t->u.endpoint.expect[0].lo, 200);
	assert_int_equal(t->u.endpoint.expect[0].hi, 399);
	t = t->next;
	assert_true(t->every_ms == 10000);
	assert_int_equal(t->u.process.pid, 1);
	assert_int_equal(t->u.process.children, 0);
	assert_true(t->u.process.warmup_ms == 0);
	assert_true(t->u.process.limit == 0);
	t = t->next;
	assert_true(t->every_ms == 30000);
	assert_true(t->u.scrape.timeout_ms == 10000);
	assert_true(t->u.scrape.max_body == 4 * 1048576);
	assert_int_equal(t->u.scrape.keep.n, 0);
	assert_true(conf->actions->timeout_ms == 60000);
	assert_true(conf->actions->cooldown_ms == 1800000);
	assert_int_equal(conf->actions->limit_n, 0);
	assert_int_equal(conf->rules->severity, SW_SEV_WARNING);
	assert_true(conf->rules->for_ms == 0);
	assert_int_equal(conf->rules->across_restarts, 0);
	assert_string_equal(sw_severity_name(SW_SEV_CRITICAL), "critical");
	assert_string_equal(sw_target_kind_name(SW_TARGET_SELF), "self");
	sw_conf_free(conf);
}

/* Every key of every block, set to something not the default. */
static void
test_all_keys(void **state)
{
	struct sw_conf			*conf;
	const struct sw_conf_target	*t;
	const struct sw_conf_notify	*n;
	const struct sw_conf_action	*a;
	const struct sw_conf_rule	*r;
	struct diag			 d;
	int				 rc;

	(void)state;
	setenv("SW_TEST_AM2", "http://10.0.0.2:9093", 1);
	rc = load_text("all.conf",
	    "data \"/var/db/sw.db\"; listen [::1]:0\n"
	    "retention raw 2d, 5m 30d\n"
	    "endpoint e {\n"
	    "  url 'http://127.0.0.1:1/a?b=c#frag'\n"
	    "  method POST; body \"{\\\"a\\\": 1}\\n\"\n"
	    "  header \"Content-Type: application/json\"\n"
	    "  header 'X-Token: t'\n"
	    "  expect 200, 204, 300-399\n"
	    "  every 1.5s; timeout 250ms; max-body 64KiB; max-redirects 0\n"
	    "  insecure yes; reuse on; cacert /a.pem; cert /c.pem; key /k.pem\n"
	    "  label env prod; label team \"web ops\"\n"
	    "}\n"
	    "process p { match \"node .*server\\\\.js\"; children true; "
	    "warmup 2m; limit 1.5GiB; every 1s }\n"
	    "process q { unit web.service; limit 50% }\n"
	    "process c { cgroup /sys/fs/cgroup/web }\n"
	    "scrape s { url http://127.0.0.1:1/metrics; keep "
	    "nodejs_heap_*, process_resident_memory_bytes,\n"
	    "    up; insecure off; max-body 1MB }\n"
	    "notify am alertmanager { url http://10.0.0.1:9093, $SW_TEST_AM2 }\n"
	    "notify sl slack { url https://hooks.slack.com/x; channel \"#ops\"; "
	    "username bot; icon :warning: }\n"
	    "notify wh webhook { url http://127.0.0.1:2/; secret '$literal' }\n"
	    "action a {\n"
	    "  run /usr/bin/env \"two words\" 'x;y'\n"
	    "  timeout 5s; cooldown 0; limit 2/1h; verify 10m\n"
	    "  env A=1; env \"B=two words\"; user www-data; cwd /srv\n"
	    "}\n"
	    "rule r { when web.rss{space=\"old;}\"} > 1GB and x{a=\"b\"} < 1 "
	    "; for 5m; keep 1m; repeat 4h; severity info; summary \"hi "
	    "there\"; label k v; notify sl; notify am, wh; action a; "
	    "across-restarts yes }\n", &conf, &d);
	if (rc != 0) {
		print_diag(&d);
		fail();
	}
	assert_string_equal(conf->data, "/var/db/sw.db");
	assert_string_equal(conf->listen, "[::1]:0");
	assert_int_equal(conf->nretention, 2);
	assert_true(conf->retention[1].res_ms == 300000);
	t = conf->targets;
	assert_string_equal(t->u.endpoint.url, "http://127.0.0.1:1/a?b=c#frag");
	assert_string_equal(t->u.endpoint.method, "POST");
	assert_string_equal(t->u.endpoint.body, "{\"a\": 1}\n");
	assert_int_equal(t->u.endpoint.headers.n, 2);
	assert_string_equal(t->u.endpoint.headers.v[1], "X-Token: t");
	assert_int_equal(t->u.endpoint.nexpect, 3);
	assert_int_equal(t->u.endpoint.expect[1].lo, 204);
	assert_int_equal(t->u.endpoint.expect[1].hi, 204);
	assert_int_equal(t->u.endpoint.expect[2].hi, 399);
	assert_true(t->every_ms == 1500);
	assert_true(t->u.endpoint.timeout_ms == 250);
	assert_true(t->u.endpoint.max_body == 65536);
	assert_int_equal(t->u.endpoint.max_redirects, 0);
	assert_int_equal(t->u.endpoint.insecure, 1);
	assert_int_equal(t->u.endpoint.reuse, 1);
	assert_string_equal(t->u.endpoint.key, "/k.pem");
	assert_string_equal(t->labels->key, "env");
	assert_string_equal(t->labels->next->value, "web ops");
	t = t->next;
	assert_string_equal(t->u.process.match, "node .*server\\.js");
	assert_int_equal(t->u.process.children, 1);
	assert_true(t->u.process.warmup_ms == 120000);
	assert_true(t->u.process.limit == 1.5 * 1024 * 1024 * 1024);
	t = t->next;
	assert_string_equal(t->u.process.unit, "web.service");
	assert_true(t->u.process.limit > 0);
	t = t->next;
	assert_string_equal(t->u.process.cgroup, "/sys/fs/cgroup/web");
	t = t->next;
	assert_int_equal(t->u.scrape.keep.n, 3);
	assert_string_equal(t->u.scrape.keep.v[0], "nodejs_heap_*");
	assert_string_equal(t->u.scrape.keep.v[2], "up");
	assert_true(t->u.scrape.max_body == 1000000);
	n = conf->notifiers;
	assert_string_equal(n->url.value, "http://10.0.0.1:9093");
	assert_int_equal(n->urls.n, 2);
	assert_string_equal(n->urls.v[1], "http://10.0.0.2:9093");
	n = n->next;
	assert_string_equal(n->channel, "#ops");
	assert_string_equal(n->icon, ":warning:");
	n = n->next;
	/* quoting makes "$..." literal */
	assert_string_equal(n->secret.value, "$literal");
	assert_false(n->secret.is_secret);
	a = conf->actions;
	assert_int_equal(a->run.n, 3);
	assert_string_equal(a->run.v[1], "two words");
	assert_string_equal(a->run.v[2], "x;y");
	assert_true(a->cooldown_ms == 0);
	assert_int_equal(a->limit_n, 2);
	assert_true(a->limit_per_ms == 3600000);
	assert_true(a->verify_ms == 600000);
	assert_string_equal(a->env->next->value, "two words");
	assert_string_equal(a->user, "www-data");
	assert_string_equal(a->cwd, "/srv");
	r = conf->rules;
	assert_string_equal(r->when,
	    "web.rss{space=\"old;}\"} > 1GB and x{a=\"b\"} < 1");
	assert_int_equal(r->when_loc.col, 15);
	assert_true(r->for_ms == 300000);
	assert_true(r->keep_ms == 60000);
	assert_true(r->repeat_ms == 4 * 3600000);
	assert_int_equal(r->severity, SW_SEV_INFO);
	assert_string_equal(r->summary, "hi there");
	assert_int_equal(r->notify.n, 3);
	assert_string_equal(r->notify.v[2], "wh");
	assert_string_equal(r->action, "a");
	assert_int_equal(r->across_restarts, 1);
	sw_conf_free(conf);
	unsetenv("SW_TEST_AM2");
}

/* Lexical corners: comments, "#" inside words, one-line blocks, "{" on
 * the next line, a list going on after ",", the last line without "\n". */
static void
test_lexer(void **state)
{
	struct sw_conf	*conf;
	struct diag	 d;
	int		 rc;

	(void)state;
	rc = load_text("lex.conf",
	    "# a comment line\n"
	    "   \t# an indented one\n"
	    "endpoint a{url http://h/x#y;every 5s}# comment after a block\n"
	    "endpoint b # the brace comes later\n"
	    "\n"
	    "{\n"
	    "\turl http://h/ # a comment after a value\r\n"
	    "\texpect 200,\n"
	    "\t       204\n"
	    "}\n"
	    "rule r { when a.b > 1 # not part of the expression\n"
	    "}\n"
	    "rule s { when f(x,\n"
	    "5m) > 1 }\n"
	    "rule t { when c.d > 2 }", &conf, &d);
	/* the expression ends at the newline even inside parentheses */
	assert_int_equal(rc, -1);
	print_diag(&d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.line[0], "14:1: unknown key \"5m)\" in rule "
	    "block");

	rc = load_text("lex2.conf",
	    "endpoint a{url http://h/x#y;every 5s}# comment after a block\n"
	    "endpoint b # the brace comes later\n"
	    "\n"
	    "{\n"
	    "\turl http://h/ # a comment after a value\r\n"
	    "\texpect 200,\n"
	    "\t       204\n"
	    "}\n"
	    "rule r { when a.b > 1 # not part of the expression\n"
	    "}\n"
	    "rule t { when c.d > 2 }", &conf, &d);
	if (rc != 0) {
		print_diag(&d);
		fail();
	}
	assert_string_equal(conf->targets->u.endpoint.url, "http://h/x#y");
	assert_true(conf->targets->every_ms == 5000);
	assert_int_equal(conf->targets->next->u.endpoint.nexpect, 2);
	assert_string_equal(conf->rules->when, "a.b > 1");
	assert_string_equal(conf->rules->next->when, "c.d > 2");
	assert_int_equal(conf->rules->next->when_loc.line, 11);
	assert_int_equal(conf->rules->next->when_loc.col, 15);
	sw_conf_free(conf);
}

static void
test_includes(void **state)
{
	char			 p[PATH_MAX], main_path[PATH_MAX];
	struct sw_conf		*conf;
	const struct sw_conf_rule *r;
	struct diag		 d;
	int			 n = -1, i;

	(void)state;
	write_file("inc/rules/b.rules", "rule b { when 2 > 1; notify ops }\n",
	    0600, p, sizeof(p));
	write_file("inc/rules/a.rules", "rule a { when 1 > 0 }\n", 0600, p,
	    sizeof(p));
	write_file("inc/rules/ignored.txt", "garbage {{{\n", 0600, p,
	    sizeof(p));
	write_file("inc/notify.conf", "notify ops log { }\n", 0600, p,
	    sizeof(p));
	write_file("inc/main.conf",
	    "include rules/*.rules\n"
	    "include notify.conf\n"
	    "include empty/*.conf\n", 0600, main_path, sizeof(main_path));
	memset(&d, 0, sizeof(d));
	d.main = main_path;
	if (sw_conf_load(main_path, &conf, collect, &d, &n) != 0) {
		print_diag(&d);
		fail();
	}
	assert_int_equal(n, 0);
	assert_int_equal(conf->files.n, 4);
	r = conf->rules;
	/* glob order is sorted; the rule's location names its own file */
	assert_string_equal(r->name, "a");
	assert_non_null(strstr(r->loc.file, "/inc/rules/a.rules"));
	assert_string_equal(r->next->name, "b");
	assert_int_equal(r->next->when_loc.line, 1);
	assert_int_equal(r->next->when_loc.col, 15);
	sw_conf_free(conf);

	/* an error in an included file is reported there */
	write_file("inc2/bad.rules", "\nrule x { when 1 > 0; sevrity info }\n",
	    0600, p, sizeof(p));
	assert_int_equal(load_text("inc2/main.conf", "include bad.rules\n",
	    &conf, &d), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.line[0], "/inc2/bad.rules:2:22: unknown key "
	    "\"sevrity\" in rule block (did you mean \"severity\"?)"));

	/* a cycle through two files */
	write_file("cyc/b.conf", "\n\ninclude a.conf\n", 0600, p, sizeof(p));
	assert_int_equal(load_text("cyc/a.conf", "include b.conf\n", &conf, &d),
	    -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.line[0], "/cyc/b.conf:3:9: include cycle: "
	    "\"a.conf\" is already being read"));

	/* a chain deeper than 8 */
	for (i = 1; i <= 9; i++) {
		char	rel[64], text[64];

		snprintf(rel, sizeof(rel), "deep/f%d.conf", i);
		snprintf(text, sizeof(text), "include f%d.conf\n", i + 1);
		write_file(rel, text, 0600, p, sizeof(p));
	}
	write_file("deep/f10.conf", "\n", 0600, p, sizeof(p));
	assert_int_equal(load_text("deep/f0.conf", "include f1.conf\n", &conf,
	    &d), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.line[0], "/deep/f8.conf:1:9: includes are "
	    "nested too deeply (more than 8 levels)"));

	/* the same file twice is not a cycle (but its names clash) */
	write_file("twice/t.conf", "endpoint e { url http://h/ }\n", 0600, p,
	    sizeof(p));
	assert_int_equal(load_text("twice/main.conf",
	    "include t.conf\ninclude t.conf\n", &conf, &d), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.line[0], "duplicate target name \"e\""));
}

static void
test_secrets(void **state)
{
	char		 p[PATH_MAX], text[PATH_MAX + 512];
	struct sw_conf	*conf;
	struct diag	 d;
	char		*out = NULL;
	size_t		 outlen = 0;
	FILE		*mf;

	(void)state;
	setenv("SW_TEST_SECRET", "hunter2-env", 1);
	write_file("sec/key", "hunter2-file\r\n", 0600, p, sizeof(p));
	snprintf(text, sizeof(text),
	    "notify a webhook { url $SW_TEST_SECRET; secret @%s }\n"
	    "notify b pagerduty { routing-key @key }\n"
	    "notify c slack { url https://hooks.slack.com/services/T/B/"
	    "hunter2-lit }\n"
	    "notify d webhook { url https://u:hunter2-pw@h.example/ }\n"
	    "notify e pagerduty { routing-key hunter2-literal }\n", p);
	if (load_text("sec/main.conf", text, &conf, &d) != 0) {
		print_diag(&d);
		fail();
	}
	assert_true(conf->has_secrets);
	assert_string_equal(conf->notifiers->url.value, "hunter2-env");
	assert_string_equal(conf->notifiers->secret.value, "hunter2-file");
	assert_string_equal(conf->notifiers->next->routing_key.value,
	    "hunter2-file");
	mf = open_memstream(&out, &outlen);
	sw_conf_print_summary(conf, mf);
	fclose(mf);
	assert_null(strstr(out, "hunter2"));
	assert_non_null(strstr(out, "$SW_TEST_SECRET"));
	assert_non_null(strstr(out, "@key"));
	assert_non_null(strstr(out, "https://hooks.slack.com/<redacted>"));
	assert_non_null(strstr(out, "routing-key <redacted>"));
	free(out);
	sw_conf_free(conf);

	/* errors name the variable or file, never a value */
	write_file("sec/loose", "hunter2-loose\n", 0666, p, sizeof(p));
	assert_int_equal(load_text("sec/m2.conf",
	    "notify b pagerduty { routing-key @loose }\n"
	    "notify a webhook { url $SW_TEST_NOT_SET_AT_ALL }\n"
	    "notify c webhook { url $SW_TEST_SECRET; secret @empty }\n",
	    &conf, &d), -1);
	assert_null(conf);
	print_diag(&d);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.line[0], "1:34: secret file \"loose\" is "
	    "writable by group/others; run chmod go-w loose");
	assert_string_equal(d.line[1], "2:24: environment variable "
	    "SW_TEST_NOT_SET_AT_ALL is not set");
	assert_string_equal(d.line[2], "3:48: cannot read secret file "
	    "\"empty\": No such file or directory");
	write_file("sec/empty", "\n", 0600, p, sizeof(p));
	assert_int_equal(load_text("sec/m3.conf",
	    "notify c webhook { url http://h/; secret @empty }\n", &conf, &d),
	    -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.line[0], "1:42: secret file \"empty\" is empty");
	unsetenv("SW_TEST_SECRET");
}

static void
test_permissions(void **state)
{
	char		 path[PATH_MAX], want[2 * PATH_MAX + 128];
	struct sw_conf	*conf;
	struct diag	 d;
	int		 n = -1;

	(void)state;
	/* actions in a world-writable file */
	write_file("perm/actions.conf", "action a { run /bin/true }\n", 0666,
	    path, sizeof(path));
	memset(&d, 0, sizeof(d));
	d.main = path;
	assert_int_equal(sw_conf_load(path, &conf, collect, &d, &n), -1);
	assert_null(conf);
	assert_int_equal(n, 1);
	snprintf(want, sizeof(want), "%s: holds actions or secrets but is "
	    "writable by group/others; run chmod go-w %s", path, path);
	assert_string_equal(d.line[0], want);

	/* group-writable with a secret in an included file */
	setenv("SW_TEST_SECRET", "x", 1);
	write_file("perm/inc.conf", "notify a slack { url $SW_TEST_SECRET }\n",
	    0620, path, sizeof(path));
	assert_int_equal(load_text("perm/main.conf", "include inc.conf\n",
	    &conf, &d), -1);
	assert_int_equal(d.n, 1);
	snprintf(want, sizeof(want), "%s: holds actions or secrets but is "
	    "writable by group/others; run chmod go-w %s", path, path);
	assert_string_equal(d.line[0], want);
	unsetenv("SW_TEST_SECRET");

	/* the same, safe */
	write_file("perm/ok.conf", "action a { run /bin/true }\n", 0644,
	    path, sizeof(path));
	assert_int_equal(sw_conf_load(path, &conf, collect, &d, &n), 0);
	sw_conf_free(conf);

	/* no actions or secrets: a loose mode is not our business */
	write_file("perm/plain.conf", "endpoint e { url http://h/ }\n", 0666,
	    path, sizeof(path));
	assert_int_equal(sw_conf_load(path, &conf, collect, &d, &n), 0);
	sw_conf_free(conf);

	/* a missing main file */
	snprintf(path, sizeof(path), "%s/perm/none.conf", tmpdir);
	memset(&d, 0, sizeof(d));
	assert_int_equal(sw_conf_load(path, &conf, collect, &d, &n), -1);
	assert_int_equal(n, 1);
	assert_non_null(strstr(d.line[0], "none.conf: cannot read the "
	    "configuration: No such file or directory"));
}

static void
test_parse_string(void **state)
{
	struct sw_conf	*conf;
	struct diag	 d;
	int		 n = -1;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.main = "mem.conf";
	assert_int_equal(sw_conf_parse_string("mem.conf",
	    "endpoint e { url http://h/ }", &conf, collect, &d, &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(conf->targets->loc.file, "mem.conf");
	assert_string_equal(conf->path, "mem.conf");
	sw_conf_free(conf);

	assert_int_equal(sw_conf_parse_string("mem.conf",
	    "endpoint e { url http://h/; every 0 }\nbogus\n", &conf, collect,
	    &d, &n), -1);
	assert_null(conf);
	assert_int_equal(n, 2);
	assert_string_equal(d.line[0], "1:35: expected a duration above zero "
	    "like 15s or 5m, got \"0\"");
	assert_string_equal(d.line[1], "2:1: unknown key \"bogus\" at the top "
	    "level");

	/* NULL diag is fine */
	assert_int_equal(sw_conf_parse_string("mem.conf", "bogus", &conf,
	    NULL, NULL, &n), -1);
	assert_int_equal(n, 1);
	/* an empty file is a valid (empty) configuration */
	assert_int_equal(sw_conf_parse_string("mem.conf", "", &conf, NULL,
	    NULL, NULL), 0);
	assert_null(conf->targets);
	sw_conf_free(conf);
	sw_conf_free(NULL);
}

/* Garbage is bounded: messages stop after a cap, the count goes on. */
static void
test_many_errors(void **state)
{
	struct sw_conf	*conf;
	struct diag	 d;
	char		*text;
	size_t		 i, o = 0;
	int		 n = 0;

	(void)state;
	text = malloc(300 * 6 + 1);
	assert_non_null(text);
	for (i = 0; i < 300; i++)
		o += (size_t)snprintf(text + o, 7, "x%03zu;\n", i);
	memset(&d, 0, sizeof(d));
	d.main = "many.conf";
	assert_int_equal(sw_conf_parse_string("many.conf", text, &conf,
	    collect, &d, &n), -1);
	/* 300 unknown keys: all counted, 200 shown plus one line that says
	 * the rest is not */
	assert_int_equal(n, 300);
	assert_int_equal(d.n, 201);
	assert_string_equal(d.line[200], "too many errors; not showing the "
	    "rest");
	free(text);

	/* binary junk does not crash */
	assert_int_equal(sw_conf_parse_string("bin.conf", "\x01\x02{\"\x7f",
	    &conf, NULL, NULL, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_spec_tree),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_lexer),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_parse_string),
		cmocka_unit_test(test_many_errors),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
