/*
 * action.h: restart actions with guard rails (SPEC §7, slopewatch-actions(7)).
 *
 * An `action NAME { run ...; before ...; ... }` block of the config is
 * attached to rules with `action NAME`. When such a rule fires (or repeats
 * while firing) the agent hands the alert to sw_actions_alert, which, if
 * the guard rails allow it, runs one sequence:
 *
 *   before step (optional evidence capture: output and status kept)
 *     -> run step (the restart)
 *     -> after `verify D` (when set and the run exited 0): the verify
 *        callback asks the agent whether the process instance changed and
 *        the rule's condition cleared
 *
 * Children are started the git way: program, argv and environment are built
 * before fork; the child gets stdin from /dev/null, stdout and stderr on one
 * pipe, no other fd, a new session (its own process group), default signal
 * dispositions and an empty mask, then optionally setgid/setuid (`user`)
 * and chdir (`cwd`), then execve. Never a shell: alert data reaches the
 * child only through its environment, which is clean:
 *
 *   PATH=/usr/bin:/bin (unless the action's `env` sets PATH)
 *   SLOPEWATCH_RULE SLOPEWATCH_ACTION SLOPEWATCH_EVENT SLOPEWATCH_PHASE
 *   SLOPEWATCH_TARGET SLOPEWATCH_PID SLOPEWATCH_VALUE SLOPEWATCH_SEVERITY
 *   SLOPEWATCH_SUMMARY, and the action's `env` entries.
 *
 * An exec failure comes back through a close-on-exec pipe, so "could not
 * run: No such file or directory (ENOENT)" differs from "exited 127".
 * The loop never blocks on a child: its exit is seen through a pidfd in
 * the poll set; where pidfd_open is missing (kernels before 5.3,
 * valgrind) sw_actions_new registers a SIGCHLD callback with
 * sw_loop_signal instead (the loop keeps other SIGCHLD callbacks working).
 * Either way only this module's own pids are reaped (waitpid(pid,
 * WNOHANG)), never waitpid(-1), so other children are left alone. Output is
 * read non-blocking, the first SW_ACTION_OUTPUT_MAX bytes kept and the rest
 * counted. A step past the action's `timeout` gets SIGTERM on its process
 * group, then SIGKILL on the group after the grace period, and is recorded
 * "timed out after 60 s (killed by signal 15)".
 *
 * Guard rails, per action (shared by the rules that name it):
 *   - one sequence at a time;
 *   - `cooldown D` between the starts of two sequences;
 *   - `limit N per W`: at most N sequences started in any window W; when
 *     the budget is spent nothing more runs and ONE escalation ("restarts
 *     are not helping", severity critical) is reported per exhaustion
 *     period (an exhaustion period starts with the run that spent the
 *     budget and ends when that window frees a slot);
 *   - a silenced alert (the caller says so) runs nothing;
 *   - dry-run mode logs what would run, applying the rails in memory only.
 * Runs and escalations are events in the store (kind "action") and the
 * rails are rebuilt from them at sw_actions_new, so they survive an agent
 * restart.
 *
 * Event details (JSON, kind "action", target = the alert's target, or the
 * action name when there is none; pid = the alert's pid):
 *   {"phase":"run", "rule", "action", "event", "argv":[...],
 *    "started_ms", "result":"exited 0", "exit":0 | "signal":9 |
 *    "error":"ENOENT", "timed_out", "duration_ms", "output" (excerpt,
 *    escaped: \n \t \\ \xNN, at most SW_ACTION_EXCERPT_MAX bytes taken
 *    from the head and tail), "output_bytes", "output_dropped",
 *    "before": {same keys for the before step} or null,
 *    "verify": "pending" | "not run: the restart failed" | null}
 *   {"phase":"verify", "rule", "action", "started_ms" (of the run),
 *    "old_pid", "new_pid", "cleared", "ok", "text"}
 *   {"phase":"escalate", "rule", "action", "severity":"critical", "runs",
 *    "window_ms", "text"}
 * The run event is queued when the run step ends (ts = the sequence's
 * start), so the budget counts it even if the agent stops before verify.
 *
 * Times: guard rails use the wall clock (ms, sw_clock_wall_ms, persisted);
 * timeouts and durations the monotonic clock. Both come from clock.h, so
 * tests drive the rails with the fake clock.
 */
#ifndef SW_ACTION_H
#define SW_ACTION_H

#include <stddef.h>
#include <stdint.h>

#include "slopewatch/conf.h"

struct sw_err;
struct sw_loop;
struct sw_store;
struct sw_actions;

