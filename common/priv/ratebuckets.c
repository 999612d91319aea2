/* ratebuckets: the rates in a memfd that sessions map through a read-only
 * descriptor, the server's bucket and one bucket per slot each in a shared
 * anonymous page of its own; which address holds a slot is kept here, in
 * the listener's own memory, never in a shared page.
 *
 * A slot's page exists only while the slot has sessions: mapped when its
 * first one is forked, unmapped when its last one ends. Every mapping of
 * the listener is one more entry its fork of each session walks, even a
 * MADV_DONTFORK one the child never gets (the kernel copies the whole
 * map, then erases those): 1,024 pages mapped at start made each fork
 * about 1.7 ms slower (a fork+exit+wait loop beside 1,024 such pages:
 * 2,187 us against 521 us without), and the listener forks every session. */
#include "common/priv/ratebuckets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/throttle.h"
#include "common/core/xmalloc.h"

struct slot {
	struct addr_key key;
	unsigned refs;
	struct throttle_bucket *bucket; /* its own page while refs > 0, inherited only by
	                                 * its sessions; NULL when free */
};

struct ratebuckets {
	int fd, ro_fd; /* the rates' memfd, and the same file opened read only */
	size_t page;
	struct throttle_rates *rates; /* the listener's writable mapping */
	struct throttle_bucket *total;
	uint64_t seed;
	struct slot slots[RATEBUCKETS_SLOTS];
};

static void *
shared_page(size_t page)
{
	return mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

/* The read-only descriptor: a mapping made through it can never be made
 * writable (mprotect), whatever the process holding it does. */
static int
open_read_only(int fd)
{
	char path[64];
	int n = snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

struct ratebuckets *
ratebuckets_create(void)
{
	struct ratebuckets *rb = xcalloc(1, sizeof(*rb));

	rb->page = (size_t)sysconf(_SC_PAGESIZE);
	/* A random seed: clients cannot aim their addresses at one slot. */
	if (getrandom(&rb->seed, sizeof(rb->seed), 0) != (ssize_t)sizeof(rb->seed))
		rb->seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
	rb->fd = memfd_create("postel-rates", MFD_CLOEXEC);
	rb->ro_fd = -1;
	if (rb->fd < 0 || ftruncate(rb->fd, (off_t)rb->page) < 0 ||
	    (rb->ro_fd = open_read_only(rb->fd)) < 0 ||
	    (rb->rates = mmap(NULL, rb->page, PROT_READ | PROT_WRITE, MAP_SHARED, rb->fd, 0)) ==
	        MAP_FAILED ||
	    (rb->total = shared_page(rb->page)) == MAP_FAILED)
		goto fail;
	/* No child inherits the writable rates: a session maps them from
	 * ro_fd. Nor any slot but its own (ratebuckets_acquire). */
	madvise(rb->rates, rb->page, MADV_DONTFORK);
	return rb;
fail:
	log_msg(LOG_ERR,
	        "rate buckets: %s; max_rate_per_ip_* and max_rate_total_* are not enforced",
	        strerror(errno));
	if (rb->fd >= 0)
		close(rb->fd);
	if (rb->ro_fd >= 0)
		close(rb->ro_fd);
	free(rb); /* the pages mapped so far stay: this happens once, at start */
	return NULL;
}

void
ratebuckets_set(struct ratebuckets *rb, const uint64_t per_ip[2], const uint64_t total[2])
{
	for (int d = 0; d < THROTTLE_NDIR; d++) {
		atomic_store(&rb->rates->per_ip[d], per_ip[d]);
		atomic_store(&rb->rates->total[d], total[d]);
	}
}

static int
find_slot(struct ratebuckets *rb, const struct addr_key *key)
{
	int home = (int)(addr_key_hash(key, rb->seed) % RATEBUCKETS_SLOTS), free_slot = -1;

	for (int n = 0; n < RATEBUCKETS_SLOTS; n++) {
		int i = (home + n) % RATEBUCKETS_SLOTS;

		if (rb->slots[i].refs > 0 && addr_key_equal(&rb->slots[i].key, key))
			return i;
		if (rb->slots[i].refs == 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return home; /* every slot is another address's: share one
		              * (both are slower, none is faster) */
	/* A fresh page: empty buckets. */
	void *page = shared_page(rb->page);

	if (page == MAP_FAILED) {
		log_msg(LOG_ERR, "rate buckets: a page for a new address: %s", strerror(errno));
		return -1;
	}
	madvise(page, rb->page, MADV_DONTFORK);
	rb->slots[free_slot].key = *key;
	rb->slots[free_slot].bucket = page;
	return free_slot;
}

int
ratebuckets_acquire(struct ratebuckets *rb, const struct addr_key *key)
{
	int i = find_slot(rb, key);

	if (i < 0)
		return -1;
	rb->slots[i].refs++;
	/* The fork that follows, and only it, inherits this slot's page. */
	madvise(rb->slots[i].bucket, rb->page, MADV_DOFORK);
	return i;
}

void
ratebuckets_forked(struct ratebuckets *rb, int slot)
{
	if (slot >= 0 && slot < RATEBUCKETS_SLOTS)
		madvise(rb->slots[slot].bucket, rb->page, MADV_DONTFORK);
}

void
ratebuckets_release(struct ratebuckets *rb, int slot)
{
	struct slot *sl;

	if (slot < 0 || slot >= RATEBUCKETS_SLOTS || rb->slots[slot].refs == 0)
		return;
	sl = &rb->slots[slot];
	if (--sl->refs == 0) {
		munmap(sl->bucket, rb->page);
		sl->bucket = NULL;
	}
}

/* SECURITY: a session (and every process it forks) holds the rates only
 * through a mapping of a read-only descriptor, so it cannot raise or lower
 * anyone's rate; the server's bucket and its own address's are separate
 * shared objects of one page each, so no mremap reaches another address's
 * bucket (it inherited no other), and it keeps no descriptor to map more.
 * The most a compromised session can do is push the TATs of its own
 * address's bucket and of the server's bucket ahead: slow down its own
 * address and, when max_rate_total_* is set, the server's total, which
 * its own transfers could do anyway. (It can also skip charging, as it can
 * skip its per-session rate: that spends only its own address's share.) */
void
ratebuckets_attach(struct ratebuckets *rb, int slot)
{
	void *rates = mmap(NULL, rb->page, PROT_READ, MAP_SHARED, rb->ro_fd, 0);

	if (rates == MAP_FAILED)
		die("rate buckets: mmap: %s", strerror(errno));
	close(rb->fd);
	close(rb->ro_fd);
	rb->fd = rb->ro_fd = -1;
	throttle_attach(rates, rb->total, rb->slots[slot].bucket);
}
