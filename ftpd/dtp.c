/* dtp: the data transfer process. Binary downloads go through sendfile,
 * uploads through large reads; ASCII converts line ends in a buffered loop.
 * Progress lives in a shared page so STAT needs no message from here. */
#include "dtp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ftpaddr.h"
#include "log.h"
#include "netio.h"
#include "options.h"
#include "xmalloc.h"

#define DTP_CHUNK (1U << 20) /* sendfile per call */
#define DTP_BUF (256U * 1024)	     /* upload and ASCII buffer */

static struct dtp_progress *progress;

struct dtp_progress *
dtp_progress(void)
{
	if (progress == NULL) {
		progress = mmap(NULL, sizeof(*progress), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (progress == MAP_FAILED)
			die("mmap: %s", strerror(errno));
	}
	return progress;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Smooth per-session rate limit: sleep until done bytes are on schedule. */
static void
throttle(unsigned long rate, double start, uint64_t done)
{
	double due, now;

	if (rate == 0)
		return;
	due = start + (double)done / (double)rate;
	now = now_seconds();
	if (due > now) {
		struct timespec ts = {(time_t)(due - now),
				      (long)((due - now - (double)(time_t)(due - now)) * 1e9)};

		nanosleep(&ts, NULL);
	}
}

static void
set_timeouts(int fd, unsigned long secs)
{
	struct timeval tv = {(time_t)secs, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Passive: accept, but only the control connection's own peer.
 * SECURITY: a stranger racing for the port is closed and we keep waiting
 * for the right client until accept_timeout, so the steal fails and the
 * real transfer still happens. */
static int
data_accept(struct ftp_session *s, int lfd)
{
	double deadline = now_seconds() + (double)opt.accept_timeout;

	for (;;) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		double left = deadline - now_seconds();
		int fd;

		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			return -1;
		fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		ftpaddr_unmap(&peer);
		if (opt.pasv_promiscuous || ftpaddr_same_host(&peer, &s->peer))
			return fd;
		{
			struct buffer host = BUFFER_INIT;

			ftpaddr_format_host(&host, &peer);
			log_msg(LOG_WARNING, "refused passive data connection from %s",
				buffer_cstr(&host));
			buffer_free(&host);
		}
		close(fd);
	}
}

static int
data_connect(const struct dtp_job *job)
{
	const struct sockaddr_storage *t = &job->port_addr;
	socklen_t len = t->ss_family == AF_INET ? sizeof(struct sockaddr_in)
						: sizeof(struct sockaddr_in6);
	int fd = job->active_fd >= 0 ? job->active_fd
				     : socket(t->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (const struct sockaddr *)t, len) < 0 &&
	    (errno != EINPROGRESS ||
	     poll(&p, 1, (int)opt.connect_timeout * 1000) != 1 ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, 0);
	return fd;
}

static enum dtp_event
send_binary(int dfd, const struct dtp_job *job, unsigned long rate)
{
	double start = now_seconds();

	for (;;) {
		size_t want = DTP_CHUNK;
		ssize_t n;

		if (rate > 0 && want > rate / 4 + 1)
			want = rate / 4 + 1;
		n = sendfile(dfd, job->file_fd, NULL, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EPIPE || errno == ECONNRESET || errno == EAGAIN
				   ? DTP_EV_NETFAIL
				   : DTP_EV_FILEFAIL;
		if (n == 0)
			return DTP_EV_DONE;
		progress->done += (uint64_t)n;
		throttle(rate, start, progress->done);
	}
}

/* TYPE A out: LF becomes CR LF. SIZE and REST stay byte counts of the file. */
static enum dtp_event
send_ascii(int dfd, const struct dtp_job *job, unsigned long rate)
{
	char *in = xmalloc(DTP_BUF / 2), *out = xmalloc(DTP_BUF);
	double start = now_seconds();
	enum dtp_event ev = DTP_EV_DONE;
	ssize_t n;

	while ((n = read(job->file_fd, in, DTP_BUF / 2)) != 0) {
		size_t o = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ev = DTP_EV_FILEFAIL;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (in[i] == '\n')
				out[o++] = '\r';
			out[o++] = in[i];
		}
		if (write_all(dfd, out, o) < 0) {
			ev = DTP_EV_NETFAIL;
			break;
		}
		progress->done += (uint64_t)n;
		throttle(rate, start, progress->done);
	}
	free(in);
	free(out);
	return ev;
}

/* Uploads: large reads straight into the file. TYPE A turns CR LF into LF;
 * a CR at a chunk's end waits to see what follows. */
static enum dtp_event
receive(int dfd, const struct dtp_job *job, unsigned long rate)
{
	char *buf = xmalloc(DTP_BUF);
	double start = now_seconds();
	enum dtp_event ev = DTP_EV_DONE;
	int held_cr = 0;
	ssize_t n;

	for (;;) {
		size_t len;

		n = read(dfd, buf + held_cr, DTP_BUF - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ev = DTP_EV_NETFAIL;
			break;
		}
		if (n == 0) {
			if (held_cr && write_all(job->file_fd, "\r", 1) < 0)
				ev = DTP_EV_FILEFAIL;
			break;
		}
		progress->done += (uint64_t)n;
		len = (size_t)n + (size_t)held_cr;
		held_cr = 0;
		if (job->ascii) {
			size_t o = 0;

			for (size_t i = 0; i < len; i++) {
				if (buf[i] == '\r' && i + 1 == len) {
					held_cr = 1;
					break;
				}
				if (buf[i] == '\r' && buf[i + 1] == '\n')
					continue;
				buf[o++] = buf[i];
			}
			len = o;
		}
		if (write_all(job->file_fd, buf, len) < 0) {
			ev = DTP_EV_FILEFAIL;
			break;
		}
		if (held_cr)
			buf[0] = '\r';
		throttle(rate, start, progress->done);
	}
	free(buf);
	return ev;
}

static enum dtp_event
send_listing(struct ftp_session *s, int dfd, const struct dtp_job *job)
{
	struct buffer out = BUFFER_INIT;
	enum dtp_event ev = DTP_EV_DONE;
	int rc = listing_path(&s->fs, job->list_arg, job->list_flags, job->list_opts, &out);

	if (rc == LISTING_OK || rc == LISTING_ERR) {
		/* A vanished path lists as empty, as ls of a glob without matches. */
		if (write_all(dfd, buffer_head(&out), out.len) < 0)
			ev = DTP_EV_NETFAIL;
		progress->done += out.len;
	} else
		ev = DTP_EV_FILEFAIL;
	buffer_free(&out);
	return ev;
}

static void
report(int fd, enum dtp_event ev)
{
	char c = (char)ev;

	if (write(fd, &c, 1) != 1)
		_exit(1);
}

static void __attribute__((noreturn))
dtp_main(struct ftp_session *s, const struct dtp_job *job, int status_fd)
{
	unsigned long rate = s->max_rate;
	enum dtp_event ev;
	int dfd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The PI answers SIGTERM with 421; the DTP just stops. */
	signal(SIGTERM, SIG_DFL);
	dfd = job->pasv_fd >= 0 ? data_accept(s, job->pasv_fd) : data_connect(job);
	if (dfd < 0) {
		report(status_fd, DTP_EV_NOCONN);
		_exit(0);
	}
	set_timeouts(dfd, opt.data_connection_timeout);
	report(status_fd, DTP_EV_CONNECTED);
	switch (job->kind) {
	case DTP_RETR:
		ev = job->ascii ? send_ascii(dfd, job, rate) : send_binary(dfd, job, rate);
		break;
	case DTP_STOR:
		ev = receive(dfd, job, rate);
		break;
	default:
		ev = send_listing(s, dfd, job);
		break;
	}
	if (job->kind != DTP_STOR)
		shutdown(dfd, SHUT_WR);
	close(dfd);
	report(status_fd, ev);
	_exit(0);
}

int
dtp_start(struct ftp_session *s, const struct dtp_job *job)
{
	int p[2];
	pid_t pid;

	dtp_progress();
	progress->done = 0;
	progress->total = job->total;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		dtp_main(s, job, p[1]);
	}
	close(p[1]);
	s->dtp_pid = pid;
	s->dtp_fd = p[0];
	return 0;
}
