/* pi: the protocol interpreter. One command table drives dispatch, arity,
 * login state, FEAT and HELP; each handler is one command. */
#include "ftpd/pi/pi.h"
#include "ftpd/pi/monreq.h"
#include "ftpd/pi/reply.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "common/core/paths.h"
#include "common/priv/privsep.h"
#include "common/priv/sandbox.h"
#include "ftpd/dtp/dtp.h"
#include "ftpd/dtp/listing.h"
#include "ftpd/dtp/quota.h"
#include "ftpd/dtp/xferlog.h"
#include "ftpd/ftpaddr.h"
#include "ftpd/metrics.h"
#include "ftpd/namefilter.h"
#include "ftpd/options.h"
#include "ftpd/pi/banner.h"
#include "ftpd/pi/commands.h"

#define UNKNOWN_BEFORE_LOGIN_MAX 20

int
is_anon(const struct ftp_session *s)
{
	/* SECURITY: virtual users get anonymous rights unless the site
	 * says virtual_use_local_privs=YES (vsftpd's rule). */
	return s->kind == LOGIN_ANON || (s->kind == LOGIN_GUEST && !opt.virtual_use_local_privs);
}

/* Resolve a client path argument to a virtual path in out. */
int
resolve(struct ftp_session *s, const char *arg, struct buffer *out)
{
	if (fs_resolve(&s->fs, NULL, arg, out) < 0) {
		if (errno == ENAMETOOLONG)
			reply(s, FTP_NAME_NOT_ALLOWED, "File name too long.");
		else
			reply_errno(s, FTP_FILE_UNAVAILABLE, "Name reserved by the server");
		return -1;
	}
	/* SECURITY: deny_file holds for every command that names a path, on
	 * the normalised path, so no spelling ("a/../x.mp3") gets around it. */
	if (namefilter_path(&s->deny, buffer_cstr(out))) {
		log_msg(LOG_NOTICE, "refused %s: deny_file", buffer_cstr(out));
		reply(s, FTP_FILE_UNAVAILABLE, FTP_TEXT_PERMISSION_DENIED);
		return -1;
	}
	return 0;
}

/* End the session: replies out, TLS closed with close_notify. */
void __attribute__((noreturn)) pi_exit(struct ftp_session *s)
{
	conn_flush(&s->ctl);
	if (s->ctl.ssl != NULL)
		tls_close(s->ctl.ssl);
	sandbox_exit(0);
}

/* ---- login and session commands ---- */

/* SECURITY: with ssl_enable, passwords of real accounts never cross the
 * wire in clear (force_local_logins_ssl); anonymous sessions use TLS only
 * when allow_anon_ssl says so. */
/* Made by main.c before any session; every worker and DTP inherits it. */
SSL_CTX *ftp_tls_ctx;

static int
login_allowed_over(struct ftp_session *s, const char *user)
{
	int anon = strcasecmp(user, "anonymous") == 0 || strcasecmp(user, "ftp") == 0;

	if (!opt.ssl_enable)
		return 1;
	if (anon && s->tls && !opt.allow_anon_ssl) {
		log_msg(LOG_NOTICE, "refused anonymous login over TLS (allow_anon_ssl=NO)");
		monreq_metric(s, M_REFUSED_TLS, 1);
		reply(s, FTP_NOT_LOGGED_IN, "Anonymous sessions may not use encryption.");
		return 0;
	}
	if (!anon && !s->tls && opt.force_local_logins_ssl) {
		log_msg(LOG_NOTICE, "refused plaintext login for %s: AUTH TLS required", user);
		monreq_metric(s, M_REFUSED_TLS, 1);
		reply(s, FTP_NOT_LOGGED_IN,
		      "Non-anonymous sessions must use encryption (AUTH TLS).");
		return 0;
	}
	return 1;
}

