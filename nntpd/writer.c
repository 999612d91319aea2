/* writer: validation policy for posts and feeds (RFC 5537 injection and
 * relaying, as INN's nnrpd and innd do it), the socket loop, and the client
 * side of the protocol. */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "article.h"
#include "expire.h"
#include "feed.h"
#include "log.h"
#include "storeformat.h"
#include "vector.h"
#include "xmalloc.h"

#define MAX_CLIENTS 1024
#define MAX_HOST 255
#define MAX_REPLY 4096
#define FRAME_SLACK 65536 /* header room beyond max_article_size */
#define CLIENT_TIMEOUT 120

struct reply_codes {
	int ok, refused, unavailable;
};

static const struct reply_codes codes[] = {
    [SUBMIT_POST] = {240, 441, 440},
    [SUBMIT_IHAVE] = {235, 437, 436},
    [SUBMIT_TAKETHIS] = {239, 439, 436},
    [SUBMIT_CONTROL] = {200, 500, 400},
};

struct writer {
	struct spool *spool;
	char *pathhost;
	size_t max_size;
	const struct vector *feeds;
};

static const struct vector *feed_lines;

void
writer_set_feeds(const struct vector *feeds)
{
	feed_lines = feeds;
}

static const struct vector *expire_rules;
static unsigned long expire_remember_days = 10;

void
writer_set_expire(const struct vector *rules, unsigned long remember_days)
{
	expire_rules = rules;
	expire_remember_days = remember_days;
}

struct writer *
writer_new(struct spool *s, const struct writer_conf *conf)
{
	struct writer *w = xcalloc(1, sizeof(*w));

	w->spool = s;
	w->pathhost = xstrdup(conf->pathhost);
	w->max_size = conf->max_article_size ? conf->max_article_size : WRITER_DEFAULT_MAX_ARTICLE;
	w->feeds = feed_lines;
	return w;
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	free(w->pathhost);
	free(w);
}

static int
valid_kind(uint32_t k)
{
	return k >= SUBMIT_POST && k <= SUBMIT_CONTROL;
}

/* Check the groups an article names; refuse (-1, why) or fill wanted with
 * the groups to file it in. Posts need every group known and open to
 * posting; feeds keep the known ones (innd files what it carries). */
static int
check_groups(struct writer *w, enum submit_kind kind, const struct article *a,
             struct vector *wanted, struct buffer *why)
{
	struct vector names = VECTOR_INIT;
	int approved = article_find(a, "Approved") != NULL;

	vector_clear(wanted);
	article_newsgroups(a, &names);
	for (size_t i = 0; i < names.count; i++) {
		const char *name = names.strings[i];
		struct group *g = active_find(spool_active(w->spool), name);

		if (g == NULL) {
			if (kind == SUBMIT_POST) {
				buffer_printf(why, "Unknown newsgroup %s", name);
				break;
			}
			continue;
		}
		if (g->flag == 'n' && kind == SUBMIT_POST) {
			buffer_printf(why, "Posting to %s is not allowed", name);
			break;
		}
		if (g->flag == 'm' && !approved) {
			buffer_printf(why, "Moderated group %s: article needs an Approved header",
			              name);
			break;
		}
		vector_add(wanted, name);
	}
	if (why->len == 0 && wanted->count == 0)
		buffer_puts(why, "Unwanted newsgroups (none carried here)");
	vector_free(&names);
	return why->len ? -1 : 0;
}

static void
copy_header(struct buffer *out, const struct article_header *h)
{
	/* Raw bytes from the name to the end of the (folded) value. */
	buffer_append(out, h->name, (size_t)(h->value + h->value_len - h->name));
	buffer_puts(out, "\r\n");
}

/* New header block for a post (RFC 5537 3.5): Path first, the poster's
 * fields, then what the injecting agent adds. */
