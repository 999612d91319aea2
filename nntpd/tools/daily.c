/* daily: nntpctl report: the day log's lines counted by group, refusal
 * reason, peer, poster and posting host, then each feed queue's backlog. */
#include "nntpd/tools/daily.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"
#include "common/core/xmalloc.h"
#include "nntpd/feed/feed.h"
#include "nntpd/store/daylog.h"

#define MAX_LINE 16384 /* a longer line is not the writer's: skipped */

/* A count per name: accepted and refused (refused or deferred). */
struct tally_entry {
	char *key;
	uint64_t ok, no;
};

/* Open addressing on an FNV-1a hash; grown at half full. */
struct tally {
	struct tally_entry *e;
	size_t count, cap;
};

struct day {
	struct tally groups, reasons, peers, posters, hosts;
	uint64_t accepted, posted, fed, refused, deferred, moderated, skipped;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct tally_entry *
tally_slot(struct tally_entry *e, size_t cap, const char *key)
{
	size_t i = (size_t)hash(key) & (cap - 1);

	while (e[i].key != NULL && strcmp(e[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &e[i];
}

static void
tally_add(struct tally *t, const char *key, int ok)
{
	struct tally_entry *s;

	if (2 * (t->count + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct tally_entry *e = xcalloc(cap, sizeof(*e));

		for (size_t i = 0; i < t->cap; i++)
			if (t->e[i].key != NULL)
				*tally_slot(e, cap, t->e[i].key) = t->e[i];
		free(t->e);
		t->e = e;
		t->cap = cap;
	}
	s = tally_slot(t->e, t->cap, key);
	if (s->key == NULL) {
		s->key = xstrdup(key);
		t->count++;
	}
	if (ok)
		s->ok++;
	else
		s->no++;
}

static void
tally_free(struct tally *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->e[i].key);
	free(t->e);
	memset(t, 0, sizeof(*t));
}

/* Most first (accepted, then refused), then by name. */
static int
cmp_entry(const void *pa, const void *pb)
{
	const struct tally_entry *a = pa, *b = pb;

	if (a->ok != b->ok)
		return a->ok < b->ok ? 1 : -1;
	if (a->no != b->no)
		return a->no < b->no ? 1 : -1;
	return strcmp(a->key, b->key);
}

/* The entries in order, packed at the front (the table is spent). */
static size_t
tally_sort(struct tally *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].key != NULL)
			t->e[n++] = t->e[i];
	for (size_t i = n; i < t->cap; i++)
		t->e[i].key = NULL;
	if (n > 0)
		qsort(t->e, n, sizeof(*t->e), cmp_entry);
	return n;
}

static void
count_line(struct day *d, const struct daylog_record *r)
{
	const char *out = r->f[DL_OUTCOME];
	int post = strcmp(r->f[DL_KIND], "post") == 0;
	int ok = strcmp(out, "accepted") == 0;

	if (strcmp(out, "moderated") == 0) {
		d->moderated++;
		return;
	}
	if (ok) {
		struct vector g = VECTOR_INIT;

		d->accepted++;
		*(post ? &d->posted : &d->fed) += 1;
		vector_split(&g, r->f[DL_GROUPS], ',');
		for (size_t i = 0; i < g.count; i++)
			if (g.strings[i][0] != '\0' && strcmp(g.strings[i], "-") != 0)
				tally_add(&d->groups, g.strings[i], 1);
		vector_free(&g);
	} else {
		*(strcmp(out, "deferred") == 0 ? &d->deferred : &d->refused) += 1;
		tally_add(&d->reasons, r->f[DL_REASON], 1);
	}
	if (!post) {
		tally_add(&d->peers, r->f[DL_HOST], ok);
		return;
	}
	tally_add(&d->posters, r->f[DL_POSTER], ok);
	tally_add(&d->hosts, r->f[DL_HOST], ok);
}

static void
take_line(struct day *d, char *line, size_t len)
{
	struct daylog_record r;

	if (len > 0 && line[0] == '#')
		return;
	line[len] = '\0';
	if (len > MAX_LINE || memchr(line, '\0', len) != NULL || daylog_parse(line, &r) < 0)
		d->skipped++;
	else
		count_line(d, &r);
}

/* Count fd's lines into d; a last line without its newline was cut off
 * (a crash while writing): skipped. 0 or -1. */
static int
read_day(int fd, struct day *d)
{
	struct buffer in = BUFFER_INIT;
	ssize_t n;

	for (;;) {
		char *p = buffer_reserve(&in, 65536), *nl;

		if ((n = read(fd, p, 65536)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buffer_commit(&in, (size_t)n);
		while ((nl = memchr(buffer_head(&in), '\n', in.len)) != NULL) {
			size_t len = (size_t)(nl - buffer_head(&in));

			take_line(d, (char *)buffer_head(&in), len);
			buffer_consume(&in, len + 1);
		}
	}
	if (n == 0 && in.len > 0)
		d->skipped++;
	buffer_free(&in);
	return n < 0 ? -1 : 0;
}

static void
json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 32)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* One section: its title (key in JSON) and rows, at most max (0: all);
 * both: the rows carry accepted and refused. */
static void
section(FILE *out, const struct daily_opts *o, const char *title, const char *key, struct tally *t,
        size_t max, int both)
{
	size_t n = tally_sort(t);

	if (max > 0 && n > max)
		n = max;
	if (o->json) {
		fprintf(out, ",\n  ");
		json_str(out, key);
		fprintf(out, ": [");
		for (size_t i = 0; i < n; i++) {
			fprintf(out, "%s{\"name\": ", i ? ", " : "");
			json_str(out, t->e[i].key);
			if (both)
				fprintf(out, ", \"accepted\": %llu, \"refused\": %llu}",
				        (unsigned long long)t->e[i].ok,
				        (unsigned long long)t->e[i].no);
			else
				fprintf(out, ", \"count\": %llu}", (unsigned long long)t->e[i].ok);
		}
		fprintf(out, "]");
		return;
	}
	fprintf(out, "\n%s:%s\n", title, n == 0 ? " none" : "");
	if (n > 0 && both)
		fprintf(out, "  %-40s %8s %8s\n", "", "accepted", "refused");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %-40s %8llu", t->e[i].key, (unsigned long long)t->e[i].ok);
		if (both)
			fprintf(out, " %8llu", (unsigned long long)t->e[i].no);
		fputc('\n', out);
	}
}

static void
age(FILE *out, time_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		fprintf(out, "%llds", (long long)secs);
	else if (secs < 7200)
		fprintf(out, "%lldm", (long long)secs / 60);
	else if (secs < 172800)
		fprintf(out, "%lldh", (long long)secs / 3600);
	else
		fprintf(out, "%lldd", (long long)secs / 86400);
}

static void
backlogs(int spoolfd, const struct daily_opts *o, FILE *out)
{
	struct vector names = VECTOR_INIT;
	int rc = feed_names(spoolfd, &names);

	if (o->json)
		fprintf(out, ",\n  \"feeds\": [");
	else
		fprintf(out, "\nFeed backlogs (now):%s\n%s", rc < 0 ? " cannot be read" : "",
		        rc == 0 && names.count == 0 ? "  no outgoing feeds\n" : "");
	if (!o->json && names.count > 0)
		fprintf(out, "  %-32s %8s %8s %8s  %s\n", "", "queued", "sent", "unsent",
		        "oldest unsent");
	for (size_t i = 0; i < names.count; i++) {
		struct feed_queue_state q;
		const char *name = names.strings[i];
		int ok = feed_queue_state(spoolfd, name, &q) == 0;
		unsigned long long sent = q.queued - q.unsent;

		if (o->json) {
			fprintf(out, "%s{\"name\": ", i ? ", " : "");
			json_str(out, name);
			fprintf(out, ", \"queued\": %llu, \"sent\": %llu, \"unsent\": %llu",
			        (unsigned long long)q.queued, sent, (unsigned long long)q.unsent);
			if (q.oldest != 0)
				fprintf(out, ", \"oldest_unsent_seconds\": %lld}",
				        (long long)(o->now - q.oldest));
			else
				fprintf(out, ", \"oldest_unsent_seconds\": null}");
			continue;
		}
		if (!ok) {
			fprintf(out, "  %-32s cannot be read\n", name);
			continue;
		}
		fprintf(out, "  %-32s %8llu %8llu %8llu  ", name, (unsigned long long)q.queued,
		        sent, (unsigned long long)q.unsent);
		if (q.oldest != 0)
			age(out, o->now - q.oldest);
		else
			fputc('-', out);
		fputc('\n', out);
	}
	if (o->json)
		fprintf(out, "]");
	vector_free(&names);
}

static void
summary(FILE *out, const struct daily_opts *o, const char *date, int have, const struct day *d)
{
	if (o->json) {
		fprintf(out,
		        "{\n  \"date\": \"%s\",\n  \"log\": %s,\n  \"accepted\": %llu,\n"
		        "  \"posted\": %llu,\n  \"fed\": %llu,\n  \"refused\": %llu,\n"
		        "  \"deferred\": %llu,\n  \"moderated\": %llu,\n  \"skipped_lines\": %llu",
		        date, have ? "true" : "false", (unsigned long long)d->accepted,
		        (unsigned long long)d->posted, (unsigned long long)d->fed,
		        (unsigned long long)d->refused, (unsigned long long)d->deferred,
		        (unsigned long long)d->moderated, (unsigned long long)d->skipped);
		return;
	}
	fprintf(out, "News report for %s (UTC)\n", date);
	if (!have) {
		fprintf(out, "No day log for %s: nothing was recorded that day.\n", date);
		return;
	}
	fprintf(out,
	        "Articles: %llu accepted (%llu posted, %llu fed), %llu refused, %llu deferred, "
	        "%llu sent to moderators\n",
	        (unsigned long long)d->accepted, (unsigned long long)d->posted,
	        (unsigned long long)d->fed, (unsigned long long)d->refused,
	        (unsigned long long)d->deferred, (unsigned long long)d->moderated);
	if (d->skipped > 0)
		fprintf(out, "Skipped %llu malformed line%s of the day log.\n",
		        (unsigned long long)d->skipped, d->skipped == 1 ? "" : "s");
}

int
daily_report(int spoolfd, const struct daily_opts *o, FILE *out)
{
	struct day d;
	char *path = daylog_path(o->day);
	const char *date = path + strlen(DAYLOG_DIR) + 1;
	int fd = openat(spoolfd, path, O_RDONLY | O_CLOEXEC), rc = 0, e = 0;

	memset(&d, 0, sizeof(d));
	if (fd < 0 && errno != ENOENT)
		rc = -1, e = errno;
	if (fd >= 0) {
		if (read_day(fd, &d) < 0)
			rc = -1, e = errno;
		close(fd);
	}
	if (rc == 0) {
		summary(out, o, date, fd >= 0, &d);
		if (fd >= 0 || o->json) {
			section(out, o, "Accepted per group", "groups", &d.groups, 0, 0);
			section(out, o, "Refused by reason", "refusals", &d.reasons, 0, 0);
			section(out, o, "Incoming feeds by peer", "peers", &d.peers, 0, 1);
			section(out, o, "Top posters", "posters", &d.posters, o->top, 1);
			section(out, o, "Top posting hosts", "hosts", &d.hosts, o->top, 1);
		}
		backlogs(spoolfd, o, out);
		if (o->json)
			fputs("\n}\n", out);
	}
	tally_free(&d.groups);
	tally_free(&d.reasons);
	tally_free(&d.peers);
	tally_free(&d.posters);
	tally_free(&d.hosts);
	free(path);
	errno = e;
	return rc;
}
