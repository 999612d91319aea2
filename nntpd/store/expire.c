/* expire: walks each group's overview index from its low mark while the
 * records are past the group's retention, so the work follows what
 * expires, not the size of the spool. */
#include "nntpd/store/expire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/pace.h"
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"
#include "nntpd/feed/feed.h"
#include "nntpd/store/overview.h"

#define DAY 86400u

struct link {
	size_t group; /* index in active */
	uint64_t number;
};

struct expire_state {
	struct spool *s;
	struct active *a;
	time_t now;
	int dry_run;
	uint64_t *retention; /* per group, seconds or EXPIRE_NEVER */
	uint64_t *count;     /* per group: links expired */
	char *touched;
	uint64_t articles, links, errors;
	struct link *v;
	size_t nv, alloc;
};

const char *
expire_check_rule(const char *value)
{
	struct vector f = VECTOR_INIT;
	const char *why = NULL;
	uint64_t days;

	vector_split_space(&f, value, 3);
	if (f.count != 2)
		why = "expected WILDMAT DAYS (a number of days or never)";
	else if (strcmp(f.strings[1], "never") != 0 &&
	         number_parse(f.strings[1], 0, EXPIRE_MAX_DAYS, &days) < 0)
		why = "DAYS must be never or a whole number of days up to 100000";
	vector_free(&f);
	return why;
}

static uint64_t
expire_retention(const struct vector *rules, const char *group)
{
	struct vector f = VECTOR_INIT;
	uint64_t ret = EXPIRE_NEVER, days;

	/* The last matching rule wins, as in access= and INN's expire.ctl. */
	for (size_t i = rules ? rules->count : 0; i-- > 0;) {
		vector_split_space(&f, rules->strings[i], 3);
		if (f.count != 2 || !wildmat_match_list(group, f.strings[0]))
			continue;
		if (strcmp(f.strings[1], "never") != 0 &&
		    number_parse(f.strings[1], 0, EXPIRE_MAX_DAYS, &days) == 0)
			ret = days * DAY;
		break;
	}
	vector_free(&f);
	return ret;
}

static size_t
group_index(const struct active *a, const char *name, size_t len)
{
	size_t lo = 0, hi = a->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *g = a->groups[mid]->name;
		int c = strncmp(g, name, len);

		if (c == 0 && g[len] != '\0')
			c = 1;
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return a->count;
}

static int
past(const struct expire_state *st, size_t g, uint64_t arrived)
{
	uint64_t ret = st->retention[g];

	return ret != EXPIRE_NEVER && arrived <= (uint64_t)st->now &&
	       (uint64_t)st->now - arrived >= ret;
}

/* Field i (0-based) of a tab-separated overview line. */
static const char *
ov_field(const char *line, size_t len, int i, size_t *flen)
{
	const char *p = line, *end = line + len, *tab;

	for (; i > 0; i--) {
		tab = memchr(p, '\t', (size_t)(end - p));
		if (tab == NULL)
			return NULL;
		p = tab + 1;
	}
	tab = memchr(p, '\t', (size_t)(end - p));
	*flen = (size_t)((tab ? tab : end) - p);
	return p;
}

static void
add_link(struct expire_state *st, size_t g, uint64_t n)
{
	if (st->nv == st->alloc) {
		st->alloc = st->alloc ? st->alloc * 2 : 8;
		st->v = xrealloc(st->v, st->alloc * sizeof(*st->v));
	}
	st->v[st->nv++] = (struct link){g, n};
}

/* The space-separated group:number links in [p, end) (groups still in
 * active) added to st->v; whether (g, n) was among them. */
