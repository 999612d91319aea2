/* log: one line per event, to syslog or (with -D) to stderr. Every line
 * carries the session prefix once a session has set one. */
#ifndef POSTEL_LOG_H
#define POSTEL_LOG_H

#include <stdarg.h>
#include <syslog.h>

void log_open(const char *ident, int to_stderr);
/* Prefix for every later line of this process, e.g. "s=1a2b c=1.2.3.4 u=-". */
void log_set_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether log lines go to stderr (foreground) rather than syslog. */
int log_to_stderr(void);

#endif
