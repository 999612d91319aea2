/* cmd_data: data connections (PORT, EPRT, PASV, EPSV), transfers through
 * the DTP (RETR, STOR, APPE, STOU, LIST, NLST, MLSD) and what answers while
 * one runs (ABOR, STAT, NOOP, QUIT). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "common/priv/sandbox.h"
#include "ftpd/dtp/dtp.h"
#include "ftpd/dtp/listing.h"
#include "ftpd/dtp/quota.h"
#include "ftpd/dtp/xferlog.h"
#include "ftpd/ftpaddr.h"
#include "ftpd/metrics.h"
#include "ftpd/options.h"
#include "ftpd/pi/commands.h"
#include "ftpd/pi/monreq.h"
#include "ftpd/pi/upload.h"

static struct listing_idcache idcache;
static struct listing_opts list_opts;

void
data_prepare(void)
{
	listing_idcache_free(&idcache);
	listing_idcache_load(&idcache, "/etc/passwd", "/etc/group");
	upload_prepare();
}

void
cmd_rest(struct ftp_session *s, const char *arg)
{
	uint64_t n;

	/* Any offset a file can have (off_t: 2^63-1); a longer run of
	 * digits is named as too large, not as no number. */
	if (number_parse(arg, 0, INT64_MAX, &n) < 0) {
		if (arg[strspn(arg, "0123456789")] == '\0')
			reply(s, FTP_ARG_SYNTAX_ERROR, "REST offset too large (at most %lld).",
			      (long long)INT64_MAX);
		else
			reply(s, FTP_ARG_SYNTAX_ERROR, "REST needs a byte offset.");
		return;
	}
	s->rest = n;
	reply(s, FTP_PENDING_FURTHER_INFO, "Restart position accepted (%llu).",
	      (unsigned long long)n);
}

void
cmd_allo(struct ftp_session *s, const char *arg)
{
	(void)arg;
	reply(s, FTP_NOT_NEEDED, "ALLO command ignored.");
}

void
cmd_type(struct ftp_session *s, const char *arg)
{
	if (strcasecmp(arg, "A") == 0 || strcasecmp(arg, "A N") == 0) {
		s->type_ascii = 1;
		reply(s, FTP_OK, "Switching to ASCII mode.");
	} else if (strcasecmp(arg, "I") == 0 || strcasecmp(arg, "L 8") == 0 ||
	           strcasecmp(arg, "L8") == 0) {
		s->type_ascii = 0;
		reply(s, FTP_OK, "Switching to Binary mode.");
	} else
		reply(s, FTP_PARAM_NOT_IMPLEMENTED, "Type not supported.");
}

void
cmd_mode(struct ftp_session *s, const char *arg)
{
	if (strcasecmp(arg, "S") == 0)
		reply(s, FTP_OK, "Mode set to S.");
	else
		reply(s, FTP_PARAM_NOT_IMPLEMENTED, "Only stream mode (S) is supported.");
}

void
cmd_stru(struct ftp_session *s, const char *arg)
{
	if (strcasecmp(arg, "F") == 0)
		reply(s, FTP_OK, "Structure set to F.");
	else
		reply(s, FTP_PARAM_NOT_IMPLEMENTED, "Only file structure (F) is supported.");
}

/* ---- data connections ---- */

static void
close_pasv(struct ftp_session *s)
{
	if (s->pasv_fd >= 0)
		close(s->pasv_fd);
	s->pasv_fd = -1;
}

/* SECURITY: one listening data socket per session, on the control
 * connection's local address, in the configured port range. */
static int
open_pasv(struct ftp_session *s, uint16_t *port)
{
	struct sockaddr_storage a = s->local;
	socklen_t len =
	    a.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	unsigned lo = (unsigned)opt.pasv_min_port, hi = (unsigned)opt.pasv_max_port;
	int fd;

	close_pasv(s);
	s->port_set = 0;
	fd = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (lo == 0 || hi < lo) {
		lo = 0;
		hi = 0;
	}
	unsigned start = 0;

	/* A random first try, so ports are not predictable from session to
	 * session (every session is forked from the same listener state). */
	if (getrandom(&start, sizeof(start), 0) != sizeof(start))
		start = (unsigned)getpid();
	for (unsigned tries = 0, span = hi - lo + 1; tries < span; tries++) {
		uint16_t p = (uint16_t)(lo == 0 ? 0 : lo + (start + tries) % span);

		if (a.ss_family == AF_INET)
			((struct sockaddr_in *)&a)->sin_port = htons(p);
		else
			((struct sockaddr_in6 *)&a)->sin6_port = htons(p);
		if (bind(fd, (struct sockaddr *)&a, len) == 0 && listen(fd, 1) == 0) {
			len = sizeof(a);
			getsockname(fd, (struct sockaddr *)&a, &len);
			*port = ftpaddr_port(&a);
			s->pasv_fd = fd;
			return 0;
		}
	}
	close(fd);
	return -1;
}

void
cmd_pasv(struct ftp_session *s, const char *arg)
{
	struct buffer r = BUFFER_INIT;
	struct sockaddr_storage adv = s->local;
	uint16_t port;

	(void)arg;
	if (s->epsv_all) {
		reply(s, FTP_BAD_SEQUENCE, FTP_TEXT_EPSV_ALL);
		return;
	}
	if (opt.pasv_address[0] != '\0') {
		/* Checked (and resolved) when the configuration was loaded. */
		memset(&adv, 0, sizeof(adv));
		adv.ss_family = AF_INET;
		((struct sockaddr_in *)&adv)->sin_addr = ftpd_loaded.pasv_addr;
	}
	if (adv.ss_family != AF_INET) {
		reply(s, FTP_PROTO_NOT_SUPPORTED, "PASV is IPv4 only: use EPSV.");
		return;
	}
	if (open_pasv(s, &port) < 0) {
		reply(s, FTP_CANNOT_OPEN_DATA, FTP_TEXT_NO_PASV_PORT);
		return;
	}
	ftpaddr_format_pasv(&r, &adv, port);
	conn_printf(&s->ctl, "%s\r\n", buffer_cstr(&r));
	buffer_free(&r);
}

