/* article: parse a news article in wire form (CRLF lines, not dot-stuffed)
 * and the syntax checks of RFC 5536/5537 that need nothing but the text. */
#ifndef POSTEL_ARTICLE_H
#define POSTEL_ARTICLE_H

#include <stddef.h>
#include <time.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"

#define ARTICLE_MAX_LINE 998    /* octets per header line, without CRLF */
#define ARTICLE_MAX_MSGID 250   /* RFC 5536 3.1.3 */
#define ARTICLE_DATE_FUZZ 86400 /* seconds a Date may lie in the future */

struct article_header {
	const char *name; /* points into the article text */
	size_t name_len;
	const char *value; /* raw value after "name:", folding included */
	size_t value_len;
};

struct article {
	const char *text; /* not owned */
	size_t len;
	struct article_header *headers;
	size_t nheaders, alloc;
	size_t body_off; /* offset of the first body byte */
};

enum article_kind {
	ARTICLE_POST, /* from a reader: we are the injecting agent */
	ARTICLE_FEED  /* IHAVE/TAKETHIS from a peer: we are a relaying agent */
};

/* Split text into header fields and body. 0, or -1 with a reason in why
 * (no header/body separator, a line without a colon, a line over 998). */
int article_parse(struct article *a, const char *text, size_t len, struct buffer *why);
void article_free(struct article *a);
/* The first header named name (case-insensitive), or NULL. */
const struct article_header *article_find(const struct article *a, const char *name);
/* Unfolded, trimmed value of the first header named name into out (cleared
 * first); 0, or -1 when absent. */
int article_value(const struct article *a, const char *name, struct buffer *out);
/* Unfold a raw header value: CR/LF dropped, TAB to space, ends trimmed. */
void article_unfold(const char *v, size_t len, struct buffer *out);

/* Every check of one kind of article that needs only its text: required,
 * duplicated and forbidden headers, From, Message-ID, Date, Newsgroups.
 * 0, or -1 with the reason (no reply code) in why. */
int article_validate(const struct article *a, enum article_kind kind, time_t now,
                     struct buffer *why);
/* Newsgroups header as a list of names; -1 when absent or malformed. */
int article_newsgroups(const struct article *a, struct vector *out);

/* strict: RFC 5536 syntax (for posts); otherwise INN's lax form (feeds). */
int article_valid_msgid(const char *s, size_t len, int strict);
/* A From value holding at least one addr-spec per mailbox. */
int article_valid_from(const char *v);
/* RFC 5322 date (obsolete forms too) into *out; 0 or -1. */
int article_parse_date(const char *s, time_t *out);
/* "Sun, 22 Nov 2026 06:52:46 +0000" appended to out. */
void article_format_date(time_t t, struct buffer *out);
/* Newsgroup name: UTF-8, no '/', whitespace, ',' or control characters,
 * no empty or '.'-leading component (so no "..") . */
int article_valid_group_name(const char *name);
/* A fresh unique Message-ID "<...@pathhost>" into buf (cleared first): the
 * one a 340 reply recommends and the writer assigns when none is given. */
void article_recommend_msgid(const char *pathhost, struct buffer *buf);
/* Does the Path value already name host as one of its elements? */
int article_path_has(const char *path, const char *host);

/* Append text to out in the stored form: CRLF line ends, lines starting
 * with '.' doubled, and a final CRLF when the text lacks one. */
void article_dot_stuff(const char *text, size_t len, struct buffer *out);

#endif
