/* privsep: framing for the monitor channel. SEQPACKET keeps each request
 * one message, so a short or oversized message is detectable, not parsed. */
#include "common/priv/privsep.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/metrics.h"
#include "common/core/xmalloc.h"

struct ps_header {
	uint32_t type;
	uint32_t len;
};
_Static_assert(sizeof(struct ps_header) == PS_HEADER_SIZE, "PS_HEADER_SIZE");

/* The most descriptors one recvmsg can bring: the control buffer's size. */
#define PS_MAX_FDS 4

/* Collect the SCM_RIGHTS descriptors of a received message: the first max
 * in fds (the caller owns them), any more closed at once. Returns how many
 * came in all. */
static size_t
take_fds(struct msghdr *msg, int *fds, size_t max)
{
	const unsigned char *end = (const unsigned char *)msg->msg_control + msg->msg_controllen;
	size_t total = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0) || c->cmsg_len > (size_t)(end - (unsigned char *)c))
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < nfd; i++, total++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (total < max)
				fds[total] = fd;
			else
				close(fd);
		}
	}
	return total;
}

int
ps_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

size_t
ps_encode(void *out, size_t cap, enum ps_type type, const void *data, size_t len)
{
	struct ps_header h = {(uint32_t)type, (uint32_t)len};

	if (len > PS_MAX_PAYLOAD || cap < sizeof(h) + len)
		return 0;
	memcpy(out, &h, sizeof(h));
	if (len > 0)
		memcpy((unsigned char *)out + sizeof(h), data, len);
	return sizeof(h) + len;
}

int
ps_decode(struct ps_msg *m, const void *dgram, size_t n, int truncated, size_t nfd, int fd)
{
	struct ps_header h;

	m->fd = -1;
	/* SECURITY: anything not exactly one well-formed message is refused:
	 * cut short by the kernel, shorter than a header, a payload data[]
	 * cannot hold, more than one descriptor ... */
	if (truncated || n < sizeof(h) || n - sizeof(h) > PS_MAX_PAYLOAD || nfd > 1)
		return -1;
	memcpy(&h, dgram, sizeof(h));
	/* ... a length that is not the datagram's, or a type not in the enum. */
	if (h.len != n - sizeof(h) || h.type < PS_OK || h.type >= PS_TYPE_MAX)
		return -1;
	m->type = h.type;
	m->len = h.len;
	memcpy(m->data, (const unsigned char *)dgram + sizeof(h), h.len);
	m->data[m->len] = '\0';
	m->fd = nfd == 1 ? fd : -1;
	return 0;
}

int
ps_send(int sock, enum ps_type type, const void *data, size_t len, int fd)
{
	unsigned char buf[PS_MAX_DGRAM];
	size_t size = ps_encode(buf, sizeof(buf), type, data, len);
	struct iovec iov = {buf, size};
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (size == 0)
		return -1;
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.space;
		msg.msg_controllen = sizeof(u.space);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)size ? 0 : -1;
}

int
ps_recv(int sock, struct ps_msg *m)
{
	/* Static, not on the stack: an idle monitor waits here, and a
	 * datagram's worth of frame put everything below it onto pages of
	 * its own (each a private copy in every session). One thread and no
	 * signal handler receives, so one buffer serves. */
	static unsigned char buf[PS_MAX_DGRAM];
	struct iovec iov = {buf, sizeof(buf)};
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(sizeof(int) * PS_MAX_FDS)];
	} u;
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = u.space,
	                     .msg_controllen = sizeof(u.space)};
	int fds[PS_MAX_FDS];
	size_t nfd;
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	m->fd = -1; /* after the wait: m is not written while idle */
	/* A failed recvmsg leaves msg_controllen as it was: nothing to walk. */
	if (n < 0)
		return -1;
	nfd = take_fds(&msg, fds, PS_MAX_FDS);
	if (ps_decode(m, buf, (size_t)n, (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0, nfd,
	              nfd > 0 ? fds[0] : -1) < 0) {
		for (size_t i = 0; i < nfd && i < PS_MAX_FDS; i++)
			close(fds[i]);
		return -1;
	}
	return 0;
}

int
ps_login(int sock, const char *user, const char *pass, int *fatal, struct buffer *text, int *fd)
{
	size_t ul = strlen(user), pl = strlen(pass);
	char req[PS_MAX_PAYLOAD];
	struct ps_msg m;

	*fatal = 0;
	if (ul + pl + 2 > sizeof(req))
		return -1;
	memcpy(req, user, ul + 1);
	memcpy(req + ul + 1, pass, pl + 1);
	if (ps_send(sock, PS_LOGIN, req, ul + pl + 2, -1) < 0 || ps_recv(sock, &m) < 0)
		die("monitor channel lost");
	explicit_bzero(req, sizeof(req));
	if (fd != NULL)
		*fd = m.type == PS_OK ? m.fd : -1;
	if (m.fd >= 0 && (fd == NULL || m.type != PS_OK))
		close(m.fd);
	if (m.type == PS_OK) {
		buffer_append(text, m.data, m.len);
		return 0;
	}
	if (m.type != PS_FAIL)
		die("monitor: unexpected answer %u to a login", m.type);
	*fatal = m.len == 0 ? 0 : m.data[0] == 'C' ? PS_REFUSE_CLOSE : m.data[0] == 'F';
	if (m.len > 1)
		buffer_append(text, m.data + 1, m.len - 1);
	return -1;
}

int
ps_login_parse(const struct ps_msg *m, size_t max_user, const char **user, const char **pass)
{
	size_t ulen = strnlen(m->data, m->len);

	if (m->type != PS_LOGIN || ulen == 0 || ulen >= m->len || ulen > max_user)
		return -1;
	*user = m->data;
	*pass = m->data + ulen + 1;
	/* SECURITY: exactly two NUL-terminated strings, nothing after. */
	if (strnlen(*pass, m->len - ulen - 1) != m->len - ulen - 2)
		return -1;
	return 0;
}

int
ps_login_refuse(int sock, int fatal, const char *reason)
{
	char text[512];
	int n = snprintf(text, sizeof(text), "%c%s",
	                 fatal == PS_REFUSE_CLOSE ? 'C'
	                 : fatal                  ? 'F'
	                                          : 'R',
	                 reason);

	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	return ps_send(sock, PS_FAIL, text, (size_t)n, -1);
}

/* The monitor socket a worker's held counts go to (ps_send_metric). */
static int metric_sock = -1;

static void
send_metrics(const void *data, size_t len)
{
	/* A count that cannot be sent is dropped: the next request the
	 * monitor must answer ends a session whose channel is gone. */
	(void)ps_send(metric_sock, PS_METRIC, data, len, -1);
}

void
ps_send_metric(int sock, unsigned series, uint64_t value)
{
	if (metric_sock != sock) {
		metric_sock = sock;
		metrics_report_via(send_metrics);
		metrics_report_hold(METRIC_HOLD_MS);
	}
	metrics_report(series, METRIC_ADD, value);
}
