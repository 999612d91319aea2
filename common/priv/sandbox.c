/* sandbox: identity changes and the per-role seccomp allow-lists. Each
 * syscall a role needs is listed next to the reason it is needed. */
#include "common/priv/sandbox.h"

#include <errno.h>
#include <fcntl.h>
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
#include <sys/syscall.h>
#include <sys/socket.h>
#include <stddef.h>
#include <sched.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/metrics.h"
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

/* Capabilities the FTP hook runner keeps (it stays uid 0, owner of the
 * hook queue; root without these can do no more than any user there). */
static const cap_value_t runner_caps[] = {
	CAP_SETUID, /* run each hook as hook_user */
	CAP_SETGID, /* with hook_user's groups */
	CAP_KILL,   /* kill a hook's process group at hook_timeout */
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
	"tgkill", "tkill", /* abort() on a broken invariant: own pid only (self_filter) */
	"sendmsg", "recvmsg", "sendto", "recvfrom", /* monitor channel, replies */
	"fstat", "newfstatat", "statx", "fcntl", "getrandom", "shutdown",
	"setsockopt", "getsockopt", "getsockname", "getpeername",
	"uname", "alarm", "setitimer", "getrlimit",
	"faccessat", "faccessat2", /* access() checks: no effect beyond a stat */
};

/* FTP before login: the TLS relay's socketpair, made at the login. */
static const char *const sys_ftp_prelogin[] = {
	"socketpair",
};

/* FTP after login: the file tree, data connections, forking the DTP. */
static const char *const sys_ftp_session[] = {
	"openat", "openat2", "getdents64", "mkdirat", "unlinkat", "renameat", "renameat2",
	"fchmod", "fchmodat", "ftruncate", "fsync", "fdatasync", "fadvise64",
	"sendfile", "splice", "pipe2", "dup", "dup2", "dup3", "umask", "readlinkat",
	"bind", "listen", "accept", "accept4", "connect", /* data sockets (socket: below) */
	"wait4", "pidfd_send_signal", "set_robust_list", "rseq", /* the DTP (clone: below) */
	"faccessat", "faccessat2", "fchmodat2", /* fs_chdir search check, SITE CHMOD */
	"syncfs", /* upload_fsync into a directory the user may not read (no fd to fsync) */
	"fstatfs", /* AVBL (fstatvfs on an O_PATH directory fd) */
	"fsetxattr", /* MFCT: the creation-time attribute of an opened file */
	"fchdir", "lgetxattr", /* the MLSx create fact: read by name from a listed directory */
	"socketpair", /* REIN under TLS: the TLS relay's plaintext pair (pi/monreq.c) */
	/* utimensat: allow_utimensat, below */
};

/* NNTP reader: read articles and indexes, connect to the writer. */
static const char *const sys_nntp_session[] = {
	"getdents64", "sendfile", "connect", "fchdir", "readlinkat",
	"dup", "dup2", "dup3", /* socket: AF_UNIX only, openat: read-only, below */
	"sysinfo", /* glibc's qsort of over 1 KiB asks the memory size once (NEWNEWS) */
};

/* NNTP writer: everything that changes the spool. */
static const char *const sys_nntp_writer[] = {
	"openat", "getdents64", "mkdirat", "unlinkat", "renameat", "renameat2", "linkat",
	"ftruncate", "fsync", "fdatasync", "fallocate", "flock", "bind", "listen",
	"accept", "accept4", "connect", "fchmod", "fchmodat", "umask", "dup", "dup2", "dup3",
	"fchdir", "sendfile", "readlinkat",
	"syncfs", /* group commit: one sync makes a whole batch of articles durable */
	"unlink", "rename", "mkdir", "rmdir", "link", "chmod", "open", "stat", "lstat",
	"access", /* glibc's path calls that have no *at form underneath */
	"sysinfo", /* glibc's qsort of over 1 KiB asks the memory size once (rebuild) */
};

