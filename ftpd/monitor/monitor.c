/* monitor: the per-session privileged monitor (root). It forks the
 * pre-login worker, answers its typed requests (login, connect from port
 * 20, chown), and after a login forks the post-login worker as the target user.
 * It never parses client bytes: at a login the old worker hands over the
 * input it had read but not yet run, and the monitor only carries those
 * bytes, unread, to the new worker's input buffer.
 *
 * TLS across the login (where the login starts a new worker: not on an
 * anonymous-only server, below): an OpenSSL connection cannot move between
 * processes, and the post-login worker is a new process (a new uid). So
 * the pre-login worker, which did AUTH TLS, stays on after the login as a
 * relay: it keeps the client socket and the TLS state and passes plaintext
 * over a socketpair whose other end becomes the post-login worker's
 * control connection. The relay runs as nopriv_user in the empty chroot
 * under the pre-login seccomp filter, and sends close_notify when the
 * session ends. The monitor never sees a TLS record.
 *
 * Who holds the private key (ftp_tls_ctx, made by the listener; each
 * process frees its own copy with tls_ctx_drop once it cannot need it):
 *  - the listener: it forks every session, and rebuilds it on SIGHUP;
 *  - this monitor, for the session's life: it does no TLS itself, but every
 *    worker it forks may (a pre-login worker does AUTH TLS or implicit TLS,
 *    also the fresh one after REIN; a post-login worker may still get AUTH
 *    TLS, and forks DTPs that do PROT P), and a fork is the only way
 *    the key reaches them;
 *  - the pre-login worker, and as the relay for the session's life: each
 *    SSL holds a reference to the key, and TLS 1.3 key updates need none
 *    but OpenSSL cannot drop it from a live connection;
 *  - the post-login worker of a session that did TLS before its login
 *    (it forks the PROT P DTPs). One that logged in in clear frees its
 *    copy at start; AUTH TLS after login (RFC 4217 allows it;
 *    tests/ftp_tls.bats) then asks this monitor for the key, once
 *    (PS_TLS_KEY), and does the handshake itself;
 *  - a DTP only for a PROT P transfer (dtp/dtp.c drops it otherwise).
 *
 * One worker on an anonymous-only server: when the only login the server
 * can grant is the anonymous one (anon_only below), the first worker is
 * forked already as the anonymous user in the anonymous root, under the
 * post-login filter, and serves the whole session: at PASS it asks this
 * monitor, which decides the login as for any worker, and then carries
 * on itself. No second fork, no handoff, no TLS relay (the worker that
 * did AUTH TLS is the one that stays). REIN still starts a fresh worker. */
#include "ftpd/monitor/monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/log.h"
#include "common/core/metrics.h"
#include "common/core/xmalloc.h"
#include "common/io/tls.h"
#include "common/priv/auth.h"
#include "common/priv/listener.h"
#include "common/priv/monitor.h"
#include "common/priv/privsep.h"
#include "common/priv/sandbox.h"
#include "ftpd/ftpaddr.h"
#include "ftpd/monitor/hashcache.h"
#include "ftpd/monitor/hookev.h"
#include "ftpd/monitor/peruser.h"
#include "ftpd/options.h"

#define FTP_MAX_LINE 4096
#define FTP_MAX_NAME 256
/* A worker hands over at most what its line reader can hold unread. */
#define MAX_HANDOFF (256 * 1024)

static struct ftp_session sess;
static pid_t worker;
static int mon_fd = -1;
static struct auth_guard guard;
static struct sandbox_id target;         /* identity after login */
static struct auth_session *pam_session; /* session_support, while logged in */
static int root_fd = -1;                 /* the login's root, until its worker has it */
/* SECURITY: the shared xferlog stays in the monitor; workers send lines
 * (PS_XFERLOG), so none can truncate or rewrite what others logged. */
static int xferlog_fd = -1;
static int key_given; /* PS_TLS_KEY answered for the current worker */
static int direct;    /* the current worker began as the anonymous user (WORKER_ANON) */

/* Accounts every session needs, looked up once by the listener (and again
 * on SIGHUP), not by each session: less work, and no NSS state dirtied in
 * every monitor. known == 0: look it up per session after all. */
static struct {
	struct sandbox_id id;
	int known;
} nopriv_acct, anon_acct;

/* SECURITY: a request the worker should never send (out of state,
 * malformed, oversized) means it is not ours any more: kill it and end the
 * session, never serve it further. */
