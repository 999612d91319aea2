/* nntpd main: command line, configuration, the spool writer and feeders
 * (started, restarted and reloaded here), listening sockets, then the
 * listener's accept loop. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/paths.h"
#include "common/core/vector.h"
#include "common/core/xmalloc.h"
#include "common/io/tls.h"
#include "common/priv/daemon.h"
#include "common/priv/listener.h"
#include "common/priv/sandbox.h"
#include "common/priv/setup.h"
#include "nntpd/access.h"
#include "nntpd/feed/feed.h"
#include "nntpd/metrics.h"
#include "nntpd/monitor/monitor.h"
#include "nntpd/options.h"
#include "nntpd/store/daylog.h"
#include "nntpd/writer/control.h"
#include "nntpd/writer/ctlmsg.h"
#include "nntpd/writer/mailer.h"
#include "nntpd/writer/writer.h"

static struct daemon_args args;
static struct listener lst;
static int from_systemd;
static pid_t writer_pid;
static time_t writer_started;
static int writer_chan = -1;     /* the listener's end of the writer's channel */
static unsigned long config_gen; /* reloads so far */
/* One feeder per feed= line. A reload stops the feeders whose line went
 * or changed (retiring) and starts one per new line once no feeder of the
 * same name runs, so two never work one queue. */
#define MAX_FEEDS 64
struct feeder {
	pid_t pid;
	time_t started;
	char *line, *name;
	int retiring;
};
static struct feeder feeders[MAX_FEEDS];
static size_t nfeeders;
static char hostname[256];
static struct metrics metrics;
/* The feed peers of the metrics, by feed name: a name keeps its slot over
 * reloads (its counters go on), a new name takes the next free one. */
static const char *peer_names[METRIC_MAX_PEERS];
static size_t npeer_names;

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
	lst.metrics_file = opt.metrics_file;
	lst.metrics_interval = opt.metrics_interval;
}

/* The TLS context, made before any session (each session's worker uses
 * its copy) and again on SIGHUP. 0 or -1. */
static int
make_tls(void)
{
	if (opt.ssl_cert_file[0] == '\0')
		return 0;
	return daemon_tls(&nntp_tls_ctx, opt.ssl_cert_file,
	                  opt.ssl_key_file[0] ? opt.ssl_key_file : opt.ssl_cert_file,
	                  opt.ssl_ciphers, "nntp", opt.ssl_ticket_rotate);
}

static void feeders_sync(void);
static void filter_sync(void);
static void filter_kill(unsigned long gen);
static void unblock_signals(void);

