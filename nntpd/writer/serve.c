/* serve: the writer process's socket loop: writer.sock for articles,
 * taken in batches across connections (group commit), ctl.sock for
 * nntpctl, who may give a connection its rights, and the listener's
 * channel (reloads). */
#include "nntpd/writer/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/metrics.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/article.h"
#include "nntpd/store/storeformat.h"
#include "nntpd/writer/control.h"
#include "nntpd/writer/filter.h"
#include "nntpd/writer/proto.h"

#define MAX_REPLY 4096
#define FRAME_SLACK 65536 /* header room beyond max_article_size */

struct client {
	int fd;
	int ctl;
	int trusted;     /* connected by root (a monitor): may set rights */
	int has_rights;  /* its first frame set rights */
	unsigned frames; /* requests answered */
	struct writer_rights rights;
	struct buffer in;
	uint64_t discard; /* bytes of an oversized request still to skip */
	uint32_t discard_kind;
	time_t last;
	/* This batch's replies, sent after its commit; held[i]: the kind of
	 * reply i when it accepted an article the commit must make durable,
	 * else 0. */
	struct buffer out;
	uint32_t *held;
	size_t nheld, capheld;
	int taken;   /* frames taken in this batch */
	int dead;    /* drop after this batch */
	int waiting; /* (ctl) its answer comes when control_work is done */
};

/* Per batch: at most BATCH_PER_CLIENT frames of one connection, taken
 * round-robin, so a feed with many in flight cannot starve posters. */
#define BATCH_PER_CLIENT 64
/* While a peer's IHAVE or TAKETHIS waits, posts take at most this many
 * places in a batch: a batch is the writer's turn, and the feed's
 * articles in flight come back only once it ends, so every post in it
 * slows the feed; posts still go in every batch. */
#define POSTS_BESIDE_FEEDS 4
#define READ_PER_ROUND (1u << 20) /* bytes read from one connection per poll */

/* The connections, in growable arrays (pfds: the two listeners and the
 * listener's channel first). */
#define FIXED_FDS 3
struct clients {
	struct client *c;
	struct pollfd *pfds;
	size_t count, cap;
};

static volatile sig_atomic_t writer_stop;

#define RELOAD_WAIT_MS 30000 /* for the listener's answer to a reload */

/* The channel to the listener and what came over it. */
static int chan_fd = -1;
static struct writer *the_writer;
static struct writer_settings live_settings;
static unsigned long live_gen; /* 0: the configuration it started with */
static time_t live_since;
static struct buffer last_reload = BUFFER_INIT;

void
writer_set_channel(int fd)
{
	chan_fd = fd;
}

/* A message from the listener: a configuration is taken (0, what it is
 * in reply), a refusal reported (-1, why in reply). */
static int
chan_message(const char *msg, size_t len, struct buffer *reply)
{
	struct writer_settings next;
	struct buffer why = BUFFER_INIT;
	unsigned long gen = 0;
	int kind = wchan_parse(msg, len, &gen, &next, &why), rc = -1;

	buffer_clear(&last_reload);
	if (kind == 1) {
		wchan_settings_free(&live_settings);
		live_settings = next;
		writer_reconfigure(the_writer, &live_settings);
		live_gen = gen;
		live_since = time(NULL);
		buffer_printf(&last_reload, "configuration %lu taken", gen);
		buffer_printf(reply, "reloaded: configuration %lu\n", gen);
		writer_describe(the_writer, reply);
		log_msg(LOG_INFO,
		        "writer: configuration %lu taken: %zu feed(s), %zu expire rule(s)", gen,
		        live_settings.feed.count, live_settings.expire.count);
		rc = 0;
	} else if (kind == 0) {
		buffer_printf(&last_reload, "configuration %lu refused", gen);
		buffer_printf(reply, "reload refused; the running configuration stays:\n%s",
		              buffer_cstr(&why));
		log_msg(LOG_ERR, "writer: reload refused; keeping the running configuration");
	} else {
		buffer_puts(reply, "malformed answer from the listener");
		log_msg(LOG_ERR, "writer: malformed message on the listener's channel");
	}
	buffer_free(&why);
	return rc;
}

