/* vector: owned string lists and the field splitters protocol parsers use. */
#include "common/core/vector.h"

#include <stdlib.h>
#include <string.h>

#include "common/core/xmalloc.h"

void
vector_addn(struct vector *v, const char *s, size_t n)
{
	if (v->count == v->alloc) {
		v->alloc = v->alloc ? v->alloc * 2 : 8;
		v->strings = xrealloc(v->strings, v->alloc * sizeof(char *));
	}
	v->strings[v->count++] = xstrndup(s, n);
}

void
vector_add(struct vector *v, const char *s)
{
	vector_addn(v, s, strlen(s));
}

void
vector_clear(struct vector *v)
{
	for (size_t i = 0; i < v->count; i++)
		free(v->strings[i]);
	v->count = 0;
}

void
vector_free(struct vector *v)
{
	vector_clear(v);
	free(v->strings);
	v->strings = NULL;
	v->alloc = 0;
}

void
vector_split_space(struct vector *v, const char *s, size_t max)
{
	vector_clear(v);
	while (max > 0) {
		size_t n;

		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		if (v->count + 1 == max) {
			n = strlen(s);
			while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
				n--;
		} else
			n = strcspn(s, " \t");
		vector_addn(v, s, n);
		s += n;
		if (v->count == max)
			break;
	}
}

void
vector_split(struct vector *v, const char *s, char sep)
{
	const char *p;

	vector_clear(v);
	while ((p = strchr(s, sep)) != NULL) {
		vector_addn(v, s, (size_t)(p - s));
		s = p + 1;
	}
	vector_add(v, s);
}