void
pi_forget_key(struct ftp_session *s)
{
	if (!s->tls && ftp_tls_ctx != NULL) {
		tls_ctx_free(ftp_tls_ctx);
		ftp_tls_ctx = NULL;
		s->tls_key_at_monitor = 1;
	}
}

static void postlogin_start(struct ftp_session *s);

/* A WORKER_ANON (monitor.c, "one worker") whose login the monitor
 * granted: it is the session from here on, with the state a post-login
 * worker would have been forked with. SECURITY: nothing here widens what
 * it could reach before: its uid, root and filter are the ones it was
 * started under; the login only opens the commands the table keeps for
 * logged-in sessions, and the monitor's side (hooks, xferlog, port 20,
 * the key) now answers. */
static void
login_here(struct ftp_session *s, const char *pass, int quota_fd)
{
	s->kind = LOGIN_ANON;
	free(s->login_name);
	s->login_name = xstrdup("anonymous");
	free(s->anon_password);
	s->anon_password = xstrdup(pass);
	s->quota_fd = quota_fd;
	s->xferlog = opt.xferlog_enable;
	log_set_prefix("s=%s c=%s u=%s", s->id, s->peer_text, s->login_name);
	pi_forget_key(s);
	postlogin_start(s);
}

void
cmd_user(struct ftp_session *s, const char *arg)
{
	if (s->kind != LOGIN_NONE) {
		reply(s, FTP_NOT_LOGGED_IN, "Can't change to another user.");
		return;
	}
	free(s->user);
	s->user = xstrdup(arg);
	if ((strcasecmp(arg, "anonymous") == 0 || strcasecmp(arg, "ftp") == 0) &&
	    !opt.anonymous_enable) {
		reply(s, FTP_NOT_LOGGED_IN, "This FTP server does not allow anonymous logins.");
		free(s->user);
		s->user = NULL;
		return;
	}
	if (!login_allowed_over(s, arg)) {
		free(s->user);
		s->user = NULL;
		return;
	}
	/* Before the password is asked for, as vsftpd: a refused name never
	 * sends it (the monitor checks again at the login). */
	if (options_user_refused(arg)) {
		log_msg(LOG_NOTICE, "refused USER %s: userlist", arg);
		reply(s, FTP_NOT_LOGGED_IN, FTP_TEXT_PERMISSION_DENIED);
		free(s->user);
		s->user = NULL;
		return;
	}
	reply(s, FTP_NEED_PASSWORD, "Please specify the password.");
}

void
cmd_pass(struct ftp_session *s, const char *arg)
{
	struct buffer why = BUFFER_INIT;
	int fatal, quota_fd = -1;

	if (s->kind != LOGIN_NONE) {
		reply(s, FTP_LOGGED_IN, "Already logged in.");
		return;
	}
	if (s->user == NULL) {
		reply(s, FTP_BAD_SEQUENCE, "Login with USER first.");
		return;
	}
	/* SECURITY: checked again, as AUTH TLS may have come after USER
	 * (USER anonymous, AUTH TLS, PASS must not pass allow_anon_ssl=NO). */
	if (!login_allowed_over(s, s->user)) {
		free(s->user);
		s->user = NULL;
		return;
	}
	if (monreq_login(s, s->user, arg, &fatal, &why, s->anon_direct ? &quota_fd : NULL) == 0) {
		if (!s->anon_direct)
			monreq_handoff(s);
		buffer_free(&why);
		free(s->user);
		s->user = NULL;
		login_here(s, arg, quota_fd);
		return;
	}
	reply(s, fatal == PS_REFUSE_CLOSE ? FTP_SERVICE_UNAVAILABLE : FTP_NOT_LOGGED_IN, "%s",
	      buffer_cstr(&why));
	buffer_free(&why);
	free(s->user);
	s->user = NULL;
	if (fatal)
		pi_exit(s);
}

void
cmd_acct(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, FTP_NOT_NEEDED, "ACCT not needed at this site.");
}

