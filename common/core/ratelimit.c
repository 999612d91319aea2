/* ratelimit: GCRA per key in a fixed table (common/core/ratelimit.h).
 * A key's whole state is one time, tat: an event at now is allowed while
 * tat - now <= tolerance, and pushes tat one interval on. */
#include "common/core/ratelimit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/xmalloc.h"

/* FNV-1a: the slot a key starts its probe at. A key counts for its first
 * RATELIMIT_MAX_KEY bytes, here and in find_slot. */
static size_t
key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < RATELIMIT_MAX_KEY && key[i] != '\0'; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
	return (size_t)h;
}

/* The key's slot, or the one to give it: a free one in its probe window,
 * else the one whose tat is earliest (nearest a full allowance). */
static struct ratelimit_slot *
find_slot(struct ratelimit *rl, const char *key, int *found)
{
	size_t start = key_hash(key) % rl->nslots, probe = RATELIMIT_PROBE;
	struct ratelimit_slot *free_slot = NULL, *oldest = NULL;

	if (probe > rl->nslots)
		probe = rl->nslots;
	*found = 0;
	for (size_t i = 0; i < probe; i++) {
		struct ratelimit_slot *s = &rl->slots[(start + i) % rl->nslots];

		if (s->key == NULL) {
			if (free_slot == NULL)
				free_slot = s;
			continue;
		}
		if (strncmp(s->key, key, RATELIMIT_MAX_KEY) == 0) {
			*found = 1;
			return s;
		}
		if (oldest == NULL || s->tat < oldest->tat)
			oldest = s;
	}
	return free_slot != NULL ? free_slot : oldest;
}

void
ratelimit_init(struct ratelimit *rl, size_t nslots)
{
	rl->nslots = nslots ? nslots : RATELIMIT_SLOTS;
	rl->slots = xcalloc(rl->nslots, sizeof(*rl->slots));
	rl->interval = 0;
	rl->tolerance = 0;
}

void
ratelimit_free(struct ratelimit *rl)
{
	for (size_t i = 0; rl->slots != NULL && i < rl->nslots; i++)
		free(rl->slots[i].key);
	free(rl->slots);
	rl->slots = NULL;
}

void
ratelimit_set(struct ratelimit *rl, unsigned long per_minute, unsigned long burst)
{
	if (per_minute == 0) {
		rl->interval = rl->tolerance = 0;
		return;
	}
	if (burst == 0)
		burst = 1;
	rl->interval = 60.0 / (double)per_minute;
	rl->tolerance = rl->interval * (double)(burst - 1);
}

double
ratelimit_take(struct ratelimit *rl, const char *key, double now)
{
	struct ratelimit_slot *s;
	int found;
	double tat;

	if (rl->interval <= 0)
		return 0;
	s = find_slot(rl, key, &found);
	tat = found && s->tat > now ? s->tat : now;
	if (tat - now > rl->tolerance)
		return tat - now - rl->tolerance;
	if (!found) {
		free(s->key);
		s->key = xstrndup(key, strnlen(key, RATELIMIT_MAX_KEY));
	}
	s->tat = tat + rl->interval;
	return 0;
}

size_t
ratelimit_count(const struct ratelimit *rl)
{
	size_t n = 0;

	for (size_t i = 0; i < rl->nslots; i++)
		n += rl->slots[i].key != NULL;
	return n;
}
