/* overview: per-group OVER data, one fixed-size index record per article
 * number plus a data file of lines, so a range is two preads. */
#ifndef POSTEL_OVERVIEW_H
#define POSTEL_OVERVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/buffer.h"
#include "nntpd/store/article.h"

/* overview/<group>.idx: a 32-byte header then one 40-byte record per
 * number from base on (a gap is an all-zero record), all little-endian:
 *   header: u32 magic "POVI", u32 version 1, u64 base, u32 record size,
 *           u64 data generation, 4 bytes zero
 *   record: u64 data offset, u32 data length, u32 flags (1 = present,
 *           2 = expired: the article was removed by nntpctl expire),
 *           u64 arrival time, u64 article size, u32 header length,
 *           u32 zero
 * overview/<group>.dat: a 16-byte header (u32 magic "POVD", u32 version 1,
 * 8 zero) then the lines, each "Subject<TAB>From<TAB>Date<TAB>Message-ID
 * <TAB>References<TAB>bytes<TAB>lines<TAB>Xref: ...\r\n" (LIST
 * OVERVIEW.FMT order, without the leading article number). A line's
 * record is written after the line, so a record never points at a torn
 * line; bytes after the last record's line are garbage a rebuild drops.
 * The data file of generation 0 is overview/<group>.dat, of generation N
 * overview/<group>.dat.N: a compaction writes the next generation's data
 * file and an index naming it (<group>.idx.new), and one rename of the
 * index switches readers from the old pair to the new one. */
#define OVERVIEW_DIR "overview"
#define OVERVIEW_IDX_MAGIC 0x49564f50u /* "POVI" */
#define OVERVIEW_DAT_MAGIC 0x44564f50u /* "POVD" */
#define OVERVIEW_VERSION 1
#define OVERVIEW_HEADER 32
#define OVERVIEW_RECORD 40
#define OVERVIEW_DAT_HEADER 16
#define OVERVIEW_CHUNK 4096 /* records per overview_read call */
#define OVERVIEW_PRESENT 1u
#define OVERVIEW_EXPIRED 2u

/* The LIST OVERVIEW.FMT lines, in order, each without CRLF. */
extern const char *const overview_fmt[];

struct overview_entry {
	uint64_t number;
	uint64_t arrived;
	uint64_t size;       /* bytes of the stored article file */
	uint32_t header_len; /* bytes of its header block, final CRLF included */
	size_t off, len;     /* the line (without CRLF) in overview_range.data */
};

struct overview_range {
	struct overview_entry *v;
	size_t count, alloc;
	struct buffer data;
	uint64_t next; /* first number not yet examined */
};

void overview_range_init(struct overview_range *r);
void overview_range_free(struct overview_range *r);
/* Entries for present articles in [lo, hi], at most OVERVIEW_CHUNK numbers
 * examined per call: loop while r->next <= hi and r->next != 0 (0 = the
 * index has nothing more). Replaces r's contents. 0, or -1 with errno
 * (a group without an overview yet reads as empty). */
int overview_read(int spoolfd, const char *group, uint64_t lo, uint64_t hi,
                  struct overview_range *r);
static inline const char *
overview_line(const struct overview_range *r, size_t i)
{
	return buffer_head(&r->data) + r->v[i].off;
}
/* The first number in [lo, hi] whose record arrived at or after since, by
 * binary search of the index (arrival times rise with numbers: the writer
 * numbers articles as they arrive; a gap record takes the time of the next
 * record). Into *first: hi + 1 when none did. 0, or -1 with errno (a group
 * without an overview: 0 and lo). */
int overview_seek_arrival(int spoolfd, const char *group, uint64_t lo, uint64_t hi, uint64_t since,
                          uint64_t *first);
/* The index record of one article: 1 found, 0 absent, -1 error. */
int overview_get(int spoolfd, const char *group, uint64_t number, struct overview_entry *e);

/* Build the overview line (without CRLF) of a parsed article (its text as
 * sent, not dot-stuffed), given the stored size. */
void overview_build_line(const struct article *a, uint64_t size, struct buffer *out);

/* Writer side: a cache of open index and data files. */
struct overview_writer;
struct overview_writer *overview_writer_open(int spoolfd);
void overview_writer_close(struct overview_writer *w);
/* Add article number e->number with its line; does nothing when the
 * number already has a record (so recovery may repeat it). 0 or -1. */
int overview_append(struct overview_writer *w, const char *group, const struct overview_entry *e,
                    const char *line, size_t len);
/* Expire: mark number's record absent (OVERVIEW_EXPIRED); its line stays
 * as garbage in the data file. 1 marked, 0 no present record, -1 error. */
int overview_expire(struct overview_writer *w, const char *group, uint64_t number);
/* Forget a group's overview (rmgroup, rebuild). */
void overview_remove(struct overview_writer *w, const char *group);
/* Online compaction of one group at a time, worked in slices by the
 * writer between batches: drop the index records below low and the data
 * lines of every record not present, into a new generation. Begin scans
 * first and compacts only when the dead part is at least
 * OVERVIEW_COMPACT_MIN bytes and a quarter of what is kept, so the files'
 * size follows what is kept. 0 begun (or another compaction runs: this
 * one is not begun), -1 error. */
#define OVERVIEW_COMPACT_MIN 65536
int overview_compact_begin(struct overview_writer *w, const char *group, uint64_t low);
/* Work until deadline (mono_seconds): 1 more to do, 0 none running (done
 * and logged with the sizes before and after, not worth it, or failed:
 * logged, the old files kept). */
int overview_compact_step(struct overview_writer *w, double deadline);

#endif
