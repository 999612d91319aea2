/* sandbox: identity changes and the per-role seccomp allow-lists. Each
 * syscall a role needs is listed next to the reason it is needed. */
#include "common/priv/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "common/priv/privsep.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* clang-format off */
/* Capabilities the per-session monitor keeps after fork. */
static const cap_value_t monitor_caps[] = {
	CAP_SETUID,	      /* become the logged-in or nopriv user */
	CAP_SETGID,	      /* and its group */
	CAP_SYS_CHROOT,	      /* chroot the worker */
	CAP_NET_BIND_SERVICE, /* bind port 20 for active mode */
	CAP_CHOWN,	      /* chown_uploads */
	CAP_KILL,	      /* end a worker running under another uid */
	CAP_AUDIT_WRITE,      /* PAM modules that write audit records */
	CAP_DAC_READ_SEARCH,  /* PAM reads shadow, pam_userdb databases */
	CAP_AUDIT_CONTROL,    /* PAM sessions: pam_loginuid sets the login uid */
};

/* Every worker: memory, time, signals, the monitor channel, exit. */
static const char *const sys_base[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "lseek",
	"poll", "ppoll", "pselect6", "select",			/* waiting on sockets */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", /* malloc */
	"futex", "rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "sigaltstack",
	"restart_syscall", "exit", "exit_group",
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getppid",
	"tgkill", /* abort() on a broken invariant */
	"sendmsg", "recvmsg", "sendto", "recvfrom", /* monitor channel, replies */
	"fstat", "newfstatat", "statx", "fcntl", "getrandom", "shutdown",
	"setsockopt", "getsockopt", "getsockname", "getpeername",
	"uname", "alarm", "setitimer", "getrlimit", "prlimit64",
	"faccessat", "faccessat2", /* access() checks: no effect beyond a stat */
};

/* FTP before login: the TLS relay's socketpair, made at the login. */
static const char *const sys_ftp_prelogin[] = {
	"socketpair",
};

/* FTP after login: the file tree, data connections, forking the DTP. */
static const char *const sys_ftp_session[] = {
	"openat", "openat2", "getdents64", "mkdirat", "unlinkat", "renameat", "renameat2",
	"fchmod", "fchmodat", "utimensat", "ftruncate", "fsync", "fdatasync", "fadvise64",
	"sendfile", "splice", "pipe2", "dup", "dup2", "dup3", "umask", "readlinkat",
	"socket", "bind", "listen", "accept", "accept4", "connect", /* data sockets */
	"clone", "clone3", "wait4", "kill", "set_robust_list", "rseq", /* the DTP */
	"prctl", /* the DTP's parent-death signal */
	"faccessat", "faccessat2", "fchmodat2", /* fs_chdir search check, SITE CHMOD */
};

/* NNTP reader: read articles and indexes, connect to the writer. */
static const char *const sys_nntp_session[] = {
	"openat", "getdents64", "sendfile", "socket", "connect", "fchdir", "readlinkat",
	"dup", "dup2", "dup3",
};

/* NNTP writer: everything that changes the spool. */
static const char *const sys_nntp_writer[] = {
	"openat", "getdents64", "mkdirat", "unlinkat", "renameat", "renameat2", "linkat",
	"ftruncate", "fsync", "fdatasync", "fallocate", "flock", "socket", "bind", "listen",
	"accept", "accept4", "connect", "fchmod", "fchmodat", "umask", "dup", "dup2", "dup3",
	"fchdir", "sendfile", "readlinkat",
	"unlink", "rename", "mkdir", "rmdir", "link", "chmod", "open", "stat", "lstat",
	"access", /* glibc's path calls that have no *at form underneath */
};

/* Sanitizer runtimes reading their own state and printing reports. */
static const char *const sys_sanitizer[] = {
	"readlink", "readlinkat", "openat", "open", "sched_yield", "prctl", "getdents64",
	"clone", "wait4", "ptrace", "sched_getaffinity", "pipe2", "dup", "dup2", "dup3",
	"set_robust_list", "rseq", "clone3", "munlock", "mlock", "access", "faccessat",
	"ioctl", /* isatty() before printing a report */
};

/* clang-format on */

static int report_fd = -1;

static void
sigsys_handler(int sig, siginfo_t *si, void *ctx)
{
	int nr = si->si_syscall;

	(void)sig;
	(void)ctx;
	if (report_fd >= 0)
		ps_send(report_fd, PS_SECCOMP, &nr, sizeof(nr), -1);
	else {
		/* No monitor (the writer): say it on stderr, async-signal-safely. */
		char msg[64] = "seccomp: refused syscall ";
		size_t n = strlen(msg), d = 0;
		char digits[12];

		do
			digits[d++] = (char)('0' + nr % 10);
		while ((nr /= 10) > 0 && d < sizeof(digits));
		while (d > 0)
			msg[n++] = digits[--d];
		msg[n++] = '\n';
		if (write(STDERR_FILENO, msg, n) < 0) {
			/* nothing more to do */
		}
	}
	_exit(128 + SIGSYS);
}

int
sandbox_sanitized(void)
{
	return SANITIZED;
}

int
sandbox_privileged(void)
{
	return geteuid() == 0;
}

int
sandbox_lookup(const char *user, struct sandbox_id *id)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL)
		return -1;
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	return 0;
}

const char *
sandbox_syscall_name(int nr)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s", name ? name : "?");
	free(name);
	return buf;
}

static void
allow_list(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		/* A syscall this architecture lacks needs no rule. */
		if (nr == __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			die("seccomp: cannot allow %s", names[i]);
	}
}

