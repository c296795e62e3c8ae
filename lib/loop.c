#include "config.h"
/*
 * loop.c: the agent's single poll(2) loop.
 *
 * fd watches live in a flat array (a few hundred at most: curl sockets, child
 * pipes, the listener); timers in a binary min-heap keyed by due time, with
 * ids for cancellation; signals arrive through a non-blocking self-pipe whose
 * handler only write(2)s the signal number, so every callback runs in normal
 * context. Callbacks may add and remove watches and timers freely: each
 * iteration polls a snapshot and re-checks a watch before dispatching to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slopewatch/clock.h"
#include "slopewatch/err.h"
#include "slopewatch/loop.h"

struct loop_watch {
	int		 fd;
	short		 events;
	sw_loop_fd_cb	 cb;
	void		*arg;
};

struct loop_timer {
	int64_t		 due_us;
	uint64_t	 id;
	sw_loop_timer_cb cb;
	void		*arg;
};

struct loop_sig {
	int		 signo;
	sw_loop_signal_cb cb;
	void		*arg;
};

#define LOOP_MAX_SIGNALS 8

struct sw_loop {
	struct loop_watch	*watches;
	size_t			 nwatches, capwatches;
	struct loop_timer	*timers;	/* heap */
	size_t			 ntimers, captimers;
	uint64_t		 next_id;
	struct loop_sig		 sigs[LOOP_MAX_SIGNALS];
	int			 nsigs;
	int			 sigpipe[2];
	int			 stop;
	struct pollfd		*pfds;
	size_t			 cappfds;
};

/* One loop per process owns the signal pipe (the handler needs a global). */
static volatile sig_atomic_t sigpipe_w = -1;

static void
loop_sig_handler(int signo)
{
	int		saved = errno;
	unsigned char	c = (unsigned char)signo;

	if (sigpipe_w != -1)
		(void)!write(sigpipe_w, &c, 1);
	errno = saved;
}

static void
loop_sig_read(int fd, short revents, void *arg)
{
	struct sw_loop	*loop = arg;
	unsigned char	 buf[64];
	ssize_t		 n, i;
	int		 j;

	(void)revents;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			for (j = 0; j < loop->nsigs; j++) {
				if (loop->sigs[j].signo == buf[i])
					loop->sigs[j].cb(buf[i], loop->sigs[j].arg);
			}
		}
	}
}

struct sw_loop *
sw_loop_new(struct sw_err *err)
{
	struct sw_loop	*loop;

	if ((loop = calloc(1, sizeof(*loop))) == NULL) {
		sw_err_set(err, "out of memory");
		return NULL;
	}
	loop->sigpipe[0] = loop->sigpipe[1] = -1;
	loop->next_id = 1;
	return loop;
}

void
sw_loop_free(struct sw_loop *loop)
{
	int	i;

	if (loop == NULL)
		return;
	for (i = 0; i < loop->nsigs; i++)
		signal(loop->sigs[i].signo, SIG_DFL);
	if (loop->sigpipe[1] != -1) {
		sigpipe_w = -1;
		close(loop->sigpipe[0]);
		close(loop->sigpipe[1]);
	}
	free(loop->watches);
	free(loop->timers);
	free(loop->pfds);
	free(loop);
}

static struct loop_watch *
loop_watch_find(struct sw_loop *loop, int fd)
{
	size_t	i;

	for (i = 0; i < loop->nwatches; i++) {
		if (loop->watches[i].fd == fd)
			return &loop->watches[i];
	}
	return NULL;
}

int
sw_loop_fd_set(struct sw_loop *loop, int fd, short events, sw_loop_fd_cb cb,
    void *arg)
{
	struct loop_watch	*w, *nw;
	size_t			 cap;

	if (events == 0) {
		sw_loop_fd_del(loop, fd);
		return 0;
	}
	if ((w = loop_watch_find(loop, fd)) == NULL) {
		if (loop->nwatches == loop->capwatches) {
			cap = loop->capwatches ? loop->capwatches * 2 : 16;
			nw = realloc(loop->watches, cap * sizeof(*nw));
			if (nw == NULL)
				return -1;
			loop->watches = nw;
			loop->capwatches = cap;
		}
		w = &loop->watches[loop->nwatches++];
	}
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	return 0;
}

void
sw_loop_fd_del(struct sw_loop *loop, int fd)
{
	struct loop_watch	*w;

	if ((w = loop_watch_find(loop, fd)) == NULL)
		return;
	*w = loop->watches[--loop->nwatches];
}

static void
heap_swap(struct loop_timer *h, size_t a, size_t b)
{
	struct loop_timer	t = h[a];

	h[a] = h[b];
	h[b] = t;
}

/* Orders by due time, then id, so equal deadlines fire in creation order. */
static int
heap_less(const struct loop_timer *a, const struct loop_timer *b)
{
	if (a->due_us != b->due_us)
		return a->due_us < b->due_us;
	return a->id < b->id;
}

