/* ftpaddr: PORT/EPRT parsing, PASV/EPSV replies, address comparison for the
 * bounce and port-theft checks, and the MDTM/MFMT time syntax. */
#include "ftpd/ftpaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/number.h"
#include "common/core/vector.h"

/* Longest EPRT argument worth looking at: an IPv6 text address is at most
 * 45 bytes; anything far longer is junk. */
#define EPRT_MAX 128

int
ftpaddr_parse_port(const char *arg, struct sockaddr_storage *out)
{
	struct vector v = VECTOR_INIT;
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	uint64_t n[6];
	size_t i;
	int rc = FTPADDR_SYNTAX;

	vector_split(&v, arg, ',');
	if (v.count != 6)
		goto done;
	for (i = 0; i < 6; i++)
		if (number_parse(v.strings[i], 0, 255, &n[i]) < 0)
			goto done;
	if (n[4] == 0 && n[5] == 0)
		goto done;
	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl((uint32_t)(n[0] << 24 | n[1] << 16 | n[2] << 8 | n[3]));
	sin->sin_port = htons((uint16_t)(n[4] << 8 | n[5]));
	rc = FTPADDR_OK;
done:
	vector_free(&v);
	return rc;
}

int
ftpaddr_parse_eprt(const char *arg, struct sockaddr_storage *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
	struct vector v = VECTOR_INIT;
	size_t len = strlen(arg);
	uint64_t af, port;
	int rc = FTPADDR_SYNTAX;

	if (len < 2 || len > EPRT_MAX || arg[0] < 33 || arg[0] > 126 || arg[len - 1] != arg[0])
		return FTPADDR_SYNTAX;
	/* "|1|a|p|" splits into "", "1", "a", "p", "". */
	vector_split(&v, arg, arg[0]);
	if (v.count != 5 || v.strings[0][0] != '\0' || v.strings[4][0] != '\0')
		goto done;
	if (number_parse(v.strings[3], 1, 65535, &port) < 0)
		goto done;
	if (number_parse(v.strings[1], 0, 255, &af) < 0)
		goto done;
	memset(out, 0, sizeof(*out));
	if (af == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, v.strings[2], &sin->sin_addr) == 1)
			rc = FTPADDR_OK;
	} else if (af == 2) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, v.strings[2], &sin6->sin6_addr) == 1)
			rc = FTPADDR_OK;
	} else {
		rc = FTPADDR_FAMILY;
	}
done:
	vector_free(&v);
	return rc;
}

int
ftpaddr_parse_epsv(const char *arg, int *family, int *all)
{
	*family = 0;
	*all = 0;
	if (arg == NULL || *arg == '\0')
		return FTPADDR_OK;
	if (strcasecmp(arg, "ALL") == 0) {
		*all = 1;
		return FTPADDR_OK;
	}
	if (strcmp(arg, "1") == 0) {
		*family = AF_INET;
		return FTPADDR_OK;
	}
	if (strcmp(arg, "2") == 0) {
		*family = AF_INET6;
		return FTPADDR_OK;
	}
	for (; *arg; arg++)
		if (!isdigit((unsigned char)*arg))
			return FTPADDR_SYNTAX;
	return FTPADDR_FAMILY;
}

int
ftpaddr_format_pasv(struct buffer *out, const struct sockaddr_storage *host, uint16_t port)
{
	struct sockaddr_storage ss = *host;
	const unsigned char *a;

	ftpaddr_unmap(&ss);
	if (ss.ss_family != AF_INET)
		return FTPADDR_FAMILY;
	a = (const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr;
	buffer_printf(out, "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).", a[0], a[1], a[2], a[3],
	              (unsigned)(port >> 8), (unsigned)(port & 0xff));
	return FTPADDR_OK;
}

void
ftpaddr_format_epsv(struct buffer *out, uint16_t port)
{
	buffer_printf(out, "229 Entering Extended Passive Mode (|||%u|)", (unsigned)port);
}

void
ftpaddr_unmap(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in sin;

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = sin6->sin6_port;
	memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
}

int
ftpaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct sockaddr_storage x = *a, y = *b;

	ftpaddr_unmap(&x);
	ftpaddr_unmap(&y);
	if (x.ss_family != y.ss_family)
		return 0;
	if (x.ss_family == AF_INET)
		return memcmp(&((struct sockaddr_in *)&x)->sin_addr,
		              &((struct sockaddr_in *)&y)->sin_addr, sizeof(struct in_addr)) == 0;
	if (x.ss_family == AF_INET6)
		return memcmp(&((struct sockaddr_in6 *)&x)->sin6_addr,
		              &((struct sockaddr_in6 *)&y)->sin6_addr,
		              sizeof(struct in6_addr)) == 0 &&
		       ((struct sockaddr_in6 *)&x)->sin6_scope_id ==
		           ((struct sockaddr_in6 *)&y)->sin6_scope_id;
	return 0;
}

uint16_t
ftpaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

void
ftpaddr_format_host(struct buffer *out, const struct sockaddr_storage *ss)
{
	struct sockaddr_storage x = *ss;
	char text[INET6_ADDRSTRLEN];
	const void *addr;

	ftpaddr_unmap(&x);
	if (x.ss_family == AF_INET)
		addr = &((struct sockaddr_in *)&x)->sin_addr;
	else if (x.ss_family == AF_INET6)
		addr = &((struct sockaddr_in6 *)&x)->sin6_addr;
	else
		addr = NULL;
	if (addr == NULL || inet_ntop(x.ss_family, addr, text, sizeof(text)) == NULL)
		buffer_puts(out, "unknown");
	else
		buffer_puts(out, text);
}

/* n decimal digits at s, as a number. */
static int
digits(const char *s, int n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return days[month - 1] + (month == 2 && leap);
}

int
ftpaddr_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	size_t i, len = strlen(s);
	time_t t;

	if (len < 14)
		return -1;
	for (i = 0; i < 14; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	if (len > 14) {
		/* RFC 3659 time-val: optional "." and one or more digits. */
		if (s[14] != '.' || len == 15 || len > 24)
			return -1;
		for (i = 15; i < len; i++)
			if (!isdigit((unsigned char)s[i]))
				return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 4, 2) - 1;
	tm.tm_mday = digits(s + 6, 2);
	tm.tm_hour = digits(s + 8, 2);
	tm.tm_min = digits(s + 10, 2);
	tm.tm_sec = digits(s + 12, 2);
	if (tm.tm_year + 1900 < 1000 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > days_in_month(tm.tm_year + 1900, tm.tm_mon + 1) || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

void
ftpaddr_format_time(struct buffer *out, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	buffer_printf(out, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	              tm.tm_hour, tm.tm_min, tm.tm_sec);
}
