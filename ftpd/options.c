/* options: one row per key: name, type, variable, default, range, and the
 * line the man page prints. ftpd.conf(5) is generated from this table. */
#include "ftpd/options.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/core/paths.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "common/io/proxy.h"
#include "ftpd/namefilter.h"

struct ftpd_options opt;

static const char *const hook_kind_names[HOOK_KIND_COUNT] = {"upload", "delete", "rename"};

int
options_hook_kind(const char *word, size_t len)
{
	for (int k = 0; k < HOOK_KIND_COUNT; k++)
		if (strlen(hook_kind_names[k]) == len &&
		    strncmp(hook_kind_names[k], word, len) == 0)
			return k;
	return -1;
}

const char *
options_hook_kind_name(enum hook_kind kind)
{
	return (unsigned)kind < HOOK_KIND_COUNT ? hook_kind_names[kind] : NULL;
}

/* Calls fn on each comma-separated word of list (spaces around allowed);
 * stops at the first nonzero answer and returns it. */
static int
each_word(const char *list, int (*fn)(const char *w, size_t n, void *arg), void *arg)
{
	const char *p = list;

	while (*p != '\0') {
		const char *end;
		int rc;

		while (*p == ' ' || *p == ',')
			p++;
		end = p;
		while (*end != '\0' && *end != ',' && *end != ' ')
			end++;
		if (end > p && (rc = fn(p, (size_t)(end - p), arg)) != 0)
			return rc;
		p = end;
	}
	return 0;
}

static int
bad_word(const char *w, size_t n, void *arg)
{
	static char why[96];

	if (options_hook_kind(w, n) >= 0)
		return 0;
	snprintf(why, sizeof(why), "unknown event \"%.*s\" (upload, delete or rename)",
	         n > 32 ? 32 : (int)n, w);
	*(const char **)arg = why;
	return 1;
}

static const char *
check_hook_events(const char *v)
{
	const char *why = NULL;

	each_word(v, bad_word, &why);
	return why;
}

static int
names_kind(const char *w, size_t n, void *arg)
{
	return options_hook_kind(w, n) == *(int *)arg;
}

int
options_hook_wanted(enum hook_kind kind)
{
	int k = (int)kind;

	return opt.upload_hook[0] != '\0' && each_word(opt.hook_events, names_kind, &k);
}

/* clang-format off */
#define B(name, def, desc) {#name, CONF_BOOL, &opt.name, def, 0, 0, desc, NULL}
#define U(name, def, lo, hi, desc) {#name, CONF_UINT, &opt.name, def, lo, hi, desc, NULL}
#define O(name, def, desc) {#name, CONF_OCTAL, &opt.name, def, 0, 0777, desc, NULL}
#define S(name, def, desc) {#name, CONF_STRING, &opt.name, def, 0, 0, desc, NULL}
#define SC(name, def, chk, desc) {#name, CONF_STRING, &opt.name, def, 0, 0, desc, chk}

