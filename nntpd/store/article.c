/* article: header parsing and the text-only validation rules of RFC 5536
 * and RFC 5537 (as INN's nnrpd and innd apply them). */
#include "nntpd/store/article.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "common/core/xmalloc.h"

/* Headers that may appear at most once (RFC 5536 3.1, 3.2; RFC 5322). */
static const char *const single_headers[] = {
    "Approved",    "Archive",      "Control",        "Date",           "Distribution", "Expires",
    "Followup-To", "From",         "Injection-Date", "Injection-Info", "Lines",        "Message-ID",
    "Newsgroups",  "Organization", "Path",           "References",     "Reply-To",     "Sender",
    "Subject",     "Summary",      "Supersedes",     "User-Agent",     "Xref",         NULL};

/* Headers only the injecting agent or this server may write. */
static const char *const post_forbidden[] = {
    "Xref", "Injection-Info", "Injection-Date", "NNTP-Posting-Host", "NNTP-Posting-Date", NULL};

static const char *const post_required[] = {"From", "Subject", "Newsgroups", NULL};
static const char *const feed_required[] = {"Date", "From",    "Message-ID", "Newsgroups",
                                            "Path", "Subject", NULL};

static int
name_is(const struct article_header *h, const char *name)
{
	return strlen(name) == h->name_len && strncasecmp(h->name, name, h->name_len) == 0;
}

static size_t
header_count(const struct article *a, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nheaders; i++)
		n += name_is(&a->headers[i], name);
	return n;
}

static int
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* Length of the line at p (up to LF), without its CR LF. *next gets the
 * start of the following line, or NULL at end of text. */
static size_t
line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL) {
		*next = NULL;
		return (size_t)(end - p);
	}
	*next = nl + 1;
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

int
article_parse(struct article *a, const char *text, size_t len, struct buffer *why)
{
	const char *p = text, *end = text + len, *next;

	memset(a, 0, sizeof(*a));
	a->text = text;
	a->len = len;
	for (;;) {
		size_t n;
		const char *colon;
		struct article_header *h;

		if (p == NULL || p >= end) {
			buffer_puts(why, "Article has no header/body separator");
			return -1;
		}
		n = line_len(p, end, &next);
		if (next == NULL) {
			buffer_puts(why, "Article has no header/body separator");
			return -1;
		}
		if (n > ARTICLE_MAX_LINE) {
			buffer_printf(why, "Header line longer than %d octets", ARTICLE_MAX_LINE);
			return -1;
		}
		if (n == 0) {
			a->body_off = (size_t)(next - text);
			break;
		}
		if (*p == ' ' || *p == '\t') {
			if (a->nheaders == 0) {
				buffer_puts(why, "Continuation line before the first header");
				return -1;
			}
			h = &a->headers[a->nheaders - 1];
			h->value_len = (size_t)(p + n - h->value);
			p = next;
			continue;
		}
		colon = memchr(p, ':', n);
		if (colon == NULL || colon == p) {
			buffer_puts(
			    why,
			    "Header line without a colon (missing blank line before the body?)");
			return -1;
		}
		for (const char *q = p; q < colon; q++)
			if (!is_ftext((unsigned char)*q)) {
				buffer_puts(why, "Bad character in a header name");
				return -1;
			}
		if (a->nheaders == a->alloc) {
			a->alloc = a->alloc ? a->alloc * 2 : 32;
			a->headers = xrealloc(a->headers, a->alloc * sizeof(*a->headers));
		}
		h = &a->headers[a->nheaders++];
		h->name = p;
		h->name_len = (size_t)(colon - p);
		h->value = colon + 1;
		h->value_len = (size_t)(p + n - h->value);
		p = next;
	}
	return 0;
}

void
article_free(struct article *a)
{
	free(a->headers);
	memset(a, 0, sizeof(*a));
}

const struct article_header *
article_find(const struct article *a, const char *name)
{
	for (size_t i = 0; i < a->nheaders; i++)
		if (name_is(&a->headers[i], name))
			return &a->headers[i];
	return NULL;
}

