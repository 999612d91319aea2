/* policy: what the writer accepts and how it stores it: validation for
 * posts and feeds (RFC 5537 injection and relaying, as INN's nnrpd and innd
 * do it), the headers it adds, filing and queueing for feeds. */
#include "nntpd/writer/writer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/core/log.h"
#include "common/core/vector.h"
#include "common/core/xmalloc.h"
#include "nntpd/feed/feed.h"
#include "nntpd/store/article.h"
#include "nntpd/writer/control.h"

struct writer {
	struct spool *spool;
	char *pathhost;
	size_t max_size;
	const struct vector *feeds;
};

static const struct vector *feed_lines;

void
writer_set_feeds(const struct vector *feeds)
{
	feed_lines = feeds;
}

struct writer *
writer_new(struct spool *s, const struct writer_conf *conf)
{
	struct writer *w = xcalloc(1, sizeof(*w));

	w->spool = s;
	w->pathhost = xstrdup(conf->pathhost);
	w->max_size = conf->max_article_size ? conf->max_article_size : WRITER_DEFAULT_MAX_ARTICLE;
	w->feeds = feed_lines;
	return w;
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
	free(w->pathhost);
	free(w);
}

/* Check the groups an article names; refuse (-1, why) or fill wanted with
 * the groups to file it in. Posts need every group known and open to
 * posting; feeds keep the known ones (innd files what it carries). */
static int
check_groups(struct writer *w, enum submit_kind kind, const struct article *a,
             struct vector *wanted, struct buffer *why)
{
	struct vector names = VECTOR_INIT;
	int approved = article_find(a, "Approved") != NULL;

	vector_clear(wanted);
	article_newsgroups(a, &names);
	for (size_t i = 0; i < names.count; i++) {
		const char *name = names.strings[i];
		struct group *g = active_find(spool_active(w->spool), name);

		if (g == NULL) {
			if (kind == SUBMIT_POST) {
				buffer_printf(why, "Unknown newsgroup %s", name);
				break;
			}
			continue;
		}
		if (g->flag == 'n' && kind == SUBMIT_POST) {
			buffer_printf(why, "Posting to %s is not allowed", name);
			break;
		}
		if (g->flag == 'm' && !approved) {
			buffer_printf(why, "Moderated group %s: article needs an Approved header",
			              name);
			break;
		}
		vector_add(wanted, name);
	}
	if (why->len == 0 && wanted->count == 0)
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
                   time_t now, struct buffer *out)
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
		      strncasecmp(a->headers[i].name, "Path", 4) == 0))
			copy_header(out, &a->headers[i]);
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

