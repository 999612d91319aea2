/* history-t: the Message-ID table growing incrementally: lookups (writer
 * and reader) after each step of several doublings, duplicates, expire and
 * walk mid-growth, and a crash (SIGKILL) mid-growth, then reopen. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "nntpd/store/history.h"
#include "nntpd/store/storeformat.h"
#include "tap.h"

/* Growth starts at the add that would pass half of the first table. */
#define FIRST_GROWTH (HISTORY_MIN_SLOTS / 2 + 1)

static char *base;

static void
id(char *out, size_t sz, const char *tag, long i)
{
	snprintf(out, sz, "<%s.%ld@history.example>", tag, i);
}

static int
spool_dir(const char *name)
{
	char *p = xasprintf("%s/%s", base, name);
	int fd;

	if (mkdir(p, 0755) < 0 || (fd = open(p, O_RDONLY | O_DIRECTORY)) < 0)
		die("mkdir %s", p);
	free(p);
	return fd;
}

/* A u64 header field of a table file; 0 when the file is missing. */
static uint64_t
header(int dirfd, const char *file, int off)
{
	unsigned char b[8];
	int fd = openat(dirfd, file, O_RDONLY);
	int rc = fd >= 0 ? pread_full(fd, b, sizeof(b), (uint64_t)off) : -1;

	if (fd >= 0)
		close(fd);
	return rc == 0 ? store_get64(b) : 0;
}

static int
exists(int dirfd, const char *file)
{
	struct stat st;

	return fstatat(dirfd, file, &st, 0) == 0;
}

static int
add_range(struct history *h, const char *tag, long from, long to)
{
	char m[96], loc[64];

	for (long i = from; i < to; i++) {
		id(m, sizeof(m), tag, i);
		snprintf(loc, sizeof(loc), "g.%ld:%ld", i % 7, i);
		if (history_add(h, m, 1000 + i, loc) != 0)
			return -1;
	}
	return 0;
}

/* How many of [from, to) are missing or carry the wrong location. */
static long
missing(struct history *h, const char *tag, long from, long to)
{
	char m[96], loc[64];
	long bad = 0;

	for (long i = from; i < to; i++) {
		struct history_entry e;

		id(m, sizeof(m), tag, i);
		snprintf(loc, sizeof(loc), "g.%ld:%ld", i % 7, i);
		if (history_lookup(h, m, &e) != 1) {
			bad++;
			continue;
		}
		if (e.location == NULL || strcmp(e.location, loc) != 0 || e.arrived != 1000 + i)
			bad++;
		history_entry_free(&e);
	}
	return bad;
}

static int
count_entry(void *arg, const char *msgid, time_t arrived, const char *location)
{
	(void)msgid;
	(void)arrived;
	(void)location;
	++*(long *)arg;
	return 0;
}