/* A message to the writer; it must never block the listener. */
static void
tell_writer(const struct buffer *msg)
{
	if (writer_chan < 0)
		return;
	if (msg->len > WCHAN_MAX) {
		log_msg(LOG_ERR,
		        "reload: the configuration is too large for the writer (%zu bytes)",
		        msg->len);
		return;
	}
	if (send(writer_chan, buffer_head(msg), msg->len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_msg(LOG_ERR, "reload: cannot tell the writer: %s", strerror(errno));
}

/* SIGHUP, or nntpctl reload through the writer: new sessions, the writer
 * and the feeders take the new configuration; with errors, nothing
 * changes and the writer (so nntpctl) is told why. */
static int
reload(void)
{
	struct writer_settings ws;
	struct buffer why = BUFFER_INIT, msg = BUFFER_INIT;
	int loaded;

	config_gen++;
	loaded = daemon_load_why(nntpd_options_table, &args, &why);
	/* Loaded or kept, opt's strings may be new ones (the old freed),
	 * whatever the certificate does: the listener's pointers into them
	 * must follow. */
	apply_limits();
	if (loaded < 0 || make_tls() < 0) {
		if (why.len == 0)
			buffer_puts(&why, "ssl_cert_file: the certificate or key did not load "
			                  "(the log says why)\n");
		wchan_encode_refused(&msg, config_gen, buffer_cstr(&why));
		tell_writer(&msg);
		buffer_free(&why);
		buffer_free(&msg);
		return -1;
	}
	monitor_prepare();
	ws.feed = opt.feed;
	ws.expire = opt.expire;
	ws.history_remember = opt.history_remember;
	ws.max_article_size = opt.max_article_size;
	ws.limits = (struct writer_limits){opt.post_rate, opt.post_burst, opt.article_cutoff_days};
	ws.filter_timeout = opt.filter_timeout;
	ws.filter_closed = strcmp(opt.filter_failure, "closed") == 0;
	wchan_encode_config(&msg, config_gen, &ws);
	tell_writer(&msg);
	feeders_sync();
	filter_sync();
	log_msg(LOG_INFO, "reload: configuration %lu sent to the writer; %zu feed(s)", config_gen,
	        opt.feed.count);
	buffer_free(&why);
	buffer_free(&msg);
	return 0;
}

/* The article filter (filter=): the listener starts it as filter_user with
 * two pipes, whose other ends go to the writer over its channel and are
 * closed here at once (so no session ever holds them). It is restarted
 * when it ends (at once the first time, then with a back-off doubling up
 * to FILTER_BACKOFF_MAX seconds while it keeps dying young), killed when
 * the writer finds it hung or broken, and restarted for a new writer or a
 * changed filter= or filter_user. */
#define FILTER_BACKOFF_MAX 60
#define FILTER_SETTLED 30 /* seconds of life after which a death is news */
static pid_t filter_pid;
static unsigned long filter_gen;
static time_t filter_started;
static unsigned filter_backoff;
static int filter_fresh;         /* the next start owes nothing to a crash */
static time_t filter_restart_at; /* 0: none pending */
static char *filter_cmd, *filter_as;
static double (*tick_next)(void);

/* In the filter's child: become filter_user, pipes on stdin and stdout. */
static void __attribute__((noreturn)) exec_filter(int in, int out, const struct sandbox_id *id)
{
	struct vector argv = VECTOR_INIT;
	char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", NULL};
	char **av;

	setsid(); /* its own process group, killed whole */
	unblock_signals();
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(126);
	/* SECURITY: nothing of the listener's (sockets, the writer's
	 * channel, metrics pipes) reaches the filter. */
	syscall(SYS_close_range, 3U, ~0U, 0U);
	/* SECURITY: never root and never the spool's owner (check_setup):
	 * a filter bug can read what it is sent, and nothing else. */
	if (sandbox_hook_child(opt.filter_user, id) < 0) {
		log_msg(LOG_ERR, "filter: cannot become %s: %s", opt.filter_user, strerror(errno));
		_exit(126);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (chdir("/") < 0)
		_exit(126);
	vector_split_space(&argv, opt.filter, 64);
	av = xcalloc(argv.count + 1, sizeof(*av));
	for (size_t i = 0; i < argv.count; i++)
		av[i] = argv.strings[i];
	execve(av[0], av, env);
	log_msg(LOG_ERR, "filter: exec %s: %s", av[0], strerror(errno));
	_exit(127);
}

/* Tell the writer about filter filter_gen: its pipe ends, or none. */
static void
filter_hand_over(const int *fds, size_t nfd)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), WCHAN_FILTER "%lu\n", filter_gen);

	if (writer_chan < 0 || wchan_send(writer_chan, msg, (size_t)n, fds, nfd) < 0)
		log_msg(LOG_ERR, "filter: cannot hand filter %lu to the writer: %s", filter_gen,
		        writer_chan < 0 ? "no writer" : strerror(errno));
}

/* A start that failed before the fork: try again after the longest
 * back-off (meanwhile filter_failure decides). */
static void
filter_retry_later(void)
{
	filter_restart_at = time(NULL) + FILTER_BACKOFF_MAX;
}