void
cmd_rein(struct ftp_session *s, const char *arg)
{
	(void)arg;
	if (s->kind == LOGIN_NONE) {
		free(s->user);
		s->user = NULL;
		banner_greet(s);
		return;
	}
	/* The monitor starts a fresh pre-login worker, which greets again. */
	monreq_handoff(s);
}

void
cmd_quit(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, FTP_CLOSING, "Goodbye.");
	pi_exit(s);
}

void
cmd_noop(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, FTP_OK, FTP_TEXT_NOOP);
}

void
cmd_syst(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, FTP_SYSTEM_TYPE, "UNIX Type: L8");
}

void
cmd_host(struct ftp_session *s, const char *arg)
{
	if (s->kind != LOGIN_NONE || s->user != NULL) {
		reply(s, FTP_BAD_SEQUENCE, "HOST must come before USER.");
		return;
	}
	for (const char *p = arg; *p; p++)
		if (!(((unsigned char)*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == ':' ||
		      *p == '[' || *p == ']')) {
			reply(s, FTP_ARG_SYNTAX_ERROR, "Bad host name.");
			return;
		}
	reply(s, FTP_SERVICE_READY, "Host accepted.");
}

void
cmd_opts(struct ftp_session *s, const char *arg)
{
	if (strcasecmp(arg, "UTF8 ON") == 0 || strcasecmp(arg, "UTF8") == 0) {
		reply(s, FTP_OK, "Always in UTF8 mode.");
	} else if (strncasecmp(arg, "HASH", 4) == 0 && (arg[4] == ' ' || arg[4] == '\0')) {
		hash_opts(s, arg + 4 + (arg[4] == ' '));
	} else if (strncasecmp(arg, "MLST", 4) == 0 && (arg[4] == ' ' || arg[4] == '\0')) {
		struct buffer facts = BUFFER_INIT;

		s->mlst_facts = listing_mlst_opts(arg + 4 + (arg[4] == ' '), &facts);
		reply(s, FTP_OK, "MLST OPTS %s", buffer_cstr(&facts));
		buffer_free(&facts);
	} else
		reply(s, FTP_ARG_SYNTAX_ERROR, "Option not understood.");
}

/* ---- TLS (RFC 4217) ---- */

static int
start_tls(struct ftp_session *s)
{
	if (conn_start_tls(&s->ctl, ftp_tls_ctx, 30000, s->sid_ctx, sizeof(s->sid_ctx)) < 0)
		return -1;
	s->tls = 1;
	return 0;
}

void
cmd_auth(struct ftp_session *s, const char *arg)
{
	if (!opt.ssl_enable || (ftp_tls_ctx == NULL && !s->tls_key_at_monitor)) {
		reply(s, FTP_NOT_IMPLEMENTED, "TLS is not enabled on this server.");
		return;
	}
	if (s->tls) {
		reply(s, FTP_BAD_SEQUENCE, "Already using TLS.");
		return;
	}
	if (strcasecmp(arg, "TLS") != 0 && strcasecmp(arg, "SSL") != 0 &&
	    strcasecmp(arg, "TLS-C") != 0 && strcasecmp(arg, "TLS-P") != 0) {
		reply(s, FTP_PARAM_NOT_IMPLEMENTED, "Unknown AUTH type.");
		return;
	}
	if (ftp_tls_ctx == NULL) {
		ftp_tls_ctx = monreq_tls_ctx(s);
		s->tls_key_at_monitor = 0;
		if (ftp_tls_ctx == NULL) {
			reply(s, FTP_TLS_UNAVAILABLE, "TLS is not available now.");
			return;
		}
	}
	reply(s, FTP_AUTH_OK, "Proceed with negotiation.");
	if (start_tls(s) < 0) {
		log_msg(LOG_NOTICE, "AUTH TLS handshake failed; closing");
		sandbox_exit(0);
	}
}

void
cmd_pbsz(struct ftp_session *s, const char *arg)
{
	if (!s->tls) {
		reply(s, FTP_BAD_SEQUENCE, "PBSZ needs AUTH TLS first.");
		return;
	}
	s->pbsz = 1;
	reply(s, FTP_OK, "PBSZ=0%s", strcmp(arg, "0") == 0 ? "" : " (only 0 is used)");
}

void
cmd_prot(struct ftp_session *s, const char *arg)
{
	if (!s->tls || !s->pbsz) {
		reply(s, FTP_BAD_SEQUENCE, "PROT needs AUTH TLS and PBSZ first.");
	} else if (strcasecmp(arg, "P") == 0) {
		s->prot_p = 1;
		reply(s, FTP_OK, "PROT now Private.");
	} else if (strcasecmp(arg, "C") == 0) {
		if (s->kind != LOGIN_ANON && s->kind != LOGIN_NONE && opt.force_local_data_ssl) {
			log_msg(LOG_NOTICE, "refused PROT C: force_local_data_ssl=YES");
			monreq_metric(s, M_REFUSED_TLS, 1);
			reply(s, FTP_POLICY_REFUSED, "Data connections must be encrypted.");
			return;
		}
		s->prot_p = 0;
		reply(s, FTP_OK, "PROT now Clear.");
	} else if (strcasecmp(arg, "S") == 0 || strcasecmp(arg, "E") == 0) {
		reply(s, FTP_PROT_NOT_SUPPORTED, "PROT %s is not supported; use P or C.", arg);
	} else
		reply(s, FTP_PARAM_NOT_IMPLEMENTED, "Unknown PROT level.");
}

void
cmd_ccc(struct ftp_session *s, const char *arg)
{
	(void)arg;
	/* SECURITY: dropping back to clear text would expose what follows. */
	reply(s, FTP_POLICY_REFUSED, "CCC refused: the control connection stays encrypted.");
}

/* SECURITY: every change to the tree passes through here. */
int
pi_may_write(struct ftp_session *s, enum write_right what)
{
	int ok = opt.write_enable;

	if (ok && is_anon(s))
		ok = what == W_UPLOAD  ? opt.anon_upload_enable
		     : what == W_MKDIR ? opt.anon_mkdir_write_enable
		                       : opt.anon_other_write_enable;
	if (!ok) {
		log_msg(LOG_NOTICE, "refused a write (%s): not allowed by the configuration",
		        what == W_UPLOAD  ? "upload"
		        : what == W_MKDIR ? "mkdir"
		                          : "change");
		reply(s, FTP_FILE_UNAVAILABLE, FTP_TEXT_PERMISSION_DENIED);
	}
	return ok;
}

/* ---- the command table ---- */

#define NEED_LOGIN 0x01
#define ARG_REQ 0x02
#define FEAT_TLS 0x04   /* its FEAT line only with ssl_enable */
#define FEAT_FACTS 0x08 /* its FEAT line goes on with the MLST facts */
#define MODE_PORT 0x10  /* refused (502) with port_enable=NO */
#define MODE_PASV 0x20  /* refused (502) with pasv_enable=NO */
#define REFUSED 0x40    /* known, never served: 502 */
#define FEAT_HASH 0x80  /* its FEAT line lists the algorithms, the session's starred */

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
    {"ADAT", NULL, REFUSED, NULL, "ADAT (not implemented)"},
    {"ALLO", cmd_allo, NEED_LOGIN, NULL, "ALLO <size> (ignored)"},
    {"AUTH", cmd_auth, ARG_REQ | FEAT_TLS, "AUTH TLS", "AUTH TLS (RFC 4217)"},
    {"AVBL", cmd_avbl, NEED_LOGIN, "AVBL", "AVBL [directory] (free bytes; not anonymous)"},
    {"CCC", cmd_ccc, 0, NULL, "CCC (refused)"},
    {"APPE", cmd_appe, NEED_LOGIN | ARG_REQ, NULL, "APPE <path>"},
    {"CDUP", cmd_cdup, NEED_LOGIN, NULL, "CDUP"},
    {"CONF", NULL, REFUSED, NULL, "CONF (not implemented)"},
    {"CWD", cmd_cwd, NEED_LOGIN | ARG_REQ, NULL, "CWD <path>"},
    {"DELE", cmd_dele, NEED_LOGIN | ARG_REQ, NULL, "DELE <path>"},
    {"ENC", NULL, REFUSED, NULL, "ENC (not implemented)"},
    {"EPRT", cmd_eprt, NEED_LOGIN | ARG_REQ | MODE_PORT, "EPRT", "EPRT |af|addr|port|"},
    {"EPSV", cmd_epsv, NEED_LOGIN | MODE_PASV, "EPSV", "EPSV [1|2|ALL]"},
    {"FEAT", cmd_feat, 0, NULL, "FEAT"},
    {"HASH", cmd_hash, NEED_LOGIN | ARG_REQ | FEAT_HASH, "HASH", "HASH <path> (OPTS HASH, RANG)"},
    {"HELP", cmd_help, 0, NULL, "HELP [command]"},
    {"HOST", cmd_host, ARG_REQ, "HOST", "HOST <name>"},
    {"LANG", NULL, REFUSED, NULL, "LANG (not implemented)"},
    {"LIST", cmd_list, NEED_LOGIN, NULL, "LIST [-al] [path]"},
    {"LPRT", NULL, REFUSED, NULL, "LPRT (not implemented: use EPRT)"},
    {"LPSV", NULL, REFUSED, NULL, "LPSV (not implemented: use EPSV)"},
    {"MDTM", cmd_mdtm, NEED_LOGIN | ARG_REQ, "MDTM", "MDTM [YYYYMMDDHHMMSS] <path>"},
    {"MFCT", cmd_mfct, NEED_LOGIN | ARG_REQ, "MFCT", "MFCT YYYYMMDDHHMMSS <path>"},
    {"MFMT", cmd_mfmt, NEED_LOGIN | ARG_REQ, "MFMT", "MFMT YYYYMMDDHHMMSS <path>"},
    {"MIC", NULL, REFUSED, NULL, "MIC (not implemented)"},
    {"MKD", cmd_mkd, NEED_LOGIN | ARG_REQ, NULL, "MKD <path>"},
    {"MLSD", cmd_mlsd, NEED_LOGIN, NULL, "MLSD [path]"},
    {"MLST", cmd_mlst, NEED_LOGIN | FEAT_FACTS, "MLST", "MLST [path]"},
    {"MODE", cmd_mode, ARG_REQ, NULL, "MODE S"},
    {"NLST", cmd_nlst, NEED_LOGIN, NULL, "NLST [path]"},
    {"NOOP", cmd_noop, 0, NULL, "NOOP"},
    {"OPTS", cmd_opts, ARG_REQ, NULL, "OPTS UTF8 ON | OPTS MLST facts | OPTS HASH [algorithm]"},
    {"PASS", cmd_pass, 0, NULL, "PASS <password>"},
    {"PASV", cmd_pasv, NEED_LOGIN | MODE_PASV, "PASV", "PASV"},
    {"PBSZ", cmd_pbsz, ARG_REQ | FEAT_TLS, "PBSZ", "PBSZ 0"},
    {"PORT", cmd_port, NEED_LOGIN | ARG_REQ | MODE_PORT, NULL, "PORT h1,h2,h3,h4,p1,p2"},
    {"PROT", cmd_prot, ARG_REQ | FEAT_TLS, "PROT", "PROT P|C"},
    {"PWD", cmd_pwd, NEED_LOGIN, NULL, "PWD"},
    {"QUIT", cmd_quit, 0, NULL, "QUIT"},
    {"RANG", cmd_rang, NEED_LOGIN | ARG_REQ, NULL,
     "RANG <start> <end> (bytes of the next HASH; 1 0: all)"},
    {"REIN", cmd_rein, 0, NULL, "REIN (log out, keep the connection)"},
    {"REST", cmd_rest, NEED_LOGIN | ARG_REQ, "REST STREAM", "REST <offset>"},
    {"RETR", cmd_retr, NEED_LOGIN | ARG_REQ, NULL, "RETR <path>"},
    {"RMD", cmd_rmd, NEED_LOGIN | ARG_REQ, NULL, "RMD <path>"},
    {"RNFR", cmd_rnfr, NEED_LOGIN | ARG_REQ, NULL, "RNFR <path>"},
    {"RNTO", cmd_rnto, NEED_LOGIN | ARG_REQ, NULL, "RNTO <path>"},
    {"SITE", cmd_site, NEED_LOGIN | ARG_REQ, NULL, "SITE CHMOD|UMASK|IDLE|HELP"},
    {"SIZE", cmd_size, NEED_LOGIN | ARG_REQ, "SIZE", "SIZE <path>"},
    {"SMNT", NULL, REFUSED, NULL, "SMNT (not implemented)"},
    {"STAT", cmd_stat, 0, NULL, "STAT [path]"},
    {"STOR", cmd_stor, NEED_LOGIN | ARG_REQ, NULL, "STOR <path>"},
    {"STOU", cmd_stou, NEED_LOGIN, NULL, "STOU [name]"},
    {"STRU", cmd_stru, ARG_REQ, NULL, "STRU F"},
    {"SYST", cmd_syst, 0, NULL, "SYST"},
    {"TYPE", cmd_type, NEED_LOGIN | ARG_REQ, NULL, "TYPE A|I|L 8"},
    {"USER", cmd_user, ARG_REQ, NULL, "USER <name>"},
    {"XCRC", cmd_xcrc, NEED_LOGIN | ARG_REQ, NULL, "XCRC <path> [<start> <end>]"},
    {"XCUP", cmd_cdup, NEED_LOGIN, NULL, "XCUP"},
    {"XCWD", cmd_cwd, NEED_LOGIN | ARG_REQ, NULL, "XCWD <path>"},
    {"XMD5", cmd_xmd5, NEED_LOGIN | ARG_REQ, NULL, "XMD5 <path> [<start> <end>]"},
    {"XMKD", cmd_mkd, NEED_LOGIN | ARG_REQ, NULL, "XMKD <path>"},
    {"XPWD", cmd_pwd, NEED_LOGIN, NULL, "XPWD"},
    {"XRMD", cmd_rmd, NEED_LOGIN | ARG_REQ, NULL, "XRMD <path>"},
    {"XSHA1", cmd_xsha1, NEED_LOGIN | ARG_REQ, NULL, "XSHA1 <path> [<start> <end>]"},
    {"XSHA256", cmd_xsha256, NEED_LOGIN | ARG_REQ, NULL, "XSHA256 <path> [<start> <end>]"},
    {"XSHA512", cmd_xsha512, NEED_LOGIN | ARG_REQ, NULL, "XSHA512 <path> [<start> <end>]"},
    {NULL, NULL, 0, NULL, NULL},
};