/* The filter the listener started, or none (writer/chan.h). */
static void
chan_filter(const char *msg, size_t len, int *fds, size_t nfd)
{
	unsigned long gen;

	if (wchan_parse_numbered(msg, len, WCHAN_FILTER, &gen) < 0 || nfd == 1) {
		log_msg(LOG_ERR, "writer: malformed filter message on the listener's channel");
		while (nfd > 0)
			close(fds[--nfd]);
		return;
	}
	filter_adopt(gen, nfd == 2 ? fds[0] : -1, nfd == 2 ? fds[1] : -1);
}

/* Ask the listener to kill filter gen (it cannot see our close when it
 * hangs); it starts the next one. */
static void
filter_kill_request(unsigned long gen)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), WCHAN_FILTER_KILL "%lu\n", gen);

	if (chan_fd < 0 || wchan_send(chan_fd, msg, (size_t)n, NULL, 0) < 0)
		log_msg(LOG_ERR, "writer: cannot ask the listener to restart the filter");
}

void
writer_set_filter(int configured, unsigned long timeout, int closed)
{
	filter_expect(configured);
	filter_policy(timeout, closed);
	filter_set_killer(filter_kill_request);
}

/* Read one message from the channel into reply's outcome; -1 when none
 * could be read (the channel is closed when the listener is gone), 1 for a
 * filter message (no outcome). */
static int
chan_read(struct buffer *reply)
{
	char *msg = xmalloc(WCHAN_MAX);
	int fds[2];
	size_t nfd;
	ssize_t n = wchan_recv(chan_fd, msg, WCHAN_MAX, fds, &nfd);
	int rc;

	if (n <= 0) {
		/* A message cut short (EMSGSIZE) is dropped; the channel stays. */
		if (n == 0 || (errno != EAGAIN && errno != EINTR && errno != EMSGSIZE)) {
			close(chan_fd);
			chan_fd = -1;
		}
		while (nfd > 0)
			close(fds[--nfd]);
		free(msg);
		buffer_puts(reply, "no answer from the listener");
		return -1;
	}
	if ((size_t)n >= strlen(WCHAN_FILTER) &&
	    memcmp(msg, WCHAN_FILTER, strlen(WCHAN_FILTER)) == 0) {
		chan_filter(msg, (size_t)n, fds, nfd);
		free(msg);
		return 1;
	}
	/* SECURITY: descriptors come only with a filter message. */
	while (nfd > 0)
		close(fds[--nfd]);
	rc = chan_message(msg, (size_t)n, reply);
	free(msg);
	return rc;
}

static int
live_reload(struct buffer *reply)
{
	struct pollfd pfd;

	if (chan_fd < 0) {
		buffer_puts(reply,
		            "no listener to reload from: this writer was not started by nntpd");
		return -1;
	}
	if (send(chan_fd, WCHAN_RELOAD, strlen(WCHAN_RELOAD), MSG_NOSIGNAL) < 0) {
		buffer_printf(reply, "cannot reach the listener: %s", strerror(errno));
		return -1;
	}
	/* The listener answers at once (it re-reads one file); requests
	 * wait meanwhile, as they wait on a rebuild. A filter it restarts
	 * may come first. */
	for (int tries = 0; tries < 8; tries++) {
		int rc;

		pfd = (struct pollfd){chan_fd, POLLIN, 0};
		while (poll(&pfd, 1, RELOAD_WAIT_MS) < 0 && errno == EINTR)
			;
		if (!(pfd.revents & POLLIN))
			break;
		if ((rc = chan_read(reply)) != 1)
			return rc;
		if (chan_fd < 0)
			break;
	}
	buffer_puts(reply, "the listener did not answer the reload");
	return -1;
}

static void
live_status(struct buffer *out)
{
	if (live_gen == 0) {
		buffer_puts(out, "configuration: as started\n");
	} else {
		buffer_printf(out, "configuration: %lu, taken ", live_gen);
		article_format_date(live_since, out);
		buffer_puts(out, "\n");
	}
	if (last_reload.len > 0)
		buffer_printf(out, "last reload: %s\n", buffer_cstr(&last_reload));
	writer_describe(the_writer, out);
}

static const struct control_live live_ops = {live_reload, live_status};

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

/* A SUBMIT_RIGHTS frame: the code, the reason in reply. */
static int
set_rights(struct client *c, const char *host, const char *payload, size_t plen,
           struct buffer *reply)
{
	const struct writer_reply_codes *k = &writer_codes[SUBMIT_RIGHTS];

