/* xferlog: wu-ftpd xferlog lines:
 * "%.24s %d %s %lld %s %c %c %c %c %s %s %d %s %c\n". */
#include "ftpd/dtp/xferlog.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char *const wday_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* One field: spaces and control bytes to '_', so the line always splits into
 * the same fields; an empty value to "-". */
static void
xferlog_field(struct buffer *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	if (*p == '\0') {
		buffer_append(out, "-", 1);
		return;
	}
	for (; *p; p++) {
		char c = (*p <= ' ' || *p == 0x7f) ? '_' : (char)*p;

		buffer_append(out, &c, 1);
	}
}

static char
xferlog_flag(char c, const char *allowed)
{
	return (c != '\0' && strchr(allowed, c) != NULL) ? c : allowed[0];
}

void
xferlog_format(struct buffer *out, const struct xfer_record *rec)
{
	time_t when = rec->when ? rec->when : time(NULL);
	long secs;
	struct tm tm;

	if ((rec->localtime ? localtime_r(&when, &tm) : gmtime_r(&when, &tm)) == NULL)
		memset(&tm, 0, sizeof(tm));
	/* ctime(3) layout, without its locale or its static buffer. */
	buffer_printf(out, "%s %s %2d %02d:%02d:%02d %d ", wday_names[tm.tm_wday % 7],
	              month_names[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	              tm.tm_year + 1900);
	secs = rec->seconds > 1e9 ? 1000000000L : (long)(rec->seconds + 0.5);
	buffer_printf(out, "%ld ", secs < 1 ? 1L : secs);
	xferlog_field(out, rec->host);
	buffer_printf(out, " %lld ", rec->bytes < 0 ? 0LL : rec->bytes);
	xferlog_field(out, rec->path);
	buffer_printf(out, " %c _ %c %c ", xferlog_flag(rec->type, "ba"),
	              xferlog_flag(rec->direction, "oi"), xferlog_flag(rec->access, "rag"));
	xferlog_field(out, rec->user);
	buffer_printf(out, " ftp 0 * %c\n", rec->complete ? 'c' : 'i');
}

int
xferlog_write(int fd, const struct xfer_record *rec)
{
	struct buffer line = BUFFER_INIT;
	ssize_t n;

	xferlog_format(&line, rec);
	do
		n = write(fd, buffer_head(&line), line.len);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != line.len) {
		n = -1;
		errno = EIO;
	}
	buffer_free(&line);
	return n < 0 ? -1 : 0;
}