static void __attribute__((noreturn)) end_session(const char *why, unsigned type)
{
	log_msg(LOG_ERR, "monitor: %s (request %u); ending session", why, type);
	if (worker > 0)
		kill(worker, SIGKILL);
	if (sess.relay > 0)
		kill(sess.relay, SIGKILL);
	monitor_session_end(monitor_wait(worker));
	auth_session_close(pam_session);
	exit(1);
}

void
monitor_prepare(void)
{
	nopriv_acct.known =
	    sandbox_privileged() && sandbox_lookup(opt.nopriv_user, &nopriv_acct.id) == 0;
	anon_acct.known =
	    sandbox_privileged() && sandbox_lookup(opt.ftp_username, &anon_acct.id) == 0;
	hashcache_init();
}

/* Who the pre-login worker and the hasher run as: nopriv_user in the
 * empty secure_chroot_dir. */
static void
nopriv_id(struct sandbox_id *id)
{
	id->uid = getuid();
	id->gid = getgid();
	id->root = opt.secure_chroot_dir;
	id->has_root_fd = 0;
	id->root_fd = -1;
	if (nopriv_acct.known) {
		id->uid = nopriv_acct.id.uid;
		id->gid = nopriv_acct.id.gid;
	} else if (sandbox_privileged() && sandbox_lookup(opt.nopriv_user, id) < 0)
		die("nopriv_user %s does not exist", opt.nopriv_user);
	id->root = opt.secure_chroot_dir;
}

/* HASH and the X* commands: at the download rate of the session. */
static void
handle_hash(const struct ps_msg *m)
{
	struct sandbox_id id;
	unsigned long rate = opt.download_max_rate > 0 ? opt.download_max_rate
	                     : sess.kind == LOGIN_ANON ? opt.anon_max_rate
	                                               : opt.local_max_rate;
	const char *why = NULL;

	if (sess.kind == LOGIN_NONE)
		end_session("hash request before login", m->type);
	nopriv_id(&id);
	if (hashcache_serve(mon_fd, m, &id, rate, &why) < 0)
		end_session(why, m->type);
}

static int
is_anonymous_name(const char *u)
{
	return strcasecmp(u, "anonymous") == 0 || strcasecmp(u, "ftp") == 0;
}

/* Each login starts from the configuration the session began with, so a
 * user_config_dir file of an earlier login (before REIN) leaves nothing.
 * Saved before the first user file only: a copy of every option is dozens
 * of allocations, each writing a heap page the listener's fork still
 * shares (perf of the FTP session row: the monitor's page faults per
 * session fell from 63 to 51 without the copy, where no user file is
 * read). */
static struct conf_saved *base_opt;

static void
restore_base_options(void)
{
	if (base_opt != NULL)
		conf_restore(ftpd_options_table, base_opt);
}

/* user_config_dir: the user's file, applied here in the monitor before the
 * user's worker is forked (which inherits the result); never read by a
 * worker. NULL, or the reason the login is refused. */
static const char *
user_settings(const char *user)
{
	struct buffer err = BUFFER_INIT;
	int rc;

	restore_base_options();
	if (sess.kind == LOGIN_ANON)
		return NULL;
	/* SECURITY: the name becomes a file name in user_config_dir and a
	 * path component through user_sub_token: "..", "a/../b" or "" could
	 * pick another file or another root. */
	if ((opt.user_config_dir[0] != '\0' || opt.user_sub_token[0] != '\0') &&
	    !options_user_name_ok(user)) {
		log_msg(LOG_NOTICE, "login %s refused: the name cannot name a file", user);
		return "Login incorrect.";
	}
	if (base_opt == NULL && opt.user_config_dir[0] != '\0')
		base_opt = conf_save(ftpd_options_table);
	rc = options_user_file(user, 1, &err);
	if (rc < 0)
		log_msg(LOG_ERR, "login %s refused: %s", user, buffer_cstr(&err));
	buffer_free(&err);
	return rc < 0 ? "Login incorrect." : NULL;
}

/* user_sub_token: every occurrence in text becomes the login name. */
static char *
sub_token(const char *text, const char *user)
{
	const char *tok = opt.user_sub_token, *p = text, *hit;
	struct buffer b = BUFFER_INIT;
	char *out;

	if (tok[0] == '\0')
		return xstrdup(text);
	while ((hit = strstr(p, tok)) != NULL) {
		buffer_append(&b, p, (size_t)(hit - p));
		buffer_puts(&b, user);
		p = hit + strlen(tok);
	}
	buffer_puts(&b, p);
	out = xstrdup(buffer_cstr(&b));
	buffer_free(&b);
	return out;
}

