/* session: the NNTP monitor. It forks the sandboxed worker (news user,
 * chrooted to the spool, read-only there), answers its AUTHINFO requests
 * through PAM, and logs how the session ended. The worker does TLS and
 * compression itself: the monitor never sees a client byte. */
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

#include "auth.h"
#include "listener.h"
#include "log.h"
#include "options.h"
#include "privsep.h"
#include "sandbox.h"
#include "xmalloc.h"

#define NNTP_MAX_LINE 4096
#define NNTP_MAX_NAME 256

SSL_CTX *nntp_tls_ctx;

static struct nntp_session sess;
static struct auth_guard guard;
static int logged_in;

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

/* PS_LOGIN: "user\0password\0" checked by PAM; refusals delayed and
 * counted. -1: a request the worker should never have sent. */
static int
handle_login(int mon, const struct ps_msg *m)
{
	const char *user, *pass;
	char *pam_user = NULL;
	int fatal;

	guard.delay_seconds = opt.delay_failed_login;
	guard.max_fails = opt.max_login_fails;
	auth_attempt_begin(&guard);
	/* SECURITY: one login per session, none after the last refusal, and
	 * only a well-formed request; the worker checks this too, but it is
	 * the side a client could take over. */
	if (logged_in || auth_exhausted(&guard) ||
	    ps_login_parse(m, NNTP_MAX_NAME, &user, &pass) < 0)
		return -1;
	if (auth_pam(opt.pam_service_name, user, pass, sess.peer_text, &pam_user) == 0) {
		logged_in = 1;
		log_set_prefix("s=%s c=%s u=%s", sess.id, sess.peer_text, pam_user);
		log_msg(LOG_INFO, "login ok");
		ps_send(mon, PS_OK, pam_user, strlen(pam_user), -1);
		free(pam_user);
		return 0;
	}
	fatal = auth_attempt_refused(&guard);
	log_msg(LOG_NOTICE, "login refused for %s (%u of %lu)", user, guard.fails,
	        opt.max_login_fails);
	ps_login_refuse(mon, fatal, "Authentication failed");
	return 0;
}

static void
monitor_loop(int mon, pid_t worker)
{
	struct ps_msg m;
	int status = 0, nr;

	while (ps_recv(mon, &m) == 0) {
		if (m.fd >= 0)
			close(m.fd);
		if (m.type == PS_LOGIN && handle_login(mon, &m) == 0)
			continue;
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

/* nopriv_user, looked up once by the listener (and on SIGHUP). */
static struct sandbox_id nopriv_id;
static int nopriv_known;

void
session_prepare(void)
{
	nopriv_known = sandbox_privileged() && sandbox_lookup(opt.nopriv_user, &nopriv_id) == 0;
}

static volatile sig_atomic_t status_wanted;

/* SIGTERM (the daemon is stopping): say so, unless TLS or compression is
 * on (a plaintext line would corrupt the stream), and go. */
static void
on_sigterm(int sig)
{
	static const char bye[] = "400 Server shutting down\r\n";

	(void)sig;
	if (conn_is_plain(&sess.c) && write(sess.c.fd, bye, sizeof(bye) - 1) < 0) {
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
	if (nopriv_known) {
		id.uid = nopriv_id.uid;
		id.gid = nopriv_id.gid;
	} else if (sandbox_privileged() && sandbox_lookup(opt.nopriv_user, &id) < 0)
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

	memset(&sess, 0, sizeof(sess));
	sess.implicit_tls = tag == 1;
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

int
session_login(struct nntp_session *s, const char *user, const char *pass, int *fatal)
{
	struct buffer who = BUFFER_INIT;

	if (ps_login(s->monitor, user, pass, fatal, &who) < 0) {
		buffer_free(&who);
		return -1;
	}
	free(s->user);
	s->user = buffer_cstr(&who) ? xstrdup(buffer_cstr(&who)) : NULL;
	buffer_free(&who);
	if (s->user == NULL || s->user[0] == '\0')
		die("monitor: login without a user name");
	log_set_prefix("s=%s c=%s u=%s", s->id, s->peer_text, s->user);
	return 0;
}
