/* buffer: growable byte buffer with a consumed front, so a line reader can
 * take lines off the front and refill the back without copying per line. */
#include "common/core/buffer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/xmalloc.h"

void
buffer_init(struct buffer *b)
{
	memset(b, 0, sizeof(*b));
}

void
buffer_free(struct buffer *b)
{
	free(b->data);
	buffer_init(b);
}

void
buffer_clear(struct buffer *b)
{
	b->start = 0;
	b->len = 0;
}

void
buffer_truncate(struct buffer *b, size_t n)
{
	if (n < b->len)
		b->len = n;
}

char *
buffer_reserve(struct buffer *b, size_t n)
{
	if (b->start > 0 && b->start + b->len + n > b->cap) {
		memmove(b->data, b->data + b->start, b->len);
		b->start = 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	return b->data + b->start + b->len;
}

void
buffer_commit(struct buffer *b, size_t n)
{
	b->len += n;
}

void
buffer_append(struct buffer *b, const void *p, size_t n)
{
	if (n == 0) /* p may be NULL then: an empty buffer's data */
		return;
	memcpy(buffer_reserve(b, n), p, n);
	b->len += n;
}

void
buffer_puts(struct buffer *b, const char *s)
{
	buffer_append(b, s, strlen(s));
}

void
buffer_vprintf(struct buffer *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(buffer_reserve(b, 128), 128, fmt, copy);
	va_end(copy);
	if (n < 0)
		die("buffer_printf: bad format %s", fmt);
	if ((size_t)n >= 128)
		vsnprintf(buffer_reserve(b, (size_t)n + 1), (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buffer_printf(struct buffer *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buffer_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buffer_consume(struct buffer *b, size_t n)
{
	if (n >= b->len) {
		b->start = 0;
		b->len = 0;
	} else {
		b->start += n;
		b->len -= n;
	}
}

char *
buffer_cstr(struct buffer *b)
{
	buffer_reserve(b, 1);
	b->data[b->start + b->len] = '\0';
	return b->data + b->start;
}
