/* throttle: rate buckets that many processes share (GCRA: one atomic
 * "theoretical arrival time" per bucket), and this process's view of them. */
#ifndef POSTEL_THROTTLE_H
#define POSTEL_THROTTLE_H

#include <stdatomic.h>
#include <stdint.h>

enum throttle_dir { THROTTLE_DOWN, THROTTLE_UP, THROTTLE_NDIR };

/* The configured rates (bytes per second, 0: none); only the listener
 * writes them (at start and on SIGHUP), sessions read them at each charge. */
struct throttle_rates {
	_Atomic uint64_t per_ip[THROTTLE_NDIR];
	_Atomic uint64_t total[THROTTLE_NDIR];
};

/* One bucket per direction: the TAT, CLOCK_MONOTONIC nanoseconds. */
struct throttle_bucket {
	_Atomic uint64_t tat[THROTTLE_NDIR];
};

/* How far ahead of now a bucket's TAT may run before a charge waits: the
 * burst a bucket allows (50 ms of its rate), and the scheduling delay a
 * lone transfer absorbs without losing its turn on a loaded machine (a
 * wake-up later than this loses the time between). */
#define THROTTLE_TOLERANCE_NS 50000000ULL

/* GCRA: reserve bytes at rate on *tat at now (ns). Returns the
 * nanoseconds to wait before those bytes may go (0: at once); rate 0
 * reserves nothing. Bytes sent by time T are then at most
 * rate * (T - start + tolerance), however many processes charge. */
uint64_t throttle_gcra(_Atomic uint64_t *tat, uint64_t rate, uint64_t tolerance_ns, uint64_t now,
                       uint64_t bytes);
/* Give back bytes reserved but not used (a short read or write). */
void throttle_refund(_Atomic uint64_t *tat, uint64_t rate, uint64_t bytes);

/* This process's buckets (inherited by its children): the rates, read
 * only, the server's bucket and its address's; NULL: none. */
void throttle_attach(const struct throttle_rates *rates, struct throttle_bucket *total,
                     struct throttle_bucket *per_ip);
/* Whether a shared bucket limits dir now. */
int throttle_on(enum throttle_dir dir);
/* The most bytes one charge should ask for in dir: a small share of the
 * smallest rate in force, so many sessions interleave (want when none). */
uint64_t throttle_chunk(enum throttle_dir dir, uint64_t want);
/* Reserve bytes in dir in both buckets and sleep until they may go. */
void throttle_take(enum throttle_dir dir, uint64_t bytes);
/* Unused bytes of the last take go back to both buckets. */
void throttle_give_back(enum throttle_dir dir, uint64_t bytes);

#endif
