/* privsep_msg: libFuzzer target for the monitor channel's datagram decoder
 * and the PS_LOGIN payload parser, as a compromised worker would feed them.
 * Input: one byte of control result (bit 0: truncated, bits 1-2: fd count),
 * then the datagram. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/priv/privsep.h"

#define FAKE_FD 1000 /* never opened: ps_decode must not touch descriptors */

static struct ps_msg m;

/* What a well-formed datagram is, written independently of ps_decode. */
static int
well_formed(const uint8_t *d, size_t n, int truncated, size_t nfd)
{
	uint32_t type, len;

	if (truncated || nfd > 1 || n < 8)
		return 0;
	memcpy(&type, d, 4);
	memcpy(&len, d + 4, 4);
	return len == n - 8 && len <= PS_MAX_PAYLOAD && type >= PS_OK && type < PS_TYPE_MAX;
}

static void
check_login(size_t max_user)
{
	const char *user = NULL, *pass = NULL;

	if (ps_login_parse(&m, max_user, &user, &pass) < 0)
		return;
	size_t ul = strlen(user), pl = strlen(pass);

	/* Both strings inside data, the user within bounds, and together
	 * exactly the payload. */
	if (m.type != PS_LOGIN || user != m.data || pass != m.data + ul + 1 || ul == 0 ||
	    ul > max_user || ul + pl + 2 != m.len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char again[PS_MAX_DGRAM];

	if (size < 1)
		return 0;
	int truncated = data[0] & 1;
	size_t nfd = (data[0] >> 1) & 3;
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	int rc = ps_decode(&m, d, n, truncated, nfd, nfd > 0 ? FAKE_FD : -1);

	if (rc != (well_formed(d, n, truncated, nfd) ? 0 : -1))
		abort();
	if (rc < 0) {
		if (m.fd != -1)
			abort();
		return 0;
	}
	/* A decoded message re-encodes to the same bytes, NUL-terminated,
	 * with the fd only when exactly one came. */
	if (m.data[m.len] != '\0' || m.fd != (nfd == 1 ? FAKE_FD : -1) ||
	    ps_encode(again, sizeof(again), m.type, m.data, m.len) != n || memcmp(again, d, n) != 0)
		abort();
	check_login(32);
	check_login(m.len > 0 ? (unsigned char)m.data[0] % 8 : 0);
	return 0;
}
