/* number: hand-rolled digit loops, so no locale, sign or whitespace
 * surprises from strtoul reach protocol parsing. */
#include "common/core/number.h"

static int
parse_base(const char *s, unsigned base, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == 0 || *s == '\0')
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (d >= base)
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
number_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return parse_base(s, 10, min, max, out);
}

int
number_parse_octal(const char *s, uint64_t max, uint64_t *out)
{
	return parse_base(s, 8, 0, max, out);
}
