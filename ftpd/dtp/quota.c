/* quota: the usage file of a session root and the scan that rebuilds it.
 *
 * Where the usage lives: FTPD_QUOTA_NAME (".ftpquota", as pure-ftpd) in
 * the root it counts, opened by the session's monitor (root) at the login
 * and inherited by the worker, never opened by a worker: it is root's,
 * mode 0600, so virtual users (who share one uid) and a local user with a
 * shell cannot rewrite it, and it moves with the tree it counts. Every
 * command is denied the name and no listing shows it (pi/pi.c).
 *
 * What it counts: bytes are every regular file's size under the root,
 * upload partials included (they take the space); files are regular files
 * and directories other than partials. The record is one fixed-width
 * little-endian block (magic, version, the root's device and inode, bytes,
 * files, a checksum), read and written at offset 0 under a POSIX record
 * lock (fcntl F_SETLKW): one per process, so the PI and its DTP, which
 * share the open file, exclude each other as well as other sessions.
 *
 * Stale means: the file is empty (just made), is not one record of this
 * version, fails its checksum, or names another root (copied from another
 * tree). The next lock taker then rebuilds it by a scan of the root as the
 * session user, under the lock. A change made outside FTP is not noticed:
 * remove the file while the user has no session to have it rescanned. A
 * session that finds its file removed under it refuses to change the
 * tree's usage (451) rather than count into a file nobody reads. */
#include "ftpd/dtp/quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/paths.h"
#include "ftpd/options.h"
#include "ftpd/pi/fs.h"

#define QUOTA_MAGIC 0x55514650u /* "PFQU" little-endian */
#define QUOTA_VERSION 1u
#define QUOTA_RECORD 48
#define SCAN_DEPTH 128 /* deeper directories are counted, not entered */