/* chroot_local_user, with chroot_list_file's names as its exceptions
 * (vsftpd). 1 or 0, or -1 when the list cannot be read: refused, as an
 * unread list might have named a user who must stay chrooted. */
static int
chroot_wanted(const char *user)
{
	struct vector names = VECTOR_INIT;
	int listed = 0;

	if (opt.chroot_list_enable) {
		if (options_read_names(opt.chroot_list_file, &names) < 0) {
			log_msg(LOG_ERR, "login %s refused: chroot_list_file %s: %s", user,
			        opt.chroot_list_file, strerror(errno));
			return -1;
		}
		listed = options_name_listed(&names, user);
		vector_free(&names);
	}
	return opt.chroot_local_user != listed;
}

/* SECURITY: a chroot whose root the user can write lets the user plant
 * files (/etc/passwd, libraries) the chrooted process may trust. */
static int
root_writable(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return (st->st_mode & S_IWUSR) != 0;
	if (st->st_gid == gid)
		return (st->st_mode & S_IWGRP) != 0;
	return (st->st_mode & S_IWOTH) != 0;
}

/* Work out who the session becomes; NULL on success, else the reason. */
static const char *
settle_identity(const char *user, const char *pam_user)
{
	struct stat st;
	struct passwd *pw;
	const char *acct;
	int jail = sess.kind == LOGIN_ANON ? 1 : chroot_wanted(user);

	if (jail < 0)
		return "Login incorrect.";
	if (sess.kind == LOGIN_ANON)
		acct = opt.ftp_username;
	else if (sess.kind == LOGIN_GUEST)
		acct = opt.guest_username;
	else
		acct = pam_user;
	if (!sandbox_privileged()) {
		target.uid = getuid();
		target.gid = getgid();
	} else if (sess.kind == LOGIN_ANON && anon_acct.known) {
		target = anon_acct.id;
	} else if ((pw = getpwnam(acct)) == NULL) {
		log_msg(LOG_ERR, "login %s: account %s does not exist", user, acct);
		return "Login incorrect.";
	} else {
		target.uid = pw->pw_uid;
		target.gid = pw->pw_gid;
		free(sess.home);
		sess.home = sub_token(pw->pw_dir, user);
	}
	free(sess.root_path);
	if (sess.kind == LOGIN_ANON) {
		sess.root_path = xstrdup(opt.anon_root);
		free(sess.home);
		sess.home = xstrdup("/");
	} else if (jail) {
		if (opt.local_root[0]) {
			free(sess.home);
			sess.home = sub_token(opt.local_root, user);
		}
		sess.root_path = sess.home;
		sess.home = xstrdup("/");
	} else {
		sess.root_path = xstrdup("/");
		if (opt.local_root[0]) {
			free(sess.home);
			sess.home = sub_token(opt.local_root, user);
		}
	}
	/* SECURITY: opened once; the checks below and the worker's chroot
	 * and file tree all use this descriptor, never the path again. */
	if (root_fd >= 0)
		close(root_fd);
	root_fd = open(sess.root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0 || fstat(root_fd, &st) < 0) {
		log_msg(LOG_ERR, "login %s refused: root %s: %s", user, sess.root_path,
		        strerror(errno));
		return "Login directory not available.";
	}
	if (sandbox_privileged() && strcmp(sess.root_path, "/") != 0 &&
	    !opt.allow_writeable_chroot && root_writable(&st, target.uid, target.gid)) {
		log_msg(LOG_ERR, "login %s refused: chroot %s is writable by the user", user,
		        sess.root_path);
		return "Refusing to run with a writable root inside chroot; "
		       "remove write permission from it or set allow_writeable_chroot=YES.";
	}
	return NULL;
}

/* After the password: the quota usage file and a session slot. NULL, or
 * why not (*closing: 421, the session ends; nothing is counted as a
 * failed login). */
