/* pi: the protocol interpreter. One command table drives dispatch, arity,
 * login state, FEAT and HELP; each handler is one command. */
#include "pi.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dtp.h"
#include "ftpaddr.h"
#include "listing.h"
#include "log.h"
#include "number.h"
#include "options.h"
#include "sandbox.h"
#include "xferlog.h"
#include "xmalloc.h"

#define UNKNOWN_BEFORE_LOGIN_MAX 20

static struct listing_idcache idcache;
static struct listing_opts list_opts;

void
reply(struct ftp_session *s, int code, const char *fmt, ...)
{
	va_list ap;

	conn_printf(&s->ctl, "%d ", code);
	va_start(ap, fmt);
	buffer_vprintf(&s->ctl.out, fmt, ap);
	va_end(ap);
	conn_append(&s->ctl, "\r\n", 2);
}

/* A path inside a 257 reply: '"' doubled (RFC 959 appendix II). */
static void
reply_257(struct ftp_session *s, const char *vpath, const char *what)
{
	conn_printf(&s->ctl, "257 \"");
	for (const char *p = vpath; *p; p++) {
		if (*p == '"')
			conn_append(&s->ctl, "\"", 1);
		if (*p == '\n')
			conn_append(&s->ctl, "\0", 1); /* RFC 959: LF in a path is sent as NUL */
		else
			conn_append(&s->ctl, p, 1);
	}
	conn_printf(&s->ctl, "\" %s\r\n", what);
}

static int
is_anon(const struct ftp_session *s)
{
	return s->kind == LOGIN_ANON;
}

/* Resolve a client path argument to a virtual path in out. */
static int
resolve(struct ftp_session *s, const char *arg, struct buffer *out)
{
	if (fs_resolve(&s->fs, NULL, arg, out) < 0) {
		reply(s, 553, "File name too long.");
		return -1;
	}
	return 0;
}

static void
reply_errno(struct ftp_session *s, int code, const char *what)
{
	const char *why = errno == ENOENT	? "No such file or directory"
			  : errno == EEXIST	? "File exists"
			  : errno == ENOTEMPTY ? "Directory not empty"
			  : errno == EACCES || errno == EPERM ? "Permission denied"
			  : errno == ENOTDIR			 ? "Not a directory"
			  : errno == EISDIR			 ? "Is a directory"
						 : strerror(errno);

	reply(s, code, "%s: %s.", what, why);
}

/* End the session: replies out, TLS closed with close_notify. */
static void __attribute__((noreturn))
pi_exit(struct ftp_session *s)
{
	conn_flush(&s->ctl);
	if (s->ctl.ssl != NULL)
		tls_close(s->ctl.ssl);
	exit(0);
}

/* ---- login and session commands ---- */

/* SECURITY: with ssl_enable, passwords of real accounts never cross the
 * wire in clear (force_local_logins_ssl); anonymous sessions use TLS only
 * when allow_anon_ssl says so. */
static int
login_allowed_over(struct ftp_session *s, const char *user)
{
	int anon = strcasecmp(user, "anonymous") == 0 || strcasecmp(user, "ftp") == 0;

	if (!opt.ssl_enable)
		return 1;
	if (anon && s->tls && !opt.allow_anon_ssl) {
		log_msg(LOG_NOTICE, "refused anonymous login over TLS (allow_anon_ssl=NO)");
		reply(s, 530, "Anonymous sessions may not use encryption.");
		return 0;
	}
	if (!anon && !s->tls && opt.force_local_logins_ssl) {
		log_msg(LOG_NOTICE, "refused plaintext login for %s: AUTH TLS required", user);
		reply(s, 530, "Non-anonymous sessions must use encryption (AUTH TLS).");
		return 0;
	}
	return 1;
}

static void
cmd_user(struct ftp_session *s, const char *arg)
{
	if (s->kind != LOGIN_NONE) {
		reply(s, 530, "Can't change to another user.");
		return;
	}
	free(s->user);
	s->user = xstrdup(arg);
	if ((strcasecmp(arg, "anonymous") == 0 || strcasecmp(arg, "ftp") == 0) &&
	    !opt.anonymous_enable) {
		reply(s, 530, "This FTP server does not allow anonymous logins.");
		free(s->user);
		s->user = NULL;
		return;
	}
	if (!login_allowed_over(s, arg)) {
		free(s->user);
		s->user = NULL;
		return;
	}
	reply(s, 331, "Please specify the password.");
}

static void
cmd_pass(struct ftp_session *s, const char *arg)
{
	struct buffer why = BUFFER_INIT;
	int fatal;

	if (s->kind != LOGIN_NONE) {
		reply(s, 230, "Already logged in.");
		return;
	}
	if (s->user == NULL) {
		reply(s, 503, "Login with USER first.");
		return;
	}
	if (session_login(s, s->user, arg, &fatal, &why) == 0)
		session_handoff(s);
	reply(s, 530, "%s", buffer_cstr(&why));
	buffer_free(&why);
	free(s->user);
	s->user = NULL;
	if (fatal)
		pi_exit(s);
}

static void
cmd_acct(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, 202, "ACCT not needed at this site.");
}

static void
cmd_rein(struct ftp_session *s, const char *arg)
{
	(void)arg;
	if (s->kind == LOGIN_NONE) {
		free(s->user);
		s->user = NULL;
		reply(s, 220, "%s", opt.ftpd_banner);
		return;
	}
	/* The monitor starts a fresh pre-login worker, which greets again. */
	session_handoff(s);
}

static void
cmd_quit(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, 221, "Goodbye.");
	pi_exit(s);
}

static void
cmd_noop(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, 200, "NOOP ok.");
}

static void
cmd_syst(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, 215, "UNIX Type: L8");
}

