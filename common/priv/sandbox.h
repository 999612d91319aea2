/* sandbox: the one place that talks to the kernel about privilege:
 * identities, chroot, capabilities, no_new_privs, rlimits and seccomp. */
#ifndef POSTEL_SANDBOX_H
#define POSTEL_SANDBOX_H

#include <sys/types.h>

enum sandbox_role {
	SB_FTP_PRELOGIN, /* FTP before login: control connection only */
	SB_FTP_SESSION,  /* FTP after login: files, data sockets, the DTP fork */
	SB_NNTP_SESSION, /* NNTP reader: read the spool, talk to the writer */
	SB_NNTP_WRITER,  /* NNTP writer: change the spool */
	SB_NNTP_FEEDER,  /* NNTP feeder: read the spool and its queue, TCP to one peer */
};

struct sandbox_id {
	uid_t uid;
	gid_t gid;
	const char *root; /* chroot directory, or NULL for none */
	/* With has_root_fd: the chroot is entered through root_fd, the
	 * directory opened (and checked) earlier, not by path again. */
	int has_root_fd, root_fd;
};

/* Whether this process can change identity (root). If not, sessions run
 * as the invoking user, without chroot or uid change. */
int sandbox_privileged(void);
/* Identity of user; 0, or -1 if no such user. */
int sandbox_lookup(const char *user, struct sandbox_id *id);
/* Compile every role's seccomp filter now (the listener, before any
 * session forks); sandbox_worker then only installs it. Dies on failure. */
void sandbox_prepare(void);
/* Become an unprivileged worker: chroot (when privileged and id->root),
 * drop groups, gid, uid, every capability, set no_new_privs and rlimits,
 * then load role's seccomp filter. A refused syscall is reported on
 * report_fd (PS_SECCOMP) and the worker exits. Dies on any failure. */
void sandbox_worker(const struct sandbox_id *id, enum sandbox_role role, int report_fd);
/* A sandboxed worker ends: without the exit handlers (OpenSSL's cleanup,
 * libc's destructors), which only free memory the kernel takes back
 * anyway, and each free writes a page the fork still shares with the
 * listener (perf of the FTP session row: the handlers and the copy-on-write
 * faults of their frees were about 5% of a session's CPU). Replies must
 * already be flushed. Sanitizer builds run the handlers (LeakSanitizer). */
void __attribute__((noreturn)) sandbox_exit(int status);
/* Administration tools run by root: act as id (effective and real
 * uid/gid) while keeping root as the saved uid; sandbox_regain_root()
 * takes it back for one privileged step. 0 or -1. */
int sandbox_act_as(const struct sandbox_id *id);
int sandbox_regain_root(void);
/* fork() for a sandboxed worker's own children (the FTP DTP): 0 in the
 * child, which is under the DTP's filter already (sandbox_enter_dtp's, in
 * the same install as its own pid's); in the parent the pid, with *pidfd
 * a pidfd for it. The role filters allow no kill(): a worker signals only
 * its own children, through sandbox_signal on their pidfds. */
pid_t sandbox_fork(int *pidfd);
/* fork() for a child that will call sandbox_worker at once: a bare clone,
 * without glibc's fork handlers, whose writes to ld.so's and libc's data
 * pages only cost the child private copies of them. For single-threaded
 * parents only. */
pid_t sandbox_fork_worker(void);
int sandbox_signal(int pidfd, int sig);
/* The FTP DTP's narrower filter (no tree changes, no fork, no listening
 * socket, no open for writing), stacked: for a process that did not come
 * from sandbox_fork (the monitor's hasher). */
void sandbox_enter_dtp(void);
/* The monitor keeps only the capabilities in SANDBOX_MONITOR_CAPS. */
void sandbox_monitor(void);
/* The FTP hook runner: uid 0 with only setuid, setgid and kill. */
void sandbox_hook_runner(void);
/* In a hook's child, before exec: become user (id's uid and gid, the
 * user's groups) for good; refuses uid 0. 0 or -1. Unprivileged daemons
 * run hooks as themselves (0, nothing changed). */
int sandbox_hook_child(const char *user, const struct sandbox_id *id);
/* Name of a syscall number on this architecture ("?" if unknown). */
const char *sandbox_syscall_name(int nr);

#endif