	/* SECURITY: rights come only from root (the session's monitor, which
	 * connected; SO_PEERCRED names the connector, so this holds after it
	 * handed the socket to its worker), only as the first frame and only
	 * once: a worker cannot raise or replace what its monitor granted. */
	if (!c->trusted) {
		buffer_puts(reply, "Rights only from a session's monitor");
		return k->refused;
	}
	if (c->frames > 0 || c->has_rights) {
		buffer_puts(reply, "Rights already settled on this connection");
		return k->refused;
	}
	if (wproto_parse_rights(payload, plen, host, &c->rights) < 0) {
		buffer_puts(reply, "Malformed rights");
		return k->refused;
	}
	c->has_rights = 1;
	buffer_printf(reply, "Rights set%s%s%s", c->rights.may_post ? " post" : "",
	              c->rights.may_feed ? " feed" : "", c->rights.may_approve ? " approve" : "");
	return k->ok;
}

/* One request on writer.sock: the code, its text in reply. */
static int
client_request(struct writer *w, struct client *c, uint32_t kind, const char *msgid,
               const char *host, const char *payload, size_t plen, struct buffer *reply)
{
	buffer_clear(reply);
	if (kind == SUBMIT_RIGHTS) {
		int code = set_rights(c, host, payload, plen, reply);

		if (code != writer_codes[SUBMIT_RIGHTS].ok)
			log_msg(LOG_NOTICE, "writer: rights frame refused: %s", buffer_cstr(reply));
		return code;
	}
	/* SECURITY: no rights, no submission; the frame's host is ignored
	 * (the posting host is the one the monitor put in the rights). */
	if (!c->has_rights) {
		log_msg(LOG_NOTICE, "writer: submission on a connection without rights refused");
		buffer_puts(reply,
		            "No rights on this connection: submissions go through a session");
		return writer_codes[kind].refused;
	}
	return writer_process_as(w, (enum submit_kind)kind, *msgid ? msgid : NULL, &c->rights,
	                         payload, plen, reply);
}

/* Queue one reply frame for c (held: the kind, when it waits on the
 * commit). */
static void
queue_reply(struct client *c, int code, const struct buffer *text, size_t max, uint32_t held)
{
	unsigned char h[8];
	size_t n = text->len > max ? max : text->len;

	store_put32(h, (uint32_t)(4 + n));
	store_put32(h + 4, (uint32_t)code);
	buffer_append(&c->out, h, 8);
	buffer_append(&c->out, buffer_head(text), n);
	if (c->nheld == c->capheld) {
		c->capheld = c->capheld ? 2 * c->capheld : 16;
		c->held = xrealloc(c->held, c->capheld * sizeof(*c->held));
	}
	c->held[c->nheld++] = held;
}

/* The batch's commit failed: every reply that accepted an article says
 * "try later" instead (the article may or may not be stored; a peer's
 * re-offer finds out). */
static void
replies_failed(struct client *c)
{
	struct buffer out = BUFFER_INIT, why = BUFFER_INIT;
	const unsigned char *p = (const unsigned char *)buffer_head(&c->out);
	size_t off = 0;

	buffer_puts(&why, "Storage error, try again later");
	for (size_t i = 0; i < c->nheld; i++) {
		size_t flen = 4 + store_get32(p + off);

		if (c->held[i] == 0) {
			buffer_append(&out, p + off, flen);
		} else {
			unsigned char h[8];

			store_put32(h, (uint32_t)(4 + why.len));
			store_put32(h + 4, (uint32_t)writer_codes[c->held[i]].unavailable);
			buffer_append(&out, h, 8);
			buffer_append(&out, buffer_head(&why), why.len);
		}
		off += flen;
	}
	buffer_free(&c->out);
	c->out = out;
	buffer_free(&why);
}

/* Take the next complete frame of c into the batch: 1 taken (its reply
 * queued), 0 none complete, -1 to drop the client. */