#define SW_ACTION_OUTPUT_MAX	65536	/* bytes of a step's output kept */
#define SW_ACTION_EXCERPT_MAX	2048	/* bytes of output in an event */
#define SW_ACTION_KILL_GRACE_MS	5000	/* SIGTERM -> SIGKILL on timeout */
#define SW_ACTION_PATH		"/usr/bin:/bin"

/* The outcome of one step (before or run). */
struct sw_action_result {
	int		 ran;		/* 1: the program was executed */
	int		 exited;	/* 1: it exited (status is valid) */
	int		 status;	/* exit status */
	int		 signo;		/* killed by this signal, 0 if not */
	int		 timed_out;
	int		 error;		/* errno when !ran ("could not run") */
	int64_t		 duration_ms;
	const char	*output;	/* captured stdout+stderr, raw bytes */
	size_t		 output_len;	/*   (at most SW_ACTION_OUTPUT_MAX) */
	uint64_t	 output_dropped; /* bytes past the cap */
	const char	*text;		/* "exited 0", "exited 3", "killed by
					   signal 9", "timed out after 60 s
					   (killed by signal 15)", "could not
					   run: execve /x: No such file or
					   directory (ENOENT)" */
};

enum sw_action_report_kind {
	SW_ACTION_RAN = 0,	/* the run step ended (before attached) */
	SW_ACTION_VERIFIED,	/* the verify check was made */
	SW_ACTION_ESCALATE,	/* the budget is spent: restarts are not
				   helping (severity critical) */
	SW_ACTION_DRY_RUN,	/* dry-run: what would have run */
};

/* What the agent is told; everything is borrowed for the call only. The
 * agent forwards RAN, VERIFIED and ESCALATE to the rule's notifiers. */
struct sw_action_report {
	enum sw_action_report_kind kind;
	const char	*rule;
	const char	*action;
	const char	*target;	/* "" when the alert named none */
	long		 pid;		/* the instance the alert was about */
	enum sw_severity severity;	/* the rule's; critical for ESCALATE */
	int		 ok;		/* RAN: exited 0; VERIFIED: new
					   instance and condition cleared */
	const char	*text;		/* one line for humans (see below) */
	const char	*detail;	/* the event's JSON (NULL for DRY_RUN) */
	const struct sw_action_result *before;	/* RAN: NULL if no before */
	const struct sw_action_result *run;	/* RAN */
	long		 new_pid;	/* VERIFIED */
	int		 cleared;	/* VERIFIED: 1, 0, -1 no verdict */
};
/*
 * Report texts:
 *   RAN       "ran restart-web for rule web-leak: exited 0 in 1.2 s;
 *              before: exited 0"
 *   VERIFIED  "restarted web (pid 4121 → 5530); RSS back to 180 MB"
 *             "restart did not clear the alert: web (pid 4121 → 5530);
 *              RSS 812 MB"
 *             "restart did not clear the alert: web still pid 4121; ..."
 *   ESCALATE  "restarts are not helping: restart-web ran 3 times in 6h
 *              and rule web-leak is still firing"
 *   DRY_RUN   "dry run: would run /usr/bin/pm2 restart web (rule ...)"
 */
typedef void (*sw_action_report_cb)(void *arg,
	    const struct sw_action_report *r);

/* The verify question. The callback fills new_pid, cleared and now. */
struct sw_action_verify {
	const char	*rule;		/* borrowed, for the call */
	const char	*action;
	const char	*target;	/* "" when none */
	long		 old_pid;	/* the alert's pid (0 unknown) */
	int64_t		 started_ms;	/* when the sequence started */
	/* answers (zeroed before the call) */
	long		 new_pid;	/* the target's instance now, 0 unknown */
	int		 cleared;	/* 1 the rule's condition is false now,
					   0 still true, -1 no verdict */
	char		 now[160];	/* e.g. "RSS back to 180 MB" (optional) */
};
typedef void (*sw_action_verify_cb)(void *arg, struct sw_action_verify *v);

struct sw_actions_opts {
	int			 dry_run;	/* log, run nothing */
	int64_t			 kill_grace_ms;	/* 0: SW_ACTION_KILL_GRACE_MS */
	sw_action_report_cb	 report;	/* may be NULL */
	sw_action_verify_cb	 verify;	/* NULL: verify is skipped
						   ("no verify callback") */
	void			*arg;		/* for both callbacks */
};

/* An alert handed to the actions. Strings are borrowed for the call (the
 * module copies what it keeps). */
struct sw_action_alert {
	const struct sw_conf_rule *rule;	/* rule->action names the action
						   (NULL action: nothing to do) */
	const char	*event;		/* "firing" or "repeat" run the action;
					   anything else is ignored */
	const char	*target;	/* the target to act on ("" / NULL
					   unknown): SLOPEWATCH_TARGET */
	long		 pid;		/* its instance now (0 unknown):
					   SLOPEWATCH_PID, verify's old pid */
	double		 value;		/* base units: SLOPEWATCH_VALUE */
	const char	*summary;	/* one line: SLOPEWATCH_SUMMARY
					   (NULL: "") */
	int		 silenced;	/* 1: the rule is silenced, run nothing */
};

