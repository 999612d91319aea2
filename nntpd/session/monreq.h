/* worker: the NNTP session worker's side of the monitor channel. */
#ifndef NNTPD_SESSION_WORKER_H
#define NNTPD_SESSION_WORKER_H

#include "nntpd/session.h"

/* AUTHINFO through the monitor: 0 with s->user set, or -1 (*fatal: the
 * monitor ends the session after max_login_fails). */
int monreq_login(struct nntp_session *s, const char *user, const char *pass, int *fatal);

#endif
