/* reader: the read-side helpers the command handlers share: ranges and
 * dates as clients write them, article numbers from the overview index
 * alone, and Message-ID lookups limited to the groups a session may read. */
#ifndef NNTPD_READER_H
#define NNTPD_READER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/core/buffer.h"
#include "nntpd/store/history.h"
#include "nntpd/store/spool.h"

/* "n", "n-" or "n-m" (RFC 3977 s1.8 / 8.1). "n-" gives hi = UINT64_MAX.
 * 0, or -1 on a syntax error. A range with hi < lo is valid and empty. */
int reader_parse_range(const char *s, uint64_t *lo, uint64_t *hi);
/* An article number argument: 0, or -1 unless all digits. */
int reader_parse_number(const char *s, uint64_t *out);
/* NEWGROUPS/NEWNEWS "yymmdd|yyyymmdd hhmmss [GMT]": gmt is the optional
 * third word or NULL. Times are taken as UTC either way (sessions run
 * chrooted without zone files). now picks the century of a two-digit
 * year. 0 and *out, or -1. */
int reader_parse_datetime(const char *date, const char *time_of_day, const char *gmt, time_t now,
                          time_t *out);

/* Article numbers present in a group's overview index, read from the
 * fixed-size records only (no data file, no article files). */
struct reader_numbers {
	uint64_t *v;
	size_t count, alloc;
};
void reader_numbers_free(struct reader_numbers *n);
/* Present numbers in [lo, hi], appended in order; 0 or -1 with errno (no
 * index yet reads as empty). */
int reader_numbers(int spoolfd, const char *group, uint64_t lo, uint64_t hi,
                   struct reader_numbers *out);
/* First present number in [lo, hi] (dir > 0) or last one (dir < 0):
 * 1 found, 0 none, -1 error. */
int reader_find_present(int spoolfd, const char *group, uint64_t lo, uint64_t hi, int dir,
                        uint64_t *out);

/* Append one data line of a multi-line reply: a leading '.' doubled,
 * CRLF added. */
void reader_put_line(struct buffer *out, const char *line, size_t len);

/* Message-ID -> an open article in a group visible(arg, group) accepts.
 * 1 found (group malloc'd, art open), 0 unknown or not visible, -1 error. */
int reader_find_msgid(struct history *h, int spoolfd, const char *msgid,
                      int (*visible)(void *arg, const char *group), void *arg, char **group,
                      uint64_t *number, struct spool_article *art);

#endif
