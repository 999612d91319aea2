/* policy: what the writer accepts and how it stores it: validation for
 * posts and feeds (RFC 5537 injection and relaying, as INN's nnrpd and innd
 * do it), the headers it adds, filing and queueing for feeds. */
#include "nntpd/writer/writer.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/core/log.h"
#include "common/core/metrics.h"
#include "common/core/pace.h"
#include "common/core/ratelimit.h"
#include "common/core/vector.h"
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"
#include "nntpd/access.h"
#include "nntpd/feed/feed.h"
#include "nntpd/metrics.h"
#include "nntpd/store/article.h"
#include "nntpd/writer/control.h"
#include "nntpd/writer/ctlmsg.h"
#include "nntpd/writer/mailer.h"
#include "nntpd/writer/filter.h"
#include "nntpd/writer/report.h"

struct writer {
	struct spool *spool;
	char *pathhost;
	size_t max_size;
	const struct vector *feeds;
	struct writer_limits limits;
	struct ratelimit posts; /* per "user:NAME", else per "addr:HOST" */
	uint64_t accepted;      /* stored since the last commit, not yet counted */
};

static const struct vector *feed_lines;
static int mailer_fd = -1;
static unsigned mailer_timeout = 30;

void
writer_set_mailer(int fd, unsigned timeout)
{
	mailer_fd = fd;
	mailer_timeout = timeout;
}

void
writer_set_feeds(const struct vector *feeds)
{
	feed_lines = feeds;
}

/* A new rate keeps every poster's count so far: a reload is no way out. */
static void
set_limits(struct writer *w, const struct writer_limits *l)
{
	w->limits = *l;
	if (w->limits.post_burst == 0)
		w->limits.post_burst = 1;
	ratelimit_set(&w->posts, w->limits.post_rate, w->limits.post_burst);
}

struct writer *
writer_new(struct spool *s, const struct writer_conf *conf)
{
	struct writer *w = xcalloc(1, sizeof(*w));

	w->spool = s;
	w->pathhost = xstrdup(conf->pathhost);
	w->max_size = conf->max_article_size ? conf->max_article_size : WRITER_DEFAULT_MAX_ARTICLE;
	w->feeds = feed_lines;
	ratelimit_init(&w->posts, 0);
	set_limits(w, &conf->limits);
	return w;
}

void
writer_reconfigure(struct writer *w, const struct writer_settings *ws)
{
	w->max_size = ws->max_article_size ? ws->max_article_size : WRITER_DEFAULT_MAX_ARTICLE;
	writer_set_feeds(&ws->feed);
	w->feeds = feed_lines;
	writer_set_expire(&ws->expire, ws->history_remember);
	set_limits(w, &ws->limits);
	filter_policy(ws->filter_timeout, ws->filter_closed);
}

void
writer_describe(const struct writer *w, struct buffer *out)
{
	struct feed_def f;

	buffer_printf(out, "max_article_size: %zu\nfeeds: %zu", w->max_size,
	              w->feeds != NULL ? w->feeds->count : 0);
	for (size_t i = 0; w->feeds != NULL && i < w->feeds->count; i++)
		if (feed_parse(w->feeds->strings[i], &f) == 0) {
			buffer_printf(out, " %s", f.name);
			feed_def_free(&f);
		}
	buffer_puts(out, "\n");
	buffer_printf(out, "post_rate: %lu/min burst %lu\narticle_cutoff_days: %lu\n",
	              w->limits.post_rate, w->limits.post_burst, w->limits.cutoff_days);
}

size_t
writer_max_size(const struct writer *w)
{
	return w->max_size;
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	ratelimit_free(&w->posts);
	free(w->pathhost);
	free(w);
}

/* Add name to wanted unless it is there (an alias and its target name
 * one place). */
static void
want_group(struct vector *wanted, const char *name)
{
	for (size_t i = 0; i < wanted->count; i++)
		if (strcmp(wanted->strings[i], name) == 0)
			return;
	vector_add(wanted, name);
}