static void
cmd_host(struct ftp_session *s, const char *arg)
{
	if (s->kind != LOGIN_NONE || s->user != NULL) {
		reply(s, 503, "HOST must come before USER.");
		return;
	}
	for (const char *p = arg; *p; p++)
		if (!(((unsigned char)*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == ':' ||
		      *p == '[' || *p == ']')) {
			reply(s, 501, "Bad host name.");
			return;
		}
	reply(s, 220, "Host accepted.");
}

static void
cmd_opts(struct ftp_session *s, const char *arg)
{
	if (strcasecmp(arg, "UTF8 ON") == 0 || strcasecmp(arg, "UTF8") == 0) {
		reply(s, 200, "Always in UTF8 mode.");
	} else if (strncasecmp(arg, "MLST", 4) == 0 && (arg[4] == ' ' || arg[4] == '\0')) {
		struct buffer facts = BUFFER_INIT;

		s->mlst_facts = listing_mlst_opts(arg + 4 + (arg[4] == ' '), &facts);
		reply(s, 200, "MLST OPTS %s", buffer_cstr(&facts));
		buffer_free(&facts);
	} else
		reply(s, 501, "Option not understood.");
}

/* ---- TLS (RFC 4217) ---- */

static int
start_tls(struct ftp_session *s)
{
	s->ctl.ssl = tls_accept(ftp_tls_ctx, s->ctl.fd, 30000, s->sid_ctx, sizeof(s->sid_ctx));
	if (s->ctl.ssl == NULL)
		return -1;
	s->tls = 1;
	return 0;
}

static void
cmd_auth(struct ftp_session *s, const char *arg)
{
	if (!opt.ssl_enable || ftp_tls_ctx == NULL) {
		reply(s, 502, "TLS is not enabled on this server.");
		return;
	}
	if (s->tls) {
		reply(s, 503, "Already using TLS.");
		return;
	}
	if (strcasecmp(arg, "TLS") != 0 && strcasecmp(arg, "SSL") != 0 &&
	    strcasecmp(arg, "TLS-C") != 0 && strcasecmp(arg, "TLS-P") != 0) {
		reply(s, 504, "Unknown AUTH type.");
		return;
	}
	reply(s, 234, "Proceed with negotiation.");
	conn_flush(&s->ctl);
	/* SECURITY: whatever the client pipelined in clear after AUTH is
	 * dropped, never run as if it had come through TLS. */
	conn_drop_input(&s->ctl);
	if (start_tls(s) < 0) {
		log_msg(LOG_NOTICE, "AUTH TLS handshake failed; closing");
		exit(0);
	}
}

static void
cmd_pbsz(struct ftp_session *s, const char *arg)
{
	if (!s->tls) {
		reply(s, 503, "PBSZ needs AUTH TLS first.");
		return;
	}
	s->pbsz = 1;
	reply(s, 200, "PBSZ=0%s", strcmp(arg, "0") == 0 ? "" : " (only 0 is used)");
}

static void
cmd_prot(struct ftp_session *s, const char *arg)
{
	if (!s->tls || !s->pbsz) {
		reply(s, 503, "PROT needs AUTH TLS and PBSZ first.");
	} else if (strcasecmp(arg, "P") == 0) {
		s->prot_p = 1;
		reply(s, 200, "PROT now Private.");
	} else if (strcasecmp(arg, "C") == 0) {
		if (s->kind != LOGIN_ANON && s->kind != LOGIN_NONE && opt.force_local_data_ssl) {
			log_msg(LOG_NOTICE, "refused PROT C: force_local_data_ssl=YES");
			reply(s, 534, "Data connections must be encrypted.");
			return;
		}
		s->prot_p = 0;
		reply(s, 200, "PROT now Clear.");
	} else if (strcasecmp(arg, "S") == 0 || strcasecmp(arg, "E") == 0) {
		reply(s, 536, "PROT %s is not supported; use P or C.", arg);
	} else
		reply(s, 504, "Unknown PROT level.");
}

static void
cmd_ccc(struct ftp_session *s, const char *arg)
{
	(void)arg;
	/* SECURITY: dropping back to clear text would expose what follows. */
	reply(s, 534, "CCC refused: the control connection stays encrypted.");
}

/* ---- directories ---- */

static void
cmd_cwd(struct ftp_session *s, const char *arg)
{
	if (fs_chdir(&s->fs, arg) < 0)
		reply(s, 550, "Failed to change directory.");
	else
		reply(s, 250, "Directory successfully changed.");
}

static void
cmd_cdup(struct ftp_session *s, const char *arg)
{
	(void)arg;
	cmd_cwd(s, "..");
}

static void
cmd_pwd(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply_257(s, s->fs.cwd, "is the current directory");
}

/* SECURITY: every change to the tree passes through here. */
enum write_right { W_UPLOAD, W_MKDIR, W_OTHER };

static int
may_write(struct ftp_session *s, enum write_right what)
{
	int ok = opt.write_enable;

	if (ok && is_anon(s))
		ok = what == W_UPLOAD	? opt.anon_upload_enable
		     : what == W_MKDIR ? opt.anon_mkdir_write_enable
				       : opt.anon_other_write_enable;
	if (!ok) {
		log_msg(LOG_NOTICE, "refused a write (%s): not allowed by the configuration",
			what == W_UPLOAD ? "upload" : what == W_MKDIR ? "mkdir" : "change");
		reply(s, 550, "Permission denied.");
	}
	return ok;
}

static void
cmd_mkd(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;

	if (may_write(s, W_MKDIR) && resolve(s, arg, &v) == 0) {
		if (fs_mkdir(&s->fs, buffer_cstr(&v), 0777 & ~(mode_t)s->umask) < 0)
			reply_errno(s, 550, "Create directory operation failed");
		else
			reply_257(s, buffer_cstr(&v), "created");
	}
	buffer_free(&v);
}

static void
cmd_rmd(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;

	if (may_write(s, W_OTHER) && resolve(s, arg, &v) == 0) {
		if (fs_rmdir(&s->fs, buffer_cstr(&v)) < 0)
			reply_errno(s, 550, "Remove directory operation failed");
		else
			reply(s, 250, "Remove directory operation successful.");
	}
	buffer_free(&v);
}

static void
cmd_dele(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;

	if (may_write(s, W_OTHER) && resolve(s, arg, &v) == 0) {
		if (fs_unlink(&s->fs, buffer_cstr(&v)) < 0)
			reply_errno(s, 550, "Delete operation failed");
		else
			reply(s, 250, "Delete operation successful.");
	}
	buffer_free(&v);
}

static void
cmd_rnfr(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	struct stat st;

	free(s->rnfr);
	s->rnfr = NULL;
	if (may_write(s, W_OTHER) && resolve(s, arg, &v) == 0) {
		if (fs_stat(&s->fs, buffer_cstr(&v), &st, 0) < 0)
			reply_errno(s, 550, "RNFR command failed");
		else {
			s->rnfr = xstrdup(buffer_cstr(&v));
			reply(s, 350, "Ready for RNTO.");
		}
	}
	buffer_free(&v);
}

static void
cmd_rnto(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;

	if (s->rnfr == NULL) {
		reply(s, 503, "RNFR required first.");
		return;
	}
	if (may_write(s, W_OTHER) && resolve(s, arg, &v) == 0) {
		if (fs_rename(&s->fs, s->rnfr, buffer_cstr(&v)) < 0)
			reply_errno(s, 550, "Rename failed");
		else
			reply(s, 250, "Rename successful.");
	}
	free(s->rnfr);
	s->rnfr = NULL;
	buffer_free(&v);
}

/* ---- file facts ---- */

/* stat a file the session may read; replies 550 and returns -1 if not. */
static int
stat_readable(struct ftp_session *s, const char *arg, struct buffer *v, struct stat *st)
{
	if (resolve(s, arg, v) < 0)
		return -1;
	if (fs_stat(&s->fs, buffer_cstr(v), st, 1) < 0) {
		reply_errno(s, 550, "Could not get file information");
		return -1;
	}
	return 0;
}

static void
cmd_size(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	struct stat st;

	if (stat_readable(s, arg, &v, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			reply(s, 550, "Could not get file size.");
		else
			reply(s, 213, "%lld", (long long)st.st_size);
	}
	buffer_free(&v);
}

static void
cmd_mdtm(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT, t = BUFFER_INIT;
	struct stat st;

	if (stat_readable(s, arg, &v, &st) == 0) {
		ftpaddr_format_time(&t, st.st_mtime);
		reply(s, 213, "%s", buffer_cstr(&t));
	}
	buffer_free(&v);
	buffer_free(&t);
}

static void
cmd_mfmt(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT, t = BUFFER_INIT;
	const char *sp = strchr(arg, ' ');
	char stamp[32];
	time_t when;

	if (sp == NULL || sp == arg || (size_t)(sp - arg) >= sizeof(stamp) || sp[1] == '\0') {
		reply(s, 501, "Syntax: MFMT YYYYMMDDHHMMSS path");
		return;
	}
	memcpy(stamp, arg, (size_t)(sp - arg));
	stamp[sp - arg] = '\0';
	if (ftpaddr_parse_time(stamp, &when) < 0) {
		reply(s, 501, "Bad time value.");
		return;
	}
	if (may_write(s, W_OTHER) && resolve(s, sp + 1, &v) == 0) {
		if (fs_utimes(&s->fs, buffer_cstr(&v), when) < 0)
			reply_errno(s, 550, "Could not set the time");
		else {
			ftpaddr_format_time(&t, when);
			reply(s, 213, "Modify=%s; %s", buffer_cstr(&t), sp + 1);
		}
	}
	buffer_free(&v);
	buffer_free(&t);
}

static void
cmd_rest(struct ftp_session *s, const char *arg)
{
	uint64_t n;

	if (number_parse(arg, 0, (uint64_t)1 << 62, &n) < 0) {
		reply(s, 501, "REST needs a byte offset.");
		return;
	}
	s->rest = n;
	reply(s, 350, "Restart position accepted (%llu).", (unsigned long long)n);
}

static void
cmd_allo(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, 202, "ALLO command ignored.");
}

static void
cmd_type(struct ftp_session *s, const char *arg)
{
	if (strcasecmp(arg, "A") == 0 || strcasecmp(arg, "A N") == 0) {
		s->type_ascii = 1;
		reply(s, 200, "Switching to ASCII mode.");
	} else if (strcasecmp(arg, "I") == 0 || strcasecmp(arg, "L 8") == 0 ||
		   strcasecmp(arg, "L8") == 0) {
		s->type_ascii = 0;
		reply(s, 200, "Switching to Binary mode.");
	} else
		reply(s, 504, "Type not supported.");
}

static void
cmd_mode(struct ftp_session *s, const char *arg)
{
	if (strcasecmp(arg, "S") == 0)
		reply(s, 200, "Mode set to S.");
	else
		reply(s, 504, "Only stream mode (S) is supported.");
}

static void
cmd_stru(struct ftp_session *s, const char *arg)
{
	if (strcasecmp(arg, "F") == 0)
		reply(s, 200, "Structure set to F.");
	else
		reply(s, 504, "Only file structure (F) is supported.");
}

/* ---- data connections ---- */

static void
close_pasv(struct ftp_session *s)
{
	if (s->pasv_fd >= 0)
		close(s->pasv_fd);
	s->pasv_fd = -1;
}

/* SECURITY: one listening data socket per session, on the control
 * connection's local address, in the configured port range. */
static int
open_pasv(struct ftp_session *s, uint16_t *port)
{
	struct sockaddr_storage a = s->local;
	socklen_t len = a.ss_family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6);
	unsigned lo = (unsigned)opt.pasv_min_port, hi = (unsigned)opt.pasv_max_port;
	int fd;

	close_pasv(s);
	s->port_set = 0;
	fd = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (lo == 0 || hi < lo) {
		lo = 0;
		hi = 0;
	}
	unsigned start = 0;

	/* A random first try, so ports are not predictable from session to
	 * session (every session is forked from the same listener state). */
	if (getrandom(&start, sizeof(start), 0) != sizeof(start))
		start = (unsigned)getpid();
	for (unsigned tries = 0, span = hi - lo + 1; tries < span; tries++) {
		uint16_t p = (uint16_t)(lo == 0 ? 0 : lo + (start + tries) % span);

		if (a.ss_family == AF_INET)
			((struct sockaddr_in *)&a)->sin_port = htons(p);
		else
			((struct sockaddr_in6 *)&a)->sin6_port = htons(p);
		if (bind(fd, (struct sockaddr *)&a, len) == 0 && listen(fd, 1) == 0) {
			len = sizeof(a);
			getsockname(fd, (struct sockaddr *)&a, &len);
			*port = ftpaddr_port(&a);
			s->pasv_fd = fd;
			return 0;
		}
	}
	close(fd);
	return -1;
}

