/* upload: the target of STOR, STOU and APPE. With upload_atomic, a hidden
 * partial beside the final name, published by one rename(2) once complete.
 *
 * A partial is named FS_RESERVED_PREFIX, then 'r' and a hash of the login
 * and the final name (resumable: the same user's REST+STOR or APPE of that
 * name finds it), or 'a' and random digits (anonymous, STOU and
 * delete_failed_uploads: removed when the upload fails). No client path can
 * name either (fs_resolve refuses the prefix) and no listing shows them.
 * A live upload holds an OFD write lock on its partial, so a second upload
 * of it waits its turn (450) and a sweeper never removes it. */
#include "ftpd/pi/upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "ftpd/dtp/quota.h"
#include "ftpd/options.h"
#include "ftpd/pi/commands.h"
#include "ftpd/pi/monreq.h"

#define NAME_DIGITS 16 /* bytes of hash or randomness in a partial's name */
#define CLAIM_TRIES 5  /* a sweeper holds a read lock for microseconds */

static void
close_keep_errno(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
}

/* SECURITY: a resumable partial's name is a SHA-256 of the login and the
 * final name, so a user's resume finds it while no other user (virtual
 * users share one uid) can pick a final name that lands on it. */
static char *
partial_name(const struct ftp_session *s, const char *name, int resumable)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char hex[2 * NAME_DIGITS + 1];

	if (resumable) {
		struct buffer in = BUFFER_INIT;
		char kind = (char)('0' + s->kind);

		buffer_append(&in, "postel-upload", sizeof("postel-upload"));
		buffer_append(&in, &kind, 1);
		buffer_append(&in, s->login_name, strlen(s->login_name) + 1);
		buffer_append(&in, name, strlen(name));
		if (EVP_Digest(buffer_head(&in), in.len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
		    mdlen < NAME_DIGITS)
			die("upload: SHA-256 failed");
		buffer_free(&in);
	} else if (getrandom(md, NAME_DIGITS, 0) != NAME_DIGITS)
		die("upload: getrandom: %s", strerror(errno));
	for (unsigned i = 0; i < NAME_DIGITS; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return xasprintf("%s%c%s", FS_RESERVED_PREFIX, resumable ? 'r' : 'a', hex);
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

/* Whether temp in dirfd is still the file fd has open. */
static int
still_named(int dirfd, const char *temp, int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && fstatat(dirfd, temp, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       same_file(&a, &b);
}

/* A live upload's partial looks at most this old: its DTP waits
 * accept_timeout for the connection and data_connection_timeout per read. */
static time_t
live_bound(void)
{
	return (time_t)(opt.accept_timeout + opt.data_connection_timeout + 60);
}

/* Open and lock temp in dirfd, creating it (excl: it must be new). The fd,
 * or -1 with errno (EAGAIN: another upload holds it). */
static int
claim(int dirfd, const char *temp, mode_t mode, int excl)
{
	for (int i = 0; i < CLAIM_TRIES; i++) {
		struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		struct stat st;
		int fd = openat(dirfd, temp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (excl ? O_EXCL : 0),
		                mode);

		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			errno = EEXIST;
			return -1;
		}
		if (fcntl(fd, F_OFD_SETLK, &lk) < 0) {
			struct timespec pause = {0, 10 * 1000 * 1000};

			close(fd);
			nanosleep(&pause, NULL);
			continue;
		}
		/* Renamed (published) or removed (expired) between open and lock. */
		if (still_named(dirfd, temp, fd))
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

/* Remove name (a partial) if nobody uploads to it and it is older than
 * its keep: anonymous ones at once, resumable ones after
 * upload_partial_keep. The read lock held meanwhile makes a resume that
 * races the removal start over (claim sees the name gone). */
static void
sweep_one(int dirfd, const char *name, time_t now)
{
	struct flock lk = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	time_t keep = name[sizeof(FS_RESERVED_PREFIX) - 1] == 'r' ? (time_t)opt.upload_partial_keep : 0;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd >= 0 && fcntl(fd, F_OFD_SETLK, &lk) < 0) {
		close(fd);
		return; /* live */
	}
	/* Unreadable (another user's, umask 077): no lock to ask, so it goes
	 * only once it is older than any live upload can look. */
	if (fd < 0 && keep < live_bound())
		keep = live_bound();
	if ((fd >= 0 ? fstat(fd, &st) : fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) == 0 &&
	    S_ISREG(st.st_mode) && now - st.st_mtime > keep &&
	    (fd < 0 || still_named(dirfd, name, fd)) && unlinkat(dirfd, name, 0) == 0) {
		log_msg(LOG_INFO, "removed an expired upload partial %s (%lld bytes)", name,
		        (long long)st.st_size);
		if (quota_add(-(int64_t)st.st_size, 0) < 0)
			log_msg(LOG_ERR, "quota: the removal of %s is not counted", name);
	}
	close_keep_errno(fd);
}

/* At each upload into a directory the user may list. */
static void
sweep(int dirfd)
{
	int fd = dup(dirfd);
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		close_keep_errno(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (fs_reserved(de->d_name))
			sweep_one(dirfd, de->d_name, now);
	closedir(d);
}

/* STOU: the first of v, v.1, v.2, ... that names nothing; v holds it. */
static int
pick_unique(int dirfd, struct buffer *v, const char **last)
{
	char *base = xstrdup(buffer_cstr(v));
	struct stat st;
	int rc = -1;

	for (unsigned i = 0; i < 1000; i++) {
		buffer_clear(v);
		buffer_puts(v, base);
		if (i > 0)
			buffer_printf(v, ".%u", i);
		*last = strrchr(buffer_cstr(v), '/') + 1;
		if (fstatat(dirfd, *last, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
			rc = 0;
			break;
		}
	}
	free(base);
	if (rc < 0)
		errno = EEXIST;
	return rc;
}

static int
copy_prefix(int to, int from, uint64_t n)
{
	off_t off = 0;

	if (lseek(to, 0, SEEK_SET) < 0)
		return -1;
	while ((uint64_t)off < n) {
		uint64_t want = n - (uint64_t)off;
		ssize_t r = sendfile(to, from, &off, want > (1U << 30) ? (1U << 30) : (size_t)want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
	}
	return 0;
}

/* What the partial starts with: for REST n, the first n bytes of this
 * user's partial if it holds them, else of the existing file; for APPE,
 * the partial if there is one (a resume), else the existing file. Replies
 * and returns -1 when neither can give them. */
static int
set_base(struct ftp_session *s, struct upload *u, const char *vpath, enum upload_mode mode,
         uint64_t rest)
{
	struct stat pst, fst;
	uint64_t have, want = 0;
	int from_final = 0, final = fs_stat(&s->fs, vpath, &fst, 1) == 0 && S_ISREG(fst.st_mode);

	if (fstat(u->fd, &pst) < 0)
		goto fail;
	have = u->before = (uint64_t)pst.st_size;
	if (have > 0 && time(NULL) - pst.st_mtime > (time_t)opt.upload_partial_keep) {
		log_msg(LOG_INFO, "the partial of %s expired; starting over", vpath);
		have = 0;
	}
	if (mode == UPLOAD_APPEND) {
		want = have > 0 ? have : final ? (uint64_t)fst.st_size : 0;
		from_final = have == 0 && final;
	} else if (mode == UPLOAD_STORE && rest > 0) {
		want = rest;
		from_final = have < rest;
		if (from_final && !(final && (uint64_t)fst.st_size >= rest)) {
			reply(s, FTP_BAD_REST, "Restart position %llu is beyond what was uploaded (%llu).",
			      (unsigned long long)rest, (unsigned long long)have);
			return -1;
		}
	}
	if (ftruncate(u->fd, from_final ? 0 : (off_t)want) < 0)
		goto fail;
	if (from_final) {
		int src = fs_open(&s->fs, vpath, O_RDONLY, 0);

		if (src < 0 || copy_prefix(u->fd, src, want) < 0) {
			close_keep_errno(src);
			goto fail;
		}
		close(src);
	}
	/* Fresh, so no sweeper takes it for an abandoned one meanwhile. */
	if (futimens(u->fd, NULL) < 0 || lseek(u->fd, (off_t)want, SEEK_SET) < 0)
		goto fail;
	return 0;
fail:
	reply_errno(s, FTP_LOCAL_ERROR, "Could not prepare the upload");
	return -1;
}

/* upload_atomic=NO: the final name itself, as vsftpd does. */
static int
open_in_place(struct ftp_session *s, struct upload *u, struct buffer *v, enum upload_mode mode,
              uint64_t rest)
{
	mode_t fmode = (mode_t)(opt.file_open_mode & ~s->umask);
	int flags = O_WRONLY | O_CREAT, fd;

	if (mode == UPLOAD_UNIQUE) {
		struct buffer base = BUFFER_INIT;

		buffer_puts(&base, buffer_cstr(v));
		for (unsigned i = 0; i < 1000; i++) {
			buffer_clear(v);
			buffer_puts(v, buffer_cstr(&base));
			if (i > 0)
				buffer_printf(v, ".%u", i);
			fd = fs_open(&s->fs, buffer_cstr(v), flags | O_EXCL, fmode);
			if (fd >= 0 || errno != EEXIST)
				break;
		}
		buffer_free(&base);
	} else {
		/* SECURITY: without anon_other_write_enable an anonymous upload
		 * never replaces or extends what is already there. */
		if (is_anon(s) && !opt.anon_other_write_enable)
			flags |= O_EXCL;
		else if (mode == UPLOAD_APPEND)
			flags |= O_APPEND;
		else if (rest == 0)
			flags |= O_TRUNC;
		fd = fs_open(&s->fs, buffer_cstr(v), flags, fmode);
	}
	if (fd < 0) {
		reply_errno(s, FTP_NAME_NOT_ALLOWED, "Could not create file");
		return -1;
	}
	u->fd = fd;
	u->vpath = xstrdup(buffer_cstr(v));
	if (rest > 0 && mode != UPLOAD_APPEND && lseek(fd, (off_t)rest, SEEK_SET) < 0) {
		reply(s, FTP_NAME_NOT_ALLOWED, "Could not seek to the restart position.");
		return -1;
	}
	if (s->kind == LOGIN_ANON && opt.chown_uploads && monreq_chown(s, fd) < 0)
		log_msg(LOG_ERR, "chown_uploads: could not give %s to %s", buffer_cstr(v),
		        opt.chown_username);
	return 0;
}

static int
open_atomic(struct ftp_session *s, struct upload *u, struct buffer *v, enum upload_mode mode,
            uint64_t rest)
{
	mode_t fmode = (mode_t)(opt.file_open_mode & ~s->umask);
	const char *last;
	struct stat st;

	u->dirfd = fs_parent_dir(&s->fs, buffer_cstr(v), &last, &u->dir_readable);
	if (u->dirfd < 0 || (mode == UPLOAD_UNIQUE && pick_unique(u->dirfd, v, &last) < 0)) {
		reply_errno(s, FTP_NAME_NOT_ALLOWED, "Could not create file");
		return -1;
	}
	u->name = xstrdup(last);
	u->vpath = xstrdup(buffer_cstr(v));
	u->resumable = s->kind != LOGIN_ANON && mode != UPLOAD_UNIQUE && !opt.delete_failed_uploads;
	/* SECURITY: without anon_other_write_enable an anonymous upload never
	 * replaces or extends what is already there (checked again at the
	 * rename, which then refuses to replace). */
	u->noreplace = mode == UPLOAD_UNIQUE || (is_anon(s) && !opt.anon_other_write_enable);
	if (fstatat(u->dirfd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (u->noreplace || S_ISDIR(st.st_mode))) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EEXIST;
		reply_errno(s, FTP_NAME_NOT_ALLOWED, "Could not create file");
		return -1;
	}
	if (u->dir_readable)
		sweep(u->dirfd);
	u->temp = partial_name(s, u->name, u->resumable);
	u->fd = claim(u->dirfd, u->temp, fmode, !u->resumable);
	if (u->fd < 0) {
		if (errno == EAGAIN)
			reply(s, FTP_FILE_BUSY, "An upload of that file is in progress; try later.");
		else
			reply_errno(s, FTP_NAME_NOT_ALLOWED, "Could not create file");
		free(u->temp);
		u->temp = NULL;
		return -1;
	}
	return set_base(s, u, buffer_cstr(v), mode, rest);
}

void
upload_prepare(void)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;

	/* OpenSSL reads its configuration and providers on first use: here,
	 * before any chroot or seccomp filter. */
	EVP_Digest("", 0, md, &mdlen, EVP_sha256(), NULL);
}

int
upload_open(struct ftp_session *s, struct upload *u, struct buffer *v, enum upload_mode mode,
            uint64_t rest)
{
	int rc;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	u->dirfd = -1;
	rc = opt.upload_atomic ? open_atomic(s, u, v, mode, rest)
	                       : open_in_place(s, u, v, mode, rest);
	if (rc < 0) {
		struct stat st;

		/* A partial with nothing in it is nobody's to resume. */
		if (u->temp != NULL && u->fd >= 0 && fstat(u->fd, &st) == 0 && st.st_size == 0)
			u->resumable = 0;
		if (u->temp != NULL)
			upload_fail(s, u);
		upload_close(u);
	}
	return rc;
}

static int
sync_dir(const struct upload *u)
{
	/* A directory the user may not read cannot be opened for fsync:
	 * syncfs covers its entry as well. */
	return u->dir_readable ? fsync(u->dirfd) : syncfs(u->fd);
}

int
upload_publish(struct ftp_session *s, struct upload *u)
{
	int rc;

	if (opt.upload_fsync && fsync(u->fd) < 0)
		return -1;
	if (u->temp == NULL)
		return 0; /* in place */
	if (!still_named(u->dirfd, u->temp, u->fd)) {
		errno = ESTALE;
		return -1;
	}
	rc = renameat2(u->dirfd, u->temp, u->dirfd, u->name, u->noreplace ? RENAME_NOREPLACE : 0);
	if (rc < 0 && errno == EINVAL && u->noreplace) {
		/* A filesystem without RENAME_NOREPLACE: the check, then the rename. */
		struct stat st;

		if (fstatat(u->dirfd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			errno = EEXIST;
		else
			rc = renameat(u->dirfd, u->temp, u->dirfd, u->name);
	}
	if (rc < 0)
		return -1;
	free(u->temp);
	u->temp = NULL;
	/* After the rename: the user's own partial was renamable in a sticky drop. */
	if (s->kind == LOGIN_ANON && opt.chown_uploads && monreq_chown(s, u->fd) < 0)
		log_msg(LOG_ERR, "chown_uploads: could not give %s to %s", u->vpath,
		        opt.chown_username);
	if (opt.upload_fsync && sync_dir(u) < 0)
		return -1;
	return 0;
}

void
upload_fail(struct ftp_session *s, struct upload *u)
{
	if (u->temp == NULL) {
		if (u->dirfd < 0 && u->vpath != NULL && opt.delete_failed_uploads)
			fs_unlink(&s->fs, u->vpath);
		return;
	}
	if (u->resumable) {
		struct stat st;

		if (u->fd >= 0 && fstat(u->fd, &st) == 0)
			log_msg(LOG_INFO, "kept %lld bytes of %s for a resume", (long long)st.st_size,
			        u->vpath);
		return;
	}
	if (u->fd < 0 || still_named(u->dirfd, u->temp, u->fd))
		unlinkat(u->dirfd, u->temp, 0);
	free(u->temp);
	u->temp = NULL;
}

void
upload_close(struct upload *u)
{
	close_keep_errno(u->fd);
	close_keep_errno(u->dirfd);
	u->fd = u->dirfd = -1;
	free(u->name);
	free(u->temp);
	free(u->vpath);
	u->name = u->temp = u->vpath = NULL;
}

int
upload_partial_size(struct ftp_session *s, const char *vpath, uint64_t *size)
{
	const char *last;
	struct stat st;
	int readable, dirfd, rc = -1;
	char *temp;

	if (!opt.upload_atomic || s->kind == LOGIN_ANON || opt.delete_failed_uploads) {
		errno = ENOENT;
		return -1;
	}
	dirfd = fs_parent_dir(&s->fs, vpath, &last, &readable);
	if (dirfd < 0)
		return -1;
	temp = partial_name(s, last, 1);
	if (fstatat(dirfd, temp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    time(NULL) - st.st_mtime <= (time_t)opt.upload_partial_keep) {
		*size = (uint64_t)st.st_size;
		rc = 0;
	} else
		errno = ENOENT;
	free(temp);
	close_keep_errno(dirfd);
	return rc;
}