/* The posting rules of one group (rule: the group itself, or an alias's
 * target, whose flag decides); 0, 1 for an unapproved post to a moderated
 * group (its moderator's), or -1 with why. */
static int
check_post_rules(enum submit_kind kind, const struct writer_rights *r, const char *name,
                 const struct group *rule, int approved, struct buffer *why)
{
	if (rule->flag == 'n' && kind == SUBMIT_POST) {
		buffer_printf(why, "Posting to %s is not allowed", name);
		return -1;
	}
	/* INN's x: the group takes articles from feeds only. */
	if (rule->flag == 'x' && kind == SUBMIT_POST) {
		buffer_printf(why, "Local postings to %s are not allowed (flag x: feeds only)",
		              name);
		return -1;
	}
	/* SECURITY: the connection's post wildmat (the access rules
	 * the monitor applied), not the session's word for it; an alias is
	 * checked by both its name and its target's. */
	if (kind == SUBMIT_POST && (!wildmat_match_list(name, r->post_groups) ||
	                            !wildmat_match_list(rule->name, r->post_groups))) {
		buffer_printf(why, "Posting to %s is not allowed from your address", name);
		return -1;
	}
	/* An unapproved post is for the moderator (mailed); an unapproved
	 * feed is refused. */
	if (rule->flag == 'm' && !approved && kind == SUBMIT_POST)
		return 1;
	if (rule->flag == 'm' && !approved) {
		buffer_printf(why, "Moderated group %s: article needs an Approved header", name);
		return -1;
	}
	/* SECURITY: only a moderator approves a post (the connection's
	 * rights, from the monitor's access rules); feeds relay what a
	 * moderator elsewhere approved. */
	if (rule->flag == 'm' && kind == SUBMIT_POST && !r->may_approve) {
		buffer_printf(why, "Moderated group %s: Approved: needs the moderator right", name);
		return -1;
	}
	return 0;
}

/* Check the groups an article names; refuse (-1, why) or fill wanted with
 * the groups to file it in. Posts need every group known and open to
 * posting; feeds keep the known ones (innd files what it carries). An
 * =alias group's articles are filed in its target; a j group's in junk
 * when no other group files them (innd's "if it's junk, don't file it",
 * then junk for an article filed nowhere).. An
 * unapproved post to a moderated group is for its moderator: the first
 * such group goes in moderate (nnrpd mails to that one). */
static int
check_groups(struct writer *w, enum submit_kind kind, const struct writer_rights *r,
             const struct article *a, struct vector *wanted, struct buffer *moderate,
             struct buffer *why)
{
	struct vector names = VECTOR_INIT;
	int approved = article_find(a, "Approved") != NULL;
	struct active *act = spool_active(w->spool);
	struct group *junk = NULL;

	vector_clear(wanted);
	article_newsgroups(a, &names);
	for (size_t i = 0; i < names.count; i++) {
		const char *name = names.strings[i];
		struct group *g = active_find(act, name), *file, *rule;
		int rc;

		if (g == NULL) {
			if (kind == SUBMIT_POST) {
				buffer_printf(why, "Unknown newsgroup %s", name);
				break;
			}
			continue;
		}
		file = active_filing_group(act, g);
		if (file == NULL) {
			if (kind == SUBMIT_POST) {
				buffer_printf(why, "Newsgroup %s files in %s, which is not carried",
				              name, g->flag == 'j' ? ACTIVE_JUNK : g->flags + 1);
				break;
			}
			continue;
		}
		/* A j group takes posts as y does; junk's own n is no rule here. */
		rule = g->flag == '=' ? file : g;
		rc = check_post_rules(kind, r, name, rule, approved, why);
		if (rc < 0)
			break;
		if (rc > 0) {
			if (moderate->len == 0)
				buffer_puts(moderate, rule->name);
			continue;
		}
		if (g->flag == 'j')
			junk = file;
		else
			want_group(wanted, file->name);
	}
	if (why->len == 0 && wanted->count == 0 && junk != NULL)
		vector_add(wanted, junk->name);
	if (why->len == 0 && wanted->count == 0 && moderate->len == 0)
		buffer_puts(why, "Unwanted newsgroups (none carried here)");
	vector_free(&names);
	return why->len ? -1 : 0;
}

