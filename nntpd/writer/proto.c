/* proto: the writer's socket protocol, both ends: the request and reply
 * frames (writer/proto.h), and the client that sessions and nntpctl use.
 * The client half runs in sessions (unprivileged) and in nntpctl. */
#include "nntpd/writer/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "nntpd/store/storeformat.h"

const struct writer_reply_codes writer_codes[] = {
    [SUBMIT_POST] = {240, 441, 440},     [SUBMIT_IHAVE] = {235, 437, 436},
    [SUBMIT_TAKETHIS] = {239, 439, 436}, [SUBMIT_CONTROL] = {200, 500, 400},
    [SUBMIT_RIGHTS] = {200, 502, 400},
};

int
wproto_valid_kind(uint32_t k)
{
	return k >= SUBMIT_POST && k <= SUBMIT_RIGHTS;
}

static void
put_field(struct buffer *b, const char *p, size_t n)
{
	unsigned char h[4];

	store_put32(h, (uint32_t)n);
	buffer_append(b, h, 4);
	buffer_append(b, p, n);
}

/* One field of a request: a u32 length at *off, then that many bytes, all
 * inside p[0..len) and at most max long. 0 and *off moved past it, or -1. */
static int
get_field(const unsigned char *p, size_t len, size_t *off, size_t max, const unsigned char **f,
          size_t *n)
{
	uint32_t k;

	if (*off > len || len - *off < 4)
		return -1;
	k = store_get32(p + *off);
	if (k > max || k > len - *off - 4)
		return -1;
	*f = p + *off + 4;
	*n = k;
	*off += 4 + (size_t)k;
	return 0;
}

void
wproto_encode_request(struct buffer *out, enum submit_kind kind, const char *msgid,
                      const char *host, const char *payload, size_t len)
{
	unsigned char h[8];

	store_put32(h, (uint32_t)(4 + 4 + strlen(msgid) + 4 + strlen(host) + 4 + len));
	store_put32(h + 4, kind);
	buffer_append(out, h, 8);
	put_field(out, msgid, strlen(msgid));
	put_field(out, host, strlen(host));
	put_field(out, payload, len);
}

static size_t
cut(const char *p, size_t max)
{
	return p == NULL ? 0 : strnlen(p, max);
}

void
wproto_encode_rights(struct buffer *out, const struct writer_rights *r)
{
	struct buffer pay = BUFFER_INIT;
	unsigned char h[4];
	char host[WRITER_MAX_HOST + 1];

	store_put32(h, (r->may_post ? WRITER_MAY_POST : 0) | (r->may_feed ? WRITER_MAY_FEED : 0) |
	                   (r->may_approve ? WRITER_MAY_APPROVE : 0));
	buffer_append(&pay, h, 4);
	put_field(&pay, r->post_groups ? r->post_groups : "",
	          cut(r->post_groups, WRITER_MAX_WILDMAT));
	put_field(&pay, r->user ? r->user : "", cut(r->user, WRITER_MAX_USER));
	put_field(&pay, r->feed_groups ? r->feed_groups : "",
	          cut(r->feed_groups, WRITER_MAX_WILDMAT));
	snprintf(host, sizeof(host), "%s", r->host ? r->host : "");
	wproto_encode_request(out, SUBMIT_RIGHTS, "", host, buffer_head(&pay), pay.len);
	buffer_free(&pay);
}

int
wproto_parse_rights(const char *payload, size_t len, const char *host, struct writer_rights *r)
{
	const unsigned char *p = (const unsigned char *)payload, *g, *u, *f;
	size_t off = 4, gn, un, fn;
	uint32_t flags;

	memset(r, 0, sizeof(*r));
	if (len < 4)
		return -1;
	flags = store_get32(p);
	/* SECURITY: known flags only, both fields inside the payload and
	 * ending it, no NUL that would cut a C string short. */
	if ((flags & ~(WRITER_MAY_POST | WRITER_MAY_FEED | WRITER_MAY_APPROVE)) != 0 ||
	    get_field(p, len, &off, WRITER_MAX_WILDMAT, &g, &gn) < 0 ||
	    get_field(p, len, &off, WRITER_MAX_USER, &u, &un) < 0 ||
	    get_field(p, len, &off, WRITER_MAX_WILDMAT, &f, &fn) < 0 || off != len ||
	    memchr(g, '\0', gn) != NULL || memchr(u, '\0', un) != NULL ||
	    memchr(f, '\0', fn) != NULL)
		return -1;
	r->may_post = (flags & WRITER_MAY_POST) != 0;
	r->may_feed = (flags & WRITER_MAY_FEED) != 0;
	r->may_approve = (flags & WRITER_MAY_APPROVE) != 0;
	r->post_groups = xstrndup((const char *)g, gn);
	r->user = xstrndup((const char *)u, un);
	r->feed_groups = xstrndup((const char *)f, fn);
	r->host = xstrdup(host);
	return 0;
}