void
article_unfold(const char *v, size_t len, struct buffer *out)
{
	/* Into reserved room, not a buffer_append per byte: the writer
	 * unfolds six headers of every article it stores. */
	char *d = buffer_reserve(out, len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = v[i];

		if (c == '\r' || c == '\n')
			continue;
		if (c == '\t')
			c = ' ';
		if (c == ' ' && n == 0)
			continue;
		d[n++] = c;
	}
	while (n > 0 && d[n - 1] == ' ')
		n--;
	buffer_commit(out, n);
	buffer_cstr(out);
}

int
article_value(const struct article *a, const char *name, struct buffer *out)
{
	const struct article_header *h = article_find(a, name);

	buffer_clear(out);
	if (h == NULL)
		return -1;
	article_unfold(h->value, h->value_len, out);
	return 0;
}

static int
is_atext(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL || c >= 0x80;
}

/* dot-atom-text: atext runs separated by single dots. */
static int
valid_dot_atom(const char *s, size_t len)
{
	int prev_dot = 1;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (prev_dot)
				return 0;
			prev_dot = 1;
		} else if (is_atext(c) && c < 0x80) {
			prev_dot = 0;
		} else {
			return 0;
		}
	}
	return !prev_dot;
}

int
article_valid_msgid(const char *s, size_t len, int strict)
{
	const char *at;
	size_t left, right;

	if (len < 5 || len > ARTICLE_MAX_MSGID || s[0] != '<' || s[len - 1] != '>')
		return 0;
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 32 || c >= 127 || c == '<' || c == '>')
			return 0;
	}
	at = memrchr(s + 1, '@', len - 2);
	if (at == NULL)
		return 0;
	left = (size_t)(at - (s + 1));
	right = (size_t)(s + len - 1 - (at + 1));
	if (left == 0 || right == 0)
		return 0;
	if (!strict)
		return 1;
	if (!valid_dot_atom(s + 1, left)) {
		/* no-fold-quote: "..." with no bare quote or backslash issues */
		if (left < 2 || s[1] != '"' || at[-1] != '"')
			return 0;
	}
	if (!valid_dot_atom(at + 1, right)) {
		if (right < 2 || at[1] != '[' || s[len - 2] != ']')
			return 0;
		for (const char *q = at + 2; q < s + len - 2; q++)
			if (*q == '[' || *q == ']' || *q == '\\')
				return 0;
	}
	return 1;
}

/* local@domain, local a dot-atom (UTF-8 allowed) or a quoted string. */
static int
valid_addr_spec(const char *s, size_t len)
{
	const char *at;
	size_t left, right;

	while (len > 0 && *s == ' ')
		s++, len--;
	while (len > 0 && s[len - 1] == ' ')
		len--;
	at = len ? memrchr(s, '@', len) : NULL;
	if (at == NULL)
		return 0;
	left = (size_t)(at - s);
	right = len - left - 1;
	if (left == 0 || right == 0)
		return 0;
	if (!(left >= 2 && s[0] == '"' && at[-1] == '"')) {
		int prev_dot = 1;

		for (size_t i = 0; i < left; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '.') {
				if (prev_dot)
					return 0;
				prev_dot = 1;
			} else if (is_atext(c)) {
				prev_dot = 0;
			} else {
				return 0;
			}
		}
		if (prev_dot)
			return 0;
	}
	if (at[1] == '[')
		return s[len - 1] == ']';
	for (size_t i = 0; i < right; i++) {
		unsigned char c = (unsigned char)at[1 + i];

		if (c != '.' && c != '-' && !isalnum(c) && c < 0x80)
			return 0;
	}
	return at[1] != '.' && s[len - 1] != '.';
}

/* One mailbox: "Name <addr>" or "addr (Name)" or "addr". Comments were
 * already replaced by spaces. */