/*
 * Builds the actions of conf (borrowed: it must outlive acts, or the next
 * sw_actions_set_conf). loop (borrowed) runs the children's fds and timers;
 * st (borrowed, may be NULL: no persistence) receives an event per run,
 * verify and escalation, and the guard rails are rebuilt from its "action"
 * events (flush st before, so what is queued is seen). opts is copied (may
 * be NULL). Returns a new object, or NULL with err set (out of memory; a
 * store that cannot be read is logged and the rails start empty).
 */
struct sw_actions *sw_actions_new(const struct sw_conf *conf,
	    struct sw_loop *loop, struct sw_store *st,
	    const struct sw_actions_opts *opts, struct sw_err *err);

/* A reload: actions are matched by name, keeping their rails (cooldown,
 * budget, escalation) and any sequence in flight (which keeps its own copy
 * of argv, env and limits); actions no longer configured are dropped once
 * idle. conf is borrowed as for sw_actions_new. 0, or -1 (out of memory;
 * the old conf is still used). */
int	sw_actions_set_conf(struct sw_actions *acts, const struct sw_conf *conf,
	    struct sw_err *err);

/* Frees acts. Steps still running get SIGTERM on their process group and
 * are abandoned (their outcome is not recorded); their fds and timers are
 * removed from the loop. Never call it from a report or verify callback.
 * acts may be NULL. */
void	sw_actions_free(struct sw_actions *acts);

/*
 * An alert transition. Returns 1 when a sequence was started (or, in
 * dry-run mode, logged; an exec failure counts as started: its result is
 * reported as usual), 0 when nothing ran (no action on the rule, an event
 * other than firing/repeat, silenced, busy, cooldown, budget spent — the
 * reason is logged at info, and a spent budget reports ESCALATE once per
 * exhaustion period), -1 with err when the rule names an action acts does
 * not know or a step could not be prepared (out of memory, pipes, fork).
 * Never blocks: the outcome comes later through the report callback.
 */
int	sw_actions_alert(struct sw_actions *acts,
	    const struct sw_action_alert *al, struct sw_err *err);

/* Sequences in flight (before, run or waiting for verify). */
int	sw_actions_busy(const struct sw_actions *acts);

/* For `status`: one per configured action. Strings borrowed for the call. */
struct sw_action_status {
	const char	*name;
	const char	*phase;		/* "idle" "before" "run" "verify" */
	long		 child_pid;	/* the step running, 0 none */
	int64_t		 last_run_ms;	/* start of the last sequence, 0 never */
	const char	*last_result;	/* of the last run step ("" none) */
	const char	*last_verify;	/* text of the last verify ("" none) */
	int		 runs_in_window; /* sequences in the last limit_per_ms */
	int		 limit_n;	/* 0: no budget */
	int64_t		 limit_per_ms;
	int		 budget_spent;
	int64_t		 cooldown_until_ms; /* 0: not cooling down */
	int64_t		 budget_until_ms; /* 0: budget not spent */
	int64_t		 escalated_ms;	/* last escalation, 0 never */
	uint64_t	 runs;		/* since start (this process) */
	uint64_t	 skipped;	/* cooldown, budget, busy, silenced */
};
typedef int (*sw_action_status_cb)(const struct sw_action_status *s,
	    void *arg);
/* Calls cb for each action (config order) at the current wall clock; a
 * non-zero return stops the walk and is returned. */
int	sw_actions_status_each(struct sw_actions *acts, sw_action_status_cb cb,
	    void *arg);
/* The same from the store alone (read-only is fine), for `slopewatch
 * status` in its own process: the rails as the agent would rebuild them
 * at now_ms. 0, the non-zero return of cb, or -1 with err on a store
 * error. */
int	sw_actions_status_load(const struct sw_conf *conf, struct sw_store *st,
	    int64_t now_ms, sw_action_status_cb cb, void *arg,
	    struct sw_err *err);

/* Check-time validation for `slopewatch check` (and run/reload): the
 * program of every `run` and `before` must be a regular file this process
 * may execute (access X_OK), reported at the program's location
 * ("program /usr/bin/pm2 is not executable: No such file or directory"),
 * and a `user` must exist. Calls diag for each problem; returns the number
 * of problems (0: fine). */
int	sw_actions_check_conf(const struct sw_conf *conf, sw_conf_diag_cb diag,
	    void *diag_arg);

#endif
