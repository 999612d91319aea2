/* fs: virtual paths inside the session root and the filesystem calls on them.
 * Every lookup goes through openat2(RESOLVE_IN_ROOT): never a string prefix check. */
#include "ftpd/pi/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/core/number.h"
#include "common/core/xmalloc.h"

#ifdef SYS_fchmodat2
#define FS_SYS_FCHMODAT2 SYS_fchmodat2
#else
#define FS_SYS_FCHMODAT2 452 /* the same number on every architecture */
#endif

/* SECURITY: RESOLVE_IN_ROOT makes "/" and ".." at the root mean the root for
 * every component, symlink targets included, so nothing resolves outside it
 * (chrooted or not); NO_MAGICLINKS refuses /proc/<pid>/fd style jumps. */
#define FS_RESOLVE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

/* SECURITY: LIST -R descends by readdir names below an open directory:
 * BENEATH refuses ".." and absolute names, NO_SYMLINKS a symlink anywhere
 * (a link to a directory is listed, never entered: no loop, no way out). */
#define FS_RESOLVE_CHILD (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/* The kernel answers EAGAIN when a concurrent rename might have moved a
 * ".." target; retrying is the documented response. */
#define FS_EAGAIN_TRIES 16

static int
fs_openat2_how(int dirfd, const char *rel, int flags, mode_t mode, unsigned long long resolve)
{
	struct open_how how;
	int i;
	long fd = -1;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	if (flags & (O_CREAT | O_TMPFILE))
		how.mode = mode;
	how.resolve = resolve;
	for (i = 0; i < FS_EAGAIN_TRIES; i++) {
		fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	return (int)fd;
}

static int
fs_openat2(int dirfd, const char *rel, int flags, mode_t mode)
{
	return fs_openat2_how(dirfd, rel, flags, mode, FS_RESOLVE);
}

/* The path relative to the root fd: "/a/b" -> "a/b", "/" -> ".". */
static const char *
fs_rel(const char *vpath)
{
	while (*vpath == '/')
		vpath++;
	return *vpath ? vpath : ".";
}

/* Open vpath's parent as an O_PATH directory and point *last at the final
 * component inside vpath. Refuses "", "." and ".." as a final component:
 * those name no entry of their own that could be created or removed. */
static int
fs_parent(const struct fs_root *root, const char *vpath, const char **last)
{
	const char *slash, *name;
	char *parent;
	int fd;

	slash = strrchr(vpath, '/');
	name = slash ? slash + 1 : vpath;
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	parent = xstrndup(vpath, slash ? (size_t)(slash - vpath) : 0);
	fd = fs_openat2(root->fd, fs_rel(parent), O_PATH | O_DIRECTORY, 0);
	free(parent);
	*last = name;
	return fd;
}

static void
fs_close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

int
fs_root_open(struct fs_root *root, const char *path)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	fs_root_init_fd(root, fd);
	return 0;
}

void
fs_root_init_fd(struct fs_root *root, int fd)
{
	root->fd = fd;
	root->cwd = xstrdup("/");
}

void
fs_root_close(struct fs_root *root)
{
	if (root->fd >= 0)
		close(root->fd);
	root->fd = -1;
	free(root->cwd);
	root->cwd = NULL;
}

/* Append one component to the normalised path in out, or pop on "..". */
static void
fs_push(struct buffer *out, const char *name, size_t n)
{
	if (n == 0 || (n == 1 && name[0] == '.'))
		return;
	if (n == 2 && name[0] == '.' && name[1] == '.') {
		/* ".." above "/" stays at "/" */
		size_t end = out->len;

		while (end > 1 && buffer_head(out)[end - 1] != '/')
			end--;
		buffer_truncate(out, end > 1 ? end - 1 : end);
		return;
	}
	if (out->len > 1)
		buffer_append(out, "/", 1);
	buffer_append(out, name, n);
}

static void
fs_push_all(struct buffer *out, const char *path)
{
	const char *p = path, *end;

	while (*p) {
		end = strchrnul(p, '/');
		fs_push(out, p, (size_t)(end - p));
		p = *end ? end + 1 : end;
	}
}

int
fs_reserved(const char *name)
{
	return strncmp(name, FS_RESERVED_PREFIX, sizeof(FS_RESERVED_PREFIX) - 1) == 0;
}