void
wproto_rights_free(struct writer_rights *r)
{
	free(r->post_groups);
	free(r->host);
	free(r->user);
	free(r->feed_groups);
	r->post_groups = r->host = r->user = r->feed_groups = NULL;
}

/* Parse one complete request frame body; -1 when malformed. */
int
wproto_parse_request(const unsigned char *p, size_t len, uint32_t *kind, char **msgid, char **host,
                     const char **payload, size_t *plen)
{
	const unsigned char *m, *h, *a;
	size_t off = 4, mn, hn, an;

	if (len < 4)
		return -1;
	*kind = store_get32(p);
	/* SECURITY: every field inside the frame and within its limit, and
	 * the payload ending the frame exactly: nothing read past len. */
	if (!wproto_valid_kind(*kind) || get_field(p, len, &off, WRITER_MAX_MSGID, &m, &mn) < 0 ||
	    get_field(p, len, &off, WRITER_MAX_HOST, &h, &hn) < 0 ||
	    get_field(p, len, &off, UINT32_MAX, &a, &an) < 0 || off != len)
		return -1;
	/* SECURITY: the names become C strings; an embedded NUL would cut
	 * one short and make the frame mean something else. */
	if (memchr(m, '\0', mn) != NULL || memchr(h, '\0', hn) != NULL)
		return -1;
	*msgid = xstrndup((const char *)m, mn);
	*host = xstrndup((const char *)h, hn);
	*payload = (const char *)a;
	*plen = an;
	return 0;
}

