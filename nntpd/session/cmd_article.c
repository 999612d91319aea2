/* cmd_article: group selection and article retrieval (GROUP, LISTGROUP,
 * LAST, NEXT, ARTICLE, HEAD, BODY, STAT) and the per-article listings
 * (OVER/XOVER from the overview index, HDR/XHDR/XPAT). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/metrics.h"
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"
#include "common/priv/sandbox.h"
#include "nntpd/session/commands.h"
#include "nntpd/session/monreq.h"
#include "nntpd/store/article.h"
#include "nntpd/store/overview.h"
#include "nntpd/store/reader.h"
#include "nntpd/store/spool.h"

#define SEND_CHUNK (1U << 20)

enum fetch { FETCH_ARTICLE, FETCH_HEAD, FETCH_BODY, FETCH_STAT };

static const int fetch_code[] = {220, 221, 222, 223};

static uint64_t
group_count(const struct group *g)
{
	return g->high >= g->low ? g->high - g->low + 1 : 0;
}

static void
select_group(struct nntp_session *s, const struct group *g)
{
	free(s->group);
	s->group = xstrdup(g->name);
	s->current = group_count(g) ? g->low : 0;
}

/* Look up a visible group by name, or reply 411 (or 403). */
static struct group *
find_group(struct nntp_session *s, const char *name)
{
	struct active *a = session_groups(s);
	struct group *g;

	if (a == NULL)
		return NULL;
	g = active_lookup(a, name);
	if (g == NULL || !group_visible(s, name)) {
		reply(s, R_NO_SUCH_GROUP);
		return NULL;
	}
	return g;
}

void
cmd_group(struct nntp_session *s, struct vector *args)
{
	struct group *g = find_group(s, args->strings[1]);

	if (g == NULL)
		return;
	select_group(s, g);
	reply(s, "211 %llu %llu %llu %s", (unsigned long long)group_count(g),
	      (unsigned long long)g->low, (unsigned long long)g->high, g->name);
}

void
cmd_listgroup(struct nntp_session *s, struct vector *args)
{
	struct reader_numbers nums = {0};
	struct group *g;
	uint64_t lo = 0, hi = UINT64_MAX;

	if (args->count >= 3 && reader_parse_range(args->strings[2], &lo, &hi) < 0) {
		reply(s, R_SYNTAX " in range");
		return;
	}
	if (args->count >= 2) {
		if ((g = find_group(s, args->strings[1])) == NULL)
			return;
	} else if ((g = selected_group(s)) == NULL) {
		return;
	}
	select_group(s, g);
	if (lo < g->low)
		lo = g->low;
	if (hi > g->high)
		hi = g->high;
	if (reader_numbers(s->spoolfd, g->name, lo, hi, &nums) < 0) {
		log_msg(LOG_ERR, "overview of %s: %m", g->name);
		reply(s, R_SPOOL);
		return;
	}
	reply(s, "211 %llu %llu %llu %s list follows", (unsigned long long)group_count(g),
	      (unsigned long long)g->low, (unsigned long long)g->high, g->name);
	for (size_t i = 0; i < nums.count; i++)
		reply(s, "%llu", (unsigned long long)nums.v[i]);
	reply_end(s);
	reader_numbers_free(&nums);
}

/* The Message-ID of article n of group, from its overview line or else
 * the article itself; 0 or -1. */
static int
number_msgid(struct nntp_session *s, const char *group, uint64_t n, struct buffer *id)
{
	struct overview_range r;
	struct spool_article art;
	int rc = -1;

	buffer_clear(id);
	overview_range_init(&r);
	if (overview_read(s->spoolfd, group, n, n, &r) == 0 && r.count == 1) {
		const char *line = overview_line(&r, 0), *end = line + r.v[0].len;

		for (int field = 0; field < 3 && line != NULL; field++) {
			line = memchr(line, '\t', (size_t)(end - line));
			if (line != NULL)
				line++;
		}
		if (line != NULL) {
			const char *tab = memchr(line, '\t', (size_t)(end - line));

			buffer_append(id, line, (size_t)((tab ? tab : end) - line));
			rc = id->len ? 0 : -1;
		}
	}
	overview_range_free(&r);
	if (rc == 0)
		return 0;
	if (spool_open_article(s->spoolfd, group, n, &art) < 0)
		return -1;
	rc = spool_article_header(&art, "Message-ID", id);
	close(art.fd);
	return rc;
}

