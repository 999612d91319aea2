/* session: the NNTP monitor. It forks the sandboxed worker (news user,
 * chrooted to the spool, read-only there) and logs how the session ended. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "options.h"
#include "privsep.h"
#include "sandbox.h"
#include "xmalloc.h"

#define NNTP_MAX_LINE 4096

static struct nntp_session sess;

static const char *
outcome(int status)
{
	static char text[64];

	if (WIFSIGNALED(status))
		snprintf(text, sizeof(text), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(text, sizeof(text), "exit %d", WEXITSTATUS(status));
	return text;
}

static void
monitor_loop(int mon, pid_t worker)
{
	struct ps_msg m;
	int status = 0, nr;

	while (ps_recv(mon, &m) == 0) {
		if (m.fd >= 0)
			close(m.fd);
		if (m.type == PS_SECCOMP && m.len == sizeof(int)) {
			memcpy(&nr, m.data, sizeof(nr));
			log_msg(LOG_ERR, "worker killed by seccomp: syscall %s (%d) not allowed",
				sandbox_syscall_name(nr), nr);
			continue;
		}
		/* SECURITY: anything unexpected ends the session. */
		log_msg(LOG_ERR, "monitor: unexpected request %u; ending session", m.type);
		kill(worker, SIGKILL);
		break;
	}
	while (waitpid(worker, &status, 0) < 0 && errno == EINTR)
		;
	log_msg(LOG_INFO, "session end: %s", outcome(status));
}

static volatile sig_atomic_t status_wanted;

/* SIGTERM (the daemon is stopping): say so, unless TLS is on (a plaintext
 * line would corrupt the stream), and go. */
static void
on_sigterm(int sig)
{
	static const char bye[] = "400 Server shutting down\r\n";

	(void)sig;
	if (sess.c.ssl == NULL && write(sess.c.fd, bye, sizeof(bye) - 1) < 0) {
		/* The client is gone already. */
	}
	_exit(0);
}

static void
on_sigusr1(int sig)
{
	(void)sig;
	status_wanted = 1;
}

/* SIGUSR1 to the listener (or nntpd -s): one line about this session. */
static void
log_status(void)
{
	if (!status_wanted)
		return;
	status_wanted = 0;
	log_msg(LOG_INFO, "status: %s, group %s, article %llu", sess.user ? sess.user : "-",
		sess.group ? sess.group : "-", (unsigned long long)sess.current);
}

static void
run_worker(int mon)
{
	struct sandbox_id id = {getuid(), getgid(), opt.spool_dir};

	sess.monitor = mon;
	if (sandbox_privileged() && sandbox_lookup(opt.nopriv_user, &id) < 0)
		die("nopriv_user %s does not exist", opt.nopriv_user);
	/* Opened before the chroot, so the same fd serves both modes. */
	sess.spoolfd = open(opt.spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sess.spoolfd < 0)
		die("spool_dir %s: %s", opt.spool_dir, strerror(errno));
	sandbox_worker(&id, SB_NNTP_SESSION, mon);
	signal(SIGTERM, on_sigterm);
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigusr1;
		sigaction(SIGUSR1, &sa, NULL);
	}
	netio_signal_hook = log_status;
	commands_run(&sess);
	exit(0);
}

void
nntp_session(int fd, const struct sockaddr_storage *peer, int tag)
{
	unsigned char rnd[3];
	int sv[2];
	pid_t worker;

	(void)tag;
	memset(&sess, 0, sizeof(sess));
	conn_init(&sess.c, fd, NNTP_MAX_LINE, (int)opt.idle_session_timeout * 1000);
	sess.peer = *peer;
	listener_addr_text(peer, sess.peer_text, sizeof(sess.peer_text));
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	snprintf(sess.id, sizeof(sess.id), "%02x%02x%02x%04x", rnd[0], rnd[1], rnd[2],
		 (unsigned)getpid() & 0xffff);
	log_set_prefix("s=%s c=%s u=-", sess.id, sess.peer_text);
	log_msg(LOG_INFO, "session start");
	session_access(&sess);
	signal(SIGTERM, SIG_IGN);
	sandbox_monitor();
	if (ps_pair(sv) < 0)
		die("socketpair: %s", strerror(errno));
	worker = fork();
	if (worker < 0)
		die("fork: %s", strerror(errno));
	if (worker == 0) {
		close(sv[0]);
		run_worker(sv[1]);
	}
	close(sv[1]);
	close(fd);
	monitor_loop(sv[0], worker);
}