const struct conf_option ftpd_options_table[] = {
	SC(listen_address, "0.0.0.0", conf_check_address,
	   "IPv4 (or IPv6) address to listen on; empty for none."),
	SC(listen_address6, "", conf_check_address,
	   "IPv6 address to listen on as well, e.g. ::; empty for none."),
	U(listen_port, "21", 1, 65535, "Port for FTP control connections."),
	S(ftpd_banner, "Postel FTP server ready.", "Text of the 220 greeting."),
	SC(banner_file, "", conf_check_abspath,
	   "File whose lines make the 220 greeting instead of ftpd_banner (read at start and on "
	   "SIGHUP, at most 4000 bytes)."),
	U(max_clients, "2000", 0, 1000000,
	  "Most sessions at once (0: no limit); beyond it a client gets 421 and is closed."),
	U(max_per_ip, "50", 0, 1000000,
	  "Most sessions from one client address (0: no limit); beyond it 421."),
	U(ipv6_prefix_len, "64", 32, 128,
	  "IPv6 clients are counted per block of this prefix for max_per_ip and "
	  "failed_login_backoff (one site may use any address of its /64); IPv4 per address."),
	U(shutdown_grace, "10", 0, 3600,
	  "Seconds sessions get to end after SIGTERM before they are killed."),
	B(anonymous_enable, "YES", "Allow anonymous logins (users anonymous and ftp)."),
	B(local_enable, "NO", "Allow local users to log in through PAM."),
	B(guest_enable, "NO", "Map every non-anonymous PAM login to guest_username (virtual users)."),
	B(virtual_use_local_privs, "NO",
	  "Virtual users get local users' rights (else anonymous users' anon_* rights)."),
	B(write_enable, "NO", "Allow any command that changes the filesystem."),
	SC(anon_root, PATH_FTP_ROOT, conf_check_abspath,
	   "Directory anonymous sessions are chrooted to."),
	S(ftp_username, "ftp", "User anonymous sessions run as."),
	S(guest_username, "ftp", "User virtual (guest) sessions run as."),
	S(local_root, "", "Directory local users start in (and are chrooted to) instead of home."),
	S(user_sub_token, "",
	  "Text (e.g. $USER) replaced by the login name in local_root and in the home of "
	  "guest_username, so each virtual user gets a root of its own."),
	SC(user_config_dir, "", conf_check_abspath,
	   "Directory of files named after local or virtual users; the monitor applies the "
	   "per-session keys one sets (local_root, write_enable, umasks, rates, deny_file, "
	   "hide_file, timeouts...) at that user's login. ftpd -t checks every file."),
	B(userlist_enable, "NO", "Check every USER name against userlist_file, before the password."),
	B(userlist_deny, "YES",
	  "With userlist_enable: names in userlist_file are refused (NO: only they may log in)."),
	S(userlist_file, PATH_FTPD_USER_LIST,
	  "File of user names, one per line ('#' comments), read at start and on SIGHUP."),
	B(chroot_local_user, "YES", "Chroot local users to their home (or local_root)."),
	B(chroot_list_enable, "NO",
	  "Users named in chroot_list_file are the exceptions to chroot_local_user: not chrooted "
	  "when it is YES, chrooted when it is NO."),
	S(chroot_list_file, PATH_FTPD_CHROOT_LIST,
	  "File of user names, one per line, read at each login (an unreadable one refuses it)."),
	B(allow_writeable_chroot, "NO", "Allow a chroot root the session user can write to."),
	B(anon_upload_enable, "NO", "Let anonymous users upload (needs write_enable)."),
	B(anon_mkdir_write_enable, "NO", "Let anonymous users create directories."),
	B(mdtm_write, "YES",
	  "MDTM YYYYMMDDHHMMSS path sets the modification time, as MFMT does (where writing is "
	  "allowed); NO: MDTM only reads times."),
	B(anon_other_write_enable, "NO",
	  "Let anonymous users delete, rename and overwrite (a public drop should say NO)."),
	B(anon_world_readable_only, "YES", "Anonymous users download only world-readable files."),
	B(chown_uploads, "NO", "Give anonymous uploads to chown_username."),
	S(chown_username, "root", "Owner of anonymous uploads when chown_uploads=YES."),
	B(hide_ids, "NO", "Show every owner and group as ftp in listings."),
	U(max_list_entries, "0", 0, 100000000,
	  "Most entries one LIST, NLST, MLSD or STAT may list (0: no limit); a bigger directory "
	  "gets 451 before any entry is sent. Listings stream, so memory grows with the names "
	  "alone."),
	B(ls_recurse_enable, "NO",
	  "LIST -R and NLST -R (and -lR, -aR, ...) list a directory and every directory below it "
	  "as ls -R does, symlinks never entered; NO: -R is ignored, as vsftpd does."),
	U(ls_recurse_max_depth, "32", 1, 100,
	  "With ls_recurse_enable: most levels a recursive listing goes below the directory "
	  "named; a deeper directory ends it with 451 after what was listed."),
	U(ls_recurse_max_entries, "100000", 1, 100000000,
	  "With ls_recurse_enable: most entries a recursive listing lists over all its "
	  "directories; one more ends it with 451 after what was listed."),
	SC(deny_file, "", namefilter_check,
	   "Names no command may touch, in vsftpd's syntax ({*.mp3,*.mov,.private}: '*', '?', "
	   "{,}); every component of a path is checked, a pattern with '/' against the whole "
	   "path. Listed, but refused (550) to RETR, STOR, CWD, SIZE, LIST of it, ..."),
	SC(hide_file, "", namefilter_check,
	   "Names left out of LIST, NLST, MLSD and STAT listings (vsftpd's syntax); still "
	   "reachable by name."),
	B(dirmessage_enable, "NO",
	  "Show message_file of a directory (at most 4000 bytes) the first time a session "
	  "enters it, and at login."),
	S(message_file, ".message", "The directory message file, relative to each directory."),
	B(delete_failed_uploads, "NO",
	  "Remove the partial of a failed or aborted upload at once (nothing is left to resume)."),
	B(upload_atomic, "YES",
	  "STOR, STOU and APPE write to a hidden name in the target directory; the file appears "
	  "under its name by one rename once complete (a replaced file's readers keep the old one)."),
	U(upload_partial_keep, "86400", 0, 1UL << 31,
	  "Seconds a failed upload's partial (upload_atomic) waits for its user to resume it "
	  "(REST+STOR or APPE); anonymous partials are removed at once."),
	B(upload_fsync, "NO",
	  "226 after an upload means the file (with upload_atomic, its directory too) is on "
	  "disk (fsync)."),
	O(anon_umask, "077", "Umask for anonymous uploads (077: readable by nobody)."),
	O(local_umask, "022", "Umask for files local users create."),
	O(file_open_mode, "0666", "Mode uploads are created with, before the umask."),
	S(pam_service_name, "ftpd", "PAM service for local and guest logins."),
	B(session_support, "YES",
	  "Open a PAM session for local and guest logins (pam_limits, pam_loginuid apply)."),
	S(nopriv_user, "nobody",
	  "Unprivileged user sessions run as before login (anonymous-only servers: ftp_username)."),
	SC(secure_chroot_dir, PATH_EMPTY, conf_check_abspath,
	   "Empty directory, not writable by nopriv_user, for the pre-login chroot."),
	B(connect_from_port_20, "NO",
	  "Active mode connects from ftp_data_port (needs root). The monitor connects, only to "
	  "the client's address (any with port_promiscuous), never to a port below 1024 or "
	  "2049, and the session gets the connected socket."),
	U(ftp_data_port, "20", 1, 65535, "Source port of active connections."),
	B(port_enable, "YES", "Allow active mode (PORT, EPRT)."),
	B(pasv_enable, "YES", "Allow passive mode (PASV, EPSV)."),
	U(pasv_min_port, "0", 0, 65535, "Lowest passive port (0: any)."),
	U(pasv_max_port, "0", 0, 65535, "Highest passive port (0: any)."),
	S(pasv_address, "",
	  "IPv4 address to advertise in PASV replies (behind NAT); anything else stops ftpd at "
	  "start."),
	B(pasv_addr_resolve, "NO",
	  "pasv_address may be a host name, resolved to IPv4 at start and on SIGHUP."),
	B(pasv_promiscuous, "NO", "Accept passive data connections from any address."),
	B(port_promiscuous, "NO", "Allow PORT/EPRT to any address and port (FTP bounce)."),
	B(xferlog_enable, "YES", "Write one xferlog line per transfer."),
	S(xferlog_file, PATH_XFERLOG, "The xferlog file (wu-ftpd format)."),
	U(idle_session_timeout, "300", 1, 86400, "Seconds of idle control connection before 421."),
	U(data_connection_timeout, "300", 1, 86400, "Seconds a stalled transfer may wait."),
	U(accept_timeout, "60", 1, 3600, "Seconds to wait for a passive data connection."),
	U(connect_timeout, "60", 1, 3600, "Seconds to wait for an active data connection."),
	U(delay_failed_login, "1", 0, 60, "Seconds before answering a failed login."),
	U(max_login_fails, "3", 1, 1000, "Failed logins before the session is closed."),
	U(failed_login_backoff, "30", 0, 3600,
	  "After a session is closed for failed logins, its address waits this many seconds "
	  "before it may connect again, doubling with each repeat up to an hour (0: never)."),
	U(anon_max_rate, "0", 0, 1UL << 40, "Bytes per second per anonymous session (0: no limit)."),
	U(local_max_rate, "0", 0, 1UL << 40, "Bytes per second per local session (0: no limit)."),
	U(upload_max_rate, "0", 0, 1UL << 40,
	  "Bytes per second per session for uploads (0: anon_max_rate or local_max_rate applies)."),
	U(download_max_rate, "0", 0, 1UL << 40,
	  "Bytes per second per session for downloads (0: anon_max_rate or local_max_rate applies)."),
	U(max_rate_per_ip_download, "0", 0, 1UL << 40,
	  "Bytes per second for the downloads and hashes of all sessions of one address together "
	  "(an IPv6 client: of its ipv6_prefix_len block; 0: no limit)."),
	U(max_rate_per_ip_upload, "0", 0, 1UL << 40,
	  "Bytes per second for the uploads of all sessions of one address together (0: no limit)."),
	U(max_rate_total_download, "0", 0, 1UL << 40,
	  "Bytes per second for the downloads and hashes of the whole server (0: no limit)."),
	U(max_rate_total_upload, "0", 0, 1UL << 40,
	  "Bytes per second for the uploads of the whole server (0: no limit)."),
	U(quota_bytes, "0", 0, 1UL << 62,
	  "Most bytes of files under the user's root (0: no limit); an upload beyond it gets 552 and "
	  "leaves nothing. Needs a root other than /; the usage is kept in its .ftpquota."),
	U(quota_files, "0", 0, 1UL << 40,
	  "Most files and directories under the user's root (0: no limit); STOR of a new name or MKD "
	  "beyond it gets 552."),
	U(max_sessions_per_user, "0", 0, 100000,
	  "Most sessions at once of one login name, anonymous ones under \"anonymous\" (0: no "
	  "limit); the one beyond it gets 421 after PASS."),
	SC(session_lock_dir, PATH_FTPD_SESSIONS, conf_check_abspath,
	   "Root-only directory of max_sessions_per_user's slot files (made at need)."),
	S(pid_file, PATH_FTPD_PID, "Pid file written when running in the background."),
	SC(metrics_file, "", conf_check_metrics_file,
	   "Prometheus text file (*.prom) of the counters: sessions, logins, bytes, transfers, "
	   "refusals; rewritten atomically every metrics_interval seconds for node_exporter's "
	   "textfile collector (empty: none)."),
	U(metrics_interval, "15", 1, 3600, "Seconds between rewrites of metrics_file."),
	B(ssl_enable, "NO", "Offer FTPS: AUTH TLS on the control port (RFC 4217)."),
	B(allow_anon_ssl, "NO", "Let anonymous sessions use TLS."),
	B(force_local_logins_ssl, "YES",
	  "With ssl_enable, local and virtual users must AUTH TLS before sending a password."),
	B(force_local_data_ssl, "YES",
	  "With ssl_enable, local and virtual users' data connections must be encrypted (PROT P)."),
	B(require_ssl_reuse, "YES",
	  "A TLS data connection must resume the control connection's TLS session, "
	  "proving it comes from the same client (else 522)."),
	B(implicit_ssl, "NO", "Also listen on implicit_ssl_port for implicit FTPS (TLS from the start)."),
	U(implicit_ssl_port, "990", 1, 65535, "Port of the implicit FTPS listener."),
	S(ssl_cert_file, PATH_CERT, "PEM certificate chain for TLS."),
	S(ssl_key_file, PATH_KEY, "PEM private key for TLS (readable by root only)."),
	S(ssl_ciphers, "", "OpenSSL cipher list for TLS 1.2 (empty: OpenSSL's defaults)."),
	B(proxy_protocol, "NO",
	  "Behind HAProxy: every connection starts with a PROXY v1/v2 header naming the client."),
	SC(proxy_trusted_addresses, "", proxy_check_list,
	   "Addresses and CIDR blocks (comma-separated) PROXY headers are accepted from."),
	SC(upload_hook, "", conf_check_abspath,
	   "Program run once for every completed upload (after its final rename) and for "
	   "hook_events, by the hook runner as hook_user, with the event in its environment: "
	   "POSTEL_EVENT, POSTEL_PATH (the real path), POSTEL_OLD_PATH (rename), POSTEL_USER, "
	   "POSTEL_CLIENT, POSTEL_SIZE, POSTEL_SESSION, POSTEL_TRY. Events are queued on disk "
	   "before the 226; the 226 never waits for the program. Empty: none."),
	SC(hook_events, "upload", check_hook_events,
	   "Comma-separated events that run upload_hook: upload, delete (DELE), rename (RNTO)."),
	S(hook_user, "nobody", "User upload_hook runs as (never root)."),
	U(hook_timeout, "60", 1, 86400,
	  "Seconds upload_hook may run; then its process group is killed and the event retried."),
	U(hook_max_tries, "10", 1, 1000,
	  "Runs of upload_hook for one event (a non-zero exit or a timeout is retried after 1, 2, "
	  "4 ... up to 300 seconds); then the event is kept in hook_queue_dir/failed."),
	SC(hook_queue_dir, PATH_HOOK_QUEUE, conf_check_abspath,
	   "Directory (root's, mode 0700 made if missing) of the queued hook events, one file "
	   "each, and of the hook runner's socket."),
	{NULL, 0, NULL, NULL, 0, 0, NULL, NULL},
};
/* clang-format on */