static void
start_filter(void)
{
	struct sandbox_id id = {getuid(), getgid(), NULL, 0, -1};
	int in[2], out[2];

	filter_restart_at = 0;
	free(filter_cmd);
	free(filter_as);
	filter_cmd = xstrdup(opt.filter);
	filter_as = xstrdup(opt.filter_user);
	filter_gen++;
	if (opt.filter[0] == '\0') {
		filter_hand_over(NULL, 0);
		return;
	}
	if (sandbox_privileged() && sandbox_lookup(opt.filter_user, &id) < 0) {
		log_msg(LOG_ERR, "filter: filter_user %s does not exist", opt.filter_user);
		filter_retry_later();
		return;
	}
	if (pipe2(in, O_CLOEXEC) < 0) {
		log_msg(LOG_ERR, "filter: pipe: %s", strerror(errno));
		filter_retry_later();
		return;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		log_msg(LOG_ERR, "filter: pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		filter_retry_later();
		return;
	}
	filter_pid = fork();
	if (filter_pid == 0)
		exec_filter(in[0], out[1], &id);
	close(in[0]);
	close(out[1]);
	if (filter_pid < 0) {
		log_msg(LOG_ERR, "filter: fork: %s", strerror(errno));
		filter_pid = 0;
		filter_retry_later();
	} else {
		int fds[2] = {in[1], out[0]};

		filter_started = time(NULL);
		log_msg(LOG_INFO, "filter %lu started (pid %ld): %s", filter_gen, (long)filter_pid,
		        opt.filter);
		filter_hand_over(fds, 2);
	}
	close(in[1]);
	close(out[0]);
}

/* The writer found filter gen hung or broken. */
static void
filter_kill(unsigned long gen)
{
	if (gen != filter_gen || filter_pid <= 0)
		return;
	log_msg(LOG_NOTICE, "filter %lu (pid %ld) killed at the writer's request", gen,
	        (long)filter_pid);
	kill(-filter_pid, SIGKILL);
	kill(filter_pid, SIGKILL);
}

/* Restart the filter for a new writer or a new configuration: the running
 * one is killed (its end starts the next at once), none is started. */
static void
filter_restart_now(void)
{
	filter_fresh = 1;
	if (filter_pid > 0) {
		kill(-filter_pid, SIGKILL);
		kill(filter_pid, SIGKILL);
	} else
		start_filter();
}

static void
filter_sync(void)
{
	if (strcmp(filter_cmd != NULL ? filter_cmd : "", opt.filter) != 0 ||
	    (filter_as != NULL && strcmp(filter_as, opt.filter_user) != 0))
		filter_restart_now();
}

/* The filter ended: restart it, at once or after its back-off. */
static void
filter_exited(int status)
{
	time_t now = time(NULL);
	unsigned delay;

	filter_pid = 0;
	if (filter_fresh || now - filter_started >= FILTER_SETTLED)
		filter_backoff = 0;
	delay = filter_backoff;
	filter_backoff = filter_backoff ? filter_backoff * 2 : 1;
	if (filter_backoff > FILTER_BACKOFF_MAX)
		filter_backoff = FILTER_BACKOFF_MAX;
	if (!filter_fresh)
		log_msg(LOG_ERR, "filter %lu ended: %s %d; restarting in %u s", filter_gen,
		        WIFSIGNALED(status) ? "signal" : "exit",
		        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), delay);
	filter_fresh = 0;
	if (delay == 0)
		start_filter();
	else
		filter_restart_at = now + delay;
}

/* The listener's tick: the filter's pending restart beside what the
 * daemon ticks for (session-ticket keys). */
static double
tick(void)
{
	double next = tick_next != NULL ? tick_next() : -1;

	if (filter_restart_at != 0 && time(NULL) >= filter_restart_at)
		start_filter();
	if (filter_restart_at != 0) {
		double left = (double)(filter_restart_at - time(NULL));

		if (left < 0.1)
			left = 0.1;
		if (next < 0 || left < next)
			next = left;
	}
	return next;
}

