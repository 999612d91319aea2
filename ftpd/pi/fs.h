/* fs: every path a session touches, kept inside the session root. Virtual
 * paths are normalised as strings; the kernel (openat2 RESOLVE_IN_ROOT)
 * then resolves them so no symlink or ".." can leave the root. */
#ifndef POSTEL_FTPD_FS_H
#define POSTEL_FTPD_FS_H

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "common/core/buffer.h"

/* Longest virtual path accepted, in bytes. */
#define FS_PATH_MAX 4096

/* Names the server keeps for itself: uploads in progress and their
 * partials (pi/upload.c). No client path may name one and no listing
 * shows one, so no command can reach them and no client can make one. */
#define FS_RESERVED_PREFIX ".postel-part-"
int fs_reserved(const char *name);

struct fs_root {
	int fd;    /* O_PATH|O_DIRECTORY fd of the root; -1 when closed */
	char *cwd; /* virtual working directory, always starts with "/" */
};

/* Open path as the root (after chroot: "/"); cwd starts at "/". 0 or -1/errno. */
int fs_root_open(struct fs_root *root, const char *path);
/* Take ownership of an already open directory fd as the root. */
void fs_root_init_fd(struct fs_root *root, int fd);
void fs_root_close(struct fs_root *root);

/* Normalise an FTP path argument against cwd (NULL: root->cwd; root may be
 * NULL when cwd is given) into an absolute virtual path in out (replacing its
 * contents, NUL-terminated). "." and ".." collapse, ".." stops at "/", runs
 * of "/" collapse; every other byte is a name byte. Pure string work, no
 * syscalls. 0, or -1/ENAMETOOLONG when the result exceeds FS_PATH_MAX. */
int fs_resolve(const struct fs_root *root, const char *cwd, const char *arg, struct buffer *out);
/* (fs_resolve fails with EACCES when a component is fs_reserved.) */
/* CWD: resolve arg, require a directory (symlinks followed inside the root),
 * and make it the cwd. 0 or -1/errno (ENOTDIR, ENOENT, EACCES...). */
int fs_chdir(struct fs_root *root, const char *arg);

/* The calls below take a virtual path (from fs_resolve; a relative one is
 * taken from "/"), return -1 with errno on failure, and never leave the root.
 * Open a file; flags as open(2) (O_CLOEXEC always added), mode used only
 * with O_CREAT/O_TMPFILE. Returns the fd. */
int fs_open(const struct fs_root *root, const char *vpath, int flags, mode_t mode);
/* Open a directory for reading; close with closedir. NULL/errno on failure. */
DIR *fs_opendir(const struct fs_root *root, const char *vpath);
/* Open the subdirectory name (one readdir name: no '/', not . or ..) of the
 * open directory parent, for LIST -R. A symlink is never followed, so the
 * walk neither loops nor leaves the root. NULL/errno (a symlink: ELOOP or
 * ENOTDIR). */
DIR *fs_opendir_child(DIR *parent, const char *name);
/* stat vpath; follow=0 describes a final symlink itself (lstat). */
int fs_stat(const struct fs_root *root, const char *vpath, struct stat *st, int follow);
/* Read a symlink's target into out (replacing, NUL-terminated). */
int fs_readlink(const struct fs_root *root, const char *vpath, struct buffer *out);
int fs_mkdir(const struct fs_root *root, const char *vpath, mode_t mode);
int fs_rmdir(const struct fs_root *root, const char *vpath);
int fs_unlink(const struct fs_root *root, const char *vpath);
/* Open vpath's parent directory (O_RDONLY when the user may read it, so
 * it can be listed and fsynced: *readable=1; else O_PATH) and point *last
 * at the final component inside vpath. */
int fs_parent_dir(const struct fs_root *root, const char *vpath, const char **last, int *readable);
/* rename(2) semantics: an existing target file is replaced. */
int fs_rename(const struct fs_root *root, const char *from, const char *to);
/* SITE CHMOD. A final symlink is not followed (Linux: EOPNOTSUPP). */
int fs_chmod(const struct fs_root *root, const char *vpath, mode_t mode);
/* MFMT: set the modification time to t (atime unchanged; a final symlink's own). */
int fs_utimes(const struct fs_root *root, const char *vpath, time_t t);
/* MFCT: Linux has no call that sets the birth time statx reports, so a
 * creation time is kept in this user extended attribute (the only kind an
 * unprivileged user may write), as decimal seconds since the epoch. */
#define FS_CREATE_XATTR "user.postel.create"
/* MFCT: store t as the creation time of vpath, a regular file or a
 * directory (a final symlink: EPERM), with fsetxattr on the opened file;
 * the kernel asks ownership or write permission. -1/errno: EOPNOTSUPP
 * when the file system keeps no user attributes. */
int fs_set_created(const struct fs_root *root, const char *vpath, time_t t);
/* One statx for a listing entry (name: a readdir name or a final
 * component, no '/'): its stat (not followed) and its MLSx create fact,
 * the MFCT attribute, else the statx birth time: -1 when it cannot be
 * stat'ed, 1 with *t, or 0 when neither exists. The attribute is read from the working directory,
 * which the caller has made dirfd (MLSD enters the listed directory once, not per entry). */
int fs_stat_created(int dirfd, const char *name, struct stat *st, time_t *t);
/* The create fact alone, for a virtual path (MLST): 1 with *t, or 0. */
int fs_created(const struct fs_root *root, const char *vpath, time_t *t);
/* AVBL: the bytes an unprivileged user may still write on the file system
 * of the directory vpath (statvfs f_bavail * f_frsize). */
int fs_avail(const struct fs_root *root, const char *vpath, uint64_t *bytes);

#endif
