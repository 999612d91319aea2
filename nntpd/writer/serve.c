/* serve: the writer process's socket loop: writer.sock for articles,
 * ctl.sock for nntpctl, one request at a time per connection. */
#include "nntpd/writer/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/storeformat.h"
#include "nntpd/writer/proto.h"

#define MAX_CLIENTS 1024
#define MAX_REPLY 4096
#define FRAME_SLACK 65536 /* header room beyond max_article_size */

struct client {
	int fd;
	int ctl;
	struct buffer in;
	uint64_t discard; /* bytes of an oversized request still to skip */
	uint32_t discard_kind;
	time_t last;
};

static volatile sig_atomic_t writer_stop;

static void
on_signal(int sig)
{
	(void)sig;
	writer_stop = 1;
}

static int
listen_at(int dirfd, const char *name, mode_t mode)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || fchdir(dirfd) < 0)
		die("writer: socket: %m");
	unlink(name);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (rc == 0)
		rc = fchmodat(dirfd, name, mode, 0);
	if (rc == 0)
		rc = listen(fd, 128);
	if (cwd >= 0) {
		if (fchdir(cwd) < 0)
			log_msg(LOG_ERR, "writer: fchdir back: %m");
		close(cwd);
	}
	if (rc < 0)
		die("writer: %s: %m", name);
	return fd;
}

/* Handle the complete frames in c->in; -1 to drop the client. */
static int
client_input(struct writer *w, struct client *c)
{
	size_t limit = writer_max_size(w) + FRAME_SLACK;
	struct buffer reply = BUFFER_INIT;
	int rc = 0;

	while (rc == 0) {
		if (c->discard > 0) {
			size_t n = c->in.len < c->discard ? c->in.len : (size_t)c->discard;

			buffer_consume(&c->in, n);
			c->discard -= n;
			if (c->discard > 0)
				break;
			buffer_clear(&reply);
			buffer_printf(&reply, "Article too large (limit %zu)", writer_max_size(w));
			rc = wproto_send_reply(c->fd, writer_codes[c->discard_kind].refused, &reply,
			                       MAX_REPLY);
			continue;
		}
		if (c->in.len < 8)
			break;
		const unsigned char *p = (const unsigned char *)buffer_head(&c->in);
		uint32_t flen = store_get32(p), kind;
		char *msgid, *host;
		const char *payload;
		size_t plen;

		if (flen > limit) {
			kind = store_get32(p + 4);
			if (!wproto_valid_kind(kind))
				return -1;
			c->discard = (uint64_t)flen + 4;
			c->discard_kind = kind;
			continue;
		}
		if (c->in.len < 4 + (size_t)flen)
			break;
		if (wproto_parse_request(p + 4, flen, &kind, &msgid, &host, &payload, &plen) < 0) {
			log_msg(LOG_ERR, "writer: malformed request, dropping client");
			rc = -1;
			break;
		}
		/* SECURITY: group commands only on the 0600 control socket,
		 * articles only on the session socket. */
		if ((kind == SUBMIT_CONTROL) != c->ctl) {
			free(msgid);
			free(host);
			rc = -1;
			break;
		}
		int code = writer_process(w, (enum submit_kind)kind, *msgid ? msgid : NULL,
		                          *host ? host : NULL, payload, plen, &reply);

		free(msgid);
		free(host);
		buffer_consume(&c->in, 4 + (size_t)flen);
		rc = wproto_send_reply(c->fd, code, &reply,
		                       c->ctl ? WRITER_MAX_CTL_REPLY : MAX_REPLY);
	}
	buffer_free(&reply);
	return rc;
}

static int
peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return 0;
	/* SECURITY: root only. Sessions run as the writer's user and can
	 * reach this socket inside their chroot; group changes are for the
	 * administrator (nntpctl as root). */
	return cred.uid == 0;
}

static void
accept_clients(int lfd, int ctl, struct client *clients, size_t *count)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (*count == MAX_CLIENTS || (ctl && !peer_allowed(fd))) {
			close(fd);
			continue;
		}
		memset(&clients[*count], 0, sizeof(clients[*count]));
		clients[*count].fd = fd;
		clients[*count].ctl = ctl;
		clients[*count].last = time(NULL);
		(*count)++;
	}
}

static void
drop_client(struct client *clients, size_t *count, size_t i)
{
	close(clients[i].fd);
	buffer_free(&clients[i].in);
	clients[i] = clients[--*count];
}

static void
serve(struct writer *w, int lfd, int cfd)
{
	struct client *clients = xcalloc(MAX_CLIENTS, sizeof(*clients));
	struct pollfd *pfds = xcalloc(MAX_CLIENTS + 2, sizeof(*pfds));
	size_t count = 0;

	while (!writer_stop) {
		time_t now = time(NULL);

		pfds[0] = (struct pollfd){lfd, POLLIN, 0};
		pfds[1] = (struct pollfd){cfd, POLLIN, 0};
		for (size_t i = 0; i < count; i++)
			pfds[i + 2] = (struct pollfd){clients[i].fd, POLLIN, 0};
		if (poll(pfds, count + 2, 1000) < 0) {
			if (errno == EINTR)
				continue;
			die("writer: poll: %m");
		}
		for (size_t i = count; i-- > 0;) {
			struct client *c = &clients[i];
			ssize_t n = 0;

			if (pfds[i + 2].revents != 0) {
				n = read(c->fd, buffer_reserve(&c->in, 65536), 65536);
				if (n > 0) {
					buffer_commit(&c->in, (size_t)n);
					c->last = now;
				}
			}
			if ((pfds[i + 2].revents != 0 && n <= 0 && !(n < 0 && errno == EAGAIN)) ||
			    (n > 0 && client_input(w, c) < 0) ||
			    (c->in.len > 0 && now - c->last > WRITER_CLIENT_TIMEOUT))
				drop_client(clients, &count, i);
		}
		if (pfds[0].revents & POLLIN)
			accept_clients(lfd, 0, clients, &count);
		if (pfds[1].revents & POLLIN)
			accept_clients(cfd, 1, clients, &count);
	}
	while (count > 0)
		drop_client(clients, &count, count - 1);
	free(clients);
	free(pfds);
}

int
writer_main(const char *spool_dir, const struct writer_conf *conf)
{
	struct sigaction sa = {0};
	struct spool *s;
	struct writer *w;
	int lfd, cfd;

	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	s = spool_open(spool_dir, conf->pathhost, 1);
	if (s == NULL) {
		log_msg(LOG_ERR, "writer: %s: %s%s", spool_dir, strerror(errno),
		        errno == EWOULDBLOCK ? " (another writer or nntpctl holds the lock)" : "");
		return 1;
	}
	w = writer_new(s, conf);
	lfd = listen_at(spool_dirfd(s), WRITER_SOCKET, 0666);
	cfd = listen_at(spool_dirfd(s), WRITER_CTL_SOCKET, 0600);
	log_msg(LOG_INFO, "writer: ready on %s", spool_dir);
	serve(w, lfd, cfd);
	unlinkat(spool_dirfd(s), WRITER_SOCKET, 0);
	unlinkat(spool_dirfd(s), WRITER_CTL_SOCKET, 0);
	close(lfd);
	close(cfd);
	writer_free(w);
	spool_close(s);
	log_msg(LOG_INFO, "writer: stopped");
	return 0;
}