/* The writer's channel is readable: nntpctl reload asked it for one. */
static void
writer_chan_ready(void)
{
	char msg[64];
	ssize_t n = recv(writer_chan, msg, sizeof(msg), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The writer is gone; its restart makes a new channel. */
		close(writer_chan);
		writer_chan = lst.aux_fd = -1;
		return;
	}
	/* SECURITY: the writer (unprivileged) can only ask for a reload,
	 * which re-reads the administrator's file, or to kill the filter it
	 * was given; anything else is dropped. */
	unsigned long gen;

	if (wchan_parse_numbered(msg, (size_t)n, WCHAN_FILTER_KILL, &gen) == 0) {
		filter_kill(gen);
		return;
	}
	if ((size_t)n != strlen(WCHAN_RELOAD) || memcmp(msg, WCHAN_RELOAD, (size_t)n) != 0) {
		log_msg(LOG_ERR, "writer channel: unexpected message ignored");
		return;
	}
	log_msg(LOG_INFO, "reload asked for by nntpctl");
	if (reload() != 0)
		log_msg(LOG_ERR, "reload: configuration has errors; keeping the old one");
}

/* SECURITY: the writer's channel reaches the listener; no session, monitor
 * or feeder keeps a copy of it. */
static void
close_writer_chan(void)
{
	if (writer_chan >= 0)
		close(writer_chan);
	writer_chan = -1;
}

