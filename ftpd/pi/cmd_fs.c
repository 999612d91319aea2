/* cmd_fs: commands on the tree itself: directories, names, file facts and
 * SITE. Every path goes through resolve() and the fs layer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "ftpd/dtp/quota.h"
#include "ftpd/ftpaddr.h"
#include "ftpd/options.h"
#include "ftpd/pi/banner.h"
#include "ftpd/pi/commands.h"
#include "ftpd/pi/monreq.h"
#include "ftpd/pi/upload.h"

/* A path inside a 257 reply: '"' doubled (RFC 959 appendix II). */
static void
reply_257(struct ftp_session *s, const char *vpath, const char *what)
{
	conn_printf(&s->ctl, "%d \"", FTP_PATH_CREATED);
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

void
cmd_cwd(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;

	if (resolve(s, arg, &v) < 0) {
		buffer_free(&v);
		return;
	}
	if (fs_chdir(&s->fs, buffer_cstr(&v)) < 0)
		reply(s, FTP_FILE_UNAVAILABLE, "Failed to change directory.");
	else {
		banner_dir_message(s, FTP_FILE_ACTION_OK);
		reply(s, FTP_FILE_ACTION_OK, "Directory successfully changed.");
	}
	buffer_free(&v);
}

void
cmd_cdup(struct ftp_session *s, const char *arg)
{
	(void)arg;
	cmd_cwd(s, "..");
}

void
cmd_pwd(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply_257(s, s->fs.cwd, "is the current directory");
}

/* With a quota, a command that adds or removes a name runs under the
 * usage lock (dtp/quota.c), so what it did and what it counts agree
 * across parallel sessions. 0 with the lock, or -1 replied. */
static int
usage_lock(struct ftp_session *s, struct quota_usage *u)
{
	if (quota_begin(u) == 0)
		return 0;
	reply_errno(s, FTP_LOCAL_ERROR, FTP_TEXT_QUOTA_FAIL);
	return -1;
}

/* What vpath holds in the usage, counted as the scan counts it: a regular
 * file its bytes and one file, a directory one file. */
static void
usage_held(struct ftp_session *s, const char *vpath, struct quota_usage *held)
{
	struct stat st;

	memset(held, 0, sizeof(*held));
	if (fs_stat(&s->fs, vpath, &st, 0) < 0)
		return;
	if (S_ISREG(st.st_mode)) {
		held->bytes = (uint64_t)st.st_size;
		held->files = 1;
	} else if (S_ISDIR(st.st_mode))
		held->files = 1;
}

static void
usage_release(struct quota_usage *u, const struct quota_usage *held)
{
	u->bytes -= held->bytes < u->bytes ? held->bytes : u->bytes;
	u->files -= held->files < u->files ? held->files : u->files;
}

/* MKD counts as a file against quota_files, as pure-ftpd counts it. */
void
cmd_mkd(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	struct quota_usage u;

	if (pi_may_write(s, W_MKDIR) && resolve(s, arg, &v) == 0 && usage_lock(s, &u) == 0) {
		if (!quota_room(&u, 0, 0, 1)) {
			quota_end();
			log_msg(LOG_NOTICE, "MKD %s refused: quota_files", buffer_cstr(&v));
			reply(s, FTP_QUOTA_EXCEEDED, FTP_TEXT_QUOTA);
		} else if (fs_mkdir(&s->fs, buffer_cstr(&v), 0777 & ~(mode_t)s->umask) < 0) {
			quota_end();
			reply_errno(s, FTP_FILE_UNAVAILABLE, "Create directory operation failed");
		} else {
			u.files++;
			quota_commit(&u);
			reply_257(s, buffer_cstr(&v), "created");
		}
	}
	buffer_free(&v);
}

void
cmd_rmd(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	struct quota_usage u, held;

	if (pi_may_write(s, W_OTHER) && resolve(s, arg, &v) == 0 && usage_lock(s, &u) == 0) {
		usage_held(s, buffer_cstr(&v), &held);
		if (fs_rmdir(&s->fs, buffer_cstr(&v)) < 0) {
			quota_end();
			reply_errno(s, FTP_FILE_UNAVAILABLE, "Remove directory operation failed");
		} else {
			usage_release(&u, &held);
			quota_commit(&u);
			reply(s, FTP_FILE_ACTION_OK, "Remove directory operation successful.");
		}
	}
	buffer_free(&v);
}

/* A change upload_hook hears of (hook_events): 250 once its event is
 * queued on disk, 451 if it could not be. A rename is reported when it
 * leaves a regular file under a new name. */
static void
reply_reported(struct ftp_session *s, enum hook_kind kind, const char *path, const char *old,
               const char *text)
{
	struct stat st;
	int report = kind != HOOK_RENAME || (strcmp(old, path) != 0 &&
	                                     fs_stat(&s->fs, path, &st, 0) == 0 && S_ISREG(st.st_mode));

	if (report && monreq_hook(s, kind, path, old) < 0)
		reply(s, FTP_LOCAL_ERROR, "Done, but its hook event could not be queued.");
	else
		reply(s, FTP_FILE_ACTION_OK, "%s", text);
}

void
cmd_dele(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	struct quota_usage u, held;

	if (pi_may_write(s, W_OTHER) && resolve(s, arg, &v) == 0 && usage_lock(s, &u) == 0) {
		usage_held(s, buffer_cstr(&v), &held);
		if (fs_unlink(&s->fs, buffer_cstr(&v)) < 0) {
			quota_end();
			reply_errno(s, FTP_FILE_UNAVAILABLE, "Delete operation failed");
		} else {
			usage_release(&u, &held);
			quota_commit(&u);
			reply_reported(s, HOOK_DELETE, buffer_cstr(&v), NULL, "Delete operation successful.");
		}
	}
	buffer_free(&v);
}

void
cmd_rnfr(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	struct stat st;

	free(s->rnfr);
	s->rnfr = NULL;
	if (pi_may_write(s, W_OTHER) && resolve(s, arg, &v) == 0) {
		if (fs_stat(&s->fs, buffer_cstr(&v), &st, 0) < 0)
			reply_errno(s, FTP_FILE_UNAVAILABLE, "RNFR command failed");
		else {
			s->rnfr = xstrdup(buffer_cstr(&v));
			reply(s, FTP_PENDING_FURTHER_INFO, "Ready for RNTO.");
		}
	}
	buffer_free(&v);
}

void
cmd_rnto(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	struct quota_usage u, held;

	if (s->rnfr == NULL) {
		reply(s, FTP_BAD_SEQUENCE, "RNFR required first.");
		return;
	}
	/* A rename inside the root changes no usage, but a name it replaces
	 * goes, with what it held. */
	if (pi_may_write(s, W_OTHER) && resolve(s, arg, &v) == 0 && usage_lock(s, &u) == 0) {
		struct stat from, to;

		usage_held(s, buffer_cstr(&v), &held);
		if (fs_stat(&s->fs, s->rnfr, &from, 0) == 0 &&
		    fs_stat(&s->fs, buffer_cstr(&v), &to, 0) == 0 && from.st_ino == to.st_ino &&
		    from.st_dev == to.st_dev)
			memset(&held, 0, sizeof(held)); /* the same file: rename(2) does nothing */
		if (fs_rename(&s->fs, s->rnfr, buffer_cstr(&v)) < 0) {
			quota_end();
			reply_errno(s, FTP_FILE_UNAVAILABLE, "Rename failed");
		} else {
			usage_release(&u, &held);
			quota_commit(&u);
			reply_reported(s, HOOK_RENAME, buffer_cstr(&v), s->rnfr, "Rename successful.");
		}
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
		reply_errno(s, FTP_FILE_UNAVAILABLE, "Could not get file information");
		return -1;
	}
	return 0;
}

void
cmd_size(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	struct stat st;
	uint64_t partial;

	/* A name not there yet that this user's failed upload waits under:
	 * the size a resume (lftp put -c, curl -C -) continues from. */
	if (resolve(s, arg, &v) < 0) {
		buffer_free(&v);
		return;
	}
	if (fs_stat(&s->fs, buffer_cstr(&v), &st, 1) < 0 && errno == ENOENT &&
	    upload_partial_size(s, buffer_cstr(&v), &partial) == 0)
		reply(s, FTP_FILE_STATUS, "%llu", (unsigned long long)partial);
	else if (stat_readable(s, arg, &v, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			reply(s, FTP_FILE_UNAVAILABLE, "Could not get file size.");
		else
			reply(s, FTP_FILE_STATUS, "%lld", (long long)st.st_size);
	}
	buffer_free(&v);
}

/* The time word of "MDTM/MFMT YYYYMMDDHHMMSS path" in stamp, *path after
 * it; -1 when arg has no such word and a path after it. */
static int
split_time(const char *arg, char stamp[32], const char **path, time_t *when)
{
	const char *sp = strchr(arg, ' ');

	if (sp == NULL || sp == arg || (size_t)(sp - arg) >= 32 || sp[1] == '\0')
		return -1;
	memcpy(stamp, arg, (size_t)(sp - arg));
	stamp[sp - arg] = '\0';
	*path = sp + 1;
	return ftpaddr_parse_time(stamp, when);
}

/* Set path's modification time, with every check a change has: write
 * rights (write_enable, anonymous rights), deny_file, the root. 0 when
 * set (the caller replies), or -1 replied. */
static int
set_mtime(struct ftp_session *s, const char *path, time_t when)
{
	struct buffer v = BUFFER_INIT;
	int rc = -1;

	if (pi_may_write(s, W_OTHER) && resolve(s, path, &v) == 0) {
		if (fs_utimes(&s->fs, buffer_cstr(&v), when) < 0)
			reply_errno(s, FTP_FILE_UNAVAILABLE, "Could not set the time");
		else
			rc = 0;
	}
	buffer_free(&v);
	return rc;
}

/* MDTM path, or with mdtm_write (vsftpd's) MDTM YYYYMMDDHHMMSS path, which
 * sets the time as MFMT does. A name that exists as given is always read,
 * so a file called "20200101000000 x" keeps its MDTM. */
void
cmd_mdtm(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT, t = BUFFER_INIT;
	struct stat st;
	char stamp[32];
	const char *path;
	time_t when;

	if (opt.mdtm_write && split_time(arg, stamp, &path, &when) == 0 &&
	    (fs_resolve(&s->fs, NULL, arg, &v) < 0 ||
	     fs_stat(&s->fs, buffer_cstr(&v), &st, 1) < 0)) {
		if (set_mtime(s, path, when) == 0)
			reply(s, FTP_FILE_STATUS, "File modification time set.");
	} else if (stat_readable(s, arg, &v, &st) == 0) {
		ftpaddr_format_time(&t, st.st_mtime);
		reply(s, FTP_FILE_STATUS, "%s", buffer_cstr(&t));
	}
	buffer_free(&v);
	buffer_free(&t);
}

void
cmd_mfmt(struct ftp_session *s, const char *arg)
{
	struct buffer t = BUFFER_INIT;
	char stamp[32];
	const char *path;
	time_t when;

	if (split_time(arg, stamp, &path, &when) < 0) {
		reply(s, FTP_ARG_SYNTAX_ERROR, "Syntax: MFMT YYYYMMDDHHMMSS path (UTC).");
		return;
	}
	if (set_mtime(s, path, when) == 0) {
		ftpaddr_format_time(&t, when);
		reply(s, FTP_FILE_STATUS, "Modify=%s; %s", buffer_cstr(&t), path);
	}
	buffer_free(&t);
}

/* MFCT YYYYMMDDHHMMSS path (draft-somers-ftp-mfxx): set the creation time,
 * kept in a user extended attribute (fs_set_created; Linux has no call for
 * the birth time), with every check MFMT has. MLSx reports it as create. */
void
cmd_mfct(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT, t = BUFFER_INIT;
	char stamp[32];
	const char *path;
	time_t when;

	if (split_time(arg, stamp, &path, &when) < 0 || when < 0) {
		reply(s, FTP_ARG_SYNTAX_ERROR, "Syntax: MFCT YYYYMMDDHHMMSS path (UTC, 1970 on).");
		return;
	}
	if (pi_may_write(s, W_OTHER) && resolve(s, path, &v) == 0) {
		if (fs_set_created(&s->fs, buffer_cstr(&v), when) == 0) {
			ftpaddr_format_time(&t, when);
			reply(s, FTP_FILE_STATUS, "Create=%s; %s", buffer_cstr(&t), path);
		} else if (errno == EOPNOTSUPP) {
			reply(s, FTP_FILE_UNAVAILABLE,
			      "Could not set the creation time: this file system keeps no user "
			      "extended attributes (" FS_CREATE_XATTR ").");
		} else {
			reply_errno(s, FTP_FILE_UNAVAILABLE, "Could not set the creation time");
		}
	}
	buffer_free(&v);
	buffer_free(&t);
}

/* AVBL [dir] (draft-peterson-streamlined-ftp-command-extensions): the bytes
 * an unprivileged user may still write on dir's file system (statvfs
 * f_bavail * f_frsize). SECURITY: anonymous sessions, and virtual users
 * with anonymous rights, learn nothing about the server's disks. */
void
cmd_avbl(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT;
	uint64_t bytes;

	if (is_anon(s)) {
		log_msg(LOG_NOTICE, "refused AVBL: anonymous rights");
		reply(s, FTP_FILE_UNAVAILABLE, "AVBL is for authenticated users only.");
	} else if (resolve(s, arg[0] ? arg : ".", &v) == 0) {
		if (fs_avail(&s->fs, buffer_cstr(&v), &bytes) < 0)
			reply_errno(s, FTP_FILE_UNAVAILABLE, "AVBL failed");
		else
			reply(s, FTP_FILE_STATUS, "%llu", (unsigned long long)bytes);
	}
	buffer_free(&v);
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
		reply(s, FTP_ARG_SYNTAX_ERROR, "Syntax: SITE CHMOD mode path");
		return;
	}
	memcpy(modetext, arg, (size_t)(sp - arg));
	modetext[sp - arg] = '\0';
	if (number_parse_octal(modetext, 07777, &mode) < 0) {
		reply(s, FTP_ARG_SYNTAX_ERROR, "Bad mode.");
		return;
	}
	/* SECURITY: an anonymous upload must never become setuid or setgid
	 * (nor sticky) for the account anonymous files belong to. */
	if (is_anon(s) && (mode & 07000) != 0) {
		log_msg(LOG_NOTICE, "refused SITE CHMOD %s: setuid, setgid or sticky bit",
		        modetext);
		reply(s, FTP_FILE_UNAVAILABLE,
		      "SITE CHMOD: anonymous users may not set setuid, setgid or sticky bits.");
		return;
	}
	if (pi_may_write(s, W_OTHER) && resolve(s, sp + 1, &v) == 0) {
		if (fs_chmod(&s->fs, buffer_cstr(&v), (mode_t)mode) < 0)
			reply_errno(s, FTP_FILE_UNAVAILABLE, "SITE CHMOD command failed");
		else
			reply(s, FTP_OK, "SITE CHMOD command ok.");
	}
	buffer_free(&v);
}

static void
site_umask(struct ftp_session *s, const char *arg)
{
	uint64_t m;

	if (arg[0] == '\0') {
		reply(s, FTP_OK, "Your current UMASK is %03lo", s->umask);
	} else if (is_anon(s)) {
		reply(s, FTP_FILE_UNAVAILABLE, FTP_TEXT_PERMISSION_DENIED);
	} else if (number_parse_octal(arg, 0777, &m) < 0) {
		reply(s, FTP_ARG_SYNTAX_ERROR, "Bad UMASK value.");
	} else {
		s->umask = (unsigned long)m;
		reply(s, FTP_OK, "UMASK set to %03lo", s->umask);
	}
}

static void
site_idle(struct ftp_session *s, const char *arg)
{
	uint64_t secs;

	if (arg[0] == '\0') {
		reply(s, FTP_OK, "Current idle time limit is %u seconds; max 7200.",
		      s->ctl.timeout_ms / 1000);
	} else if (number_parse(arg, 30, 7200, &secs) < 0) {
		reply(s, FTP_ARG_SYNTAX_ERROR, "Idle time must be 30 to 7200 seconds.");
	} else {
		s->ctl.timeout_ms = (int)secs * 1000;
		reply(s, FTP_OK, "Maximum idle time set to %u seconds.", (unsigned)secs);
	}
}

static void site_help(struct ftp_session *s, const char *arg);

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
site_help(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply_start(s, FTP_HELP, "The following SITE commands are recognized.");
	for (size_t i = 0; i < sizeof(site_table) / sizeof(site_table[0]); i++)
		conn_printf(&s->ctl, " %s", site_table[i].name);
	conn_append(&s->ctl, "\r\n", 2);
	reply(s, FTP_HELP, FTP_TEXT_HELP_OK);
}

void
cmd_site(struct ftp_session *s, const char *arg)
{
	size_t n = strcspn(arg, " ");
	const char *rest = arg[n] ? arg + n + 1 : "";

	for (size_t i = 0; i < sizeof(site_table) / sizeof(site_table[0]); i++)
		if (strlen(site_table[i].name) == n &&
		    strncasecmp(arg, site_table[i].name, n) == 0) {
			site_table[i].fn(s, rest);
			return;
		}
	reply(s, FTP_SYNTAX_ERROR, "Unknown SITE command.");
}