static void
step(struct nntp_session *s, int dir)
{
	struct buffer id = BUFFER_INIT;
	struct group *g = selected_group(s);
	uint64_t n;
	int rc;

	if (g == NULL)
		return;
	if (s->current == 0) {
		reply(s, R_NO_CURRENT);
		return;
	}
	if (dir > 0)
		rc = reader_find_present(s->spoolfd, g->name, s->current + 1, g->high, 1, &n);
	else
		rc = s->current > g->low
		         ? reader_find_present(s->spoolfd, g->name, g->low, s->current - 1, -1, &n)
		         : 0;
	if (rc < 0) {
		reply(s, R_SPOOL);
		return;
	}
	if (rc == 0 || number_msgid(s, g->name, n, &id) < 0) {
		reply(s, dir > 0 ? "421 No next article in this group"
		                 : "422 No previous article in this group");
		buffer_free(&id);
		return;
	}
	s->current = n;
	reply(s, "223 %llu %s", (unsigned long long)n, buffer_cstr(&id));
	buffer_free(&id);
}

void
cmd_next(struct nntp_session *s, struct vector *args)
{
	(void)args;
	step(s, 1);
}

void
cmd_last(struct nntp_session *s, struct vector *args)
{
	(void)args;
	step(s, -1);
}

/* Write [off, off+len) of fd to the client. The pending reply lines go
 * first and ".\r\n" right after, with the socket corked so the three
 * leave in full segments and nothing waits on Nagle. 0 or -1. */
