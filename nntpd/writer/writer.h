/* writer: the one process that changes the spool: its article policy
 * (policy.c), control verbs (control.c) and socket loop (serve.c). The
 * protocol its clients speak is in writer/proto.h. */
#ifndef NNTPD_WRITER_H
#define NNTPD_WRITER_H

#include <stddef.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"
#include "nntpd/store/spool.h"
#include "nntpd/writer/chan.h"
#include "nntpd/writer/proto.h"

struct writer_conf {
	const char *pathhost;    /* Path and Xref name, Message-ID domain */
	size_t max_article_size; /* 0: WRITER_DEFAULT_MAX_ARTICLE */
	struct writer_limits limits;
};

/* The article filter, before writer_main: whether one is configured (its
 * pipes come over the listener's channel), filter_timeout in seconds and
 * filter_failure=closed. */
void writer_set_filter(int configured, unsigned long timeout, int closed);

/* The feed= lines (feed.h) writers made after this call queue stored
 * articles for; NULL (the default): no outgoing feeds. */
void writer_set_feeds(const struct vector *feeds);
/* The mailer's channel (nntpd/writer/mailer.h; -1: none) and how long one
 * mail may take: unapproved posts to moderated groups go there. */
void writer_set_mailer(int fd, unsigned timeout);

/* The writer's end of its channel to the listener (writer/chan.h), before
 * writer_main; none (-1, the default): reload is refused. */
void writer_set_channel(int fd);

/* Run the writer on spool_dir until SIGTERM/SIGINT; returns an exit status.
 * Takes the spool lock (refuses to start when another writer holds it). */
int writer_main(const char *spool_dir, const struct writer_conf *conf);

/* The request handling itself, without sockets (tests; nntpctl when the
 * writer is down). */
struct writer;
struct writer *writer_new(struct spool *s, const struct writer_conf *conf);
void writer_free(struct writer *w);
size_t writer_max_size(const struct writer *w);
/* Take a reloaded configuration: feeds, expire rules, size limit, post
 * rate and article cutoff (ws is kept, not copied). */
void writer_reconfigure(struct writer *w, const struct writer_settings *ws);
/* "max_article_size: N\nfeeds: N NAME...\n" appended to out. */
void writer_describe(const struct writer *w, struct buffer *out);
/* A request in process, trusted with every right (tests; nntpctl's
 * control commands); client_host names the poster in Injection-Info. */
/* Group commit: the articles writer_process_as accepts between begin and
 * end are written but not yet durable; end makes them durable and
 * readable (0), or -1 when that failed: then every article accepted in
 * the batch must be answered "try later" (it may or may not be stored).
 * pending: how many wait for the end. */
void writer_batch_begin(struct writer *w);
size_t writer_batch_pending(const struct writer *w);
int writer_batch_end(struct writer *w);
int writer_process(struct writer *w, enum submit_kind kind, const char *msgid_or_null,
                   const char *client_host, const char *payload, size_t len,
                   struct buffer *reply_text);
/* An article on a writer.sock connection with rights r: refused (the
 * kind's refusal code) unless r allows the kind and, for a POST, every
 * group matches r->post_groups; the posting host is r->host. */
int writer_process_as(struct writer *w, enum submit_kind kind, const char *msgid_or_null,
                      const struct writer_rights *r, const char *payload, size_t len,
                      struct buffer *reply_text);

#endif
