/* pi: the FTP protocol interpreter and its command table. */
#ifndef FTPD_PI_H
#define FTPD_PI_H

#include <stddef.h>

#include "ftpd/session.h"

/* Longest command name (RFC 959 commands are 3 or 4 letters). */
#define PI_NAME_MAX 7
/* Split a control line in place: Telnet prefix dropped, the command name
 * (empty if too long) into name, *arg at the rest. -1 for an embedded NUL. */
int pi_parse_command(char *line, size_t len, char name[PI_NAME_MAX + 1], const char **arg);
/* Whether name is in the command table (any case). */
int pi_known_command(const char *name);
/* SECURITY: a session logged in without TLS keeps no copy of the key;
 * AUTH TLS asks the monitor for it then. No-op under TLS. */
void pi_forget_key(struct ftp_session *s);
/* Before the sandbox closes the world: names for listings, time zone. */
void pi_prepare(struct ftp_session *s);
/* The protocol interpreter: serve until QUIT or the connection ends. */
void pi_run(struct ftp_session *s);

#endif
