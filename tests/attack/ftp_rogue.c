/* ftp_rogue: a compromised FTP worker. It links the real monitor and the
 * real sandbox, and replaces only ftp_worker (ftpd/pi/worker.c): the
 * monitor forks it as it would fork the PI, it enters the same sandbox
 * (uid, chroot, capabilities, seccomp filter), and then, instead of
 * serving a client, it sends the monitor what a worker taken over by an
 * attacker would. What the monitor answered goes to stdout, one line each;
 * tests/sec_ftp.bats reads them and the monitor's log.
 *
 *   ftp_rogue ATTACK [-f ftpd.conf] [-o key=value]...
 *   ATTACK: login-flood | relogin | handoff-flood | bind-prelogin | xferlog |
 *           connect-data | userlist | hooks | tls-key | tls-key-prelogin |
 *           metrics | hash
 *
 * metrics: the harness stands in for the listener: a child of its own
 * holds the read end of the monitor's metrics pipe, as the listener does,
 * and prints every record that reaches it ("listener got ..."). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/metrics.h"
#include "common/priv/daemon.h"
#include "common/priv/privsep.h"
#include "common/priv/sandbox.h"
#include "ftpd/metrics.h"
#include "ftpd/monitor/monitor.h"
#include "ftpd/options.h"
#include "ftpd/session.h"
#include "tests/attack/rogue.h"

static const char *attack;
static int maps_fd = -1;       /* /proc/self/maps, opened before the chroot */
static int status_fd = -1;     /* /proc/self/status, likewise */
static struct stat xferlog_st; /* the shared xferlog, as the harness found it */
static struct stat metrics_st; /* the monitor's end of the listener's metrics pipe */

/* One login request; prints and returns the answer type, or -1 when the
 * monitor closed the channel. */
static int
login(int mon, const char *user, const char *pass, int n)
{
	char payload[512];
	struct ps_msg m;
	int len = snprintf(payload, sizeof(payload), "%s%c%s%c", user, 0, pass, 0);

	if (ps_send(mon, PS_LOGIN, payload, (size_t)len, -1) < 0 || ps_recv(mon, &m) < 0) {
		say("attempt %d: channel closed", n);
		return -1;
	}
	say("attempt %d (%s): %s%s", n, user, m.type == PS_OK ? "accepted" : "refused",
	    m.type == PS_FAIL && m.len > 0 && m.data[0] == 'F' ? " (fatal)" : "");
	return (int)m.type;
}

static void
handoff_end(int mon)
{
	unsigned char state[3] = {0, 0, 0};

	ps_send(mon, PS_HANDOFF_END, state, sizeof(state), -1);
}

/* PS_TLS_KEY: ask the monitor for the private key (what AUTH TLS after a
 * clear login does, once). Prints what came back. */
static void
tls_key(int mon, int n)
{
	struct ps_msg m;
	char pem[64] = "";

	if (ps_send(mon, PS_TLS_KEY, NULL, 0, -1) < 0 || ps_recv(mon, &m) < 0) {
		say("key %d: channel closed", n);
		return;
	}
	if (m.fd >= 0) {
		/* the PEM through the pipe: its first line says what it is */
		ssize_t got = read(m.fd, pem, sizeof(pem) - 1);

		pem[got > 0 ? got : 0] = '\0';
		pem[strcspn(pem, "\n")] = '\0';
		close(m.fd);
	}
	say("key %d: %s%s%s", n, m.type == PS_OK ? "given" : "refused", pem[0] ? ", " : "", pem);
}

static void postlogin(struct ftp_session *s);

/* After an accepted login: a WORKER_ANON is the session already (no
 * handoff: it says what its sandbox is now and attacks from there); any
 * other worker hands off to the post-login worker the monitor forks. */
static void
logged_in(struct ftp_session *s)
{
	if (!s->anon_direct) {
		handoff_end(s->monitor);
		return;
	}
	lseek(status_fd, 0, SEEK_SET);
	show_sandbox(status_fd, "post-login");
	postlogin(s);
	say("post-login worker: done");
}

