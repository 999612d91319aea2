/* chan: the listener's and the writer's messages on their channel
 * (writer/chan.h): encoded by one end, parsed by the other. */
#include "nntpd/writer/chan.h"

#include <limits.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/number.h"
#include "common/core/xmalloc.h"

void
wchan_settings_free(struct writer_settings *ws)
{
	vector_free(&ws->feed);
	vector_free(&ws->expire);
}

void
wchan_encode_config(struct buffer *out, unsigned long gen, const struct writer_settings *ws)
{
	buffer_printf(out, "config %lu\n", gen);
	buffer_printf(out, "max_article_size %zu\n", ws->max_article_size);
	buffer_printf(out, "history_remember %lu\n", ws->history_remember);
	buffer_printf(out, "post_rate %lu\npost_burst %lu\narticle_cutoff_days %lu\n",
	              ws->limits.post_rate, ws->limits.post_burst, ws->limits.cutoff_days);
	buffer_printf(out, "filter_timeout %lu\n", ws->filter_timeout);
	buffer_printf(out, "filter_failure %s\n", ws->filter_closed ? "closed" : "open");
	for (size_t i = 0; i < ws->feed.count; i++)
		buffer_printf(out, "feed %s\n", ws->feed.strings[i]);
	for (size_t i = 0; i < ws->expire.count; i++)
		buffer_printf(out, "expire %s\n", ws->expire.strings[i]);
}

void
wchan_encode_refused(struct buffer *out, unsigned long gen, const char *why)
{
	buffer_printf(out, "refused %lu\n%s", gen, why);
}

/* One "key value" line of a config message into ws; 0 or -1. */
static int
config_line(char *line, struct writer_settings *ws)
{
	char *sp = strchr(line, ' ');
	uint64_t n;

	if (sp == NULL)
		return -1;
	*sp++ = '\0';
	if (strcmp(line, "feed") == 0)
		vector_add(&ws->feed, sp);
	else if (strcmp(line, "expire") == 0)
		vector_add(&ws->expire, sp);
	else if (strcmp(line, "max_article_size") == 0 && number_parse(sp, 1, SIZE_MAX, &n) == 0)
		ws->max_article_size = (size_t)n;
	else if (strcmp(line, "history_remember") == 0 && number_parse(sp, 0, 36500, &n) == 0)
		ws->history_remember = (unsigned long)n;
	else if (strcmp(line, "post_rate") == 0 && number_parse(sp, 0, ULONG_MAX, &n) == 0)
		ws->limits.post_rate = (unsigned long)n;
	else if (strcmp(line, "post_burst") == 0 && number_parse(sp, 0, ULONG_MAX, &n) == 0)
		ws->limits.post_burst = (unsigned long)n;
	else if (strcmp(line, "article_cutoff_days") == 0 && number_parse(sp, 0, 36500, &n) == 0)
		ws->limits.cutoff_days = (unsigned long)n;
	else if (strcmp(line, "filter_timeout") == 0 && number_parse(sp, 1, 60, &n) == 0)
		ws->filter_timeout = (unsigned long)n;
	else if (strcmp(line, "filter_failure") == 0 &&
	         (strcmp(sp, "open") == 0 || strcmp(sp, "closed") == 0))
		ws->filter_closed = strcmp(sp, "closed") == 0;
	else
		return -1;
	return 0;
}

int
wchan_parse(const char *msg, size_t len, unsigned long *gen, struct writer_settings *ws,
            struct buffer *why)
{
	char *text = xstrndup(msg, len), *line, *next;
	int kind = -1;
	uint64_t g;

	memset(ws, 0, sizeof(*ws));
	buffer_clear(why);
	next = strchr(text, '\n');
	if (next == NULL)
		goto out;
	*next++ = '\0';
	if (strncmp(text, "config ", 7) == 0 && number_parse(text + 7, 0, UINT64_MAX, &g) == 0)
		kind = 1;
	else if (strncmp(text, "refused ", 8) == 0 &&
	         number_parse(text + 8, 0, UINT64_MAX, &g) == 0)
		kind = 0;
	else
		goto out;
	*gen = (unsigned long)g;
	if (kind == 0) {
		buffer_puts(why, next);
		goto out;
	}
	for (line = next; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next == NULL) {
			kind = -1;
			break;
		}
		*next++ = '\0';
		if (config_line(line, ws) < 0) {
			kind = -1;
			break;
		}
	}
	if (kind < 0)
		wchan_settings_free(ws);
out:
	free(text);
	return kind;
}

int
wchan_send(int sock, const char *msg, size_t len, const int *fds, size_t nfd)
{
	struct iovec iov = {(void *)msg, len};
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfd > 2)
		return -1;
	if (nfd > 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.space;
		m.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	}
	return sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

ssize_t
wchan_recv(int sock, char *buf, size_t cap, int fds[2], size_t *nfd)
{
	struct iovec iov = {buf, cap};
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} u;
	struct msghdr m = {.msg_iov = &iov,
	                   .msg_iovlen = 1,
	                   .msg_control = u.space,
	                   .msg_controllen = sizeof(u.space)};
	ssize_t n = recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	const unsigned char *end = (const unsigned char *)u.space + m.msg_controllen;

	*nfd = 0;
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0) || c->cmsg_len > (size_t)(end - (unsigned char *)c))
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfd < 2)
				fds[(*nfd)++] = fd;
			else
				close(fd);
		}
	}
	/* SECURITY: a message cut short is no message; its descriptors go. */
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		while (*nfd > 0)
			close(fds[--*nfd]);
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

int
wchan_parse_numbered(const char *msg, size_t len, const char *prefix, unsigned long *n)
{
	size_t pl = strlen(prefix);
	char num[24];
	uint64_t v;

	if (len <= pl + 1 || len - pl - 1 >= sizeof(num) || memcmp(msg, prefix, pl) != 0 ||
	    msg[len - 1] != '\n')
		return -1;
	memcpy(num, msg + pl, len - pl - 1);
	num[len - pl - 1] = '\0';
	if (number_parse(num, 0, UINT64_MAX, &v) < 0)
		return -1;
	*n = (unsigned long)v;
	return 0;
}
