/* wproto-t: the writer's request frames: encode then parse round trips,
 * and every malformed frame a session could send refused; the same for the
 * rights frame a monitor sends, and the listener's messages to its writer
 * (a reloaded configuration, a refused one). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nntpd/store/storeformat.h"
#include "nntpd/writer/chan.h"
#include "nntpd/writer/proto.h"
#include "tap.h"

static uint32_t kind;
static char *msgid, *host;
static const char *payload;
static size_t plen;

/* Parse a whole frame (length word included), checking the length word as
 * the writer does; frees the names of a successful parse after use. */
static int
parse(const struct buffer *b)
{
	const unsigned char *p = (const unsigned char *)buffer_head(b);

	msgid = host = NULL;
	payload = NULL;
	plen = 0;
	if (b->len < 4 || store_get32(p) != b->len - 4)
		return -2;
	return wproto_parse_request(p + 4, b->len - 4, &kind, &msgid, &host, &payload, &plen);
}

static void
done(void)
{
	free(msgid);
	free(host);
	msgid = host = NULL;
}

static void
frame(struct buffer *b, enum submit_kind k, const char *id, const char *h, const char *a, size_t n)
{
	buffer_clear(b);
	wproto_encode_request(b, k, id, h, a, n);
}

/* A hand-made body: kind, then three fields with free length words. */
static size_t
body(unsigned char *out, uint32_t k, uint32_t idlen, const char *id, size_t idn, uint32_t hlen,
     const char *h, size_t hn, uint32_t alen, const char *a, size_t an)
{
	size_t off = 0;

	store_put32(out + off, k);
	off += 4;
	store_put32(out + off, idlen);
	memcpy(out + off + 4, id, idn);
	off += 4 + idn;
	store_put32(out + off, hlen);
	memcpy(out + off + 4, h, hn);
	off += 4 + hn;
	store_put32(out + off, alen);
	memcpy(out + off + 4, a, an);
	return off + 4 + an;
}

static int
parse_body(const unsigned char *p, size_t n)
{
	int rc = wproto_parse_request(p, n, &kind, &msgid, &host, &payload, &plen);

	if (rc == 0)
		done();
	return rc;
}