/* Features that belong to no one command, listed after the commands'. */
static const char *const features[] = {
    "TVFS", /* RFC 3659 section 6: paths are one Unix-like tree */
    "UTF8", /* RFC 2640: names pass as sent; OPTS UTF8 ON is a no-op */
};

/* Whether the configuration or the server refuses c whatever its argument. */
static int
refused(const struct ftp_cmd *c)
{
	return (c->flags & REFUSED) || ((c->flags & MODE_PORT) && !opt.port_enable) ||
	       ((c->flags & MODE_PASV) && !opt.pasv_enable);
}

static const struct ftp_cmd *
find_cmd(const char *name)
{
	for (const struct ftp_cmd *c = commands; c->name != NULL; c++)
		if (strcasecmp(c->name, name) == 0)
			return c;
	return NULL;
}

void
cmd_help(struct ftp_session *s, const char *arg)
{
	const struct ftp_cmd *c;
	int col = 0;

	if (arg[0] != '\0') {
		c = find_cmd(arg);
		if (c == NULL)
			reply(s, FTP_NOT_IMPLEMENTED, "Unknown command %s.", arg);
		else
			reply(s, FTP_HELP, "Syntax: %s", c->help);
		return;
	}
	reply_start(s, FTP_HELP, "The following commands are recognized.");
	for (c = commands; c->name != NULL; c++) {
		conn_printf(&s->ctl, " %-4s", c->name);
		if (++col % 16 == 0 || c[1].name == NULL)
			conn_append(&s->ctl, "\r\n", 2);
	}
	reply(s, FTP_HELP, FTP_TEXT_HELP_OK);
}