/* The keys a user_config_dir file may set: what one session does, never
 * what the daemon or the pre-login session do (listen_*, max_clients,
 * ssl_*, nopriv_user, ...) nor who the session becomes. */
/* clang-format off */
const char *const ftpd_user_keys[] = {
	"local_root", "chroot_local_user", "allow_writeable_chroot", "write_enable",
	"local_umask", "anon_umask", "file_open_mode", "anon_upload_enable",
	"anon_mkdir_write_enable", "anon_other_write_enable", "anon_world_readable_only", "mdtm_write",
	"virtual_use_local_privs", "hide_ids", "delete_failed_uploads", "deny_file",
	"hide_file", "dirmessage_enable", "message_file", "local_max_rate", "anon_max_rate",
	"idle_session_timeout", "data_connection_timeout", "accept_timeout",
	"connect_timeout", "port_enable", "pasv_enable", "xferlog_enable",
	"force_local_data_ssl", "upload_max_rate", "download_max_rate", "quota_bytes",
	"quota_files", "max_sessions_per_user", NULL,
};
/* clang-format on */

/* vsftpd's VSFTP_MAX_MSGFILE_SIZE, for banner_file. */
#define BANNER_MAX 4000
#define LIST_MAX (1024 * 1024)

struct ftpd_loaded ftpd_loaded;

