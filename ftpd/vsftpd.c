/* vsftpd: every option of vsftpd.conf(5) (Debian's vsftpd 3.0.3) in one
 * table, read with vsftpd's meaning and defaults, or named in one line. */
#include "ftpd/vsftpd.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/conf.h"
#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "ftpd/options.h"

/* clang-format off */
#define SAME(n, k, def) {#n, VSFTPD_##k, VSFTPD_SAME, #n, def, NULL, NULL}
#define AS(n, k, key, def) {#n, VSFTPD_##k, VSFTPD_AS, key, def, NULL, NULL}
#define LISTEN(n) {#n, VSFTPD_BOOL, VSFTPD_LISTEN, NULL, NULL, NULL, NULL}
#define NOTNEEDED(n, k, why) {#n, VSFTPD_##k, VSFTPD_NOTNEEDED, NULL, NULL, NULL, why}
#define NOTICE(n, k, why) {#n, VSFTPD_##k, VSFTPD_NOTICE, NULL, NULL, NULL, why}
#define REFUSE(n, k, ok, why) {#n, VSFTPD_##k, VSFTPD_REFUSE, NULL, NULL, ok, why}

const struct vsftpd_option vsftpd_options[] = {
	/* Boolean options. */
	SAME(allow_anon_ssl, BOOL, NULL),
	SAME(allow_writeable_chroot, BOOL, NULL),
	SAME(anon_mkdir_write_enable, BOOL, NULL),
	SAME(anon_other_write_enable, BOOL, NULL),
	SAME(anon_upload_enable, BOOL, NULL),
	SAME(anon_world_readable_only, BOOL, NULL),
	SAME(anonymous_enable, BOOL, "NO"),
	NOTICE(ascii_download_enable, BOOL,
	       "TYPE A downloads always convert line endings (use TYPE I for bytes as stored)"),
	NOTICE(ascii_upload_enable, BOOL,
	       "TYPE A uploads always convert line endings (use TYPE I for bytes as sent)"),
	NOTNEEDED(async_abor_enable, BOOL,
		  "ABOR is always answered during a transfer, urgent or not"),
	LISTEN(background),
	NOTNEEDED(check_shell, BOOL,
		  "only for vsftpd without PAM; use pam_shells in the PAM service"),
	REFUSE(chmod_enable, BOOL, "YES",
	       "SITE CHMOD is allowed whenever write_enable is; use write_enable=NO"),
	SAME(chown_uploads, BOOL, NULL),
	SAME(chroot_list_enable, BOOL, NULL),
	SAME(chroot_local_user, BOOL, "NO"),
	SAME(connect_from_port_20, BOOL, NULL),
	NOTICE(debug_ssl, BOOL, "TLS errors are always logged"),
	SAME(delete_failed_uploads, BOOL, NULL),
	REFUSE(deny_email_enable, BOOL, "NO",
	       "anonymous passwords are not checked against a list; use anonymous_enable=NO or "
	       "userlist_file"),
	REFUSE(dirlist_enable, BOOL, "YES",
	       "listings cannot be turned off; use hide_file or deny_file"),
	SAME(dirmessage_enable, BOOL, NULL),
	REFUSE(download_enable, BOOL, "YES",
	       "downloads cannot be turned off; use deny_file or file permissions"),
	NOTICE(dual_log_enable, BOOL,
	       "transfers are logged to xferlog_file (xferlog format) and sessions to syslog"),
	NOTICE(force_dot_files, BOOL, "LIST shows names starting with '.' only with -a"),
	REFUSE(force_anon_data_ssl, BOOL, "NO",
	       "anonymous data connections cannot be required to use TLS"),
	REFUSE(force_anon_logins_ssl, BOOL, "NO",
	       "anonymous logins cannot be required to use TLS; use anonymous_enable=NO"),
	SAME(force_local_data_ssl, BOOL, NULL),
	SAME(force_local_logins_ssl, BOOL, NULL),
	REFUSE(ftp_enable, BOOL, "YES", "ftpd always serves FTP"),
	SAME(guest_enable, BOOL, NULL),
	SAME(hide_ids, BOOL, NULL),
	REFUSE(http_enable, BOOL, "NO", "ftpd serves no HTTP"),
	REFUSE(implicit_ssl, BOOL, "NO",
	       "listen_port always serves plain FTP with AUTH TLS; ftpd.conf's implicit_ssl=YES "
	       "adds implicit FTPS on implicit_ssl_port beside it"),
	NOTNEEDED(isolate, BOOL,
		  "workers' seccomp allow-lists have no kill, ptrace or System V IPC calls, "
		  "which is what PID and IPC namespaces keep from vsftpd's"),
	NOTICE(isolate_network, BOOL,
	       "sessions get no network namespace; after login their seccomp allow-list "
	       "lets them make TCP sockets, for data connections"),
	LISTEN(listen),
	LISTEN(listen_ipv6),
	SAME(local_enable, BOOL, NULL),
	NOTNEEDED(lock_upload_files, BOOL,
		  "uploads are written under a hidden name and renamed once complete "
		  "(upload_atomic), so no reader sees a partial file"),
	NOTICE(log_ftp_protocol, BOOL, "commands and replies are not logged"),
	SAME(ls_recurse_enable, BOOL, NULL),
	SAME(mdtm_write, BOOL, NULL),
	NOTICE(no_anon_password, BOOL, "anonymous users are asked for a password (any is taken)"),
	NOTNEEDED(no_log_lock, BOOL, "ftpd takes no lock to write its logs"),
	NOTNEEDED(one_process_model, BOOL,
		  "every session runs as a privileged monitor and a sandboxed worker"),
	REFUSE(passwd_chroot_enable, BOOL, "NO",
	       "a /./ in a home is not a chroot point; use local_root with user_sub_token or "
	       "user_config_dir"),
	SAME(pasv_addr_resolve, BOOL, NULL),
	SAME(pasv_enable, BOOL, NULL),
	SAME(pasv_promiscuous, BOOL, NULL),
	SAME(port_enable, BOOL, NULL),
	SAME(port_promiscuous, BOOL, NULL),
	NOTNEEDED(ptrace_sandbox, BOOL, "workers always run under ftpd's seccomp allow-list"),
	REFUSE(require_cert, BOOL, "NO",
	       "client certificates are not checked; use passwords over TLS "
	       "(force_local_logins_ssl)"),
	SAME(require_ssl_reuse, BOOL, NULL),
	NOTNEEDED(run_as_launching_user, BOOL,
		  "started by another user than root, ftpd runs sessions as that user by itself"),
	NOTNEEDED(seccomp_sandbox, BOOL,
		  "workers always run under ftpd's own per-role seccomp allow-list"),
	REFUSE(secure_email_list_enable, BOOL, "NO",
	       "anonymous passwords are not checked against a list; use local or virtual users"),
	SAME(session_support, BOOL, "NO"),
	NOTICE(setproctitle_enable, BOOL,
	       "process titles are not changed; ftpd -s logs a status line per session"),
	SAME(ssl_enable, BOOL, NULL),
	NOTICE(ssl_request_cert, BOOL, "client certificates are not requested"),
	NOTICE(ssl_sslv2, BOOL, "ftpd speaks TLS 1.2 and 1.3 only"),
	NOTICE(ssl_sslv3, BOOL, "ftpd speaks TLS 1.2 and 1.3 only"),
	NOTICE(ssl_tlsv1, BOOL, "ftpd speaks TLS 1.2 and 1.3 only"),
	NOTICE(strict_ssl_read_eof, BOOL, "not configurable"),
	NOTICE(strict_ssl_write_shutdown, BOOL, "not configurable"),
	NOTICE(syslog_enable, BOOL,
	       "sessions always log to syslog (or stderr with -D); transfers to xferlog_file"),
	REFUSE(tcp_wrappers, BOOL, "NO",
	       "/etc/hosts.allow and hosts.deny are not read; use firewall rules, max_per_ip "
	       "or proxy_trusted_addresses"),
	NOTICE(text_userdb_names, BOOL,
	       "listings always show user and group names (hide_ids=YES shows ftp)"),
	NOTICE(tilde_user_enable, BOOL, "~ and ~user in paths are not expanded"),
	NOTICE(use_localtime, BOOL,
	       "listings and MDTM show UTC; the xferlog uses local time"),
	NOTNEEDED(use_sendfile, BOOL, "ftpd uses sendfile and splice where they apply"),
	NOTICE(utf8_filesystem, BOOL, "names pass as sent and FEAT always lists UTF8"),
	SAME(userlist_deny, BOOL, NULL),
	SAME(userlist_enable, BOOL, NULL),
	REFUSE(validate_cert, BOOL, "NO", "client certificates are not checked"),
	SAME(virtual_use_local_privs, BOOL, NULL),
	SAME(write_enable, BOOL, NULL),
	SAME(xferlog_enable, BOOL, "NO"),
	NOTICE(xferlog_std_format, BOOL,
	       "transfers are always logged in xferlog (wu-ftpd) format to xferlog_file; "
	       "vsftpd's own format is not written"),

	/* Numeric options. */
	SAME(accept_timeout, NUM, NULL),
	SAME(anon_max_rate, NUM, NULL),
	SAME(anon_umask, OCTAL, NULL),
	NOTICE(chown_upload_mode, OCTAL,
	       "chowned anonymous uploads keep the mode anon_umask gives them"),
	SAME(connect_timeout, NUM, NULL),
	SAME(data_connection_timeout, NUM, NULL),
	SAME(delay_failed_login, NUM, NULL),
	NOTICE(delay_successful_login, NUM, "successful logins are answered at once"),
	SAME(file_open_mode, OCTAL, NULL),
	SAME(ftp_data_port, NUM, NULL),
	SAME(idle_session_timeout, NUM, NULL),
	SAME(listen_port, NUM, NULL),
	SAME(local_max_rate, NUM, NULL),
	SAME(local_umask, OCTAL, "077"),
	SAME(max_clients, NUM, "0"),
	SAME(max_login_fails, NUM, NULL),
	SAME(max_per_ip, NUM, "0"),
	SAME(pasv_max_port, NUM, NULL),
	SAME(pasv_min_port, NUM, NULL),
	NOTNEEDED(trans_chunk_size, NUM, "rate limits are kept without a chunk size"),

	/* String options. */
	SAME(anon_root, STR, NULL),
	NOTICE(banned_email_file, STR, "read only with deny_email_enable, which is not supported"),
	SAME(banner_file, STR, NULL),
	NOTICE(ca_certs_file, STR, "client certificates are not checked"),
	SAME(chown_username, STR, NULL),
	SAME(chroot_list_file, STR, "/etc/vsftpd.chroot_list"),
	REFUSE(cmds_allowed, STR, "",
	       "commands cannot be listed one by one; use write_enable, port_enable, "
	       "pasv_enable and the anon_* switches"),
	REFUSE(cmds_denied, STR, "",
	       "commands cannot be listed one by one; use write_enable, port_enable, "
	       "pasv_enable and the anon_* switches"),
	SAME(deny_file, STR, NULL),
	REFUSE(download_file, STR, "", "downloads cannot be limited to a pattern; use deny_file"),
	NOTICE(dsa_cert_file, STR, "one certificate serves (rsa_cert_file, RSA or ECDSA)"),
	NOTICE(dsa_private_key_file, STR,
	       "one certificate serves (rsa_private_key_file, RSA or ECDSA)"),
	NOTICE(email_password_file, STR,
	       "read only with secure_email_list_enable, which is not supported"),
	SAME(ftp_username, STR, NULL),
	SAME(ftpd_banner, STR, NULL),
	SAME(guest_username, STR, NULL),
	SAME(hide_file, STR, NULL),
	SAME(listen_address, STR, NULL),
	SAME(listen_address6, STR, NULL),
	SAME(local_root, STR, NULL),
	SAME(message_file, STR, NULL),
	SAME(nopriv_user, STR, NULL),
	SAME(pam_service_name, STR, "vsftpd"),
	SAME(pasv_address, STR, NULL),
	AS(rsa_cert_file, STR, "ssl_cert_file", "/usr/share/ssl/certs/vsftpd.pem"),
	AS(rsa_private_key_file, STR, "ssl_key_file", NULL),
	SAME(secure_chroot_dir, STR, "/var/run/vsftpd/empty"),
	SAME(ssl_ciphers, STR, NULL),
	REFUSE(upload_file, STR, "", "uploads cannot be limited to a pattern; use deny_file"),
	SAME(user_config_dir, STR, NULL),
	SAME(user_sub_token, STR, NULL),
	SAME(userlist_file, STR, "/etc/vsftpd.user_list"),
	NOTICE(vsftpd_log_file, STR,
	       "transfers are logged to xferlog_file in xferlog format, sessions to syslog"),
	SAME(xferlog_file, STR, "/var/log/xferlog"),
	{NULL, 0, 0, NULL, NULL, NULL, NULL},
};
/* clang-format on */

