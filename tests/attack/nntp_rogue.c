/* nntp_rogue: a compromised NNTP session worker. It links the real monitor
 * and the real sandbox, and replaces only nntp_worker (nntpd/session/
 * worker.c): the monitor forks it as it would fork the worker, it enters
 * the same sandbox (uid, chroot, capabilities, seccomp filter), and then,
 * instead of serving a client, it sends the writer (running in the nntpd
 * the test started on the same spool) what a worker taken over by an
 * attacker would: on the connection its monitor made, and on connections
 * it makes itself. Frames are built here byte by byte, as the framing
 * comment in nntpd/writer/proto.h describes them. One line per attempt
 * goes to stdout ("NAME <message-id>: CODE text"); tests/sec_nntp_writer.bats
 * reads them and then looks for the articles from a normal client.
 *
 *   nntp_rogue TAG SPOOL [-f nntpd.conf] [-o key=value]...
 *   TAG makes the Message-IDs <NAME.TAG@rogue.invalid> unique; SPOOL is
 *   spool_dir again (the Makefile links libftp before libnntp, so this
 *   file names neither opt nor monitor_prepare: both daemons define them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/log.h"
#include "common/priv/daemon.h"
#include "common/priv/privsep.h"
#include "common/priv/sandbox.h"
#include "nntpd/options.h"
#include "nntpd/session.h"
#include "nntpd/writer/proto.h"
#include "tests/attack/rogue.h"

static const char *tag, *spool_dir;

static void
put32(struct buffer *b, uint32_t v)
{
	unsigned char h[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};

	buffer_append(b, h, 4);
}

static uint32_t
get32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
field(struct buffer *b, const char *p, size_t n)
{
	put32(b, (uint32_t)n);
	buffer_append(b, p, n);
}

/* One request frame on fd; prints "name id: code text" (or "closed"). */
static int
attempt(int fd, const char *name, const char *id, uint32_t kind, const char *host,
        const char *payload, size_t plen)
{
	struct buffer f = BUFFER_INIT;
	unsigned char h[8];
	char text[512];
	uint32_t len;
	int code = -1;

	put32(&f, (uint32_t)(4 + 4 + strlen(id) + 4 + strlen(host) + 4 + plen));
	put32(&f, kind);
	field(&f, id, strlen(id));
	field(&f, host, strlen(host));
	field(&f, payload, plen);
	if (fd >= 0 && send(fd, buffer_head(&f), f.len, MSG_NOSIGNAL) == (ssize_t)f.len &&
	    recv(fd, h, 8, MSG_WAITALL) == 8) {
		len = get32(h);
		code = (int)get32(h + 4);
		len = len - 4 < sizeof(text) - 1 ? len - 4 : sizeof(text) - 1;
		ssize_t n = recv(fd, text, len, MSG_WAITALL);

		text[n > 0 ? n : 0] = '\0';
		say("%s %s: %d %s", name, id, code, text);
	} else {
		say("%s %s: closed", name, id);
	}
	buffer_free(&f);
	return code;
}

static char *
msgid(const char *name)
{
	static char id[128];

	snprintf(id, sizeof(id), "<%s.%s@rogue.invalid>", name, tag);
	return id;
}

/* A valid article to group with Message-ID id and the extra header line
 * extra (or ""), in buf: a writer that did not check rights would take it,
 * as a post or as a feed. */
static size_t
article(char *buf, size_t cap, const char *group, const char *id, const char *extra)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
	n = snprintf(buf, cap,
	             "From: Rogue <rogue@rogue.invalid>\r\nNewsgroups: %s\r\n"
	             "Subject: injected\r\nDate: %s\r\nMessage-ID: %s\r\n"
	             "Path: peer.invalid!not-for-mail\r\n%s\r\nInjected.\r\n",
	             group, date, id, extra);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void
submit_with(int fd, const char *name, uint32_t kind, const char *group, const char *host,
            const char *extra)
{
	char art[1024], *id = msgid(name);
	size_t n = article(art, sizeof(art), group, id, extra);

	attempt(fd, name, id, kind, host, art, n);
}