static void
copy_header(struct buffer *out, const struct article_header *h)
{
	/* Raw bytes from the name to the end of the (folded) value. */
	buffer_append(out, h->name, (size_t)(h->value + h->value_len - h->name));
	buffer_puts(out, "\r\n");
}

/* New header block for a post (RFC 5537 3.5): Path first, the poster's
 * fields, then what the injecting agent adds. */
static void
build_post_headers(struct writer *w, const struct article *a, const char *msgid, const char *host,
                   time_t now, const struct ctlmsg *ctl, const char *user, struct buffer *out)
{
	struct buffer v = BUFFER_INIT;

	buffer_printf(out, "Path: %s!.POSTED!", w->pathhost);
	if (article_value(a, "Path", &v) == 0 && v.len > 0)
		buffer_append(out, buffer_head(&v), v.len);
	else
		buffer_puts(out, "not-for-mail");
	buffer_puts(out, "\r\n");
	for (size_t i = 0; i < a->nheaders; i++)
		if (!(a->headers[i].name_len == 4 &&
		      strncasecmp(a->headers[i].name, "Path", 4) == 0) &&
		    !ctlmsg_rewritten(a->headers[i].name, a->headers[i].name_len))
			copy_header(out, &a->headers[i]);
	ctlmsg_post_headers(w->spool, ctl, a, msgid, user, out);
	if (article_find(a, "Message-ID") == NULL)
		buffer_printf(out, "Message-ID: %s\r\n", msgid);
	if (article_find(a, "Date") == NULL) {
		buffer_puts(out, "Date: ");
		article_format_date(now, out);
		buffer_puts(out, "\r\n");
	}
	buffer_puts(out, "Injection-Date: ");
	article_format_date(now, out);
	buffer_puts(out, "\r\n");
	buffer_printf(out, "Injection-Info: %s", w->pathhost);
	if (host != NULL && *host != '\0')
		buffer_printf(out, "; posting-host=\"%s\"", host);
	buffer_puts(out, "\r\n");
	buffer_free(&v);
}

/* A relayed article: our name prepended to Path, any Xref dropped. */
static void
build_feed_headers(struct writer *w, const struct article *a, struct buffer *out)
{
	for (size_t i = 0; i < a->nheaders; i++) {
		const struct article_header *h = &a->headers[i];

		if (h->name_len == 4 && strncasecmp(h->name, "Xref", 4) == 0)
			continue;
		if (h->name_len == 4 && strncasecmp(h->name, "Path", 4) == 0) {
			struct buffer v = BUFFER_INIT;

			article_unfold(h->value, h->value_len, &v);
			buffer_printf(out, "Path: %s!%s\r\n", w->pathhost, buffer_cstr(&v));
			buffer_free(&v);
			continue;
		}
		copy_header(out, h);
	}
}

/* Host names from the session go into a quoted header parameter. */
static int
valid_host(const char *h)
{
	for (; *h != '\0'; h++)
		if ((unsigned char)*h <= 32 || *h == '"' || *h == '\\' || (unsigned char)*h >= 127)
			return 0;
	return 1;
}

/* One article on its way through the checks into the spool. */
struct submission {
	enum submit_kind kind;
	enum article_kind ak;
	struct article a;
	struct buffer why;      /* the refusal, when there is one */
	struct buffer msgid;    /* the command's ID, then the article's */
	struct buffer xref;     /* where the spool filed it */
	struct buffer moderate; /* a post for this group's moderator: mailed, not filed */
	struct vector groups;
	struct ctlmsg ctl; /* its Control and Supersedes */
	time_t now;
	int remember;     /* feeds: a refused ID goes into history */
	unsigned refused; /* the refusal's series (nntpd/metrics.h) */
};

static void
submission_free(struct submission *s)
{
	article_free(&s->a);
	buffer_free(&s->why);
	buffer_free(&s->msgid);
	buffer_free(&s->xref);
	buffer_free(&s->moderate);
	vector_free(&s->groups);
	ctlmsg_free(&s->ctl);
}