static void
cmd_pasv(struct ftp_session *s, const char *arg)
{
	struct buffer r = BUFFER_INIT;
	struct sockaddr_storage adv = s->local;
	uint16_t port;

	(void)arg;
	if (s->epsv_all) {
		reply(s, 503, "EPSV ALL in effect: use EPSV.");
		return;
	}
	if (opt.pasv_address[0] != '\0') {
		memset(&adv, 0, sizeof(adv));
		adv.ss_family = AF_INET;
		inet_pton(AF_INET, opt.pasv_address, &((struct sockaddr_in *)&adv)->sin_addr);
	}
	if (adv.ss_family != AF_INET) {
		reply(s, 522, "PASV is IPv4 only: use EPSV.");
		return;
	}
	if (open_pasv(s, &port) < 0) {
		reply(s, 425, "Could not open a passive port.");
		return;
	}
	ftpaddr_format_pasv(&r, &adv, port);
	conn_printf(&s->ctl, "%s\r\n", buffer_cstr(&r));
	buffer_free(&r);
}

static void
cmd_epsv(struct ftp_session *s, const char *arg)
{
	struct buffer r = BUFFER_INIT;
	int family = 0, all = 0;
	uint16_t port;

	if (ftpaddr_parse_epsv(arg, &family, &all) != FTPADDR_OK) {
		reply(s, 522, "Network protocol not supported, use (1,2)");
		return;
	}
	if (all) {
		s->epsv_all = 1;
		reply(s, 200, "EPSV ALL ok.");
		return;
	}
	if (family != 0 && family != s->local.ss_family) {
		reply(s, 522, "Network protocol not supported, use (%d)",
		      s->local.ss_family == AF_INET ? 1 : 2);
		return;
	}
	if (open_pasv(s, &port) < 0) {
		reply(s, 425, "Could not open a passive port.");
		return;
	}
	ftpaddr_format_epsv(&r, port);
	conn_printf(&s->ctl, "%s\r\n", buffer_cstr(&r));
	buffer_free(&r);
}

/* SECURITY: no FTP bounce: active connections go only to the control
 * connection's peer, never to a privileged port or to NFS (2049). */
static void
set_port(struct ftp_session *s, const struct sockaddr_storage *a)
{
	uint16_t port = ftpaddr_port(a);

	if (s->epsv_all) {
		reply(s, 503, "EPSV ALL in effect: use EPSV.");
		return;
	}
	if (!opt.port_promiscuous &&
	    (!ftpaddr_same_host(a, &s->peer) || port < 1024 || port == 2049)) {
		log_msg(LOG_WARNING, "refused PORT/EPRT to another host or a reserved port (%u)",
			port);
		reply(s, 500, "Illegal PORT command.");
		return;
	}
	close_pasv(s);
	s->port_addr = *a;
	s->port_set = 1;
	reply(s, 200, "PORT command successful. Consider using PASV.");
}

