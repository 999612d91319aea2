/* chan: the channel between nntpd's listener and its writer, both ends:
 * the writer asks for a reload (nntpctl reload), the listener sends each
 * configuration it loads (on SIGHUP too), or why it refused one. */
#ifndef NNTPD_WRITER_CHAN_H
#define NNTPD_WRITER_CHAN_H

#include <stddef.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"

/* A SOCK_SEQPACKET socketpair made at each writer start, one message per
 * packet, text lines:
 *   writer -> listener: "reload\n"
 *   listener -> writer: "config GEN\n" then "max_article_size N\n",
 *                       "history_remember N\n", "post_rate N\n",
 *                       "post_burst N\n", "article_cutoff_days N\n",
 *                       "feed LINE\n"...,
 *                       "expire LINE\n"...
 *                   or: "refused GEN\n" then the error lines
 * GEN counts the listener's reloads (1 for the first). */
#define WCHAN_MAX 65536
#define WCHAN_RELOAD "reload\n"

/* The writer's limits: posts per minute and burst per user or address
 * (rate 0: none), and the age in days past which a fed article is
 * refused (0: none). */
struct writer_limits {
	unsigned long post_rate, post_burst;
	unsigned long cutoff_days;
};

/* What a reload changes in the running writer. */
struct writer_settings {
	struct vector feed;   /* feed= lines */
	struct vector expire; /* expire= lines */
	unsigned long history_remember;
	size_t max_article_size;
	struct writer_limits limits;
};

void wchan_settings_free(struct writer_settings *ws);
/* Append a config or a refused message. */
void wchan_encode_config(struct buffer *out, unsigned long gen, const struct writer_settings *ws);
void wchan_encode_refused(struct buffer *out, unsigned long gen, const char *why);
/* Parse a listener's message: 1 a config (ws filled, free it), 0 a refusal
 * (its lines in why), -1 malformed. */
int wchan_parse(const char *msg, size_t len, unsigned long *gen, struct writer_settings *ws,
                struct buffer *why);

#endif
