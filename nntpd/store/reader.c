/* reader: parsing of client ranges and dates, index-only number scans and
 * access-limited Message-ID lookups, for the command handlers. */
#include "nntpd/store/reader.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/article.h"
#include "nntpd/store/overview.h"
#include "nntpd/store/storeformat.h"

#define SCAN_CHUNK 4096 /* index records per pread */

static int
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Digits s[0..n) as a number; the caller checked all_digits. */
static int
digits_value(const char *s, size_t n, uint64_t *out)
{
	char buf[24];

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return number_parse(buf, 0, UINT64_MAX / 2, out);
}

int
reader_parse_number(const char *s, uint64_t *out)
{
	size_t n = strlen(s);

	if (!all_digits(s, n))
		return -1;
	return digits_value(s, n, out);
}

int
reader_parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	const char *dash = strchr(s, '-');
	size_t n = dash ? (size_t)(dash - s) : strlen(s);

	if (!all_digits(s, n) || digits_value(s, n, lo) < 0)
		return -1;
	if (dash == NULL) {
		*hi = *lo;
		return 0;
	}
	if (dash[1] == '\0') {
		*hi = UINT64_MAX;
		return 0;
	}
	n = strlen(dash + 1);
	if (!all_digits(dash + 1, n))
		return -1;
	return digits_value(dash + 1, n, hi);
}