static void
cmd_port(struct ftp_session *s, const char *arg)
{
	struct sockaddr_storage a;

	if (ftpaddr_parse_port(arg, &a) != FTPADDR_OK)
		reply(s, 501, "Illegal PORT command.");
	else
		set_port(s, &a);
}

static void
cmd_eprt(struct ftp_session *s, const char *arg)
{
	struct sockaddr_storage a;
	int rc = ftpaddr_parse_eprt(arg, &a);

	if (rc == FTPADDR_FAMILY)
		reply(s, 522, "Network protocol not supported, use (1,2)");
	else if (rc != FTPADDR_OK)
		reply(s, 501, "Illegal EPRT command.");
	else
		set_port(s, &a);
}

/* ---- transfers ---- */

static void
xferlog(struct ftp_session *s, const char *vpath, char dir, int complete, double secs)
{
	struct xfer_record r = {0};

	/* The session's own log line (session id, client, user in its
	 * prefix); the xferlog line keeps wu-ftpd's format for analysers. */
	log_msg(LOG_INFO, "transfer %s %s %llu bytes %s", dir == 'o' ? "RETR" : "STOR", vpath,
		(unsigned long long)dtp_progress()->done, complete ? "complete" : "incomplete");
	if (s->xferlog_fd < 0)
		return;
	r.localtime = 1;
	r.seconds = secs;
	r.host = s->peer_text;
	r.bytes = (long long)dtp_progress()->done;
	r.path = vpath;
	r.type = s->type_ascii ? 'a' : 'b';
	r.direction = dir;
	r.access = s->kind == LOGIN_ANON ? 'a' : s->kind == LOGIN_GUEST ? 'g' : 'r';
	r.user = s->kind == LOGIN_ANON ? s->anon_password : s->login_name;
	r.complete = complete;
	xferlog_write(s->xferlog_fd, &r);
}

static int
handle_during_transfer(struct ftp_session *s, char *line, int *aborted)
{
	struct dtp_progress *p = dtp_progress();

	if (strcasecmp(line, "ABOR") == 0) {
		kill(s->dtp_pid, SIGKILL);
		*aborted = 1;
		return 1;
	}
	if (strcasecmp(line, "STAT") == 0)
		reply(s, 213, "Status: %llu of %llu bytes transferred.",
		      (unsigned long long)p->done, (unsigned long long)p->total);
	else if (strcasecmp(line, "NOOP") == 0)
		reply(s, 200, "NOOP ok.");
	else if (strcasecmp(line, "QUIT") == 0)
		s->quit_pending = 1;
	else
		reply(s, 503, "Transfer in progress: only ABOR, STAT, NOOP and QUIT now.");
	return 0;
}

static void strip_telnet(char *line);
static void log_status(void);

/* Wait for the DTP while answering the control connection. */
static int
transfer_wait(struct ftp_session *s, const char *opening)
{
	int aborted = 0, result = DTP_EV_NETFAIL, status;

	for (;;) {
		struct pollfd p[2] = {{.fd = s->ctl.fd, .events = POLLIN},
				      {.fd = s->dtp_fd, .events = POLLIN}};
		char *line;
		size_t len;
		char ev;
		enum conn_status st;

		while ((st = conn_try_line(&s->ctl, &line, &len)) != CONN_AGAIN) {
			if (st == CONN_TOOLONG) {
				reply(s, 500, "Command line too long.");
				continue;
			}
			strip_telnet(line);
			if (handle_during_transfer(s, line, &aborted))
				goto done;
		}
		conn_flush(&s->ctl);
		if (poll(p, 2, -1) < 0) {
			log_status();
			continue;
		}
		if (p[1].revents) {
			if (read(s->dtp_fd, &ev, 1) != 1)
				goto done;
			if (ev == DTP_EV_CONNECTED) {
				reply(s, 150, "%s", opening);
				continue;
			}
			result = ev;
			goto done;
		}
		if (p[0].revents && conn_fill(&s->ctl, 0) != CONN_LINE) {
			/* The client is gone: so is its transfer. */
			kill(s->dtp_pid, SIGKILL);
			waitpid(s->dtp_pid, NULL, 0);
			exit(0);
		}
	}
done:
	while (waitpid(s->dtp_pid, &status, 0) < 0 && errno == EINTR)
		;
	close(s->dtp_fd);
	s->dtp_fd = -1;
	s->dtp_pid = 0;
	return aborted ? 'A' : result;
}

static void
finish_reply(struct ftp_session *s, int result, enum dtp_kind kind)
{
	switch (result) {
	case DTP_EV_DONE:
		reply(s, 226, kind == DTP_LIST ? "Directory send OK." : "Transfer complete.");
		break;
	case DTP_EV_NOCONN:
		reply(s, 425, "Failed to establish connection.");
		break;
	case DTP_EV_FILEFAIL:
		reply(s, 451, kind == DTP_STOR ? "Failure writing to local file."
					       : "Failure reading local file.");
		break;
	case DTP_EV_TLSFAIL:
		reply(s, 522, "TLS negotiation on the data connection failed.");
		break;
	case DTP_EV_NOREUSE:
		reply(s, 522, "Data connection refused: it must resume the control connection's "
			      "TLS session (require_ssl_reuse=YES). Use a client that does "
			      "(curl, lftp), or ask the admin to set require_ssl_reuse=NO.");
		break;
	case DTP_EV_UNCLEAN:
		reply(s, 226, "Transfer complete, but the TLS stream ended without close_notify: "
			      "logged as incomplete.");
		break;
	case 'A':
		reply(s, 426, "Connection closed; transfer aborted.");
		reply(s, 226, "ABOR successful.");
		break;
	default:
		reply(s, 426, kind == DTP_STOR ? "Failure reading network stream."
					       : "Failure writing network stream.");
		break;
	}
	if (s->quit_pending)
		cmd_quit(s, "");
}

static int
data_ready(struct ftp_session *s)
{
	if (opt.ssl_enable && opt.force_local_data_ssl && s->kind != LOGIN_ANON && !s->prot_p) {
		log_msg(LOG_NOTICE, "refused a clear data connection: PROT P required");
		reply(s, 522, "Data connections must be encrypted: use PROT P.");
		return 0;
	}
	if (!s->port_set && s->pasv_fd < 0) {
		reply(s, 425, "Use PORT, EPRT, PASV or EPSV first.");
		return 0;
	}
	return 1;
}

/* Run one transfer to its end; returns the DTP's result. */
static int
run_transfer(struct ftp_session *s, struct dtp_job *job, const char *opening, const char *verb,
	     const char *path)
{
	struct buffer desc = BUFFER_INIT;
	int result;

	buffer_printf(&desc, "%s %s", verb, path);
	s->transfer = buffer_cstr(&desc);

	job->pasv_fd = s->pasv_fd;
	job->active_fd = -1;
	job->tls = s->prot_p;
	job->port_addr = s->port_addr;
	if (s->pasv_fd < 0 && opt.connect_from_port_20 && s->privileged) {
		job->active_fd = session_bind_data(s, &s->port_addr);
		if (job->active_fd < 0) {
			log_msg(LOG_ERR, "monitor could not bind port %lu", opt.ftp_data_port);
			result = DTP_EV_NOCONN;
			goto out;
		}
	}
	if (dtp_start(s, job) < 0) {
		log_msg(LOG_ERR, "cannot start the DTP: %s", strerror(errno));
		result = DTP_EV_FILEFAIL;
		goto out;
	}
	result = transfer_wait(s, opening);
out:
	if (job->active_fd >= 0)
		close(job->active_fd);
	close_pasv(s);
	s->port_set = 0;
	s->transfer = NULL;
	buffer_free(&desc);
	return result;
}