static void
prelogin(struct ftp_session *s)
{
	int mon = s->monitor;

	if (strcmp(attack, "login-flood") == 0) {
		/* Wrong passwords past max_login_fails, then one that works. */
		for (int i = 1; i <= 6; i++)
			if (login(mon, i < 6 ? "nosuchuser" : "anonymous", "guess", i) < 0)
				return;
		say("flood: every attempt answered");
	} else if (strcmp(attack, "userlist") == 0) {
		/* A name the PI would refuse at USER, sent to the monitor anyway. */
		if (login(mon, "anonymous", "rogue@", 1) == PS_OK)
			logged_in(s);
	} else if (strcmp(attack, "tls-key-prelogin") == 0) {
		tls_key(mon, 1);
	} else if (strcmp(attack, "relogin") == 0 || strcmp(attack, "handoff-flood") == 0 ||
	           strcmp(attack, "xferlog") == 0 || strcmp(attack, "connect-data") == 0 ||
	           strcmp(attack, "hooks") == 0 || strcmp(attack, "tls-key") == 0 ||
	           strcmp(attack, "metrics") == 0 || strcmp(attack, "hash") == 0) {
		if (login(mon, "anonymous", "rogue@", 1) != PS_OK)
			return;
		/* handoff-flood: the login's handoff, or a WORKER_ANON's REIN */
		if (strcmp(attack, "handoff-flood") != 0) {
			logged_in(s);
			return;
		}
		static char chunk[PS_MAX_PAYLOAD];
		size_t sent = 0;

		memset(chunk, 'A', sizeof(chunk));
		while (sent < (64u << 20)) {
			if (ps_send(mon, PS_HANDOFF, chunk, sizeof(chunk), -1) < 0) {
				say("handoff: channel closed after %zu bytes", sent);
				return;
			}
			sent += sizeof(chunk);
			if (sent % (1u << 20) == 0)
				say("handoff: %zu MiB taken", sent >> 20);
		}
		say("handoff: all 64 MiB taken");
	} else if (strcmp(attack, "bind-prelogin") == 0) {
		struct sockaddr_storage t = s->peer;
		struct ps_msg m;

		((struct sockaddr_in *)&t)->sin_port = htons(9);
		if (ps_send(mon, PS_CONNECT_DATA, &t, sizeof(t), -1) < 0 || ps_recv(mon, &m) < 0) {
			say("bind: channel closed");
			return;
		}
		say("bind: %s%s", m.type == PS_OK ? "answered" : "refused",
		    m.fd >= 0 ? " with a descriptor" : "");
	}
}

/* Look for the shared xferlog among this worker's descriptors and try to
 * truncate it; then hand the monitor two lines as one. */
static void
xferlog_attack(struct ftp_session *s)
{
	static const char forged[] = "forged line one\nforged line two\n";
	int held = 0;

	for (int fd = 0; fd < 1024; fd++) {
		struct stat st;

		if (fstat(fd, &st) == 0 && st.st_dev == xferlog_st.st_dev &&
		    st.st_ino == xferlog_st.st_ino) {
			held = 1;
			say("xferlog: held as fd %d; ftruncate: %s", fd,
			    ftruncate(fd, 0) == 0 ? "done" : strerror(errno));
		}
	}
	if (!held)
		say("xferlog: not held");
	if (ps_send(s->monitor, PS_XFERLOG, forged, sizeof(forged) - 1, -1) == 0)
		say("xferlog: two lines sent");
	/* The monitor ends the session on reading them. */
	for (;;) {
		struct ps_msg m;

		if (ps_recv(s->monitor, &m) < 0)
			break;
	}
}

static struct sockaddr_in
inet4(const char *host, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, host, &a.sin_addr);
	return a;
}