static void
build_post_headers(struct writer *w, const struct article *a, const char *msgid, const char *host,
                   time_t now, struct buffer *out)
{
	struct buffer v = BUFFER_INIT;

	buffer_printf(out, "Path: %s!.POSTED!", w->pathhost);
	if (article_value(a, "Path", &v) == 0 && v.len > 0)
		buffer_append(out, buffer_head(&v), v.len);
	else
		buffer_puts(out, "not-for-mail");
	buffer_puts(out, "\r\n");
	for (size_t i = 0; i < a->nheaders; i++)
		if (!(a->headers[i].name_len == 4 &&
		      strncasecmp(a->headers[i].name, "Path", 4) == 0))
			copy_header(out, &a->headers[i]);
	if (article_find(a, "Message-ID") == NULL)
		buffer_printf(out, "Message-ID: %s\r\n", msgid);
	if (article_find(a, "Date") == NULL) {
		buffer_puts(out, "Date: ");
		article_format_date(now, out);
		buffer_puts(out, "\r\n");
	}
	buffer_puts(out, "Injection-Date: ");
	article_format_date(now, out);
	buffer_puts(out, "\r\n");
	buffer_printf(out, "Injection-Info: %s", w->pathhost);
	if (host != NULL && *host != '\0')
		buffer_printf(out, "; posting-host=\"%s\"", host);
	buffer_puts(out, "\r\n");
	buffer_free(&v);
}

/* A relayed article: our name prepended to Path, any Xref dropped. */
static void
build_feed_headers(struct writer *w, const struct article *a, struct buffer *out)
{
	for (size_t i = 0; i < a->nheaders; i++) {
		const struct article_header *h = &a->headers[i];

		if (h->name_len == 4 && strncasecmp(h->name, "Xref", 4) == 0)
			continue;
		if (h->name_len == 4 && strncasecmp(h->name, "Path", 4) == 0) {
			struct buffer v = BUFFER_INIT;

			article_unfold(h->value, h->value_len, &v);
			buffer_printf(out, "Path: %s!%s\r\n", w->pathhost, buffer_cstr(&v));
			buffer_free(&v);
			continue;
		}
		copy_header(out, h);
	}
}

/* Host names from the session go into a quoted header parameter. */
static int
valid_host(const char *h)
{
	for (; *h != '\0'; h++)
		if ((unsigned char)*h <= 32 || *h == '"' || *h == '\\' || (unsigned char)*h >= 127)
			return 0;
	return 1;
}

