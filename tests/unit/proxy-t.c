/* proxy-t: PROXY protocol v1/v2 headers and trusted-address lists. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/io/proxy.h"
#include "tap.h"

static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static enum proxy_result
parse(const char *s, struct sockaddr_storage *src, size_t *used)
{
	return proxy_parse((const unsigned char *)s, strlen(s), src, used);
}

static const char *
host(const struct sockaddr_storage *ss)
{
	static char text[64];
	const void *a = ss->ss_family == AF_INET
	                    ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
	                    : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	inet_ntop(ss->ss_family, a, text, sizeof(text));
	return text;
}

int
main(void)
{
	struct sockaddr_storage src, v4 = {0}, v6 = {0};
	unsigned char v2[64];
	size_t used = 0;

	ok(parse("PROXY TCP4 10.1.2.3 127.0.0.1 5555 21\r\nUSER x\r\n", &src, &used) == PROXY_OK,
	   "v1 TCP4 parses");
	is_string("10.1.2.3", host(&src), "v1 source address");
	ok(used == 39, "v1 consumes exactly the header (%zu)", used);
	ok(ntohs(((struct sockaddr_in *)&src)->sin_port) == 5555, "v1 source port");
	ok(parse("PROXY TCP6 2001:db8::1 ::1 1 2\r\n", &src, &used) == PROXY_OK &&
	       strcmp(host(&src), "2001:db8::1") == 0,
	   "v1 TCP6 parses");
	ok(parse("PROXY UNKNOWN\r\n", &src, &used) == PROXY_LOCAL, "v1 UNKNOWN keeps the peer");
	ok(parse("PROXY TCP4 10.1.2.3 127.0.0.1 5555", &src, &used) == PROXY_INCOMPLETE,
	   "v1 prefix is incomplete");
	ok(parse("PRO", &src, &used) == PROXY_INCOMPLETE, "short prefix is incomplete");
	ok(parse("USER anonymous\r\n", &src, &used) == PROXY_BAD, "client bytes are not a header");
	ok(parse("PROXY TCP4 10.1.2.3 127.0.0.1 99999 21\r\n", &src, &used) == PROXY_BAD,
	   "v1 port out of range");
	ok(parse("PROXY TCP4 ::1 127.0.0.1 1 21\r\n", &src, &used) == PROXY_BAD,
	   "v1 family mismatch");
	ok(parse("PROXY TCP4 10.1.2.3 127.0.0.1 1 21 extra\r\n", &src, &used) == PROXY_BAD,
	   "v1 extra field");
	ok(parse("PROXY TCP4 10.1.2.3 127.0.0.1 1 21\n", &src, &used) == PROXY_BAD,
	   "v1 needs CR LF");

	memcpy(v2, sig, 12);
	v2[12] = 0x21;
	v2[13] = 0x11;
	v2[14] = 0;
	v2[15] = 12;
	memcpy(v2 + 16, "\x0a\x00\x00\x07\x7f\x00\x00\x01\x9c\x40\x00\x15", 12);
	ok(proxy_parse(v2, 28, &src, &used) == PROXY_OK && used == 28, "v2 TCP4 parses");
	is_string("10.0.0.7", host(&src), "v2 source address");
	ok(ntohs(((struct sockaddr_in *)&src)->sin_port) == 40000, "v2 source port");
	ok(proxy_parse(v2, 20, &src, &used) == PROXY_INCOMPLETE, "v2 truncated body waits");
	v2[12] = 0x20;
	ok(proxy_parse(v2, 28, &src, &used) == PROXY_LOCAL, "v2 LOCAL keeps the peer");
	v2[12] = 0x31;
	ok(proxy_parse(v2, 28, &src, &used) == PROXY_BAD, "v2 wrong version refused");
	v2[12] = 0x21;
	v2[15] = 4;
	ok(proxy_parse(v2, 20, &src, &used) == PROXY_BAD, "v2 body too short for TCP4");
	v2[14] = 0xff;
	ok(proxy_parse(v2, 28, &src, &used) == PROXY_BAD, "v2 oversized length refused");

	v4.ss_family = AF_INET;
	inet_pton(AF_INET, "10.20.30.40", &((struct sockaddr_in *)&v4)->sin_addr);
	v6.ss_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:10.20.30.40", &((struct sockaddr_in6 *)&v6)->sin6_addr);
	ok(proxy_trusted("10.0.0.0/8", &v4), "CIDR match");
	ok(proxy_trusted("127.0.0.1, 10.20.30.40", &v4), "exact address in a list");
	ok(!proxy_trusted("10.20.30.41,192.168.0.0/16", &v4), "no match");
	ok(proxy_trusted("10.20.30.0/24", &v6), "v4-mapped matches an IPv4 block");
	ok(!proxy_trusted("", &v4), "an empty list trusts nobody");
	ok(proxy_check_list("10.0.0.0/8,::1,fe80::/10") == NULL, "good list");
	ok(proxy_check_list("10.0.0.0/33") != NULL && proxy_check_list("proxy.example") != NULL,
	   "bad prefix and names refused");
	return tap_done();
}