static int
client_frame(struct writer *w, struct client *c)
{
	size_t limit = writer_max_size(w) + FRAME_SLACK;
	struct buffer reply = BUFFER_INIT;
	const unsigned char *p;
	uint32_t flen, kind;
	char *msgid, *host;
	const char *payload;
	size_t plen, before;
	int code;

	for (;;) {
		if (c->discard > 0) {
			size_t n = c->in.len < c->discard ? c->in.len : (size_t)c->discard;

			buffer_consume(&c->in, n);
			c->discard -= n;
			if (c->discard > 0)
				return 0;
			buffer_printf(&reply, "Article too large (limit %zu)", writer_max_size(w));
			queue_reply(c, writer_codes[c->discard_kind].refused, &reply, MAX_REPLY, 0);
			buffer_free(&reply);
			return 1;
		}
		if (c->in.len < 8)
			return 0;
		p = (const unsigned char *)buffer_head(&c->in);
		flen = store_get32(p);
		if (flen <= limit)
			break;
		kind = store_get32(p + 4);
		if (!wproto_valid_kind(kind))
			return -1;
		c->discard = (uint64_t)flen + 4;
		c->discard_kind = kind;
	}
	if (c->in.len < 4 + (size_t)flen)
		return 0;
	if (wproto_parse_request(p + 4, flen, &kind, &msgid, &host, &payload, &plen) < 0) {
		log_msg(LOG_ERR, "writer: malformed request, dropping client");
		return -1;
	}
	/* SECURITY: group commands only on the 0600 control socket,
	 * articles only on the session socket. */
	if ((kind == SUBMIT_CONTROL) != c->ctl) {
		free(msgid);
		free(host);
		return -1;
	}
	before = writer_batch_pending(w);
	code = c->ctl ? writer_process(w, SUBMIT_CONTROL, NULL, NULL, payload, plen, &reply)
	              : client_request(w, c, kind, msgid, host, payload, plen, &reply);
	free(msgid);
	free(host);
	buffer_consume(&c->in, 4 + (size_t)flen);
	c->frames++;
	if (c->ctl && code == 0)
		c->waiting = 1;
	else
		queue_reply(c, code, &reply, c->ctl ? WRITER_MAX_CTL_REPLY : MAX_REPLY,
		            !c->ctl && writer_batch_pending(w) > before ? kind : 0);
	buffer_free(&reply);
	/* A connection without rights has no use after its refusal. */
	if (!c->ctl && !c->has_rights)
		c->dead = 1;
	return 1;
}

/* Send c's batch replies in one write; -1 when the client is gone. */
static int
client_flush(struct client *c)
{
	int rc = c->out.len ? wproto_send_all(c->fd, buffer_head(&c->out), c->out.len) : 0;

	buffer_clear(&c->out);
	c->nheld = 0;
	c->taken = 0;
	return rc;
}

/* One batch: the complete frames of every client, round-robin, at most
 * BATCH_PER_CLIENT each and SPOOL_BATCH_MAX articles in all; committed
 * with as few syncs as the spool needs, then every reply sent. Then one
 * control request per ctl.sock connection, outside the batch (its
 * commands act on the spool at once). Returns whether complete frames
 * are left for the next batch. */
/* The kind of c's next frame (0: none has begun, or the rest of an
 * oversized one is being skipped). */
static uint32_t
next_kind(const struct client *c)
{
	if (c->discard > 0 || c->in.len < 8)
		return 0;
	return store_get32((const unsigned char *)buffer_head(&c->in) + 4);
}

static int
run_batch(struct writer *w, struct clients *cs)
{
	int more = 0, took, feeding = 0, posts = 0;

	for (size_t i = 0; i < cs->count && !feeding; i++) {
		uint32_t kind = next_kind(&cs->c[i]);

		feeding = !cs->c[i].ctl && (kind == SUBMIT_IHAVE || kind == SUBMIT_TAKETHIS);
	}
	writer_batch_begin(w);
	do {
		took = 0;
		for (size_t i = 0; i < cs->count; i++) {
			struct client *c = &cs->c[i];
			int post = next_kind(c) == SUBMIT_POST, rc;

			if (c->dead || c->taken >= BATCH_PER_CLIENT ||
			    writer_batch_pending(w) >= SPOOL_BATCH_MAX)
				continue;
			if (c->ctl || (post && feeding && posts >= POSTS_BESIDE_FEEDS))
				continue;
			if ((rc = client_frame(w, c)) < 0)
				c->dead = 1;
			if (rc > 0) {
				c->taken++;
				posts += post;
				took = 1;
			}
		}
	} while (took && writer_batch_pending(w) < SPOOL_BATCH_MAX);
	if (writer_batch_end(w) < 0) {
		log_msg(LOG_ERR, "writer: batch commit failed; its articles get \"try later\"");
		for (size_t i = 0; i < cs->count; i++)
			replies_failed(&cs->c[i]);
	}
	for (size_t i = cs->count; i-- > 0;) {
		struct client *c = &cs->c[i];

		/* Control requests outside any batch, one per connection. */
		if (c->ctl && !c->dead && !c->waiting && client_frame(w, c) < 0)
			c->dead = 1;
		if (client_flush(c) < 0)
			c->dead = 1;
		if (!c->dead && c->in.len >= 8 && c->discard == 0 &&
		    (store_get32((const unsigned char *)buffer_head(&c->in)) >
		         writer_max_size(w) + FRAME_SLACK ||
		     c->in.len >=
		         4 + (size_t)store_get32((const unsigned char *)buffer_head(&c->in))))
			more = 1;
	}
	return more;
}

