/* event: the hook event record and the queue file both ends write
 * (hook/event.h). Runs in the session monitor and in the hook runner. */
#include "ftpd/hook/event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/core/xmalloc.h"
#include "common/io/fileio.h"

/* "PHK" and the format's version; fields little-endian. */
static const unsigned char magic[4] = {'P', 'H', 'K', 'E'};
#define HOOK_VERSION 1
#define NFIELDS 5

static void
put_le(struct buffer *b, uint64_t v, unsigned bytes)
{
	unsigned char c[8];

	for (unsigned i = 0; i < bytes; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	buffer_append(b, c, bytes);
}

static uint64_t
get_le(const unsigned char *p, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int
hook_event_encode(const struct hook_event *ev, struct buffer *out)
{
	const char *f[NFIELDS] = {ev->path, ev->old_path, ev->user, ev->client, ev->session};

	for (int i = 0; i < NFIELDS; i++)
		if (strlen(f[i]) > HOOK_MAX_FIELD)
			return -1;
	buffer_append(out, magic, sizeof(magic));
	put_le(out, HOOK_VERSION, 2);
	put_le(out, (uint64_t)ev->kind, 2);
	put_le(out, ev->size, 8);
	put_le(out, ev->queued, 8);
	for (int i = 0; i < NFIELDS; i++)
		put_le(out, strlen(f[i]), 2);
	for (int i = 0; i < NFIELDS; i++)
		buffer_append(out, f[i], strlen(f[i]));
	return 0;
}

int
hook_event_decode(const void *data, size_t n, struct hook_event *ev)
{
	const unsigned char *p = data;
	char **f[NFIELDS] = {&ev->path, &ev->old_path, &ev->user, &ev->client, &ev->session};
	size_t len[NFIELDS], off = HOOK_HEADER_SIZE, total = HOOK_HEADER_SIZE;

	memset(ev, 0, sizeof(*ev));
	if (n < HOOK_HEADER_SIZE || n > HOOK_MAX_RECORD || memcmp(p, magic, sizeof(magic)) != 0 ||
	    get_le(p + 4, 2) != HOOK_VERSION || get_le(p + 6, 2) >= HOOK_KIND_COUNT)
		return -1;
	for (int i = 0; i < NFIELDS; i++) {
		len[i] = (size_t)get_le(p + 24 + 2 * i, 2);
		if (len[i] > HOOK_MAX_FIELD)
			return -1;
		total += len[i];
	}
	if (total != n || memchr(p + HOOK_HEADER_SIZE, '\0', n - HOOK_HEADER_SIZE) != NULL)
		return -1;
	ev->kind = (enum hook_kind)get_le(p + 6, 2);
	ev->size = get_le(p + 8, 8);
	ev->queued = get_le(p + 16, 8);
	for (int i = 0; i < NFIELDS; i++) {
		*f[i] = xmalloc(len[i] + 1);
		memcpy(*f[i], p + off, len[i]);
		(*f[i])[len[i]] = '\0';
		off += len[i];
	}
	if (ev->path[0] != '/' || (ev->kind == HOOK_RENAME) != (ev->old_path[0] != '\0')) {
		hook_event_free(ev);
		return -1;
	}
	return 0;
}

void
hook_event_free(struct hook_event *ev)
{
	free(ev->path);
	free(ev->old_path);
	free(ev->user);
	free(ev->client);
	free(ev->session);
	memset(ev, 0, sizeof(*ev));
}

int
hook_queue_write(int dirfd, const struct buffer *rec)
{
	static unsigned counter;
	char name[64], temp[80];
	struct timespec now;
	int fd, saved, bad;

	/* Names sort in the order events were queued. */
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(name, sizeof(name), HOOK_ENTRY_PREFIX "%016llx-%08lx-%08x",
	         (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec,
	         (unsigned long)getpid(), counter++);
	snprintf(temp, sizeof(temp), HOOK_TEMP_PREFIX "%s", name);
	fd = openat(dirfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	bad = write_all(fd, buffer_head(rec), rec->len) < 0 || fsync(fd) < 0;
	saved = errno;
	if (close(fd) < 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (bad) {
		unlinkat(dirfd, temp, 0);
		errno = saved;
		return -1;
	}
	if (renameat(dirfd, temp, dirfd, name) < 0) {
		saved = errno;
		unlinkat(dirfd, temp, 0);
		errno = saved;
		return -1;
	}
	/* Only now is the entry's name durable: the caller may say "queued". */
	return fsync(dirfd);
}
