/* ftpd main: command line, configuration, listening sockets, then the
 * listener's accept loop. Each session starts in monitor/monitor.c. */
#include <errno.h>
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
#include "common/core/throttle.h"
#include "common/core/xmalloc.h"
#include "common/io/tls.h"
#include "common/priv/daemon.h"
#include "common/priv/listener.h"
#include "common/priv/sandbox.h"
#include "common/priv/setup.h"
#include "ftpd/hook/runner.h"
#include "ftpd/metrics.h"
#include "ftpd/monitor/monitor.h"
#include "ftpd/options.h"
#include "ftpd/pi/commands.h"
#include "ftpd/vsftpd.h"

static struct daemon_args args;
static struct listener lst;
static struct metrics metrics;
static int from_systemd;
static pid_t runner_pid;
static time_t runner_started;
static struct vsftpd_load vs; /* the last -V load's notices and listen keys */

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
	if (lst.rates != NULL) {
		uint64_t per_ip[THROTTLE_NDIR], total[THROTTLE_NDIR];

		per_ip[THROTTLE_DOWN] = opt.max_rate_per_ip_download;
		per_ip[THROTTLE_UP] = opt.max_rate_per_ip_upload;
		total[THROTTLE_DOWN] = opt.max_rate_total_download;
		total[THROTTLE_UP] = opt.max_rate_total_upload;
		ratebuckets_set(lst.rates, per_ip, total);
	}
}

/* The TLS context, made before any session and again on SIGHUP. Every
 * process of one session shares the copy it was forked with; the
 * session-ticket keys are the session's own, made by its monitor (a data
 * connection resumes its control connection's session: see dtp/dtp.c).
 * 0 or -1. */
static int
make_tls(void)
{
	if (!opt.ssl_enable)
		return 0;
	return daemon_tls(&ftp_tls_ctx, opt.ssl_cert_file, opt.ssl_key_file, opt.ssl_ciphers, "ftp",
	                  0);
}

/* Each notice of a -V load on stderr, and in the log when that is not
 * stderr: an admin sees at every start what ftpd does not do. */
static void
vsftpd_notices(void)
{
	char *p = buffer_cstr(&vs.notes), *end;

	fputs(p, stderr);
	for (; !log_to_stderr() && *p != '\0'; p = end + (*end != '\0')) {
		end = strchrnul(p, '\n');
		log_msg(LOG_NOTICE, "vsftpd.conf: %.*s", (int)(end - p), p);
	}
}

/* The configuration: ftpd.conf (-f), or a vsftpd.conf (-V). 0 or -1. */
static int
load(void)
{
	struct buffer err = BUFFER_INIT;
	int bad;

	if (!args.foreign)
		return daemon_load(ftpd_options_table, &args);
	vsftpd_load_free(&vs);
	bad = vsftpd_read(args.conf_file, &args.overrides, args.inetd, &vs, &err);
	vsftpd_notices();
	if (bad > 0)
		daemon_config_errors(buffer_cstr(&err));
	buffer_free(&err);
	return bad > 0 ? -1 : 0;
}

/* -t of a vsftpd.conf: whether it would run as is, in one line. */
static void
vsftpd_summary(int loaded)
{
	if (loaded < 0)
		printf("%s: vsftpd.conf would not run as is: see the errors above\n",
		       args.conf_file);
	else
		printf("%s: vsftpd.conf would run as is (%u notice%s above)\n", args.conf_file,
		       vs.nnotes, vs.nnotes == 1 ? "" : "s");
	exit(loaded < 0 ? 1 : 0);
}

/* What the table cannot check (options_prepare), reported as daemon_load
 * reports. 0 or -1. */
static int
prepare(void)
{
	struct buffer err = BUFFER_INIT;
	int bad = options_prepare(&err);

	if (bad > 0)
		daemon_config_errors(buffer_cstr(&err));
	buffer_free(&err);
	return bad > 0 ? -1 : 0;
}

static const char *
where(const char *key)
{
	return conf_where(ftpd_options_table, key);
}

/* The accounts and directories sessions need (what make install makes),
 * at start and with -t: a missing one stops the daemon here, named with
 * the command that makes it, not a session later. As an ordinary user
 * sessions change neither uid nor root, so there is nothing to check.
 * 0 or -1. */
static int
check_setup(void)
{
	struct buffer err = BUFFER_INIT;
	struct setup_check c = {where, &err, 0};

	if (!sandbox_privileged())
		return 0;
	setup_need_account(&c, "nopriv_user", opt.nopriv_user, "/nonexistent");
	setup_need_dir(&c, "secure_chroot_dir", opt.secure_chroot_dir, "root", "root", 0755, 1);
	if (opt.anonymous_enable) {
		setup_need_account(&c, "ftp_username", opt.ftp_username, opt.anon_root);
		setup_need_dir(&c, "anon_root", opt.anon_root, "root", "root", 0755, 0);
	}
	if (opt.xferlog_enable)
		setup_need_parent(&c, "xferlog_file", opt.xferlog_file, "root", "adm", 0750);
	if (opt.upload_hook[0] != '\0')
		setup_need_dir(&c, "hook_queue_dir", opt.hook_queue_dir, "root", "root", 0700, 1);
	if (c.bad > 0)
		daemon_config_errors(buffer_cstr(&err));
	buffer_free(&err);
	return c.bad > 0 ? -1 : 0;
}

/* The hook runner (hook/runner.c), with upload_hook: one per daemon,
 * forked here as root and restarted whenever it ends, as nntpd's writer. */
