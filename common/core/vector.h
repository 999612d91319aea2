/* vector: a growable list of owned strings (argument lists, repeatable
 * config keys, command words). */
#ifndef POSTEL_VECTOR_H
#define POSTEL_VECTOR_H

#include <stddef.h>

struct vector {
	size_t count;
	size_t alloc;
	char **strings;
};

#define VECTOR_INIT                                                                                \
	{                                                                                          \
		0, 0, NULL                                                                         \
	}

void vector_add(struct vector *v, const char *s);
void vector_addn(struct vector *v, const char *s, size_t n);
void vector_clear(struct vector *v);
void vector_free(struct vector *v);
/* Split s on runs of spaces and tabs into at most max fields; the last
 * field takes the rest of the line. Replaces v's contents. */
void vector_split_space(struct vector *v, const char *s, size_t max);
/* Split s on every occurrence of sep (empty fields kept). */
void vector_split(struct vector *v, const char *s, char sep);

#endif
