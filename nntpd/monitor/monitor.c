/* monitor: the per-session privileged NNTP monitor (root). It works out
 * the address's access, forks the sandboxed worker (session/), answers its
 * AUTHINFO requests through PAM, makes its writer connections (carrying the
 * session's rights) and logs how the session ended. The worker does TLS and
 * compression itself: the monitor never sees a client byte. */
#include "nntpd/monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/metrics.h"
#include "common/core/xmalloc.h"
#include "common/io/tls.h"
#include "common/priv/auth.h"
#include "common/priv/listener.h"
#include "common/priv/monitor.h"
#include "common/priv/privsep.h"
#include "common/priv/sandbox.h"
#include "nntpd/access.h"
#include "nntpd/options.h"
#include "nntpd/writer/proto.h"

#define NNTP_MAX_LINE 4096
#define NNTP_MAX_NAME 256
#define TEXT_FILE_MAX 65536

static struct nntp_session sess;
static struct auth_guard guard;
static int logged_in;
/* What this session's writer connections may submit: the address's
 * access, then the user's after AUTHINFO. */
static struct writer_rights rights;
/* The address rules' moderator right (the worker has no use for it). */
static int address_may_approve;

/* The rights for the access in r, the peer= rules and user (NULL: none). */
static void
set_rights(const struct access_result *r, const char *user)
{
	wproto_rights_free(&rights);
	rights.may_post = r->can_post;
	rights.may_feed = access_is_peer(&opt.peer, &sess.peer, user);
	rights.may_approve = r->can_approve;
	rights.post_groups = xstrdup(r->post_groups ? r->post_groups : "");
	rights.host = xstrdup(sess.peer_text);
	rights.user = xstrdup(user ? user : "");
	/* SECURITY: the groups a peer may feed travel with the rights, so
	 * the writer enforces them; the worker's word is not asked. */
	rights.feed_groups = access_peer_patterns(&opt.peer, &sess.peer, user);
	if (rights.feed_groups == NULL)
		rights.feed_groups = xstrdup("");
	/* Cut short, a pattern list could lose a ! or @ and widen. */
	if (strlen(rights.feed_groups) > WRITER_MAX_WILDMAT) {
		log_msg(LOG_ERR, "peer= patterns longer than %d bytes: no feeding for %s",
		        WRITER_MAX_WILDMAT, sess.peer_text);
		rights.may_feed = 0;
	}
}

/* After a login: the user rules replace the address's access, as the
 * worker applies them (session/cmd_auth.c). */
static void
set_user_rights(const char *user)
{
	struct access_result r = {sess.can_read, sess.can_post, xstrdup(sess.read_groups),
	                          xstrdup(sess.post_groups), address_may_approve};

	access_lookup_user(&opt.access, user, &r);
	set_rights(&r, user);
	access_result_free(&r);
}

/* PS_WRITER: connect to writer.sock as root, send the rights first, and
 * hand the socket over (PS_FAIL when the writer is unreachable). */
static int
handle_writer(int mon, const struct ps_msg *m)
{
	struct buffer reply = BUFFER_INIT;
	int dirfd, fd = -1, code = -1;

	if (m->len != 0)
		return -1;
	dirfd = open(opt.spool_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0) {
		fd = writer_connect(dirfd);
		close(dirfd);
	}
	if (fd >= 0)
		code = writer_send_rights(fd, &rights, &reply);
	if (code != writer_codes[SUBMIT_RIGHTS].ok) {
		log_msg(LOG_ERR, "writer connection: %s",
		        fd < 0     ? strerror(errno)
		        : code < 0 ? "lost"
		                   : buffer_cstr(&reply));
		if (fd >= 0)
			close(fd);
		buffer_free(&reply);
		return ps_send(mon, PS_FAIL, "writer unavailable", 18, -1) < 0 ? -1 : 0;
	}
	buffer_free(&reply);
	code = ps_send(mon, PS_OK, NULL, 0, fd);
	close(fd);
	return code < 0 ? -1 : 0;
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
	guard.on_exhausted = listener_report_penalty;
	auth_attempt_begin(&guard);
	/* SECURITY: one login per session, none after the last refusal, and
	 * only a well-formed request; the worker checks this too, but it is
	 * the side a client could take over. */
	if (logged_in || auth_exhausted(&guard) ||
	    ps_login_parse(m, NNTP_MAX_NAME, &user, &pass) < 0)
		return -1;
	if (auth_pam(opt.pam_service_name, user, pass, sess.peer_text, &pam_user, NULL) == 0) {
		logged_in = 1;
		set_user_rights(pam_user);
		log_set_prefix("s=%s c=%s u=%s", sess.id, sess.peer_text, pam_user);
		metrics_report(M_LOGINS_OK, METRIC_ADD, 1);
		log_msg(LOG_INFO, "login ok");
		ps_send(mon, PS_OK, pam_user, strlen(pam_user), -1);
		free(pam_user);
		return 0;
	}
	fatal = auth_attempt_refused(&guard);
	metrics_report(M_LOGINS_REFUSED, METRIC_ADD, 1);
	log_msg(LOG_NOTICE, "login refused for %s (%u of %lu)", user, guard.fails,
	        opt.max_login_fails);
	ps_login_refuse(mon, fatal, "Authentication failed");
	return 0;
}

