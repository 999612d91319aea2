/* cmd_list: the group-level listings: LIST and its keywords, XGTITLE,
 * NEWGROUPS and NEWNEWS. Every listing shows only the groups the session
 * may read. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/core/log.h"
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"
#include "nntpd/moderators.h"
#include "nntpd/options.h"
#include "nntpd/session/commands.h"
#include "nntpd/store/overview.h"
#include "nntpd/store/reader.h"

struct list_kind {
	const char *keyword;
	void (*fn)(struct nntp_session *, const char *arg);
	int takes_arg;
	const char *intro;
};

static int
listed(struct nntp_session *s, const struct group *g, const char *wildmat)
{
	return group_visible(s, g->name) &&
	       (wildmat == NULL || wildmat_match_list(g->name, wildmat));
}

static void
list_active(struct nntp_session *s, const char *arg)
{
	struct active *a = s->active;

	active_marks_all(a);
	for (size_t i = 0; i < a->count; i++) {
		const struct group *g = a->groups[i];

		if (listed(s, g, arg))
			reply(s, "%s %010llu %010llu %s", g->name, (unsigned long long)g->high,
			      (unsigned long long)g->low, g->flags);
	}
}

static void
list_times(struct nntp_session *s, const char *arg)
{
	struct active *a = s->active;

	for (size_t i = 0; i < a->count; i++) {
		const struct group *g = a->groups[i];

		if (listed(s, g, arg))
			reply(s, "%s %lld %s", g->name, (long long)g->created,
			      g->creator && g->creator[0] ? g->creator : "unknown");
	}
}

static void
list_newsgroups(struct nntp_session *s, const char *arg)
{
	struct active *a = s->active;

	for (size_t i = 0; i < a->count; i++) {
		const struct group *g = a->groups[i];

		if (listed(s, g, arg))
			reply(s, "%s\t%s", g->name, g->description ? g->description : "");
	}
}

static void
list_counts(struct nntp_session *s, const char *arg)
{
	struct active *a = s->active;

	active_marks_all(a);
	/* RFC 6048 3: the count may be an estimate; high - low + 1 is INN's
	 * when the overview has no exact figure. */
	for (size_t i = 0; i < a->count; i++) {
		const struct group *g = a->groups[i];

		if (listed(s, g, arg))
			reply(s, "%s %010llu %010llu %llu %s", g->name, (unsigned long long)g->high,
			      (unsigned long long)g->low,
			      (unsigned long long)(g->high >= g->low ? g->high - g->low + 1 : 0),
			      g->flags);
	}
}

static void
list_overview_fmt(struct nntp_session *s, const char *arg)
{
	(void)arg;
	for (size_t i = 0; overview_fmt[i] != NULL; i++)
		reply(s, "%s", overview_fmt[i]);
}

static void
list_headers(struct nntp_session *s, const char *arg)
{
	(void)arg;
	/* Any header (read from the article when not in overview), plus the
	 * two metadata items, for both forms. */
	reply(s, ":");
	reply(s, ":bytes");
	reply(s, ":lines");
}

static void
list_motd(struct nntp_session *s, const char *arg)
{
	const char *p = s->motd;

	(void)arg;
	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n");
		size_t len = n > 0 && p[n - 1] == '\r' ? n - 1 : n;

		reply_data(s, p, len);
		p += n + (p[n] == '\n');
	}
}

static void
moderator_line(const char *line, size_t n, void *ctx)
{
	reply_data(ctx, line, n);
}

/* RFC 6048: the moderators file's lines, comments left out. */
static void
list_moderators(struct nntp_session *s, const char *arg)
{
	(void)arg;
	moderators_each(s->moderators, strlen(s->moderators), moderator_line, s);
}

static void
list_distrib_pats(struct nntp_session *s, const char *arg)
{
	(void)arg;
	for (size_t i = 0; i < opt.distrib_pats.count; i++)
		reply_data(s, opt.distrib_pats.strings[i], strlen(opt.distrib_pats.strings[i]));
}