static int
add_links(struct expire_state *st, const char *p, const char *end, size_t g, uint64_t n)
{
	int self = 0;

	while (p < end) {
		const char *tok = p, *sp = memchr(tok, ' ', (size_t)(end - tok));
		const char *tend = sp ? sp : end, *colon = tok;
		char num[24];
		uint64_t number;
		size_t gi;

		for (const char *q = tok; q < tend; q++)
			if (*q == ':')
				colon = q;
		p = sp ? sp + 1 : end;
		if (colon == tok || (size_t)(tend - colon - 1) >= sizeof(num))
			continue;
		memcpy(num, colon + 1, (size_t)(tend - colon - 1));
		num[tend - colon - 1] = '\0';
		gi = group_index(st->a, tok, (size_t)(colon - tok));
		if (gi == st->a->count || number_parse(num, 1, UINT64_MAX, &number) < 0)
			continue;
		add_link(st, gi, number);
		self |= gi == g && number == n;
	}
	return self;
}

/* The group:number links of the Xref field (groups still in active), plus
 * (g, n) itself should the field not name it. */
static void
collect_links(struct expire_state *st, const char *line, size_t len, size_t g, uint64_t n)
{
	size_t flen;
	const char *x = ov_field(line, len, 7, &flen), *p;
	int self = 0;

	st->nv = 0;
	if (x != NULL && flen > 6 && strncmp(x, "Xref: ", 6) == 0 &&
	    (p = memchr(x + 6, ' ', flen - 6)) != NULL) /* skip the host */
		self = add_links(st, p + 1, x + flen, g, n);
	if (!self)
		add_link(st, g, n);
}

/* Remove one article, msgid filed at the links in st->v: history first,
 * then the files, then the overview records, so an interrupted expire is
 * finished by the next run. */
static void
remove_links(struct expire_state *st, const char *msgid)
{
	int dirfd = spool_dirfd(st->s);

	if (msgid != NULL && history_forget(spool_history(st->s), msgid, st->now) < 0) {
		log_msg(LOG_ERR, "expire: history: %s: %m", msgid);
		st->errors++;
	}
	for (size_t i = 0; i < st->nv; i++) {
		const char *name = st->a->groups[st->v[i].group]->name;
		char *path = spool_article_path(name, st->v[i].number);
		int rc;

		if (unlinkat(dirfd, path, 0) < 0 && errno != ENOENT) {
			log_msg(LOG_ERR, "expire: %s: %m", path);
			st->errors++;
		}
		free(path);
		rc = overview_expire(spool_overview(st->s), name, st->v[i].number);
		if (rc < 0) {
			log_msg(LOG_ERR, "expire: overview %s:%llu: %m", name,
			        (unsigned long long)st->v[i].number);
			st->errors++;
		}
		if (rc > 0) {
			st->count[st->v[i].group]++;
			st->touched[st->v[i].group] = 1;
			st->links++;
		}
	}
	st->articles++;
}

/* The article of one overview line. */
static void
remove_article(struct expire_state *st, const char *line, size_t len)
{
	size_t mlen;
	const char *m = ov_field(line, len, 3, &mlen);
	char *msgid = m != NULL && mlen > 2 && mlen < 1000 ? xstrndup(m, mlen) : NULL;

	remove_links(st, msgid);
	free(msgid);
}

/* One record of group g: 1 to go on, 0 when it is within retention (the
 * records after it arrived later). */
static int
consider(struct expire_state *st, size_t g, const struct overview_range *r, size_t i)
{
	const struct overview_entry *e = &r->v[i];
	const char *line = overview_line(r, i);
	int all = 1;

	if (!past(st, g, e->arrived))
		return 0;
	collect_links(st, line, e->len, g, e->number);
	for (size_t k = 0; k < st->nv && all; k++)
		all = past(st, st->v[k].group, e->arrived);
	if (!all)
		return 1; /* a crosspost some group still keeps: all links stay */
	if (st->dry_run) {
		st->count[g]++;
		st->links++;
		st->articles += st->v[0].group == g && st->v[0].number == e->number;
	} else {
		remove_article(st, line, e->len);
	}
	return 1;
}

/* The first number from low up with a present record, else high + 1. */
static uint64_t
first_present(int dirfd, const struct group *g)
{
	struct overview_range r;
	uint64_t lo = g->low, low = g->high + 1;

	overview_range_init(&r);
	while (lo != 0 && lo <= g->high) {
		if (overview_read(dirfd, g->name, lo, g->high, &r) < 0) {
			low = g->low; /* unreadable: leave the mark alone */
			break;
		}
		if (r.count > 0) {
			low = r.v[0].number;
			break;
		}
		lo = r.next;
	}
	overview_range_free(&r);
	return low;
}

