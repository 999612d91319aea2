/* nntpd main: command line, configuration, the spool writer (started and
 * restarted here), listening sockets, then the listener's accept loop. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/paths.h"
#include "common/core/xmalloc.h"
#include "common/io/tls.h"
#include "common/priv/daemon.h"
#include "common/priv/listener.h"
#include "common/priv/sandbox.h"
#include "common/priv/setup.h"
#include "nntpd/feed/feed.h"
#include "nntpd/monitor/monitor.h"
#include "nntpd/options.h"
#include "nntpd/writer/control.h"
#include "nntpd/writer/writer.h"

static struct daemon_args args;
static struct listener lst;
static int from_systemd;
static pid_t writer_pid;
static time_t writer_started;
/* One feeder per feed= line, index-aligned with opt.feed at start. */
#define MAX_FEEDS 64
static pid_t feeder_pid[MAX_FEEDS];
static time_t feeder_started[MAX_FEEDS];
static size_t nfeeders;
static char hostname[256];

static void
apply_limits(void)
{
	lst.max_clients = opt.max_clients;
	lst.max_per_ip = opt.max_per_ip;
	lst.ipv6_prefix_len = opt.ipv6_prefix_len;
	lst.grace_seconds = opt.shutdown_grace;
	lst.proxy_protocol = opt.proxy_protocol;
	lst.proxy_trusted = opt.proxy_trusted_addresses;
	lst.backoff_seconds = opt.failed_login_backoff;
}

/* The TLS context, made before any session (each session's worker uses
 * its copy) and again on SIGHUP. 0 or -1. */
static int
make_tls(void)
{
	if (opt.ssl_cert_file[0] == '\0')
		return 0;
	return daemon_tls(&nntp_tls_ctx, opt.ssl_cert_file,
	                  opt.ssl_key_file[0] ? opt.ssl_key_file : opt.ssl_cert_file, opt.ssl_ciphers,
	                  "nntp", opt.ssl_ticket_rotate);
}

static int
reload(void)
{
	if (daemon_load(nntpd_options_table, &args) < 0 || make_tls() < 0)
		return -1;
	apply_limits();
	monitor_prepare();
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

static const char *
where(const char *key)
{
	return conf_where(nntpd_options_table, key);
}

/* The writer's and the sessions' accounts and the spool's parent (what
 * make install makes), at start and with -t: a missing one stops the
 * daemon here, named with the command that makes it. 0 or -1. */
static int
check_setup(void)
{
	struct buffer err = BUFFER_INIT;
	struct setup_check c = {where, &err, 0};

	if (!sandbox_privileged())
		return 0;
	setup_need_account(&c, "nopriv_user", opt.nopriv_user, opt.spool_dir);
	setup_need_account(&c, "session_user", opt.session_user, "/nonexistent");
	setup_need_dir(&c, "spool_dir", opt.spool_dir, opt.nopriv_user, NULL, 0750, 1);
	if (c.bad > 0)
		daemon_config_errors(buffer_cstr(&err));
	buffer_free(&err);
	return c.bad > 0 ? -1 : 0;
}

/* The spool belongs to nopriv_user: create it and hand it over if needed. */
static void
prepare_spool(struct sandbox_id *id)
{
	struct stat st;

	if (sandbox_privileged() && sandbox_lookup(opt.nopriv_user, id) < 0)
		die("nopriv_user %s does not exist", opt.nopriv_user);
	if (stat(opt.spool_dir, &st) < 0) {
		if (errno != ENOENT || mkdir(opt.spool_dir, 0750) < 0)
			die("spool_dir %s: %s", opt.spool_dir, strerror(errno));
		if (sandbox_privileged() && chown(opt.spool_dir, id->uid, id->gid) < 0)
			die("chown %s: %s", opt.spool_dir, strerror(errno));
	} else if (sandbox_privileged() && (st.st_mode & 07) != 0) {
		/* SECURITY: access-restricted groups are readable only by the
		 * writer's uid and the sessions' group, not by local users. */
		if (chmod(opt.spool_dir, st.st_mode & 07770) < 0)
			die("chmod %s: %s", opt.spool_dir, strerror(errno));
		log_msg(LOG_NOTICE, "spool_dir %s: access for others removed (mode %04o)",
		        opt.spool_dir, (unsigned)(st.st_mode & 07770));
	}
}

static void
start_writer(void)
{
	struct sandbox_id id = {getuid(), getgid(), NULL, 0, -1};
	struct writer_conf wc = {pathhost(), opt.max_article_size};
	pid_t pid;

	prepare_spool(&id);
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "cannot start the writer: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		/* SECURITY: the writer never does TLS; its copy of the key goes. */
		tls_ctx_drop(&nntp_tls_ctx);
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
		/* Spool files 0640, directories 0750: the sessions' group reads. */
		umask(027);
		sandbox_worker(&id, SB_NNTP_WRITER, -1);
		writer_set_feeds(&opt.feed);
		writer_set_expire(&opt.expire, opt.history_remember);
		exit(writer_main(dir, &wc));
	}
	writer_pid = pid;
	writer_started = time(NULL);
	log_msg(LOG_INFO, "writer started (pid %ld)", (long)pid);
}