#define ALLOW(ctx, list) allow_list(ctx, list, sizeof(list) / sizeof(list[0]))

/* Build role's filter with libseccomp. */
static scmp_filter_ctx
build_filter(enum sandbox_role role)
{
	/* SECURITY: anything not listed traps; the handler reports and exits. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);

	if (ctx == NULL)
		die("seccomp_init failed");
	ALLOW(ctx, sys_base);
	switch (role) {
	case SB_FTP_PRELOGIN:
		ALLOW(ctx, sys_ftp_prelogin);
		break;
	case SB_FTP_SESSION:
		ALLOW(ctx, sys_ftp_session);
		break;
	case SB_NNTP_SESSION:
		ALLOW(ctx, sys_nntp_session);
		break;
	case SB_NNTP_WRITER:
		ALLOW(ctx, sys_nntp_writer);
		break;
	}
	if (SANITIZED)
		ALLOW(ctx, sys_sanitizer);
	return ctx;
}

/* Each role's filter compiled to BPF once, before sessions fork, so a
 * session only installs it (libseccomp's compile is a tenth of a
 * session's CPU). */
#define ROLES (SB_NNTP_WRITER + 1)
static struct sock_fprog compiled[ROLES];

void
sandbox_prepare(void)
{
	for (int role = 0; role < ROLES; role++) {
		scmp_filter_ctx ctx = build_filter((enum sandbox_role)role);
		int fd = memfd_create("seccomp", MFD_CLOEXEC);
		struct stat st;
		void *bpf;

		if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0 || fstat(fd, &st) < 0 ||
		    st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) != 0)
			die("seccomp: cannot compile the filters");
		bpf = xmalloc((size_t)st.st_size);
		if (pread(fd, bpf, (size_t)st.st_size, 0) != st.st_size)
			die("seccomp: cannot read the compiled filter");
		close(fd);
		seccomp_release(ctx);
		compiled[role].filter = bpf;
		compiled[role].len =
		    (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	}
}

static void
load_seccomp(enum sandbox_role role)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	if (compiled[role].filter != NULL) {
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &compiled[role]) < 0)
			die("seccomp: %s", strerror(errno));
		return;
	}
	scmp_filter_ctx ctx = build_filter(role);

	if (seccomp_load(ctx) < 0)
		die("seccomp_load failed");
	seccomp_release(ctx);
}

static void
drop_caps(const cap_value_t *keep, int n)
{
	cap_t caps = cap_init();

	if (caps == NULL)
		die("cap_init: %s", strerror(errno));
	if (n > 0 && (cap_set_flag(caps, CAP_PERMITTED, n, keep, CAP_SET) < 0 ||
	              cap_set_flag(caps, CAP_EFFECTIVE, n, keep, CAP_SET) < 0))
		die("cap_set_flag: %s", strerror(errno));
	if (cap_set_proc(caps) < 0)
		die("cap_set_proc: %s", strerror(errno));
	cap_free(caps);
}

static void
set_limits(void)
{
	struct rlimit core = {0, 0};
	struct rlimit files = {256, 256};

	setrlimit(RLIMIT_CORE, &core); /* no core files with session data */
	setrlimit(RLIMIT_NOFILE, &files);
	if (!SANITIZED) {
		struct rlimit as = {1UL << 30, 1UL << 30};

		setrlimit(RLIMIT_AS, &as);
	}
}

void
sandbox_worker(const struct sandbox_id *id, enum sandbox_role role, int fd)
{
	report_fd = fd;
	if (sandbox_privileged()) {
		/* SECURITY: the chroot is the wall around every path a client names. */
		if (id->root != NULL && (chroot(id->root) < 0 || chdir("/") < 0))
			die("chroot %s: %s", id->root, strerror(errno));
		if (setgroups(0, NULL) < 0 || setresgid(id->gid, id->gid, id->gid) < 0 ||
		    setresuid(id->uid, id->uid, id->uid) < 0)
			die("cannot become uid %u: %s", (unsigned)id->uid, strerror(errno));
		if (setuid(0) == 0)
			die("uid change is reversible: refusing to run");
	}
	drop_caps(NULL, 0);
	/* The worker dies with its monitor; set after the uid change, which clears it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("no_new_privs: %s", strerror(errno));
	set_limits();
	load_seccomp(role);
}

void
sandbox_monitor(void)
{
	if (!sandbox_privileged())
		return;
	/* Bounding set too, so nothing the monitor execs could regain more. */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		int keep = 0;

		for (size_t i = 0; i < sizeof(monitor_caps) / sizeof(monitor_caps[0]); i++)
			keep |= monitor_caps[i] == c;
		if (!keep && cap_get_bound(c) > 0)
			cap_drop_bound(c);
	}
	drop_caps(monitor_caps, (int)(sizeof(monitor_caps) / sizeof(monitor_caps[0])));
}

unsigned long long
sandbox_monitor_capmask(void)
{
	unsigned long long m = 0;

	for (size_t i = 0; i < sizeof(monitor_caps) / sizeof(monitor_caps[0]); i++)
		m |= 1ULL << monitor_caps[i];
	return m;
}

int
sandbox_act_as(const struct sandbox_id *id)
{
	if (setgroups(0, NULL) < 0 || setresgid(id->gid, id->gid, 0) < 0 ||
	    setresuid(id->uid, id->uid, 0) < 0)
		return -1;
	return 0;
}

int
sandbox_regain_root(void)
{
	return seteuid(0);
}