/* The FTP DTP, stacked on the post-login worker's filter: it moves bytes
 * between the descriptors the PI gave it and lists directories, and may
 * change nothing in the tree, fork nothing and listen on nothing. */
static const char *const deny_ftp_dtp[] = {
	"clone", "fork", "vfork", "execve", "execveat",
	"mkdirat", "mkdir", "unlinkat", "unlink", "rmdir", "renameat", "renameat2", "rename",
	"linkat", "link", "symlinkat", "symlink", "fchmodat", "fchmodat2", "fchmod", "chmod",
	"fchownat", "fchown", "chown", "lchown", "utimensat", "utimes", "futimesat", "umask",
	"ftruncate", "truncate", "bind", "listen", "socketpair",
	"fsetxattr", "setxattr", "lsetxattr", "fremovexattr", "removexattr", "lremovexattr",
};

/* A session monitor (root with a few capabilities, running PAM): the
 * kernel's most dangerous doors stay shut whatever a PAM module or a bug
 * does. EPERM, not a trap: a module's failed call is its own error. */
static const char *const deny_monitor[] = {
	"unshare", "setns", "mount", "umount2", "pivot_root", "ptrace", "process_vm_readv",
	"process_vm_writev", "bpf", "perf_event_open", "userfaultfd", "init_module",
	"finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon",
	"swapoff", "open_by_handle_at", "iopl", "ioperm", "acct", "settimeofday",
	"clock_settime", "sethostname", "setdomainname",
};

/* Sanitizer runtimes reading their own state and printing reports. */
static const char *const sys_sanitizer[] = {
	"readlink", "readlinkat", "openat", "open", "sched_yield", "prctl", "getdents64",
	"clone", "wait4", "ptrace", "sched_getaffinity", "pipe2", "dup", "dup2", "dup3",
	"set_robust_list", "rseq", "munlock", "mlock", "access", "faccessat", "kill",
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

/* One argument comparison, every field named (libseccomp's SCMP_An
 * macros leave datum_b out, which clang's -Wextra refuses). */
#define ARG(n_, op_, a_, b_)                                                                       \
	((struct scmp_arg_cmp){.arg = (n_), .op = (op_), .datum_a = (a_), .datum_b = (b_)})

static void
rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
     const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr != __NR_SCMP_ERROR && seccomp_rule_add_array(ctx, action, nr, n, cmp) < 0)
		die("seccomp: cannot add a rule for %s", name);
}

/* SECURITY: socket() only for family, of one type (flags aside). */
static void
allow_socket(scmp_filter_ctx ctx, int family, int type)
{
	const struct scmp_arg_cmp cmp[2] = {
	    ARG(0, SCMP_CMP_EQ, (scmp_datum_t)family, 0),
	    ARG(1, SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)(SOCK_NONBLOCK | SOCK_CLOEXEC) & 0xffffffffu,
	        (scmp_datum_t)type),
	};

	rule(ctx, SCMP_ACT_ALLOW, "socket", 2, cmp);
}

/* SECURITY: openat() that can only read: no write access, create,
 * truncate or append (the spool is the writer's). */
static void
allow_read_only_open(scmp_filter_ctx ctx)
{
	/* O_TMPFILE includes O_DIRECTORY: only its own bit is refused. */
	const scmp_datum_t write_flags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND |
	                                 (O_TMPFILE & ~(scmp_datum_t)O_DIRECTORY);
	const struct scmp_arg_cmp ro = ARG(2, SCMP_CMP_MASKED_EQ, write_flags, 0);

	rule(ctx, SCMP_ACT_ALLOW, "openat", 1, &ro);
}

#define NAMESPACE_FLAGS                                                                            \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |             \
	 CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME | CLONE_PIDFD | CLONE_VM | CLONE_THREAD)

