/* dtp: the data transfer process. Binary downloads go through sendfile,
 * uploads through large reads; ASCII converts line ends in a buffered loop.
 * Progress lives in a shared page so STAT needs no message from here.
 *
 * TLS on the data channel (PROT P) and require_ssl_reuse. The DTP does the
 * data handshake itself, after the PI has sent 150 (clients such as
 * Python's ftplib start TLS only once they read it). What it needs to check
 * that the data connection comes from the control connection's client:
 *  - session-ticket keys the session's monitor makes before it forks
 *    anything (tls_tickets_own), so the control channel's TLS (in the
 *    pre-login worker, later the relay) and every DTP of this session, and
 *    no other session, share them: a ticket the control channel issued can
 *    be opened here, under TLS 1.3 (PSK tickets) and TLS 1.2 (RFC 5077
 *    tickets) alike;
 *  - a random session id context per FTP session, set on the control
 *    connection and on each data connection. OpenSSL resumes a session
 *    only when its context matches, so a ticket from another FTP session
 *    (another client) never resumes here.
 * So SSL_session_reused() on the data connection is true exactly when the
 * client resumed this FTP session's control session; otherwise, with
 * require_ssl_reuse=YES, the transfer is refused with 522. A client that
 * resumes by session ID only (no tickets) finds no server-side cache entry
 * in this process and is refused the same way. */
#include "ftpd/dtp/dtp.h"

#include <errno.h>
#include <openssl/ssl.h>
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/pace.h"
#include "common/core/throttle.h"
#include "common/core/xmalloc.h"
#include "common/io/netio.h"
#include "common/priv/sandbox.h"
#include "ftpd/dtp/quota.h"
#include "ftpd/ftpaddr.h"
#include "ftpd/options.h"

#define DTP_CHUNK (1U << 20)  /* sendfile per call */
#define DTP_BUF (256U * 1024) /* upload and ASCII buffer */
#define DTP_PIPE (1U << 20)   /* spliced uploads: pipe size and bytes per splice */

static struct dtp_progress *progress;

/* The data connection, plain or TLS. */
struct dtp_io {
	int fd;
	SSL *ssl;
};

static int
io_write(const struct dtp_io *io, const void *buf, size_t n)
{
	if (io->ssl == NULL)
		return write_all(io->fd, buf, n);
	return tls_write(io->ssl, buf, n) == (ssize_t)n ? 0 : -1;
}