static int
valid_mailbox(const char *s, size_t len)
{
	const char *lt = memchr(s, '<', len);

	if (lt != NULL) {
		const char *gt = memchr(lt, '>', len - (size_t)(lt - s));

		if (gt == NULL)
			return 0;
		for (const char *q = gt + 1; q < s + len; q++)
			if (*q != ' ')
				return 0;
		return valid_addr_spec(lt + 1, (size_t)(gt - lt - 1));
	}
	return valid_addr_spec(s, len);
}

int
article_valid_from(const char *v)
{
	struct buffer b = BUFFER_INIT;
	int depth = 0, quoted = 0, ok = 1;
	size_t start = 0, n;
	const char *s;

	/* Replace comments by spaces so mailbox parsing sees only the rest. */
	for (const char *p = v; *p != '\0'; p++) {
		char c = *p;

		if (quoted) {
			if (c == '\\' && p[1] != '\0')
				buffer_append(&b, p++, 1);
			else if (c == '"')
				quoted = 0;
		} else if (c == '(') {
			depth++;
		} else if (c == ')' && depth > 0) {
			depth--;
			c = ' ';
		} else if (depth == 0 && c == '"') {
			quoted = 1;
		}
		buffer_append(&b, depth > 0 ? " " : &c, 1);
	}
	if (depth != 0 || quoted) {
		buffer_free(&b);
		return 0;
	}
	s = buffer_cstr(&b);
	n = b.len;
	quoted = 0;
	for (size_t i = 0; i <= n && ok; i++) {
		if (i < n && s[i] == '\\' && quoted)
			i++;
		else if (i < n && s[i] == '"')
			quoted = !quoted;
		else if (i == n || (s[i] == ',' && !quoted)) {
			ok = valid_mailbox(s + start, i - start);
			start = i + 1;
		}
	}
	buffer_free(&b);
	return ok;
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static const char *
skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		int depth = 0;

		do {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			else if (*p == '\0')
				return p;
			p++;
		} while (depth > 0);
	}
}

