/* proxy: the PROXY protocol (v1 text, v2 binary) header HAProxy sends
 * before the client's bytes, and the trusted-address list it is taken from. */
#ifndef POSTEL_PROXY_H
#define POSTEL_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest header: v1 is at most 107 bytes, v2 16 + up to 216 for TCP. */
#define PROXY_MAX_HEADER 232

enum proxy_result {
	PROXY_INCOMPLETE = 0, /* a valid prefix, all of it header: read more */
	PROXY_OK = 1,         /* *src holds the client, *consumed the header size */
	PROXY_LOCAL = 2,      /* v2 LOCAL or v1 UNKNOWN: keep the real peer */
	PROXY_BAD = -1,       /* not a PROXY header, or malformed */
};

enum proxy_result proxy_parse(const unsigned char *buf, size_t len, struct sockaddr_storage *src,
                              size_t *consumed);
/* Whether addr (v4-mapped counts as v4) is in the comma-separated list of
 * addresses and CIDR blocks. */
int proxy_trusted(const char *list, const struct sockaddr_storage *addr);
/* NULL if list is a good address/CIDR list, else the reason (conf check). */
const char *proxy_check_list(const char *list);

#endif