static ssize_t
io_read(const struct dtp_io *io, void *buf, size_t n)
{
	ssize_t r;

	if (io->ssl != NULL)
		return tls_read(io->ssl, buf, n);
	do
		r = read(io->fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

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
	double deadline = mono_seconds() + (double)opt.accept_timeout;

	for (;;) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		double left = deadline - mono_seconds();
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
	socklen_t len =
	    t->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd, err = 0;
	socklen_t elen = sizeof(err);
	struct pollfd p = {.events = POLLOUT};

	/* connect_from_port_20: the monitor connected it already. */
	if (job->active_fd >= 0)
		return job->active_fd;
	fd = socket(t->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	p.fd = fd;
	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (const struct sockaddr *)t, len) < 0 &&
	    (errno != EINPROGRESS || poll(&p, 1, (int)opt.connect_timeout * 1000) != 1 ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, 0);
	return fd;
}

/* What a download still has to send from the file's offset (REST
 * included): its reservations never ask for bytes past the end, so the
 * read that finds the end does not wait its turn in a shared bucket. */
static uint64_t
bytes_left(int fd)
{
	struct stat st;
	off_t at = lseek(fd, 0, SEEK_CUR);

	if (fstat(fd, &st) < 0 || at < 0 || st.st_size <= at)
		return 0;
	return (uint64_t)(st.st_size - at);
}

/* Reserve the next bytes of a download in the shared buckets (at most
 * what the file has left) and wait their turn; how many were reserved.
 * down_settle then gives back what did not go, and charges bytes the file
 * grew by since it was opened. */
static size_t
down_reserve(size_t want, uint64_t left)
{
	size_t ahead = want < left ? want : (size_t)left;

	if (ahead > 0)
		throttle_take(THROTTLE_DOWN, ahead);
	return ahead;
}

static void
down_settle(size_t ahead, ssize_t n, uint64_t *left)
{
	size_t got = n > 0 ? (size_t)n : 0;

	if (got < ahead)
		throttle_give_back(THROTTLE_DOWN, ahead - got);
	else if (got > ahead)
		throttle_take(THROTTLE_DOWN, got - ahead);
	*left -= got < *left ? got : *left;
}

/* Binary out: sendfile on a plain connection; under TLS, large reads
 * and full-size records (OpenSSL fills 16 KB records from one write). */
static enum dtp_event
send_binary(const struct dtp_io *io, const struct dtp_job *job, unsigned long rate)
{
	double start = mono_seconds();
	char *buf = io->ssl != NULL ? xmalloc(DTP_BUF) : NULL;
	enum dtp_event ev = DTP_EV_DONE;
	uint64_t left = bytes_left(job->file_fd);

	for (;;) {
		size_t want = DTP_CHUNK, ahead;
		ssize_t n;

		if (rate > 0 && want > rate / 4 + 1)
			want = rate / 4 + 1;
		if (buf != NULL && want > DTP_BUF)
			want = DTP_BUF;
		want = (size_t)throttle_chunk(THROTTLE_DOWN, want);
		if ((ahead = down_reserve(want, left)) > 0)
			want = ahead;
		if (buf != NULL) {
			n = read(job->file_fd, buf, want);
			if (n > 0 && io_write(io, buf, (size_t)n) < 0) {
				ev = DTP_EV_NETFAIL;
				break;
			}
		} else
			n = sendfile(io->fd, job->file_fd, NULL, want);
		down_settle(ahead, n, &left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ev = buf == NULL &&
			             (errno == EPIPE || errno == ECONNRESET || errno == EAGAIN)
			         ? DTP_EV_NETFAIL
			         : DTP_EV_FILEFAIL;
			break;
		}
		if (n == 0)
			break;
		progress->done += (uint64_t)n;
		pace(rate, start, progress->done);
	}
	free(buf);
	return ev;
}

/* TYPE A out: LF becomes CR LF. SIZE and REST stay byte counts of the file. */
static enum dtp_event
send_ascii(const struct dtp_io *io, const struct dtp_job *job, unsigned long rate)
{
	char *in = xmalloc(DTP_BUF / 2), *out = xmalloc(DTP_BUF);
	double start = mono_seconds();
	enum dtp_event ev = DTP_EV_DONE;
	size_t want = (size_t)throttle_chunk(THROTTLE_DOWN, DTP_BUF / 2);
	uint64_t left = bytes_left(job->file_fd);
	ssize_t n;

	for (;;) {
		size_t o = 0, ahead = down_reserve(want, left);

		n = read(job->file_fd, in, ahead > 0 ? ahead : want);
		down_settle(ahead, n, &left);
		if (n == 0)
			break;

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
		if (io_write(io, out, o) < 0) {
			ev = DTP_EV_NETFAIL;
			break;
		}
		progress->done += (uint64_t)n;
		pace(rate, start, progress->done);
	}
	free(in);
	free(out);
	return ev;
}

/* Reserve an upload's next read in the shared buckets and wait its turn:
 * on a plain connection only the bytes already there (peeked into
 * scratch, which the read then overwrites), so neither the read that finds
 * the end nor a short last chunk holds a turn for bytes that will not
 * come; under TLS, want. How many to read (0: as many as want, none
 * reserved); up_settle then gives back what did not come. */
static size_t
up_reserve(const struct dtp_io *io, char *scratch, size_t want)
{
	ssize_t there = (ssize_t)want;

	if (!throttle_on(THROTTLE_UP))
		return 0;
	if (io->ssl == NULL) {
		do
			there = recv(io->fd, scratch, want, MSG_PEEK);
		while (there < 0 && errno == EINTR);
		if (there <= 0)
			return 0; /* the read that follows finds the end or the error */
	}
	throttle_take(THROTTLE_UP, (uint64_t)there);
	return (size_t)there;
}

static void
up_settle(size_t ahead, ssize_t n)
{
	size_t got = n > 0 ? (size_t)n : 0;

	if (got < ahead)
		throttle_give_back(THROTTLE_UP, ahead - got);
	else if (got > ahead)
		throttle_take(THROTTLE_UP, got - ahead);
}

/* An upload's next n bytes, before they are written: DTP_EV_DONE, or why
 * they may not be. */
static enum dtp_event
charge(const struct dtp_job *job, size_t n)
{
	if (quota_charge(n, job->quota_credit, &progress->charged) == 0)
		return DTP_EV_DONE;
	return errno == EDQUOT ? DTP_EV_QUOTA : DTP_EV_FILEFAIL;
}

/* Binary uploads on a plain connection: splice moves the socket's pages
 * into a pipe without a copy and from there into the file, so each byte is
 * copied once (into the page cache) instead of twice through a buffer.
 * DTP_EV_DONE, a failure, or -1 when the file refuses splice (O_APPEND):
 * the first chunk is then written from the pipe and receive() goes on with
 * read and write. */
static int
receive_splice(const struct dtp_io *io, const struct dtp_job *job, unsigned long rate)
{
	double start = mono_seconds();
	int p[2], ev = DTP_EV_DONE, first = 1;
	char *scratch; /* up_reserve's peek (pages touched only when throttled) */

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	scratch = xmalloc(DTP_PIPE);
	fcntl(p[1], F_SETPIPE_SZ, DTP_PIPE);
	for (;;) {
		size_t want = rate > 0 && rate / 4 + 1 < DTP_PIPE ? rate / 4 + 1 : DTP_PIPE, ahead;
		ssize_t n;

		want = (size_t)throttle_chunk(THROTTLE_UP, want);
		if ((ahead = up_reserve(io, scratch, want)) > 0)
			want = ahead;
		n = splice(io->fd, NULL, p[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_MORE);
		up_settle(ahead, n);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ev = n == 0 ? DTP_EV_DONE : DTP_EV_NETFAIL;
			break;
		}
		progress->done += (uint64_t)n;
		if ((ev = charge(job, (size_t)n)) != DTP_EV_DONE)
			break;
		while (n > 0) {
			ssize_t w =
			    splice(p[0], NULL, job->file_fd, NULL, (size_t)n, SPLICE_F_MOVE);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EINVAL && first) {
				/* The bytes in the pipe are not lost: write them. */
				char *buf = xmalloc((size_t)n);
				ssize_t r = read(p[0], buf, (size_t)n);

				w = r == n && write_all(job->file_fd, buf, (size_t)n) == 0 ? -2
				                                                           : -1;
				free(buf);
				if (w == -2) {
					close(p[0]);
					close(p[1]);
					free(scratch);
					return -1;
				}
			}
			if (w <= 0) {
				ev = DTP_EV_FILEFAIL;
				goto out;
			}
			n -= w;
		}
		first = 0;
		pace(rate, start, progress->done);
	}
out:
	close(p[0]);
	close(p[1]);
	free(scratch);
	return ev;
}

