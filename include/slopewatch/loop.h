/*
 * loop.h: the one event loop. One thread, one poll(2). Everything the agent
 * does is a callback from here: fd readiness (curl sockets, child pipes,
 * the HTTP listener), timers on the monotonic clock, and signals (delivered
 * through a self-pipe, so handlers run as ordinary callbacks, never in signal
 * context). No callback may block.
 */
#ifndef SW_LOOP_H
#define SW_LOOP_H

#include <stdint.h>

struct sw_loop;
struct sw_err;

/* Events for sw_loop_fd_*: poll(2) bits. */
typedef void (*sw_loop_fd_cb)(int fd, short revents, void *arg);
typedef void (*sw_loop_timer_cb)(void *arg);
typedef void (*sw_loop_signal_cb)(int signo, void *arg);

/* New loop, or NULL (err set). Free with sw_loop_free. */
struct sw_loop *sw_loop_new(struct sw_err *err);
void	sw_loop_free(struct sw_loop *loop);

/* Watches fd for events (POLLIN, POLLOUT); replaces an existing watch of fd.
 * 0 or -1. events == 0 removes the watch (same as sw_loop_fd_del). */
int	sw_loop_fd_set(struct sw_loop *loop, int fd, short events,
	    sw_loop_fd_cb cb, void *arg);
void	sw_loop_fd_del(struct sw_loop *loop, int fd);

/* One-shot timer firing when the monotonic clock reaches due_us. Returns a
 * positive id (for sw_loop_timer_cancel), or 0 on allocation failure. */
uint64_t sw_loop_timer_at(struct sw_loop *loop, int64_t due_us,
	    sw_loop_timer_cb cb, void *arg);
/* Cancels a pending timer; unknown or fired ids are ignored. */
void	sw_loop_timer_cancel(struct sw_loop *loop, uint64_t id);

/* Calls cb from the loop whenever signo arrives (SIGTERM, SIGINT, SIGHUP,
 * SIGCHLD...). 0 or -1. */
int	sw_loop_signal(struct sw_loop *loop, int signo, sw_loop_signal_cb cb,
	    void *arg, struct sw_err *err);

/* Runs until sw_loop_stop. 0, or -1 if poll fails for a reason other than
 * EINTR (err set). */
int	sw_loop_run(struct sw_loop *loop, struct sw_err *err);
/* Runs one iteration, waiting at most max_wait_us (tests). */
int	sw_loop_once(struct sw_loop *loop, int64_t max_wait_us,
	    struct sw_err *err);
void	sw_loop_stop(struct sw_loop *loop);

#endif