static void
test_round_trip(void)
{
	struct buffer b = BUFFER_INIT;
	const char art[] = "Subject: x\r\n\r\nbody\0with NUL\r\n";
	char longid[WRITER_MAX_MSGID + 2], longhost[WRITER_MAX_HOST + 2];

	frame(&b, SUBMIT_IHAVE, "<a@b>", "client.example", art, sizeof(art) - 1);
	ok(parse(&b) == 0, "round trip: IHAVE frame parses");
	is_int(SUBMIT_IHAVE, kind, "round trip: kind");
	is_string("<a@b>", msgid, "round trip: msgid");
	is_string("client.example", host, "round trip: host");
	ok(plen == sizeof(art) - 1 && memcmp(payload, art, plen) == 0,
	   "round trip: payload, NUL included");
	ok(payload >= buffer_head(&b) && payload + plen == buffer_head(&b) + b.len,
	   "round trip: payload points into the frame and ends it");
	done();

	frame(&b, SUBMIT_POST, "", "", "", 0);
	ok(parse(&b) == 0 && kind == SUBMIT_POST && *msgid == '\0' && *host == '\0' && plen == 0,
	   "round trip: all fields empty");
	is_int(4 + 16, b.len, "encode: empty frame is the length word plus 16 bytes");
	done();

	for (int k = SUBMIT_POST; k <= SUBMIT_RIGHTS; k++) {
		frame(&b, k, "<x@y>", "h", "newgroup a.b y", 14);
		ok(parse(&b) == 0 && kind == (uint32_t)k, "round trip: kind %d", k);
		done();
	}

	memset(longid, 'i', sizeof(longid));
	longid[WRITER_MAX_MSGID] = '\0';
	memset(longhost, 'h', sizeof(longhost));
	longhost[WRITER_MAX_HOST] = '\0';
	frame(&b, SUBMIT_TAKETHIS, longid, longhost, "a", 1);
	ok(parse(&b) == 0 && strlen(msgid) == WRITER_MAX_MSGID && strlen(host) == WRITER_MAX_HOST,
	   "round trip: msgid and host at their limits");
	done();
	longid[WRITER_MAX_MSGID] = 'i';
	longid[WRITER_MAX_MSGID + 1] = '\0';
	frame(&b, SUBMIT_TAKETHIS, longid, "h", "a", 1);
	is_int(-1, parse(&b), "msgid one byte over WRITER_MAX_MSGID refused");
	longhost[WRITER_MAX_HOST] = 'h';
	longhost[WRITER_MAX_HOST + 1] = '\0';
	frame(&b, SUBMIT_TAKETHIS, "<a@b>", longhost, "a", 1);
	is_int(-1, parse(&b), "host one byte over WRITER_MAX_HOST refused");

	frame(&b, SUBMIT_POST, "<a@b>", "h", "abc", 3);
	buffer_append(&b, "x", 1);
	store_put32((unsigned char *)buffer_head(&b), (uint32_t)(b.len - 4));
	is_int(-1, parse(&b), "a byte after the payload refused");
	frame(&b, SUBMIT_POST, "<a@b>", "h", "abc", 3);
	int parsed = 0;

	for (size_t cut = 1; cut <= b.len - 4; cut++) {
		if (wproto_parse_request((const unsigned char *)buffer_head(&b) + 4,
		                         b.len - 4 - cut, &kind, &msgid, &host, &payload,
		                         &plen) == 0) {
			parsed++;
			done();
		}
	}
	is_int(0, parsed, "every truncation of a frame is refused");
	buffer_free(&b);
}

static void
test_malformed(void)
{
	unsigned char p[1024];

	is_int(0, parse_body(p, body(p, SUBMIT_POST, 1, "i", 1, 1, "h", 1, 1, "a", 1)),
	       "hand-made body: well formed");
	is_int(-1, parse_body(p, 0), "empty body refused");
	is_int(-1, parse_body(p, 3), "body shorter than a kind refused");
	is_int(-1, parse_body(p, 4), "kind alone refused");
	is_int(-1, parse_body(p, 15), "15-byte body (no payload length) refused");
	is_int(-1, parse_body(p, body(p, 0, 0, "", 0, 0, "", 0, 0, "", 0)), "kind 0 refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_RIGHTS + 1, 0, "", 0, 0, "", 0, 0, "", 0)),
	       "kind past SUBMIT_RIGHTS refused");
	is_int(-1, parse_body(p, body(p, UINT32_MAX, 0, "", 0, 0, "", 0, 0, "", 0)),
	       "kind 0xffffffff refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 2, "i", 1, 1, "h", 1, 1, "a", 1)),
	       "msgid length one too long (eats the host length) refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 200, "i", 1, 1, "h", 1, 1, "a", 1)),
	       "msgid length past the frame refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, UINT32_MAX, "i", 1, 1, "h", 1, 1, "a", 1)),
	       "msgid length 0xffffffff refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 1, "i", 1, 200, "h", 1, 1, "a", 1)),
	       "host length past the frame refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 1, "i", 1, UINT32_MAX, "h", 1, 1, "a", 1)),
	       "host length 0xffffffff refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 1, "i", 1, 1, "h", 1, 2, "a", 1)),
	       "payload length past the frame refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 1, "i", 1, 1, "h", 1, 0, "a", 1)),
	       "payload length short of the frame refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 1, "i", 1, 1, "h", 1, UINT32_MAX, "a", 1)),
	       "payload length 0xffffffff refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 3, "<\0>", 3, 1, "h", 1, 1, "a", 1)),
	       "NUL inside the msgid refused");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 1, "i", 1, 3, "a\0b", 3, 1, "a", 1)),
	       "NUL inside the host refused");
	is_int(0, parse_body(p, body(p, SUBMIT_POST, 1, "i", 1, 1, "h", 1, 3, "a\0b", 3)),
	       "NUL inside the payload is data");
	is_int(-1, parse_body(p, body(p, SUBMIT_POST, 1, "i", 1, 1, "h", 1, 1, "a", 1) - 1),
	       "payload one byte short refused");
}