static int
process_article(struct writer *w, enum submit_kind kind, const char *given_id, const char *host,
                const char *text, size_t len, struct buffer *reply)
{
	const struct reply_codes *c = &codes[kind];
	enum article_kind ak = kind == SUBMIT_POST ? ARTICLE_POST : ARTICLE_FEED;
	struct article a = {0};
	struct buffer why = BUFFER_INIT, msgid = BUFFER_INIT, hdr = BUFFER_INIT, xref = BUFFER_INIT;
	struct vector groups = VECTOR_INIT;
	time_t now = time(NULL);
	int code = c->refused, remember = ak == ARTICLE_FEED;

	if (given_id != NULL && *given_id != '\0')
		buffer_puts(&msgid, given_id);
	if (len > w->max_size) {
		buffer_printf(&why, "Article too large (%zu octets, limit %zu)", len, w->max_size);
		goto refuse;
	}
	if (memchr(text, '\0', len) != NULL) {
		buffer_puts(&why, "Article contains a NUL octet");
		goto refuse;
	}
	if (article_parse(&a, text, len, &why) < 0 || article_validate(&a, ak, now, &why) < 0)
		goto refuse;
	if (article_find(&a, "Message-ID") != NULL) {
		struct buffer v = BUFFER_INIT;

		article_value(&a, "Message-ID", &v);
		if (ak == ARTICLE_FEED && msgid.len > 0 &&
		    strcmp(buffer_cstr(&v), buffer_cstr(&msgid)) != 0) {
			buffer_puts(&why, "Message-ID header does not match the command's");
			buffer_free(&v);
			remember = 0;
			goto refuse;
		}
		buffer_clear(&msgid);
		buffer_append(&msgid, buffer_head(&v), v.len);
		buffer_free(&v);
	} else if (msgid.len == 0 || !article_valid_msgid(buffer_head(&msgid), msgid.len, 1)) {
		article_recommend_msgid(w->pathhost, &msgid);
	}
	buffer_cstr(&msgid);
	if (history_lookup(spool_history(w->spool), buffer_head(&msgid), NULL) != 0) {
		buffer_printf(&why, "Duplicate %s", buffer_head(&msgid));
		remember = 0;
		goto refuse;
	}
	if (ak == ARTICLE_FEED) {
		struct buffer path = BUFFER_INIT;

		article_value(&a, "Path", &path);
		if (article_path_has(buffer_cstr(&path), w->pathhost))
			buffer_printf(&why, "Path already holds %s (loop)", w->pathhost);
		buffer_free(&path);
		if (why.len)
			goto refuse;
	}
	if (check_groups(w, kind, &a, &groups, &why) < 0)
		goto refuse;
	if (kind == SUBMIT_POST)
		build_post_headers(w, &a, buffer_head(&msgid), host, now, &hdr);
	else
		build_feed_headers(w, &a, &hdr);
	if (spool_store(w->spool, buffer_head(&hdr), hdr.len, text + a.body_off, len - a.body_off,
	                &groups, buffer_head(&msgid), &xref) < 0) {
		log_msg(LOG_ERR, "writer: storing %s: %m", buffer_head(&msgid));
		code = kind == SUBMIT_POST ? c->refused : c->unavailable;
		buffer_puts(reply, "Posting failed: storage error, try again later");
		remember = 0;
		goto out;
	}
	code = c->ok;
	if (w->feeds != NULL && w->feeds->count > 0) {
		struct buffer path = BUFFER_INIT;

		/* A post's Path before injection names no peer. */
		if (kind != SUBMIT_POST)
			article_value(&a, "Path", &path);
		feed_enqueue(spool_dirfd(w->spool), w->feeds, buffer_cstr(&xref),
		             kind != SUBMIT_POST ? buffer_cstr(&path) : NULL, &groups,
		             buffer_head(&msgid));
		buffer_free(&path);
	}
	if (kind == SUBMIT_POST)
		buffer_printf(reply, "Article received %s", buffer_head(&msgid));
	else
		buffer_printf(reply, "%s", buffer_head(&msgid));
	log_msg(LOG_INFO, "writer: accepted %s %s", buffer_head(&msgid), buffer_cstr(&xref));
	goto out;
refuse:
	buffer_append(reply, buffer_head(&why), why.len);
	/* Feeds: remember refused IDs so a peer does not offer them again. */
	if (remember && msgid.len > 0 && article_valid_msgid(buffer_head(&msgid), msgid.len, 0))
		history_add(spool_history(w->spool), buffer_cstr(&msgid), now, NULL);
out:
	article_free(&a);
	buffer_free(&why);
	buffer_free(&msgid);
	buffer_free(&hdr);
	buffer_free(&xref);
	vector_free(&groups);
	return code;
}

/* Group commands from nntpctl. */
static int
process_control(struct writer *w, const char *cmd, size_t len, struct buffer *reply)
{
	struct vector f = VECTOR_INIT;
	char *line = xstrndup(cmd, len);
	int rc = -1;

	vector_split_space(&f, line, 4);
	if (f.count >= 1 && f.count <= 2 && strcmp(f.strings[0], "expire") == 0 &&
	    (f.count == 1 || strcmp(f.strings[1], "-n") == 0)) {
		/* Between requests: sessions keep reading meanwhile, posts wait. */
		rc = expire_run(w->spool, expire_rules, expire_remember_days, time(NULL),
		                f.count == 2, reply);
		free(line);
		vector_free(&f);
		return rc == 0 ? codes[SUBMIT_CONTROL].ok : codes[SUBMIT_CONTROL].refused;
	} else if (f.count >= 2 && strcmp(f.strings[0], "newgroup") == 0) {
		char flag = f.count >= 3 ? f.strings[2][0] : 'y';

		if (f.count >= 3 && f.strings[2][1] != '\0')
			flag = '?';
		rc = spool_newgroup(w->spool, f.strings[1], flag, f.count == 4 ? f.strings[3] : "",
		                    "nntpctl", reply);
	} else if (f.count == 2 && strcmp(f.strings[0], "rmgroup") == 0) {
		rc = spool_rmgroup(w->spool, f.strings[1], reply);
	} else if (f.count == 3 && strcmp(f.strings[0], "changegroup") == 0 &&
	           f.strings[2][1] == '\0') {
		rc = spool_changegroup(w->spool, f.strings[1], f.strings[2][0], reply);
	} else {
		buffer_puts(reply, "unknown or malformed command");
	}
	if (rc == 0)
		buffer_puts(reply, "done");
	free(line);
	vector_free(&f);
	return rc == 0 ? codes[SUBMIT_CONTROL].ok : codes[SUBMIT_CONTROL].refused;
}

