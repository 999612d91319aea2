/* article-t: article parsing, the syntax checks, and every refusal of a
 * post or a fed article, through the writer's request handling. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/article.h"
#include "nntpd/store/spool.h"
#include "nntpd/writer/writer.h"
#include "tap.h"

#define HOST "news.example"

static struct spool *sp;
static struct writer *wr;
static struct buffer reply;

static int
post(enum submit_kind kind, const char *msgid, const char *text)
{
	return writer_process(wr, kind, msgid, "192.0.2.7", text, strlen(text), &reply);
}

/* Expect code and a reply containing want. */
static void
expect(int code, const char *want, enum submit_kind kind, const char *msgid, const char *text,
       const char *name)
{
	int got = post(kind, msgid, text);

	ok(got == code && strstr(buffer_cstr(&reply), want) != NULL, "%s (%d %s)", name, got,
	   buffer_cstr(&reply));
}

#define BASE "From: A User <user@example.com>\r\nSubject: test\r\n"

static void
test_parse(void)
{
	struct article a;
	struct buffer why = BUFFER_INIT, v = BUFFER_INIT;
	const char *t =
	    "From: x@y.z\r\nSubject: hello\r\n  world\r\nNewsgroups: a.b\r\n\r\nbody\r\n";
	char *longline;

	ok(article_parse(&a, t, strlen(t), &why) == 0, "parse a simple article");
	is_int(3, (long long)a.nheaders, "three headers");
	article_value(&a, "subject", &v);
	is_string("hello  world", buffer_cstr(&v),
	          "folded value is unfolded (CRLF dropped), name case-insensitive");
	is_string("body\r\n", a.text + a.body_off, "body starts after the blank line");
	article_free(&a);
	buffer_clear(&why);
	ok(article_parse(&a, "From: x\r\nSubject: y\r\n", 20, &why) < 0 &&
	       strstr(buffer_cstr(&why), "separator"),
	   "no blank line: refused (%s)", buffer_cstr(&why));
	article_free(&a);
	buffer_clear(&why);
	t = "From: x@y.z\r\nthis is not a header\r\n\r\nbody\r\n";
	ok(article_parse(&a, t, strlen(t), &why) < 0 && strstr(buffer_cstr(&why), "colon"),
	   "header line without colon: refused");
	article_free(&a);
	buffer_clear(&why);
	t = "  continued\r\nFrom: x@y.z\r\n\r\n";
	ok(article_parse(&a, t, strlen(t), &why) < 0, "continuation before first header: refused");
	article_free(&a);
	longline = xmalloc(1200);
	strcpy(longline, "X-Long: ");
	memset(longline + 8, 'x', 991);
	strcpy(longline + 999, "\r\n\r\nbody\r\n");
	buffer_clear(&why);
	ok(article_parse(&a, longline, strlen(longline), &why) < 0 &&
	       strstr(buffer_cstr(&why), "998"),
	   "999-octet header line: refused");
	article_free(&a);
	longline[998] = '\r';
	strcpy(longline + 998, "\r\n\r\nbody\r\n");
	buffer_clear(&why);
	ok(article_parse(&a, longline, strlen(longline), &why) == 0, "998-octet header line: ok");
	article_free(&a);
	free(longline);
	buffer_free(&why);
	buffer_free(&v);
}

