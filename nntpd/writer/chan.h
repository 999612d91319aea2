/* chan: the channel between nntpd's listener and its writer, both ends:
 * the writer asks for a reload (nntpctl reload), the listener sends each
 * configuration it loads (on SIGHUP too), or why it refused one. */
#ifndef NNTPD_WRITER_CHAN_H
#define NNTPD_WRITER_CHAN_H

#include <stddef.h>
#include <sys/types.h>

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
 * GEN counts the listener's reloads (1 for the first). The article filter
 * (writer/filter.h) travels on it too:
 *   listener -> writer: "filter N\n" with two descriptors (the filter's
 *                       stdin to write, its stdout to read), or without any
 *                       when no filter is configured
 *   writer -> listener: "filter-kill N\n": filter N hung or broke; kill it
 * N counts the filters the listener started, so a late kill request never
 * reaches the next one. */
#define WCHAN_MAX 65536
#define WCHAN_RELOAD "reload\n"
#define WCHAN_FILTER "filter "
#define WCHAN_FILTER_KILL "filter-kill "

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
	unsigned long filter_timeout; /* seconds */
	int filter_closed;            /* filter_failure=closed */
};

void wchan_settings_free(struct writer_settings *ws);
/* Append a config or a refused message. */
void wchan_encode_config(struct buffer *out, unsigned long gen, const struct writer_settings *ws);
void wchan_encode_refused(struct buffer *out, unsigned long gen, const char *why);
/* Parse a listener's message: 1 a config (ws filled, free it), 0 a refusal
 * (its lines in why), -1 malformed. */
int wchan_parse(const char *msg, size_t len, unsigned long *gen, struct writer_settings *ws,
                struct buffer *why);

/* Send one message with nfd (0 to 2) descriptors; 0 or -1 (never blocks). */
int wchan_send(int sock, const char *msg, size_t len, const int *fds, size_t nfd);
/* Receive one message into buf (cap bytes): its length, with up to 2
 * descriptors in fds (*nfd of them; the caller owns them, any more are
 * closed). 0 on EOF, -1 on error (errno). */
ssize_t wchan_recv(int sock, char *buf, size_t cap, int fds[2], size_t *nfd);
/* "PREFIX N\n" exactly, for N: 0 or -1. */
int wchan_parse_numbered(const char *msg, size_t len, const char *prefix, unsigned long *n);

#endif
