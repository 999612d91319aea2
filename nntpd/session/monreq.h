/* monreq: the NNTP session worker's side of the monitor channel: AUTHINFO,
 * and the writer connection its monitor makes with the session's rights. */
#ifndef NNTPD_SESSION_MONREQ_H
#define NNTPD_SESSION_MONREQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/buffer.h"
#include "nntpd/session.h"
#include "nntpd/writer/proto.h"

/* AUTHINFO through the monitor: 0 with s->user set, or -1 (*fatal: the
 * monitor ends the session after max_login_fails). */
int monreq_login(struct nntp_session *s, const char *user, const char *pass, int *fatal);
/* Hand an article to the writer on the connection the monitor made (asked
 * for on first use, and again when the writer closed it): the writer's
 * code and text, or the kind's "unavailable" code when it is down. */
/* Whether the writer takes submissions now: 1 when the kept connection is
 * open or the monitor could make one, else 0 (CHECK answers 431). */
int monreq_writer_up(struct nntp_session *s);
int monreq_submit(struct nntp_session *s, enum submit_kind kind, const char *msgid,
                  const char *article, size_t len, struct buffer *reply_text);

/* Send one request without waiting for its reply (writer_read_reply on
 * s->writer reads it, in order): 0, or -1 when the writer is down. A kept
 * connection found closed is made again only when may_retry (no reply is
 * owed on it). The caller counts M_BYTES_IN. */
int monreq_send(struct nntp_session *s, enum submit_kind kind, const char *msgid,
                const char *article, size_t len, int may_retry);

/* Count value on one of the worker's own series (bytes of articles read
 * and submitted). No answer. */
void monreq_metric(struct nntp_session *s, unsigned series, uint64_t value);

#endif
