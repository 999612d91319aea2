/* overview: the OVER/XOVER store. Readers pread a slice of the index and
 * the matching slice of the data file; the writer appends. */
#include "nntpd/store/overview.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/pace.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "nntpd/store/storeformat.h"

#define OVERVIEW_MAX_LINE 65536
#define OVERVIEW_CACHE 128

const char *const overview_fmt[] = {"Subject:", "From:",  "Date:",     "Message-ID:", "References:",
                                    ":bytes",   ":lines", "Xref:full", NULL};

/* Largest span of a data file read in one pread by a compaction. */
#define COMPACT_SPAN (8u << 20)

struct ov_file {
	char *group;
	int idx, dat;
	uint64_t base, nrec, datsize;
};

/* A compaction: the old pair read while the writer still appends to it,
 * scanned from low to its end to weigh what is kept, then copied into the
 * new pair (nidx and ndat, -1 while scanning). */
struct ov_compact {
	char *group;
	int idx, dat, nidx, ndat;
	uint64_t gen, base, low;
	uint64_t next; /* the first number not yet scanned or copied */
	uint64_t live; /* scanning: bytes of present lines */
	uint64_t ndatsize, before;
};

struct overview_writer {
	int spoolfd;
	struct ov_file files[OVERVIEW_CACHE];
	size_t count, victim;
	struct ov_compact *job;
};

static char *
ov_path(const char *group, const char *ext)
{
	/* SECURITY: group names become file names under overview/; a bad
	 * name maps to a path that cannot exist rather than escaping. */
	if (!article_valid_group_name(group))
		return xstrdup(OVERVIEW_DIR "/.invalid/x");
	return xasprintf(OVERVIEW_DIR "/%s.%s", group, ext);
}

/* The data file of generation gen (see overview.h). */
static char *
dat_path(const char *group, uint64_t gen)
{
	char ext[32];

	if (gen == 0)
		return ov_path(group, "dat");
	snprintf(ext, sizeof(ext), "dat.%llu", (unsigned long long)gen);
	return ov_path(group, ext);
}

static void
unlink_path(int spoolfd, char *path)
{
	unlinkat(spoolfd, path, 0);
	free(path);
}

static void
decode_record(const unsigned char *p, uint64_t number, struct overview_entry *e, uint32_t *flags)
{
	e->number = number;
	e->off = (size_t)store_get64(p);
	e->len = store_get32(p + 8);
	*flags = store_get32(p + 12);
	e->arrived = store_get64(p + 16);
	e->size = store_get64(p + 24);
	e->header_len = store_get32(p + 32);
}

static void
encode_record(unsigned char *p, uint64_t off, const struct overview_entry *e, size_t len)
{
	memset(p, 0, OVERVIEW_RECORD);
	store_put64(p, off);
	store_put32(p + 8, (uint32_t)len);
	store_put32(p + 12, 1);
	store_put64(p + 16, e->arrived);
	store_put64(p + 24, e->size);
	store_put32(p + 32, e->header_len);
}

/* Whether h is the header of an index this code reads. */
static int
index_header_ok(const unsigned char *h)
{
	return store_get32(h) == OVERVIEW_IDX_MAGIC && store_get32(h + 4) == OVERVIEW_VERSION &&
	       store_get32(h + 16) == OVERVIEW_RECORD;
}

/* Open a group's index read-only and check its header; gen, when not
 * NULL, gets the generation of the data file it names. */
