/* runner: the hook runner's process (hook/runner.h). Root with three
 * capabilities; it reads no client byte, only records from uid-0 session
 * monitors (SO_PEERCRED) and the queue files they or it wrote.
 *
 * An event is acked only once its queue file is durable, and its file
 * is removed only after upload_hook exited 0: a crash or restart of the
 * runner or the daemon runs each hook again (at least once), never for an
 * upload whose 226 was not due. Hooks run one at a time, oldest first; one
 * waiting out its back-off does not hold up the others. A hook runs in a
 * process group of its own, killed whole at hook_timeout, and dies with
 * the runner (PR_SET_PDEATHSIG; its event then runs again). */
#include "ftpd/hook/runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "common/priv/sandbox.h"
#include "ftpd/hook/event.h"
#include "ftpd/options.h"

#define RESCAN_MS 2000       /* entries a monitor queued itself (runner was down) */
#define BACKOFF_MAX 300      /* seconds between tries, at most */
#define RECV_TIMEOUT_MS 2000 /* a monitor sends its record right after connect */
#define TEMP_STALE 60        /* seconds: a temp file this old is a writer that died */
#define OUT_LINE_MAX 1024    /* bytes of one output line logged */
#define OUT_LINES_MAX 200    /* lines of one run logged */

struct entry {
	char *name;
	unsigned tries;
	long long due_ms; /* monotonic; 0: now */
};

static struct entry *queue;
static size_t nqueue, capqueue;
static int qfd = -1, failfd = -1;
static struct sandbox_id hook_id;
static volatile sig_atomic_t stopping;