/* Rules every role shares: prlimit64 on the caller only; clone3 (whose
 * flags live in memory a filter cannot read) answers ENOSYS, so libc
 * falls back to clone. */
static void
base_rules(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp self = ARG(0, SCMP_CMP_EQ, 0, 0);

	rule(ctx, SCMP_ACT_ALLOW, "prlimit64", 1, &self);
	rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
}

/* SECURITY: a worker forks only a plain child (the DTP), never into new
 * namespaces; CLONE_PIDFD only as sandbox_fork asks for it. */
static void
allow_fork(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp plain =
	    ARG(0, SCMP_CMP_MASKED_EQ, NAMESPACE_FLAGS & ~(scmp_datum_t)CLONE_PIDFD, 0);
	const struct scmp_arg_cmp pdeath = ARG(0, SCMP_CMP_EQ, PR_SET_PDEATHSIG, 0);
	const struct scmp_arg_cmp filter = ARG(0, SCMP_CMP_EQ, PR_SET_SECCOMP, 0);

	rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &plain);
	/* Of what prctl does, only the DTP's parent-death signal and the
	 * child's own filter (a filter can only take away). */
	rule(ctx, SCMP_ACT_ALLOW, "prctl", 1, &pdeath);
	rule(ctx, SCMP_ACT_ALLOW, "prctl", 1, &filter);
}

/* SECURITY: utimensat in the two forms the PI uses and no other. A filter
 * cannot read the path string, so RESOLVE_IN_ROOT (fs.c) and the chroot
 * keep it inside the root; what the filter holds is the rest: a name is
 * taken relative to a directory fd (never AT_FDCWD: bit 31 of dirfd
 * clear) and never through a final symlink (flags exactly
 * AT_SYMLINK_NOFOLLOW: fs_utimes for MFMT and MDTM); without a name,
 * only on an open fd with flags 0 (futimens of an upload being resumed). */
static void
allow_utimensat(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp named[3] = {
	    ARG(0, SCMP_CMP_MASKED_EQ, 0x80000000u, 0),
	    ARG(1, SCMP_CMP_NE, 0, 0),
	    ARG(3, SCMP_CMP_MASKED_EQ, 0xffffffffu, AT_SYMLINK_NOFOLLOW),
	};
	const struct scmp_arg_cmp fd_only[3] = {
	    ARG(0, SCMP_CMP_MASKED_EQ, 0x80000000u, 0),
	    ARG(1, SCMP_CMP_EQ, 0, 0),
	    ARG(3, SCMP_CMP_MASKED_EQ, 0xffffffffu, 0),
	};

	rule(ctx, SCMP_ACT_ALLOW, "utimensat", 3, named);
	rule(ctx, SCMP_ACT_ALLOW, "utimensat", 3, fd_only);
}

/* SECURITY: setpriority of the caller itself only (reader_nice); the
 * kernel lets a process without CAP_SYS_NICE only lower its priority. */
static void
allow_own_priority(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp self[2] = {
	    ARG(0, SCMP_CMP_EQ, PRIO_PROCESS, 0),
	    ARG(1, SCMP_CMP_EQ, 0, 0),
	};

	rule(ctx, SCMP_ACT_ALLOW, "setpriority", 2, self);
}