static void
monitor_loop(int mon, pid_t worker)
{
	/* Static for the reason ps_recv's buffer is: a shallow stack while
	 * the session is idle. */
	static struct ps_msg m;

	while (ps_recv(mon, &m) == 0) {
		if (m.fd >= 0)
			close(m.fd);
		if (m.type == PS_LOGIN && handle_login(mon, &m) == 0)
			continue;
		if (m.type == PS_WRITER && handle_writer(mon, &m) == 0)
			continue;
		if (m.type == PS_SECCOMP && monitor_seccomp_report(&m) == 0)
			continue;
		if (m.type == PS_METRIC && metrics_report_worker(m.data, m.len) == 0)
			continue;
		/* SECURITY: anything unexpected ends the session. */
		log_msg(LOG_ERR, "monitor: unexpected request %u; ending session", m.type);
		kill(worker, SIGKILL);
		break;
	}
	monitor_session_end(monitor_wait(worker));
}

/* Who a session runs as, looked up once by the listener (and on SIGHUP):
 * session_user's uid with nopriv_user's group. */
static struct sandbox_id session_id;
static int session_known;

/* SECURITY: sessions own nothing in the spool (the writer's uid does)
 * and read it through the writer's group, so the kernel refuses them any
 * write there, and a local user outside that group reads nothing. */
static int
lookup_session_id(struct sandbox_id *id)
{
	struct sandbox_id owner;

	if (sandbox_lookup(opt.session_user, id) < 0 || sandbox_lookup(opt.nopriv_user, &owner) < 0)
		return -1;
	id->gid = owner.gid;
	return 0;
}

void
monitor_prepare(void)
{
	session_known = sandbox_privileged() && lookup_session_id(&session_id) == 0;
}

/* The motd, the moderators file and the subscriptions are read here, in
 * the monitor before the chroot, because the files usually live outside
 * the spool. */
static char *
read_text_file(const char *path)
{
	struct buffer b = BUFFER_INIT;
	ssize_t n;
	int fd;

	/* open, not fopen: a missing file (the usual case) costs no FILE
	 * and no stdio buffer on the session's heap. */
	if (path == NULL || path[0] == '\0' || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	while (b.len < TEXT_FILE_MAX) {
		n = read(fd, buffer_reserve(&b, 4096), 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buffer_commit(&b, (size_t)n);
	}
	close(fd);
	if (b.len > TEXT_FILE_MAX)
		b.len = TEXT_FILE_MAX;
	return buffer_cstr(&b);
}

static const char *
host_name(void)
{
	static char name[256];

	if (opt.pathhost[0] != '\0')
		return opt.pathhost;
	if (gethostname(name, sizeof(name) - 1) < 0 || name[0] == '\0')
		snprintf(name, sizeof(name), "localhost");
	return name;
}

static void
session_access(struct nntp_session *s)
{
	struct access_result r;

	access_lookup(&opt.access, &s->peer, &r);
	s->can_read = r.can_read;
	s->can_post = r.can_post;
	s->read_groups = r.groups;
	s->post_groups = r.post_groups;
	address_may_approve = r.can_approve;
	s->auth_helps = access_has_user_rules(&opt.access);
	set_rights(&r, NULL);
	s->motd = read_text_file(opt.motd_file);
	s->moderators = read_text_file(opt.moderators_file);
	s->subscriptions = read_text_file(opt.subscriptions_file);
	s->pathhost = xstrdup(host_name());
}

void
nntp_session(int fd, const struct sockaddr_storage *peer, int tag)
{
	int sv[2];
	pid_t worker;

	memset(&sess, 0, sizeof(sess));
	sess.writer = -1;
	sess.implicit_tls = tag == 1;
	conn_init(&sess.c, fd, NNTP_MAX_LINE, (int)opt.idle_session_timeout * 1000);
	sess.peer = *peer;
	listener_addr_text(peer, sess.peer_text, sizeof(sess.peer_text));
	monitor_session_start(sess.id, sess.peer_text);
	session_access(&sess);
	signal(SIGTERM, SIG_IGN);
	sandbox_monitor();
	if (ps_pair(sv) < 0)
		die("socketpair: %s", strerror(errno));
	worker = sandbox_fork_worker();
	if (worker < 0)
		die("fork: %s", strerror(errno));
	if (worker == 0) {
		struct sandbox_id id = {getuid(), getgid(), opt.spool_dir, 0, -1};

		close(sv[0]);
		metrics_report_close(); /* the monitor's alone */
		if (session_known) {
			id.uid = session_id.uid;
			id.gid = session_id.gid;
		} else if (sandbox_privileged() && lookup_session_id(&id) < 0)
			die("session_user %s or nopriv_user %s does not exist", opt.session_user,
			    opt.nopriv_user);
		nntp_worker(&sess, sv[1], &id);
	}
	close(sv[1]);
	close(fd);
	/* SECURITY: the worker does the session's TLS; the monitor forks no
	 * other, so its copy of the key goes now. */
	tls_ctx_drop(&nntp_tls_ctx);
	monitor_loop(sv[0], worker);
}