static const char *
take_user_limits(const char *user, int *closing)
{
	const char *name = sess.kind == LOGIN_ANON ? "anonymous" : user;
	int rc;

	sess.quota_fd = peruser_usage_open(root_fd, sess.root_path, name);
	if (sess.quota_fd == -2) {
		sess.quota_fd = -1;
		return "Login directory not available.";
	}
	rc = peruser_slot_take(name);
	if (rc == 0)
		return NULL;
	*closing = 1;
	return rc > 0 ? "Too many sessions for this user; try again later."
	              : "Service not available; try again later.";
}

static int
check_login(const char *user, const char *pass, const char **why, int *closing)
{
	char *pam_user = NULL;
	int ok = 0;

	*why = "Login incorrect.";
	if (options_user_refused(user)) {
		/* SECURITY: the worker refused it at USER already; a worker that
		 * did not is not trusted with it. */
		log_msg(LOG_NOTICE, "login %s refused: userlist", user);
	} else if (is_anonymous_name(user) && opt.anonymous_enable) {
		sess.kind = LOGIN_ANON;
		ok = 1;
	} else if ((opt.local_enable || opt.guest_enable) && !is_anonymous_name(user) &&
	           auth_pam(opt.pam_service_name, user, pass, sess.peer_text, &pam_user,
	                    opt.session_support ? &pam_session : NULL) == 0) {
		sess.kind = opt.guest_enable ? LOGIN_GUEST : LOGIN_LOCAL;
		ok = 1;
	}
	if (ok) {
		*why = user_settings(user);
		/* A WORKER_ANON's identity was settled before its fork
		 * (start_worker), and its root is the one checked then. */
		if (*why == NULL && !direct)
			*why = settle_identity(user, pam_user);
		if (*why == NULL)
			*why = take_user_limits(user, closing);
		ok = *why == NULL;
	}
	if (ok) {
		free(sess.login_name);
		sess.login_name = xstrdup(sess.kind == LOGIN_ANON ? "anonymous" : user);
		free(sess.anon_password);
		sess.anon_password = xstrdup(sess.kind == LOGIN_ANON ? pass : "*");
	} else {
		sess.kind = LOGIN_NONE;
		if (sess.quota_fd >= 0)
			close(sess.quota_fd);
		sess.quota_fd = -1;
		auth_session_close(pam_session);
		pam_session = NULL;
	}
	free(pam_user);
	return ok;
}

/* PS_LOGIN: "user\0password\0"; refusals are delayed and counted. */
static void
handle_login(const struct ps_msg *m)
{
	const char *user, *pass, *why;
	int fatal, closing = 0;

	/* SECURITY: the monitor owns the login state: one login per
	 * pre-login worker, none from a logged-in one, none after the
	 * refusal that used up max_login_fails. */
	if (sess.kind != LOGIN_NONE)
		end_session("login request after a login", m->type);
	if (auth_exhausted(&guard))
		end_session("login request after the last refusal", m->type);
	guard.delay_seconds = opt.delay_failed_login;
	guard.max_fails = opt.max_login_fails;
	guard.on_exhausted = listener_report_penalty;
	auth_attempt_begin(&guard);
	if (ps_login_parse(m, FTP_MAX_NAME, &user, &pass) < 0)
		end_session("malformed login request", m->type);
	if (check_login(user, pass, &why, &closing)) {
		log_set_prefix("s=%s c=%s u=%s", sess.id, sess.peer_text, sess.login_name);
		metrics_report(M_LOGINS_OK, METRIC_ADD, 1);
		log_msg(LOG_INFO, "login ok (%s)",
		        sess.kind == LOGIN_ANON    ? "anonymous"
		        : sess.kind == LOGIN_GUEST ? "guest"
		                                   : "local");
		/* A WORKER_ANON goes on as the session: it takes the quota
		 * usage file now, as a post-login worker would by fork. */
		ps_send(mon_fd, PS_OK, NULL, 0, direct ? sess.quota_fd : -1);
		return;
	}
	metrics_report(M_LOGINS_REFUSED, METRIC_ADD, 1);
	if (closing) {
		/* The password was right: no failed login, no delay. */
		ps_login_refuse(mon_fd, PS_REFUSE_CLOSE, why);
		return;
	}
	fatal = auth_attempt_refused(&guard);
	log_msg(LOG_NOTICE, "login refused for %s (%u of %lu)", user, guard.fails,
	        opt.max_login_fails);
	ps_login_refuse(mon_fd, fatal, why);
}

