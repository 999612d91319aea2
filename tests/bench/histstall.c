/* histstall: the writer's longest wait on history while it grows: adds -n
 * entries to a fresh history under -d (crossing every doubling from the
 * first table up) and times each add, by the clock (max_ms, p99_us) and by
 * the thread's own CPU time, kernel included (max_cpu_ms: what the add
 * itself costs, without the waits a shared machine adds). Linked with the
 * store code itself (Makefile), unlike the load tools. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nntpd/store/history.h"

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int
cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	long n = 1000000;
	const char *dir = NULL;
	int ch, dirfd;

	while ((ch = getopt(argc, argv, "n:d:")) != -1) {
		if (ch == 'n')
			n = atol(optarg);
		else if (ch == 'd')
			dir = optarg;
		else
			return 2;
	}
	if (dir == NULL || n < 1 || (dirfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		fprintf(stderr, "usage: histstall -d empty-dir [-n adds]\n");
		return 2;
	}
	struct history *h = history_open(dirfd, 1);
	float *lat = malloc((size_t)n * sizeof(*lat));
	char id[64], loc[64];
	double t0 = now_s(), worst = 0, worst_cpu = 0;

	if (h == NULL || lat == NULL) {
		perror("histstall");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		double t, c;

		snprintf(id, sizeof(id), "<stall.%ld@bench.example.org>", i);
		snprintf(loc, sizeof(loc), "bench.stall:%ld", i + 1);
		t = now_s();
		c = clock_s(CLOCK_THREAD_CPUTIME_ID);
		if (history_add(h, id, (time_t)(1700000000 + i), loc) != 0) {
			perror("history_add");
			return 1;
		}
		c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c;
		lat[i] = (float)(now_s() - t);
		if (c > worst_cpu)
			worst_cpu = c;
		if (lat[i] > worst)
			worst = lat[i];
	}
	double el = now_s() - t0;

	history_close(h);
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("max_cpu_ms=%.3f max_ms=%.3f p99_us=%.1f rate=%.0f adds=%ld\n", worst_cpu * 1e3,
	       worst * 1e3, lat[(size_t)((double)(n - 1) * 0.99)] * 1e6, (double)n / el, n);
	return 0;
}
