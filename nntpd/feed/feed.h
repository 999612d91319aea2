/* feed: outgoing feeds. The writer appends each stored article that a feed
 * wants to that feed's queue on disk; one feeder process per feed sends the
 * queue to the peer and records how far the peer has answered. */
#ifndef NNTPD_FEED_H
#define NNTPD_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"
#include "common/io/tls.h"

/* Under the spool root:
 *   feeds/NAME       the queue: one line per article, "group:number
 *                    <message-id>\n", appended by the writer after the
 *                    article is stored (synced with its batch)
 *   feeds/NAME.done  the offset in the queue up to which the peer has
 *                    answered every article, "N\n", replaced atomically
 *   feeds/.NAME.new  a compaction being copied (expire, in the writer)
 * A crash between storing and queueing loses nothing: the article is
 * stored before its line is written, and the feeder only skips a line
 * after the peer answered it (or the article is gone).
 * Offsets count from the queue's first line ever. Expire compacts a queue
 * whose answered part is most of it: the lines after .done are copied
 * (in the writer's slices, appends going on) into .NAME.new after the
 * line "#postel-queue 1 BASE LINES\n" (BASE bytes and LINES lines came
 * before the first line kept), which one rename puts in place. So .done
 * stays true across it, and a feeder reading the old file finishes it,
 * then sees the new inode and reopens. */
#define FEED_DIR "feeds"
#define FEED_DONE_SUFFIX ".done"
#define FEED_QUEUE_MAGIC "#postel-queue 1 "

struct feed_def {
	char *name, *host, *port, *pattern;
	char *dists;       /* newsfeeds(5) "/dist,!dist" (NULL: any) */
	char *user, *pass; /* NULL: no AUTHINFO */
	int streaming;
	uint64_t max_size; /* "<N": only articles under N octets (0: any) */
	int tls;           /* "tls": STARTTLS, verified, or nothing is sent */
	char *ca_file;     /* "tls-ca=PATH" (NULL: feed_ca_file) */
	unsigned index;    /* the feed= line's place: its peer in the metrics */
};

/* feed= syntax check (options table). */
const char *feed_check_rule(const char *rule);
/* Parse a feed= line; 0 or -1. */
int feed_parse(const char *text, struct feed_def *out);
void feed_def_free(struct feed_def *f);

/* What a feed's patterns are matched against. */
struct feed_article {
	const char *path;                /* Path as received (NULL: a local post) */
	const struct vector *newsgroups; /* the Newsgroups header's groups */
	const char *distribution;        /* the Distribution header (NULL: none) */
	uint64_t size;                   /* octets as received */
};

struct article;
/* Writer: queue a stored article (xref: its Xref value "host g:n ...",
 * a: as stored, relayed: from a peer, so its Path names who has seen
 * it) for every feed that wants it. */
void feed_enqueue(int spoolfd, const struct vector *feeds, const char *xref,
                  const struct article *a, int relayed, const char *msgid);
/* The feeder: send feed f's queue to addr until SIGTERM; tls: the client
 * context for a tls feed (made before the sandbox: it holds the CA file),
 * NULL for a feed in clear. */
int feed_main(int spoolfd, const struct feed_def *f, const struct sockaddr_storage *addr,
              socklen_t addrlen, SSL_CTX *tls);
/* feeds/NAME plus suffix ("" or FEED_DONE_SUFFIX), allocated. */
char *feed_path(const char *name, const char *suffix);
/* The answered offset of a queue (0 when none is recorded). */
uint64_t feed_read_done(int spoolfd, const char *name);
/* Replace the answered offset atomically; 0 or -1. */
int feed_write_done(int spoolfd, const char *name, uint64_t off);
/* A queue opened for reading: its file and where its lines start. */
struct feed_queue {
	int fd;      /* -1: not open */
	ino_t ino;
	uint64_t base;  /* offset of its first line (header: BASE) */
	uint64_t lines; /* lines before it (header: LINES) */
	uint64_t hlen;  /* bytes of its header line (0: none) */
};
/* Open feeds/NAME: 0, or -1 with errno (ENOENT: nothing queued yet). */
int feed_queue_open(int spoolfd, const char *name, struct feed_queue *q);
void feed_queue_close(struct feed_queue *q);
/* The offset just past its last line now. */
uint64_t feed_queue_end(const struct feed_queue *q);
/* pread at offset off (at least q->base) of the queue. */
ssize_t feed_queue_read(const struct feed_queue *q, void *buf, size_t len, uint64_t off);
/* 1 when feeds/NAME is now another file (a compaction put it there). */
int feed_queue_replaced(int spoolfd, const char *name, const struct feed_queue *q);
/* Lines of the queue after offset from (the articles not yet answered). */
uint64_t feed_queue_lines(const struct feed_queue *q, uint64_t from);
/* Expire's compaction of one queue, in slices (see the top): NULL when
 * it is not worth it (its answered part under 64 KiB or half the file);
 * then steps until the monotonic deadline: 1 while there is more, 0 done,
 * -1 failed (logged; the queue is left as it was). Done or failed, the
 * job is freed. */
struct feed_compaction;
struct feed_compaction *feed_compact_begin(int spoolfd, const char *name);
int feed_compact_step(struct feed_compaction *c, double deadline);
/* The queues under spoolfd (feeds/NAME), sorted; 0 or -1. */
int feed_names(int spoolfd, struct vector *names);
/* One queue now: lines queued in all, not yet answered, the answered
 * offset, its size, and when its oldest unanswered article still in the
 * spool was stored (0: none). 0, or -1 when the queue cannot be read. */
struct feed_queue_state {
	uint64_t queued, unsent, done, bytes;
	time_t oldest;
};
int feed_queue_state(int spoolfd, const char *name, struct feed_queue_state *out);
/* "NAME backlog N sent-offset M queued-bytes Q\n" for each queue; 0 or -1. */
int feed_backlog(int spoolfd, struct buffer *out);

#endif