void
cmd_feat(struct ftp_session *s, const char *arg)
{
	struct buffer facts = BUFFER_INIT;

	(void)arg;
	reply_start(s, FTP_SYSTEM_STATUS, "Features:");
	for (const struct ftp_cmd *c = commands; c->name != NULL; c++) {
		if (c->feat == NULL || ((c->flags & FEAT_TLS) && !opt.ssl_enable) || refused(c))
			continue;
		if (c->flags & FEAT_HASH) {
			char line[128];

			hash_feat(s, line, sizeof(line));
			conn_printf(&s->ctl, " %s\r\n", line);
		} else if (c->flags & FEAT_FACTS) {
			listing_mlst_feat(&facts, s->mlst_facts);
			conn_printf(&s->ctl, " %s %s\r\n", c->feat, buffer_cstr(&facts));
		} else
			conn_printf(&s->ctl, " %s\r\n", c->feat);
	}
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		conn_printf(&s->ctl, " %s\r\n", features[i]);
	reply(s, FTP_SYSTEM_STATUS, "End");
	buffer_free(&facts);
}

/* Telnet IP and Synch (IAC IP, IAC DM) that clients put before ABOR, and
 * the DM byte left inline by urgent data: only at the start of a line, so
 * every byte of a path (0xff included) reaches the filesystem as sent. */
