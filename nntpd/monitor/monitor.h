/* monitor: the per-session privileged NNTP monitor, as the listener sees
 * it. The session entry point itself (nntp_session) is in nntpd/session.h. */
#ifndef NNTPD_MONITOR_H
#define NNTPD_MONITOR_H

#include "nntpd/session.h"

/* In the listener, at start and on SIGHUP: look up nopriv_user once. */
void monitor_prepare(void);

#endif