static void
test_growth(void)
{
	int dirfd = spool_dir("grow");
	struct history *w = history_open(dirfd, 1), *r;
	long n = 0, walked = 0, bad_mid = 0, bad_reader = 0;
	int doublings = 0, saw_both = 0;
	uint64_t slots = HISTORY_MIN_SLOTS;
	char m[96];

	ok(w != NULL, "writer opens a fresh history");
	r = history_open(dirfd, 0);
	ok(r != NULL, "a reader opens it");
	/* Three doublings, checking every entry from both sides after every
	 * doubling and every fourth run of 16 adds while history.new exists
	 * (a growth of N slots lasts N / HISTORY_GROW_STEP adds). */
	while (doublings < 3 && n < 8 * HISTORY_MIN_SLOTS) {
		if (add_range(w, "g", n, n + 16) < 0)
			break;
		n += 16;
		if (exists(dirfd, HISTORY_NEW_FILE) && saw_both++ % 4 == 0) {
			bad_mid += missing(w, "g", 0, n);
			bad_reader += missing(r, "g", 0, n);
		}
		if (header(dirfd, HISTORY_FILE, 8) != slots) {
			slots = header(dirfd, HISTORY_FILE, 8);
			doublings++;
			bad_mid += missing(w, "g", 0, n);
			bad_reader += missing(r, "g", 0, n);
		}
	}
	ok(doublings == 3 && slots == 8 * HISTORY_MIN_SLOTS, "three doublings (%d, %llu slots)",
	   doublings, (unsigned long long)slots);
	ok(saw_both >= 3, "lookups ran mid-growth (%d steps)", saw_both);
	ok(bad_mid == 0, "writer finds every entry after every step (%ld missing)", bad_mid);
	ok(bad_reader == 0, "reader finds every entry after every step (%ld missing)", bad_reader);
	ok(!exists(dirfd, HISTORY_NEW_FILE) ||
	       header(dirfd, HISTORY_NEW_FILE, 32) < header(dirfd, HISTORY_FILE, 8),
	   "history.new exists only while copying");

	/* Into the fourth growth: duplicates, expire and walk mid-way. */
	while (!exists(dirfd, HISTORY_NEW_FILE) && add_range(w, "g", n, n + 1) == 0)
		n++;
	add_range(w, "g", n, n + 64);
	n += 64;
	ok(exists(dirfd, HISTORY_NEW_FILE), "a fourth growth in progress");
	{
		int dups = 0;
		off_t before, after;
		struct stat ds;

		fstatat(dirfd, HISTORY_DAT_FILE, &ds, 0);
		before = ds.st_size;
		id(m, sizeof(m), "g", 3); /* copied long ago: in history.new */
		dups += history_add(w, m, 5, "x:1") == 0;
		id(m, sizeof(m), "g", n - 2); /* added mid-growth */
		dups += history_add(w, m, 5, "x:1") == 0;
		id(m, sizeof(m), "g", n / 2); /* most likely not copied yet */
		dups += history_add(w, m, 5, "x:1") == 0;
		fstatat(dirfd, HISTORY_DAT_FILE, &ds, 0);
		after = ds.st_size;
		ok(dups == 3 && missing(w, "g", 0, n) == 0,
		   "duplicates mid-growth are refused and change nothing");
		ok(before == after, "a refused duplicate writes no history.dat line");
	}
	{
		struct history_entry e;
		char m2[96];
		long half = n / 2 + 1;
		int forgot, walk_rc;

		id(m, sizeof(m), "g", 5);
		id(m2, sizeof(m2), "g", half);
		forgot = history_forget(w, m, 77) == 1 && history_forget(w, m2, 78) == 1;
		ok(forgot && history_lookup(r, m, &e) == 1 && e.location == NULL && e.arrived == 77,
		   "expire mid-growth: the reader sees a remembered entry");
		history_entry_free(&e);
		walk_rc = history_walk(w, count_entry, &walked);
		ok(walk_rc == 0 && walked == n,
		   "walk mid-growth lists every entry once (%ld of %ld)", walked, n);
		/* Finish the growth; the forgotten entries stay forgotten. */
		while (exists(dirfd, HISTORY_NEW_FILE) && add_range(w, "g", n, n + 1) == 0)
			n++;
		ok(history_lookup(w, m, &e) == 1 && e.location == NULL &&
		       history_lookup(w, m2, &e) == 1 && e.location == NULL,
		   "expired entries stay remembered after the growth");
		history_entry_free(&e);
		ok(missing(r, "g", 6, half) == 0 && missing(r, "g", half + 1, n) == 0 &&
		       header(dirfd, HISTORY_FILE, 8) == 16 * HISTORY_MIN_SLOTS,
		   "after the fourth doubling the reader finds the rest");
	}
	history_close(r);
	history_close(w);
	close(dirfd);
}

/* A writer killed (SIGKILL) part way through copying, then reopened. */
static void
test_crash(void)
{
	int dirfd = spool_dir("crash");
	const long before_kill = FIRST_GROWTH + 40;
	uint64_t copied;
	struct history *h;
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		h = history_open(dirfd, 1);
		if (h == NULL || add_range(h, "c", 0, before_kill) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "writer killed mid-growth");
	copied = header(dirfd, HISTORY_NEW_FILE, 32);
	ok(exists(dirfd, HISTORY_NEW_FILE) && copied > 0 && copied < HISTORY_MIN_SLOTS &&
	       header(dirfd, HISTORY_FILE, 24) == 2 * HISTORY_MIN_SLOTS,
	   "it stopped part way (%llu of %d slots copied)", (unsigned long long)copied,
	   HISTORY_MIN_SLOTS);
	h = history_open(dirfd, 0);
	ok(h != NULL && missing(h, "c", 0, before_kill) == 0,
	   "a reader finds every entry in the half-grown tables");
	history_close(h);
	h = history_open(dirfd, 1);
	ok(h != NULL && missing(h, "c", 0, before_kill) == 0,
	   "the writer reopens and finds every entry");
	ok(h != NULL && history_add(h, "<c.0@history.example>", 1, "x:1") == 0,
	   "and refuses a duplicate after the crash");
	{
		long n = before_kill;

		while (h != NULL && exists(dirfd, HISTORY_NEW_FILE) && n < 4 * HISTORY_MIN_SLOTS &&
		       add_range(h, "c", n, n + 1) == 0)
			n++;
		ok(!exists(dirfd, HISTORY_NEW_FILE) &&
		       header(dirfd, HISTORY_FILE, 8) == 2 * HISTORY_MIN_SLOTS &&
		       header(dirfd, HISTORY_FILE, 24) == 0,
		   "the growth resumes where it stopped and ends");
		ok(h != NULL && missing(h, "c", 0, n) == 0, "every entry found after it");
	}
	history_close(h);
	close(dirfd);
}

