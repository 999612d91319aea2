/* nntpd main: command line, configuration, the spool writer (started and
 * restarted here), listening sockets, then the listener's accept loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "options.h"
#include "paths.h"
#include "sandbox.h"
#include "session.h"
#include "tls.h"
#include "writer.h"
#include "xmalloc.h"

static struct daemon_args args;
static struct listener lst;
static int from_systemd;
static pid_t writer_pid;
static time_t writer_started;
static char hostname[256];

static void
apply_limits(void)
{
	lst.max_clients = opt.max_clients;
	lst.max_per_ip = opt.max_per_ip;
	lst.grace_seconds = opt.shutdown_grace;
	lst.proxy_protocol = opt.proxy_protocol;
	lst.proxy_trusted = opt.proxy_trusted_addresses;
	lst.backoff_seconds = opt.failed_login_backoff;
}

/* The TLS context, made before any session (each session's worker uses
 * its copy). On SIGHUP a new one replaces it, so a renewed certificate
 * needs no restart; one that does not load keeps the old. 0 or -1. */
static int
make_tls(void)
{
	struct buffer err = BUFFER_INIT;
	const char *key = opt.ssl_key_file[0] ? opt.ssl_key_file : opt.ssl_cert_file;
	SSL_CTX *ctx;

	if (opt.ssl_cert_file[0] == '\0')
		return 0;
	ctx = tls_server_ctx(opt.ssl_cert_file, key, opt.ssl_ciphers, &err);
	if (ctx == NULL) {
		fprintf(stderr, "TLS: %s\n", buffer_cstr(&err));
		log_msg(LOG_ERR, "TLS: %s", buffer_cstr(&err));
		buffer_free(&err);
		return -1;
	}
	/* SECURITY: a client that names another protocol (ALPACA) is refused. */
	tls_require_alpn(ctx, "nntp");
	buffer_free(&err);
	tls_ctx_free(nntp_tls_ctx);
	nntp_tls_ctx = ctx;
	return 0;
}

static int
reload(void)
{
	if (daemon_load(nntpd_options_table, &args) < 0 || make_tls() < 0)
		return -1;
	apply_limits();
	return 0;
}

static const char *
pathhost(void)
{
	if (opt.pathhost[0] != '\0')
		return opt.pathhost;
	if (hostname[0] == '\0' && gethostname(hostname, sizeof(hostname) - 1) < 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	return hostname;
}

/* The spool belongs to nopriv_user: create it and hand it over if needed. */
static void
prepare_spool(struct sandbox_id *id)
{
	struct stat st;

	if (sandbox_privileged() && sandbox_lookup(opt.nopriv_user, id) < 0)
		die("nopriv_user %s does not exist", opt.nopriv_user);
	if (stat(opt.spool_dir, &st) < 0) {
		if (errno != ENOENT || mkdir(opt.spool_dir, 0755) < 0)
			die("spool_dir %s: %s", opt.spool_dir, strerror(errno));
		if (sandbox_privileged() && chown(opt.spool_dir, id->uid, id->gid) < 0)
			die("chown %s: %s", opt.spool_dir, strerror(errno));
	}
}

static void
start_writer(void)
{
	struct sandbox_id id = {getuid(), getgid(), NULL};
	struct writer_conf wc = {pathhost(), opt.max_article_size};
	pid_t pid;

	prepare_spool(&id);
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "cannot start the writer: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		/* Chrooted to the spool like the sessions: the writer needs
		 * nothing outside it, and the path above it need not be open
		 * to the news user. */
		const char *dir = sandbox_privileged() ? "/" : opt.spool_dir;

		tzset();
		id.root = opt.spool_dir;
		sandbox_worker(&id, SB_NNTP_WRITER, -1);
		exit(writer_main(dir, &wc));
	}
	writer_pid = pid;
	writer_started = time(NULL);
	log_msg(LOG_INFO, "writer started (pid %ld)", (long)pid);
}

static void
writer_exited(pid_t pid, int status)
{
	if (pid != writer_pid)
		return;
	log_msg(LOG_ERR, "writer (pid %ld) ended: %s %d; restarting", (long)pid,
		WIFSIGNALED(status) ? "signal" : "exit",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	/* Never spin: at most one restart a second. */
	if (time(NULL) - writer_started < 1)
		sleep(1);
	start_writer();
}

static void
bind_all(void)
{
	const char *const addrs[2] = {opt.listen_address, opt.listen_address6};

	/* Under systemd socket activation the sockets are already bound. */
	from_systemd = listener_adopt_systemd(&lst) > 0;
	if (from_systemd)
		return;
	daemon_bind(&lst, addrs, opt.listen_port, 0);
	/* Tag 1: implicit TLS (NNTPS), TLS from the first byte. */
	if (nntp_tls_ctx != NULL && opt.implicit_ssl_port != 0)
		daemon_bind(&lst, addrs, opt.implicit_ssl_port, 1);
	if (lst.nfds == 0)
		die("nothing to listen on: set listen_address or listen_address6");
}

int
main(int argc, char **argv)
{
	int loaded, status;

	daemon_args(argc, argv, "nntpd", PATH_NNTPD_CONF, &args);
	log_open("nntpd", args.foreground || args.test || args.man);
	loaded = daemon_load(nntpd_options_table, &args);
	if (loaded == 0 && !args.man && make_tls() < 0)
		loaded = -1;
	daemon_checks(nntpd_options_table, &args, loaded);
	if (loaded < 0)
		return 1;
	if (args.status)
		return daemon_signal_status(opt.pid_file);
	if (args.inetd) {
		/* The writer is the running daemon's (or nntpctl's); an inetd
		 * session only reads and hands posts to it. */
		lst.session = nntp_session;
		if (!args.foreground)
			log_open("nntpd", 0);
		listener_inetd(&lst);
		return 0;
	}
	bind_all();
	lst.busy_reply = "400 Too many connections, try again later\r\n";
	lst.per_ip_reply = "400 Too many connections from your address\r\n";
	lst.backoff_reply = "400 Too many failed logins from your address; try again later\r\n";
	lst.session = nntp_session;
	lst.reload = reload;
	lst.other_exit = writer_exited;
	apply_limits();
	if (!args.foreground) {
		log_open("nntpd", 0);
		daemon_detach();
	}
	/* In the foreground only an explicit pid_file is written. */
	if (!args.foreground || conf_is_set(nntpd_options_table, "pid_file"))
		daemon_write_pid(opt.pid_file);
	if (!sandbox_privileged())
		log_msg(LOG_NOTICE, "running as uid %u, not root: sessions run as this user "
				    "without chroot or uid change",
			(unsigned)getuid());
	start_writer();
	log_msg(LOG_INFO, "listening on %d socket(s)%s", lst.nfds,
		from_systemd ? " from systemd" : "");
	listener_run(&lst);
	if (writer_pid > 0) {
		lst.other_exit = NULL;
		kill(writer_pid, SIGTERM);
		while (waitpid(writer_pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	return 0;
}
