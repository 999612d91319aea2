/* cmd_hash: checksums of files: HASH with OPTS HASH and RANG
 * (draft-bryan-ftpext-hash-02), and ProFTPD mod_digest's XSHA256, XSHA512,
 * XSHA1, XMD5 and XCRC. The monitor answers each from the cache every
 * session shares, or has a hasher of its own compute it (monitor/hashcache.c
 * says why no worker computes what others are told); the PI meanwhile
 * answers ABOR, STAT, NOOP and QUIT. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "common/io/netio.h"
#include "common/priv/sandbox.h"
#include "ftpd/digest.h"
#include "ftpd/dtp/xferlog.h"
#include "ftpd/options.h"
#include "ftpd/pi/commands.h"
#include "ftpd/pi/monreq.h"

#define RANG_MAX ((uint64_t)1 << 62)

void
hash_feat(struct ftp_session *s, char *out, size_t cap)
{
	digest_feat(out, cap, (enum digest_algo)s->hash_algo);
}

void
hash_opts(struct ftp_session *s, const char *arg)
{
	int a;

	if (arg[0] == '\0') {
		reply(s, FTP_OK, "%s", digest_name((enum digest_algo)s->hash_algo));
		return;
	}
	if ((a = digest_find(arg)) < 0) {
		reply(s, FTP_ARG_SYNTAX_ERROR, "Unknown algorithm, current selection not changed.");
		return;
	}
	s->hash_algo = a;
	reply(s, FTP_OK, "%s", digest_name((enum digest_algo)a));
}

/* RANG start end (draft-bryan-ftp-range): the inclusive byte range of the
 * next HASH; "RANG 1 0" goes back to the whole file. */
void
cmd_rang(struct ftp_session *s, const char *arg)
{
	const char *sp = strchr(arg, ' ');
	uint64_t lo, hi;
	char first[32];

	if (sp == NULL || (size_t)(sp - arg) >= sizeof(first)) {
		reply(s, FTP_ARG_SYNTAX_ERROR, "RANG needs a start and an end byte.");
		return;
	}
	memcpy(first, arg, (size_t)(sp - arg));
	first[sp - arg] = '\0';
	if (number_parse(first, 0, RANG_MAX, &lo) < 0 ||
	    number_parse(sp + 1, 0, RANG_MAX, &hi) < 0) {
		reply(s, FTP_ARG_SYNTAX_ERROR, "RANG needs a start and an end byte.");
		return;
	}
	if (lo == 1 && hi == 0) {
		s->rang_set = 0;
		reply(s, FTP_PENDING_FURTHER_INFO, "Byte range reset: whole files.");
		return;
	}
	if (lo > hi) {
		reply(s, FTP_ARG_SYNTAX_ERROR, "RANG: the start is past the end.");
		return;
	}
	s->rang_set = 1;
	s->rang_start = lo;
	s->rang_end = hi;
	reply(s, FTP_PENDING_FURTHER_INFO, "Restarting at %llu. End byte range at %llu.",
	      (unsigned long long)lo, (unsigned long long)hi);
}

/* How a hash command names its refusals: HASH per the draft, the X*
 * commands as mod_digest does. */
struct hash_style {
	int ok;       /* 213 HASH, 250 X* */
	int not_file; /* a directory: 553 HASH, 550 X* */
};
static const struct hash_style style_hash = {FTP_FILE_STATUS, FTP_NAME_NOT_ALLOWED};
static const struct hash_style style_x = {FTP_FILE_ACTION_OK, FTP_FILE_UNAVAILABLE};

/* bytes: what was read for it, 0 for an answer from the cache. */
static void
hash_xferlog(struct ftp_session *s, const char *vpath, enum digest_algo a, uint64_t bytes,
             int complete, double secs)
{
	struct xfer_record r = {0};
	struct buffer line = BUFFER_INIT;

	log_msg(LOG_INFO, "hash %s %s %llu bytes %s", digest_name(a), vpath,
	        (unsigned long long)bytes, complete ? "complete" : "incomplete");
	if (!s->xferlog)
		return;
	/* wu-ftpd's format has no field for a checksum: a hash is logged as
	 * an outgoing binary transfer of the bytes it read. */
	r.localtime = 1;
	r.seconds = secs;
	r.host = s->peer_text;
	r.bytes = (long long)bytes;
	r.path = vpath;
	r.type = 'b';
	r.direction = 'o';
	r.access = s->kind == LOGIN_ANON ? 'a' : s->kind == LOGIN_GUEST ? 'g' : 'r';
	r.user = s->kind == LOGIN_ANON ? s->anon_password : s->login_name;
	r.complete = complete;
	xferlog_format(&line, &r);
	if (monreq_xferlog(s, &line) < 0)
		log_msg(LOG_NOTICE, "xferlog line for %s too long; not written", vpath);
	buffer_free(&line);
}

