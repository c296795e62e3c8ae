/*
 * conf.h: the parsed configuration, one plain tree the rest of the code
 * reads. sw_conf_load parses a file (and the files it includes) into a
 * struct sw_conf; every error is reported with FILE:LINE:COL and parsing
 * goes on after an error so that `slopewatch check` shows them all.
 * The grammar is documented in slopewatch.conf(5) (man/slopewatch.conf.5).
 *
 * Ownership: everything hanging off a struct sw_conf belongs to it and is
 * freed by sw_conf_free. Locations point into the conf's own file names.
 */
#ifndef SW_CONF_H
#define SW_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "slopewatch/units.h"

struct sw_err;

struct sw_loc {
	const char	*file;	/* borrowed from the conf (never NULL once set) */
	int		 line;	/* 1-based */
	int		 col;	/* 1-based, in bytes */
};

struct sw_strlist {
	char	**v;
	int	  n;
};

/* A value that may be a secret: literal, "$ENV" or "@file". */
struct sw_secret {
	char	*value;		/* the resolved text (NULL if unresolved) */
	char	*source;	/* "$NAME", "@/path", or NULL for a literal */
	int	 is_secret;	/* came from $ or @ (always redacted) */
};

struct sw_kv {
	char		*key;
	char		*value;
	struct sw_kv	*next;
};

enum sw_target_kind {
	SW_TARGET_ENDPOINT = 0,
	SW_TARGET_PROCESS,
	SW_TARGET_SCRAPE,
	SW_TARGET_SELF,		/* built in: the agent itself, "slopewatch" */
};

struct sw_status_range {
	int	lo, hi;
};

#define SW_CONF_MAX_EXPECT 8

struct sw_conf_endpoint {
	char		*url;
	char		*method;	/* default "GET" */
	struct sw_strlist headers;	/* "Name: value" */
	char		*body;
	struct sw_status_range expect[SW_CONF_MAX_EXPECT];
	int		 nexpect;	/* 0 = default 200-399 */
	int64_t		 timeout_ms;	/* default 10s */
	int64_t		 max_body;	/* bytes, default 1 MiB */
	int		 max_redirects;	/* default 5; 0 = do not follow */
	int		 insecure;	/* 1 = no TLS verification */
	int		 reuse;		/* 1 = keep connections */
	char		*cacert;
	char		*cert;
	char		*key;
};

struct sw_conf_process {
	char		*pidfile;
	char		*match;		/* POSIX ERE on the command line */
	char		*unit;		/* systemd unit */
	char		*cgroup;	/* cgroup v2 path */
	long		 pid;		/* 0 = unset */
	int		 children;	/* sum over the process tree */
	int64_t		 warmup_ms;	/* left out of trend functions */
	double		 limit;		/* bytes; 0 = none configured */
};

struct sw_conf_scrape {
	char		*url;
	int64_t		 timeout_ms;	/* default 10s */
	int64_t		 max_body;	/* default 4 MiB */
	struct sw_strlist keep;		/* metric names or globs; empty = defaults */
	int		 insecure;
};

struct sw_conf_target {
	char			*name;
	enum sw_target_kind	 kind;
	struct sw_loc		 loc;
	int64_t			 every_ms;	/* interval */
	struct sw_kv		*labels;	/* extra labels */
	union {
		struct sw_conf_endpoint	endpoint;
		struct sw_conf_process	process;
		struct sw_conf_scrape	scrape;
	} u;
	struct sw_conf_target	*next;
};

struct sw_conf_notify {
	char			*name;
	char			*type;		/* slack, pagerduty, alertmanager, webhook, log */
	struct sw_loc		 loc;
	struct sw_secret	 url;
	struct sw_strlist	 urls;		/* alertmanager: more URLs */
	struct sw_secret	 routing_key;	/* pagerduty */
	struct sw_secret	 secret;	/* webhook HMAC */
	char			*channel, *username, *icon;	/* slack */
	int64_t			 max_age_ms;	/* retry for; 0 = default 24 h */
	struct sw_kv		*options;	/* other keys, for later use */
	struct sw_conf_notify	*next;
};

