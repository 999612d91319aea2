/* mailer: mail to moderators (see mailer.h). */
#include "nntpd/writer/mailer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/pace.h"
#include "common/core/vector.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "nntpd/moderators.h"
#include "nntpd/store/storeformat.h"

/* A request: u32 group length, u32 article length, the group, the
 * article. A reply: one result byte, one length byte, that many bytes
 * of address or reason. */
#define MAX_GROUP 512
#define MAX_MODERATORS_FILE (1 << 20)
#define REPLY_MARGIN 5 /* seconds the writer waits beyond the timeout */

/* ---- the mailer process ------------------------------------------- */

static int64_t
now_ms(void)
{
	return (int64_t)(mono_seconds() * 1000);
}

static void
reply(int fd, enum mailer_result res, const char *text)
{
	unsigned char hdr[2];
	size_t n = strlen(text);

	if (n > 255)
		n = 255;
	hdr[0] = (unsigned char)res;
	hdr[1] = (unsigned char)n;
	if (write_all(fd, hdr, 2) < 0 || write_all(fd, text, n) < 0)
		_exit(0); /* the writer is gone */
}

static int
read_file(const char *path, struct buffer *out)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), rc;

	buffer_clear(out);
	if (fd < 0)
		return -1;
	rc = read_upto(fd, out, MAX_MODERATORS_FILE);
	close(fd);
	return rc < 0 ? -1 : 0;
}

/* The article on the command's stdin, To: first, CR LF made LF (sendmail
 * takes local line ends); -1 when it cannot be written by deadline. */
static int
feed_article(int fd, const char *addr, const char *art, size_t len, int64_t deadline)
{
	struct buffer b = BUFFER_INIT;
	size_t off = 0;
	int rc = 0;

	buffer_printf(&b, "To: %s\n", addr);
	for (size_t i = 0; i < len; i++)
		if (!(art[i] == '\r' && i + 1 < len && art[i + 1] == '\n'))
			buffer_append(&b, art + i, 1);
	while (off < b.len) {
		struct pollfd p = {fd, POLLOUT, 0};
		int64_t left = deadline - now_ms();
		ssize_t w;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			rc = -1;
			break;
		}
		w = write(fd, buffer_head(&b) + off, b.len - off);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0) {
			rc = -1;
			break;
		}
		off += (size_t)w;
	}
	buffer_free(&b);
	return rc;
}

static void __attribute__((noreturn))
exec_command(const struct mailer_conf *conf, const char *addr, int in)
{
	char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", NULL};
	struct vector words = VECTOR_INIT;
	char **argv;
	int nul = open("/dev/null", O_WRONLY);

	vector_split_space(&words, conf->command, 64);
	argv = xcalloc(words.count + 2, sizeof(char *));
	for (size_t i = 0; i < words.count; i++)
		argv[i] = words.strings[i];
	/* SECURITY: the address is one argument, after the options, checked
	 * by moderators_address (no leading '-', no space or control byte). */
	argv[words.count] = (char *)addr;
	if (nul < 0 || dup2(in, 0) < 0 || dup2(nul, 1) < 0)
		_exit(126);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	signal(SIGPIPE, SIG_DFL);
	execve(argv[0], argv, env);
	_exit(127);
}

/* Run the command for addr; 0 when it took the article, else -1 and why. */
static int
run_command(const struct mailer_conf *conf, const char *addr, const char *art, size_t len,
            struct buffer *why)
{
	int64_t deadline = now_ms() + (int64_t)conf->timeout * 1000;
	int p[2], status = 0, fed;
	pid_t pid, done = 0;

