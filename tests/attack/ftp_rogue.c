/* ftp_rogue: a compromised FTP worker. It links the real monitor and the
 * real sandbox, and replaces only ftp_worker (ftpd/pi/worker.c): the
 * monitor forks it as it would fork the PI, it enters the same sandbox
 * (uid, chroot, capabilities, seccomp filter), and then, instead of
 * serving a client, it sends the monitor what a worker taken over by an
 * attacker would. What the monitor answered goes to stdout, one line each;
 * tests/sec_ftp.bats reads them and the monitor's log.
 *
 *   ftp_rogue ATTACK [-f ftpd.conf] [-o key=value]...
 *   ATTACK: login-flood | relogin | handoff-flood | bind-prelogin | xferlog
 */
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
#include "common/priv/daemon.h"
#include "common/priv/privsep.h"
#include "common/priv/sandbox.h"
#include "ftpd/monitor/monitor.h"
#include "ftpd/options.h"
#include "ftpd/session.h"

static const char *attack;
static struct stat xferlog_st; /* the shared xferlog, as the harness found it */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The proof that this runs inside the boundary: what the kernel says of
 * this process once in the sandbox (opened before, read after, as the
 * filter allows no open). */
static void
show_sandbox(int fd, int postlogin)
{
	char buf[4096], *line, *save = NULL;
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (n <= 0) {
		say("%s status: unreadable", postlogin ? "post-login" : "pre-login");
		return;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "Uid:", 4) == 0 || strncmp(line, "Seccomp:", 8) == 0 ||
		    strncmp(line, "CapEff:", 7) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0)
			say("%s %s", postlogin ? "post-login" : "pre-login", line);
}

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
	} else if (strcmp(attack, "relogin") == 0 || strcmp(attack, "handoff-flood") == 0 ||
	           strcmp(attack, "xferlog") == 0) {
		if (login(mon, "anonymous", "rogue@", 1) != PS_OK)
			return;
		if (strcmp(attack, "relogin") == 0 || strcmp(attack, "xferlog") == 0) {
			handoff_end(mon);
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
		if (ps_send(mon, PS_BIND_DATA, &t, sizeof(t), -1) < 0 || ps_recv(mon, &m) < 0) {
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

static void
postlogin(struct ftp_session *s)
{
	if (strcmp(attack, "relogin") == 0)
		login(s->monitor, "root", "guess", 2);
	else if (strcmp(attack, "xferlog") == 0)
		xferlog_attack(s);
}

void
ftp_worker(struct ftp_session *s, struct sandbox_id *id, int is_postlogin)
{
	int status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	sandbox_worker(id, is_postlogin ? SB_FTP_SESSION : SB_FTP_PRELOGIN, s->monitor);
	show_sandbox(status_fd, is_postlogin);
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
	int sv[2];

	if (argc < 2) {
		fprintf(stderr, "usage: ftp_rogue ATTACK [-f conf] [-o key=value]...\n");
		return 2;
	}
	attack = argv[1];
	argv[1] = argv[0];
	daemon_args(argc - 1, argv + 1, "ftp_rogue", "/dev/null", &args);
	log_open("ftp_rogue", 1);
	if (daemon_load(ftpd_options_table, &args) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (opt.xferlog_enable) {
		int fd = open(opt.xferlog_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0 || fstat(fd, &xferlog_st) < 0)
			return 1;
		close(fd);
	}
	monitor_prepare();
	sandbox_prepare();
	/* The "client": a socket pair standing in for the control connection
	 * (the rogue never reads it). */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	in->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
	ftp_session(sv[0], &peer, 0);
	return 0;
}