static int
bare_cr(const char *text, size_t len)
{
	for (const char *p = text, *end = text + len;
	     (p = memchr(p, '\r', (size_t)(end - p))) != NULL; p++)
		if (p + 1 == end || p[1] != '\n')
			return 1;
	return 0;
}

/* Refusals that need no parsing. */
static int
check_octets(const struct writer *w, const char *text, size_t len, struct buffer *why,
             unsigned *refused)
{
	if (len > w->max_size) {
		buffer_printf(why, "Article too large (%zu octets, limit %zu)", len, w->max_size);
		*refused = M_NNTP_REFUSED_TOO_LARGE;
	} else if (memchr(text, '\0', len) != NULL) {
		buffer_puts(why, "Article contains a NUL octet");
		*refused = M_NNTP_REFUSED_MALFORMED;
	} else if (bare_cr(text, len)) {
		/* RFC 5536 2.2 / 5322 2.3: CR only as part of CRLF. A bare CR
		 * would be stored, then sent to readers and peers that split
		 * lines on it. */
		buffer_puts(why, "Article contains a bare CR (not followed by LF)");
		*refused = M_NNTP_REFUSED_MALFORMED;
	} else
		return 0;
	metrics_report(*refused, METRIC_ADD, 1);
	return -1;
}

/* The ID the article is filed under: its Message-ID header (on a feed it
 * must be the command's), else the given one when valid, else a new one. */
static int
settle_msgid(struct writer *w, struct submission *s)
{
	struct buffer v = BUFFER_INIT;

	if (article_find(&s->a, "Message-ID") == NULL) {
		if (s->msgid.len == 0 ||
		    !article_valid_msgid(buffer_head(&s->msgid), s->msgid.len, 1))
			article_recommend_msgid(w->pathhost, &s->msgid);
		buffer_cstr(&s->msgid);
		return 0;
	}
	article_value(&s->a, "Message-ID", &v);
	if (s->ak == ARTICLE_FEED && s->msgid.len > 0 &&
	    strcmp(buffer_cstr(&v), buffer_cstr(&s->msgid)) != 0) {
		buffer_puts(&s->why, "Message-ID header does not match the command's");
		buffer_free(&v);
		s->remember = 0;
		return -1;
	}
	buffer_clear(&s->msgid);
	buffer_append(&s->msgid, buffer_head(&v), v.len);
	buffer_free(&v);
	buffer_cstr(&s->msgid);
	return 0;
}

/* Refuse what we already have, and a relayed article that has already
 * been through us (our name in its Path). */
static int
check_not_seen(struct writer *w, struct submission *s)
{
	struct buffer path = BUFFER_INIT;

	/* The batch not yet committed counts: the same ID twice in one
	 * batch is stored once. */
	if (history_lookup(spool_history(w->spool), buffer_head(&s->msgid), NULL) != 0 ||
	    spool_pending_has(w->spool, buffer_head(&s->msgid))) {
		buffer_printf(&s->why, "Duplicate %s", buffer_head(&s->msgid));
		s->refused = M_NNTP_REFUSED_DUPLICATE;
		s->remember = 0;
		return -1;
	}
	if (s->ak != ARTICLE_FEED)
		return 0;
	article_value(&s->a, "Path", &path);
	if (article_path_has(buffer_cstr(&path), w->pathhost)) {
		buffer_printf(&s->why, "Path already holds %s (loop)", w->pathhost);
		s->refused = M_NNTP_REFUSED_LOOP;
	}
	buffer_free(&path);
	return s->why.len ? -1 : 0;
}

/* A fed article older than the cutoff stays out even when history has
 * forgotten it (INN's artcutoff). Its Date parses: article_validate
 * refused it otherwise, as innd does. */