void
pi_strip_telnet(char *line)
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
	static const char *const verbs[] = {"GET",     "POST",    "HEAD",  "PUT",  "DELETE",
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
	pi_strip_telnet(line);
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
		reply(s, FTP_ARG_SYNTAX_ERROR, "NUL byte in command.");
		return;
	}
	n = strcspn(line, " ");
	c = name[0] != '\0' ? find_cmd(name) : NULL;
	if (c == NULL && s->kind == LOGIN_NONE && is_http_verb(line, n)) {
		/* SECURITY: cross-protocol requests (a browser or proxy sent to
		 * the FTP port) end the session without a reply. */
		log_msg(LOG_NOTICE, "HTTP request on the FTP port; closing");
		sandbox_exit(0);
	}
	if (c == NULL) {
		/* SECURITY: a client that only sends junk before login is not an
		 * FTP client; stop feeding it replies. */
		if (s->kind == LOGIN_NONE &&
		    ++s->unknown_before_login >= UNKNOWN_BEFORE_LOGIN_MAX) {
			log_msg(LOG_NOTICE, "too many unknown commands before login; closing");
			reply(s, FTP_SERVICE_UNAVAILABLE, "Too many unknown commands; closing.");
			pi_exit(s);
		}
		reply(s, FTP_SYNTAX_ERROR, "Unknown command.");
		return;
	}
	if (refused(c)) {
		reply(s, FTP_NOT_IMPLEMENTED, "%s not implemented%s.", c->name,
		      c->flags & REFUSED ? "" : " (disabled by the configuration)");
		return;
	}
	if ((c->flags & NEED_LOGIN) && s->kind == LOGIN_NONE) {
		reply(s, FTP_NOT_LOGGED_IN, "Please login with USER and PASS.");
		return;
	}
	if ((c->flags & ARG_REQ) && arg[0] == '\0') {
		reply(s, FTP_ARG_SYNTAX_ERROR, "Syntax: %s", c->help);
		return;
	}
	c->fn(s, arg);
}

