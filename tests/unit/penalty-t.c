/* penalty-t: the blocks clients are counted as (addr_key_prefix) and the
 * listener's bounded back-off table. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/core/cidr.h"
#include "common/priv/listener.h"
#include "tap.h"

static struct addr_key
key6(const char *text, unsigned prefix)
{
	struct addr_key k;

	memset(&k, 0, sizeof(k));
	k.family = AF_INET6;
	inet_pton(AF_INET6, text, k.addr);
	addr_key_prefix(&k, prefix);
	return k;
}

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

static void
prefixes(void)
{
	struct addr_key a = key6("2001:db8:1:2::1", 64), b = key6("2001:db8:1:2:ffff::9", 64);
	struct addr_key c = key6("2001:db8:1:3::1", 64), v4 = key4(0x010203), v4m = v4;

	ok(addr_key_equal(&a, &b), "two addresses of one /64 are one key");
	ok(!addr_key_equal(&a, &c), "the next /64 is another key");
	a = key6("2001:db8:1:2::1", 128);
	b = key6("2001:db8:1:2::2", 128);
	ok(!addr_key_equal(&a, &b), "at /128 every address is its own key");
	a = key6("2001:db8:1:200::1", 56);
	b = key6("2001:db8:1:2ff::1", 56);
	c = key6("2001:db8:1:300::1", 56);
	ok(addr_key_equal(&a, &b) && !addr_key_equal(&a, &c), "a /56 keeps seven whole bytes");
	a = key6("2001:db8:1:2::1", 61);
	b = key6("2001:db8:1:7::1", 61);
	c = key6("2001:db8:1:8::1", 61);
	ok(addr_key_equal(&a, &b) && !addr_key_equal(&a, &c), "a /61 cuts inside a byte");
	addr_key_prefix(&v4m, 32);
	ok(addr_key_equal(&v4, &v4m), "IPv4 stays whole whatever the IPv6 prefix");
}

static void
table(void)
{
	struct addr_key first = key4(0), k;
	double now = 1000, until;

	ok(listener_penalty_until(&first) == 0, "an address never struck has no back-off");
	until = listener_penalty_strike(&first, now, 30);
	ok(until == now + 30, "first strike: 30 s (%g)", until - now);
	until = listener_penalty_strike(&first, now, 30);
	ok(until == now + 60, "second strike doubles (%g)", until - now);
	for (int i = 0; i < 10; i++)
		until = listener_penalty_strike(&first, now, 30);
	ok(until == now + 30 * 64, "doubling stops at 64 times (%g)", until - now);
	until = listener_penalty_strike(&first, now, 100);
	ok(until == now + 3600, "and the wait is capped at an hour (%g)", until - now);
	k = key4(1);
	ok(listener_penalty_until(&k) == 0, "another address is not in back-off");
	until = listener_penalty_strike(&first, now + 3600 + 3601, 30);
	ok(until == now + 3600 + 3601 + 30,
	   "an hour after its back-off ended, strikes are forgotten");

	/* Fill the table: first was struck before all the others. */
	for (unsigned i = 1; i < LISTENER_PENALTY_MAX; i++) {
		k = key4(i);
		listener_penalty_strike(&k, now, 30);
	}
	is_int(LISTENER_PENALTY_MAX, (long long)listener_penalty_count(), "table full");
	ok(listener_penalty_until(&first) > 0, "first still remembered when the table is full");
	k = key4(1);
	listener_penalty_strike(&k, now, 30); /* key 1 is the newest now */
	k = key4(LISTENER_PENALTY_MAX);
	listener_penalty_strike(&k, now, 30);
	is_int(LISTENER_PENALTY_MAX, (long long)listener_penalty_count(),
	       "never more than the bound");
	ok(listener_penalty_until(&first) == 0, "a new address replaces the oldest");
	k = key4(2);
	ok(listener_penalty_until(&k) > 0, "the next oldest stays");
	k = key4(1);
	ok(listener_penalty_until(&k) == now + 60, "a struck-again entry keeps its strikes");
	k = key4(LISTENER_PENALTY_MAX + 1);
	listener_penalty_strike(&k, now, 30);
	k = key4(2);
	ok(listener_penalty_until(&k) == 0, "then the next oldest goes");
	k = key4(1);
	ok(listener_penalty_until(&k) > 0, "not the one struck again");
	/* Every entry still reachable through its bucket after evictions. */
	int found = 0;
	for (unsigned i = 3; i <= LISTENER_PENALTY_MAX + 1; i++) {
		k = key4(i);
		found += listener_penalty_until(&k) > 0;
	}
	is_int(LISTENER_PENALTY_MAX - 1, found, "all the others are found");
}

int
main(void)
{
	prefixes();
	table();
	return tap_done();
}
