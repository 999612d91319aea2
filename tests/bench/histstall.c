/* histstall: the writer's longest wait on history while it grows: adds -n
 * entries to a fresh history under -d (crossing every doubling from the
 * first table up) and times each add, by the clock (max_ms, p99_us) and by
 * the thread's own CPU time, kernel included (max_cpu_ms: what the add
 * itself costs, without the waits a shared machine adds). Then, as expire
 * would, turns nine in ten into remembered IDs old enough to drop and
 * prunes in the writer's 10 ms slices with a batch of 32 adds after each:
 * the longest slice (compact_max_cpu_ms, compact_max_ms, the final sync
 * and rename included), the longest add meanwhile, and the line file's
 * bytes before and after. Linked with the store code itself (Makefile),
 * unlike the load tools. */
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
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

/* Bytes of history's line files (the generations in use) under dirfd. */
static long long
dat_bytes(int dirfd)
{
	DIR *d = fdopendir(dup(dirfd));
	struct dirent *e;
	long long sum = 0;
	struct stat st;

	if (d != NULL)
		rewinddir(d); /* the dup shares the last call's position */
	while (d != NULL && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, HISTORY_DAT_FILE, strlen(HISTORY_DAT_FILE)) == 0 &&
		    fstatat(dirfd, e->d_name, &st, 0) == 0)
			sum += (long long)st.st_size;
	if (d != NULL)
		closedir(d);
	return sum;
}

struct compact {
	double max_cpu, max, add_max, add_max_cpu;
	long slices;
	int64_t dropped;
	long long dat_before, dat_after;
};

static struct compact
compact(struct history *h, int dirfd, long n)
{
	struct compact c = {0};
	char id[64], loc[64];
	long next = n;
	int rc;

	for (long i = 0; i < n - n / 10; i++) {
		snprintf(id, sizeof(id), "<stall.%ld@bench.example.org>", i);
		if (history_forget(h, id, 1000) != 1) {
			c.dropped = -1;
			return c;
		}
	}
	c.dat_before = dat_bytes(dirfd);
	do {
		double t = now_s(), u = clock_s(CLOCK_THREAD_CPUTIME_ID);

		rc = history_prune_step(h, 2000, t + 0.01, &c.dropped);
		u = clock_s(CLOCK_THREAD_CPUTIME_ID) - u;
		t = now_s() - t;
		c.max_cpu = u > c.max_cpu ? u : c.max_cpu;
		c.max = t > c.max ? t : c.max;
		c.slices++;
		for (int k = 0; k < 32; k++, next++) {
			snprintf(id, sizeof(id), "<stall.%ld@bench.example.org>", next);
			snprintf(loc, sizeof(loc), "bench.stall:%ld", next + 1);
			t = now_s();
			u = clock_s(CLOCK_THREAD_CPUTIME_ID);
			if (history_add(h, id, (time_t)(1700000000 + next), loc) != 0)
				rc = -1;
			u = clock_s(CLOCK_THREAD_CPUTIME_ID) - u;
			t = now_s() - t;
			c.add_max = t > c.add_max ? t : c.add_max;
			c.add_max_cpu = u > c.add_max_cpu ? u : c.add_max_cpu;
		}
	} while (rc > 0);
	if (rc < 0)
		c.dropped = -1;
	c.dat_after = dat_bytes(dirfd);
	return c;
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
	struct compact c = compact(h, dirfd, n);

	history_close(h);
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("max_cpu_ms=%.3f max_ms=%.3f p99_us=%.1f rate=%.0f adds=%ld compact_max_cpu_ms=%.3f "
	       "compact_max_ms=%.3f compact_add_max_cpu_ms=%.3f compact_add_max_ms=%.3f compact_slices=%ld dropped=%lld "
	       "dat_before=%lld dat_after=%lld\n",
	       worst_cpu * 1e3, worst * 1e3, lat[(size_t)((double)(n - 1) * 0.99)] * 1e6,
	       (double)n / el, n, c.max_cpu * 1e3, c.max * 1e3, c.add_max_cpu * 1e3, c.add_max * 1e3, c.slices,
	       (long long)c.dropped, c.dat_before, c.dat_after);
	return c.dropped < 0;
}
