/* history: the duplicate filter and the Message-ID index. Lookups cost
 * one slot pread (plus one line pread for the location). */
#include "nntpd/store/history.h"

#include <ctype.h>
#include <dirent.h>
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
#include "common/core/number.h"
#include "common/core/pace.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "nntpd/store/storeformat.h"

#define HISTORY_DAT_MAGIC "#postel-history 1\n"
#define LOC_FLAG (1ull << 63)
#define MAX_LINE (1 << 20)

#define DEAD_WORTH (64u << 10) /* dead line bytes worth a compaction */

/* One table file ("history", or "history.new" while copying) and the
 * line file of its generation. */
struct table {
	int fd;
	ino_t ino;
	uint64_t nslots;
	uint64_t gen;
	int dat;
};

/* Expire's prune: idle, counting what a compaction keeps, or copying. */
enum prune_phase { PRUNE_IDLE, PRUNE_COUNT, PRUNE_COPY };

struct history {
	int spoolfd;
	int writable;
	struct table cur;  /* history */
	struct table next; /* history.new while copying, else fd -1 */
	uint64_t copied;   /* slots of cur copied into next */
	uint64_t cutoff;   /* a compacting copy drops remembered entries before */
	uint64_t used;     /* slots used in the table adds go to */
	uint64_t datsize;  /* of the add table's line file */
	/* The add table's header (see history.h): */
	uint64_t oldest; /* oldest remembered time */
	uint64_t dead;   /* dead line bytes */
	/* Expire's prune, in memory (a crash restarts the count; a copy
	 * resumes from history.new). */
	enum prune_phase phase;
	uint64_t scan, drop;
	int synced; /* new files synced ahead of copy_end, one per slice */
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
write_header(int fd, uint64_t nslots, uint64_t oldest, uint64_t gen, uint64_t dead,
             uint64_t cutoff)
{
	unsigned char h[HISTORY_HEADER] = {0};

	store_put32(h, HISTORY_MAGIC);
	store_put32(h + 4, HISTORY_VERSION);
	store_put64(h + 8, nslots);
	store_put64(h + 16, oldest);
	store_put64(h + 40, gen);
	store_put64(h + 48, dead);
	store_put64(h + 56, cutoff);
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
	if (t->dat >= 0)
		close(t->dat);
	t->fd = t->dat = -1;
}

/* The line file of generation gen: "history.dat" or "history.dat.N". */
static void
dat_name(uint64_t gen, char out[64])
{
	if (gen == 0)
		snprintf(out, 64, "%s", HISTORY_DAT_FILE);
	else
		snprintf(out, 64, "%s.%llu", HISTORY_DAT_FILE, (unsigned long long)gen);
}

/* Open generation gen's line file (create: a fresh one, emptied). The
 * writer makes a missing one, as it always did history.dat: the spool
 * stays usable for a rebuild. */
static int
dat_open(struct history *h, uint64_t gen, int create)
{
	char name[64];
	int fd;

	dat_name(gen, name);
	fd = openat(h->spoolfd, name,
	            h->writable ? O_RDWR | O_CREAT | (create ? O_TRUNC : 0) | O_CLOEXEC
	                        : O_RDONLY | O_CLOEXEC,
	            0644);
	if (fd < 0 || !h->writable || lseek(fd, 0, SEEK_END) != 0)
		return fd;
	if (!create && gen != 0)
		log_msg(LOG_ERR, "history: %s was missing: lookups of what it held find no "
		                 "article until nntpctl rebuild", name);
	if (pwrite_full(fd, HISTORY_DAT_MAGIC, strlen(HISTORY_DAT_MAGIC), 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Open one table file and its line file; check its header into t and hd. */
static int
table_open(struct history *h, const char *name, struct table *t, unsigned char hd[HISTORY_HEADER])
{
	struct stat st;
	int fd = openat(h->spoolfd, name, (h->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && h->writable && strcmp(name, HISTORY_FILE) == 0) {
		fd = openat(h->spoolfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 &&
		    write_header(fd, HISTORY_MIN_SLOTS, HISTORY_NONE_REMEMBERED, 0, 0, 0) < 0) {
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
	t->gen = store_get64(hd + 40);
	t->dat = dat_open(h, t->gen, 0);
	if (t->dat < 0) {
		int e = errno;

		if (e != ENOENT || h->writable)
			log_msg(LOG_ERR, "%s: its line file (generation %llu): %m (run nntpctl rebuild)",
			        name, (unsigned long long)t->gen);
		close(fd);
		errno = e;
		return -1;
	}
	t->fd = fd;
	t->ino = st.st_ino;
	return 0;
}

/* Remove the line files of every generation but keep1 and keep2
 * (UINT64_MAX: none), left by a crash around a copy's ends or, for
 * history_remove, all of them. */
static void
remove_dats(int spoolfd, uint64_t keep1, uint64_t keep2)
{
	size_t n = strlen(HISTORY_DAT_FILE);
	int fd = openat(spoolfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		uint64_t gen = 0;

		if (strncmp(e->d_name, HISTORY_DAT_FILE, n) != 0 ||
		    (e->d_name[n] != '\0' &&
		     (e->d_name[n] != '.' || number_parse(e->d_name + n + 1, 1, UINT64_MAX, &gen) < 0)))
			continue;
		if (gen != keep1 && gen != keep2)
			unlinkat(spoolfd, e->d_name, 0);
	}
	closedir(d);
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
	 * and the dead bytes of its line file. */
	h->oldest = store_get64(hd + 16);
	h->dead = store_get64(hd + 48);
	h->cutoff = store_get64(hd + 56);
	return 0;
}

/* (Re)open history and, when it is growing, history.new. */
static int
load_table(struct history *h)
{
	unsigned char hd[HISTORY_HEADER];
	struct table t;
	uint64_t growing;

	/* A reader can lose a race with the rename that ends a copy (the new
	 * table is gone by its old name, or the old line file is removed):
	 * the fresh history has it. */
	for (int tries = 0;; tries++) {
		if (table_open(h, HISTORY_FILE, &t, hd) < 0) {
			if (errno != ENOENT || h->writable || tries == 2)
				return -1;
			continue;
		}
		table_close(&h->cur);
		table_close(&h->next);
		h->cur = t;
		h->oldest = store_get64(hd + 16);
		h->dead = store_get64(hd + 48);
		h->cutoff = 0;
		growing = store_get64(hd + 24);
		if (growing == 0) {
			/* A history.new left by a crash before history said it
			 * was growing holds nothing yet. */
			if (h->writable) {
				unlinkat(h->spoolfd, HISTORY_NEW_FILE, 0);
				remove_dats(h->spoolfd, h->cur.gen, UINT64_MAX);
			}
			return 0;
		}
		if (load_next(h, growing) == 0) {
			if (h->writable)
				remove_dats(h->spoolfd, h->cur.gen, h->next.gen);
			return 0;
		}
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

	h->spoolfd = spoolfd;
	h->writable = writable;
	h->cur.fd = h->next.fd = h->cur.dat = h->next.dat = -1;
	if (load_table(h) < 0)
		goto fail;
	if (writable && (fstat(add_table(h)->dat, &st) < 0 || count_used(h, add_table(h)) < 0))
		goto fail;
	h->datsize = writable ? (uint64_t)st.st_size : 0;
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

/* Read the line at off of t's line file into b (without the newline). */
static int
read_line(const struct table *t, uint64_t off, struct buffer *b)
{
	buffer_clear(b);
	for (size_t want = 512; want <= MAX_LINE; want *= 4) {
		ssize_t n = pread(t->dat, buffer_reserve(b, want), want, (off_t)off);
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

		if (read_line(where, entry & ~LOC_FLAG, &b) == 0 &&
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

void
history_remove(int spoolfd)
{
	unlinkat(spoolfd, HISTORY_FILE, 0);
	unlinkat(spoolfd, HISTORY_NEW_FILE, 0);
	remove_dats(spoolfd, UINT64_MAX, UINT64_MAX);
}

/* Start copying history into history.new, a table of nslots: a growth
 * (gen: history's own line file, no cutoff) or a compaction (gen: the
 * next, its line file created empty first). history.new is sparse, so
 * creating it costs no writes. Until history's header says it is
 * copying, a crash leaves files the next open removes. */
static int
copy_start(struct history *h, uint64_t nslots, uint64_t gen, uint64_t cutoff)
{
	struct table t = {.fd = -1, .nslots = nslots, .gen = gen, .dat = -1};
	int compact = gen != h->cur.gen;
	uint64_t oldest = compact ? HISTORY_NONE_REMEMBERED : h->oldest;
	uint64_t dead = compact ? 0 : h->dead;
	struct stat st, ds;

	t.dat = dat_open(h, gen, compact);
	if (t.dat >= 0)
		t.fd = openat(h->spoolfd, HISTORY_NEW_FILE, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		              0644);
	if (t.fd < 0 || write_header(t.fd, nslots, oldest, gen, dead, cutoff) < 0 ||
	    fstat(t.fd, &st) < 0 || fstat(t.dat, &ds) < 0 || put_field(h->cur.fd, 24, nslots) < 0) {
		int e = errno;

		table_close(&t);
		unlinkat(h->spoolfd, HISTORY_NEW_FILE, 0);
		if (compact)
			remove_dats(h->spoolfd, h->cur.gen, UINT64_MAX);
		errno = e;
		return -1;
	}
	t.ino = st.st_ino;
	h->next = t;
	h->copied = 0;
	h->synced = 0;
	h->cutoff = cutoff;
	h->used = 0;
	h->oldest = oldest;
	h->dead = dead;
	h->datsize = (uint64_t)ds.st_size;
	return 0;
}

/* Keep the header's oldest remembered time a lower bound, so a prune
 * that has nothing to drop costs one comparison, not a table scan. */
static int
note_remembered(struct history *h, time_t when)
{
	if (h->oldest == 0 || (uint64_t)when >= h->oldest)
		return 0; /* unknown (older table: prune scans) or no older */
	h->oldest = (uint64_t)when;
	return put_field(add_table(h)->fd, 16, h->oldest);
}

/* Append line (a newline added to it) to the add table's line file, in
 * one write: its offset. */
static int
append_line(struct history *h, struct buffer *line, uint64_t *off)
{
	buffer_puts(line, "\n");
	*off = h->datsize;
	if (pwrite_full(add_table(h)->dat, buffer_head(line), line->len, *off) < 0)
		return -1;
	h->datsize += line->len;
	return 0;
}

/* Copy one old slot s (not yet in history.new) into it: its line
 * rewritten into the new line file when compacting. 1 when a slot with
 * an unreadable line is left out. */
static int
copy_slot(struct history *h, unsigned char s[HISTORY_SLOT], struct buffer *line)
{
	unsigned char other[HISTORY_SLOT];
	uint64_t entry = store_get64(s + 24), index, off;
	int rc = probe(&h->next, s, &index, other);

	if (rc != 0)
		return rc < 0 ? -1 : 0; /* copied before a crash */
	if (h->next.gen != h->cur.gen) {
		if (read_line(&h->cur, entry & ~LOC_FLAG, line) < 0) {
			log_msg(LOG_ERR, "history: compaction left out a slot whose line cannot be "
			                 "read (nntpctl rebuild restores what it filed)");
			return 1;
		}
		if (append_line(h, line, &off) < 0)
			return -1;
		store_put64(s + 24, off | (entry & LOC_FLAG));
	}
	if (pwrite_full(h->next.fd, s, HISTORY_SLOT, HISTORY_HEADER + index * HISTORY_SLOT) < 0)
		return -1;
	h->used++;
	return entry & LOC_FLAG ? 0 : note_remembered(h, (time_t)store_get64(s + 16));
}

/* All copied: history.new becomes history. A compaction's two files are
 * made durable before history names them and its old line file goes
 * after (a growth's are synced by the batches: it keeps the line file). */
static int
copy_end(struct history *h)
{
	int compact = h->next.gen != h->cur.gen;

	if (compact && (fsync(h->next.dat) < 0 || fsync(h->next.fd) < 0))
		return -1;
	/* Readers holding the old history notice the new inode and reopen. */
	if (renameat(h->spoolfd, HISTORY_NEW_FILE, h->spoolfd, HISTORY_FILE) < 0)
		return -1;
	if (compact) {
		char old[64];

		(void)fsync(h->spoolfd);
		dat_name(h->cur.gen, old);
		unlinkat(h->spoolfd, old, 0);
	}
	table_close(&h->cur);
	h->cur = h->next;
	h->next.fd = h->next.dat = -1;
	h->copied = 0;
	h->cutoff = 0;
	return 0;
}

/* Copy up to n more slots of history into history.new (leaving out the
 * remembered entries before the cutoff); after the last, copy_end. A
 * slot already copied (a crash between its copy and the count's update)
 * is found and skipped. */
static int
copy_step(struct history *h, uint64_t n)
{
	unsigned char buf[HISTORY_SLOT * HISTORY_GROW_STEP];
	struct buffer line = BUFFER_INIT;
	int rc = 0;

	while (rc == 0 && n > 0 && h->copied < h->cur.nslots) {
		uint64_t k = h->cur.nslots - h->copied;

		if (k > HISTORY_GROW_STEP)
			k = HISTORY_GROW_STEP;
		if (k > n)
			k = n;
		if (pread_full(h->cur.fd, buf, k * HISTORY_SLOT,
		               HISTORY_HEADER + h->copied * HISTORY_SLOT) != 0) {
			errno = EIO;
			rc = -1;
			break;
		}
		for (uint64_t i = 0; i < k && rc == 0; i++) {
			unsigned char *s = buf + i * HISTORY_SLOT;

			if (slot_empty(s) ||
			    (!(store_get64(s + 24) & LOC_FLAG) && store_get64(s + 16) < h->cutoff))
				continue;
			rc = copy_slot(h, s, &line) < 0 ? -1 : 0;
		}
		if (rc == 0) {
			h->copied += k;
			n -= k;
			rc = put_field(h->next.fd, 32, h->copied);
		}
	}
	buffer_free(&line);
	if (rc < 0)
		return -1;
	return h->copied < h->cur.nslots ? 0 : copy_end(h);
}

/* Finish a copy in progress at once. */
static int
copy_finish(struct history *h)
{
	while (h->next.fd >= 0)
		if (copy_step(h, h->cur.nslots) < 0)
			return -1;
	return 0;
}

/* Old slots an add copies: a growth's fixed step; a compaction's share
 * of what is left over half the room left in its table (so the copy ends
 * before the table is half full), short of the last slot: the syncs and
 * the rename that end it are expire's slices', not an add's. */
static uint64_t
add_step(const struct history *h)
{
	uint64_t left = h->cur.nslots - h->copied, room = h->next.nslots / 2 - h->used, k;

	if (h->next.gen == h->cur.gen)
		return HISTORY_GROW_STEP;
	k = left / (room / 2 + 1) + 1;
	if (k < HISTORY_COMPACT_STEP)
		k = HISTORY_COMPACT_STEP;
	return k < left ? k : left - 1;
}

int
history_add(struct history *h, const char *msgid, time_t arrived, const char *location)
{
	unsigned char key[16], slot[HISTORY_SLOT];
	struct buffer line = BUFFER_INIT;
	struct table *where;
	uint64_t index, off;
	int rc;

	if (!h->writable) {
		errno = EROFS;
		return -1;
	}
	/* No whole-table rehash ever stops the writer: growth is a bounded
	 * step per add, and so is a compaction's share. */
	if (h->next.fd >= 0 && (h->used + 1) * 2 > h->next.nslots && copy_finish(h) < 0)
		return -1; /* only when the steps fall behind their bound */
	if (h->next.fd < 0 && (h->used + 1) * 2 > h->cur.nslots &&
	    copy_start(h, h->cur.nslots * 2, h->cur.gen, 0) < 0)
		return -1;
	if (h->next.fd >= 0 && copy_step(h, add_step(h)) < 0)
		return -1;
	msgid_hash(msgid, key);
	rc = find(h, key, &where, &index, slot);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	buffer_printf(&line, "%s\t%lld\t%s", msgid, (long long)arrived, location ? location : "");
	rc = append_line(h, &line, &off);
	if (rc == 0) {
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
	struct buffer line = BUFFER_INIT;
	struct table *where, *to;
	uint64_t index, entry, off, gone = 0;
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
	entry = store_get64(slot + 24);
	if (!(entry & LOC_FLAG))
		return 0;
	/* The old line is dead once the slot moves off it (counted when it is
	 * in the line file adds go to: a compaction leaves the other). */
	to = add_table(h);
	if (to->gen == where->gen && read_line(where, entry & ~LOC_FLAG, &line) == 0)
		gone = line.len + 1;
	/* The new line first, then the slot: a reader sees the old location
	 * or the remembered entry. A slot in history while it is copied is
	 * written anew into history.new (found there first; the copy skips
	 * it), so the old table never changes. */
	buffer_clear(&line);
	buffer_printf(&line, "%s\t%lld\t", msgid, (long long)when);
	rc = append_line(h, &line, &off);
	store_put64(slot + 16, (uint64_t)when);
	store_put64(slot + 24, off);
	if (rc == 0 && where == to)
		rc = pwrite_full(to->fd, slot + 16, 16, HISTORY_HEADER + index * HISTORY_SLOT + 16);
	if (rc == 0 && where != to) {
		unsigned char other[HISTORY_SLOT];

		rc = probe(to, key, &index, other) != 0 ? -1 : 0;
		if (rc == 0)
			rc = pwrite_full(to->fd, slot, sizeof(slot), HISTORY_HEADER + index * HISTORY_SLOT);
		if (rc == 0)
			h->used++;
	}
	if (rc == 0)
		rc = note_remembered(h, when);
	if (rc == 0 && gone > 0) {
		h->dead += gone;
		rc = put_field(to->fd, 48, h->dead);
	}
	buffer_free(&line);
	return rc < 0 ? -1 : 1;
}

/* The smallest table (a power of two) that holds n entries at most half
 * full. */
static uint64_t
table_size(uint64_t n)
{
	uint64_t size = HISTORY_MIN_SLOTS;

	while (size / 2 < n)
		size *= 2;
	return size;
}

/* A compaction's table for kept entries: at most a quarter full, so adds
 * have room while it copies, and the next prune finds nothing to shrink
 * (it shrinks only a table at most an eighth full); never grown past
 * history's size when that holds them. */
static uint64_t
compact_size(const struct history *h, uint64_t kept)
{
	uint64_t roomy = table_size(2 * kept), fits = table_size(kept);

	if (roomy <= h->cur.nslots)
		return roomy;
	return fits > h->cur.nslots ? fits : h->cur.nslots;
}

/* A third of the line file dead (and DEAD_WORTH): worth rewriting. */
static int
dead_worth(const struct history *h)
{
	return h->dead >= DEAD_WORTH && h->dead * 3 >= h->datsize;
}

/* Count, from h->scan, the remembered entries dated before `before`, for
 * up to 1024 slots at a time until the deadline. */
static int
count_step(struct history *h, time_t before, double deadline)
{
	unsigned char buf[HISTORY_SLOT * 1024];

	while (h->scan < h->cur.nslots) {
		uint64_t k = h->cur.nslots - h->scan;

		if (k > 1024)
			k = 1024;
		if (pread_full(h->cur.fd, buf, k * HISTORY_SLOT, HISTORY_HEADER + h->scan * HISTORY_SLOT) !=
		    0) {
			errno = EIO;
			return -1;
		}
		for (uint64_t i = 0; i < k; i++) {
			const unsigned char *s = buf + i * HISTORY_SLOT;

			h->drop += !slot_empty(s) && !(store_get64(s + 24) & LOC_FLAG) &&
			           store_get64(s + 16) < (uint64_t)before;
		}
		h->scan += k;
		if (mono_seconds() >= deadline)
			break;
	}
	return 0;
}

int
history_prune_step(struct history *h, time_t before, double deadline, int64_t *dropped)
{
	uint64_t size;

	if (!h->writable) {
		errno = EROFS;
		return -1;
	}
	*dropped = (int64_t)h->drop;
	for (;;) {
		switch (h->phase) {
		case PRUNE_IDLE:
			/* A copy in progress (a growth, or a compaction a crash
			 * stopped) ends first. */
			if (h->next.fd >= 0) {
				if (copy_step(h, HISTORY_GROW_STEP) < 0)
					return -1;
				break;
			}
			h->drop = 0;
			*dropped = 0;
			if (h->oldest != 0 && h->oldest >= (uint64_t)before && !dead_worth(h) &&
			    compact_size(h, h->used) >= h->cur.nslots)
				return 0; /* nothing to drop, nothing to shrink */
			h->phase = PRUNE_COUNT;
			h->scan = 0;
			break;
		case PRUNE_COUNT:
			if (h->next.fd >= 0) {
				h->phase = PRUNE_IDLE; /* an add began a growth: again after it */
				break;
			}
			if (h->scan < h->cur.nslots) {
				if (count_step(h, before, deadline) < 0) {
					h->phase = PRUNE_IDLE;
					return -1;
				}
				break;
			}
			if (h->drop == 0 && !dead_worth(h) &&
			    compact_size(h, h->used) >= h->cur.nslots) {
				h->phase = PRUNE_IDLE;
				return 0;
			}
			size = compact_size(h, h->used - h->drop);
			log_msg(LOG_INFO,
			        "history: compacting %llu slots into %llu (%llu remembered IDs go, "
			        "%llu of %llu line bytes dead)",
			        (unsigned long long)h->cur.nslots, (unsigned long long)size,
			        (unsigned long long)h->drop, (unsigned long long)h->dead,
			        (unsigned long long)h->datsize);
			if (copy_start(h, size, h->cur.gen + 1, (uint64_t)before) < 0) {
				h->phase = PRUNE_IDLE;
				return -1;
			}
			h->phase = PRUNE_COPY;
			break;
		case PRUNE_COPY:
			if (h->next.fd < 0) {
				h->phase = PRUNE_IDLE;
				*dropped = (int64_t)h->drop;
				return 0;
			}
			/* Before the last step, the new files' syncs a slice each,
			 * so copy_end's find little left. */
			if (h->next.gen != h->cur.gen && h->synced < 2 &&
			    h->cur.nslots - h->copied <= HISTORY_GROW_STEP) {
				if (fdatasync(h->synced == 0 ? h->next.dat : h->next.fd) < 0) {
					h->phase = PRUNE_IDLE;
					return -1;
				}
				h->synced++;
				return 1;
			}
			if (copy_step(h, HISTORY_GROW_STEP) < 0) {
				h->phase = PRUNE_IDLE;
				return -1;
			}
			break;
		}
		if (mono_seconds() >= deadline)
			return 1;
	}
}

int64_t
history_prune(struct history *h, time_t before)
{
	int64_t dropped = 0;
	int rc;

	while ((rc = history_prune_step(h, before, mono_seconds() + 3600.0, &dropped)) > 0)
		;
	return rc < 0 ? -1 : dropped;
}

/* Walk t; skip_in, when set, holds the entries that win over t's. */
static int
walk_table(const struct table *t, const struct table *skip_in,
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
		if (read_line(t, entry & ~LOC_FLAG, &b) < 0 ||
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
		return walk_table(&h->cur, NULL, fn, arg);
	int rc = walk_table(&h->next, NULL, fn, arg);

	return rc != 0 ? rc : walk_table(&h->cur, &h->next, fn, arg);
}