void
cmd_epsv(struct ftp_session *s, const char *arg)
{
	struct buffer r = BUFFER_INIT;
	int family = 0, all = 0;
	uint16_t port;

	if (ftpaddr_parse_epsv(arg, &family, &all) != FTPADDR_OK) {
		reply(s, FTP_PROTO_NOT_SUPPORTED, FTP_TEXT_PROTO_1_2);
		return;
	}
	if (all) {
		s->epsv_all = 1;
		reply(s, FTP_OK, "EPSV ALL ok.");
		return;
	}
	if (family != 0 && family != s->local.ss_family) {
		reply(s, FTP_PROTO_NOT_SUPPORTED, "Network protocol not supported, use (%d)",
		      s->local.ss_family == AF_INET ? 1 : 2);
		return;
	}
	if (open_pasv(s, &port) < 0) {
		reply(s, FTP_CANNOT_OPEN_DATA, FTP_TEXT_NO_PASV_PORT);
		return;
	}
	ftpaddr_format_epsv(&r, port);
	conn_printf(&s->ctl, "%s\r\n", buffer_cstr(&r));
	buffer_free(&r);
}

/* SECURITY: no FTP bounce: active connections go only to the control
 * connection's peer, never to a privileged port or to NFS (2049). */
static void
set_port(struct ftp_session *s, const struct sockaddr_storage *a)
{
	uint16_t port = ftpaddr_port(a);

	if (s->epsv_all) {
		reply(s, FTP_BAD_SEQUENCE, FTP_TEXT_EPSV_ALL);
		return;
	}
	if (!opt.port_promiscuous &&
	    (!ftpaddr_same_host(a, &s->peer) || port < 1024 || port == 2049)) {
		log_msg(LOG_WARNING, "refused PORT/EPRT to another host or a reserved port (%u)",
		        port);
		monreq_metric(s, M_REFUSED_BOUNCE, 1);
		reply(s, FTP_SYNTAX_ERROR, FTP_TEXT_ILLEGAL_PORT);
		return;
	}
	close_pasv(s);
	s->port_addr = *a;
	s->port_set = 1;
	reply(s, FTP_OK, "PORT command successful. Consider using PASV.");
}

void
cmd_port(struct ftp_session *s, const char *arg)
{
	struct sockaddr_storage a;

	if (ftpaddr_parse_port(arg, &a) != FTPADDR_OK)
		reply(s, FTP_ARG_SYNTAX_ERROR, FTP_TEXT_ILLEGAL_PORT);
	else
		set_port(s, &a);
}

void
cmd_eprt(struct ftp_session *s, const char *arg)
{
	struct sockaddr_storage a;
	int rc = ftpaddr_parse_eprt(arg, &a);

	if (rc == FTPADDR_FAMILY)
		reply(s, FTP_PROTO_NOT_SUPPORTED, FTP_TEXT_PROTO_1_2);
	else if (rc != FTPADDR_OK)
		reply(s, FTP_ARG_SYNTAX_ERROR, "Illegal EPRT command.");
	else
		set_port(s, &a);
}

/* ---- transfers ---- */

static void
xferlog(struct ftp_session *s, const char *vpath, char dir, int complete, double secs)
{
	struct xfer_record r = {0};
	struct buffer line = BUFFER_INIT;

	/* The session's own log line (session id, client, user in its
	 * prefix); the xferlog line keeps wu-ftpd's format for analysers. */
	log_msg(LOG_INFO, "transfer %s %s %llu bytes %s", dir == 'o' ? "RETR" : "STOR", vpath,
	        (unsigned long long)dtp_progress()->done, complete ? "complete" : "incomplete");
	monreq_metric(s, dir == 'o' ? M_BYTES_OUT : M_BYTES_IN, (uint64_t)dtp_progress()->done);
	monreq_metric(s,
	              dir == 'o' ? (complete ? M_FTP_DOWNLOAD_COMPLETE : M_FTP_DOWNLOAD_INCOMPLETE)
	                         : (complete ? M_FTP_UPLOAD_COMPLETE : M_FTP_UPLOAD_INCOMPLETE),
	              1);
	if (!s->xferlog)
		return;
	r.localtime = 1;
	r.seconds = secs;
	r.host = s->peer_text;
	r.bytes = (long long)dtp_progress()->done;
	r.path = vpath;
	r.type = s->type_ascii ? 'a' : 'b';
	r.direction = dir;
	r.access = s->kind == LOGIN_ANON ? 'a' : s->kind == LOGIN_GUEST ? 'g' : 'r';
	r.user = s->kind == LOGIN_ANON ? s->anon_password : s->login_name;
	r.complete = complete;
	xferlog_format(&line, &r);
	if (monreq_xferlog(s, &line) < 0)
		log_msg(LOG_NOTICE, "xferlog line for %s too long; not written", vpath);
	buffer_free(&line);
}

/* SIGKILL the DTP. With a quota, under the usage lock: a DTP is never
 * killed between charging the usage file and counting the charge in
 * dtp_progress()->charged, which the upload's end settles against. */
static void
kill_dtp(struct ftp_session *s)
{
	struct quota_usage u;
	int locked = quota_begin(&u) == 0;

	sandbox_signal(s->dtp_pidfd, SIGKILL);
	if (locked)
		quota_end();
}