/* INN's subscriptions file: one group per line, blank lines and # comments
 * skipped. A group the session may not read is not listed either. */
static void
list_subscriptions(struct nntp_session *s, const char *arg)
{
	const char *p = s->subscriptions;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n");
		char *name = xstrndup(p, n);
		char *start = name + strspn(name, " \t");

		start[strcspn(start, " \t\r#")] = '\0';
		if (start[0] != '\0' && group_visible(s, start) &&
		    (arg == NULL || wildmat_match_list(start, arg)))
			reply_data(s, start, strlen(start));
		free(name);
		p += n + (p[n] == '\n');
	}
}

static const struct list_kind list_kinds[] = {
    {"ACTIVE", list_active, 1, "215 List of newsgroups follows"},
    {"ACTIVE.TIMES", list_times, 1, "215 Group creations in form \"name time who\""},
    {"COUNTS", list_counts, 1, "215 List of newsgroups follows"},
    {"DISTRIB.PATS", list_distrib_pats, 0, "215 Distribution patterns follow"},
    {"HEADERS", list_headers, 1, "215 Headers and metadata items supported:"},
    {"MODERATORS", list_moderators, 0,
     "215 Newsgroup moderators in form \"group:submission address\""},
    {"MOTD", list_motd, 0, "215 Message of the day follows"},
    {"NEWSGROUPS", list_newsgroups, 1, "215 Descriptions in form \"group description\""},
    {"OVERVIEW.FMT", list_overview_fmt, 0, "215 Order of fields in overview database"},
    {"SUBSCRIPTIONS", list_subscriptions, 1, "215 Default subscriptions follow"},
    {NULL, NULL, 0, NULL},
};

void
list_capability(struct nntp_session *s)
{
	struct buffer line = BUFFER_INIT;

	buffer_puts(&line, "LIST");
	for (const struct list_kind *t = list_kinds; t->keyword != NULL; t++)
		buffer_printf(&line, " %s", t->keyword);
	reply(s, "%s", buffer_cstr(&line));
	buffer_free(&line);
}

void
cmd_list(struct nntp_session *s, struct vector *args)
{
	const char *keyword = args->count >= 2 ? args->strings[1] : "ACTIVE";
	const char *arg = args->count >= 3 ? args->strings[2] : NULL;
	const struct list_kind *k = NULL;

	for (const struct list_kind *t = list_kinds; t->keyword != NULL; t++)
		if (strcasecmp(t->keyword, keyword) == 0)
			k = t;
	if (k == NULL || (arg != NULL && !k->takes_arg)) {
		reply(s, "501 Unknown LIST keyword or bad argument");
		return;
	}
	if (k->fn == list_headers && arg != NULL && strcasecmp(arg, "MSGID") != 0 &&
	    strcasecmp(arg, "RANGE") != 0) {
		reply(s, "501 LIST HEADERS takes MSGID or RANGE");
		return;
	}
	/* RFC 3977 7.6.1: information the server does not keep is a 503. */
	if ((k->fn == list_motd && s->motd == NULL) ||
	    (k->fn == list_moderators && s->moderators == NULL) ||
	    (k->fn == list_distrib_pats && opt.distrib_pats.count == 0)) {
		reply(s, "503 No %s available", k->keyword);
		return;
	}
	if (session_groups(s) == NULL)
		return;
	reply(s, "%s", k->intro);
	k->fn(s, arg);
	reply_end(s);
}

/* RFC 2980 2.8: the descriptions of the groups a wildmat names (default:
 * the selected group), in LIST NEWSGROUPS' form, under 282. */
void
cmd_xgtitle(struct nntp_session *s, struct vector *args)
{
	const char *pattern = args->count >= 2 ? args->strings[1] : s->group;

	if (pattern == NULL) {
		reply(s, "481 No newsgroup selected and no wildmat given");
		return;
	}
	if (session_groups(s) == NULL)
		return;
	reply(s, "282 Descriptions follow");
	list_newsgroups(s, pattern);
	reply_end(s);
}

