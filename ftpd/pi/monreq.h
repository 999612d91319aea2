/* monreq: the worker's side of the monitor channel: the typed requests a
 * PI or DTP may make of its monitor (common/priv/privsep.h frames them). */
#ifndef FTPD_PI_MONREQ_H
#define FTPD_PI_MONREQ_H

#include <stdint.h>

#include "common/core/buffer.h"
#include "ftpd/options.h"
#include "ftpd/session.h"

/* PASS: ask the monitor to log in; 0 on success. On refusal reason holds
 * the text and *fatal says the session must end. fd (or NULL): the
 * descriptor a granted login carries (a WORKER_ANON's quota file), or -1. */
int monreq_login(struct ftp_session *s, const char *user, const char *pass, int *fatal,
                 struct buffer *reason, int *fd);
/* After a successful login (or REIN): hand the unread input to the monitor
 * and exit, or stay on as the TLS relay. */
void monreq_handoff(struct ftp_session *s) __attribute__((noreturn));
/* The active data connection to target, from ftp_data_port: a socket the
 * monitor bound and connected (the worker never holds it unconnected), or
 * -1 when the monitor refused the target or could not connect. */
int monreq_connect_data(struct ftp_session *s, const struct sockaddr_storage *target);
/* AUTH TLS after a clear login: the TLS context, from the key the monitor
 * hands over (once per worker); NULL when it refuses. */
SSL_CTX *monreq_tls_ctx(struct ftp_session *s);
/* Give an upload to chown_username; 0 or -1. */
int monreq_chown(struct ftp_session *s, int fd);
/* One xferlog line (ending in "\n") for the monitor to append: the worker
 * never holds the shared xferlog. 0, or -1 when it is too long to send. */
int monreq_xferlog(struct ftp_session *s, const struct buffer *line);
/* Count value on one of the worker's own series (ftpd/metrics.h): a
 * transfer, its bytes, a refusal. No answer. */
void monreq_metric(struct ftp_session *s, unsigned series, uint64_t value);
/* upload_hook: report an upload, delete or rename (old: the old name) of
 * path, and wait until the monitor has it queued on disk. 0 (also when
 * hook_events does not name kind), or -1 when it was not queued. */
int monreq_hook(struct ftp_session *s, enum hook_kind kind, const char *path, const char *old);
/* HASH: ask the monitor for algo's digest of len bytes of fd from start
 * (its answer comes later: monreq_hash_result). 0, or -1 when the channel
 * is lost. */
int monreq_hash_start(struct ftp_session *s, int fd, unsigned algo, uint64_t start, uint64_t len);
/* ABOR while the hash runs: the monitor stops it, and still answers once. */
void monreq_hash_abort(struct ftp_session *s);
/* The answer: 'H' (from the cache) or 'C' (computed) with the hex in hex;
 * 'A' aborted, 'S' the file changed meanwhile, 'E' the hash failed. Dies
 * when the channel is lost. */
char monreq_hash_result(struct ftp_session *s, char *hex, size_t cap);

#endif