static int
send_file_range(struct nntp_session *s, int fd, uint64_t off, uint64_t len)
{
	int on = 1, off_opt = 0, rc = 0;
	off_t pos = (off_t)off;

	if (!conn_is_plain(&s->c)) { /* no sendfile through TLS or deflate: copy */
		while (len > 0 && rc == 0) {
			size_t n = len > SEND_CHUNK ? SEND_CHUNK : (size_t)len;
			ssize_t got = pread(fd, buffer_reserve(&s->c.out, n), n, pos);

			if (got <= 0)
				return -1;
			buffer_commit(&s->c.out, (size_t)got);
			pos += got;
			len -= (uint64_t)got;
			rc = conn_flush(&s->c);
		}
		reply_end(s);
		return rc;
	}
	setsockopt(s->c.fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
	rc = conn_flush(&s->c);
	while (rc == 0 && len > 0) {
		ssize_t n =
		    sendfile(s->c.fd, fd, &pos, len > SEND_CHUNK ? SEND_CHUNK : (size_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = s->c.fd, .events = POLLOUT};

			if (poll(&pf, 1, s->c.timeout_ms > 0 ? s->c.timeout_ms : -1) <= 0)
				rc = -1;
			continue;
		}
		if (n <= 0) /* the file shrank, or the client went away */
			rc = -1;
		else
			len -= (uint64_t)n;
	}
	reply_end(s);
	if (rc == 0)
		rc = conn_flush(&s->c);
	setsockopt(s->c.fd, IPPROTO_TCP, TCP_CORK, &off_opt, sizeof(off_opt));
	return rc;
}

/* The header block (already in stored, dot-stuffed form) into the reply. */
static int
copy_head(struct nntp_session *s, const struct spool_article *art)
{
	size_t n = (size_t)art->header_len;
	ssize_t got = pread(art->fd, buffer_reserve(&s->c.out, n), n, 0);

	if (got != (ssize_t)n)
		return -1;
	buffer_commit(&s->c.out, n);
	reply_end(s);
	return 0;
}

static void
send_article(struct nntp_session *s, enum fetch what, uint64_t number,
             const struct spool_article *art, const char *msgid)
{
	uint64_t body = art->header_len + 2;
	int rc = 0;

	reply(s, "%d %llu %s", fetch_code[what], (unsigned long long)number, msgid);
	switch (what) {
	case FETCH_ARTICLE:
		rc = send_file_range(s, art->fd, 0, art->size);
		break;
	case FETCH_HEAD:
		rc = copy_head(s, art);
		break;
	case FETCH_BODY:
		rc = send_file_range(s, art->fd, body, art->size > body ? art->size - body : 0);
		break;
	case FETCH_STAT:
		break;
	}
	if (rc == 0 && what != FETCH_STAT)
		monreq_metric(s, M_BYTES_OUT,
		              what == FETCH_ARTICLE ? art->size
		              : what == FETCH_HEAD  ? art->header_len
		                                    : (art->size > body ? art->size - body : 0));
	if (rc < 0) {
		/* Part of a reply may be out: the session cannot go on. */
		log_msg(LOG_NOTICE, "sending article %s: %m; closing", msgid);
		sandbox_exit(1);
	}
}

static void
fetch_by_msgid(struct nntp_session *s, enum fetch what, const char *msgid)
{
	struct spool_article art;
	char *group = NULL;
	uint64_t n;
	int rc = reader_find_msgid(session_history(s), s->spoolfd, msgid, group_visible_cb, s,
	                           &group, &n, &art);

	if (rc <= 0) {
		reply(s, R_NO_MSGID);
		return;
	}
	/* RFC 3977 6.2.1.2: by Message-ID the number is 0 (INN does the same). */
	send_article(s, what, 0, &art, msgid);
	close(art.fd);
	free(group);
}

static void
fetch(struct nntp_session *s, struct vector *args, enum fetch what)
{
	struct buffer id = BUFFER_INIT;
	struct spool_article art;
	uint64_t n;
	int by_number = args->count == 2;

	if (by_number && args->strings[1][0] == '<') {
		if (!is_msgid(args->strings[1]))
			reply(s, R_SYNTAX " in message-id");
		else
			fetch_by_msgid(s, what, args->strings[1]);
		return;
	}
	if (by_number && reader_parse_number(args->strings[1], &n) < 0) {
		reply(s, R_SYNTAX " in article number");
		return;
	}
	if (s->group == NULL) {
		reply(s, R_NO_GROUP);
		return;
	}
	if (!by_number) {
		if (s->current == 0) {
			reply(s, R_NO_CURRENT);
			return;
		}
		n = s->current;
	}
	if (n == 0 || spool_open_article(s->spoolfd, s->group, n, &art) < 0) {
		reply(s, by_number ? R_NO_NUMBER : R_NO_CURRENT);
		return;
	}
	if (spool_article_header(&art, "Message-ID", &id) < 0)
		buffer_puts(&id, "<0>");
	s->current = n;
	send_article(s, what, n, &art, buffer_cstr(&id));
	close(art.fd);
	buffer_free(&id);
}

void
cmd_article(struct nntp_session *s, struct vector *args)
{
	fetch(s, args, FETCH_ARTICLE);
}

void
cmd_head(struct nntp_session *s, struct vector *args)
{
	fetch(s, args, FETCH_HEAD);
}

void
cmd_body(struct nntp_session *s, struct vector *args)
{
	fetch(s, args, FETCH_BODY);
}

void
cmd_stat(struct nntp_session *s, struct vector *args)
{
	fetch(s, args, FETCH_STAT);
}

/* What OVER/HDR/XPAT work on: a Message-ID, a range of the selected
 * group, or the current article. */
struct target {
	const char *msgid; /* non-NULL: by Message-ID */
	char *group;       /* the group to read (owned) */
	uint64_t lo, hi;   /* numbers; by Message-ID: its number in group */
};

static void
target_free(struct target *t)
{
	free(t->group);
}

/* Resolve arg (NULL: current article) or reply with the error. 0 or -1. */
static int
resolve_target(struct nntp_session *s, const char *arg, struct target *t)
{
	struct group *g;

	memset(t, 0, sizeof(*t));
	if (arg != NULL && arg[0] == '<') {
		struct spool_article art;

		if (!is_msgid(arg)) {
			reply(s, R_SYNTAX " in message-id");
			return -1;
		}
		if (reader_find_msgid(session_history(s), s->spoolfd, arg, group_visible_cb, s,
		                      &t->group, &t->lo, &art) <= 0) {
			reply(s, R_NO_MSGID);
			return -1;
		}
		close(art.fd);
		t->hi = t->lo;
		t->msgid = arg;
		return 0;
	}
	if (arg != NULL && reader_parse_range(arg, &t->lo, &t->hi) < 0) {
		reply(s, R_SYNTAX " in range");
		return -1;
	}
	if ((g = selected_group(s)) == NULL)
		return -1;
	if (arg == NULL) {
		if (s->current == 0) {
			reply(s, R_NO_CURRENT);
			return -1;
		}
		t->lo = t->hi = s->current;
	} else {
		if (t->lo < g->low)
			t->lo = g->low;
		if (t->hi > g->high)
			t->hi = g->high;
	}
	t->group = xstrdup(g->name);
	return 0;
}

/* Overview lines of the target, one callback per article (number as the
 * client sees it: 0 by Message-ID). 0, or -1 after replying 403. */
static int
walk_overview(struct nntp_session *s, const struct target *t,
              void (*fn)(struct nntp_session *, uint64_t, const char *, size_t, void *), void *arg)
{
	struct overview_range r;
	uint64_t lo = t->lo;
	int rc = 0;

	overview_range_init(&r);
	while (lo <= t->hi && lo != 0) {
		if (overview_read(s->spoolfd, t->group, lo, t->hi, &r) < 0) {
			log_msg(LOG_ERR, "overview of %s: %m", t->group);
			rc = -1;
			break;
		}
		for (size_t i = 0; i < r.count; i++)
			fn(s, t->msgid ? 0 : r.v[i].number, overview_line(&r, i), r.v[i].len, arg);
		lo = r.next;
	}
	overview_range_free(&r);
	return rc;
}

static void
over_line(struct nntp_session *s, uint64_t n, const char *line, size_t len, void *arg)
{
	struct buffer *b = &s->c.out;

	(void)arg;
	buffer_printf(b, "%llu\t", (unsigned long long)n);
	buffer_append(b, line, len);
	buffer_append(b, "\r\n", 2);
}

/* Whether the target holds any article (for the 423 of an empty range). */
static int
target_empty(struct nntp_session *s, const struct target *t)
{
	uint64_t n;

	return t->hi < t->lo || reader_find_present(s->spoolfd, t->group, t->lo, t->hi, 1, &n) <= 0;
}

void
cmd_over(struct nntp_session *s, struct vector *args)
{
	struct target t;

	if (resolve_target(s, args->count == 2 ? args->strings[1] : NULL, &t) < 0)
		return;
	if (t.msgid == NULL && target_empty(s, &t)) {
		reply(s, args->count == 2 ? R_NO_RANGE : R_NO_CURRENT);
		target_free(&t);
		return;
	}
	reply(s, "224 Overview information follows");
	if (walk_overview(s, &t, over_line, NULL) < 0) {
		/* Already inside a multi-line reply: end it, log the rest. */
		log_msg(LOG_ERR, "OVER cut short");
	}
	reply_end(s);
	target_free(&t);
}

/* HDR, XHDR and XPAT: one header's value per article. */
enum hdr_style { STYLE_HDR, STYLE_XHDR, STYLE_XPAT };

struct hdr_job {
	int field;        /* overview field index, or -1: read the article */
	const char *name; /* the header asked for */
	enum hdr_style style;
	const char *pattern; /* XPAT */
	const char *msgid;   /* by Message-ID, or NULL */
};

/* What starts each line: the number (0 by Message-ID: RFC 3977 8.5.2),
 * but XHDR and XPAT by Message-ID name it instead, as INN does (RFC 2980
 * leaves it open, and clients match the lines up by it). */
static void
hdr_key(struct nntp_session *s, const struct hdr_job *j, uint64_t n)
{
	if (j->msgid != NULL && j->style != STYLE_HDR)
		buffer_printf(&s->c.out, "%s ", j->msgid);
	else
		buffer_printf(&s->c.out, "%llu ", (unsigned long long)n);
}

/* Overview fields by header name; Bytes/Lines for RFC 2980 clients. */
static int
overview_field(const char *name)
{
	static const char *const names[] = {"Subject",    "From",   "Date",   "Message-ID",
	                                    "References", ":bytes", ":lines", "Xref"};

	for (int i = 0; i < 8; i++)
		if (strcasecmp(name, names[i]) == 0)
			return i;
	if (strcasecmp(name, "Bytes") == 0)
		return 5;
	if (strcasecmp(name, "Lines") == 0)
		return 6;
	return -1;
}

static void
hdr_emit(struct nntp_session *s, const struct hdr_job *j, uint64_t n, const char *v, size_t len)
{
	char *value;

	if (j->style == STYLE_XPAT) {
		value = xstrndup(v, len);
		if (wildmat_match_list(value, j->pattern)) {
			hdr_key(s, j, n);
			buffer_printf(&s->c.out, "%s\r\n", value);
		}
		free(value);
		return;
	}
	hdr_key(s, j, n);
	if (len == 0 && j->style == STYLE_XHDR)
		buffer_puts(&s->c.out, "(none)");
	buffer_append(&s->c.out, v, len);
	buffer_append(&s->c.out, "\r\n", 2);
}

static void
hdr_from_overview(struct nntp_session *s, uint64_t n, const char *line, size_t len, void *arg)
{
	const struct hdr_job *j = arg;
	const char *p = line, *end = line + len, *tab;

	for (int i = 0; i < j->field && p != NULL; i++) {
		p = memchr(p, '\t', (size_t)(end - p));
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		p = end;
	tab = memchr(p, '\t', (size_t)(end - p));
	if (tab == NULL)
		tab = end;
	if (j->field == 7 && (size_t)(tab - p) >= 6 && strncasecmp(p, "Xref: ", 6) == 0)
		p += 6;
	hdr_emit(s, j, n, p, (size_t)(tab - p));
}

/* A header outside overview: one article file each. */
static int
hdr_from_articles(struct nntp_session *s, const struct target *t, const struct hdr_job *j)
{
	struct reader_numbers nums = {0};
	struct buffer v = BUFFER_INIT;

	if (reader_numbers(s->spoolfd, t->group, t->lo, t->hi, &nums) < 0)
		return -1;
	for (size_t i = 0; i < nums.count; i++) {
		struct spool_article art;

		if (spool_open_article(s->spoolfd, t->group, nums.v[i], &art) < 0)
			continue;
		if (spool_article_header(&art, j->name, &v) < 0)
			buffer_clear(&v);
		close(art.fd);
		if (v.len == 0 && j->style == STYLE_XPAT)
			continue;
		hdr_emit(s, j, t->msgid ? 0 : nums.v[i], buffer_cstr(&v), v.len);
	}
	buffer_free(&v);
	reader_numbers_free(&nums);
	return 0;
}

static void
header_listing(struct nntp_session *s, const char *field, const char *arg, struct hdr_job *j)
{
	static const char *const intro[] = {"225 Headers follow", "221 Header follows",
	                                    "221 Header follows"};
	struct target t;
	int rc;

	if (resolve_target(s, arg, &t) < 0)
		return;
	if (t.msgid == NULL && target_empty(s, &t)) {
		reply(s, arg != NULL ? R_NO_RANGE : R_NO_CURRENT);
		target_free(&t);
		return;
	}
	j->name = field;
	j->field = overview_field(field);
	j->msgid = t.msgid;
	reply(s, "%s", intro[j->style]);
	if (j->field >= 0)
		rc = walk_overview(s, &t, hdr_from_overview, j);
	else
		rc = hdr_from_articles(s, &t, j);
	if (rc < 0)
		log_msg(LOG_ERR, "header listing of %s cut short: %m", t.group);
	reply_end(s);
	target_free(&t);
}

void
cmd_hdr(struct nntp_session *s, struct vector *args)
{
	struct hdr_job j = {.style = STYLE_HDR};

	header_listing(s, args->strings[1], args->count == 3 ? args->strings[2] : NULL, &j);
}

void
cmd_xhdr(struct nntp_session *s, struct vector *args)
{
	struct hdr_job j = {.style = STYLE_XHDR};

	header_listing(s, args->strings[1], args->count == 3 ? args->strings[2] : NULL, &j);
}

void
cmd_xpat(struct nntp_session *s, struct vector *args)
{
	struct buffer pat = BUFFER_INIT;
	struct hdr_job j = {.style = STYLE_XPAT};

	/* INN joins the pattern words with spaces into one wildmat list. */
	for (size_t i = 3; i < args->count; i++) {
		if (i > 3)
			buffer_append(&pat, " ", 1);
		buffer_puts(&pat, args->strings[i]);
	}
	j.pattern = buffer_cstr(&pat);
	header_listing(s, args->strings[1], args->strings[2], &j);
	buffer_free(&pat);
}
