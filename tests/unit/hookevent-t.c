/* hookevent-t: the upload hook's event record (ftpd/hook/event.c): the
 * encode/decode pair, what decode refuses, and the queue file it writes. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "ftpd/hook/event.h"
#include "tap.h"

static struct hook_event sample = {
    .kind = HOOK_RENAME,
    .size = 0x0102030405060708ULL,
    .queued = 1700000000,
    .path = "/srv/drop/new name.bin",
    .old_path = "/srv/drop/old.bin",
    .user = "alice",
    .client = "2001:db8::1",
    .session = "0a1b2c3d4e",
};

static void
test_round_trip(void)
{
	struct buffer b = BUFFER_INIT;
	struct hook_event ev;
	const unsigned char *p;

	ok(hook_event_encode(&sample, &b) == 0, "encode a rename");
	p = (const unsigned char *)buffer_head(&b);
	ok(b.len == HOOK_HEADER_SIZE + strlen(sample.path) + strlen(sample.old_path) +
	                strlen(sample.user) + strlen(sample.client) + strlen(sample.session),
	   "header plus the five strings, nothing else");
	ok(memcmp(p, "PHKE", 4) == 0 && p[4] == 1 && p[5] == 0,
	   "magic, then version 1 little-endian");
	ok(p[8] == 0x08 && p[15] == 0x01, "size little-endian");
	ok(hook_event_decode(p, b.len, &ev) == 0, "decode it");
	ok(ev.kind == HOOK_RENAME && ev.size == sample.size && ev.queued == sample.queued,
	   "kind, size and time survive");
	is_string(sample.path, ev.path, "path survives");
	is_string(sample.old_path, ev.old_path, "old path survives");
	is_string(sample.session, ev.session, "session survives");
	hook_event_free(&ev);
	buffer_free(&b);
}

static int
decode_mutated(size_t at, unsigned char to, size_t cut)
{
	struct buffer b = BUFFER_INIT;
	struct hook_event ev;
	unsigned char *p;
	int rc;

	hook_event_encode(&sample, &b);
	p = (unsigned char *)buffer_head(&b);
	if (at < b.len)
		p[at] = to;
	rc = hook_event_decode(p, b.len - cut, &ev);
	if (rc == 0)
		hook_event_free(&ev);
	buffer_free(&b);
	return rc;
}

static void
test_malformed(void)
{
	struct hook_event up = sample, ev;
	struct buffer b = BUFFER_INIT;

	ok(decode_mutated((size_t)-1, 0, 0) == 0, "the unchanged record decodes");
	ok(decode_mutated(0, 'X', 0) < 0, "a wrong magic is refused");
	ok(decode_mutated(4, 2, 0) < 0, "another version is refused");
	ok(decode_mutated(6, HOOK_KIND_COUNT, 0) < 0, "an unknown kind is refused");
	ok(decode_mutated(0, 'P', 1) < 0, "a record one byte short is refused");
	ok(decode_mutated(24, 0xff, 0) < 0, "a length past the record is refused");
	ok(decode_mutated(HOOK_HEADER_SIZE + 2, 0, 0) < 0, "a NUL inside a string is refused");
	ok(decode_mutated(HOOK_HEADER_SIZE, 's', 0) < 0, "a path that is not absolute is refused");
	ok(hook_event_decode("PHKE", 4, &ev) < 0, "a record shorter than its header is refused");
	up.kind = HOOK_UPLOAD;
	hook_event_encode(&up, &b);
	ok(hook_event_decode(buffer_head(&b), b.len, &ev) < 0,
	   "an upload with an old path is refused");
	buffer_free(&b);
	up.kind = HOOK_RENAME;
	up.old_path = "";
	hook_event_encode(&up, &b);
	ok(hook_event_decode(buffer_head(&b), b.len, &ev) < 0, "a rename without one is refused");
	buffer_free(&b);
	{
		char *longer = malloc(HOOK_MAX_FIELD + 2);

		memset(longer, 'a', HOOK_MAX_FIELD + 1);
		longer[0] = '/';
		longer[HOOK_MAX_FIELD + 1] = '\0';
		up.path = longer;
		ok(hook_event_encode(&up, &b) < 0, "a field over HOOK_MAX_FIELD is not encoded");
		buffer_free(&b);
		free(longer);
	}
}

static void
test_queue_write(void)
{
	char dir[] = "/tmp/hookevent-t.XXXXXX";
	struct buffer b = BUFFER_INIT;
	struct dirent *de;
	int dfd, n = 0, temps = 0;
	DIR *d;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	hook_event_encode(&sample, &b);
	ok(hook_queue_write(dfd, &b) == 0 && hook_queue_write(dfd, &b) == 0, "two events queued");
	d = opendir(dir);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, HOOK_ENTRY_PREFIX, strlen(HOOK_ENTRY_PREFIX)) == 0) {
			int fd = openat(dfd, de->d_name, O_RDONLY);
			char buf[HOOK_MAX_RECORD];
			ssize_t r = read(fd, buf, sizeof(buf));
			struct stat st;

			n++;
			fstat(fd, &st);
			ok(r == (ssize_t)b.len && memcmp(buf, buffer_head(&b), b.len) == 0,
			   "entry %s holds the record", de->d_name);
			ok((st.st_mode & 0777) == 0600, "entry %s is 0600", de->d_name);
			close(fd);
			unlinkat(dfd, de->d_name, 0);
		} else if (strncmp(de->d_name, HOOK_TEMP_PREFIX, strlen(HOOK_TEMP_PREFIX)) == 0) {
			temps++;
			unlinkat(dfd, de->d_name, 0);
		}
	}
	closedir(d);
	ok(n == 2, "one file per event (%d)", n);
	ok(temps == 0, "no temporary file left behind");
	close(dfd);
	rmdir(dir);
	buffer_free(&b);
}

int
main(void)
{
	test_round_trip();
	test_malformed();
	test_queue_write();
	return tap_done();
}