const struct vsftpd_option *
vsftpd_find(const char *name)
{
	for (const struct vsftpd_option *o = vsftpd_options; o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* vsftpd's own boolean words (parseconf.c), any case: 1, 0 or -1. */
static int
vs_bool(const char *v)
{
	if (strcasecmp(v, "YES") == 0 || strcasecmp(v, "TRUE") == 0 || strcmp(v, "1") == 0)
		return 1;
	if (strcasecmp(v, "NO") == 0 || strcasecmp(v, "FALSE") == 0 || strcmp(v, "0") == 0)
		return 0;
	return -1;
}

/* A value of a row ftpd has no key for: NULL, or why it is no such value. */
static const char *
vs_bad_value(const struct vsftpd_option *o, const char *v)
{
	uint64_t u;

	switch (o->kind) {
	case VSFTPD_BOOL:
		return vs_bool(v) < 0 ? "expected YES or NO" : NULL;
	case VSFTPD_NUM:
		return number_parse(v, 0, UINT32_MAX, &u) < 0 ? "expected a whole number" : NULL;
	case VSFTPD_OCTAL:
		return number_parse_octal(v, 07777, &u) < 0 ? "expected an octal number" : NULL;
	case VSFTPD_STR:
		break;
	}
	return NULL;
}

/* Whether v is the one value a REFUSE row honours. */
static int
vs_honoured(const struct vsftpd_option *o, const char *v)
{
	if (o->kind == VSFTPD_BOOL)
		return vs_bool(v) == vs_bool(o->ok);
	return strcmp(v, o->ok) == 0;
}

static void
vs_note(struct vsftpd_load *l, const char *where, const char *key, const char *what,
        const char *why)
{
	buffer_printf(&l->notes, "%s: %s: notice: %s: %s\n", where, key, what, why);
	l->nnotes++;
}

static void
vs_listen(struct vsftpd_load *l, const char *key, int b, const char *where)
{
	if (strcmp(key, "background") == 0) {
		l->background = b;
	} else if (strcmp(key, "listen") == 0) {
		l->listen = b;
		free(l->listen_where);
		l->listen_where = xstrdup(where);
	} else {
		l->listen_ipv6 = b;
		free(l->listen_ipv6_where);
		l->listen_ipv6_where = xstrdup(where);
	}
}

/* conf_source.foreign: a key ftpd's table lacks (or one it has under
 * another name). Every row ftpd does not implement leaves one line. */
static enum conf_foreign_rc
vs_foreign(void *arg, const char *key, const char *value, const char *where, const char **key_out,
           const char **value_out, struct buffer *errors)
{
	struct vsftpd_load *l = arg;
	const struct vsftpd_option *o = vsftpd_find(key);
	const char *bad;

	if (o == NULL)
		return CONF_FOREIGN_UNKNOWN;
	if (o->what == VSFTPD_SAME || o->what == VSFTPD_AS) {
		*key_out = o->key;
		*value_out = value;
		return CONF_FOREIGN_SET;
	}
	if ((bad = vs_bad_value(o, value)) != NULL) {
		buffer_printf(errors, "%s: %s: %s (got \"%s\")\n", where, key, bad, value);
		return CONF_FOREIGN_BAD;
	}
	switch (o->what) {
	case VSFTPD_LISTEN:
		vs_listen(l, key, vs_bool(value), where);
		break;
	case VSFTPD_NOTNEEDED:
		vs_note(l, where, key, "accepted, not needed", o->why);
		break;
	case VSFTPD_NOTICE:
		if (strcmp(key, "xferlog_std_format") == 0) {
			l->std_format = vs_bool(value);
			free(l->std_format_where);
			l->std_format_where = xstrdup(where);
			break;
		}
		vs_note(l, where, key, "not supported", o->why);
		break;
	case VSFTPD_REFUSE:
		if (vs_honoured(o, value)) {
			vs_note(l, where, key, "not supported", o->why);
			break;
		}
		buffer_printf(errors, "%s: %s: cannot run as is: %s=%s is not supported: %s\n",
		              where, key, key, value, o->why);
		return CONF_FOREIGN_BAD;
	case VSFTPD_SAME:
	case VSFTPD_AS:
		break;
	}
	return CONF_FOREIGN_DONE;
}

static void
set_string(char **var, const char *value)
{
	free(*var);
	*var = xstrdup(value);
}

/* listen and listen_ipv6 as vsftpd means them; 0 or 1 error. */
static int
resolve_listen(const char *file, int inetd, struct vsftpd_load *l, struct buffer *errors)
{
	if (l->listen == 1 && l->listen_ipv6 == 1) {
		buffer_printf(errors,
		              "%s: listen_ipv6: cannot be YES with listen=YES (vsftpd refuses "
		              "both too); listen_ipv6=YES on :: serves IPv4 as well\n",
		              l->listen_ipv6_where);
		return 1;
	}
	if (l->listen == 1) {
		set_string(&opt.listen_address6, "");
	} else if (l->listen_ipv6 == 1) {
		/* vsftpd's socket on :: takes IPv4 too; ftpd's IPv6 sockets are
		 * IPv6-only, so 0.0.0.0 is bound beside it. */
		if (opt.listen_address6[0] == '\0')
			set_string(&opt.listen_address6, "::");
		set_string(&opt.listen_address,
		           strcmp(opt.listen_address6, "::") == 0 ? "0.0.0.0" : "");
	} else if (!inetd) {
		buffer_printf(errors,
		              "%s: listen: NO with listen_ipv6=NO is vsftpd's inetd mode: run "
		              "ftpd -i from inetd, or set listen=YES or listen_ipv6=YES\n",
		              l->listen_where != NULL ? l->listen_where : file);
		return 1;
	}
	return 0;
}

/* What vsftpd works out from other keys when one is not given. */
static void
resolve_defaults(const char *file, struct vsftpd_load *l)
{
	const char *std_why = vsftpd_find("xferlog_std_format")->why;
	struct passwd *pw;

	/* vsftpd: no rsa_private_key_file means the key is in the cert file. */
	if (!conf_is_set(ftpd_options_table, "ssl_key_file"))
		set_string(&opt.ssl_key_file, opt.ssl_cert_file);
	/* vsftpd: no anon_root means the anonymous user's home. */
	if (!conf_is_set(ftpd_options_table, "anon_root") &&
	    (pw = getpwnam(opt.ftp_username)) != NULL && pw->pw_dir[0] == '/')
		set_string(&opt.anon_root, pw->pw_dir);
	/* YES is what ftpd does; NO (given, or vsftpd's default with
	 * xferlog_enable) is vsftpd's own format in vsftpd_log_file. */
	if (l->std_format == 0)
		vs_note(l, l->std_format_where, "xferlog_std_format", "not supported", std_why);
	else if (l->std_format < 0 && opt.xferlog_enable)
		vs_note(l, file, "xferlog_std_format", "not supported (NO by default)", std_why);
}

/* vsftpd's defaults where they are not ftpd's, as conf_source wants them. */
static const char *const *
vs_defaults(void)
{
	static const char *list[64];
	static char text[64][128];
	size_t n = 0;

	if (list[0] != NULL)
		return list;
	for (const struct vsftpd_option *o = vsftpd_options; o->name != NULL; o++) {
		if (o->def == NULL)
			continue;
		/* The table is ours: a row too many is a bug, not a config error. */
		if (n + 1 >= sizeof(list) / sizeof(list[0]) ||
		    snprintf(text[n], sizeof(text[n]), "%s=%s", o->key, o->def) >=
		        (int)sizeof(text[n]))
			abort();
		list[n] = text[n];
		n++;
	}
	list[n] = NULL;
	return list;
}

int
vsftpd_read(const char *file, const struct vector *overrides, int inetd, struct vsftpd_load *l,
            struct buffer *errors)
{
	struct conf_source src = {.defaults = vs_defaults(), .foreign = vs_foreign, .arg = l};
	int bad;

	memset(l, 0, sizeof(*l));
	l->listen = l->listen_ipv6 = l->background = l->std_format = -1;
	bad = conf_load_from(ftpd_options_table, file, 1, overrides, &src, errors);
	if (bad > 0)
		return bad;
	bad = resolve_listen(file, inetd, l, errors);
	resolve_defaults(file, l);
	return bad;
}

void
vsftpd_load_free(struct vsftpd_load *l)
{
	free(l->listen_where);
	free(l->listen_ipv6_where);
	free(l->std_format_where);
	buffer_free(&l->notes);
}

void
vsftpd_man(FILE *out)
{
	for (const struct vsftpd_option *o = vsftpd_options; o->name != NULL; o++) {
		fputs(".TP\n.B ", out);
		conf_man_escape(out, o->name);
		fputc('\n', out);
		switch (o->what) {
		case VSFTPD_SAME:
			fputs("Implemented: ftpd's key of the same name", out);
			break;
		case VSFTPD_AS:
			fputs("Implemented as ", out);
			conf_man_escape(out, o->key);
			break;
		case VSFTPD_LISTEN:
			fputs("Implemented: see above", out);
			break;
		case VSFTPD_NOTNEEDED:
			fputs("Accepted, not needed: ", out);
			conf_man_escape(out, o->why);
			break;
		case VSFTPD_NOTICE:
			fputs("Not supported (a notice): ", out);
			conf_man_escape(out, o->why);
			break;
		case VSFTPD_REFUSE:
			fputs("Not supported; any value but ", out);
			conf_man_escape(out, o->ok[0] != '\0' ? o->ok : "empty");
			fputs(" stops ftpd: ", out);
			conf_man_escape(out, o->why);
			break;
		}
		if (o->def != NULL) {
			fputs(" (vsftpd's default: ", out);
			conf_man_escape(out, o->def);
			fputc(')', out);
		}
		fputs(".\n", out);
	}
}
