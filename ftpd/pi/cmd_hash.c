/* cmd_hash: checksums of files: HASH with OPTS HASH and RANG
 * (draft-bryan-ftpext-hash-02), and ProFTPD mod_digest's XSHA256, XSHA512,
 * XSHA1, XMD5 and XCRC. The DTP reads and hashes (dtp/digest.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "ftpd/dtp/digest.h"
#include "ftpd/dtp/dtp.h"
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

static void
hash_xferlog(struct ftp_session *s, const char *vpath, enum digest_algo a, int complete,
             double secs)
{
	struct xfer_record r = {0};
	struct buffer line = BUFFER_INIT;

	log_msg(LOG_INFO, "hash %s %s %llu bytes %s", digest_name(a), vpath,
	        (unsigned long long)dtp_progress()->done, complete ? "complete" : "incomplete");
	if (!s->xferlog)
		return;
	/* wu-ftpd's format has no field for a checksum: a hash is logged as
	 * an outgoing binary transfer of the bytes it read. */
	r.localtime = 1;
	r.seconds = secs;
	r.host = s->peer_text;
	r.bytes = (long long)dtp_progress()->done;
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
	struct dtp_job job = {.kind = DTP_HASH, .hash_algo = a};
	struct stat st;
	uint64_t size;
	double t0;
	int fd, result;

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
	job.file_fd = fd;
	job.hash_start = start;
	job.total = size == 0 ? 0 : end - start + 1;
	buffer_printf(&desc, "HASH %s", buffer_cstr(&v));
	t0 = (double)time(NULL);
	result = data_run_dtp(s, &job, buffer_cstr(&desc));
	close(fd);
	hash_xferlog(s, buffer_cstr(&v), a, result == DTP_EV_DONE, (double)time(NULL) - t0);
	if (result == DTP_EV_ABORTED) {
		reply(s, FTP_TRANSFER_ABORTED, "Hash aborted.");
		reply(s, FTP_TRANSFER_COMPLETE, "ABOR successful.");
	} else if (result != DTP_EV_DONE)
		reply(s, FTP_LOCAL_ERROR, "Failure reading local file.");
	else if (style == &style_hash)
		reply(s, style->ok, "%s %llu-%llu %s %s", digest_name(a), (unsigned long long)start,
		      (unsigned long long)end, dtp_progress()->digest, path);
	else
		reply(s, style->ok, "%s", dtp_progress()->digest);
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
