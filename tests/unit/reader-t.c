/* reader-t: the reader helpers: ranges, article numbers, NEWGROUPS dates,
 * index-only number scans and dot-stuffed data lines. */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/overview.h"
#include "nntpd/store/reader.h"
#include "tap.h"

static void
range(const char *s, int rc, uint64_t lo, uint64_t hi)
{
	uint64_t a = 0, b = 0;
	int got = reader_parse_range(s, &a, &b);

	ok(got == rc && (rc < 0 || (a == lo && b == hi)), "range \"%s\" -> %d %llu-%llu", s, got,
	   (unsigned long long)a, (unsigned long long)b);
}

static void
when(const char *d, const char *t, const char *gmt, time_t now, int rc, time_t want)
{
	time_t got = 0;
	int r = reader_parse_datetime(d, t, gmt, now, &got);

	ok(r == rc && (rc < 0 || got == want), "date %s %s %s -> %d %lld", d, t, gmt ? gmt : "", r,
	   (long long)got);
}

/* An overview index by hand (overview.h's format) with records present
 * for the numbers in present[]. */
static int
make_index(char *dir, uint64_t base, const uint64_t *present, size_t n, uint64_t last)
{

	unsigned char h[OVERVIEW_HEADER] = {0};
	int dfd, fd;

	if (mkdtemp(dir) == NULL)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	mkdirat(dfd, OVERVIEW_DIR, 0755);
	fd = openat(dfd, OVERVIEW_DIR "/g.idx", O_RDWR | O_CREAT, 0644);
	memcpy(h, "POVI", 4);
	h[4] = OVERVIEW_VERSION;
	for (int i = 0; i < 8; i++)
		h[8 + i] = (unsigned char)(base >> (8 * i));
	h[16] = OVERVIEW_RECORD;
	if (write(fd, h, sizeof(h)) != (ssize_t)sizeof(h))
		return -1;
	for (uint64_t k = base; k <= last; k++) {
		unsigned char r[OVERVIEW_RECORD] = {0};

		for (size_t i = 0; i < n; i++)
			if (present[i] == k)
				r[12] = 1;
		if (write(fd, r, sizeof(r)) != (ssize_t)sizeof(r))
			return -1;
	}
	close(fd);
	return dfd;
}

/* Remove what make_index made, through its dirfd, then close it. */
static void
drop_index(int dfd, const char *dir)
{
	unlinkat(dfd, OVERVIEW_DIR "/g.idx", 0);
	unlinkat(dfd, OVERVIEW_DIR, AT_REMOVEDIR);
	close(dfd);
	rmdir(dir);
}

int
main(void)
{
	struct reader_numbers nums = {0};
	struct buffer b = BUFFER_INIT;
	uint64_t n, many[3] = {5, 4100, 9000};
	uint64_t some[4] = {3, 4, 7, 10};
	time_t now = 1790000000; /* 2026 */
	char dir1[] = "/tmp/reader-t.XXXXXX", dir2[] = "/tmp/reader-t.XXXXXX";
	int dfd;

	range("5", 0, 5, 5);
	range("5-", 0, 5, UINT64_MAX);
	range("5-9", 0, 5, 9);
	range("9-5", 0, 9, 5);
	range("0-", 0, 0, UINT64_MAX);
	range("", -1, 0, 0);
	range("-5", -1, 0, 0);
	range("5--", -1, 0, 0);
	range("a-5", -1, 0, 0);
	range("5-b", -1, 0, 0);
	range("+5", -1, 0, 0);
	range("99999999999999999999999", -1, 0, 0);
	ok(reader_parse_number("42", &n) == 0 && n == 42, "number 42");
	ok(reader_parse_number("4x", &n) < 0, "number 4x refused");
	ok(reader_parse_number("", &n) < 0, "empty number refused");

	when("20260101", "000000", NULL, now, 0, 1767225600);
	when("20260101", "000000", "GMT", now, 0, 1767225600);
	when("20260101", "000000", "gmt", now, 0, 1767225600);
	when("260101", "000000", NULL, now, 0, 1767225600);
	when("990101", "000000", NULL, now, 0, 915148800); /* 1999: future yy -> last century */
	when("20260101", "000000", "UTC", now, -1, 0);
	when("20261301", "000000", NULL, now, -1, 0);
	when("20260100", "000000", NULL, now, -1, 0);
	when("20260101", "250000", NULL, now, -1, 0);
	when("2026011", "000000", NULL, now, -1, 0);
	when("20260101", "0000", NULL, now, -1, 0);
	when("2026O101", "000000", NULL, now, -1, 0);

	reader_put_line(&b, ".hidden", 7);
	reader_put_line(&b, "plain", 5);
	reader_put_line(&b, "", 0);
	ok(b.len == 19 && memcmp(buffer_head(&b), "..hidden\r\nplain\r\n\r\n", 19) == 0,
	   "data lines are dot-stuffed and CRLF-ended");

	dfd = make_index(dir1, 3, some, 4, 10);
	ok(dfd >= 0, "index written");
	ok(reader_numbers(dfd, "g", 1, 100, &nums) == 0 && nums.count == 4 && nums.v[0] == 3 &&
	       nums.v[3] == 10,
	   "numbers of the whole index");
	reader_numbers_free(&nums);
	ok(reader_numbers(dfd, "g", 5, 8, &nums) == 0 && nums.count == 1 && nums.v[0] == 7,
	   "numbers of a slice");
	reader_numbers_free(&nums);
	ok(reader_numbers(dfd, "g", 8, 5, &nums) == 0 && nums.count == 0, "an empty range");
	ok(reader_numbers(dfd, "nosuch", 1, 5, &nums) == 0 && nums.count == 0,
	   "a group without index reads as empty");
	ok(reader_find_present(dfd, "g", 5, 100, 1, &n) == 1 && n == 7, "next present after 4");
	ok(reader_find_present(dfd, "g", 1, 6, -1, &n) == 1 && n == 4, "previous present before 7");
	ok(reader_find_present(dfd, "g", 11, 100, 1, &n) == 0, "nothing after the last");
	ok(reader_find_present(dfd, "g", 1, 2, -1, &n) == 0, "nothing before the base");
	drop_index(dfd, dir1);

	dfd = make_index(dir2, 1, many, 3, 9000);
	ok(reader_numbers(dfd, "g", 0, UINT64_MAX, &nums) == 0 && nums.count == 3 &&
	       nums.v[1] == 4100 && nums.v[2] == 9000,
	   "numbers across scan chunks");
	reader_numbers_free(&nums);
	ok(reader_find_present(dfd, "g", 6, 9000, 1, &n) == 1 && n == 4100,
	   "next present across a chunk");
	ok(reader_find_present(dfd, "g", 1, 8999, -1, &n) == 1 && n == 4100,
	   "previous present across a chunk");
	ok(reader_find_present(dfd, "g", 1, 4099, -1, &n) == 1 && n == 5,
	   "previous present two chunks back");
	ok(reader_find_present(dfd, "g", 9001, UINT64_MAX, 1, &n) == 0, "past the index");
	ok(reader_find_present(dfd, "g", 0, UINT64_MAX, -1, &n) == 1 && n == 9000,
	   "last present overall");
	drop_index(dfd, dir2);
	buffer_free(&b);
	return tap_done();
}