/* What the client may send while the hash runs; sets *aborted on ABOR. */
static void
during_hash(struct ftp_session *s, const char *line, uint64_t len, int *aborted)
{
	if (strcasecmp(line, "ABOR") == 0) {
		if (!*aborted)
			monreq_hash_abort(s);
		*aborted = 1;
	} else if (strcasecmp(line, "STAT") == 0)
		reply(s, FTP_FILE_STATUS, "Status: hashing %llu bytes of %s.",
		      (unsigned long long)len, s->transfer);
	else if (strcasecmp(line, "NOOP") == 0)
		reply(s, FTP_OK, FTP_TEXT_NOOP);
	else if (strcasecmp(line, "QUIT") == 0)
		s->quit_pending = 1;
	else
		reply(s, FTP_BAD_SEQUENCE, "Hash in progress: only ABOR, STAT, NOOP and QUIT now.");
}

/* Wait for the monitor's answer while answering the client. */
static char
hash_wait(struct ftp_session *s, uint64_t len, char hex[DIGEST_HEX_MAX], int *aborted)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = s->ctl.fd, .events = POLLIN},
		                      {.fd = s->monitor, .events = POLLIN}};
		enum conn_status st;
		char *line;
		size_t n;

		while ((st = conn_try_line(&s->ctl, &line, &n)) != CONN_AGAIN) {
			if (st == CONN_TOOLONG) {
				reply(s, FTP_SYNTAX_ERROR, FTP_TEXT_LINE_TOO_LONG);
				continue;
			}
			pi_strip_telnet(line);
			during_hash(s, line, len, aborted);
		}
		conn_flush(&s->ctl);
		if (poll(p, 2, -1) < 0) {
			netio_status_if_asked();
			continue;
		}
		if (p[1].revents)
			return monreq_hash_result(s, hex, DIGEST_HEX_MAX);
		/* The client is gone: so is the hash (the monitor sees us go). */
		if (p[0].revents && conn_fill(&s->ctl, 0) != CONN_LINE)
			sandbox_exit(0);
	}
}

/* Open path for hashing; the fd, or -1 replied. */
static int
hash_open(struct ftp_session *s, const char *path, const struct hash_style *st_, struct buffer *v,
          struct stat *st)
{
	int fd;

	if (resolve(s, path, v) < 0)
		return -1;
	fd = fs_open(&s->fs, buffer_cstr(v), O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0 || fstat(fd, st) < 0) {
		if (fd >= 0)
			close(fd);
		reply(s, FTP_FILE_UNAVAILABLE, "%s: no such file.", path);
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		reply(s, st_->not_file, "%s is a directory: it has no hash.", path);
		return -1;
	}
	/* SECURITY: what RETR would refuse, HASH refuses too (the draft's
	 * security section): a hash tells about a file's content. */
	if (!S_ISREG(st->st_mode) ||
	    (is_anon(s) && opt.anon_world_readable_only && !(st->st_mode & S_IROTH))) {
		close(fd);
		if (!S_ISREG(st->st_mode))
			reply(s, FTP_HASH_REFUSED, "%s is not a plain file: it cannot be hashed.",
			      path);
		else
			reply(s, FTP_FILE_UNAVAILABLE, "Failed to open file.");
		return -1;
	}
	return fd;
}

/* Hash [start, end] (inclusive; end past the file is its last byte) of
 * path, and reply: 213 "ALGO START-END HEX PATH" or 250 "HEX". */
