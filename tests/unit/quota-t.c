/* quota-t: the usage file of a session root: the scan that counts it,
 * what makes it stale, and parallel processes that charge it at once and
 * still end exactly at the quota. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ftpd/dtp/quota.h"
#include "ftpd/options.h"
#include "tap.h"

#define PROCS 8
#define ADDS 400

static void
put_file(const char *dir, const char *name, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	for (size_t i = 0; f != NULL && i < n; i++)
		fputc('x', f);
	if (f != NULL)
		fclose(f);
}

/* A root: a/ with b.txt (10 bytes) and a partial (5), sub/, and its usage file. */
static int
make_root(char *dir, int *usage)
{
	char path[512];
	int rootfd;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/a", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sub", dir);
	mkdir(path, 0755);
	put_file(dir, "a/b.txt", 10);
	put_file(dir, "a/.postel-part-r0123", 5);
	rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*usage = openat(rootfd, ".ftpquota", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	return rootfd;
}

static int
usage_is(uint64_t bytes, uint64_t files)
{
	struct quota_usage u;

	if (quota_begin(&u) < 0)
		return 0;
	quota_end();
	if (u.bytes != bytes || u.files != files)
		printf("# usage %llu bytes %llu files\n", (unsigned long long)u.bytes,
		       (unsigned long long)u.files);
	return u.bytes == bytes && u.files == files;
}

/* PROCS processes charge one byte at a time until the quota says no;
 * the sum of what they charged. */
static uint64_t
charge_in_parallel(void)
{
	int p[2];
	uint64_t sum = 0, got;

	if (pipe(p) < 0)
		return 0;
	for (int i = 0; i < PROCS; i++)
		if (fork() == 0) {
			volatile uint64_t charged = 0;

			/* bounded: a quota that never says no fails, not hangs */
			while (charged < 100000 && quota_charge(1, 0, &charged) == 0)
				;
			got = errno == EDQUOT ? charged : 0;
			_exit(write(p[1], &got, sizeof(got)) == sizeof(got) ? 0 : 1);
		}
	close(p[1]);
	while (read(p[0], &got, sizeof(got)) == sizeof(got))
		sum += got;
	close(p[0]);
	while (wait(NULL) > 0)
		;
	return sum;
}

static int
add_in_parallel(void)
{
	int status, good = 1;

	for (int i = 0; i < PROCS; i++)
		if (fork() == 0) {
			for (int k = 0; k < ADDS; k++)
				if (quota_add(1, 1) < 0)
					_exit(1);
			_exit(0);
		}
	while (wait(&status) > 0)
		good &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	return good;
}

int
main(void)
{
	char dir[] = "/tmp/quota-t.XXXXXX", other[] = "/tmp/quota-t.XXXXXX", cmd[128];
	unsigned char rec[48];
	struct quota_usage u;
	int usage, rootfd, usage2, root2;

	tap_plan(10);
	rootfd = make_root(dir, &usage);
	opt.quota_bytes = 1000;
	opt.quota_files = 0;
	ok(quota_start(usage, rootfd) == 0 && usage_is(15, 3),
	   "an empty usage file is rebuilt by a scan: partials' bytes, not as files");
	ok(quota_begin(&u) == 0 && quota_room(&u, 985, 0, 0) && !quota_room(&u, 986, 0, 0) &&
	       quota_room(&u, 990, 5, 0),
	   "room up to the quota, and credit for what an upload replaces");
	quota_end();
	ok(charge_in_parallel() == 985 && usage_is(1000, 3),
	   "%d processes charging at once end exactly at the quota", PROCS);
	ok(add_in_parallel() && usage_is(1000 + PROCS * ADDS, 3 + PROCS * ADDS),
	   "no change of %d parallel processes is lost", PROCS);
	ok(quota_add(-100000, -100000) == 0 && usage_is(0, 0), "the usage never goes below 0");
	ok(pwrite(usage, "garbage", 7, 0) == 7 && usage_is(15, 3),
	   "a record that does not decode is stale: rebuilt");
	ok(quota_add(1, 0) == 0 && ftruncate(usage, 47) == 0 && usage_is(15, 3),
	   "a short record is stale: rebuilt");
	/* The same record in another root's file: it names this one. */
	ok(quota_add(7, 0) == 0 && pread(usage, rec, sizeof(rec), 0) == (ssize_t)sizeof(rec),
	   "the record reads back");
	root2 = make_root(other, &usage2);
	ok(pwrite(usage2, rec, sizeof(rec), 0) == (ssize_t)sizeof(rec) &&
	       quota_start(usage2, root2) == 0 && usage_is(15, 3),
	   "a record copied from another root is stale: rebuilt from this one");
	unlinkat(root2, ".ftpquota", 0);
	ok(quota_begin(&u) < 0 && errno == ESTALE && quota_add(1, 0) < 0,
	   "a usage file removed under a live session refuses every change");
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, other);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_failed != 0;
}