	if (pipe2(p, O_CLOEXEC) < 0) {
		buffer_printf(why, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		buffer_printf(why, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0)
		exec_command(conf, addr, p[0]);
	close(p[0]);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	fed = feed_article(p[1], addr, art, len, deadline);
	close(p[1]);
	/* Bounded: at the deadline the command is killed. */
	while ((done = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	if (done == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		buffer_printf(why, "%s took more than %u s and was killed", conf->command,
		              conf->timeout);
		return -1;
	}
	if (fed < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			buffer_printf(why, "%s exited with status %d", conf->command,
			              WEXITSTATUS(status));
		else
			buffer_printf(why, "%s ended by signal %d", conf->command,
			              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		return -1;
	}
	return 0;
}

/* SECURITY: a group name as active holds it: printable, no space. */
static int
valid_group(const char *g, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)g[i] <= ' ' || (unsigned char)g[i] >= 0x7f)
			return 0;
	return 1;
}

static void
one_request(int fd, const struct mailer_conf *conf, const char *group, const char *art, size_t len)
{
	struct buffer file = BUFFER_INIT, addr = BUFFER_INIT, why = BUFFER_INIT;
	int rc;

	if (read_file(conf->moderators_file, &file) < 0 && errno != ENOENT)
		log_msg(LOG_ERR, "mailer: %s: %s", conf->moderators_file, strerror(errno));
	rc = moderators_address(buffer_head(&file), file.len, group, &addr);
	if (rc == 0) {
		reply(fd, MAILER_NO_MODERATOR, "");
	} else if (rc < 0) {
		log_msg(LOG_ERR, "mailer: %s: the line for %s has %s", conf->moderators_file, group,
		        buffer_cstr(&addr));
		reply(fd, MAILER_FAILED, "the moderators file's line for it is unusable");
	} else if (run_command(conf, buffer_cstr(&addr), art, len, &why) < 0) {
		log_msg(LOG_ERR, "mailer: to %s for %s: %s", buffer_head(&addr), group,
		        buffer_cstr(&why));
		reply(fd, MAILER_FAILED, buffer_cstr(&why));
	} else {
		log_msg(LOG_INFO, "mailer: mailed to %s for %s (%zu bytes)", buffer_head(&addr),
		        group, len);
		reply(fd, MAILER_SENT, buffer_head(&addr));
	}
	buffer_free(&file);
	buffer_free(&addr);
	buffer_free(&why);
}

static void __attribute__((noreturn)) mailer_main(int fd, const struct mailer_conf *conf)
{
	struct buffer req = BUFFER_INIT;

	for (;;) {
		unsigned char hdr[8];
		uint32_t glen, alen;
		char *group;

		if (read_full(fd, hdr, sizeof(hdr)) != 0)
			_exit(0); /* the writer ended */
		glen = store_get32(hdr);
		alen = store_get32(hdr + 4);
		/* SECURITY: bounded by the writer's own limits; anything else
		 * means the channel is not the writer's. */
		if (glen > MAX_GROUP || alen > conf->max_article)
			_exit(1);
		buffer_clear(&req);
		if (read_full(fd, buffer_reserve(&req, glen + alen + 1), glen + alen) != 0)
			_exit(0);
		buffer_commit(&req, glen + alen);
		group = xstrndup(buffer_head(&req), glen);
		if (!valid_group(group, glen))
			reply(fd, MAILER_FAILED, "not a group name");
		else
			one_request(fd, conf, group, buffer_head(&req) + glen, alen);
		free(group);
	}
}

int
mailer_start(const struct mailer_conf *conf, const char *user, const struct sandbox_id *id)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_msg(LOG_ERR, "mailer: socketpair: %s (moderated posts cannot be mailed)",
		        strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "mailer: fork: %s (moderated posts cannot be mailed)",
		        strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid > 0) {
		close(sv[1]);
		return sv[0];
	}
	close(sv[0]);
	/* Nothing of the writer's but the channel: every other descriptor
	 * (the listener's channel, the metrics pipe) is closed. */
	if (sv[1] > 3)
		syscall(SYS_close_range, 3U, (unsigned)sv[1] - 1, 0U);
	syscall(SYS_close_range, (unsigned)sv[1] + 1, ~0U, 0U);
	if (!log_to_stderr())
		log_open("nntpd", 0);
	/* SECURITY: the writer's user for good (all three ids), never root;
	 * no filter and no no_new_privs, as the command may be setuid. */
	if (sandbox_hook_child(user, id) < 0) {
		log_msg(LOG_ERR, "mailer: cannot become %s: %s", user, strerror(errno));
		_exit(1);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	if (chdir("/") < 0)
		_exit(1);
	mailer_main(sv[1], conf);
}

/* ---- the writer's side -------------------------------------------- */

static int
wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -1;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

enum mailer_result
mailer_send(int *fd, const char *group, const char *article, size_t len, unsigned timeout,
            struct buffer *info)
{
	int64_t deadline = now_ms() + ((int64_t)timeout + REPLY_MARGIN) * 1000;
	unsigned char hdr[8], rep[2];
	size_t glen = strlen(group);
	char text[256];

	buffer_clear(info);
	if (*fd < 0) {
		buffer_puts(info, "the mailer is not running");
		return MAILER_FAILED;
	}
	store_put32(hdr, (uint32_t)glen);
	store_put32(hdr + 4, (uint32_t)len);
	if (write_all(*fd, hdr, sizeof(hdr)) < 0 || write_all(*fd, group, glen) < 0 ||
	    write_all(*fd, article, len) < 0 || wait_readable(*fd, deadline) < 0 ||
	    read_full(*fd, rep, 2) != 0 || rep[0] > MAILER_FAILED ||
	    (rep[1] > 0 &&
	     (wait_readable(*fd, deadline) < 0 || read_full(*fd, text, rep[1]) != 0))) {
		log_msg(LOG_ERR, "writer: the mailer does not answer; moderated posts are refused "
		                 "until the writer restarts");
		close(*fd);
		*fd = -1;
		buffer_puts(info, "the mailer does not answer");
		return MAILER_FAILED;
	}
	buffer_append(info, text, rep[1]);
	buffer_cstr(info);
	return (enum mailer_result)rep[0];
}