static int
check_cutoff(struct writer *w, struct submission *s)
{
	struct buffer v = BUFFER_INIT;
	time_t date;

	if (s->ak != ARTICLE_FEED || w->limits.cutoff_days == 0)
		return 0;
	if (article_value(&s->a, "Date", &v) == 0 &&
	    article_parse_date(buffer_cstr(&v), &date) == 0 &&
	    date < s->now - (time_t)w->limits.cutoff_days * 86400) {
		buffer_printf(&s->why, "Too old (Date more than %lu days ago): %s",
		              w->limits.cutoff_days, buffer_cstr(&v));
		s->refused = M_NNTP_REFUSED_TOO_OLD;
	}
	buffer_free(&v);
	return s->why.len ? -1 : 0;
}

/* SECURITY: a peer feeds only what its peer= patterns (incoming.conf's,
 * with @ poison) allow: the monitor's rights say which, so a worker that
 * skips its own check gains nothing. Not remembered: another peer may be
 * allowed to send the article. -1 with the reason in s->why. */
static int
check_feed_groups(struct submission *s, const struct writer_rights *r)
{
	struct vector names = VECTOR_INIT;
	int ok = 1;

	if (s->kind == SUBMIT_POST || r->feed_groups == NULL || r->feed_groups[0] == '\0')
		return 0;
	article_newsgroups(&s->a, &names);
	ok = access_peer_groups_ok(r->feed_groups, &names, &s->why);
	vector_free(&names);
	if (!ok)
		s->remember = 0;
	return ok ? 0 : -1;
}

/* Every check, in order; -1 with the reason in s->why. */
static int
check_article(struct writer *w, struct submission *s, const struct writer_rights *r,
              const char *text, size_t len)
{
	if (check_octets(w, text, len, &s->why, &s->refused) < 0)
		return -1;
	s->refused = M_NNTP_REFUSED_MALFORMED;
	if (article_parse(&s->a, text, len, &s->why) < 0 ||
	    article_validate(&s->a, s->ak, s->now, &s->why) < 0 || settle_msgid(w, s) < 0)
		goto refused;
	if (check_not_seen(w, s) < 0 || check_cutoff(w, s) < 0 ||
	    ctlmsg_parse(&s->a, &s->ctl, &s->why) < 0)
		goto refused;
	s->refused = M_NNTP_REFUSED_GROUPS;
	if (check_feed_groups(s, r) < 0)
		goto refused;
	/* Control messages are filed in control.* whatever they name. */
	if (s->ctl.type != CTLMSG_NONE) {
		if (ctlmsg_groups(w->spool, &s->ctl, &s->groups, &s->why) < 0)
			goto refused;
		return 0;
	}
	if (check_groups(w, s->kind, r, &s->a, &s->groups, &s->moderate, &s->why) < 0)
		goto refused;
	return 0;
refused:
	metrics_report(s->refused, METRIC_ADD, 1);
	return -1;
}

/* A committed article, for the feeds: queued once it is in place. */
static void
committed(void *arg, const struct buffer *stored, const char *xref, const char *msgid, int relayed)
{
	struct writer *w = arg;
	struct buffer why = BUFFER_INIT;
	struct article a;

	if (w->feeds == NULL || w->feeds->count == 0)
		return;
	if (article_parse(&a, buffer_head(stored), stored->len, &why) == 0) {
		feed_enqueue(spool_dirfd(w->spool), w->feeds, xref, &a, relayed, msgid);
		article_free(&a);
	}
	buffer_free(&why);
}