/* Whether the connector of fd may set rights (writer.sock) or send group
 * commands (ctl.sock). */
static int
peer_trusted(int fd, int ctl)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return 0;
	/* SECURITY: root only. Sessions run as the writer's user and can
	 * reach these sockets inside their chroot; group changes are for the
	 * administrator (nntpctl as root), rights for the monitors (root). */
	if (cred.uid == 0)
		return 1;
	/* A daemon started by an ordinary user runs every process as that
	 * user (no uid change, no chroot: nothing to separate), so its
	 * monitors connect as that user. AT_EUID is the uid the program was
	 * started as, unchanged by the sandbox's later setresuid. */
	return !ctl && getauxval(AT_EUID) != 0 && cred.uid == (uid_t)getauxval(AT_EUID);
}

static void
drop_client(struct clients *cs, size_t i)
{
	close(cs->c[i].fd);
	buffer_free(&cs->c[i].in);
	buffer_free(&cs->c[i].out);
	free(cs->c[i].held);
	wproto_rights_free(&cs->c[i].rights);
	cs->c[i] = cs->c[--cs->count];
}

/* Out of descriptors: close the connection idle longest with no request
 * pending (its session gets a fresh one from its monitor when it next
 * submits), so a full table slows one session, never blocks posting. */
static int
evict_idle(struct clients *cs)
{
	size_t best = cs->count;

	for (size_t i = 0; i < cs->count; i++) {
		const struct client *c = &cs->c[i];

		if (c->in.len > 0 || c->discard > 0 || c->ctl)
			continue;
		if (best == cs->count || c->has_rights < cs->c[best].has_rights ||
		    (c->has_rights == cs->c[best].has_rights && c->last < cs->c[best].last))
			best = i;
	}
	if (best == cs->count)
		return -1;
	log_msg(LOG_NOTICE, "writer: out of descriptors; closing the longest idle connection");
	drop_client(cs, best);
	return 0;
}

static void
accept_clients(int lfd, int ctl, struct clients *cs)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c;

		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && evict_idle(cs) == 0)
			continue;
		if (fd < 0)
			return;
		if (ctl && !peer_trusted(fd, 1)) {
			close(fd);
			continue;
		}
		if (cs->count == cs->cap) {
			cs->cap = cs->cap ? cs->cap * 2 : 64;
			cs->c = xrealloc(cs->c, cs->cap * sizeof(*cs->c));
			cs->pfds = xrealloc(cs->pfds, (cs->cap + FIXED_FDS) * sizeof(*cs->pfds));
		}
		c = &cs->c[cs->count++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->ctl = ctl;
		c->trusted = !ctl && peer_trusted(fd, 0);
		c->last = time(NULL);
	}
}

/* Whether c has waited too long: a request half sent or no rights yet
 * (a monitor sends them at once) after WRITER_CLIENT_TIMEOUT, an idle
 * connection after WRITER_IDLE_TIMEOUT. */
static int
timed_out(const struct client *c, time_t now)
{
	if (c->waiting)
		return 0;
	if (c->in.len > 0 || c->discard > 0 || (!c->ctl && !c->has_rights))
		return now - c->last > WRITER_CLIENT_TIMEOUT;
	return now - c->last > WRITER_IDLE_TIMEOUT;
}