int
wproto_send_all(int fd, const void *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, (const char *)p + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = {fd, POLLOUT, 0};

			if (poll(&pfd, 1, 10000) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int
wproto_send_reply(int fd, int code, const struct buffer *text, size_t max)
{
	unsigned char h[8];
	size_t n = text->len > max ? max : text->len;
	struct buffer out = BUFFER_INIT;
	int rc;

	store_put32(h, (uint32_t)(4 + n));
	store_put32(h + 4, (uint32_t)code);
	buffer_append(&out, h, 8);
	buffer_append(&out, buffer_head(text), n);
	rc = wproto_send_all(fd, buffer_head(&out), out.len);
	buffer_free(&out);
	return rc;
}

/* Client side. */

static int submit_fd = -1;
static int client_ctl_fd = -1;

static int
connect_at(int dirfd, const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {WRITER_CLIENT_TIMEOUT, 0};
	int fd, rc, e, cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if (cwd >= 0)
			close(cwd);
		return -1;
	}
	/* A relative sun_path resolves against the cwd: fchdir to the spool
	 * for the connect, so no absolute path (and no /proc) is needed. */
	rc = fchdir(dirfd);
	if (rc == 0)
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	if (cwd >= 0) {
		if (fchdir(cwd) < 0)
			log_msg(LOG_ERR, "writer client: fchdir back: %m");
		close(cwd);
	}
	if (rc < 0) {
		close(fd);
		errno = e;
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int
writer_connect(int spool_dirfd)
{
	return connect_at(spool_dirfd, WRITER_SOCKET);
}

int
writer_read_reply(int fd, int *code, struct buffer *reply)
{
	unsigned char h[8];
	uint32_t len;

	buffer_clear(reply);
	if (read_full(fd, h, 8) != 0)
		return -1;
	len = store_get32(h);
	if (len < 4 || len > 4 + WRITER_MAX_CTL_REPLY)
		return -1;
	*code = (int)store_get32(h + 4);
	if (read_full(fd, buffer_reserve(reply, len - 4), len - 4) != 0)
		return -1;
	buffer_commit(reply, len - 4);
	buffer_cstr(reply);
	return 0;
}

/* One exchange on fd: 0 and the code, -1 when the connection failed
 * (*sent tells whether the whole request went out). */
static int
exchange(int fd, const struct buffer *req, int *code, struct buffer *reply, int *sent)
{
	*sent = 0;
	if (wproto_send_all(fd, buffer_head(req), req->len) < 0)
		return -1;
	*sent = 1;
	return writer_read_reply(fd, code, reply);
}

int
writer_send_request(int fd, enum submit_kind kind, const char *msgid, const char *payload,
                    size_t len)
{
	struct buffer req = BUFFER_INIT;
	int rc;

	if (msgid == NULL || strlen(msgid) > WRITER_MAX_MSGID)
		msgid = "";
	wproto_encode_request(&req, kind, msgid, "", payload, len);
	rc = wproto_send_all(fd, buffer_head(&req), req.len);
	buffer_free(&req);
	return rc;
}

int
writer_exchange(int fd, enum submit_kind kind, const char *msgid, const char *payload, size_t len,
                struct buffer *reply, int *sent)
{
	int code = -1;

	buffer_clear(reply);
	*sent = 0;
	if (len > UINT32_MAX - 1024) {
		buffer_puts(reply, "Article too large");
		return writer_codes[kind].refused;
	}
	if (writer_send_request(fd, kind, msgid, payload, len) < 0)
		return -1;
	*sent = 1;
	if (writer_read_reply(fd, &code, reply) < 0) {
		buffer_clear(reply);
		code = -1;
	}
	return code;
}

int
writer_send_rights(int fd, const struct writer_rights *r, struct buffer *reply)
{
	struct buffer req = BUFFER_INIT;
	int code = -1, sent;

	buffer_clear(reply);
	wproto_encode_rights(&req, r);
	if (exchange(fd, &req, &code, reply, &sent) < 0)
		code = -1;
	buffer_free(&req);
	return code;
}

static void
unavailable_text(enum submit_kind kind, struct buffer *reply)
{
	if (reply->len == 0)
		buffer_puts(reply, kind == SUBMIT_POST ? "Posting unavailable, try again later"
		                                       : "Writer unavailable, try again later");
}

/* The trusted submitter's connection: connected, with its rights. */
static int
submitter_connect(int dirfd, const char *host)
{
	struct writer_rights r = {1, 1, "*", (char *)host, "", 1, ""};
	struct buffer reply = BUFFER_INIT;
	int fd = connect_at(dirfd, WRITER_SOCKET);

	if (fd >= 0 && writer_send_rights(fd, &r, &reply) != writer_codes[SUBMIT_RIGHTS].ok) {
		close(fd);
		fd = -1;
	}
	buffer_free(&reply);
	return fd;
}

int
writer_submit_from(int spool_dirfd, enum submit_kind kind, const char *msgid_or_null,
                   const char *client_host, const char *article, size_t len, struct buffer *reply)
{
	int code = -1, sent = 0;

	buffer_clear(reply);
	if (!wproto_valid_kind(kind) || kind == SUBMIT_CONTROL || kind == SUBMIT_RIGHTS) {
		buffer_puts(reply, "bad request kind");
		return 500;
	}
	for (int attempt = 0; attempt < 2 && code < 0; attempt++) {
		int fresh = submit_fd < 0;

		if (submit_fd < 0 && (submit_fd = submitter_connect(spool_dirfd, client_host)) < 0)
			break;
		code = writer_exchange(submit_fd, kind, msgid_or_null, article, len, reply, &sent);
		if (code >= 0)
			break;
		close(submit_fd);
		submit_fd = -1;
		/* Retry only a stale connection that failed before the request
		 * was fully sent (the writer restarted meanwhile). */
		if (fresh || sent)
			break;
	}
	if (code < 0) {
		code = writer_codes[kind].unavailable;
		unavailable_text(kind, reply);
	}
	return code;
}

int
writer_submit(int spool_dirfd, enum submit_kind kind, const char *msgid_or_null,
              const char *article, size_t len, struct buffer *reply_text)
{
	return writer_submit_from(spool_dirfd, kind, msgid_or_null, NULL, article, len, reply_text);
}

int
writer_control_connect(int spool_dirfd)
{
	if (client_ctl_fd < 0)
		client_ctl_fd = connect_at(spool_dirfd, WRITER_CTL_SOCKET);
	return client_ctl_fd < 0 ? -1 : 0;
}

int
writer_control(int spool_dirfd, const char *command, struct buffer *reply)
{
	int code = -1, sent = 0;

	for (int attempt = 0; attempt < 2 && code < 0; attempt++) {
		int fresh = client_ctl_fd < 0;

		if (client_ctl_fd < 0 &&
		    (client_ctl_fd = connect_at(spool_dirfd, WRITER_CTL_SOCKET)) < 0)
			break;
		code = writer_exchange(client_ctl_fd, SUBMIT_CONTROL, NULL, command,
		                       strlen(command), reply, &sent);
		if (code >= 0)
			break;
		close(client_ctl_fd);
		client_ctl_fd = -1;
		if (fresh || sent)
			break;
	}
	if (code < 0) {
		code = writer_codes[SUBMIT_CONTROL].unavailable;
		unavailable_text(SUBMIT_CONTROL, reply);
	}
	return code;
}
