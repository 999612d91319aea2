/* netio: the line reader never splits an overlong line into two commands:
 * past the limit it discards through the next LF and reports CONN_TOOLONG. */
#include "netio.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define NETIO_READ 16384

void (*netio_signal_hook)(void);

void
conn_init(struct conn *c, int fd, size_t max_line, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->max_line = max_line;
	c->timeout_ms = timeout_ms;
	buffer_init(&c->in);
	buffer_init(&c->out);
}

void
conn_free(struct conn *c)
{
	buffer_free(&c->in);
	buffer_free(&c->out);
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = {.fd = fd, .events = POLLOUT};

				poll(&pf, 1, 1000);
				continue;
			}
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
conn_flush(struct conn *c)
{
	int rc = 0;

	if (c->out.len == 0)
		return 0;
	if (c->ssl != NULL) {
		ssize_t n = tls_write(c->ssl, buffer_head(&c->out), c->out.len);

		rc = n == (ssize_t)c->out.len ? 0 : -1;
	} else
		rc = write_all(c->fd, buffer_head(&c->out), c->out.len);
	buffer_clear(&c->out);
	return rc;
}

void
conn_append(struct conn *c, const void *p, size_t n)
{
	buffer_append(&c->out, p, n);
}

void
conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buffer_vprintf(&c->out, fmt, ap);
	va_end(ap);
}

void
conn_drop_input(struct conn *c)
{
	buffer_clear(&c->in);
	c->consumed = 0;
	c->discarding = 0;
}

int
conn_input_pending(struct conn *c)
{
	return c->in.len > c->consumed || (c->ssl != NULL && tls_pending(c->ssl));
}

enum conn_status
conn_try_line(struct conn *c, char **line, size_t *len)
{
	char *p, *nl;
	size_t n;

	buffer_consume(&c->in, c->consumed);
	c->consumed = 0;
	p = buffer_head(&c->in);
	nl = c->in.len ? memchr(p, '\n', c->in.len) : NULL;
	if (nl == NULL) {
		/* SECURITY: past the limit, keep nothing: the rest of this
		 * line must never be read as a command of its own. */
		if (c->in.len > c->max_line + 1) {
			c->discarding = 1;
			buffer_clear(&c->in);
		}
		return CONN_AGAIN;
	}
	n = (size_t)(nl - p);
	c->consumed = n + 1;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (c->discarding || n > c->max_line) {
		c->discarding = 0;
		return CONN_TOOLONG;
	}
	p[n] = '\0';
	*line = p;
	*len = n;
	return CONN_LINE;
}

enum conn_status
conn_fill(struct conn *c, int timeout_ms)
{
	ssize_t n;

	if (c->ssl == NULL || !tls_pending(c->ssl)) {
		struct pollfd pf = {.fd = c->fd, .events = POLLIN};
		int rc;

		while ((rc = poll(&pf, 1, timeout_ms > 0 ? timeout_ms : -1)) < 0 && errno == EINTR)
			if (netio_signal_hook != NULL)
				netio_signal_hook();
		if (rc == 0)
			return CONN_TIMEOUT;
		if (rc < 0)
			return CONN_ERROR;
	}
	buffer_consume(&c->in, c->consumed);
	c->consumed = 0;
	for (;;) {
		char *tail = buffer_reserve(&c->in, NETIO_READ);

		if (c->ssl != NULL)
			n = tls_read(c->ssl, tail, NETIO_READ);
		else
			n = read(c->fd, tail, NETIO_READ);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n == 0)
		return CONN_EOF;
	if (n < 0)
		return CONN_ERROR;
	buffer_commit(&c->in, (size_t)n);
	return CONN_LINE;
}

enum conn_status
conn_getline(struct conn *c, char **line, size_t *len)
{
	for (;;) {
		enum conn_status st = conn_try_line(c, line, len);

		if (st != CONN_AGAIN)
			return st;
		if (conn_flush(c) < 0)
			return CONN_ERROR;
		st = conn_fill(c, c->timeout_ms);
		if (st != CONN_LINE)
			return st;
	}
}