static void
session_main(int fd, const struct sockaddr_storage *peer, int tag)
{
	close_writer_chan();
	nntp_session(fd, peer, tag);
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

/* filter_user exists, is neither root nor the spool's owner, and the
 * filter program is executable. */
static void
check_filter_setup(struct setup_check *c)
{
	struct sandbox_id fid, nid;
	struct vector argv = VECTOR_INIT;

	setup_need_account(c, "filter_user", opt.filter_user, "/nonexistent");
	if (sandbox_lookup(opt.filter_user, &fid) == 0 &&
	    (fid.uid == 0 || (sandbox_lookup(opt.nopriv_user, &nid) == 0 && nid.uid == fid.uid))) {
		const char *w = where("filter_user");

		buffer_printf(c->errors, "%s: filter_user: %s is %s: the filter runs as neither\n",
		              w ? w : "default", opt.filter_user,
		              fid.uid == 0 ? "root" : "nopriv_user, the spool's owner");
		c->bad++;
	}
	vector_split_space(&argv, opt.filter, 2);
	if (argv.count > 0 && access(argv.strings[0], X_OK) < 0) {
		const char *w = where("filter");

		buffer_printf(c->errors, "%s: filter: %s: %s\n", w ? w : "default", argv.strings[0],
		              strerror(errno));
		c->bad++;
	}
	vector_free(&argv);
}

/* Feed f's client context from its CA file (tls-ca=, else feed_ca_file);
 * NULL with "CA file PATH: reason" in err. */
static SSL_CTX *
feed_tls_ctx(const struct feed_def *f, struct buffer *err)
{
	const char *ca = f->ca_file != NULL ? f->ca_file : opt.feed_ca_file;
	struct buffer why = BUFFER_INIT;
	SSL_CTX *ctx = tls_client_ctx(ca, &why);

	if (ctx == NULL)
		buffer_printf(err, "CA file %s", buffer_cstr(&why)); /* "PATH: reason" */
	buffer_free(&why);
	return ctx;
}

/* Every tls feed's CA file loads, at start and with -t (the feeders read
 * them again as they start): a bad one stops the daemon here. 0 or -1. */
static int
check_feed_tls(void)
{
	struct buffer err = BUFFER_INIT, why = BUFFER_INIT;
	struct feed_def f;
	int bad = 0;

	for (size_t i = 0; i < opt.feed.count; i++) {
		const char *key, *at;
		SSL_CTX *ctx;

		if (feed_parse(opt.feed.strings[i], &f) < 0)
			continue;
		buffer_clear(&why);
		if (f.tls && (ctx = feed_tls_ctx(&f, &why)) != NULL) {
			tls_ctx_free(ctx);
		} else if (f.tls) {
			key = f.ca_file != NULL ? "feed" : "feed_ca_file";
			/* A list's place is its last line's: named for feed_ca_file
			 * only (NULL there too when it has its default). */
			at = f.ca_file != NULL ? NULL : where(key);
			buffer_printf(&err, "%s%s%s: feed %s: %s\n", at ? at : "", at ? ": " : "",
			              key, f.name, buffer_cstr(&why));
			bad++;
		}
		feed_def_free(&f);
	}
	if (bad > 0)
		daemon_config_errors(buffer_cstr(&err));
	buffer_free(&err);
	buffer_free(&why);
	return bad > 0 ? -1 : 0;
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
	if (opt.filter[0] != '\0')
		check_filter_setup(&c);
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

/* A child forked from the accept loop (a restart, a reload) starts with
 * the loop's signals blocked; the writer and feeders must hear SIGTERM. */
static void
unblock_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
unpause_spool(void)
{
	int fd = open(opt.spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (spool_set_paused(fd, NULL) < 0)
		log_msg(LOG_ERR, "%s/%s: %s", opt.spool_dir, SPOOL_PAUSED, strerror(errno));
	close(fd);
}

static void
start_writer(void)
{
	struct sandbox_id id = {getuid(), getgid(), NULL, 0, -1};
	struct writer_conf wc = {pathhost(),
	                         opt.max_article_size,
	                         {opt.post_rate, opt.post_burst, opt.article_cutoff_days}};
	pid_t pid;
	int sv[2];

	prepare_spool(&id);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_msg(LOG_ERR, "writer channel: %s (reloads will not reach the writer)",
		        strerror(errno));
		sv[0] = sv[1] = -1;
	}
	listener_source_open(&lst, METRIC_BY_WRITER, 0);
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "cannot start the writer: %s", strerror(errno));
		listener_source_parent(-1);
		if (sv[0] >= 0) {
			close(sv[0]);
			close(sv[1]);
		}
		return;
	}
	if (pid == 0) {
		listener_source_child();
		close_writer_chan();
		if (sv[0] >= 0)
			close(sv[0]);
		writer_set_channel(sv[1]);
		/* SECURITY: the writer never does TLS; its copy of the key goes. */
		tls_ctx_drop(&nntp_tls_ctx);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		unblock_signals();
		/* Chrooted to the spool like the sessions: the writer needs
		 * nothing outside it, and the path above it need not be open
		 * to the news user. */
		const char *dir = sandbox_privileged() ? "/" : opt.spool_dir;

		tzset();
		id.root = opt.spool_dir;
		/* Spool files 0640, directories 0750: the sessions' group reads. */
		umask(027);
		/* The mailer first: it keeps the writer's user but none of
		 * its sandbox, to run the mailer command. */
		struct mailer_conf mc = {opt.mailer, opt.moderators_file,
		                         (unsigned)opt.mailer_timeout,
		                         opt.max_article_size + WRITER_MAIL_SLACK};

		writer_set_mailer(mailer_start(&mc, opt.nopriv_user, &id),
		                  (unsigned)opt.mailer_timeout);
		/* control_file is outside the writer's chroot: read now. */
		ctlmsg_configure_files(opt.cancel_policy, opt.canlock_secret, opt.control_file);
		/* Every submission waits on the writer: ahead of the sessions
		 * (the mailer, forked above, keeps the listener's priority). */
		if (setpriority(PRIO_PROCESS, 0, atoi(opt.writer_nice)) < 0)
			log_msg(LOG_NOTICE, "writer_nice %s: %s", opt.writer_nice, strerror(errno));
		sandbox_worker(&id, SB_NNTP_WRITER, -1);
		writer_set_feeds(&opt.feed);
		writer_set_expire(&opt.expire, opt.history_remember);
		writer_set_filter(opt.filter[0] != '\0', opt.filter_timeout,
		                  strcmp(opt.filter_failure, "closed") == 0);
		daylog_set_keep((unsigned)opt.report_keep_days);
		exit(writer_main(dir, &wc));
	}
	close_writer_chan();
	if (sv[1] >= 0)
		close(sv[1]);
	writer_chan = lst.aux_fd = sv[0];
	listener_source_parent(pid);
	writer_pid = pid;
	writer_started = time(NULL);
	log_msg(LOG_INFO, "writer started (pid %ld)", (long)pid);
}

/* A peer's max-connections (peer= lines) in place of max_per_ip. */
static unsigned long
peer_limit(const struct addr_key *full)
{
	return access_peer_max_connections(&opt.peer, full);
}