static void
test_syntax(void)
{
	time_t t;
	struct buffer b = BUFFER_INIT, b2 = BUFFER_INIT;

	ok(article_valid_msgid("<abc@example.com>", 17, 1), "msgid: simple");
	ok(article_valid_msgid("<a.b$c@[127.0.0.1]>", 19, 1), "msgid: domain literal");
	ok(!article_valid_msgid("<abc>", 5, 1), "msgid: no @");
	ok(!article_valid_msgid("abc@example.com", 15, 1), "msgid: no brackets");
	ok(!article_valid_msgid("<a b@example.com>", 17, 1), "msgid: space");
	ok(!article_valid_msgid("<a..b@example.com>", 18, 1), "msgid: double dot (strict)");
	ok(article_valid_msgid("<a..b@example.com>", 18, 0), "msgid: double dot (lax, feeds)");
	ok(!article_valid_msgid("<@example.com>", 14, 0), "msgid: empty left");
	ok(article_valid_from("user@example.com"), "from: bare addr-spec");
	ok(article_valid_from("A User <user@example.com>"), "from: name-addr");
	ok(article_valid_from("user@example.com (A User)"), "from: with comment");
	ok(article_valid_from("\"A, User\" <u@example.com>, b@example.org"), "from: list");
	ok(!article_valid_from("A User"), "from: no address");
	ok(!article_valid_from("<user>"), "from: no domain");
	ok(!article_valid_from("user@"), "from: empty domain");
	ok(!article_valid_from("A <user@example.com"), "from: unclosed <");
	ok(article_parse_date("Sun, 22 Nov 2026 06:52:46 +0000", &t) == 0 && t == 1795330366,
	   "date: RFC 5322");
	ok(article_parse_date("22 Nov 2026 07:52:46 +0100", &t) == 0 && t == 1795330366,
	   "date: no weekday, offset");
	ok(article_parse_date("Sun, 22 Nov 26 06:52:46 GMT", &t) == 0 && t == 1795330366,
	   "date: two-digit year, GMT");
	ok(article_parse_date("Sun, 22 Nov 2026 01:52:46 EST (comment)", &t) == 0 &&
	       t == 1795330366,
	   "date: obsolete zone and comment");
	ok(article_parse_date("22 Nov 2026 06:52 +0000", &t) == 0, "date: no seconds");
	ok(article_parse_date("yesterday", &t) < 0, "date: garbage");
	ok(article_parse_date("32 Nov 2026 06:52:46 +0000", &t) < 0, "date: day 32");
	ok(article_parse_date("22 Nov 2026 06:52:46 +0000 junk", &t) < 0, "date: trailing junk");
	article_format_date(1795330366, &b);
	is_string("Sun, 22 Nov 2026 06:52:46 +0000", buffer_cstr(&b), "date: formatted");
	ok(article_valid_group_name("comp.lang.c"), "group: comp.lang.c");
	ok(article_valid_group_name("de.alt.gr\xc3\xbc"
	                            "n"),
	   "group: UTF-8");
	ok(!article_valid_group_name("a/b"), "group: slash");
	ok(!article_valid_group_name(".."), "group: ..");
	ok(!article_valid_group_name("a..b"), "group: empty component");
	ok(!article_valid_group_name(".a"), "group: leading dot");
	ok(!article_valid_group_name("a."), "group: trailing dot");
	ok(!article_valid_group_name("a b"), "group: space");
	ok(!article_valid_group_name("a\tb"), "group: tab");
	ok(!article_valid_group_name(""), "group: empty");
	ok(!article_valid_group_name("a\xff"), "group: invalid UTF-8");
	ok(!article_valid_group_name("a,b"), "group: comma");
	article_recommend_msgid(HOST, &b);
	article_recommend_msgid(HOST, &b2);
	ok(article_valid_msgid(buffer_head(&b), b.len, 1) &&
	       strcmp(buffer_cstr(&b), buffer_cstr(&b2)),
	   "recommended msgids are valid and distinct (%s)", buffer_cstr(&b));
	ok(strstr(buffer_cstr(&b), "@" HOST ">") != NULL, "recommended msgid names pathhost");
	buffer_clear(&b);
	article_dot_stuff(".a\r\nb\r\n..c\nd", 12, &b);
	is_string("..a\r\nb\r\n...c\r\nd\r\n", buffer_cstr(&b), "dot-stuffing, CRLF, final CRLF");
	ok(article_path_has("a!news.example!b", HOST) && !article_path_has("a!xnews.example", HOST),
	   "path element match");
	buffer_free(&b);
	buffer_free(&b2);
}

static char *
stored_text(const char *group, int number)
{
	struct spool_article art;
	char *t;

	if (spool_open_article(spool_dirfd(sp), group, (uint64_t)number, &art) < 0)
		return xstrdup("");
	t = xcalloc(1, art.size + 1);
	if (pread(art.fd, t, art.size, 0) < 0)
		t[0] = '\0';
	close(art.fd);
	return t;
}

