/* throttle: GCRA buckets in shared memory, and the charge a transfer or a
 * hash makes before its bytes go. */
#include "common/core/throttle.h"

#include <errno.h>
#include <time.h>

static const struct throttle_rates *rates;
static struct throttle_bucket *buckets[2]; /* total, per address */

static uint64_t
cost_ns(uint64_t rate, uint64_t bytes)
{
	unsigned __int128 c = (unsigned __int128)bytes * 1000000000U / rate;

	return c > UINT64_MAX / 4 ? UINT64_MAX / 4 : (uint64_t)c;
}

uint64_t
throttle_gcra(_Atomic uint64_t *tat, uint64_t rate, uint64_t tolerance_ns, uint64_t now,
              uint64_t bytes)
{
	uint64_t old, next, cost;

	if (rate == 0)
		return 0;
	cost = cost_ns(rate, bytes);
	old = atomic_load(tat);
	do {
		/* An idle bucket banks nothing beyond the tolerance. */
		next = (old > now ? old : now) + cost;
	} while (!atomic_compare_exchange_weak(tat, &old, next));
	return next > now + tolerance_ns ? next - now - tolerance_ns : 0;
}

void
throttle_refund(_Atomic uint64_t *tat, uint64_t rate, uint64_t bytes)
{
	uint64_t old, cost;

	if (rate == 0 || bytes == 0)
		return;
	cost = cost_ns(rate, bytes);
	old = atomic_load(tat);
	while (!atomic_compare_exchange_weak(tat, &old, old > cost ? old - cost : 0)) {
	}
}

void
throttle_attach(const struct throttle_rates *r, struct throttle_bucket *total,
                struct throttle_bucket *per_ip)
{
	rates = r;
	buckets[0] = total;
	buckets[1] = per_ip;
}

static uint64_t
rate_of(int which, enum throttle_dir dir)
{
	if (rates == NULL || buckets[which] == NULL)
		return 0;
	return atomic_load_explicit(which == 0 ? &rates->total[dir] : &rates->per_ip[dir],
	                            memory_order_relaxed);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000U + (uint64_t)ts.tv_nsec;
}

int
throttle_on(enum throttle_dir dir)
{
	return rate_of(0, dir) > 0 || rate_of(1, dir) > 0;
}

uint64_t
throttle_chunk(enum throttle_dir dir, uint64_t want)
{
	for (int i = 0; i < 2; i++) {
		uint64_t r = rate_of(i, dir);

		if (r > 0 && r / 32 + 1 < want)
			want = r / 32 + 1;
	}
	return want;
}

void
throttle_take(enum throttle_dir dir, uint64_t bytes)
{
	uint64_t now = now_ns(), wait = 0;
	struct timespec until;

	for (int i = 0; i < 2; i++) {
		uint64_t r = rate_of(i, dir), w;

		if (r > 0 && (w = throttle_gcra(&buckets[i]->tat[dir], r, THROTTLE_TOLERANCE_NS,
		                                now, bytes)) > wait)
			wait = w;
	}
	if (wait == 0)
		return;
	now += wait;
	until.tv_sec = (time_t)(now / 1000000000U);
	until.tv_nsec = (long)(now % 1000000000U);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
	}
}

void
throttle_give_back(enum throttle_dir dir, uint64_t bytes)
{
	for (int i = 0; i < 2; i++) {
		uint64_t r = rate_of(i, dir);

		if (r > 0)
			throttle_refund(&buckets[i]->tat[dir], r, bytes);
	}
}