static void
heap_up(struct loop_timer *h, size_t i)
{
	while (i > 0 && heap_less(&h[i], &h[(i - 1) / 2])) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct loop_timer *h, size_t n, size_t i)
{
	size_t	l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < n && heap_less(&h[l], &h[m]))
			m = l;
		if (r < n && heap_less(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

static void
heap_remove(struct sw_loop *loop, size_t i)
{
	loop->timers[i] = loop->timers[--loop->ntimers];
	if (i < loop->ntimers) {
		heap_down(loop->timers, loop->ntimers, i);
		heap_up(loop->timers, i);
	}
}

uint64_t
sw_loop_timer_at(struct sw_loop *loop, int64_t due_us, sw_loop_timer_cb cb,
    void *arg)
{
	struct loop_timer	*nt;
	size_t			 cap;

	if (loop->ntimers == loop->captimers) {
		cap = loop->captimers ? loop->captimers * 2 : 32;
		if ((nt = realloc(loop->timers, cap * sizeof(*nt))) == NULL)
			return 0;
		loop->timers = nt;
		loop->captimers = cap;
	}
	nt = &loop->timers[loop->ntimers];
	nt->due_us = due_us;
	nt->id = loop->next_id++;
	nt->cb = cb;
	nt->arg = arg;
	heap_up(loop->timers, loop->ntimers++);
	return loop->next_id - 1;
}

void
sw_loop_timer_cancel(struct sw_loop *loop, uint64_t id)
{
	size_t	i;

	if (id == 0)
		return;
	for (i = 0; i < loop->ntimers; i++) {
		if (loop->timers[i].id == id) {
			heap_remove(loop, i);
			return;
		}
	}
}

static int
loop_open_sigpipe(struct sw_loop *loop, struct sw_err *err)
{
	if (loop->sigpipe[0] != -1)
		return 0;
	if (sigpipe_w != -1)
		return sw_err_set(err, "another loop already handles signals");
	if (pipe2(loop->sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return sw_err_sys(err, errno, "pipe");
	sigpipe_w = loop->sigpipe[1];
	if (sw_loop_fd_set(loop, loop->sigpipe[0], POLLIN, loop_sig_read,
	    loop) == -1)
		return sw_err_set(err, "out of memory");
	return 0;
}

int
sw_loop_signal(struct sw_loop *loop, int signo, sw_loop_signal_cb cb,
    void *arg, struct sw_err *err)
{
	struct sigaction	sa;

	if (loop->nsigs == LOOP_MAX_SIGNALS)
		return sw_err_set(err, "too many signal handlers");
	if (loop_open_sigpipe(loop, err) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = loop_sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | (signo == SIGCHLD ? SA_NOCLDSTOP : 0);
	if (sigaction(signo, &sa, NULL) == -1)
		return sw_err_sys(err, errno, "sigaction %d", signo);
	loop->sigs[loop->nsigs].signo = signo;
	loop->sigs[loop->nsigs].cb = cb;
	loop->sigs[loop->nsigs].arg = arg;
	loop->nsigs++;
	return 0;
}

static void
loop_run_timers(struct sw_loop *loop)
{
	struct loop_timer	t;
	int64_t			now = sw_clock_mono_us();

	while (loop->ntimers > 0 && loop->timers[0].due_us <= now &&
	    !loop->stop) {
		t = loop->timers[0];
		heap_remove(loop, 0);
		t.cb(t.arg);
	}
}

int
sw_loop_once(struct sw_loop *loop, int64_t max_wait_us, struct sw_err *err)
{
	struct loop_watch	*w;
	struct pollfd		*p;
	size_t			 i, n;
	int64_t			 wait_us, now;
	int			 timeout_ms, r;

	loop_run_timers(loop);
	if (loop->stop)
		return 0;

	wait_us = max_wait_us;
	if (loop->ntimers > 0) {
		now = sw_clock_mono_us();
		if (loop->timers[0].due_us - now < wait_us)
			wait_us = loop->timers[0].due_us - now;
	}
	if (wait_us < 0)
		wait_us = 0;
	/* round up so we never wake just before a deadline and spin */
	timeout_ms = (int)((wait_us + 999) / 1000);

	n = loop->nwatches;
	if (n > loop->cappfds) {
		if ((p = realloc(loop->pfds, n * sizeof(*p))) == NULL)
			return sw_err_set(err, "out of memory");
		loop->pfds = p;
		loop->cappfds = n;
	}
	for (i = 0; i < n; i++) {
		loop->pfds[i].fd = loop->watches[i].fd;
		loop->pfds[i].events = loop->watches[i].events;
		loop->pfds[i].revents = 0;
	}
	r = poll(loop->pfds, (nfds_t)n, timeout_ms);
	if (r == -1) {
		if (errno == EINTR)
			return 0;
		return sw_err_sys(err, errno, "poll");
	}
	for (i = 0; i < n && r > 0 && !loop->stop; i++) {
		if (loop->pfds[i].revents == 0)
			continue;
		r--;
		/* the watch may have gone or changed in an earlier callback */
		w = loop_watch_find(loop, loop->pfds[i].fd);
		if (w == NULL)
			continue;
		w->cb(w->fd, loop->pfds[i].revents, w->arg);
	}
	loop_run_timers(loop);
	return 0;
}

int
sw_loop_run(struct sw_loop *loop, struct sw_err *err)
{
	loop->stop = 0;
	while (!loop->stop) {
		if (sw_loop_once(loop, 3600LL * 1000000, err) == -1)
			return -1;
	}
	return 0;
}

void
sw_loop_stop(struct sw_loop *loop)
{
	loop->stop = 1;
}
