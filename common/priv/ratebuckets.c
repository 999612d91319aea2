/* ratebuckets: one memfd, page 0 the rates, page 1 the server's bucket,
 * page 2 + i slot i's bucket; which address holds a slot is kept here, in
 * the listener's own memory, never in the shared pages. */
#include "common/priv/ratebuckets.h"

#include <errno.h>
#include <stdlib.h>
#include <stdatomic.h>
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
};

struct ratebuckets {
	int fd;
	size_t page, size;
	unsigned char *all; /* the listener's mapping, never a session's */
	uint64_t seed;
	struct slot slots[RATEBUCKETS_SLOTS];
};

static struct throttle_bucket *
bucket_of(struct ratebuckets *rb, int slot)
{
	return (struct throttle_bucket *)(rb->all + (size_t)(2 + slot) * rb->page);
}

struct ratebuckets *
ratebuckets_create(void)
{
	struct ratebuckets *rb = xcalloc(1, sizeof(*rb));

	rb->page = (size_t)sysconf(_SC_PAGESIZE);
	rb->size = (size_t)(2 + RATEBUCKETS_SLOTS) * rb->page;
	/* A random seed: clients cannot aim their addresses at one slot. */
	if (getrandom(&rb->seed, sizeof(rb->seed), 0) != (ssize_t)sizeof(rb->seed))
		rb->seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
	rb->fd = memfd_create("postel-rates", MFD_CLOEXEC);
	if (rb->fd < 0 || ftruncate(rb->fd, (off_t)rb->size) < 0 ||
	    (rb->all = mmap(NULL, rb->size, PROT_READ | PROT_WRITE, MAP_SHARED, rb->fd, 0)) ==
	        MAP_FAILED) {
		log_msg(LOG_ERR, "rate buckets: %s; no per-address or total rate limit",
		        strerror(errno));
		if (rb->fd >= 0)
			close(rb->fd);
		free(rb);
		return NULL;
	}
	/* No child inherits this mapping: a session maps only its pages. */
	madvise(rb->all, rb->size, MADV_DONTFORK);
	return rb;
}

void
ratebuckets_set(struct ratebuckets *rb, const uint64_t per_ip[2], const uint64_t total[2])
{
	struct throttle_rates *r = (struct throttle_rates *)rb->all;

	for (int d = 0; d < THROTTLE_NDIR; d++) {
		atomic_store(&r->per_ip[d], per_ip[d]);
		atomic_store(&r->total[d], total[d]);
	}
}

int
ratebuckets_acquire(struct ratebuckets *rb, const struct addr_key *key)
{
	int home = (int)(addr_key_hash(key, rb->seed) % RATEBUCKETS_SLOTS), free_slot = -1;

	for (int n = 0; n < RATEBUCKETS_SLOTS; n++) {
		int i = (home + n) % RATEBUCKETS_SLOTS;

		if (rb->slots[i].refs > 0 && addr_key_equal(&rb->slots[i].key, key)) {
			rb->slots[i].refs++;
			return i;
		}
		if (rb->slots[i].refs == 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		/* Every slot is another address's: share one (both are
		 * slower, none is faster). */
		rb->slots[home].refs++;
		return home;
	}
	rb->slots[free_slot].key = *key;
	rb->slots[free_slot].refs = 1;
	for (int d = 0; d < THROTTLE_NDIR; d++)
		atomic_store(&bucket_of(rb, free_slot)->tat[d], 0);
	return free_slot;
}

void
ratebuckets_release(struct ratebuckets *rb, int slot)
{
	if (slot >= 0 && slot < RATEBUCKETS_SLOTS && rb->slots[slot].refs > 0)
		rb->slots[slot].refs--;
}

/* SECURITY: a session (and every process it forks) holds the rates page
 * read only, so it cannot raise anyone's rate, and no mapping of any other
 * address's slot: the most a compromised session can do is push the TATs
 * of its own address's bucket and of the server's bucket ahead, slowing
 * down its own address and the server's total, which any client can do
 * by downloading. The memfd itself is closed here, so it cannot map more. */
void
ratebuckets_attach(struct ratebuckets *rb, int slot)
{
	void *rates, *total, *own = NULL;

	rates = mmap(NULL, rb->page, PROT_READ, MAP_SHARED, rb->fd, 0);
	total = mmap(NULL, rb->page, PROT_READ | PROT_WRITE, MAP_SHARED, rb->fd, (off_t)rb->page);
	if (slot >= 0)
		own = mmap(NULL, rb->page, PROT_READ | PROT_WRITE, MAP_SHARED, rb->fd,
		           (off_t)(2 + slot) * (off_t)rb->page);
	close(rb->fd);
	rb->fd = -1;
	if (rates == MAP_FAILED || total == MAP_FAILED || own == MAP_FAILED)
		die("rate buckets: mmap: %s", strerror(errno));
	throttle_attach(rates, total, own);
}