static int
two(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

int
reader_parse_datetime(const char *date, const char *time_of_day, const char *gmt, time_t now,
                      time_t *out)
{
	size_t dl = strlen(date);
	struct tm tm;
	int year;

	if (gmt != NULL && strcasecmp(gmt, "GMT") != 0)
		return -1;
	if ((dl != 6 && dl != 8) || !all_digits(date, dl) || strlen(time_of_day) != 6 ||
	    !all_digits(time_of_day, 6))
		return -1;
	if (dl == 8) {
		year = two(date) * 100 + two(date + 2);
		date += 4;
	} else {
		/* RFC 3977 7.3.2: this century unless that is in the future. */
		struct tm nt;
		int yy = two(date), cy;

		gmtime_r(&now, &nt);
		cy = nt.tm_year + 1900;
		year = cy / 100 * 100 + yy;
		if (yy > cy % 100)
			year -= 100;
		date += 2;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = two(date) - 1;
	tm.tm_mday = two(date + 2);
	tm.tm_hour = two(time_of_day);
	tm.tm_min = two(time_of_day + 2);
	tm.tm_sec = two(time_of_day + 4);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	*out = timegm(&tm);
	return 0;
}

void
reader_numbers_free(struct reader_numbers *n)
{
	free(n->v);
	memset(n, 0, sizeof(*n));
}

/* Open a group's index and check its header (overview.h's format). */
static int
open_index(int spoolfd, const char *group, uint64_t *base, uint64_t *nrec)
{
	char *path = xasprintf(OVERVIEW_DIR "/%s.idx", group);
	unsigned char h[OVERVIEW_HEADER];
	struct stat st;
	int fd = openat(spoolfd, path, O_RDONLY | O_CLOEXEC);

	free(path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size < OVERVIEW_HEADER ||
	    pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    store_get32(h) != OVERVIEW_IDX_MAGIC || store_get32(h + 4) != OVERVIEW_VERSION ||
	    store_get32(h + 16) != OVERVIEW_RECORD) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	*base = store_get64(h + 8);
	*nrec = ((uint64_t)st.st_size - OVERVIEW_HEADER) / OVERVIEW_RECORD;
	return fd;
}

/* Call fn for each present number in [lo, hi], walking up (dir > 0) or
 * down; fn returns nonzero to stop. 0, or -1 with errno. */
static int
scan_index(int spoolfd, const char *group, uint64_t lo, uint64_t hi, int dir,
           int (*fn)(void *, uint64_t), void *arg)
{
	uint64_t base, nrec;
	unsigned char *recs;
	int fd = open_index(spoolfd, group, &base, &nrec), stop = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (lo < base)
		lo = base;
	if (nrec == 0 || hi < base) {
		close(fd);
		return 0;
	}
	if (hi > base + nrec - 1)
		hi = base + nrec - 1;
	recs = xmalloc((size_t)SCAN_CHUNK * OVERVIEW_RECORD);
	while (!stop && lo <= hi) {
		uint64_t a = lo, b = hi, n;
		ssize_t got;

		if (b - a >= SCAN_CHUNK) {
			if (dir > 0)
				b = a + SCAN_CHUNK - 1;
			else
				a = b - SCAN_CHUNK + 1;
		}
		n = b - a + 1;
		got = pread(fd, recs, (size_t)n * OVERVIEW_RECORD,
		            (off_t)(OVERVIEW_HEADER + (a - base) * OVERVIEW_RECORD));
		if (got < 0) {
			int e = errno;

			free(recs);
			close(fd);
			errno = e;
			return -1;
		}
		n = (uint64_t)got / OVERVIEW_RECORD; /* a shorter index: stop there */
		for (uint64_t i = 0; i < n && !stop; i++) {
			uint64_t k = dir > 0 ? i : n - 1 - i;

			if (store_get32(recs + k * OVERVIEW_RECORD + 12) & 1)
				stop = fn(arg, a + k);
		}
		if (dir > 0) {
			if (b == hi || n < b - a + 1)
				break;
			lo = b + 1;
		} else {
			if (a == lo)
				break;
			hi = a - 1;
		}
	}
	free(recs);
	close(fd);
	return 0;
}

static int
add_number(void *arg, uint64_t n)
{
	struct reader_numbers *out = arg;

	if (out->count == out->alloc) {
		out->alloc = out->alloc ? out->alloc * 2 : 256;
		out->v = xrealloc(out->v, out->alloc * sizeof(*out->v));
	}
	out->v[out->count++] = n;
	return 0;
}

int
reader_numbers(int spoolfd, const char *group, uint64_t lo, uint64_t hi, struct reader_numbers *out)
{
	if (hi < lo)
		return 0;
	return scan_index(spoolfd, group, lo, hi, 1, add_number, out);
}

static int
take_first(void *arg, uint64_t n)
{
	*(uint64_t *)arg = n;
	return 1;
}

int
reader_find_present(int spoolfd, const char *group, uint64_t lo, uint64_t hi, int dir,
                    uint64_t *out)
{
	uint64_t found = 0;

	if (hi < lo)
		return 0;
	if (scan_index(spoolfd, group, lo, hi, dir, take_first, &found) < 0)
		return -1;
	if (found == 0)
		return 0;
	*out = found;
	return 1;
}

void
reader_put_line(struct buffer *out, const char *line, size_t len)
{
	if (len > 0 && line[0] == '.')
		buffer_append(out, ".", 1);
	buffer_append(out, line, len);
	buffer_append(out, "\r\n", 2);
}

/* Whether the "group:number" at p (n bytes) names a visible article that
 * still holds msgid; 1 with it open and group and number set, else 0. */
static int
open_location(int spoolfd, const char *p, size_t n, const char *msgid,
              int (*visible)(void *arg, const char *group), void *arg, char **group,
              uint64_t *number, struct spool_article *art)
{
	const char *colon = n ? memrchr(p, ':', n) : NULL;
	char *g, *num;
	uint64_t k;
	int found = 0;

	if (colon == NULL || colon == p)
		return 0;
	g = xstrndup(p, (size_t)(colon - p));
	num = xstrndup(colon + 1, n - (size_t)(colon + 1 - p));
	if (number_parse(num, 1, UINT64_MAX, &k) == 0 && article_valid_group_name(g) &&
	    visible(arg, g) && spool_open_article(spoolfd, g, k, art) == 0) {
		/* After rmgroup and newgroup of one name, an old history
		 * entry names a new article: the file must hold the ID. */
		found = spool_article_holds(art, msgid);
		if (!found)
			close(art->fd);
	}
	free(num);
	if (!found) {
		free(g);
		return 0;
	}
	*group = g;
	*number = k;
	return 1;
}

int
reader_find_msgid(struct history *h, int spoolfd, const char *msgid,
                  int (*visible)(void *arg, const char *group), void *arg, char **group,
                  uint64_t *number, struct spool_article *art)
{
	struct history_entry e;
	const char *p;
	int rc;

	if (h == NULL)
		return -1;
	rc = history_lookup(h, msgid, &e);
	if (rc <= 0)
		return rc;
	rc = 0;
	for (p = e.location; p != NULL && *p != '\0' && rc == 0;) {
		size_t n = strcspn(p, " ");

		rc = open_location(spoolfd, p, n, msgid, visible, arg, group, number, art);
		p += n;
		p += strspn(p, " ");
	}
	history_entry_free(&e);
	return rc;
}
