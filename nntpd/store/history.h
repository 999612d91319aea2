/* history: Message-ID -> where the article is and when it arrived, plus
 * remembered (rejected) IDs; an on-disk hash table with O(1) lookups. */
#ifndef POSTEL_HISTORY_H
#define POSTEL_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* history (table): a 64-byte header (u32 magic "PHIS", u32 version 1,
 * u64 slot count, a power of two, then the fields below, zero-filled to
 * 64) then that many 32-byte slots, all little-endian: 16 bytes hash
 * (SHA-256 prefix of the Message-ID with its right-hand side lower-cased;
 * all zero = empty), u64 arrival time, u64 entry (bit 63: has a location;
 * the rest: offset of its line in the table's line file). Open addressing,
 * linear probing. Header bytes 16-23: u64 lower bound of the times of
 * remembered entries (UINT64_MAX: none; 0: unknown, as tables written
 * before expire existed say), so expire knows when to prune. Bytes 24-31:
 * u64 growing: non-zero while the table is being copied into history.new,
 * a table of that many slots; bytes 32-39 of history.new: u64 how many
 * slots of the old table have been copied (zero in tables written before
 * growth was incremental, which reads as "not growing"). Bytes 40-47: u64
 * generation of the table's line file (0: history.dat, N: history.dat.N).
 * Bytes 48-55: u64 bytes of that file's lines no slot points at any more
 * (expire's rewrites), so expire knows when compacting pays. Bytes 56-63
 * of history.new: u64 cutoff: a compacting copy leaves out the remembered
 * entries dated before it (0: none).
 * Growth is incremental: past half full, the writer creates history.new
 * at twice the size, then each add copies HISTORY_GROW_STEP old slots
 * into it and goes into it itself; lookups try history.new, then history;
 * the last step renames history.new over history. The old table is never
 * changed by a copy, so a crash at any instant loses nothing: reopening
 * resumes at the recorded slot (a copy repeated is found and skipped).
 * Compaction is the same copy, driven by expire's slices (and a few slots
 * per add): into a table of the size what is kept needs, without the
 * remembered entries past the cutoff, each kept line rewritten into the
 * next generation's line file; the last step syncs both new files before
 * the rename and removes the old line file after it.
 * Line file: the line "#postel-history 1\n" then one line per entry,
 * "<message-id>\t<arrival>\t<group:number ...>\n" (no location for
 * remembered IDs). The line is written before its slot. */
#define HISTORY_FILE "history"
#define HISTORY_DAT_FILE "history.dat"
#define HISTORY_NEW_FILE "history.new"
#define HISTORY_MAGIC 0x53494850u /* "PHIS" */
#define HISTORY_VERSION 1
#define HISTORY_HEADER 64
#define HISTORY_SLOT 32
#define HISTORY_MIN_SLOTS 16384
#define HISTORY_NONE_REMEMBERED UINT64_MAX
/* Old slots copied per add while growing: any value of 2 or more finishes
 * the copy before the new table is half full; 256 is one 8 KiB read and at
 * most 256 slot writes per add (well under a millisecond). */
#define HISTORY_GROW_STEP 256
/* Old slots an add copies at least while compacting (each kept one is a
 * line rewritten too; more when the copy must end sooner, see add_step). */
#define HISTORY_COMPACT_STEP 16

struct history;

struct history_entry {
	time_t arrived;
	char *location; /* "group:number ..." (owned), NULL if remembered only */
};

/* Open under spoolfd; writable creates the files when missing (writer
 * only). NULL with errno on failure. */
struct history *history_open(int spoolfd, int writable);
void history_close(struct history *h);
/* 1 found (out filled when non-NULL; free with history_entry_free), 0 not
 * found, -1 error. Readers notice a new table by the inode and reopen,
 * and a growth in progress by the header, and then look in both. */
int history_lookup(struct history *h, const char *msgid, struct history_entry *out);
void history_entry_free(struct history_entry *e);
/* Add an entry (location NULL: remember a refused ID). A Message-ID already
 * present is left alone (returns 0), so recovery may repeat an add. */
int history_add(struct history *h, const char *msgid, time_t arrived, const char *location);
/* Expire: turn msgid's entry into a remembered one (no location) dated
 * when; adds it remembered when unknown. 1 changed, 0 already remembered,
 * -1 error. */
int history_forget(struct history *h, const char *msgid, time_t when);
/* Expire's part, in slices until the monotonic deadline: finish a copy
 * in progress, count what a compaction would keep, and compact (drop the
 * remembered entries dated before `before`, size the table and rewrite
 * the line file to what is kept) when entries go, the table is at most an
 * eighth full, or a third of the line file is dead. 1 while there is more, 0 done (*dropped:
 * how many remembered entries went), -1 on error. */
int history_prune_step(struct history *h, time_t before, double deadline, int64_t *dropped);
/* The same at once: dropped count, or -1. */
int64_t history_prune(struct history *h, time_t before);
/* Remove every history file under spoolfd (rebuild): the table, a
 * history.new and each generation of the line file. */
void history_remove(int spoolfd);
/* Call fn for every entry (rebuild, check); stops at a non-zero return. */
int history_walk(struct history *h,
                 int (*fn)(void *arg, const char *msgid, time_t arrived, const char *location),
                 void *arg);

#endif
