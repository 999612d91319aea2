/* writer: the one process that changes the spool, its socket protocol,
 * and the client side sessions and nntpctl use to reach it. */
#ifndef POSTEL_WRITER_H
#define POSTEL_WRITER_H

#include <stddef.h>

#include "buffer.h"
#include "spool.h"
#include "vector.h"

/* Sockets under the spool root: writer.sock (0666, articles only: session
 * processes chrooted into the spool reach it) and ctl.sock (0600 and
 * SO_PEERCRED-checked: group commands from nntpctl, root or the writer's
 * user only). Both are unlinked and re-created at start.
 *
 * Framing, all integers u32 little-endian:
 *   request: length of the rest, kind, msgid length, msgid, client host
 *            length, client host, payload length, payload (the article, or
 *            for WRITER_CONTROL a command line)
 *   reply:   length of the rest, NNTP code, text (no CRLF)
 * The writer handles one request at a time per connection, in order. */
#define WRITER_SOCKET SPOOL_SOCKET
#define WRITER_CTL_SOCKET "ctl.sock"
#define WRITER_DEFAULT_MAX_ARTICLE 1000000
#define WRITER_MAX_CTL_REPLY (1 << 20)

enum submit_kind {
	SUBMIT_POST = 1, /* 240 accepted, 441 refused, 440 writer unreachable */
	SUBMIT_IHAVE,    /* 235 accepted, 437 refused, 436 unreachable/try later */
	SUBMIT_TAKETHIS, /* 239 accepted, 439 refused, 436 unreachable/try later */
	SUBMIT_CONTROL   /* nntpctl only: 200 done, 500 refused, 400 unreachable */
};

struct writer_conf {
	const char *pathhost;    /* Path and Xref name, Message-ID domain */
	size_t max_article_size; /* 0: WRITER_DEFAULT_MAX_ARTICLE */
};

/* The feed= lines (feed.h) writers made after this call queue stored
 * articles for; NULL (the default): no outgoing feeds. */
void writer_set_feeds(const struct vector *feeds);
/* The expire= rules and history_remember days the control command
 * "expire [-n]" uses (none set: nothing expires, IDs kept 10 days). */
void writer_set_expire(const struct vector *rules, unsigned long remember_days);

/* Run the writer on spool_dir until SIGTERM/SIGINT; returns an exit status.
 * Takes the spool lock (refuses to start when another writer holds it). */
int writer_main(const char *spool_dir, const struct writer_conf *conf);

/* Client side. Connects (once per process, reconnecting when the writer
 * restarted) to writer.sock relative to spool_dirfd, without any absolute
 * path, so it works chrooted. article: wire form, CRLF, not dot-stuffed.
 * msgid_or_null: for IHAVE/TAKETHIS the command's ID (checked against the
 * article); for POST the ID recommended in the 340 reply, used when the
 * article has no Message-ID. Returns the NNTP code; reply_text gets the
 * text after it. */
int writer_submit(int spool_dirfd, enum submit_kind kind, const char *msgid_or_null,
                  const char *article, size_t len, struct buffer *reply_text);
/* The same, naming the client (posting-host of Injection-Info). */
int writer_submit_from(int spool_dirfd, enum submit_kind kind, const char *msgid_or_null,
                       const char *client_host, const char *article, size_t len,
                       struct buffer *reply_text);
/* nntpctl: send "newgroup NAME FLAG [DESC]", "rmgroup NAME",
 * "changegroup NAME FLAG" or "expire [-n]" to a running writer over
 * ctl.sock. Control replies may be up to WRITER_MAX_CTL_REPLY bytes. */
int writer_control(int spool_dirfd, const char *command, struct buffer *reply_text);

/* The request handling itself, without sockets (tests; nntpctl when the
 * writer is down). */
struct writer;
struct writer *writer_new(struct spool *s, const struct writer_conf *conf);
void writer_free(struct writer *w);
int writer_process(struct writer *w, enum submit_kind kind, const char *msgid_or_null,
                   const char *client_host, const char *payload, size_t len,
                   struct buffer *reply_text);

#endif