static void
cmd_retr(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT, open_text = BUFFER_INIT;
	struct dtp_job job = {.kind = DTP_RETR, .ascii = s->type_ascii};
	uint64_t rest = s->rest;
	struct stat st;
	double t0;
	int fd, result;

	s->rest = 0;
	if (!data_ready(s) || resolve(s, arg, &v) < 0)
		goto out;
	fd = fs_open(&s->fs, buffer_cstr(&v), O_RDONLY | O_NONBLOCK, 0);
	/* SECURITY: anonymous users fetch only world-readable files, so an
	 * upload drop (anon_umask 077) cannot serve what strangers leave. */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (is_anon(s) && opt.anon_world_readable_only && !(st.st_mode & S_IROTH))) {
		if (fd >= 0)
			close(fd);
		reply(s, 550, "Failed to open file.");
		goto out;
	}
	fcntl(fd, F_SETFL, 0);
	if (rest > (uint64_t)st.st_size)
		rest = (uint64_t)st.st_size;
	lseek(fd, (off_t)rest, SEEK_SET);
	job.file_fd = fd;
	job.total = (uint64_t)st.st_size - rest;
	buffer_printf(&open_text, "Opening %s mode data connection for %s (%lld bytes).",
		      s->type_ascii ? "ASCII" : "BINARY", arg, (long long)st.st_size);
	t0 = (double)time(NULL);
	result = run_transfer(s, &job, buffer_cstr(&open_text), "RETR", buffer_cstr(&v));
	close(fd);
	if (result != DTP_EV_NOCONN) {
		s->bytes_out += dtp_progress()->done;
		xferlog(s, buffer_cstr(&v), 'o', result == DTP_EV_DONE, (double)time(NULL) - t0);
	}
	finish_reply(s, result, DTP_RETR);
out:
	buffer_free(&v);
	buffer_free(&open_text);
}

/* Create the upload target; STOU picks a name. Returns the fd or -1 (replied). */
static int
open_upload(struct ftp_session *s, struct buffer *v, int append, int unique, uint64_t rest)
{
	mode_t mode = (mode_t)(opt.file_open_mode & ~s->umask);
	int flags = O_WRONLY | O_CREAT, fd;

	if (unique) {
		struct buffer base = BUFFER_INIT;

		buffer_puts(&base, buffer_cstr(v));
		for (unsigned i = 0; i < 1000; i++) {
			buffer_clear(v);
			buffer_puts(v, buffer_cstr(&base));
			if (i > 0)
				buffer_printf(v, ".%u", i);
			fd = fs_open(&s->fs, buffer_cstr(v), flags | O_EXCL, mode);
			if (fd >= 0 || errno != EEXIST)
				break;
		}
		buffer_free(&base);
	} else {
		/* SECURITY: without anon_other_write_enable an anonymous upload
		 * never replaces or extends what is already there. */
		if (is_anon(s) && !opt.anon_other_write_enable)
			flags |= O_EXCL;
		else if (append)
			flags |= O_APPEND;
		else if (rest == 0)
			flags |= O_TRUNC;
		fd = fs_open(&s->fs, buffer_cstr(v), flags, mode);
	}
	if (fd < 0) {
		reply_errno(s, 553, "Could not create file");
		return -1;
	}
	if (rest > 0 && !append && lseek(fd, (off_t)rest, SEEK_SET) < 0) {
		close(fd);
		reply(s, 553, "Could not seek to the restart position.");
		return -1;
	}
	if (is_anon(s) && opt.chown_uploads && session_chown(s, fd) < 0)
		log_msg(LOG_ERR, "chown_uploads: could not give %s to %s", buffer_cstr(v),
			opt.chown_username);
	return fd;
}

static void
upload(struct ftp_session *s, const char *arg, int append, int unique)
{
	struct buffer v = BUFFER_INIT, open_text = BUFFER_INIT;
	struct dtp_job job = {.kind = DTP_STOR, .ascii = s->type_ascii};
	uint64_t rest = s->rest;
	double t0;
	int fd, result;

	s->rest = 0;
	if (!may_write(s, append && is_anon(s) ? W_OTHER : W_UPLOAD) || !data_ready(s))
		goto out;
	if (rest > 0 && is_anon(s) && !opt.anon_other_write_enable) {
		reply(s, 550, "Permission denied: anonymous uploads cannot resume.");
		goto out;
	}
	if (resolve(s, unique && arg[0] == '\0' ? "upload" : arg, &v) < 0)
		goto out;
	fd = open_upload(s, &v, append, unique, rest);
	if (fd < 0)
		goto out;
	job.file_fd = fd;
	if (unique) {
		const char *slash = strrchr(buffer_cstr(&v), '/');

		buffer_printf(&open_text, "FILE: %s", slash ? slash + 1 : buffer_cstr(&v));
	} else
		buffer_puts(&open_text, "Ok to send data.");
	t0 = (double)time(NULL);
	result = run_transfer(s, &job, buffer_cstr(&open_text),
			      unique ? "STOU" : append ? "APPE" : "STOR", buffer_cstr(&v));
	close(fd);
	if (result != DTP_EV_DONE && opt.delete_failed_uploads)
		fs_unlink(&s->fs, buffer_cstr(&v));
	if (result != DTP_EV_NOCONN) {
		s->bytes_in += dtp_progress()->done;
		xferlog(s, buffer_cstr(&v), 'i', result == DTP_EV_DONE, (double)time(NULL) - t0);
	}
	finish_reply(s, result, DTP_STOR);
out:
	buffer_free(&v);
	buffer_free(&open_text);
}

static void
cmd_stor(struct ftp_session *s, const char *arg)
{
	upload(s, arg, 0, 0);
}

static void
cmd_appe(struct ftp_session *s, const char *arg)
{
	upload(s, arg, 1, 0);
}

static void
cmd_stou(struct ftp_session *s, const char *arg)
{
	upload(s, arg, 0, 1);
}

static void
fill_list_opts(struct ftp_session *s)
{
	list_opts.ids = &idcache;
	list_opts.hide_ids = opt.hide_ids;
	list_opts.facts = s->mlst_facts;
	list_opts.perm.uid = s->uid;
	list_opts.perm.gid = s->gid;
	list_opts.perm.rights = 0;
	if (opt.write_enable && (!is_anon(s) || opt.anon_upload_enable))
		list_opts.perm.rights |= LISTING_RIGHT_WRITE;
	if (opt.write_enable && (!is_anon(s) || opt.anon_other_write_enable))
		list_opts.perm.rights |= LISTING_RIGHT_DELETE | LISTING_RIGHT_RENAME;
	list_opts.now = time(NULL);
}