int
writer_process(struct writer *w, enum submit_kind kind, const char *msgid_or_null,
               const char *client_host, const char *payload, size_t len, struct buffer *reply)
{
	buffer_clear(reply);
	if (kind == SUBMIT_CONTROL)
		return process_control(w, payload, len, reply);
	if (client_host != NULL && !valid_host(client_host))
		client_host = NULL;
	return process_article(w, kind, msgid_or_null, client_host, payload, len, reply);
}

/* The socket loop. */

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

static int
send_all(int fd, const void *p, size_t len)
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

static int
send_reply(int fd, int code, const struct buffer *text, size_t max)
{
	unsigned char h[8];
	size_t n = text->len > max ? max : text->len;
	struct buffer out = BUFFER_INIT;
	int rc;

	store_put32(h, (uint32_t)(4 + n));
	store_put32(h + 4, (uint32_t)code);
	buffer_append(&out, h, 8);
	buffer_append(&out, buffer_head(text), n);
	rc = send_all(fd, buffer_head(&out), out.len);
	buffer_free(&out);
	return rc;
}

/* Parse one complete request frame body; -1 when malformed. */
static int
parse_request(const unsigned char *p, size_t len, uint32_t *kind, char **msgid, char **host,
              const char **payload, size_t *plen)
{
	size_t off = 4;
	uint32_t n;

	if (len < 16)
		return -1;
	*kind = store_get32(p);
	n = store_get32(p + off);
	if (!valid_kind(*kind) || n > 250 || off + 4 + n + 4 > len)
		return -1;
	*msgid = xstrndup((const char *)p + off + 4, n);
	off += 4 + n;
	n = store_get32(p + off);
	if (n > MAX_HOST || off + 4 + n + 4 > len) {
		free(*msgid);
		return -1;
	}
	*host = xstrndup((const char *)p + off + 4, n);
	off += 4 + n;
	n = store_get32(p + off);
	if (off + 4 + (size_t)n != len || memchr(*msgid, '\0', strlen(*msgid)) ||
	    strlen(*msgid) != store_get32(p + 4)) {
		free(*msgid);
		free(*host);
		return -1;
	}
	*payload = (const char *)p + off + 4;
	*plen = n;
	return 0;
}

/* Handle the complete frames in c->in; -1 to drop the client. */
static int
client_input(struct writer *w, struct client *c)
{
	size_t limit = w->max_size + FRAME_SLACK;
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
			buffer_printf(&reply, "Article too large (limit %zu)", w->max_size);
			rc = send_reply(c->fd, codes[c->discard_kind].refused, &reply, MAX_REPLY);
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
			if (!valid_kind(kind))
				return -1;
			c->discard = (uint64_t)flen + 4;
			c->discard_kind = kind;
			continue;
		}
		if (c->in.len < 4 + (size_t)flen)
			break;
		if (parse_request(p + 4, flen, &kind, &msgid, &host, &payload, &plen) < 0) {
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
		rc = send_reply(c->fd, code, &reply, c->ctl ? WRITER_MAX_CTL_REPLY : MAX_REPLY);
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
			    (c->in.len > 0 && now - c->last > CLIENT_TIMEOUT))
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

/* Client side. */

static int client_fd = -1;
static int client_ctl_fd = -1;