static int
process_article(struct writer *w, enum submit_kind kind, const char *given_id, const char *host,
                const char *text, size_t len, struct buffer *reply)
{
	const struct writer_reply_codes *c = &writer_codes[kind];
	enum article_kind ak = kind == SUBMIT_POST ? ARTICLE_POST : ARTICLE_FEED;
	struct article a = {0};
	struct buffer why = BUFFER_INIT, msgid = BUFFER_INIT, hdr = BUFFER_INIT, xref = BUFFER_INIT;
	struct vector groups = VECTOR_INIT;
	time_t now = time(NULL);
	int code = c->refused, remember = ak == ARTICLE_FEED;

	if (given_id != NULL && *given_id != '\0')
		buffer_puts(&msgid, given_id);
	if (len > w->max_size) {
		buffer_printf(&why, "Article too large (%zu octets, limit %zu)", len, w->max_size);
		goto refuse;
	}
	if (memchr(text, '\0', len) != NULL) {
		buffer_puts(&why, "Article contains a NUL octet");
		goto refuse;
	}
	if (article_parse(&a, text, len, &why) < 0 || article_validate(&a, ak, now, &why) < 0)
		goto refuse;
	if (article_find(&a, "Message-ID") != NULL) {
		struct buffer v = BUFFER_INIT;

		article_value(&a, "Message-ID", &v);
		if (ak == ARTICLE_FEED && msgid.len > 0 &&
		    strcmp(buffer_cstr(&v), buffer_cstr(&msgid)) != 0) {
			buffer_puts(&why, "Message-ID header does not match the command's");
			buffer_free(&v);
			remember = 0;
			goto refuse;
		}
		buffer_clear(&msgid);
		buffer_append(&msgid, buffer_head(&v), v.len);
		buffer_free(&v);
	} else if (msgid.len == 0 || !article_valid_msgid(buffer_head(&msgid), msgid.len, 1)) {
		article_recommend_msgid(w->pathhost, &msgid);
	}
	buffer_cstr(&msgid);
	if (history_lookup(spool_history(w->spool), buffer_head(&msgid), NULL) != 0) {
		buffer_printf(&why, "Duplicate %s", buffer_head(&msgid));
		remember = 0;
		goto refuse;
	}
	if (ak == ARTICLE_FEED) {
		struct buffer path = BUFFER_INIT;

		article_value(&a, "Path", &path);
		if (article_path_has(buffer_cstr(&path), w->pathhost))
			buffer_printf(&why, "Path already holds %s (loop)", w->pathhost);
		buffer_free(&path);
		if (why.len)
			goto refuse;
	}
	if (check_groups(w, kind, &a, &groups, &why) < 0)
		goto refuse;
	if (kind == SUBMIT_POST)
		build_post_headers(w, &a, buffer_head(&msgid), host, now, &hdr);
	else
		build_feed_headers(w, &a, &hdr);
	if (spool_store(w->spool, buffer_head(&hdr), hdr.len, text + a.body_off, len - a.body_off,
	                &groups, buffer_head(&msgid), &xref) < 0) {
		log_msg(LOG_ERR, "writer: storing %s: %m", buffer_head(&msgid));
		code = kind == SUBMIT_POST ? c->refused : c->unavailable;
		buffer_puts(reply, "Posting failed: storage error, try again later");
		remember = 0;
		goto out;
	}
	code = c->ok;
	if (w->feeds != NULL && w->feeds->count > 0) {
		struct buffer path = BUFFER_INIT;

		/* A post's Path before injection names no peer. */
		if (kind != SUBMIT_POST)
			article_value(&a, "Path", &path);
		feed_enqueue(spool_dirfd(w->spool), w->feeds, buffer_cstr(&xref),
		             kind != SUBMIT_POST ? buffer_cstr(&path) : NULL, &groups,
		             buffer_head(&msgid));
		buffer_free(&path);
	}
	if (kind == SUBMIT_POST)
		buffer_printf(reply, "Article received %s", buffer_head(&msgid));
	else
		buffer_printf(reply, "%s", buffer_head(&msgid));
	log_msg(LOG_INFO, "writer: accepted %s %s", buffer_head(&msgid), buffer_cstr(&xref));
	goto out;
refuse:
	buffer_append(reply, buffer_head(&why), why.len);
	/* Feeds: remember refused IDs so a peer does not offer them again. */
	if (remember && msgid.len > 0 && article_valid_msgid(buffer_head(&msgid), msgid.len, 0))
		history_add(spool_history(w->spool), buffer_cstr(&msgid), now, NULL);
out:
	article_free(&a);
	buffer_free(&why);
	buffer_free(&msgid);
	buffer_free(&hdr);
	buffer_free(&xref);
	vector_free(&groups);
	return code;
}

int
writer_process(struct writer *w, enum submit_kind kind, const char *msgid_or_null,
               const char *client_host, const char *payload, size_t len, struct buffer *reply)
{
	buffer_clear(reply);
	if (kind == SUBMIT_CONTROL)
		return control_run(w->spool, payload, len, reply);
	if (client_host != NULL && !valid_host(client_host))
		client_host = NULL;
	return process_article(w, kind, msgid_or_null, client_host, payload, len, reply);
}