/* Build role's filter with libseccomp. */
static scmp_filter_ctx
build_filter(enum sandbox_role role)
{
	/* SECURITY: anything not listed traps; the handler reports and exits. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);

	if (ctx == NULL)
		die("seccomp_init failed");
	ALLOW(ctx, sys_base);
	base_rules(ctx);
	switch (role) {
	case SB_FTP_PRELOGIN:
		ALLOW(ctx, sys_ftp_prelogin);
		break;
	case SB_FTP_SESSION:
		ALLOW(ctx, sys_ftp_session);
		allow_utimensat(ctx);
		allow_socket(ctx, AF_INET, SOCK_STREAM);
		allow_socket(ctx, AF_INET6, SOCK_STREAM);
		allow_fork(ctx);
		break;
	case SB_NNTP_SESSION:
		ALLOW(ctx, sys_nntp_session);
		allow_own_priority(ctx);
		/* SECURITY: sessions reach the writer only; no network sockets. */
		allow_socket(ctx, AF_UNIX, SOCK_STREAM);
		allow_read_only_open(ctx);
		break;
	case SB_NNTP_WRITER:
		ALLOW(ctx, sys_nntp_writer);
		allow_socket(ctx, AF_UNIX, SOCK_STREAM);
		break;
	case SB_NNTP_FEEDER:
		/* The writer's file calls (the queue's done-offset is replaced
		 * by rename), and TCP to its peer instead of the local socket.
		 * A tls feed's STARTTLS needs nothing more: its SSL_CTX and CA
		 * certificates are loaded before the chroot (nntpd/main.c
		 * feeder_tls), and OpenSSL as a client then only reads and
		 * writes the socket, polls, sets O_NONBLOCK (fcntl), takes the
		 * time and getrandom, all in sys_base (nntp_feedtls.bats runs
		 * it under this filter). */
		ALLOW(ctx, sys_nntp_writer);
		allow_socket(ctx, AF_INET, SOCK_STREAM);
		allow_socket(ctx, AF_INET6, SOCK_STREAM);
		break;
	}
	if (SANITIZED)
		ALLOW(ctx, sys_sanitizer);
	return ctx;
}

/* Each role's filter compiled to BPF once, before sessions fork, so a
 * session only installs it (libseccomp's compile is a tenth of a
 * session's CPU). */
#define ROLES (SB_NNTP_FEEDER + 1)
static struct sock_fprog compiled[ROLES];
/* Instructions in load_self_filter's part, kept free in front of each
 * compiled program. */
enum { SELF_LEN = 11 };

/* A filter that allows all but names (action for those), plus, for the
 * DTP, every open that could write and clone into namespaces. */
static scmp_filter_ctx
build_deny(const char *const *names, size_t n, uint32_t action, int no_write_open)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (ctx == NULL)
		die("seccomp_init failed");
	for (size_t i = 0; i < n; i++)
		rule(ctx, action, names[i], 0, NULL);
	if (no_write_open) {
		static const scmp_datum_t bits[] = {O_WRONLY, O_RDWR,   O_CREAT,
		                                    O_TRUNC,  O_APPEND, O_TMPFILE & ~O_DIRECTORY};

		for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
			const struct scmp_arg_cmp c = ARG(2, SCMP_CMP_MASKED_EQ, bits[i], bits[i]);

			rule(ctx, action, "openat", 1, &c);
		}
	} else {
		/* The monitor forks plain workers, never into namespaces. */
		static const scmp_datum_t ns[] = {CLONE_NEWUSER,  CLONE_NEWNS,  CLONE_NEWNET,
		                                  CLONE_NEWPID,   CLONE_NEWIPC, CLONE_NEWUTS,
		                                  CLONE_NEWCGROUP};

		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			const struct scmp_arg_cmp c = ARG(0, SCMP_CMP_MASKED_EQ, ns[i], ns[i]);

			rule(ctx, action, "clone", 1, &c);
		}
	}
	return ctx;
}

static struct sock_fprog compiled_dtp, compiled_monitor;
/* libseccomp's answer, asked once: a child asking again faulted in
 * libseccomp's code pages for one constant (smaps of an idle NNTP worker:
 * 56 KiB of its text resident, for this call alone). */
static uint32_t native_arch;

