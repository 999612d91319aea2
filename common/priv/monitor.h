/* monitor: what every per-session monitor does the same way: the session
 * id and its log prefix, the seccomp-violation report from its worker, and
 * how the session ended. Runs privileged, in the monitor. */
#ifndef POSTEL_MONITOR_H
#define POSTEL_MONITOR_H

#include <stddef.h>
#include <sys/types.h>

#include "common/priv/privsep.h"

#define MONITOR_ID_LEN 16

/* A fresh session id into id (random, plus the pid), the log prefix
 * "s=ID c=PEER u=-", and the "session start" line. */
void monitor_session_start(char id[MONITOR_ID_LEN], const char *peer_text);
/* A PS_SECCOMP report from the worker: log the syscall by name. -1 when
 * the message is malformed (the caller ends the session). */
int monitor_seccomp_report(const struct ps_msg *m);
/* Wait for pid through EINTR; its wait status. */
int monitor_wait(pid_t pid);
/* Log "session end: exit N" (or "killed by signal N") for a wait status. */
void monitor_session_end(int status);

#endif
