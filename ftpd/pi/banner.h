/* banner: texts from files on the control connection: the banner_file
 * greeting and the directory messages of dirmessage_enable. */
#ifndef FTPD_PI_BANNER_H
#define FTPD_PI_BANNER_H

#include "ftpd/session.h"

/* The 220 greeting: banner_file's lines, else ftpd_banner. */
void banner_greet(struct ftp_session *s);
/* dirmessage_enable: the cwd's message_file as "code-line" lines, the first
 * time the session is in that directory; the caller's reply ends them. */
void banner_dir_message(struct ftp_session *s, int code);

#endif