/* Group g's low mark raised past what went, in place; -1 (why in out)
 * when active cannot be written. */
static int
raise_low(struct expire_state *st, size_t g, struct buffer *out)
{
	struct group *gr = st->a->groups[g];
	uint64_t low;

	if (!st->touched[g] || (low = first_present(spool_dirfd(st->s), gr)) == gr->low)
		return 0;
	gr->low = low;
	if (active_write_group(st->a, spool_dirfd(st->s), gr) < 0) {
		buffer_printf(out, "writing active: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Low marks of the groups st touched raised past what went. */
static int
raise_lows(struct expire_state *st, struct buffer *out)
{
	for (size_t g = 0; g < st->a->count; g++)
		if (raise_low(st, g, out) < 0)
			return -1;
	return 0;
}

static void
report(struct expire_state *st, int64_t dropped, struct buffer *out)
{
	for (size_t g = 0; g < st->a->count; g++) {
		const struct group *gr = st->a->groups[g];

		if (st->count[g] == 0)
			continue;
		if (st->dry_run)
			buffer_printf(out, "%s: %llu would expire\n", gr->name,
			              (unsigned long long)st->count[g]);
		else
			buffer_printf(out, "%s: %llu expired, low %llu\n", gr->name,
			              (unsigned long long)st->count[g],
			              (unsigned long long)gr->low);
	}
	buffer_printf(out, "total: %llu articles, %llu links %s", (unsigned long long)st->articles,
	              (unsigned long long)st->links, st->dry_run ? "would expire" : "expired");
	if (dropped >= 0)
		buffer_printf(out, "; %lld remembered Message-IDs dropped", (long long)dropped);
	if (st->errors > 0)
		buffer_printf(out, "; %llu errors (see the log)", (unsigned long long)st->errors);
	buffer_puts(out, "\n");
}

/* A run in slices: the position (group g, next number lo) and the
 * groups the per-group arrays follow, by name, so a group added or
 * removed between slices moves nothing. */
struct expire_job {
	struct expire_state st;
	unsigned long remember_days;
	char **names;
	size_t n;
	size_t g;
	uint64_t lo;
	int in_group;
	int rc;
	int64_t dropped; /* remembered IDs pruned (-1: no prune) */
	struct vector feeds; /* the queues, listed once history is done */
	size_t feed;         /* the next to look at */
	struct feed_compaction *fc;
	int feeds_listed;
	struct buffer why;
};

static void
job_arrays(struct expire_job *j, size_t n)
{
	j->st.retention = xcalloc(n + 1, sizeof(*j->st.retention));
	j->st.count = xcalloc(n + 1, sizeof(*j->st.count));
	j->st.touched = xcalloc(n + 1, 1);
	j->names = xcalloc(n + 1, sizeof(*j->names));
	j->n = n;
}

static void
job_free_arrays(struct expire_job *j, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(j->names[i]);
	free(j->names);
	free(j->st.retention);
	free(j->st.count);
	free(j->st.touched);
}

/* Follow active's group list as it is now: the arrays rebuilt by name
 * when it changed (both lists are sorted by strcmp), the position kept
 * on its group, or on the next one when that group went. A group added
 * since the start gets its retention from rules (none: kept). */
static void
job_sync(struct expire_job *j, const struct vector *rules)
{
	struct active *a = spool_active(j->st.s);
	struct expire_job old = *j;
	const char *cur = j->g < j->n ? j->names[j->g] : NULL;
	size_t k = 0;
	int same = a->count == j->n;

	j->st.a = a;
	for (size_t i = 0; same && i < a->count; i++)
		same = strcmp(a->groups[i]->name, j->names[i]) == 0;
	if (same)
		return;
	job_arrays(j, a->count);
	j->g = a->count;
	for (size_t i = 0; i < a->count; i++) {
		const char *name = a->groups[i]->name;

		while (k < old.n && strcmp(old.names[k], name) < 0)
			k++;
		j->names[i] = xstrdup(name);
		if (k < old.n && strcmp(old.names[k], name) == 0) {
			j->st.retention[i] = old.st.retention[k];
			j->st.count[i] = old.st.count[k];
			j->st.touched[i] = old.st.touched[k];
		} else {
			j->st.retention[i] = expire_retention(rules, name);
		}
		if (cur != NULL && j->g == a->count && strcmp(name, cur) >= 0) {
			j->g = i;
			j->in_group = j->in_group && strcmp(name, cur) == 0;
		}
	}
	job_free_arrays(&old, old.n);
}

struct expire_job *
expire_start(struct spool *s, const struct vector *rules, unsigned long remember_days, time_t now,
             int dry_run)
{
	struct expire_job *j = xcalloc(1, sizeof(*j));
	struct active *a = spool_active(s);

	j->st.s = s;
	j->st.a = a;
	j->st.now = now;
	j->st.dry_run = dry_run;
	j->remember_days = remember_days;
	j->why = (struct buffer)BUFFER_INIT;
	j->feeds = (struct vector)VECTOR_INIT;
	j->dropped = -1;
	job_arrays(j, a->count);
	for (size_t g = 0; g < a->count; g++) {
		j->names[g] = xstrdup(a->groups[g]->name);
		j->st.retention[g] = expire_retention(rules, a->groups[g]->name);
	}
	return j;
}

/* Group g is walked: its low mark raised, its overview compacted in the
 * slices that follow when what went is worth it, the position on the
 * next. */
static void
job_next_group(struct expire_job *j)
{
	const struct group *gr = j->st.a->groups[j->g];

	if (!j->st.dry_run && raise_low(&j->st, j->g, &j->why) < 0)
		j->rc = -1;
	else if (!j->st.dry_run && j->st.touched[j->g] &&
	         overview_compact_begin(spool_overview(j->st.s), gr->name, gr->low) < 0)
		log_msg(LOG_ERR, "expire: %s: compacting overview: %m", gr->name);
	j->g++;
	j->in_group = 0;
}

/* Every group walked: history's remembered IDs past remember_days go and
 * it is compacted, in slices too. 1 while there is more. */
static int
prune_step(struct expire_job *j, double deadline)
{
	time_t now = j->st.now;
	int rc;

	if (j->st.dry_run || (uint64_t)j->remember_days * DAY > (uint64_t)now || j->dropped >= 0)
		return 0;
	rc = history_prune_step(spool_history(j->st.s), now - (time_t)(j->remember_days * DAY),
	                        deadline, &j->dropped);
	if (rc > 0) {
		j->dropped = -1;
		return 1;
	}
	if (rc < 0) {
		buffer_printf(&j->why, "pruning history: %s\n", strerror(errno));
		j->rc = -1;
		j->dropped = 0;
	}
	return 0;
}

/* Then each feed queue whose answered part is most of it is compacted,
 * in slices too. 1 while there is more. */
static int
feeds_step(struct expire_job *j, double deadline)
{
	int spoolfd = spool_dirfd(j->st.s);

	if (j->st.dry_run)
		return 0;
	if (!j->feeds_listed) {
		j->feeds_listed = 1;
		if (feed_names(spoolfd, &j->feeds) < 0)
			log_msg(LOG_ERR, "expire: listing the feed queues: %m");
	}
	while (j->fc == NULL && j->feed < j->feeds.count)
		j->fc = feed_compact_begin(spoolfd, j->feeds.strings[j->feed++]);
	if (j->fc == NULL)
		return 0;
	if (feed_compact_step(j->fc, deadline) <= 0)
		j->fc = NULL;
	return 1;
}

int
expire_step(struct expire_job *j, const struct vector *rules, double budget)
{
	struct expire_state *st = &j->st;
	struct overview_writer *ov = spool_overview(st->s);
	struct overview_range r;
	double deadline = mono_seconds() + budget;
	unsigned n = 0;

	job_sync(j, rules);
	overview_range_init(&r);
	while (j->g < st->a->count) {
		const struct group *gr;
		uint64_t from;
		int go = 1;

		/* A compaction begun by the last group runs before the next. */
		if (overview_compact_step(ov, deadline) > 0 || (n > 0 && mono_seconds() >= deadline))
			break;
		gr = st->a->groups[j->g];
		if (st->retention[j->g] == EXPIRE_NEVER) {
			j->g++;
			continue;
		}
		if (!j->in_group) {
			j->lo = gr->low;
			j->in_group = 1;
		}
		if (j->lo == 0 || j->lo > gr->high) {
			job_next_group(j);
			continue;
		}
		if (overview_read(spool_dirfd(st->s), gr->name, j->lo, gr->high, &r) < 0) {
			log_msg(LOG_ERR, "expire: %s: overview: %m", gr->name);
			st->errors++;
			job_next_group(j);
			continue;
		}
		n++;
		from = j->lo;
		for (size_t i = 0; go && i < r.count; i++) {
			go = consider(st, j->g, &r, i);
			if (go)
				j->lo = r.v[i].number + 1;
			/* The clock every 16 records: a slice ends mid-range. */
			if (go && ++n % 16 == 0 && mono_seconds() >= deadline)
				goto out;
		}
		if (!go) {
			job_next_group(j);
			continue;
		}
		if (r.next <= from) /* 0: the index has no more */
			job_next_group(j);
		else
			j->lo = r.next;
	}
out:
	overview_range_free(&r);
	if (j->g < st->a->count || overview_compact_step(ov, deadline) > 0)
		return 1;
	return prune_step(j, deadline) || feeds_step(j, deadline);
}

const char *
expire_progress(const struct expire_job *j, struct buffer *out)
{
	buffer_printf(out, "%llu articles, %llu links %s so far, group %zu of %zu",
	              (unsigned long long)j->st.articles, (unsigned long long)j->st.links,
	              j->st.dry_run ? "would expire" : "expired", j->g < j->n ? j->g + 1 : j->n, j->n);
	return buffer_cstr(out);
}

int
expire_finish(struct expire_job *j, struct buffer *out)
{
	int rc = j->rc;

	job_sync(j, NULL);
	buffer_append(out, buffer_head(&j->why), j->why.len);
	report(&j->st, j->dropped, out);
	vector_free(&j->feeds);
	job_free_arrays(j, j->n);
	free(j->st.v);
	buffer_free(&j->why);
	free(j);
	return rc;
}

int
expire_run(struct spool *s, const struct vector *rules, unsigned long remember_days, time_t now,
           int dry_run, struct buffer *out)
{
	struct expire_job *j = expire_start(s, rules, remember_days, now, dry_run);

	while (expire_step(j, rules, 1.0))
		;
	return expire_finish(j, out);
}

int
expire_remove_msgid(struct spool *s, const char *msgid, time_t now, struct buffer *why)
{
	struct expire_state st = {0};
	struct history_entry e = {0};
	int rc = history_lookup(spool_history(s), msgid, &e);

	if (rc <= 0 || e.location == NULL) {
		buffer_printf(why, "%s is not here%s", msgid,
		              rc > 0 ? " (remembered: cancelled, expired or refused)" : "");
		if (rc > 0)
			history_entry_free(&e);
		return rc < 0 ? -1 : 0;
	}
	st.s = s;
	st.a = spool_active(s);
	st.now = now;
	st.count = xcalloc(st.a->count + 1, sizeof(*st.count));
	st.touched = xcalloc(st.a->count + 1, 1);
	add_links(&st, e.location, e.location + strlen(e.location), st.a->count, 0);
	remove_links(&st, msgid);
	rc = raise_lows(&st, why) < 0 || st.errors > 0 ? -1 : 1;
	if (rc < 0 && why->len == 0)
		buffer_printf(why, "removing %s: %llu errors (see the log)", msgid,
		              (unsigned long long)st.errors);
	history_entry_free(&e);
	free(st.count);
	free(st.touched);
	free(st.v);
	return rc;
}