static int
handle_during_transfer(struct ftp_session *s, char *line, int *aborted)
{
	struct dtp_progress *p = dtp_progress();

	if (strcasecmp(line, "ABOR") == 0) {
		kill_dtp(s);
		*aborted = 1;
		return 1;
	}
	if (strcasecmp(line, "STAT") == 0)
		reply(s, FTP_FILE_STATUS, "Status: %llu of %llu bytes transferred.",
		      (unsigned long long)p->done, (unsigned long long)p->total);
	else if (strcasecmp(line, "NOOP") == 0)
		reply(s, FTP_OK, FTP_TEXT_NOOP);
	else if (strcasecmp(line, "QUIT") == 0)
		s->quit_pending = 1;
	else
		reply(s, FTP_BAD_SEQUENCE,
		      "Transfer in progress: only ABOR, STAT, NOOP and QUIT now.");
	return 0;
}

/* Answer what the client sent while the DTP runs; 1 once it sent ABOR. */
static int
answer_during_transfer(struct ftp_session *s, int *aborted)
{
	enum conn_status st;
	char *line;
	size_t len;

	while ((st = conn_try_line(&s->ctl, &line, &len)) != CONN_AGAIN) {
		if (st == CONN_TOOLONG) {
			reply(s, FTP_SYNTAX_ERROR, FTP_TEXT_LINE_TOO_LONG);
			continue;
		}
		pi_strip_telnet(line);
		if (handle_during_transfer(s, line, aborted))
			return 1;
	}
	return 0;
}

/* One event from the DTP: CONNECTED is answered with 150 and returns 0
 * (keep waiting); anything else is the result, 1. A closed pipe leaves
 * *result as it was. */
static int
read_dtp_event(struct ftp_session *s, const char *opening, int *result)
{
	char ev;

	if (read(s->dtp_fd, &ev, 1) != 1)
		return 1;
	if (ev == DTP_EV_CONNECTED) {
		reply(s, FTP_DATA_OPENING, "%s", opening);
		return 0;
	}
	*result = ev;
	return 1;
}

/* What an upload changed in the quota usage (dtp/quota.c), settled when
 * it ends. */
struct upload_charge {
	int new_name;      /* a quota_files slot is held: the name was free */
	uint64_t old_size; /* upload_atomic=NO: the size of the file opened in place */
	uint64_t credit;   /* bytes of the file the upload replaces */
	uint64_t opened;   /* the target's size once opened, counted */
};

/* The upload whose DTP runs, so a client that leaves mid-transfer leaves
 * no anonymous partial behind. */
static struct upload *current_upload;
static struct upload_charge *current_charge;

static void upload_settle(struct ftp_session *s, struct upload *u, struct upload_charge *c,
                          int published, int64_t replaced);

/* The client is gone: so is its transfer. */
static void __attribute__((noreturn)) abandon_transfer(struct ftp_session *s)
{
	kill_dtp(s);
	waitpid(s->dtp_pid, NULL, 0);
	if (current_upload != NULL) {
		upload_fail(s, current_upload);
		upload_settle(s, current_upload, current_charge, 0, -1);
	}
	sandbox_exit(0);
}