/* Uploads: large reads straight into the file. TYPE A turns CR LF into LF;
 * a CR at a chunk's end waits to see what follows. */
static enum dtp_event
receive(const struct dtp_io *io, const struct dtp_job *job, unsigned long rate)
{
	char *buf = xmalloc(DTP_BUF);
	double start = mono_seconds();
	enum dtp_event ev = DTP_EV_DONE;
	int held_cr = 0;
	ssize_t n;

	if (io->ssl == NULL && !job->ascii) {
		int rc = receive_splice(io, job, rate);

		if (rc >= 0) {
			free(buf);
			return (enum dtp_event)rc;
		}
	}
	for (;;) {
		size_t len, want = (size_t)throttle_chunk(THROTTLE_UP, DTP_BUF - 1),
		            ahead = up_reserve(io, buf + held_cr, want);

		n = io_read(io, buf + held_cr, ahead > 0 ? ahead : want);
		up_settle(ahead, n);
		if (n < 0) {
			ev = DTP_EV_NETFAIL;
			break;
		}
		if (n == 0 && io->ssl != NULL && !tls_clean_close(io->ssl))
			ev = DTP_EV_UNCLEAN; /* ended without close_notify: maybe truncated */
		if (n == 0) {
			if (held_cr) {
				enum dtp_event c = charge(job, 1);

				if (c != DTP_EV_DONE)
					ev = c;
				else if (write_all(job->file_fd, "\r", 1) < 0)
					ev = DTP_EV_FILEFAIL;
			}
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
		if ((ev = charge(job, len)) != DTP_EV_DONE)
			break;
		if (write_all(job->file_fd, buf, len) < 0) {
			ev = DTP_EV_FILEFAIL;
			break;
		}
		if (held_cr)
			buf[0] = '\r';
		pace(rate, start, progress->done);
	}
	free(buf);
	return ev;
}

/* A listing's sink: each chunk goes out as it is made. */
static int
listing_flush(void *ctx, const void *buf, size_t len)
{
	const struct dtp_io *io = ctx;

	if (io_write(io, buf, len) < 0)
		return -1;
	progress->done += len;
	return 0;
}

/* LIST/NLST/MLSD stream: the first bytes leave before the last entry is
 * stat'ed, and an ABOR (the PI kills this process) stops it at once. */
static enum dtp_event
send_listing(struct ftp_session *s, const struct dtp_io *io, const struct dtp_job *job)
{
	struct listing_opts opts = *job->list_opts;
	struct buffer out = BUFFER_INIT;
	enum dtp_event ev = DTP_EV_DONE;
	int rc;

	opts.flush = listing_flush;
	opts.flush_ctx = (void *)io;
	rc = listing_path(&s->fs, job->list_arg, job->list_flags, &opts, &out);
	switch (rc) {
	case LISTING_OK:
	case LISTING_ERR:
		/* A vanished path lists as empty, as ls of a glob without
		 * matches; what is left is a single line (a file named). */
		if (out.len > 0 && listing_flush((void *)io, buffer_head(&out), out.len) < 0)
			ev = DTP_EV_NETFAIL;
		break;
	case LISTING_TOO_MANY:
		log_msg(LOG_NOTICE,
		        "listing of %s refused: more than %lu entries (max_list_entries)",
		        job->list_arg[0] ? job->list_arg : ".", opts.max_entries);
		ev = DTP_EV_TOOMANY;
		break;
	case LISTING_TOO_DEEP:
	case LISTING_TOO_BIG:
		/* What was walked before the bound is sent, then the 451. */
		log_msg(LOG_NOTICE, "recursive listing of %s stopped: %s",
		        job->list_arg[0] ? job->list_arg : ".",
		        rc == LISTING_TOO_DEEP ? "more than ls_recurse_max_depth levels"
		                               : "more than ls_recurse_max_entries entries");
		ev = rc == LISTING_TOO_DEEP ? DTP_EV_TOODEEP : DTP_EV_TOOBIG;
		if (out.len > 0 && listing_flush((void *)io, buffer_head(&out), out.len) < 0)
			ev = DTP_EV_NETFAIL;
		break;
	case LISTING_SINK_FAILED:
		ev = DTP_EV_NETFAIL;
		break;
	default:
		ev = DTP_EV_FILEFAIL;
		break;
	}
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

/* PROT P: the handshake, and the reuse check described at the top. */
static enum dtp_event
data_tls(struct ftp_session *s, struct dtp_io *io)
{
	io->ssl = tls_accept_data(ftp_tls_ctx, io->fd, (int)opt.data_connection_timeout * 1000,
	                          s->sid_ctx, sizeof(s->sid_ctx));
	if (io->ssl == NULL)
		return DTP_EV_TLSFAIL;
	if (opt.require_ssl_reuse && !tls_reused(io->ssl)) {
		log_msg(LOG_NOTICE, "data connection refused: TLS session not reused");
		return DTP_EV_NOREUSE;
	}
	return DTP_EV_DONE;
}

static void __attribute__((noreturn))
dtp_main(struct ftp_session *s, const struct dtp_job *job, int status_fd)
{
	/* upload_max_rate and download_max_rate, when set, for their
	 * direction; else the session's anon_max_rate or local_max_rate. */
	unsigned long rate = job->kind == DTP_STOR && opt.upload_max_rate > 0 ? opt.upload_max_rate
	                     : job->kind == DTP_RETR && opt.download_max_rate > 0
	                         ? opt.download_max_rate
	                         : s->max_rate;
	struct dtp_io io = {-1, NULL};
	enum dtp_event ev = DTP_EV_DONE;

	/* Under the DTP's filter already: sandbox_fork installed it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* SECURITY: only a PROT P transfer needs the context (and so the
	 * key); a clear one frees this process's copy before any data byte. */
	if (!job->tls) {
		/* SECURITY: on a one-worker (anonymous-only) session the PI is
		 * the control connection's TLS end, and its SSL holds a
		 * reference to the key: free this copy too (no bytes are sent;
		 * the PI keeps the connection). */
		if (s->ctl.ssl != NULL) {
			SSL_free(s->ctl.ssl);
			s->ctl.ssl = NULL;
		}
		tls_ctx_drop(&ftp_tls_ctx);
	}
	/* The PI answers SIGTERM with 421 and SIGUSR1 with a status line;
	 * the DTP just stops, and stays quiet. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGUSR1, SIG_IGN);
	if (rate > 0 && job->kind != DTP_LIST)
		log_msg(LOG_INFO, "%s limited to %lu bytes/s",
		        job->kind == DTP_STOR ? "upload" : "download", rate);
	io.fd = job->pasv_fd >= 0 ? data_accept(s, job->pasv_fd) : data_connect(job);
	if (io.fd < 0) {
		report(status_fd, DTP_EV_NOCONN);
		_exit(0);
	}
	set_timeouts(io.fd, opt.data_connection_timeout);
	report(status_fd, DTP_EV_CONNECTED);
	if (job->tls)
		ev = data_tls(s, &io);
	if (ev == DTP_EV_DONE) {
		switch (job->kind) {
		case DTP_RETR:
			ev = job->ascii ? send_ascii(&io, job, rate) : send_binary(&io, job, rate);
			break;
		case DTP_STOR:
			ev = receive(&io, job, rate);
			break;
		default:
			ev = send_listing(s, &io, job);
			break;
		}
	}
	if (io.ssl != NULL)
		tls_close(io.ssl); /* close_notify */
	else if (job->kind != DTP_STOR)
		shutdown(io.fd, SHUT_WR);
	close(io.fd);
	report(status_fd, ev);
	_exit(0);
}

int
dtp_start(struct ftp_session *s, const struct dtp_job *job)
{
	int p[2], pidfd = -1;
	pid_t pid;

	dtp_progress();
	progress->done = 0;
	progress->total = job->total;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* A pidfd, not kill(): the PI may signal only this child. */
	pid = sandbox_fork(&pidfd);
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
	s->dtp_pidfd = pidfd;
	s->dtp_fd = p[0];
	return 0;
}
