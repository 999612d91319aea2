/* hookev: the monitor's side of upload hooks. A worker reports an event
 * (PS_HOOK) with a path inside its root; the monitor checks it, takes the
 * facts from the filesystem, and has the event on disk before it answers. */
#ifndef FTPD_MONITOR_HOOKEV_H
#define FTPD_MONITOR_HOOKEV_H

#include "common/priv/privsep.h"

/* The session's root after a login (a descriptor the monitor keeps, and
 * the real path it names); hookev_forget drops it (REIN, a new worker
 * that must not inherit it). */
void hookev_root(int root_fd, const char *root_path);
void hookev_forget(void);
/* PS_HOOK: "kind\0path\0" (rename: "rename\0new\0old\0"). 1: queued.
 * 0: refused, the reason in why (a path that is not what it must be, or
 * the queue cannot be written). -1: malformed, or out of state. */
int hookev_report(const struct ps_msg *m, const char *user, const char *client, const char *session,
                  const char **why);

#endif