static void
list_common(struct ftp_session *s, const char *arg, int base_flags)
{
	struct dtp_job job = {.kind = DTP_LIST};
	struct buffer v = BUFFER_INIT;
	const char *path = arg;
	int flags = base_flags;
	struct stat st;

	if (!(base_flags & LS_MLSD)) {
		int options;

		listing_parse_args(arg, &options, &path);
		flags |= options;
	}
	if (!data_ready(s))
		return;
	if (path[0] != '\0' && !listing_has_glob(path)) {
		if (resolve(s, path, &v) < 0)
			return;
		if (fs_stat(&s->fs, buffer_cstr(&v), &st, 1) < 0 ||
		    ((base_flags & LS_MLSD) && !S_ISDIR(st.st_mode))) {
			buffer_free(&v);
			reply(s, (base_flags & LS_MLSD) && errno != ENOENT ? 501 : 550,
			      "%s", (base_flags & LS_MLSD) ? "Not a directory or not found."
							   : "No such file or directory.");
			return;
		}
		buffer_free(&v);
	}
	fill_list_opts(s);
	job.list_arg = path;
	job.list_flags = flags;
	job.list_opts = &list_opts;
	finish_reply(s,
		     run_transfer(s, &job, "Here comes the directory listing.",
				  (base_flags & LS_MLSD) ? "MLSD" : (flags & LS_NLST) ? "NLST" : "LIST",
				  path),
		     DTP_LIST);
}

static void
cmd_list(struct ftp_session *s, const char *arg)
{
	list_common(s, arg, LS_LONG);
}

static void
cmd_nlst(struct ftp_session *s, const char *arg)
{
	list_common(s, arg, LS_NLST);
}

static void
cmd_mlsd(struct ftp_session *s, const char *arg)
{
	list_common(s, arg, LS_MLSD);
}

static void
cmd_mlst(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT, line = BUFFER_INIT;
	struct stat st;

	if (resolve(s, arg[0] ? arg : ".", &v) == 0) {
		if (fs_stat(&s->fs, buffer_cstr(&v), &st, 1) < 0)
			reply_errno(s, 550, "MLST failed");
		else {
			fill_list_opts(s);
			listing_mlsx_line(&line, buffer_cstr(&v), &st, s->mlst_facts,
					  &list_opts.perm,
					  listing_idcache_user(&idcache, st.st_uid),
					  listing_idcache_group(&idcache, st.st_gid));
			conn_printf(&s->ctl, "250-Listing %s\r\n %s250 End\r\n", buffer_cstr(&v),
				    buffer_cstr(&line));
		}
	}
	buffer_free(&v);
	buffer_free(&line);
}

static void
cmd_abor(struct ftp_session *s, const char *arg)
{
	(void)arg;
	close_pasv(s);
	s->port_set = 0;
	reply(s, 225, "No transfer to ABOR.");
}

static void
cmd_stat(struct ftp_session *s, const char *arg)
{
	struct buffer out = BUFFER_INIT;

	if (arg[0] != '\0' && s->kind != LOGIN_NONE) {
		const char *path;
		int flags = LS_LONG;

		listing_parse_args(arg, &flags, &path);
		fill_list_opts(s);
		if (listing_path(&s->fs, path, flags, &list_opts, &out) != LISTING_OK) {
			reply(s, 550, "Could not list %s.", arg);
		} else {
			conn_printf(&s->ctl, "213-Status of %s:\r\n", arg);
			conn_append(&s->ctl, buffer_head(&out), out.len);
			reply(s, 213, "End of status");
		}
		buffer_free(&out);
		return;
	}
	conn_printf(&s->ctl,
		    "211-FTP server status:\r\n"
		    "     Connected to %s\r\n"
		    "     Logged in as %s\r\n"
		    "     TYPE: %s\r\n"
		    "     %s\r\n"
		    "     Session bytes in %llu, out %llu\r\n"
		    "211 End of status\r\n",
		    s->peer_text, s->login_name ? s->login_name : "(not logged in)",
		    s->type_ascii ? "ASCII" : "BINARY",
		    s->pasv_fd >= 0 ? "Passive mode set"
		    : s->port_set   ? "Active mode set"
				    : "No data connection",
		    s->bytes_in, s->bytes_out);
}

/* ---- SITE ---- */

static void
site_chmod(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	const char *sp = strchr(arg, ' ');
	char modetext[8];
	uint64_t mode;

	if (sp == NULL || sp - arg >= (long)sizeof(modetext) || sp[1] == '\0') {
		reply(s, 501, "Syntax: SITE CHMOD mode path");
		return;
	}
	memcpy(modetext, arg, (size_t)(sp - arg));
	modetext[sp - arg] = '\0';
	if (number_parse_octal(modetext, 07777, &mode) < 0) {
		reply(s, 501, "Bad mode.");
		return;
	}
	if (may_write(s, W_OTHER) && resolve(s, sp + 1, &v) == 0) {
		if (fs_chmod(&s->fs, buffer_cstr(&v), (mode_t)mode) < 0)
			reply_errno(s, 550, "SITE CHMOD command failed");
		else
			reply(s, 200, "SITE CHMOD command ok.");
	}
	buffer_free(&v);
}

static void
site_umask(struct ftp_session *s, const char *arg)
{
	uint64_t m;

	if (arg[0] == '\0') {
		reply(s, 200, "Your current UMASK is %03lo", s->umask);
	} else if (is_anon(s)) {
		reply(s, 550, "Permission denied.");
	} else if (number_parse_octal(arg, 0777, &m) < 0) {
		reply(s, 501, "Bad UMASK value.");
	} else {
		s->umask = (unsigned long)m;
		reply(s, 200, "UMASK set to %03lo", s->umask);
	}
}

static void
site_idle(struct ftp_session *s, const char *arg)
{
	uint64_t secs;

	if (arg[0] == '\0') {
		reply(s, 200, "Current idle time limit is %u seconds; max 7200.",
		      s->ctl.timeout_ms / 1000);
	} else if (number_parse(arg, 30, 7200, &secs) < 0) {
		reply(s, 501, "Idle time must be 30 to 7200 seconds.");
	} else {
		s->ctl.timeout_ms = (int)secs * 1000;
		reply(s, 200, "Maximum idle time set to %u seconds.", (unsigned)secs);
	}
}

static void
site_help(struct ftp_session *s, const char *arg)
{
	(void)arg;
	conn_printf(&s->ctl, "214-The following SITE commands are recognized.\r\n"
			     " CHMOD UMASK IDLE HELP\r\n");
	reply(s, 214, "Help OK.");
}

static const struct {
	const char *name;
	void (*fn)(struct ftp_session *, const char *);
} site_table[] = {
	{"CHMOD", site_chmod},
	{"UMASK", site_umask},
	{"IDLE", site_idle},
	{"HELP", site_help},
};

static void
cmd_site(struct ftp_session *s, const char *arg)
{
	size_t n = strcspn(arg, " ");
	const char *rest = arg[n] ? arg + n + 1 : "";

	for (size_t i = 0; i < sizeof(site_table) / sizeof(site_table[0]); i++)
		if (strlen(site_table[i].name) == n && strncasecmp(arg, site_table[i].name, n) == 0) {
			site_table[i].fn(s, rest);
			return;
		}
	reply(s, 500, "Unknown SITE command.");
}