/* Commit what is stored (writer.h); the batch's size and time observed. */
static int
commit(struct writer *w, int end)
{
	size_t n = spool_pending(w->spool);
	struct timespec t0, t1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = end ? spool_batch_end(w->spool, committed, w) : spool_commit(w->spool, committed, w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* One report per commit, not per article: each is a write to the
	 * listener and a wakeup of it (perf, TAKETHIS bench: the writer's
	 * pipe writes to the listener were 7.6% of its samples). */
	if (w->accepted > 0) {
		metrics_report(M_NNTP_ACCEPTED, METRIC_ADD, w->accepted);
		w->accepted = 0;
	}
	if (n > 0) {
		metrics_report(M_NNTP_BATCH_SIZE, METRIC_OBSERVE, n);
		metrics_report(M_NNTP_COMMIT_SECONDS, METRIC_OBSERVE,
		               (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000L +
		                          (t1.tv_nsec - t0.tv_nsec) / 1000));
	}
	return rc;
}

void
writer_batch_begin(struct writer *w)
{
	spool_batch_begin(w->spool);
}

size_t
writer_batch_pending(const struct writer *w)
{
	return spool_pending(w->spool);
}

int
writer_batch_end(struct writer *w)
{
	return commit(w, 1);
}

/* New headers, then the spool; -1 (errno set) on a storage error. In a
 * batch the article is only written: the batch's end makes it durable. */
static int
store_article(struct writer *w, struct submission *s, const struct writer_rights *r,
              const char *text, size_t len)
{
	struct buffer hdr = BUFFER_INIT;
	int rc, e;

	if (s->kind == SUBMIT_POST)
		build_post_headers(w, &s->a, buffer_head(&s->msgid), r->host, s->now, &s->ctl,
		                   r->user, &hdr);
	else
		build_feed_headers(w, &s->a, &hdr);
	rc = spool_store(w->spool, buffer_head(&hdr), hdr.len, text + s->a.body_off,
	                 len - s->a.body_off, &s->groups, buffer_head(&s->msgid),
	                 s->kind != SUBMIT_POST, &s->xref);
	e = errno;
	/* Outside a batch, and for a control message (it acts on the spool
	 * at once, on articles that must be in place), commit now. */
	if (rc == 0 &&
	    (!spool_batching(w->spool) || s->ctl.type != CTLMSG_NONE ||
	     spool_pending(w->spool) >= SPOOL_BATCH_MAX) &&
	    commit(w, 0) < 0) {
		rc = -1;
		e = EIO;
	}
	buffer_free(&hdr);
	errno = e;
	return rc;
}

/* An unapproved post to a moderated group goes to the moderator by mail,
 * as it would have been filed (our headers added): 240 once the mailer
 * command took it, else 441 saying why. Nothing is stored. */
static int
mail_moderator(struct writer *w, struct submission *s, const char *host, const char *text,
               size_t len, struct buffer *reply)
{
	const char *group = buffer_cstr(&s->moderate);
	struct buffer art = BUFFER_INIT, info = BUFFER_INIT;
	enum mailer_result res;

	build_post_headers(w, &s->a, buffer_head(&s->msgid), host, s->now, &s->ctl, NULL, &art);
	buffer_puts(&art, "\r\n");
	buffer_append(&art, text + s->a.body_off, len - s->a.body_off);
	res = mailer_send(&mailer_fd, group, buffer_head(&art), art.len, mailer_timeout, &info);
	buffer_free(&art);
	switch (res) {
	case MAILER_SENT:
		log_msg(LOG_INFO, "writer: %s for %s mailed to its moderator %s",
		        buffer_head(&s->msgid), group, buffer_cstr(&info));
		buffer_printf(reply, "Article %s sent to the moderator of %s",
		              buffer_head(&s->msgid), group);
		buffer_free(&info);
		return writer_codes[SUBMIT_POST].ok;
	case MAILER_NO_MODERATOR:
		buffer_printf(reply,
		              "Moderated group %s: no moderator is known for it, so the article "
		              "needs an Approved header",
		              group);
		break;
	default:
		buffer_printf(reply,
		              "Moderated group %s: the moderator could not be mailed (%s); try "
		              "again later",
		              group, buffer_cstr(&info));
		break;
	}
	log_msg(LOG_NOTICE, "writer: %s for %s not mailed: %s", buffer_head(&s->msgid), group,
	        buffer_cstr(reply));
	s->refused = M_NNTP_REFUSED_GROUPS;
	metrics_report(s->refused, METRIC_ADD, 1);
	buffer_free(&info);
	return writer_codes[SUBMIT_POST].refused;
}

static void
refuse_article(struct writer *w, struct submission *s, struct buffer *reply)
{
	buffer_append(reply, buffer_head(&s->why), s->why.len);
	/* Feeds: remember refused IDs so a peer does not offer them again. */
	if (s->remember && s->msgid.len > 0 &&
	    article_valid_msgid(buffer_head(&s->msgid), s->msgid.len, 0))
		history_add(spool_history(w->spool), buffer_cstr(&s->msgid), s->now, NULL);
}

/* The filter's word on an article that passed every other check. */
static enum filter_verdict
ask_filter(struct submission *s, const struct writer_rights *r, const char *text, size_t len)
{
	static const char *const kinds[] = {
	    [SUBMIT_POST] = "post", [SUBMIT_IHAVE] = "ihave", [SUBMIT_TAKETHIS] = "takethis"};
	enum filter_verdict v = filter_check(kinds[s->kind], buffer_cstr(&s->msgid), r->host, text,
	                                     s->a.body_off, len - s->a.body_off, &s->why);

	if (v == FILTER_REJECT) {
		s->refused = M_NNTP_REFUSED_FILTER;
		metrics_report(s->refused, METRIC_ADD, 1);
		log_msg(LOG_NOTICE, "writer: filter rejected %s from %s: %s",
		        buffer_head(&s->msgid), r->host ? r->host : "-", buffer_cstr(&s->why));
	}
	/* Not judged: the peer offers it again later, so not remembered. */
	if (v == FILTER_DOWN)
		s->remember = 0;
	return v;
}

static int
process_article(struct writer *w, enum submit_kind kind, const char *given_id,
                const struct writer_rights *r, const char *text, size_t len, struct buffer *reply)
{
	const struct writer_reply_codes *c = &writer_codes[kind];
	struct submission s = {.kind = kind,
	                       .ak = kind == SUBMIT_POST ? ARTICLE_POST : ARTICLE_FEED};
	enum filter_verdict fv = FILTER_ACCEPT;
	int code;

	s.now = time(NULL);
	s.remember = s.ak == ARTICLE_FEED;
	if (given_id != NULL && *given_id != '\0')
		buffer_puts(&s.msgid, given_id);
	if (check_article(w, &s, r, text, len) < 0) {
		code = c->refused;
		refuse_article(w, &s, reply);
	} else if ((fv = ask_filter(&s, r, text, len)) != FILTER_ACCEPT) {
		/* A rejection is final (remembered for a feed); a filter that
		 * could not answer under filter_failure=closed is "try later". */
		code = fv == FILTER_REJECT || kind == SUBMIT_POST ? c->refused : c->unavailable;
		refuse_article(w, &s, reply);
	} else if (s.moderate.len > 0) {
		code = mail_moderator(w, &s, r->host, text, len, reply);
	} else if (store_article(w, &s, r, text, len) < 0) {
		log_msg(LOG_ERR, "writer: storing %s: %m", buffer_head(&s.msgid));
		s.refused = M_NNTP_REFUSED_STORAGE;
		metrics_report(s.refused, METRIC_ADD, 1);
		code = kind == SUBMIT_POST ? c->refused : c->unavailable;
		buffer_puts(reply, "Posting failed: storage error, try again later");
	} else {
		code = c->ok;
		if (spool_batching(w->spool))
			w->accepted++; /* counted at the batch's end */
		else
			metrics_report(M_NNTP_ACCEPTED, METRIC_ADD, 1);
		ctlmsg_act(w->spool, &s.ctl, &s.a, buffer_head(&s.msgid), kind == SUBMIT_POST, r,
		           s.now);
		if (kind == SUBMIT_POST)
			buffer_printf(reply, "Article received %s", buffer_head(&s.msgid));
		else
			buffer_printf(reply, "%s", buffer_head(&s.msgid));
		log_msg(LOG_INFO, "writer: accepted %s %s", buffer_head(&s.msgid),
		        buffer_cstr(&s.xref));
	}
	report_article(spool_dirfd(w->spool), kind, code, s.refused, &s.a, r, buffer_cstr(&s.msgid),
	               buffer_cstr(&s.xref), buffer_cstr(reply), s.now);
	submission_free(&s);
	return code;
}

/* What the connection's rights allow, before the article is parsed:
 * -1 with the reason in why. */
static int
check_rights(enum submit_kind kind, const struct writer_rights *r, struct buffer *why)
{
	/* SECURITY: a reader's connection feeds nothing (a feed skips the
	 * posting rules and keeps its Path), and posts only with post rights. */
	if (kind == SUBMIT_POST && !r->may_post)
		buffer_puts(why, "Posting not permitted on this connection");
	else if (kind != SUBMIT_POST && !r->may_feed)
		buffer_puts(why, "Not a peer: feeding is not permitted on this connection");
	return why->len ? -1 : 0;
}

/* A post past its poster's rate and burst: -1 with the retry hint in why.
 * SECURITY: the poster is the one the monitor named in the connection's
 * rights (PAM user, else the client's address), never the session's or
 * the article's word, so a flooder cannot post under another name. */
static int
check_post_rate(struct writer *w, const struct writer_rights *r, struct buffer *why)
{
	struct buffer key = BUFFER_INIT;
	double wait = 0;

	if (r->user != NULL && r->user[0] != '\0')
		buffer_printf(&key, "user:%s", r->user);
	else if (r->host != NULL && r->host[0] != '\0')
		buffer_printf(&key, "addr:%s", r->host);
	if (key.len > 0)
		wait = ratelimit_take(&w->posts, buffer_cstr(&key), mono_seconds());
	if (wait > 0) {
		unsigned long secs = (unsigned long)wait + ((double)(unsigned long)wait < wait);

		buffer_printf(why,
		              "Posting rate exceeded (%lu a minute, burst %lu): try again in "
		              "%lu seconds",
		              w->limits.post_rate, w->limits.post_burst, secs ? secs : 1);
		metrics_report(M_NNTP_REFUSED_RATE, METRIC_ADD, 1);
		log_msg(LOG_NOTICE, "writer: post from %s refused: rate exceeded, retry in %lu s",
		        buffer_cstr(&key), secs ? secs : 1);
	}
	buffer_free(&key);
	return wait > 0 ? -1 : 0;
}

int
writer_process_as(struct writer *w, enum submit_kind kind, const char *msgid_or_null,
                  const struct writer_rights *r, const char *payload, size_t len,
                  struct buffer *reply)
{
	struct writer_rights safe = *r;

	buffer_clear(reply);
	if (kind == SUBMIT_CONTROL || kind == SUBMIT_RIGHTS) {
		buffer_puts(reply, "Not an article request");
		return writer_codes[kind].refused;
	}
	if (check_rights(kind, r, reply) < 0) {
		metrics_report(M_NNTP_REFUSED_RIGHTS, METRIC_ADD, 1);
		log_msg(LOG_NOTICE, "writer: refused %s from %s: %s",
		        msgid_or_null ? msgid_or_null : "-", r->host ? r->host : "-",
		        buffer_cstr(reply));
		return writer_codes[kind].refused;
	}
	/* Paused (nntpctl pause): nothing is stored, every kind gets its
	 * "try later" with the reason, and the submitter keeps the article. */
	if (control_paused() != NULL) {
		buffer_printf(reply, "%s: %s", kind == SUBMIT_POST ? "Posting paused" : "Paused",
		              control_paused());
		return writer_codes[kind].unavailable;
	}
	if (safe.host != NULL && !valid_host(safe.host))
		safe.host = NULL;
	if (safe.post_groups == NULL)
		safe.post_groups = "";
	if (kind == SUBMIT_POST && check_post_rate(w, &safe, reply) < 0)
		return writer_codes[kind].refused;
	return process_article(w, kind, msgid_or_null, &safe, payload, len, reply);
}

int
writer_process(struct writer *w, enum submit_kind kind, const char *msgid_or_null,
               const char *client_host, const char *payload, size_t len, struct buffer *reply)
{
	struct writer_rights all = {1, 1, "*", (char *)client_host, "", 1, ""};

	buffer_clear(reply);
	if (kind == SUBMIT_CONTROL)
		return control_run(w->spool, payload, len, reply);
	return writer_process_as(w, kind, msgid_or_null, &all, payload, len, reply);
}
