/* privsep: framing for the monitor channel. SEQPACKET keeps each request
 * one message, so a short or oversized message is detectable, not parsed. */
#include "common/priv/privsep.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/xmalloc.h"

struct ps_header {
	uint32_t type;
	uint32_t len;
};

int
ps_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

int
ps_send(int sock, enum ps_type type, const void *data, size_t len, int fd)
{
	struct ps_header h = {(uint32_t)type, (uint32_t)len};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)data, len}};
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t n;

	if (len > PS_MAX_PAYLOAD)
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
	return n == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

int
ps_recv(int sock, struct ps_msg *m)
{
	struct ps_header h;
	struct iovec iov[2] = {{&h, sizeof(h)}, {m->data, PS_MAX_PAYLOAD}};
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(sizeof(int) * 4)];
	} u;
	struct msghdr msg = {.msg_iov = iov,
	                     .msg_iovlen = 2,
	                     .msg_control = u.space,
	                     .msg_controllen = sizeof(u.space)};
	struct cmsghdr *c;
	ssize_t n;

	m->fd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[4];

		memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
		for (size_t i = 0; i < nfd; i++) {
			if (m->fd < 0 && nfd == 1)
				m->fd = fds[i];
			else
				close(fds[i]);
		}
	}
	/* SECURITY: anything not exactly one well-formed message is refused. */
	if (n < (ssize_t)sizeof(h) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    h.len != (size_t)n - sizeof(h) || h.type < PS_OK || h.type >= PS_TYPE_MAX) {
		if (m->fd >= 0)
			close(m->fd);
		m->fd = -1;
		return -1;
	}
	m->type = h.type;
	m->len = h.len;
	m->data[m->len] = '\0';
	return 0;
}

int
ps_login(int sock, const char *user, const char *pass, int *fatal, struct buffer *text)
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
	if (m.fd >= 0)
		close(m.fd);
	if (m.type == PS_OK) {
		buffer_append(text, m.data, m.len);
		return 0;
	}
	if (m.type != PS_FAIL)
		die("monitor: unexpected answer %u to a login", m.type);
	*fatal = m.len > 0 && m.data[0] == 'F';
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
	int n = snprintf(text, sizeof(text), "%c%s", fatal ? 'F' : 'R', reason);

	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	return ps_send(sock, PS_FAIL, text, (size_t)n, -1);
}
