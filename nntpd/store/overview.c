/* overview: the OVER/XOVER store. Readers pread a slice of the index and
 * the matching slice of the data file; the writer appends. */
#include "nntpd/store/overview.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "nntpd/store/storeformat.h"

#define OVERVIEW_MAX_LINE 65536
#define OVERVIEW_CACHE 128

const char *const overview_fmt[] = {"Subject:", "From:",  "Date:",     "Message-ID:", "References:",
                                    ":bytes",   ":lines", "Xref:full", NULL};

struct ov_file {
	char *group;
	int idx, dat;
	uint64_t base, nrec, datsize;
};

struct overview_writer {
	int spoolfd;
	struct ov_file files[OVERVIEW_CACHE];
	size_t count, victim;
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

/* Open a group's index read-only and check its header. */
static int
open_index(int spoolfd, const char *group, uint64_t *base, uint64_t *nrec)
{
	char *path = ov_path(group, "idx");
	unsigned char h[OVERVIEW_HEADER];
	struct stat st;
	int fd = openat(spoolfd, path, O_RDONLY | O_CLOEXEC);

	free(path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || pread_full(fd, h, sizeof(h), 0) != 0 ||
	    store_get32(h) != OVERVIEW_IDX_MAGIC || store_get32(h + 4) != OVERVIEW_VERSION ||
	    store_get32(h + 16) != OVERVIEW_RECORD) {
		log_msg(LOG_ERR, "overview: %s: bad index header", group);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	*base = store_get64(h + 8);
	*nrec = ((uint64_t)st.st_size - OVERVIEW_HEADER) / OVERVIEW_RECORD;
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
	int fd = open_index(spoolfd, group, &base, &nrec), rc;

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
	int fd = open_index(spoolfd, group, &base, &nrec);

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

static int
read_slice(int spoolfd, const char *group, uint64_t lo, uint64_t last, const unsigned char *recs,
           struct overview_range *r)
{
	uint64_t dlo = UINT64_MAX, dhi = 0;
	char *path;
	int fd, rc;

	for (uint64_t n = lo; n <= last; n++) {
		struct overview_entry e;
		uint32_t flags;

		decode_record(recs + (n - lo) * OVERVIEW_RECORD, n, &e, &flags);
		if (!(flags & 1) || e.off < OVERVIEW_DAT_HEADER || e.len > OVERVIEW_MAX_LINE ||
		    e.len < 2)
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
	path = ov_path(group, "dat");
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

int
overview_read(int spoolfd, const char *group, uint64_t lo, uint64_t hi, struct overview_range *r)
{
	uint64_t base, nrec, last;
	unsigned char *recs;
	int fd, rc;

	r->count = 0;
	r->next = 0;
	buffer_clear(&r->data);
	fd = open_index(spoolfd, group, &base, &nrec);
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
		rc = read_slice(spoolfd, group, lo, last, recs, r);
	else if (rc > 0)
		rc = 0; /* the index shrank under us: report nothing */
	free(recs);
	r->next = (last < base + nrec - 1) ? last + 1 : 0;
	return rc;
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

void
overview_writer_close(struct overview_writer *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->count; i++)
		file_close(&w->files[i]);
	free(w);
}

static int
open_rw(struct overview_writer *w, const char *group, const char *ext)
{
	char *path = ov_path(group, ext);
	int fd = openat(w->spoolfd, path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	free(path);
	return fd;
}

/* Open (creating with base number first) a group's files in the cache. */
static struct ov_file *
writer_file(struct overview_writer *w, const char *group, uint64_t first)
{
	struct ov_file f = {0};
	struct stat st;
	unsigned char h[OVERVIEW_HEADER];

	for (size_t i = 0; i < w->count; i++)
		if (strcmp(w->files[i].group, group) == 0)
			return &w->files[i];
	f.idx = open_rw(w, group, "idx");
	f.dat = open_rw(w, group, "dat");
	if (f.idx < 0 || f.dat < 0 || fstat(f.idx, &st) < 0)
		goto fail;
	if (st.st_size < OVERVIEW_HEADER) {
		memset(h, 0, sizeof(h));
		store_put32(h, OVERVIEW_IDX_MAGIC);
		store_put32(h + 4, OVERVIEW_VERSION);
		store_put64(h + 8, first);
		store_put32(h + 16, OVERVIEW_RECORD);
		if (pwrite_full(f.idx, h, sizeof(h), 0) < 0 ||
		    ftruncate(f.idx, OVERVIEW_HEADER) < 0)
			goto fail;
		st.st_size = OVERVIEW_HEADER;
	} else if (pread_full(f.idx, h, sizeof(h), 0) != 0 ||
	           store_get32(h) != OVERVIEW_IDX_MAGIC || store_get32(h + 4) != OVERVIEW_VERSION ||
	           store_get32(h + 16) != OVERVIEW_RECORD) {
		log_msg(LOG_ERR, "overview: %s: bad index header (run nntpctl rebuild)", group);
		errno = EINVAL;
		goto fail;
	}
	f.base = store_get64(h + 8);
	f.nrec = ((uint64_t)st.st_size - OVERVIEW_HEADER) / OVERVIEW_RECORD;
	if (fstat(f.dat, &st) < 0)
		goto fail;
	if (st.st_size < OVERVIEW_DAT_HEADER) {
		unsigned char d[OVERVIEW_DAT_HEADER] = {0};

		store_put32(d, OVERVIEW_DAT_MAGIC);
		store_put32(d + 4, OVERVIEW_VERSION);
		if (pwrite_full(f.dat, d, sizeof(d), 0) < 0 || ftruncate(f.dat, sizeof(d)) < 0)
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

int
overview_expire(int spoolfd, const char *group, uint64_t number)
{
	char *path;
	unsigned char rec[OVERVIEW_RECORD], fl[4];
	struct overview_entry e;
	uint64_t base, nrec, off;
	uint32_t flags;
	int fd, rc = 0;

	fd = open_index(spoolfd, group, &base, &nrec);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	close(fd);
	if (number < base || number - base >= nrec)
		return 0;
	/* open_index opens read-only; the flags word is rewritten in place. */
	path = ov_path(group, "idx");
	fd = openat(spoolfd, path, O_RDWR | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	off = OVERVIEW_HEADER + (number - base) * OVERVIEW_RECORD;
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

void
overview_remove(struct overview_writer *w, const char *group)
{
	char *path;

	for (size_t i = 0; i < w->count; i++) {
		if (strcmp(w->files[i].group, group) != 0)
			continue;
		file_close(&w->files[i]);
		w->files[i] = w->files[--w->count];
		break;
	}
	path = ov_path(group, "idx");
	unlinkat(w->spoolfd, path, 0);
	free(path);
	path = ov_path(group, "dat");
	unlinkat(w->spoolfd, path, 0);
	free(path);
}
