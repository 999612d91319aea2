/* nntp_wildmat: libFuzzer target for RFC 3977 wildmats: the input is
 * "text\npattern"; single patterns and lists, UTF-8 or not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/wildmat.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *pat;

	memcpy(buf, data, size);
	buf[size] = '\0';
	pat = strchr(buf, '\n');
	if (pat != NULL)
		*pat++ = '\0';
	else
		pat = buf;
	wildmat_match(buf, pat);
	wildmat_match_list(buf, pat);
	/* Every text matches "*" and itself when it has no special octets. */
	if (!wildmat_match(buf, "*"))
		abort();
	if (strpbrk(buf, "*?[]\\,!") == NULL && !wildmat_match(buf, buf))
		abort();
	free(buf);
	return 0;
}