/* The feeder for feed line fe->line: resolves the peer before the chroot,
 * then runs sandboxed like the writer (its allow-list has socket and
 * connect). */
/* The metrics slot of feed name (METRIC_MAX_PEERS when all are taken). */
static unsigned
peer_slot(const char *name)
{
	size_t i;

	for (i = 0; i < npeer_names; i++)
		if (strcmp(peer_names[i], name) == 0)
			return (unsigned)i;
	if (i == METRIC_MAX_PEERS)
		return METRIC_MAX_PEERS;
	peer_names[npeer_names++] = xstrdup(name);
	metrics_set_peers(&metrics, peer_names, npeer_names);
	return (unsigned)i;
}

/* A tls feed's client context, made while the CA file can be read (the
 * feeder chroots to the spool next); NULL when it does not load (logged:
 * the feeder then sends nothing and is restarted). */
static SSL_CTX *
feeder_tls(const struct feed_def *f)
{
	struct buffer err = BUFFER_INIT;
	SSL_CTX *ctx = feed_tls_ctx(f, &err);

	if (ctx == NULL)
		log_msg(LOG_ERR, "feed %s: %s; nothing sent, articles stay queued", f->name,
		        buffer_cstr(&err));
	buffer_free(&err);
	return ctx;
}

static void
start_feeder(struct feeder *fe)
{
	struct sandbox_id id = {getuid(), getgid(), NULL, 0, -1};
	unsigned slot = peer_slot(fe->name);
	pid_t pid;

	prepare_spool(&id);
	/* A feeder past the last slot reports nothing. */
	if (slot < METRIC_MAX_PEERS)
		listener_source_open(&lst, METRIC_BY_FEEDER, slot);
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "cannot start a feeder: %s", strerror(errno));
		if (slot < METRIC_MAX_PEERS)
			listener_source_parent(-1);
		return;
	}
	if (pid == 0) {
		struct addrinfo hints = {0}, *ai = NULL;
		struct sockaddr_storage addr;
		struct feed_def f;
		SSL_CTX *client = NULL;
		socklen_t alen;
		int rc, fd;

		if (slot < METRIC_MAX_PEERS)
			listener_source_child();
		else
			listener_forget_sources();
		close_writer_chan();
		/* SECURITY: a feeder is a TLS client at most: no copy of the key. */
		tls_ctx_drop(&nntp_tls_ctx);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		unblock_signals();
		if (feed_parse(fe->line, &f) < 0)
			_exit(1);
		f.index = slot;
		if (f.tls && (client = feeder_tls(&f)) == NULL) {
			sleep(30);
			_exit(1);
		}
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
		exit(feed_main(fd, &f, &addr, alen, client));
	}
	if (slot < METRIC_MAX_PEERS)
		listener_source_parent(pid);
	fe->pid = pid;
	fe->started = time(NULL);
}

static struct feeder *
feeder_named(const char *name)
{
	for (size_t i = 0; i < nfeeders; i++)
		if (strcmp(feeders[i].name, name) == 0)
			return &feeders[i];
	return NULL;
}

static void
feeder_remove(struct feeder *fe)
{
	free(fe->line);
	free(fe->name);
	*fe = feeders[--nfeeders];
}

/* Make the feeders match opt.feed: stop those whose line is gone or
 * changed (their queue stays in spool/feeds/NAME, and a feed of that name
 * added again later goes on from where it was), start the new ones. */