int
fs_resolve(const struct fs_root *root, const char *cwd, const char *arg, struct buffer *out)
{
	if (cwd == NULL)
		cwd = root->cwd;
	buffer_clear(out);
	buffer_append(out, "/", 1);
	if (arg[0] != '/')
		fs_push_all(out, cwd);
	fs_push_all(out, arg);
	buffer_cstr(out);
	if (out->len > FS_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* SECURITY: a server-owned name is no client's to read, list,
	 * replace or create; every component follows a "/" here. */
	if (strstr(buffer_cstr(out), "/" FS_RESERVED_PREFIX) != NULL) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

int
fs_chdir(struct fs_root *root, const char *arg)
{
	struct buffer path = BUFFER_INIT;
	int fd;

	if (fs_resolve(root, NULL, arg, &path) < 0)
		goto fail;
	fd = fs_openat2(root->fd, fs_rel(buffer_cstr(&path)), O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		goto fail;
	/* Entering needs search permission, as chdir(2) would check. */
	if (faccessat(fd, ".", X_OK, AT_EACCESS) < 0) {
		fs_close_keep_errno(fd);
		goto fail;
	}
	close(fd);
	free(root->cwd);
	root->cwd = xstrdup(buffer_cstr(&path));
	buffer_free(&path);
	return 0;
fail:
	buffer_free(&path);
	return -1;
}

int
fs_open(const struct fs_root *root, const char *vpath, int flags, mode_t mode)
{
	return fs_openat2(root->fd, fs_rel(vpath), flags, mode);
}

static DIR *
fs_fdopendir(int fd)
{
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL)
		fs_close_keep_errno(fd);
	return d;
}

DIR *
fs_opendir(const struct fs_root *root, const char *vpath)
{
	return fs_fdopendir(fs_openat2(root->fd, fs_rel(vpath), O_RDONLY | O_DIRECTORY, 0));
}

DIR *
fs_opendir_child(DIR *parent, const char *name)
{
	if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		errno = EINVAL;
		return NULL;
	}
	return fs_fdopendir(fs_openat2_how(dirfd(parent), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
	                                   0, FS_RESOLVE_CHILD));
}

int
fs_stat(const struct fs_root *root, const char *vpath, struct stat *st, int follow)
{
	int fd = fs_openat2(root->fd, fs_rel(vpath), O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
	int rc;

	if (fd < 0)
		return -1;
	rc = fstatat(fd, "", st, AT_EMPTY_PATH);
	fs_close_keep_errno(fd);
	return rc;
}

int
fs_readlink(const struct fs_root *root, const char *vpath, struct buffer *out)
{
	const char *last;
	int fd = fs_parent(root, vpath, &last);
	ssize_t n;

	if (fd < 0)
		return -1;
	buffer_clear(out);
	n = readlinkat(fd, last, buffer_reserve(out, FS_PATH_MAX), FS_PATH_MAX);
	fs_close_keep_errno(fd);
	if (n < 0)
		return -1;
	buffer_commit(out, (size_t)n);
	buffer_cstr(out);
	return 0;
}

int
fs_mkdir(const struct fs_root *root, const char *vpath, mode_t mode)
{
	const char *last;
	int fd = fs_parent(root, vpath, &last), rc;

	if (fd < 0)
		return -1;
	rc = mkdirat(fd, last, mode);
	fs_close_keep_errno(fd);
	return rc;
}

static int
fs_unlink_flags(const struct fs_root *root, const char *vpath, int flags)
{
	const char *last;
	int fd = fs_parent(root, vpath, &last), rc;

	if (fd < 0)
		return -1;
	rc = unlinkat(fd, last, flags);
	fs_close_keep_errno(fd);
	return rc;
}

int
fs_rmdir(const struct fs_root *root, const char *vpath)
{
	return fs_unlink_flags(root, vpath, AT_REMOVEDIR);
}

int
fs_unlink(const struct fs_root *root, const char *vpath)
{
	return fs_unlink_flags(root, vpath, 0);
}

int
fs_parent_dir(const struct fs_root *root, const char *vpath, const char **last, int *readable)
{
	int fd = fs_parent(root, vpath, last), rd;

	if (fd < 0)
		return -1;
	rd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*readable = rd >= 0;
	if (rd < 0)
		return fd;
	close(fd);
	return rd;
}

int
fs_rename(const struct fs_root *root, const char *from, const char *to)
{
	const char *lfrom, *lto;
	int ffd, tfd, rc;

	ffd = fs_parent(root, from, &lfrom);
	if (ffd < 0)
		return -1;
	tfd = fs_parent(root, to, &lto);
	if (tfd < 0) {
		fs_close_keep_errno(ffd);
		return -1;
	}
	rc = renameat(ffd, lfrom, tfd, lto);
	fs_close_keep_errno(ffd);
	fs_close_keep_errno(tfd);
	return rc;
}

int
fs_chmod(const struct fs_root *root, const char *vpath, mode_t mode)
{
	const char *last;
	int fd = fs_parent(root, vpath, &last), rc;

	if (fd < 0)
		return -1;
	/* SECURITY: NOFOLLOW, so a symlink named last cannot aim the chmod
	 * outside the root (fchmodat would follow it with the real root).
	 * glibc emulates NOFOLLOW through /proc, which a chroot lacks, so ask
	 * the kernel (fchmodat2, Linux 6.6) directly; before 6.6, refuse a
	 * symlink by lstat and chmod the name. */
	rc = (int)syscall(FS_SYS_FCHMODAT2, fd, last, mode & 07777, AT_SYMLINK_NOFOLLOW);
	if (rc < 0 && errno == ENOSYS) {
		struct stat st;

		rc = fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW);
		if (rc == 0 && S_ISLNK(st.st_mode)) {
			errno = EOPNOTSUPP;
			rc = -1;
		} else if (rc == 0)
			rc = fchmodat(fd, last, mode & 07777, 0);
	}
	fs_close_keep_errno(fd);
	return rc;
}

int
fs_utimes(const struct fs_root *root, const char *vpath, time_t t)
{
	struct timespec ts[2];
	const char *last;
	int fd = fs_parent(root, vpath, &last), rc;

	if (fd < 0)
		return -1;
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = t;
	ts[1].tv_nsec = 0;
	/* SECURITY: NOFOLLOW for the same reason as fs_chmod. */
	rc = utimensat(fd, last, ts, AT_SYMLINK_NOFOLLOW);
	fs_close_keep_errno(fd);
	return rc;
}

int
fs_avail(const struct fs_root *root, const char *vpath, uint64_t *bytes)
{
	int fd = fs_openat2(root->fd, fs_rel(vpath), O_PATH | O_DIRECTORY, 0);
	struct statvfs sv;
	int rc;

	if (fd < 0)
		return -1;
	rc = fstatvfs(fd, &sv);
	fs_close_keep_errno(fd);
	if (rc == 0)
		*bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return rc;
}

int
fs_set_created(const struct fs_root *root, const char *vpath, time_t t)
{
	char value[24];
	struct stat st;
	int fd, rc, n;

	if (t < 0 || (n = snprintf(value, sizeof(value), "%lld", (long long)t)) < 0 ||
	    (size_t)n >= sizeof(value)) {
		errno = EINVAL;
		return -1;
	}
	/* SECURITY: only a regular file or a directory is opened (never a
	 * device, whose open could act), not followed, and checked again
	 * once open in case it was swapped meanwhile. */
	if (fs_stat(root, vpath, &st, 0) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		errno = EPERM;
		return -1;
	}
	fd = fs_open(root, vpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return -1;
	rc = fstat(fd, &st);
	if (rc == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		errno = EPERM;
		rc = -1;
	}
	if (rc == 0)
		rc = fsetxattr(fd, FS_CREATE_XATTR, value, (size_t)n, 0);
	fs_close_keep_errno(fd);
	return rc;
}

/* The MFCT attribute of name, read from the working directory. */
static int
created_attr(const char *name, time_t *t)
{
	char value[24];
	uint64_t secs;
	ssize_t n;

	/* SECURITY: a name without '/', looked up in a directory already
	 * opened inside the root and not followed, so the lookup cannot leave
	 * the root; nothing is opened, so no device node is touched. */
	if (strchr(name, '/') != NULL)
		return 0;
	n = lgetxattr(name, FS_CREATE_XATTR, value, sizeof(value) - 1);
	if (n <= 0)
		return 0;
	value[n] = '\0';
	if (number_parse(value, 0, INT64_MAX, &secs) < 0)
		return 0;
	*t = (time_t)secs;
	return 1;
}

int
fs_stat_created(int dirfd, const char *name, struct stat *st, time_t *t)
{
	struct statx x;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &x) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
	st->st_ino = x.stx_ino;
	st->st_mode = x.stx_mode;
	st->st_nlink = x.stx_nlink;
	st->st_uid = x.stx_uid;
	st->st_gid = x.stx_gid;
	st->st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
	st->st_size = (off_t)x.stx_size;
	st->st_blksize = (blksize_t)x.stx_blksize;
	st->st_blocks = (blkcnt_t)x.stx_blocks;
	st->st_atim.tv_sec = x.stx_atime.tv_sec;
	st->st_atim.tv_nsec = x.stx_atime.tv_nsec;
	st->st_mtim.tv_sec = x.stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = x.stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = x.stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = x.stx_ctime.tv_nsec;
	if (created_attr(name, t))
		return 1;
	if (x.stx_mask & STATX_BTIME) {
		*t = (time_t)x.stx_btime.tv_sec;
		return 1;
	}
	return 0;
}

int
fs_created(const struct fs_root *root, const char *vpath, time_t *t)
{
	const char *last = ".";
	int fd = fs_parent(root, vpath, &last), found = 0;
	struct stat st;

	/* The root (or a path ending in "." or "..") has no parent entry:
	 * ask the directory itself. */
	if (fd < 0) {
		last = ".";
		fd = fs_openat2(root->fd, fs_rel(vpath), O_PATH | O_DIRECTORY, 0);
	}
	if (fd < 0)
		return 0;
	/* The attribute is read by name from inside the directory; the
	 * working directory goes home at once: a session left inside a
	 * listed directory would hold its mount busy. */
	if (fchdir(fd) == 0) {
		found = fs_stat_created(fd, last, &st, t) > 0;
		(void)fchdir(root->fd);
	}
	close(fd);
	return found;
}
