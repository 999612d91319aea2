/* proxy_header: libFuzzer target for the PROXY v1/v2 header parser. */
#include <stdint.h>
#include <stdlib.h>

#include "common/io/proxy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage src;
	size_t used = 0;
	enum proxy_result r = proxy_parse(data, size, &src, &used);

	/* A complete header never claims more bytes than it was given. */
	if ((r == PROXY_OK || r == PROXY_LOCAL) && (used == 0 || used > size))
		abort();
	return 0;
}