static socklen_t
addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* Connect fd to to within connect_timeout; 0, or -1 with errno set. */
static int
connect_bounded(int fd, const struct sockaddr_storage *to)
{
	struct timespec now, end;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int err = 0, ms;
	socklen_t elen = sizeof(err);

	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)to, addr_len(to)) == 0)
		return fcntl(fd, F_SETFL, 0);
	if (errno != EINPROGRESS)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)opt.connect_timeout;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms =
		    (int)((end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000);
		if (ms <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		int r = poll(&p, 1, ms);

		if (r == 1)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return fcntl(fd, F_SETFL, 0);
}

static void
refuse_data(const char *why)
{
	log_msg(LOG_WARNING, "monitor: refused an active data connection: %s", why);
	ps_send(mon_fd, PS_FAIL, why, strlen(why), -1);
}

/* SECURITY: the only privileged network step. The monitor binds
 * ftp_data_port AND connects, and the worker gets only the connected
 * socket: one holding an unconnected port-20 socket could connect it
 * anywhere or send from port 20 to any host (TCP Fast Open). The target
 * is checked here again, whatever PORT/EPRT checked in the worker: the
 * control connection's peer (any host only with port_promiscuous), never a
 * privileged port or NFS (2049), as vsftpd's privops. */
static void
handle_connect_data(const struct ps_msg *m)
{
	struct sockaddr_storage to, src;
	uint16_t port;
	int fd, on = 1;

	/* SECURITY: only a logged-in session that may use port 20 asks. */
	if (sess.kind == LOGIN_NONE || !opt.connect_from_port_20)
		end_session("data port request out of state", m->type);
	if (m->len != sizeof(to))
		end_session("malformed data connection request", m->type);
	memcpy(&to, m->data, sizeof(to));
	ftpaddr_unmap(&to);
	if (to.ss_family != AF_INET && to.ss_family != AF_INET6)
		end_session("data connection request for no address family", m->type);
	port = ftpaddr_port(&to);
	if (port < 1024 || port == 2049) {
		refuse_data("reserved port");
		return;
	}
	if (!opt.port_promiscuous && !ftpaddr_same_host(&to, &sess.peer)) {
		metrics_report(M_REFUSED_BOUNCE, METRIC_ADD, 1);
		refuse_data("not the control connection's peer");
		return;
	}
	if (to.ss_family != sess.local.ss_family) {
		refuse_data("address family differs from the control connection's");
		return;
	}
	if (!opt.port_promiscuous) {
		to = sess.peer; /* the peer's own address, not the worker's copy */
		if (to.ss_family == AF_INET)
			((struct sockaddr_in *)&to)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&to)->sin6_port = htons(port);
	}
	src = sess.local;
	if (src.ss_family == AF_INET)
		((struct sockaddr_in *)&src)->sin_port = htons((uint16_t)opt.ftp_data_port);
	else
		((struct sockaddr_in6 *)&src)->sin6_port = htons((uint16_t)opt.ftp_data_port);
	fd = socket(src.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&src, addr_len(&src)) < 0) {
		log_msg(LOG_ERR, "bind data port %lu: %s", opt.ftp_data_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		ps_send(mon_fd, PS_FAIL, "bind failed", 11, -1);
		return;
	}
	if (connect_bounded(fd, &to) < 0) {
		log_msg(LOG_NOTICE, "active data connection to port %u: %s", port, strerror(errno));
		close(fd);
		ps_send(mon_fd, PS_FAIL, "connect failed", 14, -1);
		return;
	}
	ps_send(mon_fd, PS_OK, NULL, 0, fd);
	close(fd);
}

