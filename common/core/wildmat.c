/* wildmat: pattern matching for LIST ACTIVE, NEWNEWS, XPAT and access
 * lists. Greedy matching with one backtrack point per '*' keeps the work
 * polynomial whatever a client sends. */
#include "common/core/wildmat.h"

#include <stdint.h>
#include <string.h>

/* Decode one UTF-8 character at *s, advancing *s. Invalid bytes are taken
 * one at a time as code points 0x110000 + byte, so they match only
 * themselves (and '?'). */
static uint32_t
utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c = p[0];
	int n, i;

	if (c < 0x80) {
		*s = p + 1;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 1;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		c &= 0x07;
	} else {
		goto bad;
	}
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
	    c > 0x10ffff)
		goto bad;
	*s = p + n + 1;
	return c;
bad:
	*s = p + 1;
	return 0x110000u + p[0];
}

/* Does the class starting just after '[' at *pp contain c? Advances *pp past
 * the closing ']'. Returns -1 when the class is unterminated. */
static int
class_match(const unsigned char **pp, uint32_t c)
{
	const unsigned char *p = *pp;
	int negate = 0, found = 0, first = 1;

	if (*p == '^') {
		negate = 1;
		p++;
	}
	while (*p != '\0' && (*p != ']' || first)) {
		uint32_t lo, hi;

		first = 0;
		if (*p == '\\' && p[1] != '\0')
			p++;
		lo = utf8_next(&p);
		hi = lo;
		if (*p == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if (*p == '\\' && p[1] != '\0')
				p++;
			hi = utf8_next(&p);
		}
		if (c >= lo && c <= hi)
			found = 1;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return found != negate;
}

/* Match one pattern item at *pp against character c; advances *pp. */
static int
item_match(const unsigned char **pp, uint32_t c)
{
	const unsigned char *p = *pp;

	if (*p == '?') {
		*pp = p + 1;
		return 1;
	}
	if (*p == '[') {
		const unsigned char *q = p + 1;
		int r = class_match(&q, c);

		if (r >= 0) {
			*pp = q;
			return r;
		}
		/* Unterminated class: '[' is an ordinary character. */
		*pp = p + 1;
		return c == '[';
	}
	if (*p == '\\' && p[1] != '\0')
		p++;
	*pp = p;
	return utf8_next(pp) == c;
}

static int
match_bounded(const unsigned char *t, const unsigned char *p, const unsigned char *pend)
{
	const unsigned char *star_p = NULL, *star_t = NULL;

	for (;;) {
		if (p < pend && *p == '*') {
			while (p < pend && *p == '*')
				p++;
			star_p = p;
			star_t = t;
			continue;
		}
		if (*t == '\0')
			break;
		if (p < pend) {
			const unsigned char *np = p, *nt = t;
			uint32_t c = utf8_next(&nt);

			if (item_match(&np, c) && np <= pend) {
				p = np;
				t = nt;
				continue;
			}
		}
		if (star_p == NULL)
			return 0;
		/* The last '*' swallows one more character and we retry. */
		utf8_next(&star_t);
		t = star_t;
		p = star_p;
	}
	while (p < pend && *p == '*')
		p++;
	return p == pend;
}

int
wildmat_match(const char *text, const char *pattern)
{
	const unsigned char *p = (const unsigned char *)pattern;

	return match_bounded((const unsigned char *)text, p, p + strlen(pattern));
}

/* End of the list element starting at p: the next ',' outside a class and
 * not escaped. */
static const char *
element_end(const char *p)
{
	while (*p != '\0' && *p != ',') {
		if (*p == '\\' && p[1] != '\0') {
			p += 2;
		} else if (*p == '[') {
			const char *q = p + 1;

			if (*q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q != '\0' && *q != ']')
				q += (*q == '\\' && q[1] != '\0') ? 2 : 1;
			p = (*q == ']') ? q + 1 : p + 1;
		} else {
			p++;
		}
	}
	return p;
}

/* The list loop: the last pattern matching text decides; '!' negates and,
 * when poison is set, '@' poisons. A WILDMAT_ value. */
static int
list_match(const char *text, const char *list, int poison)
{
	const char *p = list;
	int result = WILDMAT_NOMATCH;

	for (;;) {
		const char *end;
		int kind = WILDMAT_MATCH;

		if (*p == '!' || (poison && *p == '@')) {
			kind = *p == '!' ? WILDMAT_NOMATCH : WILDMAT_POISON;
			p++;
		}
		end = element_end(p);
		if (match_bounded((const unsigned char *)text, (const unsigned char *)p,
		                  (const unsigned char *)end))
			result = kind;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return result;
}

int
wildmat_match_list(const char *text, const char *list)
{
	return list_match(text, list, 0) == WILDMAT_MATCH;
}

int
wildmat_poison(const char *text, const char *list)
{
	return list_match(text, list, 1);
}

int
wildmat_poison_groups(const struct vector *groups, const char *list, size_t *at)
{
	int any = WILDMAT_NOMATCH;

	for (size_t i = 0; i < groups->count; i++) {
		int r = list_match(groups->strings[i], list, 1);

		if (r == WILDMAT_POISON) {
			*at = i;
			return r;
		}
		if (r == WILDMAT_MATCH)
			any = r;
	}
	return any;
}