/* "WHERE: key: reason": where the key was set, or the default's name. */
static void __attribute__((format(printf, 3, 4)))
prep_error(struct buffer *errors, const char *key, const char *fmt, ...)
{
	const char *where = conf_where(ftpd_options_table, key);
	va_list ap;

	buffer_printf(errors, "%s: %s: ", where ? where : "(default)", key);
	va_start(ap, fmt);
	buffer_vprintf(errors, fmt, ap);
	va_end(ap);
	buffer_puts(errors, "\n");
}

/* The key to blame for a file key at its default: the switch that uses it. */
static const char *
blame(const char *file_key, const char *enable_key)
{
	return conf_where(ftpd_options_table, file_key) ? file_key : enable_key;
}

static int
read_file(const char *path, size_t max, struct buffer *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	rc = read_upto(fd, out, max);
	close(fd);
	if (rc > 0)
		errno = EFBIG;
	return rc == 0 ? 0 : -1;
}

static const char *
read_error(void)
{
	return errno == EINVAL  ? "not a regular file"
	       : errno == EFBIG ? "too long"
	                        : strerror(errno);
}

/* One name per line; '#' starts a comment; blanks around are dropped. */
static void
parse_names(struct vector *names, struct buffer *text)
{
	char *p = buffer_cstr(text), *end, *name;

	vector_clear(names);
	for (; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, '\n');
		name = p + strspn(p, " \t");
		size_t n = strcspn(name, "#\r\n \t");
		if (n > 0)
			vector_addn(names, name, n);
	}
}

