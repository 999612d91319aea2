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

/* One table file: "history", or "history.new" while growing. */
struct table {
	int fd;
	ino_t ino;
	uint64_t nslots;
};

struct history {
	int spoolfd;
	int writable;
	int dat;
	struct table cur;  /* history */
	struct table next; /* history.new while growing, else fd -1 */
	uint64_t copied;   /* slots of cur copied into next */
	uint64_t used;     /* slots used in the table adds go to */
	uint64_t datsize;
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
put_field(int fd, uint64_t off, uint64_t v)
{
	unsigned char b[8];

	store_put64(b, v);
	return pwrite_full(fd, b, sizeof(b), off);
}

static void
table_close(struct table *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* Open one table file and check its header into t and hd. */
static int
table_open(struct history *h, const char *name, struct table *t, unsigned char hd[HISTORY_HEADER])
{
	struct stat st;
	int fd = openat(h->spoolfd, name, (h->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && h->writable && strcmp(name, HISTORY_FILE) == 0) {
		fd = openat(h->spoolfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 && write_header(fd, HISTORY_MIN_SLOTS, HISTORY_NONE_REMEMBERED) < 0) {
			close(fd);
			return -1;
		}
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || pread_full(fd, hd, HISTORY_HEADER, 0) != 0 ||
	    store_get32(hd) != HISTORY_MAGIC || store_get32(hd + 4) != HISTORY_VERSION) {
		log_msg(LOG_ERR, "%s: bad header (run nntpctl rebuild)", name);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	t->nslots = store_get64(hd + 8);
	if (t->nslots == 0 || (t->nslots & (t->nslots - 1)) != 0 ||
	    (uint64_t)st.st_size < HISTORY_HEADER + t->nslots * HISTORY_SLOT) {
		log_msg(LOG_ERR, "%s: bad table size (run nntpctl rebuild)", name);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	t->fd = fd;
	t->ino = st.st_ino;
	return 0;
}

/* Open history.new when history's header says it is growing into one. */
static int
load_next(struct history *h, uint64_t growing)
{
	unsigned char hd[HISTORY_HEADER];
	struct table t;

	if (table_open(h, HISTORY_NEW_FILE, &t, hd) < 0)
		return -1;
	if (t.nslots != growing) {
		log_msg(LOG_ERR, "history: %s does not match history (run nntpctl rebuild)",
		        HISTORY_NEW_FILE);
		close(t.fd);
		errno = EINVAL;
		return -1;
	}
	table_close(&h->next);
	h->next = t;
	h->copied = store_get64(hd + 32);
	if (h->copied > h->cur.nslots)
		h->copied = h->cur.nslots;
	/* Adds go to history.new: its header has the oldest remembered time
	 * (it started as history's and only went down since). */
	h->oldest = store_get64(hd + 16);
	return 0;
}

/* (Re)open history and, when it is growing, history.new. */
static int
load_table(struct history *h)
{
	unsigned char hd[HISTORY_HEADER];
	struct table t;
	uint64_t growing;

	/* A reader can lose a race with the rename that ends a growth (the
	 * new table is gone by its old name): the fresh history has it. */
	for (int tries = 0;; tries++) {
		if (table_open(h, HISTORY_FILE, &t, hd) < 0)
			return -1;
		table_close(&h->cur);
		table_close(&h->next);
		h->cur = t;
		h->oldest = store_get64(hd + 16);
		growing = store_get64(hd + 24);
		if (growing == 0) {
			/* A history.new left by a crash before history said it
			 * was growing holds nothing yet. */
			if (h->writable)
				unlinkat(h->spoolfd, HISTORY_NEW_FILE, 0);
			return 0;
		}
		if (load_next(h, growing) == 0)
			return 0;
		if (errno == ENOENT && h->writable) {
			/* Only a hand could remove it: what was added to it alone
			 * is lost until a rebuild; history itself is whole. */
			log_msg(LOG_ERR, "history: %s is missing (run nntpctl rebuild)",
			        HISTORY_NEW_FILE);
			return put_field(h->cur.fd, 24, 0);
		}
		if (errno != ENOENT || tries == 2)
			return -1;
	}
}

/* Reader: follow a new history (inode) or a growth that started. */
static int
refresh(struct history *h)
{
	struct stat st;
	unsigned char b[8];

	if (fstatat(h->spoolfd, HISTORY_FILE, &st, 0) == 0 && st.st_ino != h->cur.ino)
		return load_table(h);
	if (h->next.fd >= 0)
		return 0;
	if (pread_full(h->cur.fd, b, sizeof(b), 24) != 0)
		return 0;
	if (store_get64(b) != 0 && load_next(h, store_get64(b)) < 0)
		return errno == ENOENT ? load_table(h) : -1;
	return 0;
}

static int
count_used(struct history *h, const struct table *t)
{
	unsigned char buf[HISTORY_SLOT * 1024];

	h->used = 0;
	for (uint64_t i = 0; i < t->nslots; i += 1024) {
		if (pread_full(t->fd, buf, sizeof(buf), HISTORY_HEADER + i * HISTORY_SLOT) != 0)
			return -1;
		for (int j = 0; j < 1024; j++)
			h->used += !slot_empty(buf + j * HISTORY_SLOT);
	}
	return 0;
}

/* The table adds go to. */
static struct table *
add_table(struct history *h)
{
	return h->next.fd >= 0 ? &h->next : &h->cur;
}

struct history *
history_open(int spoolfd, int writable)
{
	struct history *h = xcalloc(1, sizeof(*h));
	struct stat st;
	int flags = (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC;

	h->spoolfd = spoolfd;
	h->writable = writable;
	h->cur.fd = h->next.fd = -1;
	h->dat = openat(spoolfd, HISTORY_DAT_FILE, flags, 0644);
	if (h->dat < 0 || load_table(h) < 0 || fstat(h->dat, &st) < 0)
		goto fail;
	h->datsize = (uint64_t)st.st_size;
	if (writable && h->datsize == 0) {
		if (pwrite_full(h->dat, HISTORY_DAT_MAGIC, strlen(HISTORY_DAT_MAGIC), 0) < 0)
			goto fail;
		h->datsize = strlen(HISTORY_DAT_MAGIC);
	}
	if (writable && count_used(h, add_table(h)) < 0)
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
	table_close(&h->cur);
	table_close(&h->next);
	if (h->dat >= 0)
		close(h->dat);
	free(h);
}

/* Find key's slot in t: 1 and its bytes when present, 0 and the free slot
 * index when absent, -1 on error. */
static int
probe(const struct table *t, const unsigned char key[16], uint64_t *index,
      unsigned char slot[HISTORY_SLOT])
{
	uint64_t i = store_get64(key) & (t->nslots - 1);

	for (uint64_t n = 0; n < t->nslots; n++, i = (i + 1) & (t->nslots - 1)) {
		int rc = pread_full(t->fd, slot, HISTORY_SLOT, HISTORY_HEADER + i * HISTORY_SLOT);

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

/* Find key in history.new, then history: 1 with the table holding it
 * (history.new wins: expire updates the copy there), 0 with the add
 * table's free slot, -1 on error. */
static int
find(struct history *h, const unsigned char key[16], struct table **where, uint64_t *index,
     unsigned char slot[HISTORY_SLOT])
{
	uint64_t free_index = 0;
	int rc;

	if (h->next.fd >= 0) {
		rc = probe(&h->next, key, &free_index, slot);
		*where = &h->next;
		*index = free_index;
		if (rc != 0)
			return rc;
	}
	rc = probe(&h->cur, key, index, slot);
	if (rc != 0) {
		*where = &h->cur;
		return rc;
	}
	*where = add_table(h);
	if (h->next.fd >= 0)
		*index = free_index;
	return 0;
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
	struct table *where;
	int rc;

	if (!h->writable && refresh(h) < 0)
		return -1;
	msgid_hash(msgid, key);
	rc = find(h, key, &where, &index, slot);
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

/* Start growing: history.new at twice the size (sparse, so creating it
 * costs no writes), then history's header says so. Until that header
 * write, a crash leaves a history.new that the next open removes. */
static int
grow_start(struct history *h)
{
	struct table t = {.nslots = h->cur.nslots * 2};
	struct stat st;

	t.fd = openat(h->spoolfd, HISTORY_NEW_FILE, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (t.fd < 0)
		return -1;
	if (write_header(t.fd, t.nslots, h->oldest) < 0 || fstat(t.fd, &st) < 0 ||
	    put_field(h->cur.fd, 24, t.nslots) < 0) {
		int e = errno;

		close(t.fd);
		unlinkat(h->spoolfd, HISTORY_NEW_FILE, 0);
		errno = e;
		return -1;
	}
	t.ino = st.st_ino;
	h->next = t;
	h->copied = 0;
	h->used = 0;
	return 0;
}

/* Copy up to n more slots of history into history.new; after the last,
 * history.new becomes history. A slot already copied (a crash between
 * its copy and the count's update) is found and skipped. */
static int
grow_step(struct history *h, uint64_t n)
{
	unsigned char buf[HISTORY_SLOT * HISTORY_GROW_STEP], slot[HISTORY_SLOT];

	while (n > 0 && h->copied < h->cur.nslots) {
		uint64_t k = h->cur.nslots - h->copied, index;

		if (k > HISTORY_GROW_STEP)
			k = HISTORY_GROW_STEP;
		if (k > n)
			k = n;
		if (pread_full(h->cur.fd, buf, k * HISTORY_SLOT,
		               HISTORY_HEADER + h->copied * HISTORY_SLOT) != 0) {
			errno = EIO;
			return -1;
		}
		for (uint64_t i = 0; i < k; i++) {
			const unsigned char *s = buf + i * HISTORY_SLOT;
			int rc;

			if (slot_empty(s))
				continue;
			rc = probe(&h->next, s, &index, slot);
			if (rc < 0)
				return -1;
			if (rc == 1)
				continue;
			if (pwrite_full(h->next.fd, s, HISTORY_SLOT,
			                HISTORY_HEADER + index * HISTORY_SLOT) < 0)
				return -1;
			h->used++;
		}
		h->copied += k;
		n -= k;
		if (put_field(h->next.fd, 32, h->copied) < 0)
			return -1;
	}
	if (h->copied < h->cur.nslots)
		return 0;
	/* Readers holding the old history notice the new inode and reopen. */
	if (renameat(h->spoolfd, HISTORY_NEW_FILE, h->spoolfd, HISTORY_FILE) < 0)
		return -1;
	table_close(&h->cur);
	h->cur = h->next;
	h->next.fd = -1;
	h->copied = 0;
	return 0;
}

/* Finish a growth in progress at once (prune rewrites the whole table). */
static int
grow_finish(struct history *h)
{
	while (h->next.fd >= 0)
		if (grow_step(h, h->cur.nslots) < 0)
			return -1;
	return 0;
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
	return pwrite_full(add_table(h)->fd, b, sizeof(b), 16);
}

int
history_add(struct history *h, const char *msgid, time_t arrived, const char *location)
{
	unsigned char key[16], slot[HISTORY_SLOT];
	uint64_t index, off = h->datsize;
	struct buffer line = BUFFER_INIT;
	struct table *where;
	int rc;

	if (!h->writable) {
		errno = EROFS;
		return -1;
	}
	/* No whole-table rehash ever stops the writer: growth is a bounded
	 * step per add. */
	if (h->next.fd >= 0 && (h->used + 1) * 2 > h->next.nslots && grow_finish(h) < 0)
		return -1; /* only with HISTORY_GROW_STEP < 2 */
	if (h->next.fd < 0 && (h->used + 1) * 2 > h->cur.nslots && grow_start(h) < 0)
		return -1;
	if (h->next.fd >= 0 && grow_step(h, HISTORY_GROW_STEP) < 0)
		return -1;
	msgid_hash(msgid, key);
	rc = find(h, key, &where, &index, slot);
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
		rc = pwrite_full(where->fd, slot, sizeof(slot),
		                 HISTORY_HEADER + index * HISTORY_SLOT);
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
	struct table *where;
	int rc;

	if (!h->writable) {
		errno = EROFS;
		return -1;
	}
	msgid_hash(msgid, key);
	rc = find(h, key, &where, &index, slot);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return history_add(h, msgid, when, NULL) < 0 ? -1 : 1;
	if (!(store_get64(slot + 24) & LOC_FLAG))
		return 0;
	/* The new line first, then the slot's time and entry in one write:
	 * a reader sees the old location or the remembered entry. A slot not
	 * yet copied by a growth changes in history and is copied changed. */
	buffer_printf(&line, "%s\t%lld\t\n", msgid, (long long)when);
	rc = pwrite_full(h->dat, buffer_head(&line), line.len, off);
	if (rc == 0) {
		h->datsize += line.len;
		store_put64(slot + 16, (uint64_t)when);
		store_put64(slot + 24, off);
		rc = pwrite_full(where->fd, slot + 16, 16,
		                 HISTORY_HEADER + index * HISTORY_SLOT + 16);
	}
	if (rc == 0)
		rc = note_remembered(h, when);
	buffer_free(&line);
	return rc < 0 ? -1 : 1;
}

int64_t
history_prune(struct history *h, time_t before)
{
	uint64_t oldest = HISTORY_NONE_REMEMBERED, dropped = 0, size, nslots;
	unsigned char *old, *table;
	struct stat st;
	int fd;

	if (!h->writable) {
		errno = EROFS;
		return -1;
	}
	if (h->oldest != 0 && h->oldest >= (uint64_t)before)
		return 0;
	if (grow_finish(h) < 0)
		return -1;
	nslots = h->cur.nslots;
	size = nslots * HISTORY_SLOT;
	old = xmalloc(size);
	if (pread_full(h->cur.fd, old, size, HISTORY_HEADER) != 0) {
		free(old);
		errno = EIO;
		return -1;
	}
	table = xcalloc(nslots, HISTORY_SLOT);
	for (uint64_t i = 0; i < nslots; i++) {
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
		for (j = store_get64(slot) & (nslots - 1); !slot_empty(table + j * HISTORY_SLOT);
		     j = (j + 1) & (nslots - 1))
			;
		memcpy(table + j * HISTORY_SLOT, slot, HISTORY_SLOT);
	}
	free(old);
	/* Linear probing cannot simply empty a slot (it would cut the probe
	 * chains behind it): write the kept entries into a new table and
	 * rename it into place. Readers reopen by inode. */
	fd = openat(h->spoolfd, HISTORY_FILE ".tmp", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_header(fd, nslots, oldest) < 0 ||
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
	close(h->cur.fd);
	h->cur.fd = fd;
	if (fstat(fd, &st) == 0)
		h->cur.ino = st.st_ino;
	h->oldest = oldest;
	h->used -= dropped;
	return (int64_t)dropped;
}

/* Walk t; skip_in, when set, holds the entries that win over t's. */
static int
walk_table(struct history *h, const struct table *t, const struct table *skip_in,
           int (*fn)(void *arg, const char *msgid, time_t arrived, const char *location), void *arg)
{
	unsigned char slot[HISTORY_SLOT], other[HISTORY_SLOT];
	struct buffer b = BUFFER_INIT;
	uint64_t index;
	int rc = 0;

	for (uint64_t i = 0; i < t->nslots && rc == 0; i++) {
		char *t1, *t2;
		uint64_t entry;

		if (pread_full(t->fd, slot, HISTORY_SLOT, HISTORY_HEADER + i * HISTORY_SLOT) != 0) {
			rc = -1;
			break;
		}
		if (slot_empty(slot))
			continue;
		if (skip_in != NULL && (rc = probe(skip_in, slot, &index, other)) != 0) {
			rc = rc < 0 ? -1 : 0;
			continue;
		}
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

int
history_walk(struct history *h,
             int (*fn)(void *arg, const char *msgid, time_t arrived, const char *location),
             void *arg)
{
	if (h->next.fd < 0)
		return walk_table(h, &h->cur, NULL, fn, arg);
	int rc = walk_table(h, &h->next, NULL, fn, arg);

	return rc != 0 ? rc : walk_table(h, &h->cur, &h->next, fn, arg);
}