/* The "date time [GMT]" words starting at args->strings[first]. */
static int
args_time(struct nntp_session *s, struct vector *args, size_t first, time_t *t)
{
	const char *gmt = args->count > first + 2 ? args->strings[first + 2] : NULL;

	if (reader_parse_datetime(args->strings[first], args->strings[first + 1], gmt, time(NULL),
	                          t) < 0) {
		reply(s, R_SYNTAX " in date or time");
		return -1;
	}
	return 0;
}

void
cmd_newgroups(struct nntp_session *s, struct vector *args)
{
	struct active *a;
	time_t since;

	if (args_time(s, args, 1, &since) < 0 || (a = session_groups(s)) == NULL)
		return;
	active_marks_all(a);
	reply(s, "231 List of new newsgroups follows");
	for (size_t i = 0; i < a->count; i++) {
		const struct group *g = a->groups[i];

		if (g->created >= since && group_visible(s, g->name))
			reply(s, "%s %llu %llu %s", g->name, (unsigned long long)g->high,
			      (unsigned long long)g->low, g->flags);
	}
	reply_end(s);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Arrival times rise with article numbers, unless the clock stepped back
 * or a rebuild took them from file times: the binary search starts this
 * much early, and the scan from there still compares every time. */
#define NEWNEWS_SLACK 600

/* Message-IDs of one group's articles that arrived at or after since: a
 * binary search of the overview index for the first, then a scan. */
static int
group_newnews(struct nntp_session *s, const struct group *g, time_t since, struct vector *ids)
{
	struct overview_range r;
	uint64_t lo = g->low, from = since > NEWNEWS_SLACK ? (uint64_t)(since - NEWNEWS_SLACK) : 0;

	if (lo != 0 && overview_seek_arrival(s->spoolfd, g->name, lo, g->high, from, &lo) < 0)
		return -1;
	overview_range_init(&r);
	while (lo != 0 && lo <= g->high) {
		if (overview_read(s->spoolfd, g->name, lo, g->high, &r) < 0) {
			overview_range_free(&r);
			return -1;
		}
		for (size_t i = 0; i < r.count; i++) {
			const char *line = overview_line(&r, i), *end = line + r.v[i].len,
			           *p = line;

			if (r.v[i].arrived < (uint64_t)since)
				continue;
			for (int f = 0; f < 3 && p != NULL; f++)
				if ((p = memchr(p, '\t', (size_t)(end - p))) != NULL)
					p++;
			if (p != NULL) {
				const char *tab = memchr(p, '\t', (size_t)(end - p));

				vector_addn(ids, p, (size_t)((tab ? tab : end) - p));
			}
		}
		lo = r.next;
	}
	overview_range_free(&r);
	return 0;
}

void
cmd_newnews(struct nntp_session *s, struct vector *args)
{
	struct vector ids = VECTOR_INIT;
	struct active *a;
	time_t since;

	if (!opt.allow_newnews) {
		reply(s, "502 NEWNEWS is disabled on this server");
		return;
	}
	if (args_time(s, args, 2, &since) < 0 || (a = session_groups(s)) == NULL)
		return;
	active_marks_all(a);
	for (size_t i = 0; i < a->count; i++) {
		const struct group *g = a->groups[i];

		if (listed(s, g, args->strings[1]) && group_newnews(s, g, since, &ids) < 0)
			log_msg(LOG_ERR, "NEWNEWS: overview of %s: %m", g->name);
	}
	/* A crosspost is listed once. */
	if (ids.count > 1)
		qsort(ids.strings, ids.count, sizeof(*ids.strings), str_cmp);
	reply(s, "230 List of new articles follows");
	for (size_t i = 0; i < ids.count; i++)
		if (i == 0 || strcmp(ids.strings[i], ids.strings[i - 1]) != 0)
			reply_data(s, ids.strings[i], strlen(ids.strings[i]));
	reply_end(s);
	vector_free(&ids);
}