static void
start_runner(void)
{
	pid_t pid, listener = getpid();

	if (opt.upload_hook[0] == '\0')
		return;
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "cannot start the hook runner: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		/* SECURITY: the runner never does TLS nor accepts clients. */
		tls_ctx_drop(&ftp_tls_ctx);
		for (int i = 0; i < lst.nfds; i++)
			close(lst.fds[i]);
		listener_forget_sources();
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		exit(hook_runner_main(listener));
	}
	runner_pid = pid;
	runner_started = time(NULL);
	log_msg(LOG_INFO, "hook runner started (pid %ld)", (long)pid);
}

static void
stop_runner(void)
{
	int status;

	if (runner_pid <= 0)
		return;
	kill(runner_pid, SIGTERM);
	while (waitpid(runner_pid, &status, 0) < 0 && errno == EINTR)
		;
	runner_pid = 0;
}

static void
runner_exited(pid_t pid, int status)
{
	if (pid != runner_pid)
		return;
	log_msg(LOG_ERR, "hook runner (pid %ld) ended: %s %d; restarting", (long)pid,
	        WIFSIGNALED(status) ? "signal" : "exit",
	        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	runner_pid = 0;
	/* Never spin: at most one restart a second. */
	if (time(NULL) - runner_started < 1)
		sleep(1);
	start_runner();
}

static int
reload(void)
{
	struct conf_saved *old = conf_save(ftpd_options_table);
	int rc = load();

	/* A file the new configuration names that does not load leaves the
	 * old configuration in force, as a bad line does (a vsftpd.conf whose
	 * listen keys fail is loaded into opt already: put it back too). */
	if (rc < 0 || prepare() < 0) {
		conf_restore(ftpd_options_table, old);
		rc = -1;
	}
	conf_saved_free(ftpd_options_table, old);
	/* Loaded or put back, opt's strings are new ones (the old are freed),
	 * whatever the certificate does: the listener's pointers into them
	 * must follow. */
	apply_limits();
	if (rc < 0 || make_tls() < 0)
		return -1;
	monitor_prepare();
	data_prepare();
	/* The runner reads its keys at start: a new one for the new ones. */
	stop_runner();
	start_runner();
	return 0;
}

/* The pre-login chroot must exist and must not be writable by the worker. */
static void
check_empty_dir(void)
{
	struct stat st;

	if (!sandbox_privileged())
		return;
	if (stat(opt.secure_chroot_dir, &st) < 0 && errno == ENOENT &&
	    mkdir(opt.secure_chroot_dir, 0755) < 0)
		die("secure_chroot_dir %s: %s", opt.secure_chroot_dir, strerror(errno));
	if (stat(opt.secure_chroot_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		die("secure_chroot_dir %s is not a directory", opt.secure_chroot_dir);
	if (st.st_uid != 0 || (st.st_mode & 022))
		die("secure_chroot_dir %s must be owned by root and not group/world writable",
		    opt.secure_chroot_dir);
}

int
main(int argc, char **argv)
{
	int loaded;

	daemon_args(argc, argv, "ftpd", PATH_FTPD_CONF, "vsftpd", &args);
	if (args.man && args.foreign) {
		vsftpd_man(stdout);
		return 0;
	}
	log_open("ftpd", args.foreground || args.test || args.man);
	loaded = load();
	if (loaded == 0 && prepare() < 0)
		loaded = -1;
	if (loaded == 0 && make_tls() < 0)
		loaded = -1;
	if (loaded == 0 && !args.man && !args.status && check_setup() < 0)
		loaded = -1;
	if (args.foreign && args.test && !args.dump)
		vsftpd_summary(loaded);
	/* vsftpd's background=NO (its default) stays in the foreground. */
	if (args.foreign && vs.background != 1)
		args.foreground = 1;
	daemon_checks(ftpd_options_table, &args, loaded);
	if (loaded < 0)
		return 1;
	if (args.status)
		return daemon_signal_status(opt.pid_file);
	check_empty_dir();
	/* Before any session: its monitor checks its worker's reports
	 * against it (inetd mode too, where nothing is exported). */
	metrics_init(&metrics, "postel_ftpd_", ftpd_metric_defs, M_FTP_END - M_COMMON_COUNT);
	monitor_prepare();
	data_prepare();
	if (args.inetd) {
		lst.session = ftp_session;
		if (!args.foreground)
			log_open("ftpd", 0);
		listener_inetd(&lst);
		return 0;
	}
	sandbox_prepare();
	from_systemd =
	    daemon_listen(&lst, opt.listen_address, opt.listen_address6, opt.listen_port,
	                  opt.ssl_enable && opt.implicit_ssl ? opt.implicit_ssl_port : 0);
	lst.busy_reply = "421 There are too many connected users, please try later.\r\n";
	lst.per_ip_reply = "421 There are too many connections from your internet address.\r\n";
	lst.backoff_reply = "421 Too many failed logins from your address; try again later.\r\n";
	lst.session = ftp_session;
	lst.reload = reload;
	lst.other_exit = runner_exited;
	lst.metrics = &metrics;
	/* Before the first session, and rewritten by every SIGHUP. */
	lst.rates = ratebuckets_create();
	apply_limits();
	if (opt.upload_hook[0] != '\0' && hook_runner_prepare() < 0)
		die("upload_hook: hook_queue_dir %s cannot hold the queue", opt.hook_queue_dir);
	daemon_go("ftpd", ftpd_options_table, &args, opt.pid_file);
	start_runner();
	log_msg(LOG_INFO, "listening on %d socket(s)%s", lst.nfds,
	        from_systemd ? " from systemd" : "");
	listener_run(&lst);
	lst.other_exit = NULL;
	stop_runner();
	return 0;
}
