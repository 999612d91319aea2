/* pace: the monotonic clock in seconds, and a smooth rate limit. */
#include "common/core/pace.h"

#include <time.h>

double
mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
pace(unsigned long rate, double start, uint64_t done)
{
	double due, now;

	if (rate == 0)
		return;
	due = start + (double)done / (double)rate;
	now = mono_seconds();
	if (due > now) {
		struct timespec ts = {(time_t)(due - now),
		                      (long)((due - now - (double)(time_t)(due - now)) * 1e9)};

		nanosleep(&ts, NULL);
	}
}
