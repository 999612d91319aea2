/* buffer: the one growable byte buffer all protocol data flows through.
 * Bytes live in data[start .. start+len); only buffer.c changes start, len
 * and cap (callers read len, and shorten it with buffer_truncate). */
#ifndef POSTEL_BUFFER_H
#define POSTEL_BUFFER_H

#include <stdarg.h>
#include <stddef.h>

struct buffer {
	char *data;
	size_t start; /* first unread byte */
	size_t len;   /* bytes from start */
	size_t cap;   /* allocated bytes */
};

#define BUFFER_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

void buffer_init(struct buffer *b);
void buffer_free(struct buffer *b);
void buffer_clear(struct buffer *b);
/* Make room for at least n more bytes after the data; returns the tail. */
char *buffer_reserve(struct buffer *b, size_t n);
/* Account for n bytes written into the tail returned by buffer_reserve. */
void buffer_commit(struct buffer *b, size_t n);
/* Keep the first n bytes (n >= len: nothing changes). */
void buffer_truncate(struct buffer *b, size_t n);
void buffer_append(struct buffer *b, const void *p, size_t n);
void buffer_puts(struct buffer *b, const char *s);
void buffer_printf(struct buffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buffer_vprintf(struct buffer *b, const char *fmt, va_list ap);
/* Drop n bytes from the front. */
void buffer_consume(struct buffer *b, size_t n);
static inline char *
buffer_head(const struct buffer *b)
{
	/* NULL + 0 is undefined: an unused buffer has no head. */
	return b->data == NULL ? NULL : b->data + b->start;
}
/* NUL-terminate the data (not counted in len) and return it. */
char *buffer_cstr(struct buffer *b);

#endif