/* A rights payload: flags, then the wildmat and user fields, and an empty
 * feed-groups field. */
static size_t
rights_body(unsigned char *out, uint32_t flags, uint32_t glen, const char *g, size_t gn,
            uint32_t ulen, const char *u, size_t un)
{
	store_put32(out, flags);
	store_put32(out + 4, glen);
	memcpy(out + 8, g, gn);
	store_put32(out + 8 + gn, ulen);
	memcpy(out + 12 + gn, u, un);
	store_put32(out + 12 + gn + un, 0);
	return 16 + gn + un;
}

static int
parse_rights(const unsigned char *p, size_t n)
{
	struct writer_rights r;
	int rc = wproto_parse_rights((const char *)p, n, "h", &r);

	wproto_rights_free(&r);
	return rc;
}

static void
test_rights(void)
{
	struct writer_rights in = {1,       0, "local.*,!local.secret", "192.0.2.7",
	                           "alice", 1, "local.*,@local.spam"},
	                     out;
	struct buffer b = BUFFER_INIT;
	unsigned char p[256];

	wproto_encode_rights(&b, &in);
	ok(parse(&b) == 0 && kind == SUBMIT_RIGHTS && *msgid == '\0', "rights: a request frame");
	ok(wproto_parse_rights(payload, plen, host, &out) == 0 && out.may_post && !out.may_feed &&
	       out.may_approve,
	   "rights: flags round trip");
	is_string("local.*,!local.secret", out.post_groups, "rights: post wildmat");
	is_string("192.0.2.7", out.host, "rights: posting host travels in the host field");
	is_string("alice", out.user, "rights: user");
	is_string("local.*,@local.spam", out.feed_groups, "rights: a peer's feed patterns");
	wproto_rights_free(&out);
	done();
	is_int(0, parse_rights(p, rights_body(p, 3, 1, "*", 1, 0, "", 0)), "rights: well formed");
	is_int(0, parse_rights(p, rights_body(p, 7, 1, "*", 1, 0, "", 0)), "rights: approve flag");
	is_int(-1, parse_rights(p, rights_body(p, 8, 1, "*", 1, 0, "", 0)), "rights: unknown flag");
	is_int(-1, parse_rights(p, 3), "rights: shorter than the flags");
	is_int(-1, parse_rights(p, rights_body(p, 1, 9, "*", 1, 0, "", 0)),
	       "rights: wildmat length past the payload");
	is_int(-1, parse_rights(p, rights_body(p, 1, 1, "*", 1, 1, "u", 1) - 1),
	       "rights: user one byte short");
	is_int(-1, parse_rights(p, rights_body(p, 1, 1, "*", 1, 0, "", 0) + 1),
	       "rights: a byte after the feed patterns");
	is_int(-1, parse_rights(p, rights_body(p, 1, 1, "*", 1, 0, "", 0) - 4),
	       "rights: no feed patterns field");
	{
		size_t n = rights_body(p, 1, 1, "*", 1, 0, "", 0);

		store_put32(p + n - 4, 3);
		memcpy(p + n, "a\0b", 3);
		is_int(-1, parse_rights(p, n + 3), "rights: NUL inside the feed patterns");
	}
	is_int(-1, parse_rights(p, rights_body(p, 1, 3, "a\0b", 3, 0, "", 0)),
	       "rights: NUL inside the wildmat");
	is_int(-1, parse_rights(p, rights_body(p, 1, 1, "*", 1, 3, "a\0b", 3)),
	       "rights: NUL inside the user");
	is_int(-1, parse_rights(p, rights_body(p, 1, WRITER_MAX_WILDMAT + 1, "*", 1, 0, "", 0)),
	       "rights: wildmat over WRITER_MAX_WILDMAT");
	buffer_free(&b);
}

