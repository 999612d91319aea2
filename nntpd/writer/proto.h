/* proto: the writer's socket protocol, shared by both ends: frames, kinds,
 * reply codes, and the client that sessions and nntpctl use. */
#ifndef NNTPD_WRITER_PROTO_H
#define NNTPD_WRITER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/buffer.h"
#include "nntpd/store/spool.h"

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
#define WRITER_MAX_MSGID 250
#define WRITER_MAX_HOST 255
#define WRITER_CLIENT_TIMEOUT 120 /* seconds */

enum submit_kind {
	SUBMIT_POST = 1, /* 240 accepted, 441 refused, 440 writer unreachable */
	SUBMIT_IHAVE,    /* 235 accepted, 437 refused, 436 unreachable/try later */
	SUBMIT_TAKETHIS, /* 239 accepted, 439 refused, 436 unreachable/try later */
	SUBMIT_CONTROL   /* nntpctl only: 200 done, 500 refused, 400 unreachable */
};

/* The three replies of each kind: accepted, refused, unavailable. */
struct writer_reply_codes {
	int ok, refused, unavailable;
};
extern const struct writer_reply_codes writer_codes[];

/* A kind a frame may carry. */
int wproto_valid_kind(uint32_t k);
/* Append one request frame (lengths checked by the caller). */
void wproto_encode_request(struct buffer *out, enum submit_kind kind, const char *msgid,
                           const char *host, const char *payload, size_t len);
/* Parse one complete request frame body (after its length word): 0 with
 * msgid and host allocated and payload pointing into p, or -1 when
 * malformed. */
int wproto_parse_request(const unsigned char *p, size_t len, uint32_t *kind, char **msgid,
                         char **host, const char **payload, size_t *plen);
/* Write all of p, waiting (up to 10 s at a time) on a non-blocking fd. */
int wproto_send_all(int fd, const void *p, size_t len);
/* One reply frame: code and at most max bytes of text. */
int wproto_send_reply(int fd, int code, const struct buffer *text, size_t max);

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

#endif