static void
test_post(void)
{
	char *t, *big, date[64];
	struct buffer b = BUFFER_INIT;
	struct history_entry he;

	expect(240, "Article received <", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\n\r\nhello\r\n", "post accepted");
	t = stored_text("comp.test", 1);
	ok(strncmp(t, "Path: " HOST "!.POSTED!not-for-mail\r\n", 41) == 0, "Path added first");
	ok(strstr(t, "\r\nMessage-ID: <") && strstr(t, "@" HOST ">\r\n"), "Message-ID added");
	ok(strstr(t, "\r\nDate: ") != NULL, "Date added");
	ok(strstr(t, "\r\nInjection-Date: ") != NULL, "Injection-Date added");
	ok(strstr(t, "\r\nInjection-Info: " HOST "; posting-host=\"192.0.2.7\"\r\n") != NULL,
	   "Injection-Info names the posting host");
	ok(strstr(t, "\r\nXref: " HOST " comp.test:1\r\n\r\nhello\r\n") != NULL, "Xref added");
	free(t);
	expect(240, "received", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nPath: poster!not-for-mail\r\n\r\nx\r\n",
	       "post with Path accepted");
	t = stored_text("comp.test", 2);
	ok(strncmp(t, "Path: " HOST "!.POSTED!poster!not-for-mail\r\n", 47) == 0,
	   "poster's Path is kept behind ours");
	free(t);
	expect(240, "<rec.1@" HOST ">", SUBMIT_POST, "<rec.1@" HOST ">",
	       BASE "Newsgroups: comp.test\r\n\r\nx\r\n", "recommended Message-ID used");
	ok(history_lookup(spool_history(sp), "<rec.1@" HOST ">", &he) == 1 && he.location &&
	       strcmp(he.location, "comp.test:3") == 0,
	   "history knows it");
	history_entry_free(&he);
	expect(441, "Duplicate", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nMessage-ID: <rec.1@" HOST ">\r\n\r\nx\r\n",
	       "duplicate Message-ID refused");
	expect(441, "Duplicate", SUBMIT_POST, "<rec.1@" HOST ">",
	       BASE "Newsgroups: comp.test\r\n\r\nx\r\n", "reused recommended ID refused");
	expect(441, "Missing From", SUBMIT_POST, NULL,
	       "Subject: s\r\nNewsgroups: comp.test\r\n\r\nx\r\n", "missing From");
	expect(441, "Missing Subject", SUBMIT_POST, NULL,
	       "From: u@example.com\r\nNewsgroups: comp.test\r\n\r\nx\r\n", "missing Subject");
	expect(441, "Missing Newsgroups", SUBMIT_POST, NULL, BASE "\r\nx\r\n",
	       "missing Newsgroups");
	expect(441, "Empty Subject", SUBMIT_POST, NULL,
	       "From: u@example.com\r\nSubject:  \r\nNewsgroups: comp.test\r\n\r\nx\r\n",
	       "empty Subject");
	expect(441, "Duplicate Subject", SUBMIT_POST, NULL,
	       BASE "Subject: again\r\nNewsgroups: comp.test\r\n\r\nx\r\n", "duplicated Subject");
	expect(441, "Duplicate From", SUBMIT_POST, NULL,
	       BASE "From: b@example.com\r\nNewsgroups: comp.test\r\n\r\nx\r\n", "duplicated From");
	expect(441, "Duplicate Newsgroups", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nNewsgroups: comp.test\r\n\r\nx\r\n",
	       "duplicated Newsgroups");
	expect(441, "Duplicate Message-ID", SUBMIT_POST, NULL,
	       BASE
	       "Newsgroups: comp.test\r\nMessage-ID: <d1@x.y>\r\nMessage-ID: <d2@x.y>\r\n\r\nx\r\n",
	       "duplicated Message-ID");
	expect(441, "Duplicate Date", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nDate: 22 Nov 2020 00:00 +0000\r\n"
	            "Date: 22 Nov 2020 00:00 +0000\r\n\r\nx\r\n",
	       "duplicated Date");
	expect(441, "From header", SUBMIT_POST, NULL,
	       "From: Just A Name\r\nSubject: s\r\nNewsgroups: comp.test\r\n\r\nx\r\n", "bad From");
	expect(441, "Bad Message-ID", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nMessage-ID: <no-at-sign>\r\n\r\nx\r\n",
	       "bad Message-ID");
	buffer_puts(&b, BASE "Newsgroups: comp.test\r\nDate: ");
	article_format_date(time(NULL) + 2 * 86400, &b);
	buffer_puts(&b, "\r\n\r\nx\r\n");
	expect(441, "future", SUBMIT_POST, NULL, buffer_cstr(&b), "Date two days ahead");
	buffer_clear(&b);
	buffer_puts(&b, BASE "Newsgroups: comp.test\r\nDate: ");
	article_format_date(time(NULL) + 3600, &b);
	buffer_puts(&b, "\r\n\r\nx\r\n");
	expect(240, "received", SUBMIT_POST, NULL, buffer_cstr(&b), "Date an hour ahead is fine");
	expect(441, "parse Date", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nDate: the other day\r\n\r\nx\r\n",
	       "unparseable Date");
	expect(441, "Unknown newsgroup no.such", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test,no.such\r\n\r\nx\r\n", "unknown group");
	expect(441, "Bad Newsgroups", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test,,x\r\n\r\nx\r\n", "malformed Newsgroups");
	expect(441, "Posting to ro.test is not allowed", SUBMIT_POST, NULL,
	       BASE "Newsgroups: ro.test\r\n\r\nx\r\n", "no-posting group");
	/* for the moderator: here no mailer runs, so the writer says so */
	expect(441,
	       "Moderated group mod.test: the moderator could not be mailed (the mailer is not "
	       "running)",
	       SUBMIT_POST, NULL, BASE "Newsgroups: mod.test\r\n\r\nx\r\n",
	       "moderated group without Approved");
	expect(240, "received", SUBMIT_POST, NULL,
	       BASE "Newsgroups: mod.test\r\nApproved: mod@example.com\r\n\r\nx\r\n",
	       "moderated group with Approved");
	expect(441, "Can't have Xref", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nXref: x comp.test:9\r\n\r\nx\r\n", "poster Xref");
	expect(441, "Can't have Injection-Info", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nInjection-Info: x\r\n\r\nx\r\n",
	       "poster Injection-Info");
	expect(441, "Can't have NNTP-Posting-Host", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nNNTP-Posting-Host: x\r\n\r\nx\r\n",
	       "poster NNTP-Posting-Host");
	expect(441, "separator", SUBMIT_POST, NULL, BASE "Newsgroups: comp.test\r\n",
	       "no header/body separator");
	expect(441, "colon", SUBMIT_POST, NULL,
	       BASE "Newsgroups: comp.test\r\nbody text\r\n\r\nx\r\n",
	       "header line without a colon");
	big = xmalloc(2100);
	strcpy(big, BASE "Newsgroups: comp.test\r\nX-Big: ");
	memset(big + strlen(big), 'y', 1000);
	strcpy(big + strlen(BASE "Newsgroups: comp.test\r\nX-Big: ") + 1000, "\r\n\r\nx\r\n");
	expect(441, "998", SUBMIT_POST, NULL, big, "header line over 998 octets");
	free(big);
	snprintf(date, sizeof(date), "%s", "");
	(void)date;
	buffer_free(&b);
}

static void
test_size(void)
{
	struct writer_conf wc = {HOST, 200, {0, 0, 0}};
	struct writer *small = writer_new(sp, &wc);
	char body[400];
	struct buffer text = BUFFER_INIT;
	int code;

	memset(body, 'z', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	buffer_printf(&text, BASE "Newsgroups: comp.test\r\n\r\n%s\r\n", body);
	code = writer_process(small, SUBMIT_POST, NULL, NULL, buffer_head(&text), text.len, &reply);
	ok(code == 441 && strstr(buffer_cstr(&reply), "too large"),
	   "article over max size refused");
	writer_free(small);
	buffer_free(&text);
}

#define FEED                                                                                       \
	"Path: peer.example!origin\r\nFrom: u@example.com\r\nSubject: s\r\n"                       \
	"Date: 22 Nov 2020 00:00:00 +0000\r\n"

static void
test_feed(void)
{
	struct history_entry he;
	char *t;

	expect(235, "<f1@peer>", SUBMIT_IHAVE, "<f1@peer>",
	       FEED "Newsgroups: comp.test,no.such\r\nMessage-ID: <f1@peer>\r\n"
	            "Xref: peer.example comp.test:77\r\n\r\nfed\r\n",
	       "IHAVE accepted, unknown groups skipped");
	ok(history_lookup(spool_history(sp), "<f1@peer>", &he) == 1 && he.location != NULL,
	   "fed article is in history");
	t = he.location ? stored_text("comp.test", atoi(strchr(he.location, ':') + 1))
	                : xstrdup("");
	history_entry_free(&he);
	ok(strncmp(t, "Path: " HOST "!peer.example!origin\r\n", 35) == 0,
	   "our name prepended to Path");
	ok(strstr(t, "Xref: peer.example") == NULL && strstr(t, "\r\nXref: " HOST " comp.test:"),
	   "peer's Xref replaced by ours");
	free(t);
	expect(437, "Duplicate", SUBMIT_IHAVE, "<f1@peer>",
	       FEED "Newsgroups: comp.test\r\nMessage-ID: <f1@peer>\r\n\r\nfed\r\n",
	       "IHAVE duplicate");
	expect(437, "Missing Path", SUBMIT_IHAVE, "<f2@peer>",
	       "From: u@example.com\r\nSubject: s\r\nDate: 22 Nov 2020 00:00 +0000\r\n"
	       "Newsgroups: comp.test\r\nMessage-ID: <f2@peer>\r\n\r\nx\r\n",
	       "IHAVE without Path");
	expect(437, "Missing Date", SUBMIT_IHAVE, "<f3@peer>",
	       "Path: p\r\nFrom: u@example.com\r\nSubject: s\r\n"
	       "Newsgroups: comp.test\r\nMessage-ID: <f3@peer>\r\n\r\nx\r\n",
	       "IHAVE without Date");
	expect(437, "Missing Message-ID", SUBMIT_IHAVE, NULL,
	       FEED "Newsgroups: comp.test\r\n\r\nx\r\n", "IHAVE without Message-ID");
	expect(437, "loop", SUBMIT_IHAVE, "<f4@peer>",
	       "Path: peer!" HOST "!origin\r\nFrom: u@example.com\r\nSubject: s\r\n"
	       "Date: 22 Nov 2020 00:00 +0000\r\nNewsgroups: comp.test\r\n"
	       "Message-ID: <f4@peer>\r\n\r\nx\r\n",
	       "IHAVE with our name in Path");
	ok(history_lookup(spool_history(sp), "<f4@peer>", &he) == 1 && he.location == NULL,
	   "refused ID is remembered without location");
	history_entry_free(&he);
	expect(437, "Duplicate", SUBMIT_IHAVE, "<f4@peer>",
	       FEED "Newsgroups: comp.test\r\nMessage-ID: <f4@peer>\r\n\r\nx\r\n",
	       "remembered ID refused when offered again");
	expect(439, "Unwanted", SUBMIT_TAKETHIS, "<f5@peer>",
	       FEED "Newsgroups: no.such\r\nMessage-ID: <f5@peer>\r\n\r\nx\r\n",
	       "TAKETHIS to unknown groups only");
	expect(439, "does not match", SUBMIT_TAKETHIS, "<f6@peer>",
	       FEED "Newsgroups: comp.test\r\nMessage-ID: <other@peer>\r\n\r\nx\r\n",
	       "TAKETHIS Message-ID mismatch");
	expect(239, "<f7@peer>", SUBMIT_TAKETHIS, "<f7@peer>",
	       FEED "Newsgroups: comp.test\r\nMessage-ID: <f7@peer>\r\n\r\nx\r\n",
	       "TAKETHIS accepted");
	expect(439, "Moderated", SUBMIT_TAKETHIS, "<f8@peer>",
	       FEED "Newsgroups: mod.test\r\nMessage-ID: <f8@peer>\r\n\r\nx\r\n",
	       "TAKETHIS to a moderated group without Approved");
}

/* A fed article dated days ago, as IHAVE or TAKETHIS. */
static int
feed_dated(struct writer *w, enum submit_kind kind, const char *id, long days)
{
	struct buffer text = BUFFER_INIT;
	int code;

	buffer_puts(&text, "Path: peer.example!origin\r\nFrom: u@example.com\r\nSubject: s\r\n"
	                   "Newsgroups: comp.test\r\nDate: ");
	article_format_date(time(NULL) - days * 86400, &text);
	buffer_printf(&text, "\r\nMessage-ID: %s\r\n\r\nx\r\n", id);
	code = writer_process(w, kind, id, NULL, buffer_head(&text), text.len, &reply);
	buffer_free(&text);
	return code;
}

static void
test_cutoff(void)
{
	struct writer_conf wc = {HOST, 0, {0, 0, 10}};
	struct writer *w = writer_new(sp, &wc);
	struct history_entry he;

	is_int(437, feed_dated(w, SUBMIT_IHAVE, "<old1@peer>", 11), "IHAVE dated 11 days ago: 437");
	ok(strstr(buffer_cstr(&reply), "Too old") != NULL, "with the reason (%s)",
	   buffer_cstr(&reply));
	ok(history_lookup(spool_history(sp), "<old1@peer>", &he) == 1 && he.location == NULL,
	   "too old: remembered, not stored");
	history_entry_free(&he);
	is_int(439, feed_dated(w, SUBMIT_TAKETHIS, "<old2@peer>", 30), "TAKETHIS 30 days: 439");
	is_int(235, feed_dated(w, SUBMIT_IHAVE, "<new1@peer>", 9), "IHAVE dated 9 days ago: 235");
	is_int(235, feed_dated(wr, SUBMIT_IHAVE, "<old3@peer>", 3000), "cutoff 0: any age is 235");
	writer_free(w);
}

/* POSTs as user (NULL: none) from host. */
static int
post_as(struct writer *w, const char *user, const char *host)
{
	struct writer_rights r = {1, 0, "*", (char *)host, (char *)(user ? user : ""), 0, ""};
	const char *t = BASE "Newsgroups: comp.test\r\n\r\nrate\r\n";

	return writer_process_as(w, SUBMIT_POST, NULL, &r, t, strlen(t), &reply);
}

static void
test_rate(void)
{
	struct writer_conf wc = {HOST, 0, {1, 2, 0}};
	struct writer *w = writer_new(sp, &wc);
	struct writer_settings ws = {VECTOR_INIT, VECTOR_INIT, 10, 0, {0, 10, 0}, 5, 0};

	ok(post_as(w, "alice", "192.0.2.1") == 240 && post_as(w, "alice", "192.0.2.2") == 240,
	   "a user's burst of 2, from two addresses");
	is_int(441, post_as(w, "alice", "192.0.2.3"), "the third within the minute: 441");
	ok(strstr(buffer_cstr(&reply), "try again in 60 seconds") != NULL, "with the wait (%s)",
	   buffer_cstr(&reply));
	is_int(240, post_as(w, "bob", "192.0.2.1"), "another user from the same address: 240");
	ok(post_as(w, NULL, "192.0.2.1") == 240 && post_as(w, NULL, "192.0.2.1") == 240 &&
	       post_as(w, NULL, "192.0.2.1") == 441,
	   "without a login, the address is the poster: 2, then 441");
	is_int(240, post_as(w, NULL, "192.0.2.9"), "another address: 240");
	writer_reconfigure(w, &ws);
	is_int(240, post_as(w, "alice", "192.0.2.3"), "reloaded with post_rate 0: no limit");
	writer_free(w);
}

int
main(void)
{
	char dir[] = "/tmp/article-t.XXXXXX";
	struct writer_conf wc = {HOST, 0, {0, 0, 0}};
	struct buffer why = BUFFER_INIT;
	char *cmd;

	test_parse();
	test_syntax();
	if (mkdtemp(dir) == NULL)
		return 1;
	sp = spool_open(dir, HOST, 1);
	ok(sp != NULL, "spool opened in %s", dir);
	if (sp == NULL)
		return tap_done();
	ok(spool_newgroup(sp, "comp.test", "y", "tests", "t", &why) == 0 &&
	       spool_newgroup(sp, "mod.test", "m", "", "t", &why) == 0 &&
	       spool_newgroup(sp, "ro.test", "n", "", "t", &why) == 0,
	   "groups created");
	wr = writer_new(sp, &wc);
	test_post();
	test_size();
	test_feed();
	test_cutoff();
	test_rate();
	writer_free(wr);
	spool_close(sp);
	cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	free(cmd);
	buffer_free(&why);
	buffer_free(&reply);
	return tap_done();
}
