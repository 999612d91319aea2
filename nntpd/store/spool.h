/* spool: the article files and the operations that keep articles,
 * overview, history and active consistent (writer side), plus the
 * read-only access sessions use (every path relative to a spool dirfd). */
#ifndef POSTEL_SPOOL_H
#define POSTEL_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"
#include "nntpd/store/active.h"
#include "nntpd/store/history.h"

/* Layout under the spool root:
 *   articles/<group with '.' as '/'>/<number>  one file per article; the
 *       crossposts of an article are hard links of one file
 *   active, active.times, newsgroups           see active.h
 *   overview/<group>.idx, overview/<group>.dat see overview.h
 *   history, history.dat (or history.dat.N)    see history.h
 *   history.new                                while history is copied
 *   tmp/                                       articles being written
 *   lock                                       flock()ed by the writer
 *   writer.sock                                the writer's socket
 *   paused                                     the reason, while the writer
 *                                              is paused (nntpctl pause)
 *
 * An article file holds the article exactly as ARTICLE sends it: CRLF line
 * ends, lines starting with '.' already doubled, without the terminating
 * ".\r\n". So ARTICLE is sendfile(file) + ".\r\n"; HEAD is bytes
 * [0, header_len) (each header line with its CRLF); BODY is bytes
 * [header_len + 2, size). Every stored article has exactly one Xref
 * header naming each group:number it was filed under. */
#define SPOOL_ARTICLES "articles"
#define SPOOL_TMP "tmp"
#define SPOOL_LOCK "lock"
#define SPOOL_SOCKET "writer.sock"
#define SPOOL_PAUSED "paused"
#define SPOOL_MAX_PAUSE_REASON 400

struct spool_article {
	int fd;
	uint64_t size;
	uint64_t header_len;
};

/* "articles/a/b/c/<number>" for group a.b.c (malloc'd). */
char *spool_article_path(const char *group, uint64_t number);
/* Open an article read-only. 0, or -1 with errno (ENOENT: no article). */
int spool_open_article(int spoolfd, const char *group, uint64_t number, struct spool_article *out);
/* Header length of an open stored article, by reading it (fallback when
 * overview has no record). -1 if the file has no header/body separator. */
int64_t spool_scan_header_len(int fd);
/* Unfolded value of header field (case-insensitive) of an open article;
 * 0 found, -1 absent or unreadable. For HDR/XHDR/XPAT on fields that are
 * not in overview. */
int spool_article_header(const struct spool_article *art, const char *field, struct buffer *value);
/* Whether an open article's Message-ID header is msgid (right-hand side
 * case-insensitive). A group removed and re-created numbers from 1 again,
 * so a history location may name a newer article: every lookup by
 * Message-ID checks the file it found. */
int spool_article_holds(const struct spool_article *art, const char *msgid);
/* Message-ID -> an open article and one of its group:number names (group
 * malloc'd). 0, or -1 (errno ENOENT when unknown or gone). */
int spool_find_msgid(struct history *h, int spoolfd, const char *msgid, char **group,
                     uint64_t *number, struct spool_article *out);

/* Verify the spool read-only; problems appended to report, their count
 * returned (-1 when the spool cannot be read at all). */
long spool_check(int spoolfd, struct buffer *report);
/* "groups N\narticles N\nbytes N\n" appended to out; 0 or -1. */
int spool_stats(int spoolfd, struct buffer *out);

/* The writer's pause, as sessions see it: 1 with the reason in reason
 * while spool/paused exists, 0 when it does not (or cannot be read). */
int spool_paused(int spoolfd, struct buffer *reason);
/* Writer side: record the pause (reason non-NULL, written atomically) or
 * end it (NULL); 0 or -1 with errno. */
int spool_set_paused(int spoolfd, const char *reason);

/* Writer side. Holding the lock makes the holder the only process that
 * changes the spool. */
struct spool;
/* Create the layout if needed, take the lock (fail with EWOULDBLOCK when
 * nonblocking and another process holds it), load active and history,
 * then repair what a crash left (see spool.c). NULL with errno. */
struct spool *spool_open(const char *spool_dir, const char *pathhost, int nonblocking);
void spool_close(struct spool *s);
int spool_dirfd(const struct spool *s);
struct active *spool_active(struct spool *s);
struct history *spool_history(struct spool *s);
struct overview_writer;
struct overview_writer *spool_overview(struct spool *s);
/* Store one validated article: headers (each line with CRLF, no Xref) and
 * body (after the blank line), filed in groups (all present in active),
 * msgid its Message-ID, relayed: fed rather than posted. Appends the Xref
 * value to xref. 0 with the article written and numbered but not yet in
 * place: it is readable only after spool_commit. -1 with errno (nothing
 * stored). */
int spool_store(struct spool *s, const char *headers, size_t hlen, const char *body, size_t blen,
                const struct vector *groups, const char *msgid, int relayed, struct buffer *xref);
/* Articles stored since the last commit, and whether msgid is one. */
size_t spool_pending(const struct spool *s);
int spool_pending_has(const struct spool *s, const char *msgid);
/* Group commit. Between spool_batch_begin and spool_batch_end, stored
 * articles wait for the end (or an explicit spool_commit); outside, the
 * storer commits after each one. A commit syncs the stored files, puts
 * them in place (links, overview, history, active), calls done for each
 * (feed queues), and syncs again: on 0, every article of the batch is
 * durable and readable. -1 when any commit of the batch failed (the
 * articles it held may or may not be in place: answer "try later"). */
/* The most articles a batch holds: spool_store callers commit by then. */
#define SPOOL_BATCH_MAX 128
typedef void spool_committed_fn(void *arg, const struct buffer *stored, const char *xref,
                                const char *msgid, int relayed);
void spool_batch_begin(struct spool *s);
int spool_batching(const struct spool *s);
int spool_commit(struct spool *s, spool_committed_fn *done, void *arg);
int spool_batch_end(struct spool *s, spool_committed_fn *done, void *arg);
/* Group administration; 0, or -1 with the reason in why. flags is the
 * active field (see active.h); a j group makes junk when it is missing. */
int spool_newgroup(struct spool *s, const char *name, const char *flags, const char *description,
                   const char *creator, struct buffer *why);
int spool_rmgroup(struct spool *s, const char *name, struct buffer *why);
int spool_changegroup(struct spool *s, const char *name, const char *flags, struct buffer *why);
/* Rebuild overview and history from the article files (remembered IDs
 * are kept); active marks follow the files. 0 or -1 with why. */
int spool_rebuild(struct spool *s, struct buffer *why);
/* The crash repair spool_open runs; exposed for tests. 0 or -1. */
int spool_recover(struct spool *s);

#endif