static struct {
	int fd, rootfd;
	uint64_t dev, ino;
} q = {-1, -1, 0, 0};

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* FNV-1a over the record before its checksum. */
static uint64_t
checksum(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void
encode(unsigned char rec[QUOTA_RECORD], const struct quota_usage *u)
{
	put64(rec, (uint64_t)QUOTA_MAGIC | (uint64_t)QUOTA_VERSION << 32);
	put64(rec + 8, q.dev);
	put64(rec + 16, q.ino);
	put64(rec + 24, u->bytes);
	put64(rec + 32, u->files);
	put64(rec + 40, checksum(rec, 40));
}

/* 0, or -1 when rec is not a current record of this root (stale). */
static int
decode(const unsigned char rec[QUOTA_RECORD], struct quota_usage *u)
{
	if (get64(rec) != ((uint64_t)QUOTA_MAGIC | (uint64_t)QUOTA_VERSION << 32) ||
	    get64(rec + 40) != checksum(rec, 40) || get64(rec + 8) != q.dev ||
	    get64(rec + 16) != q.ino)
		return -1;
	u->bytes = get64(rec + 24);
	u->files = get64(rec + 32);
	return 0;
}

static void
scan_dir(int dfd, int depth, struct quota_usage *u)
{
	int fd = dup(dfd);
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (depth == 0 && strcmp(de->d_name, FTPD_QUOTA_NAME) == 0) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			u->bytes += (uint64_t)st.st_size;
			u->files += !fs_reserved(de->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = depth < SCAN_DEPTH ? openat(dfd, de->d_name,
			                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			                             : -1;

			u->files++;
			if (sub >= 0) {
				scan_dir(sub, depth + 1, u);
				close(sub);
			}
		}
	}
	closedir(d);
}

/* Count the tree and write the record; the lock is held. */
static int
rebuild(struct quota_usage *u)
{
	int top = openat(q.rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	memset(u, 0, sizeof(*u));
	if (top < 0)
		return -1;
	scan_dir(top, 0, u);
	close(top);
	log_msg(LOG_INFO, "quota: usage rebuilt by a scan: %llu bytes, %llu files",
	        (unsigned long long)u->bytes, (unsigned long long)u->files);
	return 0;
}

static int
lock(int type)
{
	struct flock lk = {.l_type = (short)type, .l_whence = SEEK_SET};

	while (fcntl(q.fd, F_SETLKW, &lk) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static int
write_record(const struct quota_usage *u)
{
	unsigned char rec[QUOTA_RECORD];

	encode(rec, u);
	if (pwrite(q.fd, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

int
quota_active(void)
{
	return q.fd >= 0;
}

int
quota_begin(struct quota_usage *u)
{
	unsigned char rec[QUOTA_RECORD];
	struct stat st;
	ssize_t n;

	memset(u, 0, sizeof(*u));
	if (!quota_active())
		return 0;
	if (lock(F_WRLCK) < 0)
		return -1;
	if (fstat(q.fd, &st) < 0 || st.st_nlink == 0) {
		errno = ESTALE;
		goto fail;
	}
	n = pread(q.fd, rec, sizeof(rec), 0);
	if (n < 0)
		goto fail;
	if (n == (ssize_t)sizeof(rec) && st.st_size == (off_t)sizeof(rec) && decode(rec, u) == 0)
		return 0;
	if (rebuild(u) < 0 || write_record(u) < 0)
		goto fail;
	return 0;
fail:
	log_msg(LOG_ERR, "quota: usage file: %s", strerror(errno));
	quota_end();
	return -1;
}

int
quota_commit(const struct quota_usage *u)
{
	int rc, saved;

	if (!quota_active())
		return 0;
	rc = write_record(u);
	saved = errno;

	if (rc < 0)
		log_msg(LOG_ERR, "quota: usage file: %s", strerror(errno));
	quota_end();
	errno = saved;
	return rc;
}

void
quota_end(void)
{
	int saved = errno;

	if (quota_active())
		lock(F_UNLCK);
	errno = saved;
}

int
quota_start(int fd, int rootfd)
{
	struct quota_usage u;
	struct stat st;

	q.fd = fd;
	q.rootfd = rootfd;
	if (fd < 0)
		return 0;
	if (fstat(rootfd, &st) < 0)
		return -1;
	q.dev = (uint64_t)st.st_dev;
	q.ino = (uint64_t)st.st_ino;
	if (quota_begin(&u) < 0)
		return -1;
	quota_end();
	return 0;
}

int
quota_room(const struct quota_usage *u, uint64_t bytes, uint64_t credit, uint64_t files)
{
	uint64_t after = u->bytes + bytes;

	if (!quota_active())
		return 1;
	after = after > credit ? after - credit : 0;
	if (bytes > 0 && opt.quota_bytes > 0 && after > opt.quota_bytes)
		return 0;
	return !(files > 0 && opt.quota_files > 0 && u->files + files > opt.quota_files);
}

static uint64_t
add_signed(uint64_t v, int64_t d)
{
	if (d < 0)
		return (uint64_t)-d > v ? 0 : v - (uint64_t)-d;
	return v + (uint64_t)d;
}

int
quota_add(int64_t bytes, int64_t files)
{
	struct quota_usage u;

	if (bytes == 0 && files == 0)
		return 0;
	if (quota_begin(&u) < 0)
		return -1;
	u.bytes = add_signed(u.bytes, bytes);
	u.files = add_signed(u.files, files);
	return quota_commit(&u);
}

int
quota_charge(uint64_t n, uint64_t credit, volatile uint64_t *charged)
{
	struct quota_usage u;

	if (!quota_active() || n == 0)
		return 0;
	if (quota_begin(&u) < 0)
		return -1;
	if (!quota_room(&u, n, credit, 0)) {
		quota_end();
		errno = EDQUOT;
		return -1;
	}
	u.bytes += n;
	if (write_record(&u) < 0) {
		log_msg(LOG_ERR, "quota: usage file: %s", strerror(errno));
		quota_end();
		return -1;
	}
	/* Under the lock: the PI takes it before it kills a DTP, so what it
	 * reads here always matches the file (see pi/cmd_data.c). */
	*charged += n;
	quota_end();
	return 0;
}
