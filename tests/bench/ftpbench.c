/* ftpbench: FTP load generator behaving like curl (TCP_NODELAY, ordinary
 * delayed ACKs): session rate, RETR/STOR throughput, FTPS RETR, idle sessions,
 * one big listing with the server's memory sampled meanwhile, one HASH.
 * Prints one line of key=value results for scripts/bench. */
#include "benchlib.h"

#include <ctype.h>
#include <dirent.h>
#include <getopt.h>
#include <sys/stat.h>

#define DATA_BUF (1 << 20)

static const char *host = "127.0.0.1";
static int port = 21;
static int workers = 8;
static double seconds = 5;
static int active_mode;
static int streams = 1;
static const char *path = "small.bin";
static long long stor_size = 256LL << 20;
static int idle_n = 100;
static const char *list_cmd = "LIST";
static long min_entries;
static pid_t server_pid;
static const char *want_hex;
static SSL_CTX *tls_ctx;
static int complaints; /* a failing server is reported three times, not per session */

static int
complain(void)
{
	return __atomic_fetch_add(&complaints, 1, __ATOMIC_RELAXED) < 3;
}

/* An FTP reply: its code, and the text of its last line in last. */
static int
ftp_reply(struct conn *c, char *last, size_t lastsz)
{
	char line[LINE_MAX_BYTES];
	ssize_t n = conn_line(c, line, sizeof(line));
	int code;

	if (n < 4)
		return -1;
	code = atoi(line);
	if (line[3] == '-') {
		char want[5];

		snprintf(want, sizeof(want), "%.3s ", line);
		do {
			n = conn_line(c, line, sizeof(line));
			if (n < 0)
				return -1;
		} while (strncmp(line, want, 4) != 0);
	}
	if (last != NULL)
		snprintf(last, lastsz, "%s", line);
	return code;
}

static int
ftp_cmd(struct conn *c, const char *cmd, char *last, size_t lastsz)
{
	if (conn_printf(c, "%s\r\n", cmd) < 0)
		return -1;
	return ftp_reply(c, last, lastsz);
}

static int
expect(struct conn *c, const char *cmd, int want)
{
	char last[LINE_MAX_BYTES];
	int code = ftp_cmd(c, cmd, last, sizeof(last));

	if (code / 100 != want / 100 && !(want == 331 && code == 230)) {
		if (complain())
			fprintf(stderr, "ftpbench: %s -> %s\n", cmd,
			        code < 0 ? "connection lost" : last);
		return -1;
	}
	return code;
}

/* Control connection logged in anonymously, binary type. tls: AUTH TLS first,
 * then PBSZ 0 and PROT P, as lftp and curl --ssl-reqd do. */
static int
ftp_login(struct conn *c, int tls)
{
	char last[LINE_MAX_BYTES];
	int fd = tcp_connect(host, port, 1);

	conn_init(c, fd);
	if (fd < 0)
		return -1;
	if (ftp_reply(c, last, sizeof(last)) != 220)
		goto fail;
	if (tls) {
		if (expect(c, "AUTH TLS", 234) < 0)
			goto fail;
		c->ssl = SSL_new(tls_ctx);
		SSL_set_fd(c->ssl, fd);
		if (SSL_connect(c->ssl) != 1)
			goto fail;
	}
	/* pure-ftpd logs anonymous in at USER (230); curl then skips PASS too */
	int code = expect(c, "USER anonymous", 331);

	if (code < 0 || (code != 230 && expect(c, "PASS bench@example.org", 230) < 0))
		goto fail;
	if (tls && (expect(c, "PBSZ 0", 200) < 0 || expect(c, "PROT P", 200) < 0))
		goto fail;
	if (expect(c, "TYPE I", 200) < 0)
		goto fail;
	return 0;
fail:
	conn_close(c);
	return -1;
}

/* Open the data connection before the transfer command (EPSV: connect now;
 * PORT: listen now, accept after the 150). Returns the fd to use. */
static int
data_prepare(struct conn *c, int *listen_fd)
{
	char last[LINE_MAX_BYTES];

	*listen_fd = -1;
	if (!active_mode) {
		if (ftp_cmd(c, "EPSV", last, sizeof(last)) != 229)
			return -1;
		char *p = strstr(last, "(|||");

		if (p == NULL)
			return -1;
		return tcp_connect(host, atoi(p + 4), 1);
	}
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, host, &sa.sin_addr);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	unsigned a = ntohl(sa.sin_addr.s_addr), p = ntohs(sa.sin_port);
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "PORT %u,%u,%u,%u,%u,%u", a >> 24, (a >> 16) & 255,
	         (a >> 8) & 255, a & 255, p >> 8, p & 255);
	if (ftp_cmd(c, cmd, last, sizeof(last)) != 200) {
		close(lfd);
		return -1;
	}
	*listen_fd = lfd;
	return -2; /* accept later */
}