/* A listener on host, port chosen by the kernel; its port in *port. */
static int
listen_on(const char *host, uint16_t *port)
{
	struct sockaddr_in a = inet4(host, 0);
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		say("listen on %s: %s", host, strerror(errno));
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static const char *
err_name(int e)
{
	return e == EISCONN ? "EISCONN" : e == ENOTCONN ? "ENOTCONN" : strerror(e);
}

/* What a socket from the monitor lets its holder do: where it goes, and
 * whether it can still reach other (TCP Fast Open from its port, or a
 * connect). */
static void
probe(int fd, const struct sockaddr_in *want, const struct sockaddr_in *other)
{
	struct sockaddr_in got = {0}, self = {0};
	socklen_t len = sizeof(got), slen = sizeof(self);

	getsockname(fd, (struct sockaddr *)&self, &slen);
	if (getpeername(fd, (struct sockaddr *)&got, &len) < 0)
		say("  from port %u, unconnected (getpeername: %s)", ntohs(self.sin_port),
		    err_name(errno));
	else
		say("  from port %u, connected to %s", ntohs(self.sin_port),
		    got.sin_addr.s_addr == want->sin_addr.s_addr && got.sin_port == want->sin_port
		        ? "the requested target"
		        : "somewhere else");
	if (sendto(fd, "x", 1, MSG_FASTOPEN, (const struct sockaddr *)other, sizeof(*other)) < 0)
		say("  sendto MSG_FASTOPEN other host: %s", err_name(errno));
	else
		say("  sendto MSG_FASTOPEN other host: sent");
	if (connect(fd, (const struct sockaddr *)other, sizeof(*other)) < 0)
		say("  connect other host: %s", err_name(errno));
	else
		say("  connect other host: connected");
}

/* Ask the monitor for an active data connection to host:port. */
static void
connect_data(int mon, const char *host, uint16_t port, const struct sockaddr_in *other)
{
	struct sockaddr_storage t = {0};
	struct sockaddr_in want = inet4(host, port);
	struct ps_msg m;

	memcpy(&t, &want, sizeof(want));
	if (ps_send(mon, PS_CONNECT_DATA, &t, sizeof(t), -1) < 0 || ps_recv(mon, &m) < 0) {
		say("connect %s:%u: channel closed", host, port);
		exit(0);
	}
	if (m.fd < 0) {
		say("connect %s:%u: refused (%s)", host, port,
		    m.type == PS_FAIL ? m.data : "no fd");
		return;
	}
	say("connect %s:%u: a socket", host, port);
	probe(m.fd, &want, other);
	close(m.fd);
}

/* The port-20 socket must never reach anything but the peer's port asked
 * for: a listener on the peer (127.0.0.1) is the honest target, one on
 * 127.0.0.2 the "other host". */
static void
connect_attack(struct ftp_session *s)
{
	uint16_t ok_port, other_port;
	int ok = listen_on("127.0.0.1", &ok_port), far = listen_on("127.0.0.2", &other_port);
	struct sockaddr_in other = inet4("127.0.0.2", other_port), from;
	socklen_t len = sizeof(from);
	int c;

	connect_data(s->monitor, "127.0.0.1", 25, &other);
	connect_data(s->monitor, "127.0.0.1", 2049, &other);
	connect_data(s->monitor, "127.0.0.1", 1023, &other);
	connect_data(s->monitor, "127.0.0.2", other_port, &other);
	connect_data(s->monitor, "127.0.0.1", ok_port, &other);
	if ((c = accept(ok, (struct sockaddr *)&from, &len)) >= 0)
		say("target: reached from port %u", ntohs(from.sin_port));
	else
		say("target: no connection");
	len = sizeof(from);
	if ((c = accept(far, (struct sockaddr *)&from, &len)) >= 0)
		say("other host: reached from port %u", ntohs(from.sin_port));
	else
		say("other host: no connection");
}

/* One PS_HOOK request of len bytes; prints the answer. */
static void
hook_report(int mon, const char *label, const char *payload, size_t len)
{
	struct ps_msg m;

	if (ps_send(mon, PS_HOOK, payload, len, -1) < 0 || ps_recv(mon, &m) < 0) {
		say("hook %s: channel closed", label);
		exit(0);
	}
	say("hook %s: %s%s%s", label, m.type == PS_OK ? "queued" : "refused",
	    m.type == PS_FAIL ? ": " : "", m.type == PS_FAIL ? m.data : "");
}

#define HOOK_REQ(label, lit) hook_report(s->monitor, label, lit, sizeof(lit) - 1)

/* The monitor must check what a worker reports for upload_hook: only a
 * regular file inside the session's root, reached without a symlink; a
 * size or any other field of the worker's own is not ours to send. The
 * anonymous root holds ok.bin, a directory adir, link -> /etc/passwd
 * and etc -> /etc (tests/ftp_hooks.bats). */
static void
hook_attack(struct ftp_session *s)
{
	HOOK_REQ("outside", "upload\0/../../../../etc/passwd\0");
	HOOK_REQ("symlink", "upload\0/link\0");
	HOOK_REQ("via-symlink", "upload\0/etc/passwd\0");
	HOOK_REQ("directory", "upload\0/adir\0");
	HOOK_REQ("delete-present", "delete\0/ok.bin\0");
	HOOK_REQ("rename-outside", "rename\0/ok.bin\0/../../../../etc/passwd\0");
	HOOK_REQ("honest", "upload\0/ok.bin\0");
	HOOK_REQ("forged-size", "upload\0/ok.bin\0999999999\0");
}

/* What a worker could do to the numbers: find the listener's pipe among
 * its descriptors, write metrics_file, report its own bytes (honest, one
 * record and two at once) and then a login count (not a worker's to
 * report) behind an honest one. */
static void
metrics_attack(struct ftp_session *s)
{
	struct metric_rec r, two[2];
	int held = 0, fd;

	for (fd = 0; fd < 1024; fd++) {
		struct stat st;

		if (fstat(fd, &st) == 0 && st.st_dev == metrics_st.st_dev &&
		    st.st_ino == metrics_st.st_ino) {
			held = 1;
			say("metrics: pipe held as fd %d", fd);
		}
	}
	if (!held)
		say("metrics: no pipe held");
	fd = open(opt.metrics_file, O_WRONLY | O_TRUNC);
	say("metrics: open file: %s", fd >= 0 ? "opened" : strerror(errno));
	if (fd >= 0)
		close(fd);
	metrics_rec(&r, M_BYTES_OUT, METRIC_ADD, 4321);
	ps_send(s->monitor, PS_METRIC, &r, sizeof(r), -1);
	/* Held counts leave as one message: two honest ones, then two with
	 * a foreign one hidden behind an honest one (none may pass). */
	metrics_rec(&two[0], M_BYTES_OUT, METRIC_ADD, 11);
	metrics_rec(&two[1], M_BYTES_IN, METRIC_ADD, 22);
	ps_send(s->monitor, PS_METRIC, two, sizeof(two), -1);
	metrics_rec(&two[0], M_BYTES_OUT, METRIC_ADD, 5555);
	metrics_rec(&two[1], M_LOGINS_OK, METRIC_ADD, 1000000);
	ps_send(s->monitor, PS_METRIC, two, sizeof(two), -1);
	for (;;) {
		struct ps_msg m;

		if (ps_recv(s->monitor, &m) < 0)
			break;
	}
}

/* The listener's stand-in: print each record the monitor's pipe carries,
 * until the monitor (this process) is gone. */
/* One PS_HASH of fd's first len bytes, with extra bytes after the request
 * (a digest the rogue would like stored) when plant is set. */
static void
hash_once(int mon, int fd, uint64_t len, const char *plant, int n)
{
	struct ps_hash_req r = {.algo = 0 /* SHA-256 */, .start = 0, .len = len};
	char req[sizeof(r) + 128];
	size_t rlen = sizeof(r);
	struct ps_msg m;

	memcpy(req, &r, sizeof(r));
	if (plant != NULL) {
		memcpy(req + sizeof(r), plant, strlen(plant));
		rlen += strlen(plant);
	}
	if (ps_send(mon, PS_HASH, req, rlen, fd) < 0 || ps_recv(mon, &m) < 0) {
		say("hash %d: channel closed", n);
		return;
	}
	say("hash %d: %s %s", n, m.type == PS_OK ? "answered" : "refused", m.len > 0 ? m.data : "");
}

/* The digest cache (monitor/hashcache.c): a worker neither maps the
 * table nor has a message that carries a digest. It asks for the real
 * digest twice (computed, then from the cache), then sends a request
 * with a forged digest appended. */
static void
hash_attack(struct ftp_session *s)
{
	static const char forged[] =
	    "00000000000000000000000000000000000000000000000000000000deadbeef";
	FILE *maps = maps_fd >= 0 ? fdopen(maps_fd, "r") : NULL;
	char line[512];
	int mapped = 0, lines = 0, fd;
	struct stat st;

	while (maps != NULL && fgets(line, sizeof(line), maps) != NULL) {
		mapped |= strstr(line, "postel-hashcache") != NULL;
		lines++;
	}
	if (maps != NULL)
		fclose(maps);
	if (lines == 0)
		say("hashcache: maps unreadable");
	else
		say("hashcache: %s (%d mappings read)", mapped ? "mapped" : "not mapped", lines);
	fd = open("/f.bin", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		say("hash: no /f.bin");
		return;
	}
	hash_once(s->monitor, fd, (uint64_t)st.st_size, NULL, 1);
	hash_once(s->monitor, fd, (uint64_t)st.st_size, NULL, 2);
	hash_once(s->monitor, fd, (uint64_t)st.st_size, forged, 3);
	close(fd);
}

static void
stand_in_listener(void)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0 || (pid = fork()) < 0)
		exit(1);
	if (pid == 0) {
		struct metric_rec r;

		close(p[1]);
		while (read(p[0], &r, sizeof(r)) == (ssize_t)sizeof(r))
			say("listener got series %u op %u value %llu", (unsigned)r.series,
			    (unsigned)r.op, (unsigned long long)r.value);
		_exit(0);
	}
	close(p[0]);
	fstat(p[1], &metrics_st);
	metrics_report_fd(p[1]);
}

