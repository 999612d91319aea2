/* hookev: upload hook events, the monitor's side (monitor/hookev.h). Runs
 * as root in the session's monitor.
 *
 * The worker names only the kind and the path it sees; every fact the hook
 * is told is the monitor's own: the real path (the session's root, opened
 * at login, and the path resolved beneath it without a symlink), the size
 * (fstat), the user, the client and the session. The record goes to the
 * hook runner, which acks once it is on disk; if the runner cannot be
 * reached (restarting, killed), the monitor writes the queue file itself
 * (it is root, like the queue's owner), and the runner replays it. Either
 * way the worker hears PS_OK only once the event is durable, so its 226
 * follows the queueing and never the hook. */
#include "ftpd/monitor/hookev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "ftpd/hook/event.h"
#include "ftpd/options.h"

#define ACK_TIMEOUT_MS 5000 /* the runner fsyncs before it acks */
#define MAX_FIELDS 3

static int root = -1;
static char *root_real;

void
hookev_root(int root_fd, const char *root_path)
{
	hookev_forget();
	root = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	root_real = xstrdup(root_path);
}

void
hookev_forget(void)
{
	if (root >= 0)
		close(root);
	root = -1;
	free(root_real);
	root_real = NULL;
}

/* SECURITY: rel opened beneath the session's root, through no symlink
 * and no "..": a worker cannot make the hook see a file outside its tree
 * (O_PATH: nothing of the file is opened, only named). */
static int
beneath(const char *rel, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(O_PATH | O_NOFOLLOW | O_CLOEXEC | flags),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, root, rel[0] ? rel : ".", &how, sizeof(how));
}

static const char *
open_error(void)
{
	return errno == EXDEV   ? "outside the session's root"
	       : errno == ELOOP ? "through a symbolic link"
	                        : strerror(errno);
}

/* The path relative to the root, or NULL when it is not absolute. */
static const char *
relative(const char *vpath)
{
	if (vpath[0] != '/')
		return NULL;
	while (*vpath == '/')
		vpath++;
	return vpath;
}

/* An uploaded or renamed file: a regular file inside the root. */
static const char *
check_file(const char *vpath, uint64_t *size)
{
	const char *rel = relative(vpath), *why = NULL;
	struct stat st;
	int fd;

	if (rel == NULL || rel[0] == '\0')
		return "not a file's path";
	if ((fd = beneath(rel, 0)) < 0)
		return open_error();
	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else
		*size = (uint64_t)st.st_size;
	close(fd);
	return why;
}

/* A deleted file, or a renamed one's old name: gone from a directory
 * inside the root. */
static const char *
check_gone(const char *vpath)
{
	const char *rel = relative(vpath), *why = NULL, *name;
	struct stat st;
	char *dir;
	int fd;

	if (rel == NULL || rel[0] == '\0')
		return "not a file's path";
	dir = xstrdup(rel);
	name = strrchr(dir, '/');
	if (name != NULL)
		*(char *)name++ = '\0';
	else {
		name = rel;
		dir[0] = '\0';
	}
	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		why = "not a file's path";
	else if ((fd = beneath(dir, O_DIRECTORY)) < 0)
		why = open_error();
	else {
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			why = "the file still exists";
		close(fd);
	}
	free(dir);
	return why;
}

static char *
real_path(const char *vpath)
{
	size_t n = strlen(root_real);

	return xasprintf("%s%s%s", root_real, n > 0 && root_real[n - 1] == '/' ? "" : "/",
	                 relative(vpath));
}

/* Through the runner, which acks once the record is durable. 0 or -1. */
static int
to_runner(const struct buffer *rec)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd p;
	char ack = 0;
	int fd, ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", opt.hook_queue_dir, HOOK_SOCKET_NAME);
	errno = 0;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	     send(fd, buffer_head(rec), rec->len, MSG_NOSIGNAL) == (ssize_t)rec->len &&
	     poll(&p, 1, ACK_TIMEOUT_MS) == 1 && recv(fd, &ack, 1, 0) == 1 && ack == HOOK_ACK;
	if (!ok && errno == 0)
		errno = EPROTO;
	close(fd);
	return ok ? 0 : -1;
}

static const char *
queue_event(const struct hook_event *ev)
{
	struct buffer rec = BUFFER_INIT;
	const char *why = NULL;
	int dirfd;

	if (hook_event_encode(ev, &rec) < 0) {
		buffer_free(&rec);
		return "a path too long to report";
	}
	if (to_runner(&rec) < 0) {
		log_msg(LOG_NOTICE, "hook runner unreachable (%s): the monitor queues the event",
		        strerror(errno));
		dirfd = open(opt.hook_queue_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0 || hook_queue_write(dirfd, &rec) < 0) {
			log_msg(LOG_ERR, "hook event: cannot queue in %s: %s", opt.hook_queue_dir,
			        strerror(errno));
			why = "the event could not be queued";
		}
		if (dirfd >= 0)
			close(dirfd);
	}
	buffer_free(&rec);
	return why;
}

/* Split "a\0b\0[c\0]" into f; the count, or -1 if malformed. */
static int
split(const struct ps_msg *m, const char *f[MAX_FIELDS])
{
	size_t off = 0;
	int n = 0;

	if (m->len == 0 || m->data[m->len - 1] != '\0')
		return -1;
	while (off < m->len) {
		if (n == MAX_FIELDS)
			return -1;
		f[n++] = m->data + off;
		off += strlen(m->data + off) + 1;
	}
	return n;
}

int
hookev_report(const struct ps_msg *m, const char *user, const char *client, const char *session,
              const char **why)
{
	struct hook_event ev = {.user = (char *)user,
	                        .client = (char *)client,
	                        .session = (char *)session,
	                        .old_path = ""};
	const char *f[MAX_FIELDS];
	int n = split(m, f), kind = n < 0 ? -1 : options_hook_kind(f[0], strlen(f[0]));

	/* SECURITY: the worker says what happened and where, nothing else
	 * (no size, no user): a field more is a worker that is not ours. */
	if (kind < 0 || n != (kind == HOOK_RENAME ? 3 : 2) || root < 0)
		return -1;
	*why = NULL;
	if (!options_hook_wanted((enum hook_kind)kind))
		*why = "no hook for this event";
	else if (kind == HOOK_DELETE)
		*why = check_gone(f[1]);
	else
		*why = check_file(f[1], &ev.size);
	if (*why == NULL && kind == HOOK_RENAME && (*why = check_gone(f[2])) == NULL)
		ev.old_path = real_path(f[2]);
	if (*why == NULL) {
		ev.kind = (enum hook_kind)kind;
		ev.queued = (uint64_t)time(NULL);
		ev.path = real_path(f[1]);
		*why = queue_event(&ev);
		free(ev.path);
	}
	if (ev.old_path[0] != '\0')
		free(ev.old_path);
	if (*why != NULL) {
		log_msg(LOG_WARNING, "hook event refused: %s %s: %s", f[0], f[1], *why);
		return 0;
	}
	log_msg(LOG_INFO, "hook event queued: %s %s", f[0], f[1]);
	return 1;
}