static int
data_accept(int dfd, int lfd)
{
	int one = 1;

	if (lfd < 0)
		return dfd;
	dfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	if (dfd >= 0)
		setsockopt(dfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return dfd;
}

/* RETR name over the logged-in connection; bytes received, -1 on error. */
static long long
ftp_retr(struct conn *c, const char *name, char *buf, int tls)
{
	char cmd[LINE_MAX_BYTES], last[LINE_MAX_BYTES];
	int lfd, dfd = data_prepare(c, &lfd);
	long long total = 0;
	struct conn d;
	SSL_SESSION *sess = NULL;

	if (dfd == -1)
		return -1;
	snprintf(cmd, sizeof(cmd), "RETR %s", name);
	int code = ftp_cmd(c, cmd, last, sizeof(last));

	if (code != 150 && code != 125) {
		if (complain())
			fprintf(stderr, "ftpbench: RETR -> %s\n", last);
		if (dfd >= 0)
			close(dfd);
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	dfd = data_accept(dfd, lfd);
	conn_init(&d, dfd);
	if (dfd < 0)
		return -1;
	if (tls) { /* resume the control session, as servers require */
		sess = SSL_get1_session(c->ssl);
		d.ssl = SSL_new(tls_ctx);
		SSL_set_fd(d.ssl, dfd);
		SSL_set_session(d.ssl, sess);
		if (SSL_connect(d.ssl) != 1) {
			if (complain())
				ERR_print_errors_fp(stderr);
			SSL_SESSION_free(sess);
			conn_close(&d);
			return -1;
		}
		SSL_SESSION_free(sess);
	}
	for (;;) {
		ssize_t r = conn_read(&d, buf, DATA_BUF);

		if (r < 0) {
			conn_close(&d);
			return -1;
		}
		if (r == 0)
			break;
		total += r;
	}
	conn_close(&d);
	if (ftp_reply(c, last, sizeof(last)) != 226) {
		if (complain())
			fprintf(stderr, "ftpbench: after RETR: %s\n", last);
		return -1;
	}
	return total;
}

/* Session rate: each worker loops whole sessions until the deadline. */
struct sess_worker {
	pthread_t t;
	long done, errors;
	struct lat lat;
};

static void *
sess_run(void *arg)
{
	struct sess_worker *w = arg;
	char *buf = malloc(DATA_BUF);

	while (running()) {
		struct conn *c = malloc(sizeof(*c));
		double t0 = now_s();
		int ok = ftp_login(c, 0) == 0 && ftp_retr(c, path, buf, 0) > 0 &&
		         expect(c, "QUIT", 221) > 0;

		if (c->fd >= 0)
			conn_close(c);
		free(c);
		if (ok) {
			w->done++;
			lat_add(&w->lat, now_s() - t0);
		} else {
			w->errors++;
			usleep(10000);
		}
	}
	free(buf);
	return NULL;
}

static int
mode_sess(void)
{
	struct sess_worker *w = calloc((size_t)workers, sizeof(*w));
	struct lat all = {0};
	long done = 0, errors = 0;
	double t0 = now_s();

	deadline = t0 + seconds;
	for (int i = 0; i < workers; i++)
		pthread_create(&w[i].t, NULL, sess_run, &w[i]);
	for (int i = 0; i < workers; i++) {
		pthread_join(w[i].t, NULL);
		done += w[i].done;
		errors += w[i].errors;
		lat_merge(&all, &w[i].lat);
	}
	double el = now_s() - t0;

	printf("rate=%.1f p50=%.2f p99=%.2f errors=%ld\n", done / el, lat_q(&all, 0.5),
	       lat_q(&all, 0.99), errors);
	return done > 0 ? 0 : 1;
}

/* RETR of one big file by `streams` sessions at once: aggregate MB/s. */
static pthread_barrier_t start_line;

struct xfer_worker {
	pthread_t t;
	int tls;
	long long bytes;
	double t0, t1;
};

static void *
retr_run(void *arg)
{
	struct xfer_worker *w = arg;
	char *buf = malloc(DATA_BUF);
	struct conn *c = malloc(sizeof(*c));

	w->bytes = -1;
	int ok = ftp_login(c, w->tls) == 0;

	pthread_barrier_wait(&start_line);
	if (ok) {
		w->t0 = now_s();
		w->bytes = ftp_retr(c, path, buf, w->tls);
		w->t1 = now_s();
		expect(c, "QUIT", 221);
		conn_close(c);
	}
	free(c);
	free(buf);
	return NULL;
}

static int
mode_retr(int tls)
{
	struct xfer_worker *w = calloc((size_t)streams, sizeof(*w));
	long long total = 0;
	double t0 = 1e300, t1 = 0;

	pthread_barrier_init(&start_line, NULL, (unsigned)streams);
	for (int i = 0; i < streams; i++) {
		w[i].tls = tls;
		pthread_create(&w[i].t, NULL, retr_run, &w[i]);
	}
	for (int i = 0; i < streams; i++) {
		pthread_join(w[i].t, NULL);
		if (w[i].bytes <= 0)
			die("RETR failed in stream %d", i);
		total += w[i].bytes;
		t0 = w[i].t0 < t0 ? w[i].t0 : t0;
		t1 = w[i].t1 > t1 ? w[i].t1 : t1;
	}
	printf("mbps=%.1f bytes=%lld seconds=%.3f\n", (double)total / (t1 - t0) / 1e6, total,
	       t1 - t0);
	return 0;
}

/* STOR of stor_size bytes from memory. */
static int
mode_stor(void)
{
	char cmd[LINE_MAX_BYTES], last[LINE_MAX_BYTES];
	char *buf = malloc(DATA_BUF);
	struct conn c;
	int lfd;

	memset(buf, 'x', DATA_BUF);
	if (ftp_login(&c, 0) < 0)
		die("login failed");
	double t0 = now_s();
	int dfd = data_prepare(&c, &lfd);

	if (dfd == -1)
		die("no data connection");
	snprintf(cmd, sizeof(cmd), "STOR %s", path);
	int code = ftp_cmd(&c, cmd, last, sizeof(last));

	if (code != 150 && code != 125)
		die("STOR -> %s", last);
	dfd = data_accept(dfd, lfd);
	for (long long left = stor_size; left > 0;) {
		size_t n = left > DATA_BUF ? DATA_BUF : (size_t)left;
		ssize_t wr = write(dfd, buf, n);

		if (wr <= 0)
			die("STOR data: %s", strerror(errno));
		left -= wr;
	}
	close(dfd);
	if (ftp_reply(&c, last, sizeof(last)) != 226)
		die("after STOR: %s", last);
	double el = now_s() - t0;

	expect(&c, "QUIT", 221);
	conn_close(&c);
	printf("mbps=%.1f bytes=%lld seconds=%.3f\n", (double)stor_size / el / 1e6, stor_size, el);
	free(buf);
	return 0;
}

/* Hold idle_n logged-in sessions until stdin closes. */
static int
mode_idle(void)
{
	struct conn *c = calloc((size_t)idle_n, sizeof(*c));

	for (int i = 0; i < idle_n; i++)
		if (ftp_login(&c[i], 0) < 0)
			die("idle session %d: login failed", i);
	hold_until_stdin_closes();
	for (int i = 0; i < idle_n; i++) {
		ftp_cmd(&c[i], "QUIT", NULL, 0);
		conn_close(&c[i]);
	}
	return 0;
}

/* Server-side memory of one session: the processes under the server's
 * root process that were not there before the session connected (its
 * monitor, worker and DTP for ours; the session pair for vsftpd; the
 * session for pure-ftpd), found through /proc/PID/task/TID/children. A
 * sampler thread sums their VmRSS (and their Pss from smaps_rollup) every
 * 2 ms and keeps the largest sums; it also keeps each process's largest
 * VmHWM (its own peak, which a sample can miss), summed as hwm_kib. */
#define MAX_PIDS 4096

struct pidset {
	pid_t v[MAX_PIDS];
	int n;
};

static int
pidset_has(const struct pidset *s, pid_t p)
{
	for (int i = 0; i < s->n; i++)
		if (s->v[i] == p)
			return 1;
	return 0;
}

/* All descendants of root (not root itself) into out. */
static void
descendants(pid_t root, struct pidset *out)
{
	out->n = 0;
	pid_t todo[MAX_PIDS];
	int nt = 0;

	todo[nt++] = root;
	while (nt > 0) {
		pid_t p = todo[--nt];
		char dir[64];

		snprintf(dir, sizeof(dir), "/proc/%d/task", (int)p);
		DIR *d = opendir(dir);
		struct dirent *e;

		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			char cpath[384], buf[16384];

			if (!isdigit((unsigned char)e->d_name[0]))
				continue;
			snprintf(cpath, sizeof(cpath), "%s/%s/children", dir, e->d_name);
			FILE *f = fopen(cpath, "r");

			if (f == NULL)
				continue;
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			fclose(f);
			buf[n] = '\0';
			for (char *q = buf, *end; *q != '\0'; q = end) {
				long c = strtol(q, &end, 10);

				if (end == q)
					break;
				if (out->n < MAX_PIDS && nt < MAX_PIDS &&
				    !pidset_has(out, (pid_t)c)) {
					out->v[out->n++] = (pid_t)c;
					todo[nt++] = (pid_t)c;
				}
			}
		}
		closedir(d);
	}
}

/* VmRSS and VmHWM of p in KiB (0 when it is gone). */
static void
proc_mem(pid_t p, long *rss, long *hwm, long *pss)
{
	char spath[64], line[256];

	*rss = *hwm = *pss = 0;
	snprintf(spath, sizeof(spath), "/proc/%d/status", (int)p);
	FILE *f = fopen(spath, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = atol(line + 6);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = atol(line + 6);
	}
	fclose(f);
	snprintf(spath, sizeof(spath), "/proc/%d/smaps_rollup", (int)p);
	if ((f = fopen(spath, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Pss:", 4) == 0)
			*pss = atol(line + 4);
	fclose(f);
}

struct sampler {
	pthread_t t;
	volatile int stop;
	struct pidset before, seen;
	long hwm[MAX_PIDS]; /* by index in seen */
	long peak_rss, peak_pss, samples;
};

static void
sampler_once(struct sampler *s)
{
	struct pidset now;
	long sum = 0, psum = 0;

	descendants(server_pid, &now);
	for (int i = 0; i < now.n; i++) {
		pid_t p = now.v[i];
		long rss, hwm, pss;
		int k;

		if (pidset_has(&s->before, p))
			continue;
		proc_mem(p, &rss, &hwm, &pss);
		sum += rss;
		psum += pss;
		for (k = 0; k < s->seen.n && s->seen.v[k] != p; k++)
			;
		if (k == s->seen.n && k < MAX_PIDS) {
			s->seen.v[s->seen.n++] = p;
			s->hwm[k] = 0;
		}
		if (k < MAX_PIDS && hwm > s->hwm[k])
			s->hwm[k] = hwm;
	}
	if (sum > s->peak_rss)
		s->peak_rss = sum;
	if (psum > s->peak_pss)
		s->peak_pss = psum;
	s->samples++;
}

static void *
sampler_run(void *arg)
{
	struct sampler *s = arg;
	struct timespec ts = {0, 2000000};

	while (!s->stop) {
		sampler_once(s);
		nanosleep(&ts, NULL);
	}
	sampler_once(s);
	return NULL;
}

/* One listing (-c LIST or MLSD of -f) in a fresh session over EPSV: seconds
 * from the command to its 226, and with -P the session's peak memory. The
 * data connection is read in DATA_BUF chunks; lines are counted by memchr. */
static int
mode_list(void)
{
	char cmd[LINE_MAX_BYTES], last[LINE_MAX_BYTES];
	char *buf = malloc(DATA_BUF);
	struct sampler *s = calloc(1, sizeof(*s));
	struct conn c;
	long long bytes = 0;
	long lines = 0;

	if (buf == NULL || s == NULL)
		die("out of memory");
	if (server_pid > 0)
		descendants(server_pid, &s->before);
	if (ftp_login(&c, 0) < 0)
		die("login failed");
	if (ftp_cmd(&c, "EPSV", last, sizeof(last)) != 229 || strstr(last, "(|||") == NULL)
		die("EPSV -> %s", last);
	int dfd = tcp_connect(host, atoi(strstr(last, "(|||") + 4), 1);

	if (dfd < 0)
		die("data connection: %s", strerror(errno));
	if (server_pid > 0)
		pthread_create(&s->t, NULL, sampler_run, s);
	snprintf(cmd, sizeof(cmd), "%s %s", list_cmd, path);
	double t0 = now_s();
	int code = ftp_cmd(&c, cmd, last, sizeof(last));

	if (code != 150 && code != 125)
		die("%s -> %s", list_cmd, last);
	for (;;) {
		ssize_t r = read(dfd, buf, DATA_BUF);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("listing data: %s", strerror(errno));
		if (r == 0)
			break;
		bytes += r;
		for (char *p = buf, *end = buf + r;
		     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
			lines++;
	}
	close(dfd);
	if (ftp_reply(&c, last, sizeof(last)) != 226)
		die("after %s: %s", list_cmd, last);
	double el = now_s() - t0;
	long hwm = 0;

	if (server_pid > 0) {
		s->stop = 1;
		pthread_join(s->t, NULL);
		for (int i = 0; i < s->seen.n; i++)
			hwm += s->hwm[i];
	}
	expect(&c, "QUIT", 221);
	conn_close(&c);
	if (lines < min_entries)
		die("%s %s: %ld lines, want at least %ld (a server-side limit?)", list_cmd, path,
		    lines, min_entries);
	printf("seconds=%.4f kib=%ld pss_kib=%ld hwm_kib=%ld procs=%d samples=%ld lines=%ld "
	       "bytes=%lld\n",
	       el, s->peak_rss, s->peak_pss, hwm, s->seen.n, s->samples, lines, bytes);
	free(s);
	free(buf);
	return 0;
}

/* OPTS HASH SHA-256, then HASH -f: MB/s over the file's SIZE, from the
 * command to its 213; -x: the digest it must answer. */
static int
mode_hash(void)
{
	char cmd[LINE_MAX_BYTES], last[LINE_MAX_BYTES];
	struct conn c;

	if (ftp_login(&c, 0) < 0)
		die("login failed");
	if (expect(&c, "OPTS HASH SHA-256", 200) < 0)
		die("OPTS HASH SHA-256 refused");
	snprintf(cmd, sizeof(cmd), "SIZE %s", path);
	if (ftp_cmd(&c, cmd, last, sizeof(last)) != 213)
		die("SIZE -> %s", last);
	long long size = atoll(last + 4);

	snprintf(cmd, sizeof(cmd), "HASH %s", path);
	double t0 = now_s();

	if (ftp_cmd(&c, cmd, last, sizeof(last)) != 213)
		die("HASH -> %s", last);
	double el = now_s() - t0;
	/* 213 SHA-256 0-END HEX PATH */
	char algo[32], range[64], hex[160];

	if (sscanf(last + 4, "%31s %63s %159s", algo, range, hex) != 3)
		die("HASH reply: %s", last);
	if (want_hex != NULL && strcasecmp(hex, want_hex) != 0)
		die("HASH %s: %s, sha256sum says %s", path, hex, want_hex);
	expect(&c, "QUIT", 221);
	conn_close(&c);
	printf("mbps=%.1f bytes=%lld seconds=%.3f\n", (double)size / el / 1e6, size, el);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: ftpbench [-h host] [-p port] [-w workers] [-t seconds] [-a] [-n streams]\n"
	        "                [-f path] [-s bytes] [-i sessions] [-c LIST|MLSD] [-e lines]\n"
	        "                [-P server-pid] [-x sha256] sess|retr|stor|ftps|idle|list|hash\n"
	        "  sess  sessions/s: connect, USER, PASS, TYPE I, EPSV (-a: PORT), RETR -f, QUIT\n"
	        "  retr  MB/s of RETR -f by -n sessions at once; ftps: the same under PROT P\n"
	        "  stor  MB/s of STOR -f of -s bytes; idle: hold -i logged-in sessions\n"
	        "  list  seconds of -c of directory -f (at least -e lines), and the peak RSS\n"
	        "        of the session's processes under server process -P\n"
	        "  hash  MB/s of OPTS HASH SHA-256 and HASH -f (answering -x)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "h:p:w:t:an:f:s:i:c:e:P:x:")) != -1) {
		switch (ch) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'w':
			workers = atoi(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'a':
			active_mode = 1;
			break;
		case 'n':
			streams = atoi(optarg);
			break;
		case 'f':
			path = optarg;
			break;
		case 's':
			stor_size = atoll(optarg);
			break;
		case 'i':
			idle_n = atoi(optarg);
			break;
		case 'c':
			list_cmd = optarg;
			break;
		case 'e':
			min_entries = atol(optarg);
			break;
		case 'P':
			server_pid = (pid_t)atoi(optarg);
			break;
		case 'x':
			want_hex = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || workers < 1 || streams < 1)
		usage();
	signal(SIGPIPE, SIG_IGN);
	tls_ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	const char *mode = argv[optind];

	if (strcmp(mode, "sess") == 0)
		return mode_sess();
	if (strcmp(mode, "retr") == 0)
		return mode_retr(0);
	if (strcmp(mode, "ftps") == 0)
		return mode_retr(1);
	if (strcmp(mode, "stor") == 0)
		return mode_stor();
	if (strcmp(mode, "idle") == 0)
		return mode_idle();
	if (strcmp(mode, "list") == 0)
		return mode_list();
	if (strcmp(mode, "hash") == 0)
		return mode_hash();
	usage();
}