/* ---- the command table ---- */

#define NEED_LOGIN 0x01
#define ARG_REQ 0x02

struct ftp_cmd {
	const char *name;
	void (*fn)(struct ftp_session *, const char *);
	unsigned flags;
	const char *feat; /* FEAT line, or NULL */
	const char *help;
};

static void cmd_help(struct ftp_session *s, const char *arg);
static void cmd_feat(struct ftp_session *s, const char *arg);

static const struct ftp_cmd commands[] = {
	{"ABOR", cmd_abor, NEED_LOGIN, NULL, "ABOR (abort the transfer)"},
	{"ACCT", cmd_acct, ARG_REQ, NULL, "ACCT <account> (not needed)"},
	{"ALLO", cmd_allo, NEED_LOGIN, NULL, "ALLO <size> (ignored)"},
	{"AUTH", cmd_auth, ARG_REQ, "AUTH TLS", "AUTH TLS (RFC 4217)"},
	{"CCC", cmd_ccc, 0, NULL, "CCC (refused)"},
	{"APPE", cmd_appe, NEED_LOGIN | ARG_REQ, NULL, "APPE <path>"},
	{"CDUP", cmd_cdup, NEED_LOGIN, NULL, "CDUP"},
	{"CWD", cmd_cwd, NEED_LOGIN | ARG_REQ, NULL, "CWD <path>"},
	{"DELE", cmd_dele, NEED_LOGIN | ARG_REQ, NULL, "DELE <path>"},
	{"EPRT", cmd_eprt, NEED_LOGIN | ARG_REQ, "EPRT", "EPRT |af|addr|port|"},
	{"EPSV", cmd_epsv, NEED_LOGIN, "EPSV", "EPSV [1|2|ALL]"},
	{"FEAT", cmd_feat, 0, NULL, "FEAT"},
	{"HELP", cmd_help, 0, NULL, "HELP [command]"},
	{"HOST", cmd_host, ARG_REQ, "HOST", "HOST <name>"},
	{"LIST", cmd_list, NEED_LOGIN, NULL, "LIST [-al] [path]"},
	{"MDTM", cmd_mdtm, NEED_LOGIN | ARG_REQ, "MDTM", "MDTM <path>"},
	{"MFMT", cmd_mfmt, NEED_LOGIN | ARG_REQ, "MFMT", "MFMT YYYYMMDDHHMMSS <path>"},
	{"MKD", cmd_mkd, NEED_LOGIN | ARG_REQ, NULL, "MKD <path>"},
	{"MLSD", cmd_mlsd, NEED_LOGIN, NULL, "MLSD [path]"},
	{"MLST", cmd_mlst, NEED_LOGIN, "MLST", "MLST [path]"},
	{"MODE", cmd_mode, ARG_REQ, NULL, "MODE S"},
	{"NLST", cmd_nlst, NEED_LOGIN, NULL, "NLST [path]"},
	{"NOOP", cmd_noop, 0, NULL, "NOOP"},
	{"OPTS", cmd_opts, ARG_REQ, NULL, "OPTS UTF8 ON | OPTS MLST facts"},
	{"PASS", cmd_pass, 0, NULL, "PASS <password>"},
	{"PASV", cmd_pasv, NEED_LOGIN, "PASV", "PASV"},
	{"PBSZ", cmd_pbsz, ARG_REQ, "PBSZ", "PBSZ 0"},
	{"PORT", cmd_port, NEED_LOGIN | ARG_REQ, NULL, "PORT h1,h2,h3,h4,p1,p2"},
	{"PROT", cmd_prot, ARG_REQ, "PROT", "PROT P|C"},
	{"PWD", cmd_pwd, NEED_LOGIN, NULL, "PWD"},
	{"QUIT", cmd_quit, 0, NULL, "QUIT"},
	{"REIN", cmd_rein, 0, NULL, "REIN (log out, keep the connection)"},
	{"REST", cmd_rest, NEED_LOGIN | ARG_REQ, "REST STREAM", "REST <offset>"},
	{"RETR", cmd_retr, NEED_LOGIN | ARG_REQ, NULL, "RETR <path>"},
	{"RMD", cmd_rmd, NEED_LOGIN | ARG_REQ, NULL, "RMD <path>"},
	{"RNFR", cmd_rnfr, NEED_LOGIN | ARG_REQ, NULL, "RNFR <path>"},
	{"RNTO", cmd_rnto, NEED_LOGIN | ARG_REQ, NULL, "RNTO <path>"},
	{"SITE", cmd_site, NEED_LOGIN | ARG_REQ, NULL, "SITE CHMOD|UMASK|IDLE|HELP"},
	{"SIZE", cmd_size, NEED_LOGIN | ARG_REQ, "SIZE", "SIZE <path>"},
	{"STAT", cmd_stat, 0, NULL, "STAT [path]"},
	{"STOR", cmd_stor, NEED_LOGIN | ARG_REQ, NULL, "STOR <path>"},
	{"STOU", cmd_stou, NEED_LOGIN, NULL, "STOU [name]"},
	{"STRU", cmd_stru, ARG_REQ, NULL, "STRU F"},
	{"SYST", cmd_syst, 0, NULL, "SYST"},
	{"TYPE", cmd_type, NEED_LOGIN | ARG_REQ, NULL, "TYPE A|I|L 8"},
	{"USER", cmd_user, ARG_REQ, NULL, "USER <name>"},
	{"XCUP", cmd_cdup, NEED_LOGIN, NULL, "XCUP"},
	{"XCWD", cmd_cwd, NEED_LOGIN | ARG_REQ, NULL, "XCWD <path>"},
	{"XMKD", cmd_mkd, NEED_LOGIN | ARG_REQ, NULL, "XMKD <path>"},
	{"XPWD", cmd_pwd, NEED_LOGIN, NULL, "XPWD"},
	{"XRMD", cmd_rmd, NEED_LOGIN | ARG_REQ, NULL, "XRMD <path>"},
	{NULL, NULL, 0, NULL, NULL},
};