static int
digits(const char **pp, int min, int max, long *out)
{
	const char *p = *pp;
	long v = 0;
	int n = 0;

	while (isdigit((unsigned char)*p) && n < max) {
		v = v * 10 + (*p - '0');
		p++, n++;
	}
	if (n < min || isdigit((unsigned char)*p))
		return -1;
	*out = v;
	*pp = p;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static int
parse_zone(const char *p, long *offset)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = {{"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},    {"EST", -5}, {"EDT", -4},
	             {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
	size_t n = 0;

	if (*p == '+' || *p == '-') {
		long v;
		const char *q = p + 1;

		if (digits(&q, 4, 4, &v) < 0 || v % 100 >= 60)
			return -1;
		*offset = (v / 100 * 3600 + v % 100 * 60) * (*p == '-' ? -1 : 1);
		p = q;
	} else {
		while (isalpha((unsigned char)p[n]))
			n++;
		if (n == 0)
			return -1;
		*offset = 0; /* military and unknown zones: RFC 5322 says treat as +0000 */
		for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
			if (strlen(zones[i].name) == n && strncasecmp(p, zones[i].name, n) == 0)
				*offset = zones[i].hours * 3600L;
		p += n;
	}
	p = skip_cfws(p);
	return *p == '\0' ? 0 : -1;
}

int
article_parse_date(const char *s, time_t *out)
{
	const char *p = skip_cfws(s);
	long day, year, hh, mm, ss = 0, off;
	int mon = -1;

	if (isalpha((unsigned char)*p)) {
		int found = 0;

		for (int i = 0; i < 7; i++)
			if (strncasecmp(p, wdays[i], 3) == 0)
				found = 1;
		if (!found)
			return -1;
		p = skip_cfws(p + 3);
		if (*p != ',')
			return -1;
		p = skip_cfws(p + 1);
	}
	if (digits(&p, 1, 2, &day) < 0 || day < 1 || day > 31)
		return -1;
	p = skip_cfws(p);
	for (int i = 0; i < 12; i++)
		if (strncasecmp(p, months[i], 3) == 0 && !isalpha((unsigned char)p[3]))
			mon = i;
	if (mon < 0)
		return -1;
	p = skip_cfws(p + 3);
	const char *ystart = p;

	if (digits(&p, 2, 4, &year) < 0)
		return -1;
	if (p - ystart < 4) {
		/* obs-year: two (or three) digits */
		if (year < 50)
			year += 2000;
		else if (year < 1000)
			year += 1900;
	}
	p = skip_cfws(p);
	if (digits(&p, 2, 2, &hh) < 0 || hh > 23)
		return -1;
	p = skip_cfws(p);
	if (*p++ != ':')
		return -1;
	p = skip_cfws(p);
	if (digits(&p, 2, 2, &mm) < 0 || mm > 59)
		return -1;
	p = skip_cfws(p);
	if (*p == ':') {
		p = skip_cfws(p + 1);
		if (digits(&p, 2, 2, &ss) < 0 || ss > 60)
			return -1;
	}
	p = skip_cfws(p);
	if (parse_zone(p, &off) < 0)
		return -1;
	int64_t t = days_from_civil(year, (unsigned)mon + 1, (unsigned)day) * 86400 + hh * 3600 +
	            mm * 60 + ss - off;
	*out = (time_t)t;
	return 0;
}

void
article_format_date(time_t t, struct buffer *out)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	buffer_printf(out, "%s, %d %s %04d %02d:%02d:%02d +0000", wdays[tm.tm_wday], tm.tm_mday,
	              months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
article_valid_group_name(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	int comp_start = 1;
	size_t len = strlen(name);

	/* SECURITY: names become paths under articles/ and overview/; no '/',
	 * no empty or '.'-leading component, so never ".." or an absolute path. */
	if (len == 0 || len > 255)
		return 0;
	for (; *p != '\0'; p++) {
		if (*p == '.') {
			if (comp_start)
				return 0;
			comp_start = 1;
			continue;
		}
		if (*p <= 32 || *p == 127 || *p == '/' || *p == ',' || *p == ':' || *p == '\\' ||
		    *p == '*' || *p == '?' || *p == '[' || *p == ']' || *p == '!')
			return 0;
		comp_start = 0;
	}
	if (comp_start)
		return 0;
	/* Must be valid UTF-8. */
	for (p = (const unsigned char *)name; *p != '\0';) {
		int n = *p < 0x80             ? 0
		        : (*p & 0xe0) == 0xc0 ? 1
		        : (*p & 0xf0) == 0xe0 ? 2
		        : (*p & 0xf8) == 0xf0 ? 3
		                              : -1;

		if (n < 0 || (n == 1 && *p < 0xc2))
			return 0;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

void
article_recommend_msgid(const char *pathhost, struct buffer *buf)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuv";
	unsigned char rnd[15];
	size_t got = 0;
	struct timespec ts;

	while (got < sizeof(rnd)) {
		ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);

		if (n < 0)
			die("getrandom: %m");
		got += (size_t)n;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	buffer_clear(buf);
	buffer_printf(buf, "<%llx.", (unsigned long long)ts.tv_sec);
	for (size_t i = 0; i < sizeof(rnd); i++)
		buffer_append(buf, &alphabet[rnd[i] & 31], 1);
	buffer_printf(buf, "@%s>", pathhost);
	buffer_cstr(buf);
}

int
article_path_has(const char *path, const char *host)
{
	size_t hl = strlen(host);
	const char *p = path;

	while (*p != '\0') {
		size_t n = strcspn(p, "!");

		if (n == hl && strncasecmp(p, host, hl) == 0)
			return 1;
		p += n;
		if (*p == '!')
			p++;
	}
	return 0;
}

int
article_newsgroups(const struct article *a, struct vector *out)
{
	struct buffer v = BUFFER_INIT;
	const char *s, *p;
	int rc = 0;

	vector_clear(out);
	if (article_value(a, "Newsgroups", &v) < 0) {
		buffer_free(&v);
		return -1;
	}
	s = buffer_cstr(&v);
	for (p = s;;) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, ", ");
		if (n > 0) {
			char *name = xstrndup(p, n);

			if (!article_valid_group_name(name))
				rc = -1;
			else {
				int dup = 0;

				for (size_t i = 0; i < out->count; i++)
					dup |= strcmp(out->strings[i], name) == 0;
				if (!dup)
					vector_add(out, name);
			}
			free(name);
		}
		p += n;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',' || n == 0) {
			rc = -1;
			break;
		}
		p++;
	}
	if (out->count == 0)
		rc = -1;
	buffer_free(&v);
	return rc;
}

static int
check_required(const struct article *a, const char *const *names, struct buffer *why)
{
	struct buffer v = BUFFER_INIT;

	for (size_t i = 0; names[i] != NULL; i++) {
		if (article_value(a, names[i], &v) < 0) {
			buffer_printf(why, "Missing %s header", names[i]);
			break;
		}
		if (v.len == 0) {
			buffer_printf(why, "Empty %s header", names[i]);
			break;
		}
	}
	buffer_free(&v);
	return why->len ? -1 : 0;
}

static int
check_date(const struct article *a, time_t now, struct buffer *why)
{
	struct buffer v = BUFFER_INIT;
	time_t t;
	int rc = 0;

	if (article_value(a, "Date", &v) == 0) {
		if (article_parse_date(buffer_cstr(&v), &t) < 0) {
			buffer_puts(why, "Can't parse Date header");
			rc = -1;
		} else if (t > now + ARTICLE_DATE_FUZZ) {
			buffer_puts(why, "Article posted in the future (Date header)");
			rc = -1;
		}
	}
	buffer_free(&v);
	return rc;
}

int
article_validate(const struct article *a, enum article_kind kind, time_t now, struct buffer *why)
{
	struct buffer v = BUFFER_INIT;
	struct vector groups = VECTOR_INIT;
	int rc = -1;

	if (check_required(a, kind == ARTICLE_POST ? post_required : feed_required, why) < 0)
		goto out;
	for (size_t i = 0; single_headers[i] != NULL; i++)
		if (header_count(a, single_headers[i]) > 1) {
			buffer_printf(why, "Duplicate %s header", single_headers[i]);
			goto out;
		}
	if (kind == ARTICLE_POST)
		for (size_t i = 0; post_forbidden[i] != NULL; i++)
			if (article_find(a, post_forbidden[i]) != NULL) {
				buffer_printf(why, "Can't have %s header", post_forbidden[i]);
				goto out;
			}
	article_value(a, "From", &v);
	if (!article_valid_from(buffer_cstr(&v))) {
		buffer_puts(why, "From header has no valid address (addr-spec)");
		goto out;
	}
	if (article_value(a, "Message-ID", &v) == 0 &&
	    !article_valid_msgid(buffer_head(&v), v.len, kind == ARTICLE_POST)) {
		buffer_puts(why, "Bad Message-ID syntax");
		goto out;
	}
	if (check_date(a, now, why) < 0)
		goto out;
	if (article_newsgroups(a, &groups) < 0) {
		buffer_puts(why, "Bad Newsgroups header");
		goto out;
	}
	if (article_value(a, "Subject", &v) == 0 && v.len == 0 && kind == ARTICLE_POST) {
		buffer_puts(why, "Empty Subject header");
		goto out;
	}
	rc = 0;
out:
	buffer_free(&v);
	vector_free(&groups);
	return rc;
}

void
article_dot_stuff(const char *text, size_t len, struct buffer *out)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (nl ? (size_t)(nl - p) : (size_t)(end - p));

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && *p == '.')
			buffer_append(out, ".", 1);
		buffer_append(out, p, n);
		buffer_append(out, "\r\n", 2);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}