static int term_fd = -1;
static struct ftp_session *status_session;

/* SIGUSR1 to the listener (or ftpd -s): one line about this session. */
static void
log_status(void)
{
	struct ftp_session *s = status_session;
	struct dtp_progress *p = dtp_progress();

	if (s == NULL)
		return;
	if (s->transfer != NULL)
		log_msg(LOG_INFO, "status: %s, %llu of %llu bytes; session in %llu out %llu",
		        s->transfer, (unsigned long long)p->done, (unsigned long long)p->total,
		        s->bytes_in, s->bytes_out);
	else
		log_msg(LOG_INFO, "status: %s; session in %llu out %llu",
		        s->kind == LOGIN_NONE ? "not logged in" : "idle", s->bytes_in,
		        s->bytes_out);
}

/* What SIGTERM writes to the client, made before the handler may run: a
 * signal handler cannot format. */
static char term_reply[64];
static size_t term_reply_len;

static void
arm_shutdown_reply(int fd)
{
	int n = snprintf(term_reply, sizeof(term_reply), "%d %s\r\n", FTP_SERVICE_UNAVAILABLE,
	                 "Service not available, server shutting down.");

	if (n < 0 || (size_t)n >= sizeof(term_reply))
		die("shutdown reply does not fit");
	term_reply_len = (size_t)n;
	term_fd = fd;
}

