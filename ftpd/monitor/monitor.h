/* monitor: the per-session privileged monitor, as the listener sees it.
 * The session entry point itself (ftp_session) is in ftpd/session.h. */
#ifndef FTPD_MONITOR_H
#define FTPD_MONITOR_H

#include "ftpd/session.h"

/* In the listener, at start and on SIGHUP: the accounts every monitor
 * would otherwise look up itself (nopriv_user, ftp_username). */
void monitor_prepare(void);

#endif
