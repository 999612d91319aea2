/* peruser: max_sessions_per_user slots and the quota usage file.
 *
 * Slots: session_lock_dir (root's, made at need) holds, for each user,
 * files named for a hash of the login name and a slot number 0..N-1. A
 * login takes the first one it can flock (LOCK_EX | LOCK_NB) and the
 * monitor holds it for the session's life; none of its workers keeps the
 * descriptor. The kernel drops the lock with the monitor, however it ends
 * (kill -9 included), so no count leaks, and N parallel logins of one user
 * cannot both see a slot free: exact without a counter. Anonymous sessions
 * count under "anonymous" (also for USER ftp). */
#include "ftpd/monitor/peruser.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/paths.h"
#include "common/core/xmalloc.h"
#include "ftpd/options.h"

#define SLOT_HASH 16 /* bytes of SHA-256 in a slot file's name */

static int slot_fd = -1;

/* mkdir -p of an absolute path; the last component 0700. */
static void
make_dirs(const char *path)
{
	char *p = xstrdup(path);

	for (char *c = p + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			mkdir(p, 0755);
			*c = '/';
		}
	mkdir(p, 0700);
	free(p);
}

/* SECURITY: the slots are root's (the monitor's): a directory others
 * could write would let them hold a user's slots and lock the user out. */
static int
open_lock_dir(void)
{
	struct stat st;
	int fd;

	make_dirs(opt.session_lock_dir);
	fd = open(opt.session_lock_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		log_msg(LOG_ERR, "session_lock_dir %s: %s", opt.session_lock_dir, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		log_msg(LOG_ERR, "session_lock_dir %s: not %u's alone (mode %03o, owner %u)",
		        opt.session_lock_dir, (unsigned)geteuid(), (unsigned)(st.st_mode & 0777),
		        (unsigned)st.st_uid);
		close(fd);
		return -1;
	}
	return fd;
}

/* A name of the user's slot k that no login name can steer ('/', "..",
 * length): a hash. */
static void
slot_name(const char *user, unsigned long k, char *out, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t o = 0;

	if (EVP_Digest(user, strlen(user), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < SLOT_HASH)
		die("peruser: SHA-256 failed");
	for (unsigned i = 0; i < SLOT_HASH; i++)
		o += (size_t)snprintf(out + o, n - o, "%02x", md[i]);
	snprintf(out + o, n - o, ".%lu", k);
}

int
peruser_slot_take(const char *user)
{
	char name[2 * SLOT_HASH + 24];
	int dfd, rc = 1;

	peruser_slot_release();
	if (opt.max_sessions_per_user == 0)
		return 0;
	dfd = open_lock_dir();
	if (dfd < 0)
		return -1;
	for (unsigned long k = 0; k < opt.max_sessions_per_user && rc == 1; k++) {
		int fd;

		slot_name(user, k, name, sizeof(name));
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			log_msg(LOG_ERR, "session_lock_dir %s/%s: %s", opt.session_lock_dir, name,
			        strerror(errno));
			rc = -1;
		} else if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			slot_fd = fd;
			rc = 0;
		} else {
			if (errno != EWOULDBLOCK) {
				log_msg(LOG_ERR, "flock %s/%s: %s", opt.session_lock_dir, name,
				        strerror(errno));
				rc = -1;
			}
			close(fd);
		}
	}
	close(dfd);
	if (rc > 0)
		log_msg(LOG_NOTICE, "login %s refused: max_sessions_per_user (%lu) reached", user,
		        opt.max_sessions_per_user);
	return rc;
}

void
peruser_slot_release(void)
{
	if (slot_fd >= 0)
		close(slot_fd);
	slot_fd = -1;
}

/* The usage file: see dtp/quota.c for why it is root's and in the root.
 * SECURITY: opened by name in a tree the user may write (a writable
 * chroot, the anonymous drop): never through a symlink, and only a regular
 * file of the monitor's with one link, so no planted name makes root open
 * (or let the worker write) another file. */
int
peruser_usage_open(int rootfd, const char *root_path, const char *user)
{
	struct stat st;
	int fd;

	if (opt.quota_bytes == 0 && opt.quota_files == 0)
		return -1;
	if (strcmp(root_path, "/") == 0) {
		log_msg(LOG_ERR, "login %s refused: a quota needs a session root other than /", user);
		return -2;
	}
	fd = openat(rootfd, FTPD_QUOTA_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	            0600);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_msg(LOG_ERR, "login %s refused: %s/%s: %s", user, root_path, FTPD_QUOTA_NAME,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return -2;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid()) {
		log_msg(LOG_ERR, "login %s refused: %s/%s is not a file of uid %u with one link", user,
		        root_path, FTPD_QUOTA_NAME, (unsigned)geteuid());
		close(fd);
		return -2;
	}
	return fd;
}