static void
on_sigterm(int sig)
{
	(void)sig;
	if (term_fd >= 0 && write(term_fd, term_reply, term_reply_len) < 0) {
		/* The client is gone; nothing more to say. */
	}
	_exit(0);
}

void
pi_prepare(struct ftp_session *s)
{
	tzset();
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
	/* The monitor applied the user's user_config_dir file before this
	 * worker was forked: these may differ from the session's start. */
	s->ctl.timeout_ms = (int)opt.idle_session_timeout * 1000;
	namefilter_parse(&s->deny, opt.deny_file);
	namefilter_parse(&s->hide, opt.hide_file);
	/* SECURITY: no command reaches a usage file and no listing shows
	 * one, in any directory, with or without a quota. */
	namefilter_add(&s->deny, FTPD_QUOTA_NAME);
	namefilter_add(&s->hide, FTPD_QUOTA_NAME);
	if (quota_start(s->quota_fd, s->fs.fd) < 0)
		log_msg(LOG_ERR, "quota: no usage: %s; changes will be refused", strerror(errno));
	if (s->home != NULL && strcmp(s->home, "/") != 0 && fs_chdir(&s->fs, s->home) < 0)
		log_msg(LOG_NOTICE, "home %s not reachable; starting in /", s->home);
	banner_dir_message(s, FTP_LOGGED_IN);
	reply(s, FTP_LOGGED_IN, "Login successful.");
}

void
pi_run(struct ftp_session *s)
{
	int on = 1;

	arm_shutdown_reply(s->ctl.fd);
	status_session = s;
	signal(SIGTERM, on_sigterm);
	netio_status_signal(log_status);
	signal(SIGPIPE, SIG_IGN);
	/* Urgent data (Telnet Synch before ABOR) stays in the command stream. */
	setsockopt(s->ctl.fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on));
	if (s->implicit_tls && !s->tls && (ftp_tls_ctx == NULL || start_tls(s) < 0)) {
		log_msg(LOG_NOTICE, "implicit TLS handshake failed; closing");
		sandbox_exit(0);
	}
	if (s->kind == LOGIN_NONE)
		banner_greet(s);
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
			reply(s, FTP_SYNTAX_ERROR, FTP_TEXT_LINE_TOO_LONG);
			break;
		case CONN_TIMEOUT:
			reply(s, FTP_SERVICE_UNAVAILABLE, "Timeout.");
			pi_exit(s);
		default:
			pi_exit(s);
		}
	}
}