static void
hash_run(struct ftp_session *s, const char *path, enum digest_algo a, uint64_t start, uint64_t end,
         int ranged, const struct hash_style *style)
{
	struct buffer v = BUFFER_INIT, desc = BUFFER_INIT;
	char hex[DIGEST_HEX_MAX];
	struct stat st;
	uint64_t size, len;
	double t0;
	int fd, aborted = 0;
	char result;

	if ((fd = hash_open(s, path, style, &v, &st)) < 0)
		goto out;
	size = (uint64_t)st.st_size;
	if (!ranged || end >= size)
		end = size == 0 ? 0 : size - 1;
	if (ranged && start > 0 && start >= size) {
		close(fd);
		reply(s, FTP_ARG_SYNTAX_ERROR,
		      "The range starts past the end of the file (%llu bytes).",
		      (unsigned long long)size);
		goto out;
	}
	len = size == 0 ? 0 : end - start + 1;
	buffer_printf(&desc, "%s", buffer_cstr(&v));
	s->transfer = buffer_cstr(&desc);
	t0 = (double)time(NULL);
	if (monreq_hash_start(s, fd, a, start, len) < 0)
		die("monitor channel lost");
	close(fd);
	result = hash_wait(s, len, hex, &aborted);
	s->transfer = NULL;
	hash_xferlog(s, buffer_cstr(&v), a, result == 'H' ? 0 : len, result == 'H' || result == 'C',
	             (double)time(NULL) - t0);
	if (aborted) {
		reply(s, FTP_TRANSFER_ABORTED, "Hash aborted.");
		reply(s, FTP_TRANSFER_COMPLETE, "ABOR successful.");
	} else if (result == 'S')
		reply(s, FTP_FILE_BUSY, "%s changed while it was hashed: try again.", path);
	else if (result != 'H' && result != 'C')
		reply(s, FTP_LOCAL_ERROR, "Failure reading local file.");
	else if (style == &style_hash)
		reply(s, style->ok, "%s %llu-%llu %s %s", digest_name(a), (unsigned long long)start,
		      (unsigned long long)end, hex, path);
	else
		reply(s, style->ok, "%s", hex);
	if (s->quit_pending)
		cmd_quit(s, "");
out:
	buffer_free(&v);
	buffer_free(&desc);
}

void
cmd_hash(struct ftp_session *s, const char *arg)
{
	int ranged = s->rang_set;

	/* A RANG is for the one HASH after it. */
	s->rang_set = 0;
	hash_run(s, arg, (enum digest_algo)s->hash_algo, ranged ? s->rang_start : 0,
	         ranged ? s->rang_end : 0, ranged, &style_hash);
}

/* The last space-separated word of the first len bytes of arg as a number:
 * the length before it into *len. -1 if it is none. */
static int
last_number(const char *arg, size_t *len, uint64_t *n)
{
	char word[32];
	size_t end = *len, sp = end;

	while (sp > 0 && arg[sp - 1] != ' ')
		sp--;
	if (sp == 0 || end - sp == 0 || end - sp >= sizeof(word))
		return -1;
	memcpy(word, arg + sp, end - sp);
	word[end - sp] = '\0';
	if (number_parse(word, 0, RANG_MAX, n) < 0)
		return -1;
	*len = sp - 1;
	return 0;
}

/* mod_digest's form: "XMD5 path [start end]", end the offset after the
 * last byte hashed. A path ending in two numbers is read as offsets. */
static void
hash_x(struct ftp_session *s, const char *arg, enum digest_algo a)
{
	size_t len = strlen(arg), plen = len;
	uint64_t start = 0, end = 0;
	char *path;

	if (last_number(arg, &plen, &end) == 0 && last_number(arg, &plen, &start) == 0 &&
	    plen > 0) {
		if (end <= start) {
			reply(s, FTP_ARG_SYNTAX_ERROR, "The end offset must be past the start.");
			return;
		}
		path = xstrndup(arg, plen);
		hash_run(s, path, a, start, end - 1, 1, &style_x);
		free(path);
		return;
	}
	hash_run(s, arg, a, 0, 0, 0, &style_x);
}

void
cmd_xsha256(struct ftp_session *s, const char *arg)
{
	hash_x(s, arg, DIGEST_SHA256);
}

void
cmd_xsha512(struct ftp_session *s, const char *arg)
{
	hash_x(s, arg, DIGEST_SHA512);
}

void
cmd_xsha1(struct ftp_session *s, const char *arg)
{
	hash_x(s, arg, DIGEST_SHA1);
}

void
cmd_xmd5(struct ftp_session *s, const char *arg)
{
	hash_x(s, arg, DIGEST_MD5);
}

void
cmd_xcrc(struct ftp_session *s, const char *arg)
{
	hash_x(s, arg, DIGEST_CRC32);
}