/* chown_uploads: only a regular file the session user owns, by fd. */
static void
handle_chown(struct ps_msg *m)
{
	struct passwd *pw = getpwnam(opt.chown_username);
	struct stat st;
	int ok = 0;

	if (m->fd >= 0 && opt.chown_uploads && sess.kind == LOGIN_ANON && pw != NULL &&
	    fstat(m->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == target.uid)
		ok = fchown(m->fd, pw->pw_uid, pw->pw_gid) == 0;
	if (m->fd >= 0)
		close(m->fd);
	ps_send(mon_fd, ok ? PS_OK : PS_FAIL, NULL, 0, -1);
}

static void
open_xferlog(void)
{
	sess.xferlog = opt.xferlog_enable;
	if (!opt.xferlog_enable || xferlog_fd >= 0)
		return;
	xferlog_fd = open(opt.xferlog_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (xferlog_fd < 0)
		log_msg(LOG_ERR, "xferlog %s: %s", opt.xferlog_file, strerror(errno));
}

/* PS_TLS_KEY: a post-login worker of a session that logged in without
 * TLS holds no key (pi/worker.c) until AUTH TLS, when it asks, once. */
static void
handle_tls_key(void)
{
	int fd = -1;

	/* A pre-login worker holds the key it may need for AUTH TLS: it has
	 * no reason to ask. */
	if (sess.kind == LOGIN_NONE)
		end_session("key request before login", PS_TLS_KEY);
	if (!sess.tls && !key_given && ftp_tls_ctx != NULL)
		fd = tls_ctx_export(ftp_tls_ctx);
	key_given = 1;
	if (fd < 0) {
		ps_send(mon_fd, PS_FAIL, "no key", 6, -1);
		return;
	}
	ps_send(mon_fd, PS_OK, NULL, 0, fd);
	close(fd);
}

/* PS_XFERLOG: exactly one line, from a logged-in worker, in one write. */
static void
handle_xferlog(const struct ps_msg *m)
{
	if (sess.kind == LOGIN_NONE || !sess.xferlog)
		end_session("xferlog line out of state", m->type);
	if (m->len == 0 || m->data[m->len - 1] != '\n' ||
	    memchr(m->data, '\n', m->len) != m->data + m->len - 1 ||
	    memchr(m->data, '\0', m->len) != NULL)
		end_session("malformed xferlog line", m->type);
	if (xferlog_fd >= 0 && write(xferlog_fd, m->data, m->len) != (ssize_t)m->len)
		log_msg(LOG_ERR, "xferlog %s: %s", opt.xferlog_file, strerror(errno));
}

/* PS_HOOK: an upload, delete or rename to queue for upload_hook. */
static void
handle_hook(const struct ps_msg *m)
{
	const char *why = NULL;
	int rc;

	if (sess.kind == LOGIN_NONE)
		end_session("hook event before login", m->type);
	rc = hookev_report(m, sess.login_name, sess.peer_text, sess.id, &why);
	if (rc < 0)
		end_session("malformed hook event", m->type);
	if (rc == 0)
		ps_send(mon_fd, PS_FAIL, why, strlen(why), -1);
	else
		ps_send(mon_fd, PS_OK, NULL, 0, -1);
}

static void
spawn_worker(enum worker_kind kind)
{
	int sv[2];

	key_given = 0;

	if (ps_pair(sv) < 0)
		die("socketpair: %s", strerror(errno));
	worker = fork();
	if (worker < 0)
		die("fork: %s", strerror(errno));
	if (worker > 0) {
		close(sv[1]);
		mon_fd = sv[0];
		/* A WORKER_ANON's root stays here until its login: the quota
		 * file and the hook paths hang from it (logged_in_here). */
		if (root_fd >= 0 && kind == WORKER_POSTLOGIN) {
			/* The post-login worker has it; no other worker may. The
			 * monitor keeps a copy of its own to check hook paths. */
			hookev_root(root_fd, sess.root_path);
			close(root_fd);
			root_fd = -1;
		}
		if (sess.quota_fd >= 0) {
			close(sess.quota_fd); /* the post-login worker's alone */
			sess.quota_fd = -1;
		}
		return;
	}
	close(sv[0]);
	if (mon_fd >= 0)
		close(mon_fd);
	if (xferlog_fd >= 0)
		close(xferlog_fd); /* the monitor's alone */
	hookev_forget();
	hashcache_forget(); /* the monitors' alone: see hashcache.c */
	peruser_slot_release();
	metrics_report_close(); /* the monitor's alone */
	sess.monitor = sv[1];
	signal(SIGTERM, SIG_DFL);
	if (kind == WORKER_PRELOGIN) {
		struct sandbox_id id;

		nopriv_id(&id);
		ftp_worker(&sess, &id, kind);
	}
	target.root =
	    sandbox_privileged() && strcmp(sess.root_path, "/") != 0 ? sess.root_path : NULL;
	target.has_root_fd = target.root != NULL;
	target.root_fd = root_fd;
	sess.root_fd = root_fd;
	ftp_worker(&sess, &target, kind);
}

/* SECURITY: whether a session's first worker may be the anonymous user
 * before any login (WORKER_ANON). That worker reads the anonymous root
 * before the monitor said yes to anything, which grants nothing only if
 * every client could have that root anyway: the server grants no login
 * but the anonymous one (no local or virtual users: theirs need a worker
 * of their own identity, so those servers keep the nopriv_user worker
 * for everyone), and userlist_file does not refuse the name "anonymous"
 * (a name any client may type; the password is the client's choice, and
 * the password checks vsftpd ties to it, deny_email_enable and
 * secure_email_list_enable, stop ftpd at start: ftpd/vsftpd.c). What can
 * still refuse an anonymous login is decided here at PS_LOGIN as for
 * any worker: max_sessions_per_user (a session slot), the quota usage
 * file, max_login_fails, logging and metrics; upload_hook, xferlog,
 * port 20 and the key answer only after it. A taken-over WORKER_ANON that
 * skips its login gets none of those and no more of the tree than a
 * logged-in one; it is still one session under max_clients and
 * max_per_ip, as the listener counted it. Read at each worker start:
 * a REIN starts again from the session's own configuration. */
static int
anon_only(void)
{
	return opt.anonymous_enable && !opt.local_enable && !opt.guest_enable &&
	       !options_user_refused("anonymous");
}

/* The first worker of a session, and the fresh one after REIN: as the
 * anonymous user when anon_only (identity and root settled here, as at a
 * login), else nopriv_user. An anonymous root that fails its checks
 * (missing, writable) leaves the session the nopriv_user worker, whose
 * login then refuses with the reason, as it always did. */
static void
start_worker(void)
{
	direct = 0;
	if (anon_only()) {
		sess.kind = LOGIN_ANON; /* what settle_identity settles for */
		direct = settle_identity("anonymous", NULL) == NULL;
		sess.kind = LOGIN_NONE;
		if (!direct && root_fd >= 0) {
			close(root_fd); /* no pre-login worker may hold it */
			root_fd = -1;
		}
	}
	spawn_worker(direct ? WORKER_ANON : WORKER_PRELOGIN);
}

/* A WORKER_ANON's login was granted: it has the quota file (sent with
 * PS_OK) and stays on as the session; the monitor keeps what a post-login
 * worker's fork would have left it. */
static void
logged_in_here(void)
{
	/* Only the anonymous login exists where a WORKER_ANON runs. */
	if (sess.kind != LOGIN_ANON)
		die("monitor: a %d login for an anonymous worker", (int)sess.kind);
	if (sess.quota_fd >= 0) {
		close(sess.quota_fd); /* the worker's alone */
		sess.quota_fd = -1;
	}
	hookev_root(root_fd, sess.root_path);
	close(root_fd);
	root_fd = -1;
	open_xferlog();
}

/* A worker hands over its unread input and exits: after a login (the
 * post-login worker takes over) or on REIN (a fresh pre-login worker). The
 * first chunk may already be in hand. */
static void
take_over(struct ps_msg *first, int postlogin)
{
	struct ps_msg *cur = first, m;
	int status;

	buffer_clear(&sess.ctl.in);
	sess.ctl.consumed = 0;
	for (;;) {
		if (cur == NULL) {
			if (ps_recv(mon_fd, &m) < 0)
				die("monitor: handoff failed");
			cur = &m;
		}
		if (cur->type == PS_HANDOFF_END)
			break;
		if (cur->fd >= 0)
			close(cur->fd);
		if (cur->type != PS_HANDOFF)
			end_session("unexpected request in a handoff", cur->type);
		/* SECURITY: bounded, or a worker could make root allocate. */
		if (sess.ctl.in.len + cur->len > MAX_HANDOFF)
			end_session("handoff over its bound", cur->type);
		buffer_append(&sess.ctl.in, cur->data, cur->len);
		cur = NULL;
	}
	if (cur->len != 3)
		end_session("malformed handoff", cur->type);
	sess.tls = cur->data[0] != 0;
	sess.pbsz = cur->data[1] != 0;
	sess.prot_p = cur->data[2] != 0;
	if (cur->fd >= 0) {
		/* The old worker stays on as the TLS relay; the fd is its
		 * plaintext side, the new worker's control connection. */
		close(sess.ctl.fd);
		sess.ctl.fd = cur->fd;
		cur->fd = -1;
		sess.relay = worker;
	} else
		waitpid(worker, &status, 0);
	close(mon_fd);
	mon_fd = -1;
	if (postlogin)
		open_xferlog();
	else {
		sess.xferlog = 0;
		sess.kind = LOGIN_NONE;
		hookev_forget();
		peruser_slot_release();
		restore_base_options();
		auth_session_close(pam_session);
		pam_session = NULL;
		log_msg(LOG_INFO, "REIN: logged out");
		log_set_prefix("s=%s c=%s u=-", sess.id, sess.peer_text);
	}
	if (postlogin)
		spawn_worker(WORKER_POSTLOGIN);
	else
		start_worker();
}

static void
monitor_loop(void)
{
	struct ps_msg m;
	int status;

	for (;;) {
		if (ps_recv(mon_fd, &m) < 0)
			break;
		/* SECURITY: only a chown request, a hash request and the end of
		 * a handoff carry a descriptor; any other is closed before
		 * anything else runs (and so before a new worker could inherit it). */
		if (m.fd >= 0 && m.type != PS_CHOWN && m.type != PS_HASH &&
		    m.type != PS_HANDOFF_END) {
			close(m.fd);
			m.fd = -1;
		}
		switch (m.type) {
		case PS_LOGIN:
			handle_login(&m);
			if (sess.kind != LOGIN_NONE && direct)
				logged_in_here();
			else if (sess.kind != LOGIN_NONE)
				take_over(NULL, 1);
			break;
		case PS_HANDOFF:
		case PS_HANDOFF_END:
			if (sess.kind == LOGIN_NONE)
				end_session("handoff before login", m.type);
			take_over(&m, 0);
			break;
		case PS_CONNECT_DATA:
			handle_connect_data(&m);
			break;
		case PS_CHOWN:
			handle_chown(&m);
			break;
		case PS_XFERLOG:
			handle_xferlog(&m);
			break;
		case PS_TLS_KEY:
			handle_tls_key();
			break;
		case PS_HOOK:
			handle_hook(&m);
			break;
		case PS_HASH:
			handle_hash(&m);
			break;
		case PS_HASH_ABORT:
			break; /* the hash it meant ended first, and was answered */
		case PS_METRIC:
			if (metrics_report_worker(m.data, m.len) < 0)
				end_session("malformed or foreign metric", m.type);
			break;
		case PS_SECCOMP:
			if (monitor_seccomp_report(&m) < 0)
				end_session("malformed seccomp report", m.type);
			break;
		default:
			end_session("unexpected request", m.type);
		}
		if (m.fd >= 0)
			close(m.fd);
	}
	status = monitor_wait(worker);
	if (sess.relay > 0) {
		close(sess.ctl.fd); /* the relay sees EOF and says close_notify */
		monitor_wait(sess.relay);
	}
	auth_session_close(pam_session);
	monitor_session_end(status);
}

void
ftp_session(int fd, const struct sockaddr_storage *peer, int tag)
{
	socklen_t len = sizeof(sess.local);

	memset(&sess, 0, sizeof(sess));
	sess.implicit_tls = tag == 1;
	sess.privileged = sandbox_privileged();
	if (getrandom(sess.sid_ctx, sizeof(sess.sid_ctx), 0) != sizeof(sess.sid_ctx))
		die("getrandom: %s", strerror(errno));
	conn_init(&sess.ctl, fd, FTP_MAX_LINE, (int)opt.idle_session_timeout * 1000);
	sess.peer = *peer;
	ftpaddr_unmap(&sess.peer);
	getsockname(fd, (struct sockaddr *)&sess.local, &len);
	ftpaddr_unmap(&sess.local);
	listener_addr_text(peer, sess.peer_text, sizeof(sess.peer_text));
	sess.pasv_fd = -1;
	sess.dtp_fd = -1;
	sess.dtp_pidfd = -1;
	sess.quota_fd = -1;
	sess.xferlog = 0;
	sess.umask = opt.local_umask;
	monitor_session_start(sess.id, sess.peer_text);
	/* The monitor outlives its worker: the worker answers SIGTERM with 421. */
	signal(SIGTERM, SIG_IGN);
	/* SECURITY: a ticket resumes only inside its session (sid_ctx), so
	 * each session seals with keys of its own, which no other session's
	 * processes ever map and which end with it. */
	if (ftp_tls_ctx != NULL) {
		struct buffer err = BUFFER_INIT;

		if (tls_tickets_own(&err) < 0)
			log_msg(LOG_ERR, "%s: no TLS session resumption", buffer_cstr(&err));
		buffer_free(&err);
	}
	sandbox_monitor();
	start_worker();
	monitor_loop();
}