static void
compile(scmp_filter_ctx ctx, struct sock_fprog *out)
{
	int fd = memfd_create("seccomp", MFD_CLOEXEC);
	struct stat st;
	struct sock_filter *bpf;

	/* A binary tree of syscall numbers, not libseccomp's default linear
	 * chain: at every install the kernel runs the filter once per syscall
	 * number to build its cache (seccomp_cache_prepare, under the
	 * siglock), and with a chain that walk was most of the install. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		die("seccomp: cannot ask for the binary-tree filter");
	if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0)
		die("seccomp: cannot compile the filters");
	/* Room in front for load_self_filter's part, so the two go in as
	 * one program without a copy in the child. */
	bpf = xmalloc(SELF_LEN * sizeof(struct sock_filter) + (size_t)st.st_size);
	if (pread(fd, bpf + SELF_LEN, (size_t)st.st_size, 0) != st.st_size)
		die("seccomp: cannot read the compiled filter");
	close(fd);
	seccomp_release(ctx);
	out->filter = bpf + SELF_LEN;
	out->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
}

static void
install(const struct sock_fprog *prog, const char *what)
{
	/* Sanitizer runtimes clone and ptrace (as sys_sanitizer allows):
	 * those builds run without the deny filters; the plain build has them. */
	if (SANITIZED)
		return;
	if (prog->filter != NULL && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog) < 0)
		die("seccomp (%s): %s", what, strerror(errno));
}

void
sandbox_enter_dtp(void)
{
	install(&compiled_dtp, "DTP");
}

void
sandbox_prepare(void)
{
	native_arch = seccomp_arch_native();
	for (int role = 0; role < ROLES; role++)
		compile(build_filter((enum sandbox_role)role), &compiled[role]);
	compile(build_deny(deny_ftp_dtp, sizeof(deny_ftp_dtp) / sizeof(deny_ftp_dtp[0]),
	                   SCMP_ACT_TRAP, 1),
	        &compiled_dtp);
	compile(build_deny(deny_monitor, sizeof(deny_monitor) / sizeof(deny_monitor[0]),
	                   SCMP_ACT_ERRNO(EPERM), 0),
	        &compiled_monitor);
}

/* SECURITY: a filter of this process's own, before the role's (which is
 * compiled once for every session, so it cannot know the pid): tgkill and
 * tkill (abort, raise) only at this process. With kill() in no role, a
 * worker cannot signal another session running as the same uid.
 *
 * then, when given, goes in the same install, after this part: each
 * install costs the kernel a check, a conversion and a JIT of its own
 * (perf of the FTP session row: 5 installs, 7% of ftpd's CPU). Where this
 * part would allow, then decides, as a stacked filter would; where it
 * traps, the trap is the answer, as stacked, since no role or deny list
 * answers tgkill or tkill more harshly (the roles allow them, the deny
 * lists do not name them). then must come from compile(), which leaves
 * SELF_LEN free slots in front of it for this part. */
static void
load_self_filter(const struct sock_fprog *then)
{
	const uint32_t pid = (uint32_t)getpid();
	const uint32_t arch = native_arch != 0 ? native_arch : seccomp_arch_native();
	const uint32_t lo = offsetof(struct seccomp_data, args[0]);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint32_t a0_lo = lo, a0_hi = lo + 4;
#else
	const uint32_t a0_lo = lo + 4, a0_hi = lo;
#endif
	const int chained = then != NULL && then->filter != NULL;
	const struct sock_filter f[SELF_LEN] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 7),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 1, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tkill, 0, 4),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, a0_lo),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, pid, 0, 3),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, a0_hi),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
	    /* allowed by this part: on to then's first instruction */
	    chained ? (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0)
	            : (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	};
	struct sock_fprog prog = {SELF_LEN, (struct sock_filter *)f};

	if (chained) {
		prog.filter = then->filter - SELF_LEN;
		prog.len = (unsigned short)(SELF_LEN + then->len);
		memcpy(prog.filter, f, sizeof(f));
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		die("seccomp (own filter): %s", strerror(errno));
}