int
options_read_names(const char *path, struct vector *names)
{
	struct buffer text = BUFFER_INIT;
	int rc = read_file(path, LIST_MAX, &text);

	if (rc == 0)
		parse_names(names, &text);
	buffer_free(&text);
	return rc;
}

int
options_name_listed(const struct vector *names, const char *user)
{
	int anon = strcasecmp(user, "anonymous") == 0 || strcasecmp(user, "ftp") == 0;

	for (size_t i = 0; i < names->count; i++) {
		const char *n = names->strings[i];

		/* One account has two names: listing either lists both. */
		if (strcmp(n, user) == 0 ||
		    (anon && (strcasecmp(n, "anonymous") == 0 || strcasecmp(n, "ftp") == 0)))
			return 1;
	}
	return 0;
}

int
options_user_refused(const char *user)
{
	if (!opt.userlist_enable)
		return 0;
	return options_name_listed(&ftpd_loaded.userlist, user) == opt.userlist_deny;
}

int
options_user_name_ok(const char *user)
{
	return user[0] != '\0' && strchr(user, '/') == NULL && strcmp(user, ".") != 0 &&
	       strcmp(user, "..") != 0;
}

static int
user_file_check(int dirfd, const char *dir, const char *user, int apply, struct buffer *errors)
{
	char *name;
	FILE *f;
	int fd, bad;

	/* SECURITY: the name is one entry of the directory, never a path:
	 * "..", "../x" or "/etc/x" cannot pick a file outside it. */
	if (!options_user_name_ok(user)) {
		buffer_printf(errors, "%s: user name \"%s\" cannot name a file\n", dir, user);
		return -1;
	}
	fd = openat(dirfd, user, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	name = xasprintf("%s/%s", dir, user);
	if (fd < 0 || (f = fdopen(fd, "r")) == NULL) {
		buffer_printf(errors, "%s: cannot open: %s\n", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(name);
		return -1;
	}
	bad = conf_overlay(ftpd_options_table, ftpd_user_keys, f, name, apply, errors);
	fclose(f);
	free(name);
	return bad > 0 ? -1 : 0;
}

int
options_user_file(const char *user, int apply, struct buffer *errors)
{
	int dirfd, rc;

	if (opt.user_config_dir[0] == '\0')
		return 0;
	dirfd = open(opt.user_config_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		buffer_printf(errors, "%s: cannot open: %s\n", opt.user_config_dir,
		              strerror(errno));
		return -1;
	}
	rc = user_file_check(dirfd, opt.user_config_dir, user, apply, errors);
	close(dirfd);
	return rc;
}

/* ftpd -t and every start: each file of user_config_dir must load. */
static int
check_user_dir(struct buffer *errors)
{
	struct dirent *de;
	int bad = 0;
	DIR *d;

	if (opt.user_config_dir[0] == '\0')
		return 0;
	d = opendir(opt.user_config_dir);
	if (d == NULL) {
		prep_error(errors, "user_config_dir", "cannot open %s: %s", opt.user_config_dir,
		           strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		bad += user_file_check(dirfd(d), opt.user_config_dir, de->d_name, 0, errors) < 0;
	}
	closedir(d);
	return bad;
}

/* SECURITY: what PASV advertises is checked here, once: a bad text must
 * stop the daemon, never become 0.0.0.0 (or garbage) on the wire. */
static int
prepare_pasv(struct ftpd_loaded *next, struct buffer *errors)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	int rc;

	if (opt.pasv_address[0] == '\0' ||
	    inet_pton(AF_INET, opt.pasv_address, &next->pasv_addr) == 1)
		return 0;
	if (!opt.pasv_addr_resolve) {
		prep_error(errors, "pasv_address",
		           "not a numeric IPv4 address (got \"%s\"; a host name needs "
		           "pasv_addr_resolve=YES)",
		           opt.pasv_address);
		return 1;
	}
	rc = getaddrinfo(opt.pasv_address, NULL, &hints, &res);
	if (rc != 0) {
		prep_error(errors, "pasv_address", "cannot resolve \"%s\" to IPv4: %s",
		           opt.pasv_address, gai_strerror(rc));
		return 1;
	}
	next->pasv_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	if (next->pasv_addr.s_addr == htonl(INADDR_ANY)) {
		prep_error(errors, "pasv_address", "\"%s\" resolves to 0.0.0.0", opt.pasv_address);
		return 1;
	}
	return 0;
}

static int
prepare_files(struct ftpd_loaded *next, struct buffer *errors)
{
	struct buffer text = BUFFER_INIT;
	struct vector chroots = VECTOR_INIT;
	int bad = 0;

	if (opt.banner_file[0] != '\0') {
		if (read_file(opt.banner_file, BANNER_MAX, &text) < 0) {
			prep_error(errors, "banner_file", "%s: %s", opt.banner_file, read_error());
			bad++;
		} else
			next->banner = xstrdup(buffer_cstr(&text));
	}
	if (opt.userlist_enable && options_read_names(opt.userlist_file, &next->userlist) < 0) {
		prep_error(errors, blame("userlist_file", "userlist_enable"), "%s: %s",
		           opt.userlist_file, read_error());
		bad++;
	}
	if (!opt.userlist_enable && conf_where(ftpd_options_table, "userlist_file") != NULL &&
	    strcmp(opt.userlist_file, conf_default(ftpd_options_table, "userlist_file")) != 0) {
		/* vsftpd reads the list only with userlist_enable; a deny
		 * list that silently denies no one is worse than an error.
		 * The default path restated (as -T prints it) names no list. */
		prep_error(errors, "userlist_file", "has no effect without userlist_enable=YES");
		bad++;
	}
	if (opt.chroot_list_enable && options_read_names(opt.chroot_list_file, &chroots) < 0) {
		prep_error(errors, blame("chroot_list_file", "chroot_list_enable"), "%s: %s",
		           opt.chroot_list_file, read_error());
		bad++;
	}
	vector_free(&chroots);
	buffer_free(&text);
	return bad;
}

/* SECURITY: the hook runs as hook_user, a real account and never root:
 * a file a stranger uploads must never start a program as root. */
static int
check_hooks(struct buffer *errors)
{
	struct passwd *pw;
	int bad = 0;

	if (opt.upload_hook[0] == '\0')
		return 0;
	if ((pw = getpwnam(opt.hook_user)) == NULL) {
		prep_error(errors, "hook_user", "no such user \"%s\"", opt.hook_user);
		bad++;
	} else if (pw->pw_uid == 0) {
		prep_error(errors, "hook_user", "\"%s\" is root: hooks never run as root",
		           opt.hook_user);
		bad++;
	}
	if (strlen(opt.hook_queue_dir) + sizeof("/" PATH_HOOK_SOCKET_NAME) >
	    sizeof(((struct sockaddr_un *)0)->sun_path)) {
		prep_error(errors, "hook_queue_dir", "too long for the runner's socket path");
		bad++;
	}
	return bad;
}

int
options_prepare(struct buffer *errors)
{
	struct ftpd_loaded next;
	int bad;

	memset(&next, 0, sizeof(next));
	bad = prepare_pasv(&next, errors) + prepare_files(&next, errors) + check_user_dir(errors) +
	      check_hooks(errors);
	if (bad > 0) {
		free(next.banner);
		vector_free(&next.userlist);
		return bad;
	}
	free(ftpd_loaded.banner);
	vector_free(&ftpd_loaded.userlist);
	ftpd_loaded = next;
	return 0;
}
