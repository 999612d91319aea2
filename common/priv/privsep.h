/* privsep: the monitor <-> worker channel. One SOCK_SEQPACKET socketpair,
 * typed messages with a bounded payload, and fd passing. */
#ifndef POSTEL_PRIVSEP_H
#define POSTEL_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/buffer.h"

#define PS_MAX_PAYLOAD 4096
/* Wire form, one datagram per message: u32 type, u32 payload length (host
 * order: both ends are one machine), then the payload. */
#define PS_HEADER_SIZE 8
#define PS_MAX_DGRAM (PS_HEADER_SIZE + PS_MAX_PAYLOAD)

enum ps_type {
	PS_OK = 1,       /* monitor -> worker: request done (payload and fd per request) */
	PS_FAIL,         /* monitor -> worker: refused; payload is a reason */
	PS_LOGIN,        /* worker -> monitor: "user\0password\0" */
	PS_CONNECT_DATA, /* worker -> monitor: struct sockaddr_storage; PS_OK fd: connected to it */
	PS_CHOWN,        /* worker -> monitor: fd of an upload to hand to chown_username */
	PS_SECCOMP,      /* worker -> monitor: int syscall number that was refused */
	PS_HANDOFF,      /* worker -> monitor: input bytes read after the login command */
	PS_HANDOFF_END,  /* worker -> monitor: session state; fd: TLS relay end, if any */
	PS_WRITER,       /* worker -> monitor: a writer connection with the session's rights */
	PS_XFERLOG,      /* worker -> monitor: one xferlog line ending in "\n"; no answer */
	PS_TLS_KEY,      /* worker -> monitor: AUTH TLS after a clear login; PS_OK fd: the key */
	PS_HOOK,         /* worker -> monitor: "kind\0path\0[old\0]"; PS_OK once queued on disk */
	PS_METRIC,       /* worker -> monitor: struct metric_rec of its own session; no answer */
	PS_HASH,         /* worker -> monitor: struct ps_hash_req, fd: the file; PS_OK "H|C" hex */
	PS_HASH_ABORT,   /* worker -> monitor: ABOR of the PS_HASH running; no answer of its own */
	PS_TYPE_MAX
};

/* PS_HASH: which digest of which bytes of the file sent with it. Nothing
 * else: the worker names no result, so it has none to plant. */
struct ps_hash_req {
	uint32_t algo; /* enum digest_algo */
	uint32_t pad;  /* 0 */
	uint64_t start, len;
};

struct ps_msg {
	uint32_t type;
	uint32_t len;
	int fd;                        /* received descriptor or -1 */
	char data[PS_MAX_PAYLOAD + 1]; /* NUL after len bytes */
};

/* socketpair(AF_UNIX, SOCK_SEQPACKET); sv[0] monitor end, sv[1] worker end. */
int ps_pair(int sv[2]);
/* Send one message (fd < 0: none). 0 or -1. */
int ps_send(int sock, enum ps_type type, const void *data, size_t len, int fd);
/* A worker's count of its own session (PS_METRIC: series += value) to its
 * monitor, which checks it; dropped when it cannot be sent. Counts are
 * held up to METRIC_HOLD_MS and leave together (metrics_report_hold):
 * not one message, and one wakeup of the monitor and the listener, per
 * article or transfer. */
void ps_send_metric(int sock, unsigned series, uint64_t value);
/* Receive one message; -1 on EOF, error, or anything malformed (wrong
 * size, unknown type, truncated, more than one fd). */
int ps_recv(int sock, struct ps_msg *m);
/* The wire form of one message into out: its size, or 0 when len is over
 * PS_MAX_PAYLOAD or out (cap bytes) is too small. The type is not checked. */
size_t ps_encode(void *out, size_t cap, enum ps_type type, const void *data, size_t len);
/* Decode one received datagram of n bytes, without sockets: truncated says
 * the kernel set MSG_TRUNC or MSG_CTRUNC, nfd descriptors came with it, fd
 * the first. 0: m filled, m->fd is fd if nfd == 1, else -1. -1: malformed,
 * m->fd = -1. Never closes anything: on -1 the caller closes the nfd fds. */
int ps_decode(struct ps_msg *m, const void *dgram, size_t n, int truncated, size_t nfd, int fd);

/* PS_LOGIN, the worker's side: ask the monitor and wait. 0: accepted, the
 * monitor's PS_OK payload appended to text. -1: refused, the reason (maybe
 * empty) in text and *fatal set when the monitor ends the session. fd
 * (or NULL: closed) takes the descriptor an acceptance carries, or -1.
 * Dies when the channel is lost. */
int ps_login(int sock, const char *user, const char *pass, int *fatal, struct buffer *text,
             int *fd);
/* The monitor's side: split a PS_LOGIN payload "user\0password\0" (user
 * 1..max_user bytes); -1 if malformed. */
int ps_login_parse(const struct ps_msg *m, size_t max_user, const char **user, const char **pass);
/* The monitor's refusal; fatal: the session ends after it. */
/* fatal: 0 the worker may take another try, 1 (after the last refusal)
 * or PS_REFUSE_CLOSE (a limit, FTP 421) it closes the session. */
#define PS_REFUSE_CLOSE 2
int ps_login_refuse(int sock, int fatal, const char *reason);

#endif