static void
feeders_sync(void)
{
	struct feed_def f;

	for (size_t i = nfeeders; i-- > 0;) {
		struct feeder *fe = &feeders[i];
		int kept = 0;

		for (size_t j = 0; j < opt.feed.count && !kept; j++)
			kept = strcmp(opt.feed.strings[j], fe->line) == 0;
		if (kept || fe->retiring)
			continue;
		log_msg(LOG_INFO,
		        "feed %s: changed or removed; its feeder stops (queue kept in %s/%s/%s)",
		        fe->name, opt.spool_dir, FEED_DIR, fe->name);
		if (fe->pid > 0 && kill(fe->pid, SIGTERM) == 0)
			fe->retiring = 1;
		else
			feeder_remove(fe);
	}
	for (size_t j = 0; j < opt.feed.count; j++) {
		const struct feeder *same;

		if (feed_parse(opt.feed.strings[j], &f) < 0)
			continue;
		same = feeder_named(f.name);
		if (same == NULL && nfeeders == MAX_FEEDS)
			log_msg(LOG_ERR, "feed %s: more than %d feeds; not started", f.name,
			        MAX_FEEDS);
		else if (same == NULL) {
			struct feeder *fe = &feeders[nfeeders++];

			*fe =
			    (struct feeder){0, 0, xstrdup(opt.feed.strings[j]), xstrdup(f.name), 0};
			start_feeder(fe);
		}
		feed_def_free(&f);
	}
}

static void
writer_exited(pid_t pid, int status)
{
	if (pid == filter_pid && pid > 0) {
		filter_exited(status);
		return;
	}
	for (size_t i = 0; i < nfeeders; i++) {
		struct feeder *fe = &feeders[i];

		if (pid != fe->pid)
			continue;
		if (fe->retiring) {
			log_msg(LOG_INFO, "feed %s: feeder (pid %ld) stopped", fe->name, (long)pid);
			feeder_remove(fe);
			feeders_sync();
			return;
		}
		log_msg(LOG_ERR, "feeder (pid %ld) ended; restarting", (long)pid);
		if (time(NULL) - fe->started < 1)
			sleep(1);
		start_feeder(fe);
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
	/* The filter's pipes went with the old writer. */
	if (opt.filter[0] != '\0')
		filter_restart_now();
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
	if (loaded == 0 && !args.man && !args.status && check_feed_tls() < 0)
		loaded = -1;
	daemon_checks(nntpd_options_table, &args, loaded);
	if (loaded < 0)
		return 1;
	if (args.status)
		return daemon_signal_status(opt.pid_file);
	/* Before any session: its monitor checks its worker's reports
	 * against it (inetd mode too, where nothing is exported). */
	metrics_init(&metrics, "postel_nntpd_", nntpd_metric_defs, M_NNTP_END - M_COMMON_COUNT);
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
	lst.session = session_main;
	lst.addr_limit = peer_limit;
	lst.reload = reload;
	lst.aux_ready = writer_chan_ready;
	lst.aux_fd = -1;
	lst.other_exit = writer_exited;
	lst.metrics = &metrics;
	tick_next = lst.tick;
	lst.tick = tick;
	apply_limits();
	daemon_go("nntpd", nntpd_options_table, &args, opt.pid_file);
	/* A pause lasts while nntpd runs (over writer restarts), never
	 * over a restart of nntpd itself, as with INN's ctlinnd pause. */
	unpause_spool();
	start_writer();
	feeders_sync();
	if (opt.filter[0] != '\0')
		start_filter();
	log_msg(LOG_INFO, "listening on %d socket(s)%s", lst.nfds,
	        from_systemd ? " from systemd" : "");
	listener_run(&lst);
	lst.other_exit = NULL;
	for (size_t i = 0; i < nfeeders; i++) {
		if (feeders[i].pid <= 0)
			continue;
		kill(feeders[i].pid, SIGTERM);
		while (waitpid(feeders[i].pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (writer_pid > 0) {
		kill(writer_pid, SIGTERM);
		while (waitpid(writer_pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	/* After the writer: its pipes are closed, so the filter has its end
	 * of input; one that does not go on SIGTERM goes on SIGKILL. */
	if (filter_pid > 0) {
		kill(-filter_pid, SIGTERM);
		for (int i = 0; i < 50 && waitpid(filter_pid, &status, WNOHANG) == 0; i++)
			usleep(100000);
		if (kill(filter_pid, 0) == 0) {
			kill(-filter_pid, SIGKILL);
			while (waitpid(filter_pid, &status, 0) < 0 && errno == EINTR)
				;
		}
	}
	return 0;
}