static void
postlogin(struct ftp_session *s)
{
	if (strcmp(attack, "relogin") == 0)
		login(s->monitor, "root", "guess", 2);
	else if (strcmp(attack, "xferlog") == 0)
		xferlog_attack(s);
	else if (strcmp(attack, "connect-data") == 0)
		connect_attack(s);
	else if (strcmp(attack, "hooks") == 0)
		hook_attack(s);
	else if (strcmp(attack, "metrics") == 0)
		metrics_attack(s);
	else if (strcmp(attack, "hash") == 0)
		hash_attack(s);
	else if (strcmp(attack, "tls-key") == 0) {
		/* An honest worker asks once, at AUTH TLS; a second answer would
		 * let a worker that had freed its copy (or a rogue) take it again. */
		tls_key(s->monitor, 1);
		tls_key(s->monitor, 2);
	}
}

void
ftp_worker(struct ftp_session *s, struct sandbox_id *id, enum worker_kind kind)
{
	int is_postlogin = kind == WORKER_POSTLOGIN;

	status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	s->anon_direct = kind == WORKER_ANON;
	if (kind != WORKER_PRELOGIN)
		maps_fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	sandbox_worker(id, kind != WORKER_PRELOGIN ? SB_FTP_SESSION : SB_FTP_PRELOGIN, s->monitor);
	show_sandbox(status_fd, is_postlogin ? "post-login" : "pre-login");
	if (is_postlogin)
		postlogin(s);
	else
		prelogin(s);
	say("%s worker: done", is_postlogin ? "post-login" : "pre-login");
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct daemon_args args;
	struct sockaddr_storage peer = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&peer;
	socklen_t len = sizeof(peer);
	int l, c, ctl;

	if (argc < 2) {
		fprintf(stderr, "usage: ftp_rogue ATTACK [-f conf] [-o key=value]...\n");
		return 2;
	}
	attack = argv[1];
	argv[1] = argv[0];
	daemon_args(argc - 1, argv + 1, "ftp_rogue", "/dev/null", NULL, &args);
	log_open("ftp_rogue", 1);
	if (daemon_load(ftpd_options_table, &args) < 0)
		return 1;
	{
		struct buffer err = BUFFER_INIT;

		if (options_prepare(&err) > 0) {
			daemon_config_errors(buffer_cstr(&err));
			return 1;
		}
		buffer_free(&err);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (opt.xferlog_enable) {
		int fd = open(opt.xferlog_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0 || fstat(fd, &xferlog_st) < 0)
			return 1;
		close(fd);
	}
	if (opt.ssl_enable && daemon_tls(&ftp_tls_ctx, opt.ssl_cert_file, opt.ssl_key_file,
	                                 opt.ssl_ciphers, "ftp", 0) < 0)
		return 1;
	{
		static struct metrics reg;

		/* As ftpd's main: the registry the monitor checks reports with. */
		metrics_init(&reg, "postel_ftpd_", ftpd_metric_defs, M_FTP_END - M_COMMON_COUNT);
	}
	if (strcmp(attack, "metrics") == 0)
		stand_in_listener();
	monitor_prepare();
	sandbox_prepare();
	/* The "client": a loopback TCP connection standing in for the control
	 * connection, so the session has a real local address and its peer
	 * is 127.0.0.1 (the rogue never reads it). */
	in->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&peer, sizeof(*in)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&peer, &len) < 0 ||
	    (c = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(c, (struct sockaddr *)&peer, sizeof(*in)) < 0 ||
	    (ctl = accept(l, NULL, NULL)) < 0)
		return 1;
	close(l);
	len = sizeof(peer);
	getsockname(c, (struct sockaddr *)&peer, &len);
	ftp_session(ctl, &peer, 0);
	return 0;
}
