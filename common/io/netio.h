/* netio: buffered connection I/O with a hard line limit and an idle
 * timeout, plain or TLS, optionally deflate-compressed. Replies collect in
 * an output buffer and leave in one write, before the next read blocks. */
#ifndef POSTEL_NETIO_H
#define POSTEL_NETIO_H

#include <stddef.h>

#include "common/core/buffer.h"
#include "common/io/fileio.h"
#include "common/io/tls.h"

enum conn_status {
	CONN_LINE,    /* *line holds one line, CR LF stripped, NUL-terminated */
	CONN_TOOLONG, /* a line over the limit was read and thrown away whole */
	CONN_AGAIN,   /* no complete line buffered (conn_try_line only) */
	CONN_EOF,     /* peer closed */
	CONN_TIMEOUT, /* idle timeout */
	CONN_ERROR,   /* read error (errno set) */
};

struct conn_zlib; /* netio.c: the deflate pair of a compressed conn */

struct conn {
	int fd;
	SSL *ssl;
	struct conn_zlib *z; /* set: everything both ways is raw deflate */
	struct buffer in;
	struct buffer out;
	size_t max_line; /* longest accepted line, without CR LF */
	int timeout_ms;  /* idle limit for reads; <= 0: none */
	size_t consumed; /* bytes of the last returned line, dropped lazily */
	int discarding;  /* inside an overlong line */
};

void conn_init(struct conn *c, int fd, size_t max_line, int timeout_ms);
void conn_free(struct conn *c);
/* Next line, flushing pending output before blocking. */
enum conn_status conn_getline(struct conn *c, char **line, size_t *len);
/* A line only from what is already buffered. */
enum conn_status conn_try_line(struct conn *c, char **line, size_t *len);
/* One read into the input buffer, waiting at most timeout_ms. */
enum conn_status conn_fill(struct conn *c, int timeout_ms);
/* Queue reply text; it leaves on conn_flush or before the next read. */
void conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conn_append(struct conn *c, const void *p, size_t n);
int conn_flush(struct conn *c);
/* Compress both ways from now on (RFC 8054, RFC 4978: raw deflate, a sync
 * flush at each conn_flush). The reply announcing it must have left
 * already; input buffered past the current line is taken as compressed.
 * 0, or -1 (already compressing, or zlib failed). */
int conn_compress(struct conn *c);
/* Whether bytes written to fd reach the peer as they are (no TLS, no
 * compression): only then may a caller bypass conn (sendfile). */
int conn_is_plain(const struct conn *c);
/* STARTTLS, AUTH TLS or implicit TLS on c: flush the reply announcing it,
 * drop whatever the client pipelined in clear, and do the handshake
 * (timeout_ms) with ctx and session id context sid. 0 with c->ssl set, or
 * -1 (the session should end). */
int conn_start_tls(struct conn *c, SSL_CTX *ctx, int timeout_ms, const unsigned char *sid,
                   unsigned sid_len);
/* SIGUSR1 (ftpd -s, nntpd -s) asks a session for a status line: install
 * the handler; report runs when a wait on a connection is interrupted by
 * it, never inside the signal handler. */
void netio_status_signal(void (*report)(void));
/* Run report now if SIGUSR1 asked for it (for waits outside netio). */
void netio_status_if_asked(void);

#endif
