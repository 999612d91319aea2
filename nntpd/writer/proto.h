/* proto: the writer's socket protocol, shared by both ends: frames, kinds,
 * reply codes, and the client that sessions and nntpctl use. */
#ifndef NNTPD_WRITER_PROTO_H
#define NNTPD_WRITER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/buffer.h"
#include "nntpd/store/spool.h"

/* Sockets under the spool root: writer.sock (0666, articles only) and
 * ctl.sock (0600 and SO_PEERCRED-checked: group commands from nntpctl,
 * root only). Both are unlinked and re-created at start.
 *
 * Anyone may connect to writer.sock, but a connection may submit only what
 * its rights allow, and it has rights only when its first frame is a
 * SUBMIT_RIGHTS frame and the connector (SO_PEERCRED) is root: a session's
 * monitor, which connects, sends the session's rights and hands the socket
 * to its worker. A connection without rights can submit nothing.
 *
 * Framing, all integers u32 little-endian:
 *   request: length of the rest, kind, msgid length, msgid, host length,
 *            host, payload length, payload (the article, for SUBMIT_CONTROL
 *            a command line, for SUBMIT_RIGHTS the rights below)
 *   reply:   length of the rest, NNTP code, text (no CRLF)
 * host is empty except in SUBMIT_RIGHTS, where it is the posting host (the
 * client's address); the writer ignores it in any other frame. The
 * SUBMIT_RIGHTS payload: flags (WRITER_MAY_POST | WRITER_MAY_FEED |
 * WRITER_MAY_APPROVE), post wildmat length, post wildmat, user length, user
 * (empty before AUTHINFO).
 * The writer answers a connection's requests in order; a client may send
 * several before reading the first reply. */
#define WRITER_SOCKET SPOOL_SOCKET
#define WRITER_CTL_SOCKET "ctl.sock"
#define WRITER_DEFAULT_MAX_ARTICLE 1000000
#define WRITER_MAX_CTL_REPLY (1 << 20)
#define WRITER_MAX_MSGID 250
#define WRITER_MAX_HOST 255
#define WRITER_MAX_WILDMAT 4096
#define WRITER_MAX_USER 256
#define WRITER_CLIENT_TIMEOUT 120 /* seconds: a request half sent, or no rights */
#define WRITER_IDLE_TIMEOUT 600   /* seconds: a connection with nothing pending */
#define WRITER_MAY_POST 1u
#define WRITER_MAY_FEED 2u
#define WRITER_MAY_APPROVE 4u /* POST with Approved to a moderated group */

enum submit_kind {
	SUBMIT_POST = 1, /* 240 accepted, 441 refused, 440 writer unreachable */
	SUBMIT_IHAVE,    /* 235 accepted, 437 refused, 436 unreachable/try later */
	SUBMIT_TAKETHIS, /* 239 accepted, 439 refused, 436 unreachable/try later */
	SUBMIT_CONTROL,  /* nntpctl only: 200 done, 500 refused, 400 unreachable */
	SUBMIT_RIGHTS    /* monitors only, first frame: 200 set, 502 refused, 400 unreachable */
};

/* What a writer.sock connection may submit, set by its SUBMIT_RIGHTS frame. */
struct writer_rights {
	int may_post; /* POST, to groups matching post_groups */
	int may_feed; /* IHAVE and TAKETHIS: the session is a peer */
	char *post_groups;
	char *host;        /* posting host: Injection-Info's posting-host */
	char *user;        /* "" before AUTHINFO */
	int may_approve;   /* POST an Approved article to a moderated group */
	char *feed_groups; /* a peer's patterns= (incoming.conf); "": any group */
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
/* Append one SUBMIT_RIGHTS frame (strings cut to their limits). */
void wproto_encode_rights(struct buffer *out, const struct writer_rights *r);
/* Parse a SUBMIT_RIGHTS frame's payload and host: 0 with r's strings
 * allocated (free with wproto_rights_free), or -1 when malformed. */
int wproto_parse_rights(const char *payload, size_t len, const char *host, struct writer_rights *r);
void wproto_rights_free(struct writer_rights *r);
/* Write all of p, waiting (up to 10 s at a time) on a non-blocking fd. */
int wproto_send_all(int fd, const void *p, size_t len);
/* One reply frame: code and at most max bytes of text. */
int wproto_send_reply(int fd, int code, const struct buffer *text, size_t max);

/* Client side. A connection to writer.sock relative to spool_dirfd,
 * without any absolute path (so it works chrooted), or -1. */
int writer_connect(int spool_dirfd);
/* One request on fd and its reply: the NNTP code with its text in
 * reply_text, or -1 when the connection failed (*sent: whether the whole
 * request went out before). article: wire form, CRLF, not dot-stuffed.
 * msgid_or_null: for IHAVE/TAKETHIS the command's ID (checked against the
 * article); for POST the ID recommended in the 340 reply, used when the
 * article has no Message-ID. */
int writer_exchange(int fd, enum submit_kind kind, const char *msgid_or_null, const char *article,
                    size_t len, struct buffer *reply_text, int *sent);
/* The two halves of writer_exchange, for a session with several requests
 * in flight on one connection (the writer answers them in order): send
 * one request (0 or -1), read one reply (0 with the code, or -1). */
int writer_send_request(int fd, enum submit_kind kind, const char *msgid_or_null,
                        const char *article, size_t len);
int writer_read_reply(int fd, int *code, struct buffer *reply_text);
/* The monitor's side: send fd's rights frame; the code (200: set) or -1. */
int writer_send_rights(int fd, const struct writer_rights *r, struct buffer *reply_text);
/* A trusted local submitter (tests, run as root or as the writer's own
 * uid): its own connection, with rights to post and feed anywhere and
 * client_host as the posting host, kept for the next call. Returns the
 * NNTP code, the kind's "unavailable" one when the writer is down. */
int writer_submit(int spool_dirfd, enum submit_kind kind, const char *msgid_or_null,
                  const char *article, size_t len, struct buffer *reply_text);
int writer_submit_from(int spool_dirfd, enum submit_kind kind, const char *msgid_or_null,
                       const char *client_host, const char *article, size_t len,
                       struct buffer *reply_text);
/* nntpctl: send "newgroup NAME FLAG [DESC]", "rmgroup NAME",
 * "changegroup NAME FLAG" or "expire [-n]" to a running writer over
 * ctl.sock. Control replies may be up to WRITER_MAX_CTL_REPLY bytes. */
int writer_control(int spool_dirfd, const char *command, struct buffer *reply_text);
/* nntpctl, as root: connect to ctl.sock now, for writer_control to use
 * later (after root is given up). 0, or -1 when no writer listens. */
int writer_control_connect(int spool_dirfd);

#endif
