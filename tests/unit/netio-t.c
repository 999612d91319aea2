/* netio-t: the line reader: CR LF handling, pipelining, lines split
 * across reads, the hard limit (an overlong line is one error, never two
 * commands), EOF and the idle timeout; replies leave in one write. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netio.h"
#include "tap.h"

static int sv[2];
static struct conn c;

static void
feed(const char *s)
{
	if (write(sv[1], s, strlen(s)) < 0)
		perror("write");
}

static enum conn_status
next(char **line)
{
	size_t len;

	return conn_getline(&c, line, &len);
}

int
main(void)
{
	char *line = NULL, big[3000];
	size_t len;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	conn_init(&c, sv[0], 16, 200);

	feed("USER anonymous\r\n");
	ok(next(&line) == CONN_LINE, "a CRLF line is read");
	is_string("USER anonymous", line, "CR LF stripped");

	feed("NOOP\nPWD\r\nQUIT\r\n");
	ok(next(&line) == CONN_LINE && strcmp(line, "NOOP") == 0, "bare LF ends a line");
	ok(next(&line) == CONN_LINE && strcmp(line, "PWD") == 0, "pipelined line 2");
	ok(next(&line) == CONN_LINE && strcmp(line, "QUIT") == 0, "pipelined line 3");

	feed("RE");
	ok(conn_try_line(&c, &line, &len) == CONN_AGAIN, "nothing buffered yet");
	ok(conn_fill(&c, 100) == CONN_LINE, "fill reads a partial line");
	ok(conn_try_line(&c, &line, &len) == CONN_AGAIN, "a partial line is not a line");
	feed("TR x\r\n");
	ok(next(&line) == CONN_LINE && strcmp(line, "RETR x") == 0, "a line split across reads");

	feed("0123456789abcdef\r\n");
	ok(next(&line) == CONN_LINE && strlen(line) == 16, "exactly the limit is ok");

	/* 2,988 bytes of padding, then what an attacker hopes is a command. */
	memset(big, 'A', sizeof(big));
	memcpy(big + sizeof(big) - 12, "DELE victim", 12);
	feed(big);
	feed("\r\nNOOP\r\n");
	ok(next(&line) == CONN_TOOLONG, "an overlong line is one error");
	ok(next(&line) == CONN_LINE && strcmp(line, "NOOP") == 0,
	   "its tail never becomes a command; the next line is read");

	feed("0123456789abcdefg\r\nPWD\r\n");
	ok(next(&line) == CONN_TOOLONG, "one byte over the limit is too long");
	ok(next(&line) == CONN_LINE && strcmp(line, "PWD") == 0, "and the session goes on");

	ok(next(&line) == CONN_TIMEOUT, "idle timeout");

	conn_printf(&c, "200 one\r\n");
	conn_printf(&c, "200 two\r\n");
	ok(conn_flush(&c) == 0, "flush");
	{
		char got[64] = {0};
		ssize_t n = read(sv[1], got, sizeof(got) - 1);

		ok(n == 18 && strcmp(got, "200 one\r\n200 two\r\n") == 0,
		   "queued replies leave together");
	}
	close(sv[1]);
	ok(next(&line) == CONN_EOF, "EOF");
	conn_free(&c);
	return tap_done();
}
