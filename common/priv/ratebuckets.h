/* ratebuckets: the memory the listener shares with its sessions for the
 * aggregate rate limits (common/core/throttle.h holds the buckets' rules). */
#ifndef POSTEL_RATEBUCKETS_H
#define POSTEL_RATEBUCKETS_H

#include <stdint.h>

#include "common/core/cidr.h"

/* Addresses (blocks, as max_per_ip counts them) with a bucket of their
 * own at once; past that, a new one shares the bucket its hash names. */
#define RATEBUCKETS_SLOTS 1024

struct ratebuckets;

/* The shared pages, before any session; NULL (logged) when the kernel
 * refuses them. */
struct ratebuckets *ratebuckets_create(void);
/* Rates in bytes per second (0: none), [THROTTLE_DOWN] and [THROTTLE_UP];
 * running sessions follow at their next charge. */
void ratebuckets_set(struct ratebuckets *rb, const uint64_t per_ip[2], const uint64_t total[2]);
/* In the listener, just before the fork of a session of key: its slot,
 * counted once more (a fresh slot starts with empty buckets, on a page
 * mapped now), whose page the fork will inherit; after the fork (or its
 * failure), ratebuckets_forked, so that no later fork inherits it. -1
 * (logged) when the kernel refuses a fresh slot its page: the session is
 * not started, as when the fork fails. */
int ratebuckets_acquire(struct ratebuckets *rb, const struct addr_key *key);
void ratebuckets_forked(struct ratebuckets *rb, int slot);
/* That session ended. */
void ratebuckets_release(struct ratebuckets *rb, int slot);
/* In the session's child, before anything else: map the rates (read
 * only), take the server's bucket and the slot's, and drop the
 * descriptors. */
void ratebuckets_attach(struct ratebuckets *rb, int slot);

#endif