/* Collect the DTP; one that died before it reported is logged. */
static void
reap_dtp(struct ftp_session *s, int result)
{
	int status;

	while (waitpid(s->dtp_pid, &status, 0) < 0 && errno == EINTR)
		;
	if (result == DTP_EV_NETFAIL && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		log_msg(LOG_ERR, "the DTP ended without a report (%s %d)",
		        WIFSIGNALED(status) ? "signal" : "exit",
		        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	close(s->dtp_fd);
	close(s->dtp_pidfd);
	s->dtp_fd = -1;
	s->dtp_pidfd = -1;
	s->dtp_pid = 0;
}

/* Wait for the DTP while answering the control connection; returns its
 * result, or DTP_EV_ABORTED. */
static int
transfer_wait(struct ftp_session *s, const char *opening)
{
	int aborted = 0, result = DTP_EV_NETFAIL;

	for (;;) {
		struct pollfd p[2] = {{.fd = s->ctl.fd, .events = POLLIN},
		                      {.fd = s->dtp_fd, .events = POLLIN}};

		if (answer_during_transfer(s, &aborted))
			break;
		conn_flush(&s->ctl);
		if (poll(p, 2, -1) < 0) {
			netio_status_if_asked();
			continue;
		}
		if (p[1].revents) {
			if (read_dtp_event(s, opening, &result))
				break;
			continue;
		}
		if (p[0].revents && conn_fill(&s->ctl, 0) != CONN_LINE)
			abandon_transfer(s);
	}
	if (aborted)
		result = DTP_EV_ABORTED;
	reap_dtp(s, result);
	return result;
}

#define ANY_KIND (-1)
/* The PI's own: an upload was published, but its hook event not queued. */
#define PI_EV_UNQUEUED 'H'
#define TEXT_NOREUSE                                                                               \
	"Data connection refused: it must resume the control connection's TLS session "            \
	"(require_ssl_reuse=YES). Use a client that does (curl, lftp), or ask the admin to set "   \
	"require_ssl_reuse=NO."
#define TEXT_TOOMANY                                                                               \
	"Listing stopped: the directory has more entries than max_list_entries allows; "           \
	"list a narrower pattern."
#define TEXT_TOODEEP                                                                               \
	"Listing stopped: the tree goes deeper than ls_recurse_max_depth allows; list a "          \
	"subdirectory."
#define TEXT_TOOBIG                                                                                \
	"Listing stopped: the tree has more entries than ls_recurse_max_entries allows; list a "   \
	"subdirectory."
#define TEXT_UNCLEAN                                                                               \
	"Transfer complete, but the TLS stream ended without close_notify: logged as incomplete."

/* How the PI answers each way a transfer can end. The first row for the
 * event and the transfer's kind wins; an event without a row is answered
 * as DTP_EV_NETFAIL. */
static const struct dtp_outcome {
	int event;
	int kind; /* enum dtp_kind, or ANY_KIND */
	int code;
	const char *text;
} dtp_outcomes[] = {
    /* clang-format off */
    {DTP_EV_DONE,     DTP_LIST, FTP_TRANSFER_COMPLETE, "Directory send OK."},
    {DTP_EV_DONE,     ANY_KIND, FTP_TRANSFER_COMPLETE, "Transfer complete."},
    {DTP_EV_NOCONN,   ANY_KIND, FTP_CANNOT_OPEN_DATA,  "Failed to establish connection."},
    {DTP_EV_FILEFAIL, DTP_STOR, FTP_LOCAL_ERROR,       "Failure writing to local file."},
    {DTP_EV_EXISTS,   DTP_STOR, FTP_NAME_NOT_ALLOWED,  "Could not create file: File exists."},
    {PI_EV_UNQUEUED,  DTP_STOR, FTP_LOCAL_ERROR,       "File stored, but its upload event could not be queued."},
    {DTP_EV_QUOTA,    DTP_STOR, FTP_QUOTA_EXCEEDED,    FTP_TEXT_QUOTA},
    {DTP_EV_TOOMANY,  DTP_LIST, FTP_LOCAL_ERROR,       TEXT_TOOMANY},
    {DTP_EV_TOODEEP,  DTP_LIST, FTP_LOCAL_ERROR,       TEXT_TOODEEP},
    {DTP_EV_TOOBIG,   DTP_LIST, FTP_LOCAL_ERROR,       TEXT_TOOBIG},
    {DTP_EV_FILEFAIL, ANY_KIND, FTP_LOCAL_ERROR,       "Failure reading local file."},
    {DTP_EV_TLSFAIL,  ANY_KIND, FTP_DATA_TLS_REFUSED,  "TLS negotiation on the data connection failed."},
    {DTP_EV_NOREUSE,  ANY_KIND, FTP_DATA_TLS_REFUSED,  TEXT_NOREUSE},
    {DTP_EV_UNCLEAN,  ANY_KIND, FTP_TRANSFER_COMPLETE, TEXT_UNCLEAN},
    {DTP_EV_ABORTED,  ANY_KIND, FTP_TRANSFER_ABORTED,  "Connection closed; transfer aborted."},
    {DTP_EV_NETFAIL,  DTP_STOR, FTP_TRANSFER_ABORTED,  "Failure reading network stream."},
    {DTP_EV_NETFAIL,  ANY_KIND, FTP_TRANSFER_ABORTED,  "Failure writing network stream."},
    /* clang-format on */
};

static const struct dtp_outcome *
find_outcome(int event, enum dtp_kind kind)
{
	for (size_t i = 0; i < sizeof(dtp_outcomes) / sizeof(dtp_outcomes[0]); i++)
		if (dtp_outcomes[i].event == event &&
		    (dtp_outcomes[i].kind == ANY_KIND || dtp_outcomes[i].kind == (int)kind))
			return &dtp_outcomes[i];
	return find_outcome(DTP_EV_NETFAIL, kind);
}

static void
finish_reply(struct ftp_session *s, int result, enum dtp_kind kind)
{
	const struct dtp_outcome *o = find_outcome(result, kind);

	reply(s, o->code, "%s", o->text);
	/* ABOR's own reply, after the one that ends the transfer (RFC 959 4.1.3). */
	if (result == DTP_EV_ABORTED)
		reply(s, FTP_TRANSFER_COMPLETE, "ABOR successful.");
	if (s->quit_pending)
		cmd_quit(s, "");
}

static int
data_ready(struct ftp_session *s)
{
	if (opt.ssl_enable && opt.force_local_data_ssl && s->kind != LOGIN_ANON && !s->prot_p) {
		log_msg(LOG_NOTICE, "refused a clear data connection: PROT P required");
		monreq_metric(s, M_REFUSED_TLS, 1);
		reply(s, FTP_DATA_TLS_REFUSED, "Data connections must be encrypted: use PROT P.");
		return 0;
	}
	if (!s->port_set && s->pasv_fd < 0) {
		reply(s, FTP_CANNOT_OPEN_DATA, "Use PORT, EPRT, PASV or EPSV first.");
		return 0;
	}
	return 1;
}

/* Run one transfer to its end; returns the DTP's result. */
static int
run_transfer(struct ftp_session *s, struct dtp_job *job, const char *opening, const char *verb,
             const char *path)
{
	struct buffer desc = BUFFER_INIT;
	int result;

	buffer_printf(&desc, "%s %s", verb, path);
	s->transfer = buffer_cstr(&desc);

	job->pasv_fd = s->pasv_fd;
	job->active_fd = -1;
	job->tls = s->prot_p;
	job->port_addr = s->port_addr;
	if (s->pasv_fd < 0 && opt.connect_from_port_20 && s->privileged) {
		/* SECURITY: the monitor connects; the DTP gets a connected socket. */
		job->active_fd = monreq_connect_data(s, &s->port_addr);
		if (job->active_fd < 0) {
			result = DTP_EV_NOCONN;
			goto out;
		}
	}
	if (dtp_start(s, job) < 0) {
		log_msg(LOG_ERR, "cannot start the DTP: %s", strerror(errno));
		result = DTP_EV_FILEFAIL;
		goto out;
	}
	result = transfer_wait(s, opening);
out:
	if (job->active_fd >= 0)
		close(job->active_fd);
	close_pasv(s);
	s->port_set = 0;
	s->transfer = NULL;
	buffer_free(&desc);
	return result;
}

void
cmd_retr(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT, open_text = BUFFER_INIT;
	struct dtp_job job = {.kind = DTP_RETR, .ascii = s->type_ascii};
	uint64_t rest = s->rest;
	struct stat st;
	double t0;
	int fd, result;

	s->rest = 0;
	if (!data_ready(s) || resolve(s, arg, &v) < 0)
		goto out;
	fd = fs_open(&s->fs, buffer_cstr(&v), O_RDONLY | O_NONBLOCK, 0);
	/* SECURITY: anonymous users fetch only world-readable files, so an
	 * upload drop (anon_umask 077) cannot serve what strangers leave. */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (is_anon(s) && opt.anon_world_readable_only && !(st.st_mode & S_IROTH))) {
		if (fd >= 0)
			close(fd);
		reply(s, FTP_FILE_UNAVAILABLE, "Failed to open file.");
		goto out;
	}
	fcntl(fd, F_SETFL, 0);
	if (rest > (uint64_t)st.st_size)
		rest = (uint64_t)st.st_size;
	lseek(fd, (off_t)rest, SEEK_SET);
	job.file_fd = fd;
	job.total = (uint64_t)st.st_size - rest;
	buffer_printf(&open_text, "Opening %s mode data connection for %s (%lld bytes).",
	              s->type_ascii ? "ASCII" : "BINARY", arg, (long long)st.st_size);
	t0 = (double)time(NULL);
	result = run_transfer(s, &job, buffer_cstr(&open_text), "RETR", buffer_cstr(&v));
	close(fd);
	if (result != DTP_EV_NOCONN) {
		s->bytes_out += dtp_progress()->done;
		xferlog(s, buffer_cstr(&v), 'o', result == DTP_EV_DONE, (double)time(NULL) - t0);
	}
	finish_reply(s, result, DTP_RETR);
out:
	buffer_free(&v);
	buffer_free(&open_text);
}

/* A client killed mid-upload closes both its connections at once, and in
 * stream mode the data connection's end alone reads as a complete file. So
 * an upload is published only while the control connection still stands a
 * moment after the data ended: a dying client's kernel closes the data
 * socket first (its last descriptor) and the control one right after, or
 * later when it is preempted in between. The moment is a 50th of the
 * transfer's time (at most 2% of it), from 2 to 50 ms: a transfer long
 * enough to be killed mid-stream gets the longest. */
#define UPLOAD_GRACE_MIN_MS 2
#define UPLOAD_GRACE_MAX_MS 50
static int
client_gone(struct ftp_session *s, double transfer_secs)
{
	struct pollfd p = {.fd = s->ctl.fd, .events = POLLIN | POLLRDHUP};
	double grace = transfer_secs * 1000 / 50;
	char c;

	if (grace < UPLOAD_GRACE_MIN_MS)
		grace = UPLOAD_GRACE_MIN_MS;
	if (grace > UPLOAD_GRACE_MAX_MS)
		grace = UPLOAD_GRACE_MAX_MS;
	if (s->ctl.in.len > s->ctl.consumed || poll(&p, 1, (int)grace) <= 0 ||
	    !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		return 0;
	/* Bytes before the end (a pipelined QUIT) are a client that said goodbye. */
	return recv(s->ctl.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

/* ---- quotas of uploads ----
 * The usage counts what is on disk: a partial's bytes (not as a file), and
 * during an upload of a new name one quota_files slot. The DTP charges
 * each chunk before it writes it; upload_settle trades those charges for
 * the target's real growth, so a DTP that died mid-chunk costs nothing. */

static uint64_t
add_signed(uint64_t v, int64_t d)
{
	if (d < 0)
		return (uint64_t)-d > v ? 0 : v - (uint64_t)-d;
	return v + (uint64_t)d;
}

/* Before anything is created: the name's quota_files slot (a new name)
 * and whether the root is over quota_bytes already. 0, or -1 replied. */
static int
upload_reserve(struct ftp_session *s, const char *vpath, enum upload_mode mode,
               struct upload_charge *c)
{
	struct quota_usage u;
	struct stat st;

	memset(c, 0, sizeof(*c));
	if (!quota_active())
		return 0;
	if (mode != UPLOAD_UNIQUE && fs_stat(&s->fs, vpath, &st, 0) == 0 && S_ISREG(st.st_mode)) {
		c->old_size = (uint64_t)st.st_size;
		c->credit = opt.upload_atomic ? c->old_size : 0;
	} else
		c->new_name = 1;
	if (quota_begin(&u) < 0) {
		reply_errno(s, FTP_LOCAL_ERROR, FTP_TEXT_QUOTA_FAIL);
		return -1;
	}
	if (!quota_room(&u, 0, 0, (uint64_t)c->new_name) || !quota_room(&u, 1, c->credit + 1, 0)) {
		quota_end();
		log_msg(LOG_NOTICE, "upload of %s refused: quota", vpath);
		reply(s, FTP_QUOTA_EXCEEDED, FTP_TEXT_QUOTA);
		return -1;
	}
	u.files += (uint64_t)c->new_name;
	if (quota_commit(&u) < 0) {
		reply_errno(s, FTP_LOCAL_ERROR, FTP_TEXT_QUOTA_FAIL);
		return -1;
	}
	return 0;
}

/* The target is open: count what opening it changed (REST or APPE copy
 * the old file into the partial; upload_atomic=NO truncates in place).
 * DTP_EV_DONE, or why the upload may not go on. */
static int
upload_opened(struct upload *u, struct upload_charge *c)
{
	uint64_t before = u->temp != NULL ? u->before : c->old_size;
	struct quota_usage q;
	struct stat st;
	int64_t delta;
	off_t pos;
	int ok;

	if (!quota_active())
		return DTP_EV_DONE;
	if (fstat(u->fd, &st) < 0)
		return DTP_EV_FILEFAIL;
	c->opened = (uint64_t)st.st_size;
	pos = lseek(u->fd, 0, SEEK_CUR);
	/* In place, the bytes past the write position are overwritten. */
	if (u->temp == NULL && pos >= 0 && !(fcntl(u->fd, F_GETFL) & O_APPEND) &&
	    c->opened > (uint64_t)pos)
		c->credit = c->opened - (uint64_t)pos;
	delta = (int64_t)c->opened - (int64_t)before;
	if (quota_begin(&q) < 0)
		return DTP_EV_FILEFAIL;
	ok = delta <= 0 || quota_room(&q, (uint64_t)delta, c->credit, 0);
	/* Counted either way: the settling after a refusal removes it all. */
	q.bytes = add_signed(q.bytes, delta);
	if (quota_commit(&q) < 0)
		return DTP_EV_FILEFAIL;
	return ok ? DTP_EV_DONE : DTP_EV_QUOTA;
}

/* The upload ended: settle the usage with what is on disk now. A removed
 * target gives back all it held (in place: a file too); a published
 * partial gives back the file its rename replaced (replaced, -1: none),
 * and the quota_files slot becomes the new name or goes back. */
static void
upload_settle(struct ftp_session *s, struct upload *u, struct upload_charge *c, int published,
              int64_t replaced)
{
	int64_t bytes = -(int64_t)dtp_progress()->charged, files = 0;
	int atomic = u->dirfd >= 0;
	struct stat st;

	dtp_progress()->charged = 0;
	if (c == NULL || !quota_active())
		return;
	if (u->fd >= 0 && fstat(u->fd, &st) == 0) {
		bytes += (int64_t)st.st_size - (int64_t)c->opened;
		if (st.st_nlink == 0) {
			bytes -= (int64_t)st.st_size;
			files -= !atomic;
		}
	}
	if (atomic && published) {
		bytes -= replaced > 0 ? replaced : 0;
		files += (replaced < 0) - c->new_name;
	} else if (atomic)
		files -= c->new_name;
	if (quota_add(bytes, files) < 0)
		log_msg(LOG_ERR, "quota: the upload of %s is not counted",
		        u->vpath ? u->vpath : "?");
	(void)s;
}

/* The size of what an atomic upload's rename is about to replace, or -1. */
static int64_t
upload_replaces(const struct upload *u)
{
	struct stat st;

	if (u->dirfd < 0 || fstatat(u->dirfd, u->name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode))
		return -1;
	return (int64_t)st.st_size;
}

/* The transfer ended as result: publish the upload or fail it. Returns the
 * result to answer with. */
static int
upload_end(struct ftp_session *s, struct upload *u, struct upload_charge *c, int result,
           double secs)
{
	int published =
	    result == DTP_EV_DONE || (result == DTP_EV_UNCLEAN && !opt.delete_failed_uploads);
	int64_t replaced;

	if (published && client_gone(s, secs)) {
		log_msg(LOG_NOTICE, "the client left before the 226 of %s: not published",
		        u->vpath);
		upload_fail(s, u);
		upload_settle(s, u, c, 0, -1);
		upload_close(u);
		sandbox_exit(0);
	}
	if (result == DTP_EV_QUOTA) {
		/* Nothing of an upload past the quota stays, not even a partial
		 * to resume: it would hold the space it was refused. In place, a
		 * new file goes; an old one is already overwritten. */
		log_msg(LOG_NOTICE, "upload of %s stopped: quota", u->vpath);
		u->resumable = 0;
		if (u->temp == NULL && u->dirfd < 0 && c->new_name)
			fs_unlink(&s->fs, u->vpath);
	}
	if (!published) {
		upload_fail(s, u);
		upload_settle(s, u, c, 0, -1);
		return result;
	}
	replaced = upload_replaces(u);
	if (upload_publish(s, u) == 0) {
		upload_settle(s, u, c, 1, replaced);
		return result;
	}
	log_msg(LOG_ERR, "could not publish %s: %s", u->vpath, strerror(errno));
	result = errno == EEXIST ? DTP_EV_EXISTS : DTP_EV_FILEFAIL;
	upload_fail(s, u);
	upload_settle(s, u, c, 0, -1);
	return result;
}

/* upload_hook: a published upload's event is on disk before the 226 goes
 * out (the monitor answers once it is queued); the 226 never waits for
 * the hook itself. Returns the result to answer with. */
static int
upload_reported(struct ftp_session *s, const struct upload *u, int result)
{
	int published =
	    result == DTP_EV_DONE || (result == DTP_EV_UNCLEAN && !opt.delete_failed_uploads);

	if (published && monreq_hook(s, HOOK_UPLOAD, u->vpath, NULL) < 0)
		return PI_EV_UNQUEUED;
	return result;
}

static void
upload(struct ftp_session *s, const char *arg, enum upload_mode mode)
{
	struct buffer v = BUFFER_INIT, open_text = BUFFER_INIT;
	struct dtp_job job = {.kind = DTP_STOR, .ascii = s->type_ascii};
	uint64_t rest = s->rest;
	struct timespec m0, m1;
	struct upload_charge charge;
	struct upload u;
	double t0;
	int result;

	s->rest = 0;
	if (!pi_may_write(s, mode == UPLOAD_APPEND && is_anon(s) ? W_OTHER : W_UPLOAD) ||
	    !data_ready(s))
		goto out;
	if (rest > 0 && is_anon(s) && !opt.anon_other_write_enable) {
		reply(s, FTP_FILE_UNAVAILABLE,
		      "Permission denied: anonymous uploads cannot resume.");
		goto out;
	}
	if (resolve(s, mode == UPLOAD_UNIQUE && arg[0] == '\0' ? "upload" : arg, &v) < 0 ||
	    upload_reserve(s, buffer_cstr(&v), mode, &charge) < 0)
		goto out;
	if (upload_open(s, &u, &v, mode, rest) < 0) {
		if (charge.new_name && quota_add(0, -1) < 0)
			log_msg(LOG_ERR, "quota: a file slot of %s is not returned",
			        buffer_cstr(&v));
		goto out;
	}
	job.file_fd = u.fd;
	if (mode == UPLOAD_UNIQUE) {
		const char *slash = strrchr(buffer_cstr(&v), '/');

		buffer_printf(&open_text, "FILE: %s", slash ? slash + 1 : buffer_cstr(&v));
	} else
		buffer_puts(&open_text, "Ok to send data.");
	t0 = (double)time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &m0);
	current_upload = &u;
	current_charge = &charge;
	dtp_progress()->charged = 0;
	dtp_progress()->done = 0;
	result = upload_opened(&u, &charge);
	job.quota_credit = charge.credit;
	if (result == DTP_EV_DONE)
		result = run_transfer(s, &job, buffer_cstr(&open_text),
		                      mode == UPLOAD_UNIQUE   ? "STOU"
		                      : mode == UPLOAD_APPEND ? "APPE"
		                                              : "STOR",
		                      buffer_cstr(&v));
	current_upload = NULL;
	current_charge = NULL;
	clock_gettime(CLOCK_MONOTONIC, &m1);
	result =
	    upload_end(s, &u, &charge, result,
	               (double)(m1.tv_sec - m0.tv_sec) + (double)(m1.tv_nsec - m0.tv_nsec) / 1e9);
	result = upload_reported(s, &u, result);
	upload_close(&u);
	if (result != DTP_EV_NOCONN) {
		s->bytes_in += dtp_progress()->done;
		xferlog(s, buffer_cstr(&v), 'i', result == DTP_EV_DONE, (double)time(NULL) - t0);
	}
	finish_reply(s, result, DTP_STOR);
out:
	buffer_free(&v);
	buffer_free(&open_text);
}

void
cmd_stor(struct ftp_session *s, const char *arg)
{
	upload(s, arg, UPLOAD_STORE);
}

void
cmd_appe(struct ftp_session *s, const char *arg)
{
	upload(s, arg, UPLOAD_APPEND);
}

void
cmd_stou(struct ftp_session *s, const char *arg)
{
	upload(s, arg, UPLOAD_UNIQUE);
}

static void
fill_list_opts(struct ftp_session *s)
{
	list_opts.ids = &idcache;
	list_opts.hide_ids = opt.hide_ids;
	list_opts.facts = s->mlst_facts;
	list_opts.perm.uid = s->uid;
	list_opts.perm.gid = s->gid;
	list_opts.perm.rights = 0;
	if (opt.write_enable && (!is_anon(s) || opt.anon_upload_enable))
		list_opts.perm.rights |= LISTING_RIGHT_WRITE;
	if (opt.write_enable && (!is_anon(s) || opt.anon_other_write_enable))
		list_opts.perm.rights |= LISTING_RIGHT_DELETE | LISTING_RIGHT_RENAME;
	list_opts.now = time(NULL);
	list_opts.hide = &s->hide;
	list_opts.deny = &s->deny;
	list_opts.max_entries = opt.max_list_entries;
	list_opts.recurse_depth = opt.ls_recurse_max_depth;
	list_opts.recurse_entries = opt.ls_recurse_max_entries;
}

/* LIST, NLST and MLSD: what each lists, whether ls options ("-al", the
 * letters are listing_parse_args') may come before the path, and the text
 * refusing a path it cannot list. */
enum { LIST_CMD_LIST, LIST_CMD_NLST, LIST_CMD_MLSD };
static const struct list_cmd {
	const char *verb;
	int flags; /* LS_* */
	int ls_options;
	const char *unlistable;
} list_cmds[] = {
    /* clang-format off */
    [LIST_CMD_LIST] = {"LIST", LS_LONG, 1, "No such file or directory."},
    [LIST_CMD_NLST] = {"NLST", LS_NLST, 1, "No such file or directory."},
    [LIST_CMD_MLSD] = {"MLSD", LS_MLSD, 0, "Not a directory or not found."},
    /* clang-format on */
};

/* A path named without glob characters must exist (MLSD: be a directory);
 * replies and returns -1 when it does not. */
static int
check_list_path(struct ftp_session *s, const struct list_cmd *c, const char *path)
{
	int dir_only = (c->flags & LS_MLSD) != 0;
	struct buffer v = BUFFER_INIT;
	struct stat st;

	if (path[0] == '\0' || listing_has_glob(path))
		return 0;
	if (resolve(s, path, &v) < 0) {
		buffer_free(&v);
		return -1;
	}
	if (fs_stat(&s->fs, buffer_cstr(&v), &st, 1) < 0 || (dir_only && !S_ISDIR(st.st_mode))) {
		buffer_free(&v);
		reply(s, dir_only && errno != ENOENT ? FTP_ARG_SYNTAX_ERROR : FTP_FILE_UNAVAILABLE,
		      "%s", c->unlistable);
		return -1;
	}
	buffer_free(&v);
	return 0;
}

static void
list_common(struct ftp_session *s, const char *arg, const struct list_cmd *c)
{
	struct dtp_job job = {.kind = DTP_LIST};
	const char *path = arg;
	int flags = c->flags;

	if (c->ls_options) {
		int options;

		listing_parse_args(arg, &options, &path);
		flags |= options;
		/* LIST -1 is names, one a line; -1l is still ls -l. */
		if ((options & LS_ONE) && !(options & LS_LONG))
			flags &= ~LS_LONG;
		/* -R is ignored unless ls_recurse_enable, as vsftpd does. */
		if (!opt.ls_recurse_enable)
			flags &= ~LS_RECURSE;
	}
	if (!data_ready(s) || check_list_path(s, c, path) < 0)
		return;
	fill_list_opts(s);
	job.list_arg = path;
	job.list_flags = flags;
	job.list_opts = &list_opts;
	finish_reply(s, run_transfer(s, &job, "Here comes the directory listing.", c->verb, path),
	             DTP_LIST);
}

void
cmd_list(struct ftp_session *s, const char *arg)
{
	list_common(s, arg, &list_cmds[LIST_CMD_LIST]);
}

void
cmd_nlst(struct ftp_session *s, const char *arg)
{
	list_common(s, arg, &list_cmds[LIST_CMD_NLST]);
}

void
cmd_mlsd(struct ftp_session *s, const char *arg)
{
	list_common(s, arg, &list_cmds[LIST_CMD_MLSD]);
}

/* MLST's d and f letters: may the entry's directory lose it or rename it. */
static int
parent_writable(struct ftp_session *s, const char *vpath)
{
	const char *slash = strrchr(vpath, '/');
	char *parent = xstrndup(vpath, slash && slash != vpath ? (size_t)(slash - vpath) : 1);
	struct stat st;
	int w = fs_stat(&s->fs, parent, &st, 1) == 0 && listing_dir_writable(&st, &list_opts.perm);

	free(parent);
	return w;
}

void
cmd_mlst(struct ftp_session *s, const char *arg)
{
	struct buffer v = BUFFER_INIT, line = BUFFER_INIT;
	struct stat st;
	time_t created;
	int has_created;

	if (resolve(s, arg[0] ? arg : ".", &v) == 0) {
		if (fs_stat(&s->fs, buffer_cstr(&v), &st, 1) < 0)
			reply_errno(s, FTP_FILE_UNAVAILABLE, "MLST failed");
		else {
			fill_list_opts(s);
			list_opts.perm.parent_writable = parent_writable(s, buffer_cstr(&v));
			has_created = (s->mlst_facts & LISTING_FACT_CREATE) &&
			              fs_created(&s->fs, buffer_cstr(&v), &created);
			listing_mlsx_line(&line, buffer_cstr(&v), &st, s->mlst_facts,
			                  &list_opts.perm,
			                  listing_idcache_user(&idcache, st.st_uid),
			                  listing_idcache_group(&idcache, st.st_gid), NULL,
			                  has_created ? &created : NULL);
			reply_start(s, FTP_FILE_ACTION_OK, "Listing %s", buffer_cstr(&v));
			conn_printf(&s->ctl, " %s", buffer_cstr(&line));
			reply(s, FTP_FILE_ACTION_OK, "End");
		}
	}
	buffer_free(&v);
	buffer_free(&line);
}

void
cmd_abor(struct ftp_session *s, const char *arg)
{
	(void)arg;
	close_pasv(s);
	s->port_set = 0;
	reply(s, FTP_DATA_OPEN_NO_TRANSFER, "No transfer to ABOR.");
}

/* STAT path: the listing LIST would send, on the control connection. */
static void
stat_path(struct ftp_session *s, const char *arg)
{
	struct buffer out = BUFFER_INIT;
	const char *path;
	int flags, rc;

	listing_parse_args(arg, &flags, &path);
	/* STAT answers on the control connection, from memory: never a walk. */
	flags &= ~LS_RECURSE;
	fill_list_opts(s);
	rc = listing_path(&s->fs, path, flags, &list_opts, &out);
	if (rc == LISTING_TOO_MANY) {
		reply(s, FTP_LOCAL_ERROR, "%s", TEXT_TOOMANY);
	} else if (rc != LISTING_OK) {
		reply(s, FTP_FILE_UNAVAILABLE, "Could not list %s.", arg);
	} else {
		reply_start(s, FTP_FILE_STATUS, "Status of %s:", arg);
		conn_append(&s->ctl, buffer_head(&out), out.len);
		reply(s, FTP_FILE_STATUS, "End of status");
	}
	buffer_free(&out);
}

static void
stat_session(struct ftp_session *s)
{
	reply_start(s, FTP_SYSTEM_STATUS, "FTP server status:");
	conn_printf(&s->ctl,
	            "     Connected to %s\r\n"
	            "     Logged in as %s\r\n"
	            "     TYPE: %s\r\n"
	            "     %s\r\n"
	            "     Session bytes in %llu, out %llu\r\n",
	            s->peer_text, s->login_name ? s->login_name : "(not logged in)",
	            s->type_ascii ? "ASCII" : "BINARY",
	            s->pasv_fd >= 0 ? "Passive mode set"
	            : s->port_set   ? "Active mode set"
	                            : "No data connection",
	            s->bytes_in, s->bytes_out);
	reply(s, FTP_SYSTEM_STATUS, "End of status");
}

void
cmd_stat(struct ftp_session *s, const char *arg)
{
	if (arg[0] != '\0' && s->kind != LOGIN_NONE)
		stat_path(s, arg);
	else
		stat_session(s);
}