pid_t
sandbox_fork(int *pidfd)
{
	int fd = -1;
	long pid = syscall(SYS_clone, (unsigned long)(CLONE_PIDFD | SIGCHLD), 0UL, &fd, 0UL, 0UL);

	if (pid > 0)
		*pidfd = fd;
	if (pid == 0) {
		/* The parent's held counts are the parent's to send. */
		metrics_report_forget();
		/* The child's own filter names the child's pid; the DTP's
		 * deny list rides in the same install. */
		load_self_filter(SANITIZED ? NULL : &compiled_dtp);
	}
	return (pid_t)pid;
}

pid_t
sandbox_fork_worker(void)
{
	/* OpenSSL notices the fork by its pid (a new DRBG seed), not by an
	 * atfork handler, so TLS in the child is as after fork(). */
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, NULL, NULL, 0UL);

	if (pid == 0)
		metrics_report_forget(); /* the parent's held counts are its own */
	return pid;
}

int
sandbox_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0U);
}

static void
load_seccomp(enum sandbox_role role)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	if (compiled[role].filter != NULL)
		load_self_filter(&compiled[role]);
	else {
		scmp_filter_ctx ctx = build_filter(role);

		load_self_filter(NULL);
		if (seccomp_load(ctx) < 0)
			die("seccomp_load failed");
		seccomp_release(ctx);
	}
}

static void
drop_caps(const cap_value_t *keep, int n)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	for (int i = 0; i < n; i++) {
		unsigned word = (unsigned)keep[i] / 32, bit = (unsigned)keep[i] % 32;

		if (word >= _LINUX_CAPABILITY_U32S_3)
			die("capability %d out of range", keep[i]);
		data[word].permitted |= 1U << bit;
		data[word].effective |= 1U << bit;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		die("capset: %s", strerror(errno));
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
		/* SECURITY: the chroot is the wall around every path a client
		 * names. Entered through the directory opened and checked
		 * before (fchdir, then chroot "."), so a path swapped for a
		 * symlink meanwhile cannot redirect it. */
		if (id->has_root_fd) {
			if (fchdir(id->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
				die("chroot %s: %s", id->root ? id->root : "(fd)", strerror(errno));
			close(id->root_fd);
		} else if (id->root != NULL && (chroot(id->root) < 0 || chdir("/") < 0))
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
		/* Dropping one already gone does no harm: one prctl, no read
		 * first (EINVAL: a capability this kernel does not have). */
		if (!keep)
			(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	}
	drop_caps(monitor_caps, (int)(sizeof(monitor_caps) / sizeof(monitor_caps[0])));
	/* SECURITY: the monitor's own filter (deny_monitor); no_new_privs,
	 * which a filter needs without CAP_SYS_ADMIN, also keeps anything a
	 * PAM module execs from gaining privilege. */
	if (compiled_monitor.filter != NULL && !SANITIZED) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			die("no_new_privs: %s", strerror(errno));
		install(&compiled_monitor, "monitor");
	}
}

void
sandbox_hook_runner(void)
{
	if (!sandbox_privileged())
		return;
	/* The bounding set stays: a hook may run setuid helpers (sudo, a
	 * mail command), as any job of hook_user's could. */
	drop_caps(runner_caps, (int)(sizeof(runner_caps) / sizeof(runner_caps[0])));
}

int
sandbox_hook_child(const char *user, const struct sandbox_id *id)
{
	if (!sandbox_privileged())
		return 0;
	/* SECURITY: all three uids and gids, so nothing the hook runs can
	 * take root back; refused outright for uid 0. */
	if (id->uid == 0 || initgroups(user, id->gid) < 0 ||
	    setresgid(id->gid, id->gid, id->gid) < 0 || setresuid(id->uid, id->uid, id->uid) < 0)
		return -1;
	if (setuid(0) == 0)
		return -1;
	return 0;
}

void
sandbox_exit(int status)
{
	metrics_report_flush(); /* what it held (metrics_report_hold) */
#if defined(__SANITIZE_ADDRESS__)
	exit(status);
#else
	_exit(status);
#endif
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
