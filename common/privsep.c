/* privsep: framing for the monitor channel. SEQPACKET keeps each request
 * one message, so a short or oversized message is detectable, not parsed. */
#include "privsep.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = u.space,
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