/* Between batches, one slice of started control work (an expire):
 * short, so no submission waits long behind it; when it is done, the
 * answer to whoever asked. */
#define CONTROL_SLICE 0.01 /* seconds */
static void
control_slice(struct clients *cs)
{
	struct buffer reply = BUFFER_INIT;
	int code = control_work(CONTROL_SLICE, &reply);

	for (size_t i = 0; code != 0 && i < cs->count; i++) {
		struct client *c = &cs->c[i];

		if (!c->waiting)
			continue;
		c->waiting = 0;
		queue_reply(c, code, &reply, WRITER_MAX_CTL_REPLY, 0);
		if (client_flush(c) < 0)
			c->dead = 1;
	}
	buffer_free(&reply);
}

static void
serve(struct writer *w, int lfd, int cfd)
{
	struct clients cs = {0};
	int more = 0;

	cs.pfds = xcalloc(FIXED_FDS, sizeof(*cs.pfds));
	while (!writer_stop) {
		time_t now = time(NULL);

		cs.pfds[0] = (struct pollfd){lfd, POLLIN, 0};
		cs.pfds[1] = (struct pollfd){cfd, POLLIN, 0};
		/* The listener's channel (-1 is skipped by poll): a
		 * configuration it sends after a SIGHUP. */
		cs.pfds[2] = (struct pollfd){chan_fd, POLLIN, 0};
		for (size_t i = 0; i < cs.count; i++)
			cs.pfds[i + FIXED_FDS] = (struct pollfd){cs.c[i].fd, POLLIN, 0};
		/* Its counts leave together (metrics_report_hold), by the
		 * time they fall due even while the writer is idle. */
		if (poll(cs.pfds, cs.count + FIXED_FDS,
		         metrics_report_due(more || control_busy() ? 0 : 1000)) < 0) {
			if (errno == EINTR)
				continue;
			die("writer: poll: %m");
		}
		/* Everything waiting first, so the batch holds it all. */
		for (size_t i = 0; i < cs.count; i++) {
			struct client *c = &cs.c[i];
			size_t got = 0;
			ssize_t n = 0;

			if (cs.pfds[i + FIXED_FDS].revents == 0)
				continue;
			while (got < READ_PER_ROUND) {
				n = read(c->fd, buffer_reserve(&c->in, 65536), 65536);
				if (n <= 0)
					break;
				buffer_commit(&c->in, (size_t)n);
				got += (size_t)n;
				c->last = now;
			}
			if (got == 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
				c->dead = 1;
		}
		more = run_batch(w, &cs);
		if (control_busy())
			control_slice(&cs);
		for (size_t i = cs.count; i-- > 0;)
			if (cs.c[i].dead || timed_out(&cs.c[i], now))
				drop_client(&cs, i);
		if (cs.pfds[2].revents != 0 && chan_fd >= 0) {
			struct buffer outcome = BUFFER_INIT;

			chan_read(&outcome);
			buffer_free(&outcome);
		}
		if (cs.pfds[0].revents & POLLIN)
			accept_clients(lfd, 0, &cs);
		if (cs.pfds[1].revents & POLLIN)
			accept_clients(cfd, 1, &cs);
	}
	while (cs.count > 0)
		drop_client(&cs, cs.count - 1);
	free(cs.c);
	free(cs.pfds);
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
	the_writer = w;
	control_set_live(&live_ops);
	control_restore_pause(s);
	lfd = listen_at(spool_dirfd(s), WRITER_SOCKET, 0666);
	cfd = listen_at(spool_dirfd(s), WRITER_CTL_SOCKET, 0600);
	log_msg(LOG_INFO, "writer: ready on %s", spool_dir);
	/* Three records a batch: held, not one write each. */
	metrics_report_hold(METRIC_HOLD_MS);
	serve(w, lfd, cfd);
	metrics_report_flush();
	unlinkat(spool_dirfd(s), WRITER_SOCKET, 0);
	unlinkat(spool_dirfd(s), WRITER_CTL_SOCKET, 0);
	close(lfd);
	close(cfd);
	control_set_live(NULL);
	the_writer = NULL;
	writer_free(w);
	wchan_settings_free(&live_settings);
	buffer_free(&last_reload);
	spool_close(s);
	log_msg(LOG_INFO, "writer: stopped");
	return 0;
}
