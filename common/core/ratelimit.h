/* ratelimit: a rate and a burst per key (GCRA, the generic cell rate
 * algorithm), kept in a fixed-size table: memory is bounded whatever the
 * number of keys, and the key evicted first is the one nearest its full
 * allowance again. Pure: the caller passes the time. */
#ifndef POSTEL_RATELIMIT_H
#define POSTEL_RATELIMIT_H

#include <stddef.h>

#define RATELIMIT_SLOTS 4096 /* keys kept at once */
#define RATELIMIT_PROBE 16   /* slots a key may live in: its hash's and the next ones */
#define RATELIMIT_MAX_KEY 512

struct ratelimit_slot {
	char *key;  /* NULL: free */
	double tat; /* theoretical arrival time of the next event */
};

struct ratelimit {
	struct ratelimit_slot *slots;
	size_t nslots;
	double interval;  /* seconds per event at the rate; 0: no limit */
	double tolerance; /* how far tat may run ahead of now: (burst - 1) intervals */
};

/* A table of nslots (0: RATELIMIT_SLOTS), no limit until ratelimit_set. */
void ratelimit_init(struct ratelimit *rl, size_t nslots);
void ratelimit_free(struct ratelimit *rl);
/* per_minute events a minute, burst of them at once (at least 1); 0 per
 * minute: no limit. The keys' state is kept across a change. */
void ratelimit_set(struct ratelimit *rl, unsigned long per_minute, unsigned long burst);
/* One event for key at now (seconds, monotonic): 0 when it is allowed,
 * and then counted; otherwise the seconds until it would be (> 0), and
 * nothing is counted. */
double ratelimit_take(struct ratelimit *rl, const char *key, double now);
/* Keys held (tests). */
size_t ratelimit_count(const struct ratelimit *rl);

#endif
