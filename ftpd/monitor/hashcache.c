/* hashcache: the digest cache a mirror's sessions share, and the hasher.
 *
 * Why it holds against a rogue session, by construction:
 *  - Only monitors (root, one per session, never parsing client bytes) map
 *    the table. The listener maps it before it forks any session; every
 *    worker unmaps it before it drops privilege (hashcache_forget), and the
 *    DTPs are the workers' children, so no sandboxed process has it.
 *  - A worker's PS_HASH names a file (an fd), an algorithm and a range, and
 *    nothing else: there is no field to carry a digest, so no worker can
 *    hand the monitor a value to store. The value stored is what a hasher
 *    the monitor forked computed from that fd: a process the worker did not
 *    fork and cannot signal or trace (its uid changed from root, so it is
 *    not dumpable; the worker filters allow neither ptrace nor kill).
 *  - The key is what the monitor's own fstat of the fd says (device,
 *    inode, size, mtime and ctime to the nanosecond) with the algorithm and
 *    range; a file changed while it was hashed (its stat differs after) is
 *    not stored. Any write changes ctime, so an edited file, even at the
 *    same size and with its mtime put back, never matches an old entry.
 *  - A worker that sends a file it may read learns its digest, which it
 *    could have computed itself; it cannot learn or store anything else.
 * Writers take an entry with a sequence word (odd while written), readers
 * copy it and check the word did not move: an entry half written by one
 * monitor reads as a miss in another, never as a wrong digest. */
#include "ftpd/monitor/hashcache.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "ftpd/digest.h"

#define HC_SLOTS 4096 /* about 1 MB shared; a collision just replaces */

struct hc_key {
	uint64_t dev, ino, size, start, len;
	int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
	uint32_t algo, pad;
};

struct hc_entry {
	uint32_t seq; /* even: stable; odd: being written */
	uint32_t used;
	struct hc_key key;
	char hex[DIGEST_HEX_MAX];
};

static struct hc_entry *table;

void
hashcache_init(void)
{
	size_t size = sizeof(struct hc_entry) * HC_SLOTS;
	int fd;

	if (table != NULL)
		return;
	/* A memfd by name, so /proc/PID/maps shows who maps it (sec_ftp.bats). */
	fd = memfd_create("postel-hashcache", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		die("hash cache: %s", strerror(errno));
	table = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (table == MAP_FAILED)
		die("hash cache: mmap: %s", strerror(errno));
	close(fd);
}

void
hashcache_forget(void)
{
	if (table != NULL)
		munmap(table, sizeof(struct hc_entry) * HC_SLOTS);
	table = NULL;
}

static void
make_key(struct hc_key *k, const struct stat *st, const struct ps_hash_req *r)
{
	memset(k, 0, sizeof(*k));
	k->dev = (uint64_t)st->st_dev;
	k->ino = (uint64_t)st->st_ino;
	k->size = (uint64_t)st->st_size;
	k->mtime_s = (int64_t)st->st_mtim.tv_sec;
	k->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
	k->ctime_s = (int64_t)st->st_ctim.tv_sec;
	k->ctime_ns = (int64_t)st->st_ctim.tv_nsec;
	k->algo = r->algo;
	k->start = r->start;
	k->len = r->len;
}

static struct hc_entry *
slot(const struct hc_key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return &table[h % HC_SLOTS];
}

static int
lookup(const struct hc_key *k, char hex[DIGEST_HEX_MAX])
{
	struct hc_entry *e = slot(k), copy;
	uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

	if (s1 & 1)
		return -1;
	memcpy(&copy, e, sizeof(copy));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1 || !copy.used ||
	    memcmp(&copy.key, k, sizeof(*k)) != 0)
		return -1;
	copy.hex[DIGEST_HEX_MAX - 1] = '\0';
	memcpy(hex, copy.hex, DIGEST_HEX_MAX);
	return 0;
}

