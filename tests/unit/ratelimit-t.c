/* ratelimit-t: GCRA per key (common/core/ratelimit.h): the burst, the
 * steady rate and its retry time, keys apart, a change of rate, and a
 * table that stays its size whatever the number of keys. */
#include <stdio.h>

#include "common/core/ratelimit.h"
#include "tap.h"

/* Events for key at now allowed in a row (at most max). */
static int
allowed_in_a_row(struct ratelimit *rl, const char *key, double now, int max)
{
	int n = 0;

	while (n < max && ratelimit_take(rl, key, now) == 0)
		n++;
	return n;
}

static void
burst_and_rate(void)
{
	struct ratelimit rl;
	double wait;

	ratelimit_init(&rl, 0);
	is_int(100, allowed_in_a_row(&rl, "u:a", 1000, 100), "no rate set: no limit");
	ratelimit_set(&rl, 6, 3); /* one every 10 s, three at once */
	is_int(3, allowed_in_a_row(&rl, "u:b", 1000, 100), "a fresh key gets its burst");
	wait = ratelimit_take(&rl, "u:b", 1000);
	ok(wait > 9.99 && wait < 10.01, "past the burst: wait one interval (%.3f)", wait);
	wait = ratelimit_take(&rl, "u:b", 1004);
	ok(wait > 5.99 && wait < 6.01, "a refusal counts nothing: 4 s later, 6 s to go (%.3f)",
	   wait);
	is_int(1, allowed_in_a_row(&rl, "u:b", 1010, 100), "after one interval, one more");
	is_int(3, allowed_in_a_row(&rl, "u:c", 1010, 100), "another key has its own burst");
	is_int(3, allowed_in_a_row(&rl, "u:b", 1040, 100), "idle long enough: the burst again");
	ratelimit_set(&rl, 60, 1);
	is_int(1, allowed_in_a_row(&rl, "u:d", 2000, 100), "burst 1: one at a time");
	is_int(1, allowed_in_a_row(&rl, "u:d", 2001, 100), "and one a second at 60 a minute");
	ratelimit_set(&rl, 60, 0);
	is_int(1, allowed_in_a_row(&rl, "u:e", 3000, 100), "burst 0 counts as 1");
	ratelimit_set(&rl, 0, 10);
	is_int(100, allowed_in_a_row(&rl, "u:d", 2001, 100), "rate 0 again: no limit");
	ratelimit_free(&rl);
}

static void
bounded(void)
{
	struct ratelimit rl;
	char key[32];
	int refused = 0;

	ratelimit_init(&rl, 64);
	ratelimit_set(&rl, 1, 1);
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "a:10.0.%d.%d", i / 256, i % 256);
		ratelimit_take(&rl, key, 5000 + i * 0.001);
	}
	is_int(64, (long long)ratelimit_count(&rl), "10000 keys fill 64 slots and no more");
	/* The flooder posts after the 10000: it is the newest of its window,
	 * so the ones evicted next are older keys, not it. */
	ratelimit_take(&rl, "u:flood", 5010);
	for (int i = 0; i < 63; i++) {
		snprintf(key, sizeof(key), "a:10.1.0.%d", i);
		ratelimit_take(&rl, key, 5010.5);
	}
	refused = ratelimit_take(&rl, "u:flood", 5011) > 0;
	ok(refused, "a key with debt outlives 63 newcomers in a full table");
	ratelimit_free(&rl);
}

int
main(void)
{
	burst_and_rate();
	bounded();
	return tap_done();
}