/* A history.new that history's header does not mention (a crash before
 * the growth was recorded) is removed and changes nothing. */
static void
test_stale_new(void)
{
	int dirfd = spool_dir("stale");
	struct history *h = history_open(dirfd, 1);
	int fd;

	add_range(h, "s", 0, 10);
	history_close(h);
	fd = openat(dirfd, HISTORY_NEW_FILE, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	h = history_open(dirfd, 1);
	ok(h != NULL && !exists(dirfd, HISTORY_NEW_FILE) && missing(h, "s", 0, 10) == 0,
	   "a stray history.new is removed at open");
	history_close(h);
	close(dirfd);
}

/* Prune while growing finishes the growth, then drops what it should. */
static void
test_prune(void)
{
	int dirfd = spool_dir("prune");
	struct history *h = history_open(dirfd, 1);
	long n = 0;

	history_add(h, "<old@history.example>", 10, NULL);
	while (!exists(dirfd, HISTORY_NEW_FILE) && add_range(h, "p", n, n + 1) == 0)
		n++;
	ok(history_prune(h, 500) == 1 && !exists(dirfd, HISTORY_NEW_FILE),
	   "prune mid-growth finishes it and drops the old remembered ID");
	ok(history_lookup(h, "<old@history.example>", NULL) == 0 && missing(h, "p", 0, n) == 0,
	   "after prune: the pruned ID is gone, the rest is there");
	history_close(h);
	close(dirfd);
}

/* Size of a file under dirfd; -1 when missing. */
static long long
file_size(int dirfd, const char *file)
{
	struct stat st;

	return fstatat(dirfd, file, &st, 0) == 0 ? (long long)st.st_size : -1;
}

/* Turn [from, to) of tag into remembered entries dated when. */
static int
forget_range(struct history *h, const char *tag, long from, long to, time_t when)
{
	char m[96];

	for (long i = from; i < to; i++) {
		id(m, sizeof(m), tag, i);
		if (history_forget(h, m, when) != 1)
			return -1;
	}
	return 0;
}

/* How many of [from, to) of tag are still known (remembered or filed). */
static long
known(struct history *h, const char *tag, long from, long to)
{
	char m[96];
	long n = 0;

	for (long i = from; i < to; i++) {
		id(m, sizeof(m), tag, i);
		n += history_lookup(h, m, NULL) == 1;
	}
	return n;
}

/* Expire's compaction: the remembered entries past the cutoff go, the
 * table shrinks to what is kept, the line file is rewritten into the next
 * generation, and the kept entries, looked up by the writer and by a
 * reader opened before it, are all there between steps and after. */
static void
test_compact(void)
{
	int dirfd = spool_dir("compact");
	struct history *w = history_open(dirfd, 1), *r;
	const long n = 40000;
	long long dat_before, dat_after;
	uint64_t slots_before;
	int64_t dropped = -1;
	long bad = 0, steps = 0;
	int rc;

	add_range(w, "k", 0, n);
	while (exists(dirfd, HISTORY_NEW_FILE) && add_range(w, "k", 0, 1) == 0)
		; /* a duplicate add still steps the growth */
	forget_range(w, "k", 0, n - 1000, 100); /* expired long ago */
	forget_range(w, "k", n - 1000, n - 500, 900); /* expired lately */
	slots_before = header(dirfd, HISTORY_FILE, 8);
	dat_before = file_size(dirfd, HISTORY_DAT_FILE);
	r = history_open(dirfd, 0);
	/* One slice at a time (a deadline already passed), with adds and
	 * lookups between the slices, as the writer serves them. */
	while ((rc = history_prune_step(w, 500, 0.0, &dropped)) > 0 && steps < 100000) {
		if (steps % 50 == 0) {
			add_range(w, "m", steps / 50, steps / 50 + 1);
			bad += missing(w, "k", n - 500, n) + missing(r, "k", n - 500, n);
			bad += known(r, "k", n - 1000, n - 500) != 500;
		}
		steps++;
	}
	ok(rc == 0 && dropped == n - 1000, "prune in %ld slices dropped %lld of %ld remembered IDs",
	   steps, (long long)dropped, n - 1000);
	ok(bad == 0, "between slices the writer and a reader found every kept entry (%ld wrong)",
	   bad);
	dat_after = file_size(dirfd, HISTORY_DAT_FILE ".1");
	ok(!exists(dirfd, HISTORY_NEW_FILE) && !exists(dirfd, HISTORY_DAT_FILE) &&
	       header(dirfd, HISTORY_FILE, 40) == 1 && dat_after > 0 && dat_after * 20 < dat_before,
	   "the line file is generation 1, %lld bytes (was %lld); the old one is gone", dat_after,
	   dat_before);
	ok(header(dirfd, HISTORY_FILE, 8) < slots_before,
	   "the table shrank from %llu to %llu slots", (unsigned long long)slots_before,
	   (unsigned long long)header(dirfd, HISTORY_FILE, 8));
	ok(missing(w, "k", n - 500, n) == 0 && missing(r, "k", n - 500, n) == 0 &&
	       known(r, "k", n - 1000, n - 500) == 500 && known(r, "k", 0, n - 1000) == 0 &&
	       known(w, "k", 0, n - 1000) == 0,
	   "after it: what was kept is there for both, what was pruned is gone");
	history_close(r);
	r = history_open(dirfd, 0);
	ok(r != NULL && missing(r, "k", n - 500, n) == 0 && known(r, "m", 0, steps / 50) == steps / 50,
	   "a reader opened after it finds the kept entries and the adds made during it");
	history_close(r);
	ok(history_prune(w, 500) == 0 && header(dirfd, HISTORY_FILE, 40) == 1 &&
	       missing(w, "k", n - 500, n) == 0,
	   "a second prune, with nothing to drop, leaves the tables alone");
	history_close(w);
	close(dirfd);
}

/* A line file that is mostly dead (every entry expired since, none old
 * enough to drop) is rewritten; a writer killed mid-compaction resumes it
 * at the next open and loses nothing. */
static void
test_compact_crash(void)
{
	int dirfd = spool_dir("compact-crash");
	struct history *h = history_open(dirfd, 1);
	const long n = 6000;
	long long dat_before;
	int64_t dropped = -1;
	int status = 0;
	pid_t pid;

	add_range(h, "d", 0, n);
	forget_range(h, "d", 0, n, 5000);
	history_close(h);
	dat_before = file_size(dirfd, HISTORY_DAT_FILE);
	pid = fork();
	if (pid == 0) {
		h = history_open(dirfd, 1);
		for (int i = 0; h != NULL && i < 100000; i++) {
			if (history_prune_step(h, 500, 0.0, &dropped) <= 0)
				_exit(1);
			if (header(dirfd, HISTORY_NEW_FILE, 32) >= HISTORY_MIN_SLOTS / 2)
				raise(SIGKILL);
		}
		_exit(2);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
	       header(dirfd, HISTORY_FILE, 24) != 0 && exists(dirfd, HISTORY_DAT_FILE ".1"),
	   "writer killed mid-compaction (%llu slots copied)",
	   (unsigned long long)header(dirfd, HISTORY_NEW_FILE, 32));
	h = history_open(dirfd, 0);
	ok(h != NULL && known(h, "d", 0, n) == n, "a reader finds every entry in the half-copied tables");
	history_close(h);
	h = history_open(dirfd, 1);
	ok(h != NULL && history_prune(h, 500) == 0 && !exists(dirfd, HISTORY_NEW_FILE) &&
	       !exists(dirfd, HISTORY_DAT_FILE) && header(dirfd, HISTORY_FILE, 24) == 0,
	   "the next prune finishes the compaction");
	ok(known(h, "d", 0, n) == n && file_size(dirfd, HISTORY_DAT_FILE ".1") * 2 < dat_before,
	   "every entry is there, remembered, and the line file went from %lld to %lld bytes",
	   dat_before, file_size(dirfd, HISTORY_DAT_FILE ".1"));
	history_close(h);
	close(dirfd);
}

int
main(void)
{
	char tmpl[] = "/tmp/history-t.XXXXXX";

	base = mkdtemp(tmpl);
	if (base == NULL)
		die("mkdtemp");
	tap_plan(35);
	test_growth();
	test_crash();
	test_stale_new();
	test_prune();
	test_compact();
	test_compact_crash();
	{
		char *cmd = xasprintf("rm -rf '%s'", base);

		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", base);
		free(cmd);
	}
	return tap_failed ? 1 : 0;
}
