/* throttle-t: the GCRA bucket (common/core/throttle.c): the bytes one or
 * many charges may send by a time, idle time banks nothing, refunds, and
 * many processes charging one shared bucket never exceed its rate. */
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/throttle.h"
#include "tap.h"

#define SEC 1000000000ULL

static void
single(void)
{
	_Atomic uint64_t tat = 0;
	uint64_t now = 10 * SEC;

	ok(throttle_gcra(&tat, 0, 0, now, 1000000) == 0 && atomic_load(&tat) == 0,
	   "rate 0 reserves nothing and never waits");
	/* 1 MB at 1 MB/s from an idle bucket: it may go 1 s from now. */
	ok(throttle_gcra(&tat, 1000000, 0, now, 1000000) == SEC, "1 MB at 1 MB/s waits 1 s");
	ok(atomic_load(&tat) == now + SEC, "the TAT is 1 s ahead");
	ok(throttle_gcra(&tat, 1000000, 0, now, 500000) == SEC + SEC / 2,
	   "a second charge queues behind the first: 1.5 s");
	ok(throttle_gcra(&tat, 1000000, SEC / 2, now, 0) == SEC,
	   "the tolerance is taken off the wait");
	/* Long idle: the bucket starts again from now, banking nothing. */
	ok(throttle_gcra(&tat, 1000000, 0, now + 100 * SEC, 1000) == SEC / 1000,
	   "after 100 s idle 1000 bytes wait 1 ms, not 0");
	throttle_refund(&tat, 1000000, 1000);
	ok(atomic_load(&tat) == now + 100 * SEC, "a refund gives the reservation back");
	throttle_refund(&tat, 1, UINT64_MAX / 2);
	ok(atomic_load(&tat) == 0, "a refund never wraps below 0");
}

/* N charges of chunk bytes each, from n "sessions" all at the same now,
 * then a sender that waits as told: the last byte leaves no sooner than
 * total / rate. */
static void
many_at_once(void)
{
	_Atomic uint64_t tat = 0;
	uint64_t now = SEC, rate = 2000000, last = 0;

	for (int i = 0; i < 50; i++) {
		uint64_t w = throttle_gcra(&tat, rate, 0, now, 65536);

		if (w > last)
			last = w;
	}
	ok(last == (uint64_t)50 * 65536 * SEC / rate,
	   "50 sessions' chunks queue: the last waits %.3f s", (double)last / SEC);
}

/* Processes sharing one bucket in MAP_SHARED memory, each charging and
 * sleeping through throttle_take: the sum of their bytes over the time
 * stays at the rate (+ one tolerance). */
static void
shared(void)
{
	struct page {
		struct throttle_rates rates;
		struct throttle_bucket total, per_ip;
	} *p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	const uint64_t rate = 4000000, chunk = 20000;
	const int procs = 8, per = 25;
	struct timespec a, b;
	double secs, want;
	int good = 1;

	atomic_store(&p->rates.total[THROTTLE_DOWN], rate);
	atomic_store(&p->rates.per_ip[THROTTLE_DOWN], 0);
	throttle_attach(&p->rates, &p->total, &p->per_ip);
	ok(throttle_chunk(THROTTLE_DOWN, 1 << 20) == rate / 32 + 1, "a chunk is 1/32 of the rate");
	ok(throttle_chunk(THROTTLE_UP, 1 << 20) == 1 << 20,
	   "no rate upward: the chunk is as asked");
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < procs; i++)
		if (fork() == 0) {
			for (int j = 0; j < per; j++)
				throttle_take(THROTTLE_DOWN, chunk);
			_exit(0);
		}
	for (int i = 0; i < procs; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			good = 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	want = (double)(procs * per) * (double)chunk / (double)rate -
	       (double)THROTTLE_TOLERANCE_NS / 1e9;
	ok(good && secs >= want, "%d processes, %llu bytes at %llu B/s took %.3f s (at least %.3f)",
	   procs, (unsigned long long)(procs * per * chunk), (unsigned long long)rate, secs, want);
	throttle_attach(NULL, NULL, NULL);
	munmap(p, sizeof(*p));
}

int
main(void)
{
	tap_plan(12);
	single();
	many_at_once();
	shared();
	return tap_failed != 0;
}