/* The feeder for feed line i: resolves the peer before the chroot, then
 * runs sandboxed like the writer (its allow-list has socket and connect). */
static void
start_feeder(size_t i)
{
	struct sandbox_id id = {getuid(), getgid(), NULL, 0, -1};
	pid_t pid;

	prepare_spool(&id);
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "cannot start a feeder: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		struct addrinfo hints = {0}, *ai = NULL;
		struct sockaddr_storage addr;
		struct feed_def f;
		socklen_t alen;
		int rc, fd;

		/* SECURITY: feeders connect in clear; no copy of the key. */
		tls_ctx_drop(&nntp_tls_ctx);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		if (feed_parse(opt.feed.strings[i], &f) < 0)
			_exit(1);
		hints.ai_socktype = SOCK_STREAM;
		rc = getaddrinfo(f.host, f.port, &hints, &ai);
		if (rc != 0 || ai == NULL) {
			log_msg(LOG_ERR, "feed %s: %s: %s", f.name, f.host, gai_strerror(rc));
			sleep(30);
			_exit(1);
		}
		memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
		alen = ai->ai_addrlen;
		freeaddrinfo(ai);
		const char *dir = sandbox_privileged() ? "/" : opt.spool_dir;

		tzset();
		id.root = opt.spool_dir;
		umask(027);
		sandbox_worker(&id, SB_NNTP_FEEDER, -1);
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			die("feed %s: spool: %s", f.name, strerror(errno));
		exit(feed_main(fd, &f, &addr, alen));
	}
	feeder_pid[i] = pid;
	feeder_started[i] = time(NULL);
}

static void
start_feeders(void)
{
	nfeeders = opt.feed.count < MAX_FEEDS ? opt.feed.count : MAX_FEEDS;
	for (size_t i = 0; i < nfeeders; i++)
		start_feeder(i);
}

static void
writer_exited(pid_t pid, int status)
{
	for (size_t i = 0; i < nfeeders; i++) {
		if (pid != feeder_pid[i])
			continue;
		log_msg(LOG_ERR, "feeder (pid %ld) ended; restarting", (long)pid);
		if (time(NULL) - feeder_started[i] < 1)
			sleep(1);
		start_feeder(i);
		return;
	}
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

int
main(int argc, char **argv)
{
	int loaded, status;

	daemon_args(argc, argv, "nntpd", PATH_NNTPD_CONF, NULL, &args);
	log_open("nntpd", args.foreground || args.test || args.man);
	loaded = daemon_load(nntpd_options_table, &args);
	if (loaded == 0 && !args.man && make_tls() < 0)
		loaded = -1;
	if (loaded == 0 && !args.man && !args.status && check_setup() < 0)
		loaded = -1;
	daemon_checks(nntpd_options_table, &args, loaded);
	if (loaded < 0)
		return 1;
	if (args.status)
		return daemon_signal_status(opt.pid_file);
	monitor_prepare();
	if (args.inetd) {
		/* The writer is the running daemon's (or nntpctl's); an inetd
		 * session only reads and hands posts to it. */
		lst.session = nntp_session;
		if (!args.foreground)
			log_open("nntpd", 0);
		listener_inetd(&lst);
		return 0;
	}
	sandbox_prepare();
	from_systemd = daemon_listen(&lst, opt.listen_address, opt.listen_address6, opt.listen_port,
	                             nntp_tls_ctx != NULL ? opt.implicit_ssl_port : 0);
	lst.busy_reply = "400 Too many connections, try again later\r\n";
	lst.per_ip_reply = "400 Too many connections from your address\r\n";
	lst.backoff_reply = "400 Too many failed logins from your address; try again later\r\n";
	lst.session = nntp_session;
	lst.reload = reload;
	lst.other_exit = writer_exited;
	apply_limits();
	daemon_go("nntpd", nntpd_options_table, &args, opt.pid_file);
	start_writer();
	start_feeders();
	log_msg(LOG_INFO, "listening on %d socket(s)%s", lst.nfds,
	        from_systemd ? " from systemd" : "");
	listener_run(&lst);
	lst.other_exit = NULL;
	for (size_t i = 0; i < nfeeders; i++) {
		if (feeder_pid[i] <= 0)
			continue;
		kill(feeder_pid[i], SIGTERM);
		while (waitpid(feeder_pid[i], &status, 0) < 0 && errno == EINTR)
			;
	}
	if (writer_pid > 0) {
		kill(writer_pid, SIGTERM);
		while (waitpid(writer_pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	return 0;
}