static int
connect_at(int dirfd, const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {CLIENT_TIMEOUT, 0};
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

static int
recv_all(int fd, void *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(fd, (char *)p + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* One exchange on fd: 0 and the code, -1 when the connection failed
 * (*sent tells whether the whole request went out). */
static int
exchange(int fd, const struct buffer *req, int *code, struct buffer *reply, int *sent)
{
	unsigned char h[8];
	uint32_t len;

	*sent = 0;
	if (send_all(fd, buffer_head(req), req->len) < 0)
		return -1;
	*sent = 1;
	if (recv_all(fd, h, 8) < 0)
		return -1;
	len = store_get32(h);
	if (len < 4 || len > 4 + WRITER_MAX_CTL_REPLY)
		return -1;
	*code = (int)store_get32(h + 4);
	if (recv_all(fd, buffer_reserve(reply, len - 4), len - 4) < 0)
		return -1;
	buffer_commit(reply, len - 4);
	buffer_cstr(reply);
	return 0;
}

static void
put_field(struct buffer *b, const char *p, size_t n)
{
	unsigned char h[4];

	store_put32(h, (uint32_t)n);
	buffer_append(b, h, 4);
	buffer_append(b, p, n);
}

static int
submit(int dirfd, int *cached, const char *sock, enum submit_kind kind, const char *msgid,
       const char *host, const char *payload, size_t len, struct buffer *reply)
{
	struct buffer req = BUFFER_INIT;
	unsigned char h[8];
	int code = codes[kind].unavailable, sent = 0;

	buffer_clear(reply);
	if (msgid == NULL || strlen(msgid) > 250)
		msgid = "";
	if (host == NULL || strlen(host) > MAX_HOST)
		host = "";
	if (len > UINT32_MAX - 1024) {
		buffer_puts(reply, "Article too large");
		return codes[kind].refused;
	}
	store_put32(h, (uint32_t)(4 + 4 + strlen(msgid) + 4 + strlen(host) + 4 + len));
	store_put32(h + 4, kind);
	buffer_append(&req, h, 8);
	put_field(&req, msgid, strlen(msgid));
	put_field(&req, host, strlen(host));
	put_field(&req, payload, len);
	for (int attempt = 0; attempt < 2; attempt++) {
		int fresh = *cached < 0;

		if (*cached < 0 && (*cached = connect_at(dirfd, sock)) < 0)
			break;
		if (exchange(*cached, &req, &code, reply, &sent) == 0)
			break;
		close(*cached);
		*cached = -1;
		code = codes[kind].unavailable;
		buffer_clear(reply);
		/* Retry only a stale cached connection that failed before the
		 * request was fully sent (the writer restarted meanwhile). */
		if (fresh || sent)
			break;
	}
	if (code == codes[kind].unavailable && reply->len == 0)
		buffer_puts(reply, kind == SUBMIT_POST ? "Posting unavailable, try again later"
		                                       : "Writer unavailable, try again later");
	buffer_free(&req);
	return code;
}

int
writer_submit_from(int spool_dirfd, enum submit_kind kind, const char *msgid_or_null,
                   const char *client_host, const char *article, size_t len, struct buffer *reply)
{
	if (!valid_kind(kind) || kind == SUBMIT_CONTROL) {
		buffer_clear(reply);
		buffer_puts(reply, "bad request kind");
		return 500;
	}
	return submit(spool_dirfd, &client_fd, WRITER_SOCKET, kind, msgid_or_null, client_host,
	              article, len, reply);
}

int
writer_submit(int spool_dirfd, enum submit_kind kind, const char *msgid_or_null,
              const char *article, size_t len, struct buffer *reply_text)
{
	return writer_submit_from(spool_dirfd, kind, msgid_or_null, NULL, article, len, reply_text);
}

int
writer_control(int spool_dirfd, const char *command, struct buffer *reply_text)
{
	return submit(spool_dirfd, &client_ctl_fd, WRITER_CTL_SOCKET, SUBMIT_CONTROL, NULL, NULL,
	              command, strlen(command), reply_text);
}
