/* pace: the monotonic clock in seconds, and the smooth rate limit that
 * downloads, uploads and hashes share. */
#ifndef POSTEL_PACE_H
#define POSTEL_PACE_H

#include <stdint.h>

/* CLOCK_MONOTONIC, in seconds. */
double mono_seconds(void);
/* Sleep until done bytes, begun at start (mono_seconds), are on schedule
 * at rate bytes per second; rate 0 is no limit. */
void pace(unsigned long rate, double start, uint64_t done);

#endif
