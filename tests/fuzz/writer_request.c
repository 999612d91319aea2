/* writer_request: libFuzzer target for the writer's request frame parser,
 * fed as the writer gets frames from sessions (untrusted): one body after
 * the length word. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nntpd/store/storeformat.h"
#include "nntpd/writer/proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buffer again = BUFFER_INIT;
	char *msgid, *host;
	const char *payload;
	size_t plen;
	uint32_t kind;

	if (wproto_parse_request(data, size, &kind, &msgid, &host, &payload, &plen) < 0)
		return 0;
	/* The payload lies inside the input and ends it; names within their
	 * limits; and the frame re-encodes to exactly the input bytes. */
	if (!wproto_valid_kind(kind) || payload < (const char *)data ||
	    payload + plen != (const char *)data + size || strlen(msgid) > WRITER_MAX_MSGID ||
	    strlen(host) > WRITER_MAX_HOST)
		abort();
	wproto_encode_request(&again, kind, msgid, host, payload, plen);
	if (again.len != size + 4 ||
	    store_get32((const unsigned char *)buffer_head(&again)) != size ||
	    memcmp(buffer_head(&again) + 4, data, size) != 0)
		abort();
	buffer_free(&again);
	free(msgid);
	free(host);
	return 0;
}
