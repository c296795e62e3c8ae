/*
 * cli.h: the slopewatch commands. main.c dispatches argv[1] to one of these;
 * each parses its own options (getopt_long, "-c FILE" and "--help" always)
 * and returns the process exit status of SPEC §2: 0 success, 1 a problem it
 * found and reported, 2 usage or configuration error.
 */
#ifndef SW_CLI_H
#define SW_CLI_H

struct sw_conf;
struct sw_store;

#define SW_EXIT_OK	0
#define SW_EXIT_PROBLEM	1
#define SW_EXIT_USAGE	2

int	sw_cmd_run(int argc, char **argv);
int	sw_cmd_check(int argc, char **argv);
int	sw_cmd_show(int argc, char **argv);
int	sw_cmd_status(int argc, char **argv);
int	sw_cmd_query(int argc, char **argv);
int	sw_cmd_test(int argc, char **argv);
int	sw_cmd_backtest(int argc, char **argv);
int	sw_cmd_notify_test(int argc, char **argv);
int	sw_cmd_silence(int argc, char **argv);

/* The config path: the -c value if given, else $SLOPEWATCH_CONF, else
 * ./slopewatch.conf if it exists, else /etc/slopewatch/slopewatch.conf. */
const char *sw_cli_conf_path(const char *opt);

/* For reading commands: loads the config at path (errors printed as
 * FILE:LINE:COL) to learn the database path and opens the store read-only.
 * When no config file exists at all, uses ./slopewatch.db. db_opt (from
 * --db, may be NULL) overrides both. Returns 0, or 2 (message printed). The
 * conf (may be NULL when none was read) and store are the caller's. */
int	sw_cli_open_store(const char *conf_opt, const char *db_opt,
	    struct sw_conf **conf, struct sw_store **st);

/* Parses "--since" values: a duration ("1d", "90m") back from now, unix
 * seconds/ms, or RFC 3339. Returns 0 and sets *ms (unix ms), or -1. */
int	sw_cli_parse_time(const char *s, long long now_ms, long long *ms);

#endif