/* The hook running now (pid 0: none). */
static struct {
	pid_t pid;
	int pidfd, out;
	char *name;
	long long deadline_ms;
	int timed_out;
	struct buffer line;
	int line_cut;
	unsigned lines;
} run = {.pidfd = -1, .out = -1};

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static ssize_t
find_entry(const char *name)
{
	for (size_t i = 0; i < nqueue; i++)
		if (strcmp(queue[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static void
drop_entry(const char *name)
{
	ssize_t i = find_entry(name);

	if (i < 0)
		return;
	free(queue[i].name);
	memmove(&queue[i], &queue[i + 1], (nqueue - (size_t)i - 1) * sizeof(queue[0]));
	nqueue--;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Every entry in the directory; temp files of writers that died go. */
static void
scan(void)
{
	int fd = dup(qfd);
	time_t now = time(NULL);
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		log_msg(LOG_ERR, "hook runner: cannot read %s: %s", opt.hook_queue_dir,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, HOOK_TEMP_PREFIX, strlen(HOOK_TEMP_PREFIX)) == 0 &&
		    fstatat(qfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now - st.st_mtime > TEMP_STALE)
			unlinkat(qfd, de->d_name, 0);
		if (strncmp(de->d_name, HOOK_ENTRY_PREFIX, strlen(HOOK_ENTRY_PREFIX)) != 0 ||
		    find_entry(de->d_name) >= 0)
			continue;
		if (nqueue == capqueue) {
			capqueue = capqueue ? 2 * capqueue : 16;
			queue = xrealloc(queue, capqueue * sizeof(queue[0]));
		}
		queue[nqueue++] = (struct entry){xstrdup(de->d_name), 0, 0};
	}
	closedir(d);
	if (nqueue > 1)
		qsort(queue, nqueue, sizeof(queue[0]), by_name);
}

/* One connection: SECURITY: only the daemon's own monitors (uid 0, or the
 * daemon's uid when it runs unprivileged) may queue events, or any local
 * user could make the hook run with paths and users of their choosing. */
static void
take_event(int lfd)
{
	static char buf[HOOK_MAX_RECORD + 1];
	struct buffer rec = BUFFER_INIT;
	struct hook_event ev;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct pollfd p;
	ssize_t n;
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		return;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != geteuid()) {
		log_msg(LOG_WARNING, "hook runner: refused a connection from uid %ld (pid %ld)",
		        (long)cr.uid, (long)cr.pid);
		close(c);
		return;
	}
	p = (struct pollfd){.fd = c, .events = POLLIN};
	n = poll(&p, 1, RECV_TIMEOUT_MS) == 1 ? recv(c, buf, sizeof(buf), MSG_TRUNC) : -1;
	if (n <= 0 || (size_t)n > HOOK_MAX_RECORD || hook_event_decode(buf, (size_t)n, &ev) < 0) {
		log_msg(LOG_ERR, "hook runner: malformed event from pid %ld", (long)cr.pid);
		close(c);
		return;
	}
	hook_event_free(&ev);
	buffer_append(&rec, buf, (size_t)n);
	if (hook_queue_write(qfd, &rec) < 0)
		log_msg(LOG_ERR, "hook runner: cannot queue an event in %s: %s", opt.hook_queue_dir,
		        strerror(errno));
	else if (send(c, &(char){HOOK_ACK}, 1, MSG_NOSIGNAL) != 1)
		log_msg(LOG_NOTICE, "hook runner: the monitor left before the ack (pid %ld)",
		        (long)cr.pid);
	buffer_free(&rec);
	close(c);
	scan();
}

/* An entry that can never run (unreadable, malformed, tried enough). */
static void
give_up(const char *name, const char *why)
{
	if (renameat(qfd, name, failfd, name) < 0 || fsync(failfd) < 0 || fsync(qfd) < 0)
		log_msg(LOG_ERR, "hook runner: cannot move %s to %s/: %s", name, HOOK_FAILED_DIR,
		        strerror(errno));
	log_msg(LOG_ERR, "hook runner: %s: %s; kept as %s/%s/%s", name, why, opt.hook_queue_dir,
	        HOOK_FAILED_DIR, name);
	drop_entry(name);
}

static int
read_entry(const char *name, struct hook_event *ev)
{
	struct buffer rec = BUFFER_INIT;
	int fd = openat(qfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = read_upto(fd, &rec, HOOK_MAX_RECORD);
	close(fd);
	if (rc != 0 || hook_event_decode(buffer_head(&rec), rec.len, ev) < 0) {
		buffer_free(&rec);
		errno = EINVAL;
		return -1;
	}
	buffer_free(&rec);
	return 0;
}

static void __attribute__((noreturn)) exec_hook(char **env, int out, pid_t parent)
{
	char *argv[] = {opt.upload_hook, env[1] + sizeof("POSTEL_PATH=") - 1, NULL};
	sigset_t none;
	int nul = open("/dev/null", O_RDONLY);

	setsid(); /* its own process group, killed whole at the timeout */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	if (sandbox_hook_child(opt.hook_user, &hook_id) < 0) {
		dprintf(2, "cannot become %s: %s\n", opt.hook_user, strerror(errno));
		_exit(126);
	}
	/* After the uid change, which clears it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	if (chdir("/") < 0)
		_exit(126);
	execve(opt.upload_hook, argv, env);
	dprintf(2, "exec %s: %s\n", opt.upload_hook, strerror(errno));
	_exit(127);
}

/* The hook's environment; env[1] is POSTEL_PATH (exec_hook's $1). */
static char **
hook_env(const struct hook_event *ev, unsigned try)
{
	char **env = xcalloc(12, sizeof(char *));
	int n = 0;

	env[n++] = xasprintf("POSTEL_EVENT=%s", options_hook_kind_name(ev->kind));
	env[n++] = xasprintf("POSTEL_PATH=%s", ev->path);
	if (ev->kind == HOOK_RENAME)
		env[n++] = xasprintf("POSTEL_OLD_PATH=%s", ev->old_path);
	env[n++] = xasprintf("POSTEL_USER=%s", ev->user);
	env[n++] = xasprintf("POSTEL_CLIENT=%s", ev->client);
	env[n++] = xasprintf("POSTEL_SIZE=%llu", (unsigned long long)ev->size);
	env[n++] = xasprintf("POSTEL_SESSION=%s", ev->session);
	env[n++] = xasprintf("POSTEL_QUEUED=%llu", (unsigned long long)ev->queued);
	env[n++] = xasprintf("POSTEL_TRY=%u", try);
	env[n++] = xstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
	env[n++] = xstrdup("HOME=/");
	return env;
}

static void
start_hook(struct entry *e)
{
	struct hook_event ev;
	char **env;
	int p[2];
	pid_t parent = getpid();

	if (read_entry(e->name, &ev) < 0) {
		if (errno == ENOENT)
			drop_entry(e->name); /* removed by hand */
		else
			give_up(e->name, "not a readable event");
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_msg(LOG_ERR, "hook runner: pipe: %s", strerror(errno));
		hook_event_free(&ev);
		e->due_ms = now_ms() + 1000;
		return;
	}
	e->tries++;
	env = hook_env(&ev, e->tries);
	run.pid = fork();
	if (run.pid == 0)
		exec_hook(env, p[1], parent);
	close(p[1]);
	for (char **v = env; *v != NULL; v++)
		free(*v);
	free(env);
	if (run.pid < 0) {
		log_msg(LOG_ERR, "hook runner: fork: %s", strerror(errno));
		close(p[0]);
		run.pid = 0;
		e->due_ms = now_ms() + 1000;
		hook_event_free(&ev);
		return;
	}
	run.pidfd = (int)syscall(SYS_pidfd_open, run.pid, 0U);
	if (run.pidfd < 0)
		die("hook runner: pidfd_open: %s", strerror(errno));
	run.out = p[0];
	fcntl(run.out, F_SETFL, O_NONBLOCK);
	run.name = xstrdup(e->name);
	run.deadline_ms = now_ms() + (long long)opt.hook_timeout * 1000;
	run.timed_out = 0;
	run.lines = 0;
	run.line_cut = 0;
	buffer_clear(&run.line);
	log_msg(LOG_INFO, "hook[%ld]: %s %s (user %s, session %s, try %u)", (long)run.pid,
	        options_hook_kind_name(ev.kind), ev.path, ev.user, ev.session, e->tries);
	hook_event_free(&ev);
}

static void
output_line(void)
{
	if (run.lines < OUT_LINES_MAX)
		log_msg(LOG_INFO, "hook[%ld] says: %s%s", (long)run.pid, buffer_cstr(&run.line),
		        run.line_cut ? " [cut]" : "");
	else if (run.lines == OUT_LINES_MAX)
		log_msg(LOG_INFO, "hook[%ld]: output after %d lines not logged", (long)run.pid,
		        OUT_LINES_MAX);
	run.lines++;
	buffer_clear(&run.line);
	run.line_cut = 0;
}

/* What the hook wrote, line by line; at EOF (or when it ended, at_end)
 * a last partial line too. */
static void
read_output(int at_end)
{
	char buf[4096];
	ssize_t n;

	while (run.out >= 0 && (n = read(run.out, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !at_end)
				return;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n')
				output_line();
			else if (run.line.len < OUT_LINE_MAX)
				buffer_append(&run.line, &buf[i], 1);
			else
				run.line_cut = 1;
		}
	}
	if (run.line.len > 0)
		output_line();
	if (run.out >= 0)
		close(run.out);
	run.out = -1;
}

static unsigned
backoff(unsigned tries)
{
	unsigned s = tries >= 10 ? BACKOFF_MAX : 1U << (tries - 1);

	return s < BACKOFF_MAX ? s : BACKOFF_MAX;
}

/* The run of e ended with status (how: in words): done, retried, or
 * given up. */
static void
settle(struct entry *e, int status, const char *how)
{
	char why[128];
	unsigned wait;

	if (!run.timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (unlinkat(qfd, e->name, 0) < 0 || fsync(qfd) < 0)
			log_msg(LOG_ERR, "hook runner: cannot remove %s: %s", e->name,
			        strerror(errno));
		log_msg(LOG_INFO, "hook[%ld] done: %s", (long)run.pid, e->name);
		drop_entry(run.name);
		return;
	}
	if (e->tries >= opt.hook_max_tries) {
		snprintf(why, sizeof(why), "hook failed %u times, the last %s", e->tries, how);
		give_up(run.name, why);
		return;
	}
	wait = backoff(e->tries);
	e->due_ms = now_ms() + (long long)wait * 1000;
	log_msg(LOG_WARNING, "hook[%ld] failed (%s): %s; try %u in %u s", (long)run.pid, how,
	        e->name, e->tries + 1, wait);
}

static void
hook_ended(void)
{
	ssize_t i;
	int status = 0;
	char how[64];

	while (waitpid(run.pid, &status, 0) < 0 && errno == EINTR)
		;
	read_output(1);
	close(run.pidfd);
	run.pidfd = -1;
	if (run.timed_out)
		snprintf(how, sizeof(how), "timed out after %lu s", opt.hook_timeout);
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
	i = find_entry(run.name);
	if (i >= 0)
		settle(&queue[i], status, how);
	free(run.name);
	run.name = NULL;
	run.pid = 0;
}

static void
kill_hook(const char *why)
{
	/* The group, and the hook itself in case it has not made one yet. */
	kill(-run.pid, SIGKILL);
	kill(run.pid, SIGKILL);
	run.timed_out = 1;
	log_msg(LOG_WARNING, "hook[%ld] %s: killed its process group", (long)run.pid, why);
}

/* The next entry due, or NULL; *wait_ms: until the first one is. */
static struct entry *
next_due(long long *wait_ms)
{
	long long now = now_ms();

	for (size_t i = 0; i < nqueue; i++) {
		if (queue[i].due_ms <= now)
			return &queue[i];
		if (queue[i].due_ms - now < *wait_ms)
			*wait_ms = queue[i].due_ms - now;
	}
	return NULL;
}

static int
open_socket(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", opt.hook_queue_dir,
	                     HOOK_SOCKET_NAME) >= sizeof(sa.sun_path))
		return -1;
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* Any local user may connect (the directory may be searchable);
	 * SO_PEERCRED decides who is heard. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0666) < 0 || listen(fd, 64) < 0) {
		log_msg(LOG_ERR, "hook runner: socket %s: %s", sa.sun_path, strerror(errno));
		return -1;
	}
	return fd;
}

static int
check_dir(int fd, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_msg(LOG_ERR, "hook_queue_dir %s: not a directory", what);
		return -1;
	}
	/* SECURITY: whoever can write the queue chooses what the hook runs on. */
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		log_msg(LOG_ERR,
		        "hook_queue_dir %s must be owned by uid %ld and not group or world "
		        "writable",
		        what, (long)geteuid());
		return -1;
	}
	return 0;
}