static const struct ftp_cmd *
find_cmd(const char *name)
{
	for (const struct ftp_cmd *c = commands; c->name != NULL; c++)
		if (strcasecmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
cmd_help(struct ftp_session *s, const char *arg)
{
	const struct ftp_cmd *c;
	int col = 0;

	if (arg[0] != '\0') {
		c = find_cmd(arg);
		if (c == NULL)
			reply(s, 502, "Unknown command %s.", arg);
		else
			reply(s, 214, "Syntax: %s", c->help);
		return;
	}
	conn_printf(&s->ctl, "214-The following commands are recognized.\r\n");
	for (c = commands; c->name != NULL; c++) {
		conn_printf(&s->ctl, " %-4s", c->name);
		if (++col % 16 == 0 || c[1].name == NULL)
			conn_append(&s->ctl, "\r\n", 2);
	}
	reply(s, 214, "Help OK.");
}

static void
cmd_feat(struct ftp_session *s, const char *arg)
{
	struct buffer facts = BUFFER_INIT;

	(void)arg;
	conn_printf(&s->ctl, "211-Features:\r\n");
	for (const struct ftp_cmd *c = commands; c->name != NULL; c++) {
		if (c->feat == NULL || (c->fn == cmd_auth && !opt.ssl_enable) ||
		    ((c->fn == cmd_pbsz || c->fn == cmd_prot) && !opt.ssl_enable))
			continue;
		if (strcmp(c->feat, "MLST") == 0) {
			listing_mlst_feat(&facts, s->mlst_facts);
			conn_printf(&s->ctl, " MLST %s\r\n", buffer_cstr(&facts));
		} else
			conn_printf(&s->ctl, " %s\r\n", c->feat);
	}
	conn_printf(&s->ctl, " TVFS\r\n UTF8\r\n");
	reply(s, 211, "End");
	buffer_free(&facts);
}

/* Telnet IP and Synch (IAC IP, IAC DM) that clients put before ABOR, and
 * the DM byte left inline by urgent data: only at the start of a line, so
 * every byte of a path (0xff included) reaches the filesystem as sent. */
static void
strip_telnet(char *line)
{
	char *r = line;

	for (;;) {
		if ((unsigned char)r[0] == 0xff && r[1] != '\0')
			r += 2;
		else if ((unsigned char)r[0] == 0xf2)
			r++;
		else
			break;
	}
	if (r != line)
		memmove(line, r, strlen(r) + 1);
}

static int
is_http_verb(const char *line, size_t n)
{
	static const char *const verbs[] = {"GET",   "POST",  "HEAD",    "PUT",	 "DELETE",
					    "CONNECT", "OPTIONS", "TRACE", "PATCH"};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i]) == n && strncmp(line, verbs[i], n) == 0)
			return 1;
	return 0;
}

int
pi_parse_command(char *line, size_t len, char name[PI_NAME_MAX + 1], const char **arg)
{
	size_t n;

	if (strlen(line) != len)
		return -1;
	strip_telnet(line);
	n = strcspn(line, " ");
	*arg = line[n] == ' ' ? line + n + 1 : "";
	if (n > PI_NAME_MAX)
		n = 0;
	memcpy(name, line, n);
	name[n] = '\0';
	return 0;
}

int
pi_known_command(const char *name)
{
	return find_cmd(name) != NULL;
}

static void
dispatch(struct ftp_session *s, char *line, size_t len)
{
	const struct ftp_cmd *c;
	char name[PI_NAME_MAX + 1];
	const char *arg;
	size_t n;

	if (pi_parse_command(line, len, name, &arg) < 0) {
		reply(s, 501, "NUL byte in command.");
		return;
	}
	n = strcspn(line, " ");
	c = name[0] != '\0' ? find_cmd(name) : NULL;
	if (c == NULL && s->kind == LOGIN_NONE && is_http_verb(line, n)) {
		/* SECURITY: cross-protocol requests (a browser or proxy sent to
		 * the FTP port) end the session without a reply. */
		log_msg(LOG_NOTICE, "HTTP request on the FTP port; closing");
		exit(0);
	}
	if (c == NULL) {
		reply(s, 500, "Unknown command.");
		/* SECURITY: a client that only sends junk before login is not an
		 * FTP client; stop feeding it replies. */
		if (s->kind == LOGIN_NONE && ++s->unknown_before_login >= UNKNOWN_BEFORE_LOGIN_MAX) {
			log_msg(LOG_NOTICE, "too many unknown commands before login; closing");
			cmd_quit(s, "");
		}
		return;
	}
	if ((c->flags & NEED_LOGIN) && s->kind == LOGIN_NONE) {
		reply(s, 530, "Please login with USER and PASS.");
		return;
	}
	if ((c->flags & ARG_REQ) && arg[0] == '\0') {
		reply(s, 501, "Syntax: %s", c->help);
		return;
	}
	c->fn(s, arg);
}

static int term_fd = -1;
static volatile sig_atomic_t status_wanted;
static struct ftp_session *status_session;

static void
on_sigusr1(int sig)
{
	(void)sig;
	status_wanted = 1;
}

/* SIGUSR1 to the listener (or ftpd -s): one line about this session. */
static void
log_status(void)
{
	struct ftp_session *s = status_session;
	struct dtp_progress *p = dtp_progress();

	if (!status_wanted || s == NULL)
		return;
	status_wanted = 0;
	if (s->transfer != NULL)
		log_msg(LOG_INFO, "status: %s, %llu of %llu bytes; session in %llu out %llu",
			s->transfer, (unsigned long long)p->done, (unsigned long long)p->total,
			s->bytes_in, s->bytes_out);
	else
		log_msg(LOG_INFO, "status: %s; session in %llu out %llu",
			s->kind == LOGIN_NONE ? "not logged in" : "idle", s->bytes_in,
			s->bytes_out);
}

static void
on_sigterm(int sig)
{
	static const char bye[] = "421 Service not available, server shutting down.\r\n";

	(void)sig;
	if (term_fd >= 0 && write(term_fd, bye, sizeof(bye) - 1) < 0) {
		/* The client is gone; nothing more to say. */
	}
	_exit(0);
}

void
pi_prepare(struct ftp_session *s)
{
	tzset();
	listing_idcache_load(&idcache, "/etc/passwd", "/etc/group");
	s->mlst_facts = LISTING_FACTS_ALL;
	dtp_progress();
}

static void
postlogin_start(struct ftp_session *s)
{
	s->umask = is_anon(s) ? opt.anon_umask : opt.local_umask;
	s->max_rate = is_anon(s) ? opt.anon_max_rate : opt.local_max_rate;
	s->uid = getuid();
	s->gid = getgid();
	if (s->home != NULL && strcmp(s->home, "/") != 0 && fs_chdir(&s->fs, s->home) < 0)
		log_msg(LOG_NOTICE, "home %s not reachable; starting in /", s->home);
	reply(s, 230, "Login successful.");
}

void
pi_run(struct ftp_session *s)
{
	int on = 1;

	term_fd = s->ctl.fd;
	status_session = s;
	signal(SIGTERM, on_sigterm);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigusr1;
		sigaction(SIGUSR1, &sa, NULL);
	}
	netio_signal_hook = log_status;
	signal(SIGPIPE, SIG_IGN);
	/* Urgent data (Telnet Synch before ABOR) stays in the command stream. */
	setsockopt(s->ctl.fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on));
	if (s->implicit_tls && !s->tls && (ftp_tls_ctx == NULL || start_tls(s) < 0)) {
		log_msg(LOG_NOTICE, "implicit TLS handshake failed; closing");
		exit(0);
	}
	if (s->kind == LOGIN_NONE)
		reply(s, 220, "%s", opt.ftpd_banner);
	else
		postlogin_start(s);
	for (;;) {
		char *line;
		size_t len;

		switch (conn_getline(&s->ctl, &line, &len)) {
		case CONN_LINE:
			dispatch(s, line, len);
			break;
		case CONN_TOOLONG:
			log_msg(LOG_NOTICE, "refused a command line too long (over %zu bytes)",
				s->ctl.max_line);
			reply(s, 500, "Command line too long.");
			break;
		case CONN_TIMEOUT:
			reply(s, 421, "Timeout.");
			pi_exit(s);
		default:
			pi_exit(s);
		}
	}
}
