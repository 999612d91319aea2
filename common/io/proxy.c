/* proxy: strict parsers for both PROXY header versions. Only the exact
 * header is consumed, so the client's own bytes stay in the socket. */
#include "common/io/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/core/cidr.h"
#include "common/core/number.h"

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                         0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static int
set_addr(struct sockaddr_storage *ss, int family, const void *addr, const char *port_text,
         unsigned port_bin)
{
	uint64_t port = port_bin;

	if (port_text != NULL && number_parse(port_text, 0, 65535, &port) < 0)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
		s4->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr, 16);
		s6->sin6_port = htons((uint16_t)port);
	}
	return 0;
}

/* "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n" */
static enum proxy_result
parse_v1(const unsigned char *buf, size_t len, struct sockaddr_storage *src, size_t *consumed)
{
	char line[108], *f[6], *save = NULL;
	unsigned char addr[16];
	const unsigned char *crlf;
	uint64_t dport;
	size_t n;
	int nf = 0, family;

	crlf = memchr(buf, '\n', len);
	if (crlf == NULL)
		return len < 107 ? PROXY_INCOMPLETE : PROXY_BAD;
	n = (size_t)(crlf - buf) + 1;
	if (n > 107 || n < 8 || buf[n - 2] != '\r')
		return PROXY_BAD;
	memcpy(line, buf, n - 2);
	line[n - 2] = '\0';
	char *t = strtok_r(line, " ", &save);

	for (; t != NULL && nf < 6; t = strtok_r(NULL, " ", &save))
		f[nf++] = t;
	*consumed = n;
	if (nf >= 2 && strcmp(f[0], "PROXY") == 0 && strcmp(f[1], "UNKNOWN") == 0)
		return PROXY_LOCAL;
	if (nf != 6 || t != NULL || strcmp(f[0], "PROXY") != 0)
		return PROXY_BAD;
	if (strcmp(f[1], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		family = AF_INET6;
	else
		return PROXY_BAD;
	if (inet_pton(family, f[3], addr) != 1 || inet_pton(family, f[2], addr) != 1)
		return PROXY_BAD;
	if (set_addr(src, family, addr, f[4], 0) < 0 || number_parse(f[5], 0, 65535, &dport) < 0)
		return PROXY_BAD;
	return PROXY_OK;
}

static enum proxy_result
parse_v2(const unsigned char *buf, size_t len, struct sockaddr_storage *src, size_t *consumed)
{
	size_t body;

	if (len < 16)
		return PROXY_INCOMPLETE;
	body = (size_t)buf[14] << 8 | buf[15];
	if ((buf[12] & 0xf0) != 0x20 || 16 + body > PROXY_MAX_HEADER)
		return PROXY_BAD;
	if (len < 16 + body)
		return PROXY_INCOMPLETE;
	*consumed = 16 + body;
	if ((buf[12] & 0x0f) == 0x0) /* LOCAL: health checks from the proxy itself */
		return PROXY_LOCAL;
	if ((buf[12] & 0x0f) != 0x1)
		return PROXY_BAD;
	switch (buf[13]) {
	case 0x11: /* TCP over IPv4: src, dst, sport, dport */
		if (body < 12)
			return PROXY_BAD;
		set_addr(src, AF_INET, buf + 16, NULL, (unsigned)buf[24] << 8 | buf[25]);
		return PROXY_OK;
	case 0x21: /* TCP over IPv6 */
		if (body < 36)
			return PROXY_BAD;
		set_addr(src, AF_INET6, buf + 16, NULL, (unsigned)buf[48] << 8 | buf[49]);
		return PROXY_OK;
	case 0x00: /* UNSPEC */
		return PROXY_LOCAL;
	default:
		return PROXY_BAD;
	}
}

enum proxy_result
proxy_parse(const unsigned char *buf, size_t len, struct sockaddr_storage *src, size_t *consumed)
{
	size_t n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);

	if (len == 0)
		return PROXY_INCOMPLETE;
	if (memcmp(buf, v2_sig, n) == 0)
		return len < sizeof(v2_sig) ? PROXY_INCOMPLETE : parse_v2(buf, len, src, consumed);
	n = len < 6 ? len : 6;
	if (memcmp(buf, "PROXY ", n) != 0)
		return PROXY_BAD;
	return len < 6 ? PROXY_INCOMPLETE : parse_v1(buf, len, src, consumed);
}

int
proxy_trusted(const char *list, const struct sockaddr_storage *ss)
{
	struct addr_key key;
	struct cidr c;

	addr_key_of(ss, &key);
	while (*list != '\0') {
		size_t n = strcspn(list, ", ");

		if (cidr_parse(list, n, &c) == 0 && cidr_match(&c, &key))
			return 1;
		list += n;
		list += strspn(list, ", ");
	}
	return 0;
}

const char *
proxy_check_list(const char *list)
{
	struct cidr c;

	while (*list != '\0') {
		size_t n = strcspn(list, ", ");

		if (cidr_parse(list, n, &c) < 0)
			return "expected addresses or CIDR blocks, separated by commas";
		list += n;
		list += strspn(list, ", ");
	}
	return NULL;
}