int
hook_runner_prepare(void)
{
	int fd, sub, rc;

	if (mkdir(opt.hook_queue_dir, 0700) < 0 && errno != EEXIST) {
		log_msg(LOG_ERR, "hook_queue_dir %s: %s", opt.hook_queue_dir, strerror(errno));
		return -1;
	}
	fd = open(opt.hook_queue_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		log_msg(LOG_ERR, "hook_queue_dir %s: %s", opt.hook_queue_dir, strerror(errno));
		return -1;
	}
	rc = check_dir(fd, opt.hook_queue_dir);
	if (rc == 0 && mkdirat(fd, HOOK_FAILED_DIR, 0700) < 0 && errno != EEXIST) {
		log_msg(LOG_ERR, "hook_queue_dir %s/%s: %s", opt.hook_queue_dir, HOOK_FAILED_DIR,
		        strerror(errno));
		rc = -1;
	}
	if (rc == 0) {
		sub = openat(fd, HOOK_FAILED_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = sub < 0 ? -1 : check_dir(sub, HOOK_FAILED_DIR);
		if (sub >= 0)
			close(sub);
	}
	close(fd);
	return rc;
}

static int
setup(pid_t listener)
{
	struct sigaction sa = {.sa_handler = on_term};
	sigset_t term;
	int lock;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, NULL);
	if (sandbox_privileged() && sandbox_lookup(opt.hook_user, &hook_id) < 0) {
		log_msg(LOG_ERR, "hook runner: hook_user %s does not exist", opt.hook_user);
		return -1;
	}
	if (hook_runner_prepare() < 0)
		return -1;
	qfd = open(opt.hook_queue_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	failfd = qfd < 0 ? -1 : openat(qfd, HOOK_FAILED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	lock = qfd < 0 ? -1 : openat(qfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (failfd < 0 || lock < 0) {
		log_msg(LOG_ERR, "hook runner: %s: %s", opt.hook_queue_dir, strerror(errno));
		return -1;
	}
	/* SECURITY: one runner per queue, or two would run each hook. */
	if (flock(lock, LOCK_EX | LOCK_NB) < 0) {
		log_msg(LOG_ERR, "hook runner: another runner holds %s", opt.hook_queue_dir);
		return -1;
	}
	sandbox_hook_runner();
	/* The runner ends with its listener: a daemon started again must
	 * find the queue's lock free. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != listener)
		return -1;
	return 0;
}

int
hook_runner_main(pid_t listener)
{
	long long last_scan;
	sigset_t open_mask;
	int lfd;

	if (setup(listener) < 0 || (lfd = open_socket()) < 0)
		return 1;
	sigemptyset(&open_mask);
	scan();
	last_scan = now_ms();
	log_msg(LOG_INFO, "hook runner: %zu queued event(s) to replay", nqueue);
	while (!stopping) {
		long long wait = RESCAN_MS;
		struct entry *e = run.pid == 0 ? next_due(&wait) : NULL;
		struct pollfd p[3] = {{.fd = lfd, .events = POLLIN},
		                      {.fd = run.pidfd, .events = POLLIN},
		                      {.fd = run.out, .events = POLLIN}};
		struct timespec ts;

		if (e != NULL) {
			start_hook(e);
			continue;
		}
		if (run.pid != 0)
			wait = run.timed_out ? 1000 : run.deadline_ms - now_ms();
		if (wait < 0)
			wait = 0;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		if (ppoll(p, 3, &ts, &open_mask) < 0)
			continue;
		if (p[0].revents & POLLIN)
			take_event(lfd);
		if (p[2].revents)
			read_output(0);
		if (run.pid != 0 && (p[1].revents & POLLIN))
			hook_ended();
		else if (run.pid != 0 && !run.timed_out && now_ms() >= run.deadline_ms) {
			char why[64];

			snprintf(why, sizeof(why), "timed out after %lu s", opt.hook_timeout);
			kill_hook(why);
		}
		if (now_ms() - last_scan >= RESCAN_MS) {
			scan();
			last_scan = now_ms();
		}
	}
	if (run.pid != 0) {
		kill_hook("stopped with the runner");
		hook_ended();
	}
	{
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

		snprintf(path, sizeof(path), "%s/%s", opt.hook_queue_dir, HOOK_SOCKET_NAME);
		unlink(path);
	}
	log_msg(LOG_INFO, "hook runner: stopped, %zu event(s) queued", nqueue);
	return 0;
}
