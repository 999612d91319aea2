/* history: the duplicate filter and the Message-ID index. Lookups cost
 * one slot pread (plus one line pread for the location). */
#include "nntpd/store/history.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "nntpd/store/storeformat.h"

#define HISTORY_DAT_MAGIC "#postel-history 1\n"
#define LOC_FLAG (1ull << 63)
#define MAX_LINE (1 << 20)

struct history {
	int spoolfd;
	int writable;
	int fd, dat;
	ino_t ino;
	uint64_t nslots, used, datsize;
	uint64_t oldest; /* header: oldest remembered time (see history.h) */
};

/* RFC 5536 compares Message-IDs case-sensitively except the domain; INN
 * lower-cases the right-hand side before hashing, so do we. */
static void
msgid_hash(const char *msgid, unsigned char out[16])
{
	size_t n = strlen(msgid);
	char *tmp = xstrdup(msgid);
	char *at = strrchr(tmp, '@');
	unsigned char md[SHA256_DIGEST_LENGTH];

	for (char *p = at; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	SHA256((const unsigned char *)tmp, n, md);
	free(tmp);
	memcpy(out, md, 16);
	out[15] |= 1; /* never all zero: zero marks an empty slot */
}

static int
slot_empty(const unsigned char *s)
{
	for (int i = 0; i < 16; i++)
		if (s[i] != 0)
			return 0;
	return 1;
}

static int
write_header(int fd, uint64_t nslots, uint64_t oldest)
{
	unsigned char h[HISTORY_HEADER] = {0};

	store_put32(h, HISTORY_MAGIC);
	store_put32(h + 4, HISTORY_VERSION);
	store_put64(h + 8, nslots);
	store_put64(h + 16, oldest);
	if (pwrite_full(fd, h, sizeof(h), 0) < 0)
		return -1;
	return ftruncate(fd, (off_t)(HISTORY_HEADER + nslots * HISTORY_SLOT));
}

static int
load_table(struct history *h)
{
	unsigned char hd[HISTORY_HEADER];
	struct stat st;
	int fd = openat(h->spoolfd, HISTORY_FILE, (h->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && h->writable) {
		fd = openat(h->spoolfd, HISTORY_FILE, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 && write_header(fd, HISTORY_MIN_SLOTS, HISTORY_NONE_REMEMBERED) < 0) {
			close(fd);
			return -1;
		}
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || pread_full(fd, hd, sizeof(hd), 0) != 0 ||
	    store_get32(hd) != HISTORY_MAGIC || store_get32(hd + 4) != HISTORY_VERSION) {
		log_msg(LOG_ERR, "history: bad header (run nntpctl rebuild)");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	h->nslots = store_get64(hd + 8);
	h->oldest = store_get64(hd + 16);
	if (h->nslots == 0 || (h->nslots & (h->nslots - 1)) != 0 ||
	    (uint64_t)st.st_size < HISTORY_HEADER + h->nslots * HISTORY_SLOT) {
		log_msg(LOG_ERR, "history: bad table size (run nntpctl rebuild)");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (h->fd >= 0)
		close(h->fd);
	h->fd = fd;
	h->ino = st.st_ino;
	return 0;
}

static int
count_used(struct history *h)
{
	unsigned char buf[HISTORY_SLOT * 1024];

	h->used = 0;
	for (uint64_t i = 0; i < h->nslots; i += 1024) {
		if (pread_full(h->fd, buf, sizeof(buf), HISTORY_HEADER + i * HISTORY_SLOT) != 0)
			return -1;
		for (int j = 0; j < 1024; j++)
			h->used += !slot_empty(buf + j * HISTORY_SLOT);
	}
	return 0;
}

struct history *
history_open(int spoolfd, int writable)
{
	struct history *h = xcalloc(1, sizeof(*h));
	struct stat st;
	int flags = (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC;

	h->spoolfd = spoolfd;
	h->writable = writable;
	h->fd = -1;
	h->dat = openat(spoolfd, HISTORY_DAT_FILE, flags, 0644);
	if (h->dat < 0 || load_table(h) < 0 || fstat(h->dat, &st) < 0)
		goto fail;
	h->datsize = (uint64_t)st.st_size;
	if (writable && h->datsize == 0) {
		if (pwrite_full(h->dat, HISTORY_DAT_MAGIC, strlen(HISTORY_DAT_MAGIC), 0) < 0)
			goto fail;
		h->datsize = strlen(HISTORY_DAT_MAGIC);
	}
	if (writable && count_used(h) < 0)
		goto fail;
	return h;
fail : {
	int e = errno;

	history_close(h);
	errno = e;
	return NULL;
}
}

void
history_close(struct history *h)
{
	if (h == NULL)
		return;
	if (h->fd >= 0)
		close(h->fd);
	if (h->dat >= 0)
		close(h->dat);
	free(h);
}

/* Find msgid's slot: 1 and its bytes when present, 0 and the free slot
 * index when absent, -1 on error. */
static int
probe(struct history *h, const unsigned char key[16], uint64_t *index,
      unsigned char slot[HISTORY_SLOT])
{
	uint64_t i = store_get64(key) & (h->nslots - 1);

	for (uint64_t n = 0; n < h->nslots; n++, i = (i + 1) & (h->nslots - 1)) {
		int rc = pread_full(h->fd, slot, HISTORY_SLOT, HISTORY_HEADER + i * HISTORY_SLOT);

		if (rc != 0) {
			if (rc > 0)
				errno = EIO;
			return -1;
		}
		*index = i;
		if (slot_empty(slot))
			return 0;
		if (memcmp(slot, key, 16) == 0)
			return 1;
	}
	errno = ENOSPC;
	return -1;
}

/* Read the history.dat line at off into b (without the newline). */
static int
read_line(struct history *h, uint64_t off, struct buffer *b)
{
	buffer_clear(b);
	for (size_t want = 512; want <= MAX_LINE; want *= 4) {
		ssize_t n = pread(h->dat, buffer_reserve(b, want), want, (off_t)off);
		char *nl;

		if (n <= 0)
			return -1;
		nl = memchr(b->data + b->start, '\n', (size_t)n);
		if (nl != NULL) {
			buffer_commit(b, (size_t)(nl - (b->data + b->start)));
			buffer_cstr(b);
			return 0;
		}
	}
	return -1;
}

int
history_lookup(struct history *h, const char *msgid, struct history_entry *out)
{
	unsigned char key[16], slot[HISTORY_SLOT];
	uint64_t index, entry;
	struct stat st;
	int rc;

	if (!h->writable && fstatat(h->spoolfd, HISTORY_FILE, &st, 0) == 0 && st.st_ino != h->ino &&
	    load_table(h) < 0)
		return -1;
	msgid_hash(msgid, key);
	rc = probe(h, key, &index, slot);
	if (rc <= 0 || out == NULL)
		return rc;
	entry = store_get64(slot + 24);
	out->arrived = (time_t)store_get64(slot + 16);
	out->location = NULL;
	if (entry & LOC_FLAG) {
		struct buffer b = BUFFER_INIT;
		char *t1, *t2;

		if (read_line(h, entry & ~LOC_FLAG, &b) == 0 &&
		    (t1 = strchr(buffer_head(&b), '\t')) != NULL &&
		    (t2 = strchr(t1 + 1, '\t')) != NULL)
			out->location = xstrdup(t2 + 1);
		buffer_free(&b);
	}
	return 1;
}

void
history_entry_free(struct history_entry *e)
{
	free(e->location);
	e->location = NULL;
}

/* Rebuild the table at twice the size, then rename it into place. */
static int
grow(struct history *h)
{
	uint64_t nslots = h->nslots * 2;
	unsigned char *table = xcalloc(nslots, HISTORY_SLOT);
	unsigned char slot[HISTORY_SLOT];
	int fd;

	for (uint64_t i = 0; i < h->nslots; i++) {
		if (pread_full(h->fd, slot, HISTORY_SLOT, HISTORY_HEADER + i * HISTORY_SLOT) != 0)
			goto fail;
		if (slot_empty(slot))
			continue;
		uint64_t j = store_get64(slot) & (nslots - 1);

		while (!slot_empty(table + j * HISTORY_SLOT))
			j = (j + 1) & (nslots - 1);
		memcpy(table + j * HISTORY_SLOT, slot, HISTORY_SLOT);
	}
	fd = openat(h->spoolfd, HISTORY_FILE ".tmp", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	if (write_header(fd, nslots, h->oldest) < 0 ||
	    pwrite_full(fd, table, nslots * HISTORY_SLOT, HISTORY_HEADER) < 0 ||
	    renameat(h->spoolfd, HISTORY_FILE ".tmp", h->spoolfd, HISTORY_FILE) < 0) {
		close(fd);
		goto fail;
	}
	free(table);
	close(h->fd);
	h->fd = fd;
	h->nslots = nslots;
	return 0;
fail:
	free(table);
	return -1;
}

/* Keep the header's oldest remembered time a lower bound, so a prune
 * that has nothing to drop costs one comparison, not a table scan. */
static int
note_remembered(struct history *h, time_t when)
{
	unsigned char b[8];

	if (h->oldest == 0 || (uint64_t)when >= h->oldest)
		return 0; /* unknown (older table: prune scans) or no older */
	h->oldest = (uint64_t)when;
	store_put64(b, h->oldest);
	return pwrite_full(h->fd, b, sizeof(b), 16);
}

int
history_add(struct history *h, const char *msgid, time_t arrived, const char *location)
{
	unsigned char key[16], slot[HISTORY_SLOT];
	uint64_t index, off = h->datsize;
	struct buffer line = BUFFER_INIT;
	int rc;

	if (!h->writable) {
		errno = EROFS;
		return -1;
	}
	if ((h->used + 1) * 2 > h->nslots && grow(h) < 0)
		return -1;
	msgid_hash(msgid, key);
	rc = probe(h, key, &index, slot);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	buffer_printf(&line, "%s\t%lld\t%s\n", msgid, (long long)arrived, location ? location : "");
	rc = pwrite_full(h->dat, buffer_head(&line), line.len, off);
	if (rc == 0) {
		h->datsize += line.len;
		memset(slot, 0, sizeof(slot));
		memcpy(slot, key, 16);
		store_put64(slot + 16, (uint64_t)arrived);
		store_put64(slot + 24, off | (location ? LOC_FLAG : 0));
		rc = pwrite_full(h->fd, slot, sizeof(slot), HISTORY_HEADER + index * HISTORY_SLOT);
		if (rc == 0)
			h->used++;
		if (rc == 0 && location == NULL)
			rc = note_remembered(h, arrived);
	}
	buffer_free(&line);
	return rc;
}

int
history_forget(struct history *h, const char *msgid, time_t when)
{
	unsigned char key[16], slot[HISTORY_SLOT];
	uint64_t index, off = h->datsize;
	struct buffer line = BUFFER_INIT;
	int rc;

	if (!h->writable) {
		errno = EROFS;
		return -1;
	}
	msgid_hash(msgid, key);
	rc = probe(h, key, &index, slot);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return history_add(h, msgid, when, NULL) < 0 ? -1 : 1;
	if (!(store_get64(slot + 24) & LOC_FLAG))
		return 0;
	/* The new line first, then the slot's time and entry in one write:
	 * a reader sees the old location or the remembered entry. */
	buffer_printf(&line, "%s\t%lld\t\n", msgid, (long long)when);
	rc = pwrite_full(h->dat, buffer_head(&line), line.len, off);
	if (rc == 0) {
		h->datsize += line.len;
		store_put64(slot + 16, (uint64_t)when);
		store_put64(slot + 24, off);
		rc = pwrite_full(h->fd, slot + 16, 16, HISTORY_HEADER + index * HISTORY_SLOT + 16);
	}
	if (rc == 0)
		rc = note_remembered(h, when);
	buffer_free(&line);
	return rc < 0 ? -1 : 1;
}

int64_t
history_prune(struct history *h, time_t before)
{
	uint64_t oldest = HISTORY_NONE_REMEMBERED, dropped = 0, size;
	unsigned char *old, *table;
	int fd;

	if (!h->writable) {
		errno = EROFS;
		return -1;
	}
	if (h->oldest != 0 && h->oldest >= (uint64_t)before)
		return 0;
	size = h->nslots * HISTORY_SLOT;
	old = xmalloc(size);
	if (pread_full(h->fd, old, size, HISTORY_HEADER) != 0) {
		free(old);
		errno = EIO;
		return -1;
	}
	table = xcalloc(h->nslots, HISTORY_SLOT);
	for (uint64_t i = 0; i < h->nslots; i++) {
		const unsigned char *slot = old + i * HISTORY_SLOT;
		uint64_t t = store_get64(slot + 16), j;

		if (slot_empty(slot))
			continue;
		if (!(store_get64(slot + 24) & LOC_FLAG)) {
			if (t < (uint64_t)before) {
				dropped++;
				continue;
			}
			if (t < oldest)
				oldest = t;
		}
		for (j = store_get64(slot) & (h->nslots - 1); !slot_empty(table + j * HISTORY_SLOT);
		     j = (j + 1) & (h->nslots - 1))
			;
		memcpy(table + j * HISTORY_SLOT, slot, HISTORY_SLOT);
	}
	free(old);
	/* Linear probing cannot simply empty a slot (it would cut the probe
	 * chains behind it): write the kept entries into a new table and
	 * rename it into place, as grow() does. Readers reopen by inode. */
	fd = openat(h->spoolfd, HISTORY_FILE ".tmp", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_header(fd, h->nslots, oldest) < 0 ||
	    pwrite_full(fd, table, size, HISTORY_HEADER) < 0 ||
	    renameat(h->spoolfd, HISTORY_FILE ".tmp", h->spoolfd, HISTORY_FILE) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlinkat(h->spoolfd, HISTORY_FILE ".tmp", 0);
		free(table);
		errno = e;
		return -1;
	}
	free(table);
	close(h->fd);
	h->fd = fd;
	h->oldest = oldest;
	h->used -= dropped;
	return (int64_t)dropped;
}

int
history_walk(struct history *h,
             int (*fn)(void *arg, const char *msgid, time_t arrived, const char *location),
             void *arg)
{
	unsigned char slot[HISTORY_SLOT];
	struct buffer b = BUFFER_INIT;
	int rc = 0;

	for (uint64_t i = 0; i < h->nslots && rc == 0; i++) {
		char *t1, *t2;
		uint64_t entry;

		if (pread_full(h->fd, slot, HISTORY_SLOT, HISTORY_HEADER + i * HISTORY_SLOT) != 0) {
			rc = -1;
			break;
		}
		if (slot_empty(slot))
			continue;
		entry = store_get64(slot + 24);
		if (read_line(h, entry & ~LOC_FLAG, &b) < 0 ||
		    (t1 = strchr(buffer_head(&b), '\t')) == NULL ||
		    (t2 = strchr(t1 + 1, '\t')) == NULL) {
			rc = fn(arg, NULL, (time_t)store_get64(slot + 16), NULL);
			continue;
		}
		*t1 = '\0';
		rc = fn(arg, buffer_head(&b), (time_t)store_get64(slot + 16),
		        (entry & LOC_FLAG) ? t2 + 1 : NULL);
	}
	buffer_free(&b);
	return rc;
}
