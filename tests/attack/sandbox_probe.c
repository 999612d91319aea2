/* sandbox_probe: enter a role's sandbox through the project's own code
 * (sandbox_prepare + sandbox_worker: uid, chroot, no capabilities,
 * no_new_privs, the role's seccomp filter) and try one act per child.
 * Prints "ACT: ok", "ACT: errno NAME" or "ACT: killed by seccomp", and
 * whether a victim (another sandboxed process of the same uid, as another
 * session would be) is still alive afterwards.
 *
 *   sandbox_probe ROLE CHROOT USER ACT...
 *   ROLE: ftp-prelogin | ftp-session | ftp-dtp | nntp-session | nntp-writer |
 *         nntp-feeder | monitor (a session monitor: root, its capabilities
 *         and filter, no uid change; USER is then ignored)
 *
 * Before it forks, the probe sets up the session-ticket keys as a
 * daemon's listener does (tls_tickets_setup), so the ticket-* acts try
 * to read, write, unprotect or punch out the mapping every child gets.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/io/tls.h"
#include "common/priv/sandbox.h"

static pid_t victim;
static volatile unsigned char *tickets; /* the children's mapping of the ring */

/* The read-only shared mapping of the ticket ring, from /proc/self/maps
 * (the listener's own writable one is the other "postel-tickets" line). */
static void
find_tickets(void)
{
	struct buffer err = BUFFER_INIT;
	char line[512];
	FILE *f;

	if (tls_tickets_setup(3600, &err) < 0) {
		fprintf(stderr, "%s\n", buffer_cstr(&err));
		_exit(2);
	}
	f = fopen("/proc/self/maps", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo;
		char perms[8];

		if (strstr(line, "postel-tickets") != NULL &&
		    sscanf(line, "%lx-%*x %7s", &lo, perms) == 2 && strcmp(perms, "r--s") == 0)
			tickets = (volatile unsigned char *)lo;
	}
	if (f != NULL)
		fclose(f);
	buffer_free(&err);
}