struct sw_conf_action {
	char			*name;
	struct sw_loc		 loc;
	struct sw_strlist	 run;		/* argv */
	struct sw_strlist	 before;	/* argv, may be empty */
	int64_t			 timeout_ms;	/* default 60s */
	int64_t			 cooldown_ms;	/* default 30m */
	int			 limit_n;	/* 0 = no budget */
	int64_t			 limit_per_ms;
	int64_t			 verify_ms;
	struct sw_kv		*env;
	char			*user;
	char			*cwd;
	struct sw_conf_action	*next;
	/* where the program of `run` / `before` was written (line 0 when the
	 * key is absent), for check-time errors about the program
	 * (sw_actions_check_conf in action.h) */
	struct sw_loc		 run_loc;
	struct sw_loc		 before_loc;
};

enum sw_severity {
	SW_SEV_INFO = 0,
	SW_SEV_WARNING,
	SW_SEV_CRITICAL,
};

struct sw_conf_rule {
	char			*name;
	struct sw_loc		 loc;
	char			*when;		/* the expression text */
	struct sw_loc		 when_loc;	/* where it starts */
	int64_t			 for_ms;
	int64_t			 keep_ms;
	int64_t			 repeat_ms;
	enum sw_severity	 severity;	/* default warning */
	char			*summary;
	struct sw_kv		*labels;
	struct sw_strlist	 notify;
	char			*action;
	int			 across_restarts;
	struct sw_conf_rule	*next;
};

struct sw_retention_level {
	int64_t	res_ms;		/* 0 = raw */
	int64_t	keep_ms;
};

#define SW_CONF_MAX_RETENTION 6

struct sw_conf {
	char			*path;		/* the main file */
	char			*data;		/* database path; default ./slopewatch.db */
	char			*listen;	/* "host:port" or NULL */
	struct sw_retention_level retention[SW_CONF_MAX_RETENTION];
	int			 nretention;	/* default raw 7d, 1m 90d, 1h 2y */
	struct sw_conf_target	*targets;	/* in file order */
	struct sw_conf_notify	*notifiers;
	struct sw_conf_action	*actions;
	struct sw_conf_rule	*rules;
	struct sw_strlist	 files;		/* every file read (owns loc.file) */
	int			 has_secrets;	/* any $ or @ value */
};

/* Diagnostics sink: called once per error, with the location (file may be
 * NULL for errors that are not about a place in a file). */
typedef void (*sw_conf_diag_cb)(const struct sw_loc *loc, const char *msg,
    void *arg);

/* Default diag: prints "FILE:LINE:COL: message" to stderr. */
void	sw_conf_diag_stderr(const struct sw_loc *loc, const char *msg, void *arg);

/* Parses path (and its includes, relative to the including file's
 * directory). Returns a new conf (free with sw_conf_free) and 0 when there was
 * no error; on any error returns -1, calls diag for each, and sets *out to
 * NULL. nerrors (may be NULL) receives the count. Checks permissions: a file
 * holding actions or secrets that group/others may write is an error. */
int	sw_conf_load(const char *path, struct sw_conf **out, sw_conf_diag_cb diag,
	    void *diag_arg, int *nerrors);
/* Parses text in memory, as if read from the file name given (no permission
 * check; includes resolve relative to the name's directory). */
int	sw_conf_parse_string(const char *name, const char *text,
	    struct sw_conf **out, sw_conf_diag_cb diag, void *diag_arg,
	    int *nerrors);
void	sw_conf_free(struct sw_conf *conf);
/* Frees a string list's strings and array and empties it. */
void	sw_strlist_release(struct sw_strlist *l);

/* Writes a summary of conf to f, secrets redacted ("$NAME" / "@file" /
 * "<redacted>"), as `slopewatch check` prints it. */
void	sw_conf_print_summary(const struct sw_conf *conf, FILE *f);

const struct sw_conf_target *sw_conf_target_find(const struct sw_conf *conf,
	    const char *name);
const char *sw_target_kind_name(enum sw_target_kind kind);
const char *sw_severity_name(enum sw_severity sev);

#endif