static void
store(const struct hc_key *k, const char hex[DIGEST_HEX_MAX])
{
	struct hc_entry *e = slot(k);
	uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);

	/* Another monitor writes it now: leave it to that one. */
	if ((s & 1) ||
	    !__atomic_compare_exchange_n(&e->seq, &s, s + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	e->key = *k;
	memcpy(e->hex, hex, DIGEST_HEX_MAX);
	e->used = 1;
	__atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
}

/* The hasher: its fds are the file (3) and the result pipe (4) only; it
 * becomes hasher_id in its empty chroot under the DTP's filter, hashes,
 * writes the hex and ends. */
static void __attribute__((noreturn)) hasher(int file_fd, int out_fd, const struct ps_hash_req *r,
                                             const struct sandbox_id *id, unsigned long rate)
{
	char hex[DIGEST_HEX_MAX];

	signal(SIGTERM, SIG_DFL);
	if (dup2(file_fd, 3) < 0 || dup2(out_fd, 4) < 0)
		_exit(1);
	close_range(5, ~0U, 0);
	hashcache_forget();
	sandbox_worker(id, SB_FTP_SESSION, -1);
	sandbox_enter_dtp();
	if (digest_fd(3, (enum digest_algo)r->algo, r->start, r->len, rate, hex) < 0) {
		log_msg(LOG_ERR, "hash: read failed: %s", strerror(errno));
		_exit(1);
	}
	if (write(4, hex, strlen(hex)) != (ssize_t)strlen(hex))
		_exit(1);
	_exit(0);
}

static void
answer(int sock, enum ps_type type, char kind, const char *hex)
{
	char buf[DIGEST_HEX_MAX + 1];
	size_t n = hex != NULL ? strlen(hex) : 0;

	buf[0] = kind;
	if (n > 0)
		memcpy(buf + 1, hex, n);
	ps_send(sock, type, buf, n + 1, -1);
}

/* Wait for the hasher pid (result on rfd) while the worker may send
 * PS_HASH_ABORT. 0: hex read; 1: aborted or the worker is gone; 2: the
 * hasher failed; -1: the worker broke the protocol. */
static int
wait_hasher(int sock, pid_t pid, int rfd, char hex[DIGEST_HEX_MAX], size_t want, const char **why)
{
	size_t got = 0;
	int rc = 2, status;

	for (;;) {
		struct pollfd p[2] = {{.fd = rfd, .events = POLLIN},
		                      {.fd = sock, .events = POLLIN}};
		struct ps_msg m;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(rfd, hex + got, DIGEST_HEX_MAX - 1 - got);

			if (n > 0) {
				got += (size_t)n;
				continue;
			}
			rc = got == want ? 0 : 2;
			break;
		}
		if (p[1].revents & POLLIN) {
			if (ps_recv(sock, &m) < 0) {
				rc = 1;
				break;
			}
			if (m.fd >= 0)
				close(m.fd);
			if (m.type != PS_HASH_ABORT) {
				*why = "request during a hash";
				rc = -1;
				break;
			}
			rc = 1;
			break;
		}
		if (p[1].revents) {
			rc = 1;
			break;
		}
	}
	if (rc != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		rc = 2;
	hex[got] = '\0';
	return rc;
}

int
hashcache_serve(int sock, const struct ps_msg *m, const struct sandbox_id *hasher_id,
                unsigned long rate, const char **why)
{
	struct ps_hash_req r;
	struct stat before, after;
	struct hc_key key;
	char hex[DIGEST_HEX_MAX];
	int p[2], rc, flags;
	pid_t pid;

	/* SECURITY: exactly the request and a readable regular file; the
	 * range inside it. Anything else is not an honest worker's. */
	if (m->len != sizeof(r) || m->fd < 0) {
		*why = "malformed hash request";
		return -1;
	}
	memcpy(&r, m->data, sizeof(r));
	flags = fcntl(m->fd, F_GETFL);
	if (r.algo >= DIGEST_N || r.pad != 0 || flags < 0 || (flags & O_ACCMODE) == O_WRONLY ||
	    fstat(m->fd, &before) < 0 || !S_ISREG(before.st_mode) ||
	    r.start > (uint64_t)before.st_size || r.len > (uint64_t)before.st_size - r.start) {
		*why = "malformed hash request";
		return -1;
	}
	make_key(&key, &before, &r);
	if (table != NULL && lookup(&key, hex) == 0) {
		answer(sock, PS_OK, 'H', hex);
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		log_msg(LOG_ERR, "hash: cannot start the hasher: %s", strerror(errno));
		answer(sock, PS_FAIL, 'E', NULL);
		return 0;
	}
	if (pid == 0)
		hasher(m->fd, p[1], &r, hasher_id, rate);
	close(p[1]);
	rc = wait_hasher(sock, pid, p[0], hex, digest_hex_len((enum digest_algo)r.algo), why);
	close(p[0]);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		answer(sock, PS_FAIL, 'A', NULL);
		return 0;
	}
	if (rc == 2) {
		answer(sock, PS_FAIL, 'E', NULL);
		return 0;
	}
	/* Changed while it was read: the digest is of no one version. */
	if (fstat(m->fd, &after) < 0 || after.st_size != before.st_size ||
	    after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
	    after.st_ctim.tv_sec != before.st_ctim.tv_sec ||
	    after.st_ctim.tv_nsec != before.st_ctim.tv_nsec) {
		answer(sock, PS_FAIL, 'S', NULL);
		return 0;
	}
	if (table != NULL)
		store(&key, hex);
	answer(sock, PS_OK, 'C', hex);
	return 0;
}
