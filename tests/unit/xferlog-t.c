/* xferlog-t: the wu-ftpd xferlog line, field by field. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "ftpd/dtp/xferlog.h"
#include "tap.h"

static void
line_is(const struct xfer_record *rec, const char *want, const char *why)
{
	struct buffer b = BUFFER_INIT;

	xferlog_format(&b, rec);
	is_string(want, buffer_cstr(&b), "%s", why);
	buffer_free(&b);
}

int
main(void)
{
	struct xfer_record r = {
	    .when = 1000000000,
	    .seconds = 2.6,
	    .host = "192.0.2.7",
	    .bytes = 12345,
	    .path = "/pub/file.tar.gz",
	    .type = 'b',
	    .direction = 'o',
	    .access = 'r',
	    .user = "alice",
	    .complete = 1,
	};
	char tmpl[] = "/tmp/xferlog-t.XXXXXX";
	char buf[512];
	ssize_t n;
	int fd;

	line_is(
	    &r,
	    "Sun Sep  9 01:46:40 2001 3 192.0.2.7 12345 /pub/file.tar.gz b _ o r alice ftp 0 * c\n",
	    "download by a real user");
	r.seconds = 0.1;
	r.type = 'a';
	r.direction = 'i';
	r.access = 'a';
	r.user = "guest@example.com";
	r.complete = 0;
	r.when = 1700000000;
	line_is(&r,
	        "Tue Nov 14 22:13:20 2023 1 192.0.2.7 12345 /pub/file.tar.gz a _ i a "
	        "guest@example.com ftp 0 * i\n",
	        "anonymous incomplete upload, at least 1 second");
	r.path = "/in/my file\r\nFAKE LINE\t.txt";
	r.user = "a b";
	r.host = "";
	line_is(&r,
	        "Tue Nov 14 22:13:20 2023 1 - 12345 /in/my_file__FAKE_LINE_.txt a _ i a a_b ftp 0 "
	        "* i\n",
	        "spaces and control bytes become _, empty becomes -");
	r.path = "/\xc3\xa9t\xc3\xa9/\xff";
	r.user = NULL;
	r.type = 'x';
	r.bytes = -5;
	line_is(&r, "Tue Nov 14 22:13:20 2023 1 - 0 /\xc3\xa9t\xc3\xa9/\xff b _ i a - ftp 0 * i\n",
	        "UTF-8 and raw bytes kept, bad type and negative size clamped");

	fd = mkstemp(tmpl);
	ok(fd >= 0, "temp log");
	r.path = "/x";
	r.user = "u";
	r.type = 'b';
	r.bytes = 1;
	ok(xferlog_write(fd, &r) == 0 && xferlog_write(fd, &r) == 0, "two writes");
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = '\0';
	is_string("Tue Nov 14 22:13:20 2023 1 - 1 /x b _ i a u ftp 0 * i\n"
	          "Tue Nov 14 22:13:20 2023 1 - 1 /x b _ i a u ftp 0 * i\n",
	          buf, "... two whole lines in the file");
	close(fd);
	unlink(tmpl);
	ok(xferlog_write(-1, &r) == -1, "write to a bad fd fails");
	return tap_done();
}
