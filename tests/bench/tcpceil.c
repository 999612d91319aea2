/* tcpceil: what this machine allows at best, to read the other rows against:
 * one loopback TCP stream memory to memory, the same fed by sendfile from a
 * (tmpfs) file, and the fork+exit+wait rate of one parent. */
#include "benchlib.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define CHUNK (1 << 20)

static double seconds = 3;
static const char *file;

struct sink {
	int lfd;
	long long bytes;
	double t1;
};

/* The receiver: accept one connection, read to EOF into one buffer. */
static void *
sink_run(void *arg)
{
	struct sink *s = arg;
	char *buf = malloc(CHUNK);
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

	for (ssize_t r; fd >= 0 && (r = read(fd, buf, CHUNK)) > 0;)
		s->bytes += r;
	s->t1 = now_s();
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int
loopback_pair(struct sink *s, pthread_t *t)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);

	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->lfd, 1) < 0 || getsockname(s->lfd, (struct sockaddr *)&sa, &sl) < 0)
		die("listen: %s", strerror(errno));
	pthread_create(t, NULL, sink_run, s);
	return tcp_connect("127.0.0.1", ntohs(sa.sin_port), 1);
}

static int
mode_stream(int use_sendfile)
{
	struct sink s = {0};
	pthread_t t;
	int fd = loopback_pair(&s, &t), ffd = -1;
	char *buf = malloc(CHUNK);
	struct stat st;
	double t0 = now_s();

	memset(buf, 'x', CHUNK);
	if (use_sendfile && ((ffd = open(file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(ffd, &st) < 0))
		die("%s: %s", file, strerror(errno));
	deadline = t0 + seconds;
	while (running()) {
		if (use_sendfile) {
			off_t off = 0;

			while (off < st.st_size)
				if (sendfile(fd, ffd, &off, (size_t)(st.st_size - off)) <= 0)
					die("sendfile: %s", strerror(errno));
		} else if (conn_write(&(struct conn){.fd = fd}, buf, CHUNK) < 0) {
			die("write: %s", strerror(errno));
		}
	}
	close(fd);
	pthread_join(t, NULL);
	printf("mbps=%.1f\n", (double)s.bytes / (s.t1 - t0) / 1e6);
	return 0;
}

static int
mode_fork(void)
{
	long n = 0;
	double t0 = now_s();

	deadline = t0 + seconds;
	while (running()) {
		pid_t p = fork();

		if (p == 0)
			_exit(0);
		if (p < 0 || waitpid(p, NULL, 0) < 0)
			die("fork: %s", strerror(errno));
		n++;
	}
	printf("rate=%.1f\n", n / (now_s() - t0));
	return 0;
}

int
main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "t:f:")) != -1) {
		switch (ch) {
		case 't':
			seconds = atof(optarg);
			break;
		case 'f':
			file = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 == argc && strcmp(argv[optind], "stream") == 0)
		return mode_stream(0);
	if (optind + 1 == argc && strcmp(argv[optind], "sendfile") == 0 && file != NULL)
		return mode_stream(1);
	if (optind + 1 == argc && strcmp(argv[optind], "fork") == 0)
		return mode_fork();
usage:
	fprintf(stderr, "usage: tcpceil [-t seconds] stream | -f FILE sendfile | fork\n");
	return 2;
}
