/* log: syslog or stderr, one write per line so lines from concurrent
 * sessions never interleave. */
#include "common/core/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "postel";
static int log_stderr = 1;
static char log_prefix[256];

void
log_open(const char *ident, int to_stderr)
{
	log_ident = ident;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_to_stderr(void)
{
	return log_stderr;
}

void
log_set_prefix(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_prefix, sizeof(log_prefix), fmt, ap);
	va_end(ap);
}

static void
log_vmsg(int prio, const char *fmt, va_list ap)
{
	char msg[2048];
	int n = 0;

	if (log_prefix[0] != '\0')
		n = snprintf(msg, sizeof(msg), "%s ", log_prefix);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	/* Client-supplied text may reach a log line: keep it on one line. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (!log_stderr) {
		syslog(prio, "%s", msg);
		return;
	}
	char line[2200];
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
	n = snprintf(line, sizeof(line), "%s %s[%ld]: %s\n", stamp, log_ident, (long)getpid(), msg);
	if (n > (int)sizeof(line) - 1) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report a failed log write. */
	}
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, fmt, ap);
	va_end(ap);
}