static void
test_chan(void)
{
	struct writer_settings ws = {VECTOR_INIT, VECTOR_INIT, 7, 2048, {30, 5, 12}, 9, 1}, got;
	struct buffer b = BUFFER_INIT, why = BUFFER_INIT;
	unsigned long gen = 0;
	static const char *bad[] = {
	    "",
	    "config\n",
	    "config x\n",
	    "config 3\nmax_article_size lots\n",
	    "config 3\nhistory_remember 40000\n",
	    "config 3\narticle_cutoff_days 40000\n",
	    "config 3\npost_rate -1\n",
	    "config 3\nlisten_port 119\n",
	    "config 3\nfeed a 127.0.0.1 119 *",
	    "config 3\nfilter_timeout 0\n",
	    "config 3\nfilter_failure maybe\n",
	    "hello 3\n",
	};
	unsigned long n = 0;

	vector_add(&ws.feed, "one 127.0.0.1 119 local.* streaming");
	vector_add(&ws.feed, "two 127.0.0.1 120 *");
	vector_add(&ws.expire, "local.* 7");
	wchan_encode_config(&b, 4, &ws);
	is_int(1, wchan_parse(buffer_head(&b), b.len, &gen, &got, &why), "chan: config parses");
	is_int(4, (long long)gen, "chan: its number");
	is_int(2, (long long)got.feed.count, "chan: both feeds");
	is_string("two 127.0.0.1 120 *", got.feed.strings[1], "chan: a feed line whole");
	is_string("local.* 7", got.expire.count ? got.expire.strings[0] : NULL, "chan: expire");
	is_int(7, (long long)got.history_remember, "chan: history_remember");
	is_int(2048, (long long)got.max_article_size, "chan: max_article_size");
	ok(got.limits.post_rate == 30 && got.limits.post_burst == 5 && got.limits.cutoff_days == 12,
	   "chan: post_rate, post_burst, article_cutoff_days");
	is_int(9, (long long)got.filter_timeout, "chan: filter_timeout");
	is_int(1, got.filter_closed, "chan: filter_failure=closed");
	wchan_settings_free(&got);
	is_int(0, wchan_parse_numbered("filter 12\n", 10, WCHAN_FILTER, &n),
	       "chan: filter N parses");
	is_int(12, (long long)n, "chan: its number");
	is_int(-1, wchan_parse_numbered("filter 12", 9, WCHAN_FILTER, &n),
	       "chan: filter N needs its newline");
	is_int(-1, wchan_parse_numbered("filter x\n", 9, WCHAN_FILTER, &n),
	       "chan: filter N: a number");
	is_int(-1, wchan_parse_numbered("filter 1 2\n", 11, WCHAN_FILTER, &n),
	       "chan: filter N: one number");
	is_int(-1, wchan_parse_numbered("filter-kill 3\n", 14, WCHAN_FILTER, &n),
	       "chan: kill is not filter");
	buffer_clear(&b);
	wchan_encode_refused(&b, 5, "nntpd.conf:2: feed: bad\n");
	is_int(0, wchan_parse(buffer_head(&b), b.len, &gen, &got, &why), "chan: refusal parses");
	is_string("nntpd.conf:2: feed: bad\n", buffer_cstr(&why), "chan: with its errors");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(-1, wchan_parse(bad[i], strlen(bad[i]), &gen, &got, &why),
		       "chan: malformed %zu refused", i);
	wchan_settings_free(&ws);
	buffer_free(&b);
	buffer_free(&why);
}

int
main(void)
{
	test_round_trip();
	test_malformed();
	test_rights();
	test_chan();
	return tap_done();
}
