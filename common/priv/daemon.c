/* daemon: shared start-up, so ftpd, nntpd and nntpctl take the same flags
 * and report configuration errors the same way. */
#include "common/priv/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "common/priv/sandbox.h"

static void
usage(FILE *out, const char *prog, const char *default_conf, const char *foreign)
{
	fprintf(out,
	        "usage: %s [-DistTh] [-f config%s] [-o key=value]...\n"
	        "  -f FILE       configuration file (default %s)\n",
	        prog, foreign != NULL ? " | -V config" : "", default_conf);
	if (foreign != NULL)
		fprintf(out, "  -V FILE       read FILE as a %s.conf (its keys and defaults)\n",
		        foreign);
	fprintf(out, "  -o key=value  override one configuration key (repeatable)\n"
	             "  -t            check the configuration and exit 0 (good) or 1 (bad)\n"
	             "  -T            as -t, and print the effective configuration\n"
	             "  -D            stay in the foreground and log to stderr\n"
	             "  -i            inetd mode: serve one session on stdin/stdout\n"
	             "  -s            log a status line per live session (SIGUSR1 to the daemon)\n"
	             "  -h            this help\n");
}

void
daemon_args(int argc, char **argv, const char *prog, const char *default_conf, const char *foreign,
            struct daemon_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->conf_file = default_conf;
	while ((c = getopt(argc, argv, foreign != NULL ? "f:o:tTDhMisV:" : "f:o:tTDhMis")) != -1) {
		switch (c) {
		case 'f':
		case 'V':
			/* The last of -f and -V names the file and its format. */
			a->conf_file = optarg;
			a->conf_given = 1;
			a->foreign = c == 'V';
			break;
		case 'o':
			vector_add(&a->overrides, optarg);
			break;
		case 't':
			a->test = 1;
			break;
		case 'T':
			a->test = a->dump = 1;
			break;
		case 'D':
			a->foreground = 1;
			break;
		case 'M':
			a->man = 1;
			break;
		case 'i':
			a->inetd = 1;
			break;
		case 's':
			a->status = 1;
			break;
		case 'h':
			usage(stdout, prog, default_conf, foreign);
			exit(0);
		default:
			usage(stderr, prog, default_conf, foreign);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument %s\n", prog, argv[optind]);
		usage(stderr, prog, default_conf, foreign);
		exit(2);
	}
}

void
daemon_config_errors(const char *text)
{
	fputs(text, stderr);
	if (!log_to_stderr())
		log_msg(LOG_ERR, "configuration: %s", text);
}

int
daemon_load(const struct conf_option *table, const struct daemon_args *a)
{
	struct buffer err = BUFFER_INIT;
	int bad = conf_load(table, a->conf_file, a->conf_given, &a->overrides, &err);

	if (bad > 0)
		daemon_config_errors(buffer_cstr(&err));
	buffer_free(&err);
	return bad > 0 ? -1 : 0;
}

void
daemon_checks(const struct conf_option *table, const struct daemon_args *a, int loaded)
{
	if (a->man) {
		conf_man(table, stdout);
		exit(0);
	}
	if (!a->test)
		return;
	if (loaded < 0)
		exit(1);
	if (a->dump)
		conf_dump(table, stdout);
	else
		printf("%s: configuration OK\n", a->conf_file);
	exit(0);
}

static void
daemon_detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static void
daemon_write_pid(const char *pid_file)
{
	FILE *f;

	if (pid_file == NULL || pid_file[0] == '\0')
		return;
	f = fopen(pid_file, "w");
	if (f == NULL) {
		log_msg(LOG_ERR, "pid file %s: %s", pid_file, strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

int
daemon_signal_status(const char *pid_file)
{
	FILE *f = fopen(pid_file, "r");
	long pid = 0;

	if (f == NULL || fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
		fprintf(stderr, "%s: no running daemon's pid in it\n", pid_file);
		if (f != NULL)
			fclose(f);
		return 1;
	}
	fclose(f);
	if (kill((pid_t)pid, SIGUSR1) < 0) {
		fprintf(stderr, "pid %ld: %s\n", pid, strerror(errno));
		return 1;
	}
	printf("asked pid %ld for a status line per session; see its log\n", pid);
	return 0;
}

static void
daemon_bind(struct listener *l, const char *const addrs[2], unsigned long port, int tag)
{
	struct buffer err = BUFFER_INIT;

	for (int i = 0; i < 2; i++)
		if (addrs[i][0] != '\0' &&
		    listener_bind(l, addrs[i], (unsigned)port, tag, &err) < 0)
			die("%s", buffer_cstr(&err));
	buffer_free(&err);
}

int
daemon_listen(struct listener *l, const char *addr4, const char *addr6, unsigned long port,
              unsigned long tls_port)
{
	const char *const addrs[2] = {addr4, addr6};

	l->tick = tls_tickets_rotate;
	if (listener_adopt_systemd(l) > 0)
		return 1;
	daemon_bind(l, addrs, port, 0);
	if (tls_port != 0)
		daemon_bind(l, addrs, tls_port, 1);
	if (l->nfds == 0)
		die("nothing to listen on: set listen_address or listen_address6");
	return 0;
}

int
daemon_tls(SSL_CTX **slot, const char *cert, const char *key, const char *ciphers, const char *alpn,
           unsigned long ticket_period)
{
	struct buffer err = BUFFER_INIT;
	SSL_CTX *ctx = NULL;

	if (tls_tickets_setup(ticket_period, &err) == 0)
		ctx = tls_server_ctx(cert, key, ciphers, &err);
	if (ctx == NULL) {
		fprintf(stderr, "TLS: %s\n", buffer_cstr(&err));
		log_msg(LOG_ERR, "TLS: %s%s", buffer_cstr(&err),
		        *slot != NULL ? "; keeping the certificate in use" : "");
		buffer_free(&err);
		return -1;
	}
	buffer_free(&err);
	/* SECURITY: a client that names another protocol (ALPACA) is refused. */
	if (alpn != NULL)
		tls_require_alpn(ctx, alpn);
	tls_ctx_free(*slot);
	*slot = ctx;
	return 0;
}

void
daemon_go(const char *ident, const struct conf_option *table, const struct daemon_args *a,
          const char *pid_file)
{
	if (!a->foreground) {
		log_open(ident, 0);
		daemon_detach();
	}
	/* In the foreground only an explicit pid_file is written. */
	if (!a->foreground || conf_is_set(table, "pid_file"))
		daemon_write_pid(pid_file);
	if (!sandbox_privileged())
		log_msg(LOG_NOTICE,
		        "running as uid %u, not root: sessions run as this user "
		        "without chroot or uid change",
		        (unsigned)getuid());
}