static void
submit(int fd, const char *name, uint32_t kind, const char *group, const char *host)
{
	submit_with(fd, name, kind, group, host, "");
}

/* A rights frame claiming everything: post and feed anywhere. */
static void
claim_rights(int fd, const char *name)
{
	struct buffer p = BUFFER_INIT;

	put32(&p, WRITER_MAY_POST | WRITER_MAY_FEED);
	field(&p, "*", 1);
	field(&p, "", 0);
	attempt(fd, name, "", SUBMIT_RIGHTS, "forged.example", buffer_head(&p), p.len);
	buffer_free(&p);
}

static int
writer_from_monitor(int mon)
{
	struct ps_msg m;

	if (ps_send(mon, PS_WRITER, NULL, 0, -1) < 0 || ps_recv(mon, &m) < 0) {
		say("monitor: channel closed");
		return -1;
	}
	say("monitor: %s%s", m.type == PS_OK ? "answered" : "refused",
	    m.fd >= 0 ? " with a descriptor" : "");
	return m.fd;
}

static int
own_connection(int spoolfd)
{
	int fd = writer_connect(spoolfd);

	if (fd < 0)
		say("own connection: %s", strerror(errno));
	return fd;
}

void
nntp_worker(struct nntp_session *s, int mon, struct sandbox_id *id)
{
	int status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	int spoolfd = open(spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;

	(void)s;
	sandbox_worker(id, SB_NNTP_SESSION, mon);
	show_sandbox(status_fd, "worker");
	/* On the connection the monitor made, with a reader's rights. */
	fd = writer_from_monitor(mon);
	submit(fd, "ihave", SUBMIT_IHAVE, "local.test", "");
	submit(fd, "takethis", SUBMIT_TAKETHIS, "local.test", "");
	submit(fd, "nopost", SUBMIT_POST, "local.nopost", "");
	submit(fd, "outside", SUBMIT_POST, "local.other", "");
	/* Approving its own post to a moderated group (local.mod, m). */
	submit_with(fd, "approved", SUBMIT_POST, "local.mod", "",
	            "Approved: rogue@rogue.invalid\r\n");
	claim_rights(fd, "rights-again");
	submit(fd, "ihave-again", SUBMIT_IHAVE, "local.test", "");
	submit(fd, "forged-host", SUBMIT_POST, "local.test", "forged.example");
	/* As a peer (when peer= names 127.0.0.1): feeding groups its
	 * patterns= leaves out, which only the session's own check kept out
	 * before the patterns travelled with the rights. */
	submit(fd, "ihave-outside", SUBMIT_IHAVE, "local.other", "");
	submit(fd, "ihave-poison", SUBMIT_IHAVE, "local.test,local.spam", "");
	close(fd);
	/* On connections of its own (as any local process could). */
	fd = own_connection(spoolfd);
	submit(fd, "own-post", SUBMIT_POST, "local.test", "forged.example");
	close(fd);
	fd = own_connection(spoolfd);
	claim_rights(fd, "own-rights");
	submit(fd, "own-ihave", SUBMIT_IHAVE, "local.test", "");
	close(fd);
	fd = own_connection(spoolfd);
	submit(fd, "own-ihave2", SUBMIT_IHAVE, "local.test", "");
	close(fd);
	say("worker: done");
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct daemon_args args;
	struct sockaddr_storage peer = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&peer;
	int sv[2];

	if (argc < 3) {
		fprintf(stderr, "usage: nntp_rogue TAG SPOOL [-f conf] [-o key=value]...\n");
		return 2;
	}
	tag = argv[1];
	spool_dir = argv[2];
	argv[2] = argv[0];
	daemon_args(argc - 2, argv + 2, "nntp_rogue", "/dev/null", NULL, &args);
	log_open("nntp_rogue", 1);
	if (daemon_load(nntpd_options_table, &args) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sandbox_prepare();
	/* The "client": a socket pair standing in for the connection (the
	 * rogue never reads it), from 127.0.0.1. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	in->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
	nntp_session(sv[0], &peer, 0);
	return 0;
}
