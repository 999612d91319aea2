/* ratebuckets-t: the listener's slots for the aggregate rates
 * (common/priv/ratebuckets.c): one per address while it has sessions, a
 * freed one for a new address, a shared one past RATEBUCKETS_SLOTS, and
 * what a forked session reads: the rates as the listener last set them. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/core/cidr.h"
#include "common/core/throttle.h"
#include "common/priv/ratebuckets.h"
#include "tap.h"

static struct addr_key
key4(unsigned n)
{
	struct addr_key k;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET;
	k.addr[0] = 10;
	k.addr[1] = (unsigned char)(n >> 16);
	k.addr[2] = (unsigned char)(n >> 8);
	k.addr[3] = (unsigned char)n;
	return k;
}

static int
take(struct ratebuckets *rb, unsigned n)
{
	struct addr_key k = key4(n);
	int s = ratebuckets_acquire(rb, &k);

	ratebuckets_forked(rb, s);
	return s;
}

/* Mappings of this process (lines of /proc/self/maps): each is one more
 * entry every fork walks, so the slots must not cost one each unused. */
static int
mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;

	if (f == NULL)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* A session of address n, forked as the listener forks one: 0 when it
 * reads the download rate as want (and no upload rate) in its buckets. */
static int
session_reads(struct ratebuckets *rb, unsigned n, uint64_t want)
{
	struct addr_key k = key4(n);
	int slot = ratebuckets_acquire(rb, &k), st;
	pid_t pid = fork();

	if (pid == 0) {
		ratebuckets_attach(rb, slot);
		_exit(throttle_on(THROTTLE_UP) || throttle_on(THROTTLE_DOWN) != (want > 0) ||
		              (want > 0 && throttle_chunk(THROTTLE_DOWN, 1 << 20) != want / 32 + 1)
		          ? 1
		          : 0);
	}
	ratebuckets_forked(rb, slot);
	ratebuckets_release(rb, slot);
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
main(void)
{
	/* static: the listener keeps it for its whole life, as here */
	static struct ratebuckets *rb;
	static unsigned char seen[RATEBUCKETS_SLOTS];
	uint64_t per_ip[2] = {1000000, 0}, total[2] = {0, 0};
	int sa, sb, distinct = 0, in_range = 1, m0, m1, on_sa = 0;

	tap_plan(10);
	m0 = mappings();
	rb = ratebuckets_create();
	if (!ok(rb != NULL, "the shared pages are made"))
		return 1;
	m1 = mappings();
	ok(m0 > 0 && m1 - m0 < RATEBUCKETS_SLOTS / 16,
	   "no page per slot before its first session (%d mappings more)", m1 - m0);
	ratebuckets_release(rb, take(rb, 7));
	is_int(m1, mappings(), "a slot's page goes with its last session");
	sa = take(rb, 1);
	sb = take(rb, 2);
	ok(sa != sb, "two addresses get two slots (%d, %d)", sa, sb);
	ok(take(rb, 1) == sa, "a second session of an address gets its slot");
	ratebuckets_release(rb, sa);
	ok(take(rb, 1) == sa, "a slot with a session left keeps its address");
	/* more addresses than slots: each is in range, all slots get used,
	 * and the ones past the last free slot share */
	seen[sa] = seen[sb] = 1;
	for (unsigned i = 10; i < 10 + RATEBUCKETS_SLOTS + 5; i++) {
		int s = take(rb, i);

		in_range &= s >= 0 && s < RATEBUCKETS_SLOTS;
		if (in_range)
			seen[s] = 1;
		on_sa += s == sa; /* one past the free slots, sharing address 1's */
	}
	for (int i = 0; i < RATEBUCKETS_SLOTS; i++)
		distinct += seen[i];
	ok(in_range && distinct == RATEBUCKETS_SLOTS,
	   "%d addresses use all %d slots and no other (%d seen)", RATEBUCKETS_SLOTS + 7,
	   RATEBUCKETS_SLOTS, distinct);
	/* address 1's sessions all end, and any that shared its slot (the
	 * seed decides where the ones past the free slots land): its slot
	 * is the one free slot */
	ratebuckets_release(rb, sa);
	ratebuckets_release(rb, sa);
	while (on_sa-- > 0)
		ratebuckets_release(rb, sa);
	ok(take(rb, 5000) == sa, "a slot whose sessions all ended goes to the next new address");
	ratebuckets_set(rb, per_ip, total);
	ok(session_reads(rb, 2, 1000000) == 0, "a forked session reads the rates the listener set");
	per_ip[0] = 0;
	ratebuckets_set(rb, per_ip, total);
	ok(session_reads(rb, 2, 0) == 0, "and the next ones (none now) at its next charge");
	return tap_failed != 0;
}