static int
open_index(int spoolfd, const char *group, uint64_t *base, uint64_t *nrec, uint64_t *gen)
{
	char *path = ov_path(group, "idx");
	unsigned char h[OVERVIEW_HEADER];
	struct stat st;
	int fd = openat(spoolfd, path, O_RDONLY | O_CLOEXEC);

	free(path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || pread_full(fd, h, sizeof(h), 0) != 0 || !index_header_ok(h)) {
		log_msg(LOG_ERR, "overview: %s: bad index header", group);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	*base = store_get64(h + 8);
	*nrec = ((uint64_t)st.st_size - OVERVIEW_HEADER) / OVERVIEW_RECORD;
	if (gen != NULL)
		*gen = store_get64(h + 20);
	return fd;
}

void
overview_range_init(struct overview_range *r)
{
	memset(r, 0, sizeof(*r));
}

void
overview_range_free(struct overview_range *r)
{
	free(r->v);
	buffer_free(&r->data);
	overview_range_init(r);
}

int
overview_get(int spoolfd, const char *group, uint64_t number, struct overview_entry *e)
{
	uint64_t base, nrec;
	unsigned char rec[OVERVIEW_RECORD];
	uint32_t flags;
	int fd = open_index(spoolfd, group, &base, &nrec, NULL), rc;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (number < base || number - base >= nrec) {
		close(fd);
		return 0;
	}
	rc = pread_full(fd, rec, sizeof(rec), OVERVIEW_HEADER + (number - base) * OVERVIEW_RECORD);
	close(fd);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	decode_record(rec, number, e, &flags);
	return (flags & 1) ? 1 : 0;
}

/* The arrival time of the first record at or after n and before end
 * that has one (gaps are all zero): 1 and *t, or 0 when none has. */
static int
arrival_from(int fd, uint64_t base, uint64_t n, uint64_t end, uint64_t *t)
{
	unsigned char recs[64 * OVERVIEW_RECORD];

	while (n < end) {
		uint64_t k = end - n < 64 ? end - n : 64;

		if (pread_full(fd, recs, k * OVERVIEW_RECORD,
		               OVERVIEW_HEADER + (n - base) * OVERVIEW_RECORD) != 0)
			return -1;
		for (uint64_t i = 0; i < k; i++)
			if ((*t = store_get64(recs + i * OVERVIEW_RECORD + 16)) != 0)
				return 1;
		n += k;
	}
	return 0;
}

int
overview_seek_arrival(int spoolfd, const char *group, uint64_t lo, uint64_t hi, uint64_t since,
                      uint64_t *first)
{
	uint64_t base, nrec, a, b;
	int fd = open_index(spoolfd, group, &base, &nrec, NULL);

	*first = lo;
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (lo < base)
		lo = base;
	if (nrec == 0 || lo > hi || lo - base >= nrec) {
		close(fd);
		*first = hi + 1;
		return 0;
	}
	/* Lower bound over [a, b): everything before a arrived before since;
	 * b is past the end or arrived at or after it. NEWNEWS asks about the
	 * recent tail: gallop back from the end first (1, 2, 4... records),
	 * so the cost follows the number of new articles, not the group's. */
	a = lo;
	b = (hi < base + nrec - 1 ? hi : base + nrec - 1) + 1;
	for (uint64_t step = 1, end = b; step <= end - a; step *= 2) {
		uint64_t p = end - step, t = 0;
		int rc = arrival_from(fd, base, p, b, &t);

		if (rc < 0)
			goto fail;
		if (rc == 1 && t < since) {
			a = p + 1;
			break;
		}
		b = p;
	}
	while (a < b) {
		uint64_t mid = a + (b - a) / 2, t = 0;
		int rc = arrival_from(fd, base, mid, b, &t);

		if (rc < 0)
			goto fail;
		if (rc == 0 || t >= since)
			b = mid;
		else
			a = mid + 1;
	}
	close(fd);
	*first = a;
	return 0;
fail:
	close(fd);
	errno = EIO;
	return -1;
}

/* Whether a decoded record points at a line a reader may use. */
static int
record_usable(const struct overview_entry *e, uint32_t flags)
{
	return (flags & OVERVIEW_PRESENT) && e->off >= OVERVIEW_DAT_HEADER &&
	       e->len <= OVERVIEW_MAX_LINE && e->len >= 2;
}

static int
read_slice(int spoolfd, const char *group, uint64_t gen, uint64_t lo, uint64_t last,
           const unsigned char *recs, struct overview_range *r)
{
	uint64_t dlo = UINT64_MAX, dhi = 0;
	char *path;
	int fd, rc;

	for (uint64_t n = lo; n <= last; n++) {
		struct overview_entry e;
		uint32_t flags;

		decode_record(recs + (n - lo) * OVERVIEW_RECORD, n, &e, &flags);
		if (!record_usable(&e, flags))
			continue;
		if (r->count == r->alloc) {
			r->alloc = r->alloc ? r->alloc * 2 : 64;
			r->v = xrealloc(r->v, r->alloc * sizeof(*r->v));
		}
		r->v[r->count++] = e;
		if (e.off < dlo)
			dlo = e.off;
		if (e.off + e.len > dhi)
			dhi = e.off + e.len;
	}
	if (r->count == 0)
		return 0;
	path = dat_path(group, gen);
	fd = openat(spoolfd, path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	rc = pread_full(fd, buffer_reserve(&r->data, dhi - dlo), dhi - dlo, dlo);
	close(fd);
	if (rc != 0) {
		if (rc > 0)
			errno = EIO;
		return -1;
	}
	buffer_commit(&r->data, dhi - dlo);
	/* Make offsets relative to the slice; drop the stored CRLF. */
	for (size_t i = 0; i < r->count; i++) {
		r->v[i].off -= dlo;
		r->v[i].len -= 2;
	}
	return 0;
}

static int
read_once(int spoolfd, const char *group, uint64_t lo, uint64_t hi, struct overview_range *r)
{
	uint64_t base, nrec, last, gen;
	unsigned char *recs;
	int fd, rc;

	r->count = 0;
	r->next = 0;
	buffer_clear(&r->data);
	fd = open_index(spoolfd, group, &base, &nrec, &gen);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (lo < base)
		lo = base;
	if (nrec == 0 || lo > hi || lo - base >= nrec) {
		close(fd);
		return 0;
	}
	last = base + nrec - 1;
	if (hi < last)
		last = hi;
	if (last - lo >= OVERVIEW_CHUNK)
		last = lo + OVERVIEW_CHUNK - 1;
	recs = xmalloc((last - lo + 1) * OVERVIEW_RECORD);
	rc = pread_full(fd, recs, (last - lo + 1) * OVERVIEW_RECORD,
	                OVERVIEW_HEADER + (lo - base) * OVERVIEW_RECORD);
	close(fd);
	if (rc == 0)
		rc = read_slice(spoolfd, group, gen, lo, last, recs, r);
	else if (rc > 0)
		rc = 0; /* the index shrank under us: report nothing */
	free(recs);
	r->next = (last < base + nrec - 1) ? last + 1 : 0;
	return rc;
}

int
overview_read(int spoolfd, const char *group, uint64_t lo, uint64_t hi, struct overview_range *r)
{
	int rc;

	/* A compaction unlinks the old data file after the rename of the
	 * index that names the new one: a read that opened the old index
	 * just before finds its data file gone, and the index names the
	 * next. Three compactions of one group in a row cannot happen while
	 * a reader retries (each takes a whole scan and copy). */
	for (int tries = 0;; tries++) {
		rc = read_once(spoolfd, group, lo, hi, r);
		if (rc == 0 || errno != ENOENT || tries == 3)
			return rc;
	}
}

static void
add_field(struct buffer *out, const struct article *a, const char *name)
{
	const struct article_header *h = article_find(a, name);
	size_t start = out->len;

	if (h != NULL)
		article_unfold(h->value, h->value_len, out);
	/* article_unfold keeps no CR/LF/TAB, but NUL would end the line early. */
	for (size_t i = start; i < out->len; i++)
		if (buffer_head(out)[i] == '\0')
			buffer_head(out)[i] = ' ';
}

void
overview_build_line(const struct article *a, uint64_t size, struct buffer *out)
{
	static const char *const fields[] = {"Subject", "From", "Date", "Message-ID", "References"};
	const char *body = a->text + a->body_off;
	size_t blen = a->len - a->body_off, lines = 0;

	for (size_t i = 0; i < 5; i++) {
		add_field(out, a, fields[i]);
		buffer_append(out, "\t", 1);
	}
	for (const char *p = body, *end = body + blen; (p = memchr(p, '\n', (size_t)(end - p)));
	     p++)
		lines++;
	if (blen > 0 && body[blen - 1] != '\n')
		lines++;
	buffer_printf(out, "%llu\t%zu\t", (unsigned long long)size, lines);
	if (article_find(a, "Xref") != NULL) {
		buffer_puts(out, "Xref: ");
		add_field(out, a, "Xref");
	}
}

struct overview_writer *
overview_writer_open(int spoolfd)
{
	struct overview_writer *w = xcalloc(1, sizeof(*w));

	w->spoolfd = spoolfd;
	mkdirat(spoolfd, OVERVIEW_DIR, 0755);
	return w;
}

static void
file_close(struct ov_file *f)
{
	free(f->group);
	close(f->idx);
	close(f->dat);
	memset(f, 0, sizeof(*f));
}

static void compact_end(struct overview_writer *w, int switched);

void
overview_writer_close(struct overview_writer *w)
{
	if (w == NULL)
		return;
	compact_end(w, 0);
	for (size_t i = 0; i < w->count; i++)
		file_close(&w->files[i]);
	free(w);
}

/* Open path (freed) for writing, created when absent (flags: more). */
static int
open_rw(struct overview_writer *w, char *path, int flags)
{
	int fd = openat(w->spoolfd, path, O_RDWR | O_CREAT | O_CLOEXEC | flags, 0644);

	free(path);
	return fd;
}

/* Close and forget the cached files of group, if any. */
static void
cache_drop(struct overview_writer *w, const char *group)
{
	for (size_t i = 0; i < w->count; i++) {
		if (strcmp(w->files[i].group, group) != 0)
			continue;
		file_close(&w->files[i]);
		w->files[i] = w->files[--w->count];
		if (w->victim >= w->count)
			w->victim = 0;
		return;
	}
}

static int
write_index_header(int fd, uint64_t base, uint64_t gen)
{
	unsigned char h[OVERVIEW_HEADER] = {0};

	store_put32(h, OVERVIEW_IDX_MAGIC);
	store_put32(h + 4, OVERVIEW_VERSION);
	store_put64(h + 8, base);
	store_put32(h + 16, OVERVIEW_RECORD);
	store_put64(h + 20, gen);
	return pwrite_full(fd, h, sizeof(h), 0) < 0 || ftruncate(fd, OVERVIEW_HEADER) < 0 ? -1 : 0;
}

static int
write_dat_header(int fd)
{
	unsigned char d[OVERVIEW_DAT_HEADER] = {0};

	store_put32(d, OVERVIEW_DAT_MAGIC);
	store_put32(d + 4, OVERVIEW_VERSION);
	return pwrite_full(fd, d, sizeof(d), 0) < 0 || ftruncate(fd, sizeof(d)) < 0 ? -1 : 0;
}

/* Open (creating with base number first) a group's files in the cache. */
static struct ov_file *
writer_file(struct overview_writer *w, const char *group, uint64_t first)
{
	struct ov_file f = {.idx = -1, .dat = -1};
	struct stat st;
	unsigned char h[OVERVIEW_HEADER] = {0};

	for (size_t i = 0; i < w->count; i++)
		if (strcmp(w->files[i].group, group) == 0)
			return &w->files[i];
	f.idx = open_rw(w, ov_path(group, "idx"), 0);
	if (f.idx < 0 || fstat(f.idx, &st) < 0)
		goto fail;
	if (st.st_size < OVERVIEW_HEADER) {
		if (write_index_header(f.idx, first, 0) < 0)
			goto fail;
		store_put64(h + 8, first);
		st.st_size = OVERVIEW_HEADER;
	} else if (pread_full(f.idx, h, sizeof(h), 0) != 0 || !index_header_ok(h)) {
		log_msg(LOG_ERR, "overview: %s: bad index header (run nntpctl rebuild)", group);
		errno = EINVAL;
		goto fail;
	}
	f.base = store_get64(h + 8);
	f.nrec = ((uint64_t)st.st_size - OVERVIEW_HEADER) / OVERVIEW_RECORD;
	f.dat = open_rw(w, dat_path(group, store_get64(h + 20)), 0);
	if (f.dat < 0 || fstat(f.dat, &st) < 0)
		goto fail;
	if (st.st_size < OVERVIEW_DAT_HEADER) {
		if (write_dat_header(f.dat) < 0)
			goto fail;
		st.st_size = OVERVIEW_DAT_HEADER;
	}
	f.datsize = (uint64_t)st.st_size;
	f.group = xstrdup(group);
	if (w->count == OVERVIEW_CACHE) {
		w->victim = (w->victim + 1) % OVERVIEW_CACHE;
		file_close(&w->files[w->victim]);
		w->files[w->victim] = f;
		return &w->files[w->victim];
	}
	w->files[w->count] = f;
	return &w->files[w->count++];
fail:
	if (f.idx >= 0)
		close(f.idx);
	if (f.dat >= 0)
		close(f.dat);
	return NULL;
}

int
overview_append(struct overview_writer *w, const char *group, const struct overview_entry *e,
                const char *line, size_t len)
{
	struct ov_file *f = writer_file(w, group, e->number);
	unsigned char rec[OVERVIEW_RECORD];
	uint64_t slot, off;

	if (f == NULL)
		return -1;
	if (e->number < f->base) {
		log_msg(LOG_ERR, "overview: %s: article %llu below index base %llu", group,
		        (unsigned long long)e->number, (unsigned long long)f->base);
		errno = EINVAL;
		return -1;
	}
	slot = e->number - f->base;
	if (slot < f->nrec) {
		struct overview_entry old;
		uint32_t flags;

		if (pread_full(f->idx, rec, sizeof(rec), OVERVIEW_HEADER + slot * OVERVIEW_RECORD) <
		    0)
			return -1;
		decode_record(rec, e->number, &old, &flags);
		if (flags & 1)
			return 0;
	}
	if (len + 2 > OVERVIEW_MAX_LINE)
		len = OVERVIEW_MAX_LINE - 2;
	off = f->datsize;
	char *tmp = xmalloc(len + 2);

	memcpy(tmp, line, len);
	memcpy(tmp + len, "\r\n", 2);
	if (pwrite_full(f->dat, tmp, len + 2, off) < 0) {
		free(tmp);
		return -1;
	}
	free(tmp);
	f->datsize += len + 2;
	encode_record(rec, off, e, len + 2);
	if (pwrite_full(f->idx, rec, sizeof(rec), OVERVIEW_HEADER + slot * OVERVIEW_RECORD) < 0)
		return -1;
	if (slot >= f->nrec)
		f->nrec = slot + 1;
	return 0;
}

/* Mark number's record expired in the index at path (freed): 1 marked,
 * 0 no present record (or no such index), -1 error. */
static int
mark_expired(int spoolfd, char *path, uint64_t number)
{
	unsigned char h[OVERVIEW_HEADER], rec[OVERVIEW_RECORD], fl[4];
	struct overview_entry e;
	struct stat st;
	uint64_t base, off;
	uint32_t flags;
	int fd = openat(spoolfd, path, O_RDWR | O_CLOEXEC), rc = 0;

	free(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0 || pread_full(fd, h, sizeof(h), 0) != 0 || !index_header_ok(h)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	base = store_get64(h + 8);
	off = OVERVIEW_HEADER + (number - base) * OVERVIEW_RECORD;
	if (number < base || off + OVERVIEW_RECORD > (uint64_t)st.st_size) {
		close(fd);
		return 0;
	}
	if (pread_full(fd, rec, sizeof(rec), off) != 0) {
		close(fd);
		errno = EIO;
		return -1;
	}
	decode_record(rec, number, &e, &flags);
	if (flags & OVERVIEW_PRESENT) {
		store_put32(fl, (flags & ~OVERVIEW_PRESENT) | OVERVIEW_EXPIRED);
		rc = pwrite_full(fd, fl, sizeof(fl), off + 12) < 0 ? -1 : 1;
	}
	close(fd);
	return rc;
}

int
overview_expire(struct overview_writer *w, const char *group, uint64_t number)
{
	const struct ov_compact *c = w->job;
	int rc = mark_expired(w->spoolfd, ov_path(group, "idx"), number);

	/* A compaction copying the group may have copied the record already. */
	if (rc >= 0 && c != NULL && c->nidx >= 0 && strcmp(c->group, group) == 0 &&
	    mark_expired(w->spoolfd, ov_path(group, "idx.new"), number) < 0)
		return -1;
	return rc;
}

void
overview_remove(struct overview_writer *w, const char *group)
{
	uint64_t base, nrec, gen = 0;
	int fd;

	if (w->job != NULL && strcmp(w->job->group, group) == 0)
		compact_end(w, 0);
	cache_drop(w, group);
	fd = open_index(w->spoolfd, group, &base, &nrec, &gen);
	if (fd >= 0)
		close(fd);
	unlink_path(w->spoolfd, ov_path(group, "idx"));
	unlink_path(w->spoolfd, ov_path(group, "idx.new"));
	/* The generation named, and what a crash mid-compaction left. */
	unlink_path(w->spoolfd, dat_path(group, gen));
	unlink_path(w->spoolfd, dat_path(group, gen + 1));
	if (gen > 0)
		unlink_path(w->spoolfd, dat_path(group, gen - 1));
}

/* ---- compaction ---- */

int
overview_compact_begin(struct overview_writer *w, const char *group, uint64_t low)
{
	struct ov_compact *c;
	uint64_t nrec;
	char *path;

	if (w->job != NULL)
		return 0;
	c = xcalloc(1, sizeof(*c));
	c->nidx = c->ndat = -1;
	c->idx = open_index(w->spoolfd, group, &c->base, &nrec, &c->gen);
	if (c->idx < 0) {
		free(c);
		return errno == ENOENT ? 0 : -1;
	}
	path = dat_path(group, c->gen);
	c->dat = openat(w->spoolfd, path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (c->dat < 0) {
		close(c->idx);
		free(c);
		return -1;
	}
	c->group = xstrdup(group);
	c->low = low > c->base ? low : c->base;
	c->next = c->low;
	w->job = c;
	return 0;
}

/* End the compaction; unless the new pair is in place, remove it. */
static void
compact_end(struct overview_writer *w, int switched)
{
	struct ov_compact *c = w->job;

	if (c == NULL)
		return;
	close(c->idx);
	close(c->dat);
	if (c->nidx >= 0)
		close(c->nidx);
	if (c->ndat >= 0)
		close(c->ndat);
	if (!switched && (c->nidx >= 0 || c->ndat >= 0)) {
		unlink_path(w->spoolfd, ov_path(c->group, "idx.new"));
		unlink_path(w->spoolfd, dat_path(c->group, c->gen + 1));
	}
	free(c->group);
	free(c);
	w->job = NULL;
}

static uint64_t
file_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The scan is over: start the copy when it pays, else end. 1 copying, 0
 * ended, -1 error. */
static int
compact_weigh(struct overview_writer *w, uint64_t nrec)
{
	struct ov_compact *c = w->job;
	uint64_t end = c->base + nrec,
	         kept = OVERVIEW_HEADER + (end > c->low ? end - c->low : 0) * OVERVIEW_RECORD +
	                OVERVIEW_DAT_HEADER + c->live;

	c->before = file_size(c->idx) + file_size(c->dat);
	if (c->before < kept || c->before - kept < OVERVIEW_COMPACT_MIN ||
	    (c->before - kept) * 4 < kept) {
		compact_end(w, 0);
		return 0;
	}
	/* A crash after the rename of an earlier compaction left its old
	 * data file; one before it left this generation's new pair. */
	if (c->gen > 0)
		unlink_path(w->spoolfd, dat_path(c->group, c->gen - 1));
	c->nidx = open_rw(w, ov_path(c->group, "idx.new"), O_TRUNC);
	c->ndat = open_rw(w, dat_path(c->group, c->gen + 1), O_TRUNC);
	if (c->nidx < 0 || c->ndat < 0 || write_index_header(c->nidx, c->low, c->gen + 1) < 0 ||
	    write_dat_header(c->ndat) < 0)
		return -1;
	c->ndatsize = OVERVIEW_DAT_HEADER;
	c->next = c->low;
	return 1;
}

/* Copy the present lines of recs (k records from c->next) into the new
 * data file and the records, pointing at them, into the new index. */
static int
compact_copy(struct ov_compact *c, unsigned char *recs, uint64_t k)
{
	uint64_t dlo = UINT64_MAX, dhi = 0;
	struct buffer lines = BUFFER_INIT, span = BUFFER_INIT;
	int rc = -1;

	for (uint64_t i = 0; i < k; i++) {
		struct overview_entry e;
		uint32_t flags;

		decode_record(recs + i * OVERVIEW_RECORD, c->next + i, &e, &flags);
		if (!record_usable(&e, flags))
			continue;
		if (e.off < dlo)
			dlo = e.off;
		if (e.off + e.len > dhi)
			dhi = e.off + e.len;
	}
	if (dhi > dlo && dhi - dlo <= COMPACT_SPAN) {
		if (pread_full(c->dat, buffer_reserve(&span, dhi - dlo), dhi - dlo, dlo) != 0)
			goto out;
		buffer_commit(&span, dhi - dlo);
	}
	for (uint64_t i = 0; i < k; i++) {
		unsigned char *p = recs + i * OVERVIEW_RECORD;
		struct overview_entry e;
		uint32_t flags;

		decode_record(p, c->next + i, &e, &flags);
		if (!record_usable(&e, flags)) {
			/* Kept for its arrival time (NEWNEWS); no line. */
			memset(p, 0, 12);
			store_put32(p + 12, flags & ~OVERVIEW_PRESENT);
			continue;
		}
		store_put64(p, c->ndatsize + lines.len);
		if (dhi - dlo <= COMPACT_SPAN)
			buffer_append(&lines, buffer_head(&span) + (e.off - dlo), e.len);
		else if (pread_full(c->dat, buffer_reserve(&lines, e.len), e.len, e.off) == 0)
			buffer_commit(&lines, e.len);
		else
			goto out;
	}
	if (pwrite_full(c->ndat, buffer_head(&lines), lines.len, c->ndatsize) < 0 ||
	    pwrite_full(c->nidx, recs, k * OVERVIEW_RECORD,
	                OVERVIEW_HEADER + (c->next - c->low) * OVERVIEW_RECORD) < 0)
		goto out;
	c->ndatsize += lines.len;
	rc = 0;
out:
	buffer_free(&lines);
	buffer_free(&span);
	return rc;
}

/* All copied: the new pair made durable, then switched in by one rename
 * of the index, then the old data file removed. */
static int
compact_switch(struct overview_writer *w)
{
	struct ov_compact *c = w->job;
	char *from = ov_path(c->group, "idx.new"), *to = ov_path(c->group, "idx");
	int rc;

	rc = fsync(c->ndat) < 0 || fsync(c->nidx) < 0 || renameat(w->spoolfd, from, w->spoolfd, to) < 0
	         ? -1
	         : 0;
	free(from);
	free(to);
	if (rc < 0)
		return -1;
	(void)fsync_dir_at(w->spoolfd, OVERVIEW_DIR);
	unlink_path(w->spoolfd, dat_path(c->group, c->gen));
	/* The writer's appends go to the new pair from now on. */
	cache_drop(w, c->group);
	log_msg(LOG_INFO, "overview: %s compacted from %llu to %llu bytes", c->group,
	        (unsigned long long)c->before,
	        (unsigned long long)(file_size(c->nidx) + c->ndatsize));
	compact_end(w, 1);
	return 0;
}

int
overview_compact_step(struct overview_writer *w, double deadline)
{
	unsigned char *recs;
	int rc = 1;

	if (w->job == NULL) /* expire asks before every group */
		return 0;
	recs = xmalloc((size_t)OVERVIEW_CHUNK * OVERVIEW_RECORD);
	while (w->job != NULL && rc == 1) {
		struct ov_compact *c = w->job;
		uint64_t nrec = (file_size(c->idx) - OVERVIEW_HEADER) / OVERVIEW_RECORD,
		         end = c->base + nrec, k;

		if (c->next >= end) {
			/* The writer appends between slices: the end is
			 * reached only in the slice that finds none new. */
			if (c->nidx < 0)
				rc = compact_weigh(w, nrec);
			else
				rc = compact_switch(w) < 0 ? -1 : 0;
			break;
		}
		k = end - c->next < OVERVIEW_CHUNK ? end - c->next : OVERVIEW_CHUNK;
		if (pread_full(c->idx, recs, k * OVERVIEW_RECORD,
		               OVERVIEW_HEADER + (c->next - c->base) * OVERVIEW_RECORD) != 0) {
			errno = EIO;
			rc = -1;
			break;
		}
		if (c->nidx < 0) {
			for (uint64_t i = 0; i < k; i++) {
				struct overview_entry e;
				uint32_t flags;

				decode_record(recs + i * OVERVIEW_RECORD, c->next + i, &e, &flags);
				if (record_usable(&e, flags))
					c->live += e.len;
			}
		} else if (compact_copy(c, recs, k) < 0) {
			rc = -1;
			break;
		}
		c->next += k;
		if (mono_seconds() >= deadline)
			break;
	}
	free(recs);
	if (rc < 0) {
		log_msg(LOG_ERR, "overview: compacting %s: %m (its files are kept as they were)",
		        w->job->group);
		compact_end(w, 0);
		return 0;
	}
	return w->job != NULL;
}
