/* pi: the FTP protocol interpreter and its command table. */
#ifndef FTPD_PI_H
#define FTPD_PI_H

#include "session.h"

/* Queue "code text\r\n" on the control connection. */
void reply(struct ftp_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Before the sandbox closes the world: names for listings, time zone. */
void pi_prepare(struct ftp_session *s);

#endif
