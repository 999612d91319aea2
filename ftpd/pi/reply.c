/* reply: how the PI answers on the control connection. */
#include "ftpd/pi/reply.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* One reply line: sep is ' ' on the last line of a reply, '-' before it. */
static void
reply_line(struct ftp_session *s, int code, char sep, const char *fmt, va_list ap)
{
	conn_printf(&s->ctl, "%d%c", code, sep);
	buffer_vprintf(&s->ctl.out, fmt, ap);
	conn_append(&s->ctl, "\r\n", 2);
}

void
reply(struct ftp_session *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_line(s, code, ' ', fmt, ap);
	va_end(ap);
}

void
reply_start(struct ftp_session *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_line(s, code, '-', fmt, ap);
	va_end(ap);
}

void
reply_errno(struct ftp_session *s, int code, const char *what)
{
	const char *why = errno == ENOENT                     ? "No such file or directory"
	                  : errno == EEXIST                   ? "File exists"
	                  : errno == ENOTEMPTY                ? "Directory not empty"
	                  : errno == EACCES || errno == EPERM ? "Permission denied"
	                  : errno == ENOTDIR                  ? "Not a directory"
	                  : errno == EISDIR                   ? "Is a directory"
	                                                      : strerror(errno);

	reply(s, code, "%s: %s.", what, why);
}
