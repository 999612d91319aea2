/* reply: FTP replies on the control connection (RFC 959 section 4.2). */
#ifndef FTPD_PI_REPLY_H
#define FTPD_PI_REPLY_H

#include "ftpd/session.h"

/* Queue "code text\r\n" on the control connection; it leaves with the
 * next flush (before the PI blocks on a read). */
void reply(struct ftp_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "what: why." with why from errno, in the words clients show users. */
void reply_errno(struct ftp_session *s, int code, const char *what);

#endif