static long
act(const char *name)
{
	struct rlimit rl;

	if (strcmp(name, "socket-inet") == 0)
		return socket(AF_INET, SOCK_STREAM, 0);
	if (strcmp(name, "socket-inet6") == 0)
		return socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (strcmp(name, "socket-unix") == 0)
		return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (strcmp(name, "socket-udp") == 0)
		return socket(AF_INET, SOCK_DGRAM, 0);
	if (strcmp(name, "socket-netlink") == 0)
		return socket(AF_NETLINK, SOCK_RAW, 0);
	if (strcmp(name, "socket-packet") == 0)
		return socket(AF_PACKET, SOCK_RAW, 0);
	if (strcmp(name, "fork") == 0 || strcmp(name, "clone-newuser") == 0 ||
	    strcmp(name, "clone-newnet") == 0) {
		unsigned long flags = SIGCHLD;
		long pid;

		if (strcmp(name, "clone-newuser") == 0)
			flags |= CLONE_NEWUSER;
		if (strcmp(name, "clone-newnet") == 0)
			flags |= CLONE_NEWNET;
		pid = syscall(SYS_clone, flags, 0UL, NULL, NULL, 0UL);
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return pid;
	}
	if (strcmp(name, "clone3") == 0) {
		unsigned long long args[11] = {0};

		args[4] = SIGCHLD; /* exit_signal */
		long pid = syscall(SYS_clone3, args, sizeof(args));

		if (pid == 0)
			_exit(0);
		return pid;
	}
	if (strcmp(name, "kill-peer") == 0)
		return kill(victim, SIGKILL);
	if (strcmp(name, "tgkill-peer") == 0)
		return syscall(SYS_tgkill, victim, victim, SIGKILL);
	/* read:PATH and write:PATH, PATH inside the chroot */
	if (strncmp(name, "read:", 5) == 0)
		return openat(AT_FDCWD, name + 5, O_RDONLY | O_CLOEXEC);
	if (strncmp(name, "write:", 6) == 0)
		return openat(AT_FDCWD, name + 6, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (strncmp(name, "create:", 7) == 0)
		return openat(AT_FDCWD, name + 7, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (strncmp(name, "mkdir:", 6) == 0)
		return mkdirat(AT_FDCWD, name + 6, 0755);
	if (strncmp(name, "unlink:", 7) == 0)
		return unlinkat(AT_FDCWD, name + 7, 0);
	if (strcmp(name, "listen") == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		return fd < 0 ? -1 : listen(fd, 1);
	}
	if (strcmp(name, "unshare-user") == 0)
		return unshare(CLONE_NEWUSER);
	if (strcmp(name, "userfaultfd") == 0)
		return syscall(SYS_userfaultfd, 0);
	if (strcmp(name, "bpf") == 0)
		return syscall(SYS_bpf, 0, NULL, 0);
	if (strcmp(name, "prlimit-peer") == 0)
		return prlimit(victim, RLIMIT_NOFILE, NULL, &rl);
	/* nice-self:N (what reader_nice does), and renicing others */
	if (strncmp(name, "nice-self:", 10) == 0)
		return setpriority(PRIO_PROCESS, 0, atoi(name + 10));
	if (strcmp(name, "renice-peer") == 0)
		return setpriority(PRIO_PROCESS, (id_t)victim, 19);
	if (strcmp(name, "renice-pgrp") == 0)
		return setpriority(PRIO_PGRP, 0, 19);
	if (strcmp(name, "renice-user") == 0)
		return setpriority(PRIO_USER, 0, 19);
	if (strcmp(name, "prlimit-self") == 0)
		return getrlimit(RLIMIT_NOFILE, &rl);
	if (strcmp(name, "prctl-dumpable") == 0)
		return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (strcmp(name, "ticket-read") == 0)
		return tickets[0] + 0 >= 0 ? 0 : -1;
	if (strcmp(name, "ticket-write") == 0) {
		tickets[0] ^= 1;
		return 0;
	}
	if (strcmp(name, "ticket-mprotect") == 0)
		return mprotect((void *)tickets, 4096, PROT_READ | PROT_WRITE);
	if (strcmp(name, "ticket-punch") == 0)
		return madvise((void *)tickets, 4096, MADV_REMOVE);
	if (strcmp(name, "abort-self") == 0) {
		abort();
	}
	if (strcmp(name, "signal-child") == 0) {
		int pidfd = -1;
		pid_t pid = sandbox_fork(&pidfd);

		if (pid == 0) {
			for (;;)
				pause();
		}
		if (pid < 0 || sandbox_signal(pidfd, SIGKILL) < 0)
			return -1;
		return waitpid(pid, NULL, 0) == pid ? 0 : -1;
	}
	fprintf(stderr, "unknown act %s\n", name);
	_exit(2);
}

/* As the PI starts a DTP: sandbox_fork, whose child is under the DTP's
 * filter from its first instruction. The acts run in that child; this
 * process ends as it ended. */
static void
become_dtp(void)
{
	int pidfd = -1, status;
	pid_t pid = sandbox_fork(&pidfd);

	if (pid == 0)
		return;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		_exit(1);
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

static void
enter(const char *role, const char *root, const char *user)
{
	struct sandbox_id id = {0, 0, NULL, 0, -1};
	int dtp = strcmp(role, "ftp-dtp") == 0;
	enum sandbox_role r = strcmp(role, "ftp-prelogin") == 0                ? SB_FTP_PRELOGIN
	                      : strcmp(role, "ftp-session") == 0 || dtp        ? SB_FTP_SESSION
	                      : strcmp(role, "nntp-session") == 0 ? SB_NNTP_SESSION
	                      : strcmp(role, "nntp-writer") == 0  ? SB_NNTP_WRITER
	                                                          : SB_NNTP_FEEDER;

	/* USER or USER:GROUP (the group's gid, as NNTP sessions get the
	 * writer's group) */
	char name[64];
	const char *colon = strchr(user, ':');

	snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - user) : (int)strlen(user), user);
	if (strcmp(role, "monitor") == 0) {
		sandbox_monitor();
		return;
	}
	if (sandbox_lookup(name, &id) < 0) {
		fprintf(stderr, "no user %s\n", name);
		_exit(2);
	}
	if (colon != NULL) {
		struct group *g = getgrnam(colon + 1);

		if (g == NULL) {
			fprintf(stderr, "no group %s\n", colon + 1);
			_exit(2);
		}
		id.gid = g->gr_gid;
	}
	id.root = root;
	sandbox_worker(&id, r, -1);
	if (dtp)
		become_dtp();
}

int
main(int argc, char **argv)
{
	int hold[2];

	if (argc < 5) {
		fprintf(stderr, "usage: sandbox_probe ROLE CHROOT USER ACT...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
#if defined(__SANITIZE_ADDRESS__)
	/* The sanitizer runtime needs clone, kill and ptrace: the filters
	 * are relaxed for it, so this build proves nothing about them. */
	puts("build: sanitized");
	return 3;
#endif
	sandbox_prepare();
	find_tickets();
	if (tickets == NULL) {
		fprintf(stderr, "no read-only ticket mapping\n");
		return 2;
	}
	if (pipe(hold) < 0)
		return 1;
	victim = fork();
	if (victim == 0) {
		char c;

		close(hold[1]);
		enter(argv[1], argv[2], argv[3]);
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(hold[0]);
	for (int i = 4; i < argc; i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			long rc;

			enter(argv[1], argv[2], argv[3]);
			rc = act(argv[i]);
			if (rc < 0)
				printf("%s: errno %s\n", argv[i], strerrorname_np(errno));
			else
				printf("%s: ok\n", argv[i]);
			_exit(0);
		}
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGSYS)
			printf("%s: killed by seccomp\n", argv[i]);
		else if (WIFSIGNALED(status))
			printf("%s: died of signal %s\n", argv[i], sigabbrev_np(WTERMSIG(status)));
		printf("%s: victim %s\n", argv[i],
		       waitpid(victim, &status, WNOHANG) == 0 ? "alive" : "dead");
	}
	close(hold[1]);
	waitpid(victim, NULL, 0);
	return 0;
}
