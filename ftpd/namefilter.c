/* namefilter: brace alternatives are expanded once, at login; each one is
 * matched as a wildmat with every byte but '*' and '?' taken literally. */
#include "ftpd/namefilter.h"

#include <stdlib.h>
#include <string.h>

#include "common/core/buffer.h"
#include "common/core/wildmat.h"

/* Expand the groups of spec from p on, with prefix so far in b, into f
 * (NULL: only count). Returns the number of alternatives, or -1 when the
 * braces are unbalanced or nested. */
static long
expand(const char *p, struct buffer *b, struct vector *f, long budget)
{
	const char *open = strchr(p, '{'), *close, *alt, *end;
	size_t keep = b->len;
	long n = 0, r;

	if (open == NULL) {
		if (strchr(p, '}') != NULL)
			return -1;
		if (f != NULL) {
			buffer_puts(b, p);
			vector_add(f, buffer_cstr(b));
			buffer_truncate(b, keep);
		}
		return 1;
	}
	close = strchr(open + 1, '}');
	if (close == NULL || memchr(p, '}', (size_t)(open - p)) != NULL ||
	    memchr(open + 1, '{', (size_t)(close - open - 1)) != NULL)
		return -1;
	for (alt = open + 1; alt <= close; alt = end + 1) {
		end = memchr(alt, ',', (size_t)(close - alt));
		if (end == NULL)
			end = close;
		buffer_append(b, p, (size_t)(open - p));
		buffer_append(b, alt, (size_t)(end - alt));
		r = expand(close + 1, b, f, budget - n);
		buffer_truncate(b, keep);
		if (r < 0)
			return -1;
		n += r;
		if (n > budget)
			return n;
	}
	return n;
}

/* One alternative as a wildmat pattern, the bytes in special escaped:
 * '[' and '\' are ordinary here. */
static void
add_escaped(struct vector *f, const char *alt, const char *special)
{
	struct buffer w = BUFFER_INIT;

	for (const char *c = alt; *c; c++) {
		if (strchr(special, *c) != NULL)
			buffer_append(&w, "\\", 1);
		buffer_append(&w, c, 1);
	}
	vector_add(f, buffer_cstr(&w));
	buffer_free(&w);
}

const char *
namefilter_check(const char *spec)
{
	struct buffer b = BUFFER_INIT;
	long n = expand(spec, &b, NULL, NAMEFILTER_MAX);

	buffer_free(&b);
	if (n < 0)
		return "unbalanced or nested braces (vsftpd syntax: {*.mp3,*.mov,.private})";
	if (n > NAMEFILTER_MAX)
		return "more than 256 alternatives";
	return NULL;
}

void
namefilter_parse(struct vector *f, const char *spec)
{
	struct vector alts = VECTOR_INIT;
	struct buffer b = BUFFER_INIT;

	vector_clear(f);
	if (spec[0] != '\0' && namefilter_check(spec) == NULL)
		expand(spec, &b, &alts, NAMEFILTER_MAX);
	for (size_t i = 0; i < alts.count; i++)
		if (alts.strings[i][0] != '\0')
			add_escaped(f, alts.strings[i], "[]\\");
	vector_free(&alts);
	buffer_free(&b);
}

void
namefilter_add(struct vector *f, const char *name)
{
	add_escaped(f, name, "*?[]\\");
}

int
namefilter_name(const struct vector *f, const char *name)
{
	for (size_t i = 0; i < f->count; i++)
		if (strchr(f->strings[i], '/') == NULL && wildmat_match(name, f->strings[i]))
			return 1;
	return 0;
}

int
namefilter_path(const struct vector *f, const char *vpath)
{
	struct buffer part = BUFFER_INIT;
	const char *p = vpath, *end;
	int hit = 0;

	for (size_t i = 0; !hit && i < f->count; i++)
		hit = strchr(f->strings[i], '/') != NULL && wildmat_match(vpath, f->strings[i]);
	while (!hit && *p) {
		end = strchrnul(p, '/');
		if (end > p) {
			buffer_clear(&part);
			buffer_append(&part, p, (size_t)(end - p));
			hit = namefilter_name(f, buffer_cstr(&part));
		}
		p = *end ? end + 1 : end;
	}
	buffer_free(&part);
	return hit;
}
