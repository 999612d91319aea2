/* netio-t: the line reader: CR LF handling, pipelining, lines split
 * across reads, the hard limit (an overlong line is one error, never two
 * commands), EOF and the idle timeout; replies leave in one write;
 * COMPRESS DEFLATE both ways, and a deflate bomb still meets the limit. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "common/io/netio.h"
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

/* Raw deflate of text with a sync flush, as a client would send it. */
static size_t
deflate_text(z_stream *z, const void *text, size_t n, unsigned char *out, size_t cap)
{
	z->next_in = (Bytef *)text;
	z->avail_in = (uInt)n;
	z->next_out = out;
	z->avail_out = (uInt)cap;
	deflate(z, Z_SYNC_FLUSH);
	return cap - z->avail_out;
}

static void
compressed(void)
{
	static unsigned char wire[1 << 20], plain[1 << 16];
	static char bomb[8 << 20];
	z_stream dz, iz;
	char *line = NULL;
	size_t n;

	memset(&dz, 0, sizeof(dz));
	memset(&iz, 0, sizeof(iz));
	deflateInit2(&dz, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	inflateInit2(&iz, -15);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	conn_init(&c, sv[0], 16, 200);
	ok(conn_is_plain(&c), "a new conn is plain");
	/* The client's first compressed bytes may come with the command. */
	n = deflate_text(&dz, "GROUP a\r\n", 9, wire, sizeof(wire));
	feed("COMPRESS\r\n");
	if (write(sv[1], wire, n) < 0)
		perror("write");
	ok(next(&line) == CONN_LINE && strcmp(line, "COMPRESS") == 0, "the command in clear");
	ok(conn_compress(&c) == 0 && !conn_is_plain(&c), "compression on");
	ok(conn_compress(&c) < 0, "only once");
	ok(next(&line) == CONN_LINE && strcmp(line, "GROUP a") == 0,
	   "bytes read with the command are inflated");
	n = deflate_text(&dz, "NEXT\r\nLA", 8, wire, sizeof(wire));
	if (write(sv[1], wire, n) < 0)
		perror("write");
	ok(next(&line) == CONN_LINE && strcmp(line, "NEXT") == 0, "a compressed line");
	n = deflate_text(&dz, "ST\r\n", 4, wire, sizeof(wire));
	if (write(sv[1], wire, n) < 0)
		perror("write");
	ok(next(&line) == CONN_LINE && strcmp(line, "LAST") == 0, "split across flushes");
	conn_printf(&c, "211 reply\r\n");
	ok(conn_flush(&c) == 0, "compressed flush");
	{
		ssize_t got = read(sv[1], wire, sizeof(wire));

		iz.next_in = wire;
		iz.avail_in = got > 0 ? (uInt)got : 0;
		iz.next_out = plain;
		iz.avail_out = sizeof(plain);
		inflate(&iz, Z_SYNC_FLUSH);
		ok(sizeof(plain) - iz.avail_out == 11 && memcmp(plain, "211 reply\r\n", 11) == 0,
		   "a reply inflates whole at once (sync flush)");
	}
	/* 8 MB of one byte compresses to about 8 KB. */
	memset(bomb, 'A', sizeof(bomb));
	n = deflate_text(&dz, bomb, sizeof(bomb), wire, sizeof(wire));
	n += deflate_text(&dz, "\r\nQUIT\r\n", 8, wire + n, sizeof(wire) - n);
	if (write(sv[1], wire, n) < 0)
		perror("write");
	ok(next(&line) == CONN_TOOLONG, "a deflate bomb line is one error");
	ok(c.in.cap < (1 << 20), "and never all in memory (%zu bytes)", c.in.cap);
	ok(next(&line) == CONN_LINE && strcmp(line, "QUIT") == 0, "the next line is read");
	if (write(sv[1], "garbage!", 8) < 0)
		perror("write");
	ok(next(&line) == CONN_ERROR, "bad compressed data is an error");
	close(sv[1]);
	conn_free(&c);
	deflateEnd(&dz);
	inflateEnd(&iz);
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
	compressed();
	return tap_done();
}
