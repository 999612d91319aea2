/* ftpaddr: the address and time syntaxes of FTP commands and replies:
 * PORT/EPRT arguments, PASV/EPSV replies, MDTM/MFMT timestamps. */
#ifndef POSTEL_FTPD_FTPADDR_H
#define POSTEL_FTPD_FTPADDR_H

#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "common/core/buffer.h"

enum ftpaddr_result {
	FTPADDR_OK = 0,
	FTPADDR_SYNTAX = -1, /* reply 501 */
	FTPADDR_FAMILY = -2, /* EPRT/EPSV network protocol not 1 or 2: reply 522 */
};

/* PORT h1,h2,h3,h4,p1,p2: exactly six decimals 0-255, port not 0. */
int ftpaddr_parse_port(const char *arg, struct sockaddr_storage *out);
/* EPRT <d>1<d>addr<d>port<d> (RFC 2428): d any of 33..126, af 1 or 2,
 * addr checked with inet_pton, port 1-65535. */
int ftpaddr_parse_eprt(const char *arg, struct sockaddr_storage *out);
/* EPSV argument: NULL/"" -> 0 (any), "1" -> AF_INET, "2" -> AF_INET6,
 * "ALL" (any case) -> *all = 1 and returns 0. */
int ftpaddr_parse_epsv(const char *arg, int *family, int *all);

/* "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)." appended to out, no CRLF.
 * host must be IPv4 (v4-mapped IPv6 accepted); FTPADDR_FAMILY otherwise. */
int ftpaddr_format_pasv(struct buffer *out, const struct sockaddr_storage *host, uint16_t port);
/* "229 Entering Extended Passive Mode (|||port|)" appended to out, no CRLF. */
void ftpaddr_format_epsv(struct buffer *out, uint16_t port);

/* Rewrite an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as AF_INET, port kept. */
void ftpaddr_unmap(struct sockaddr_storage *ss);
/* 1 when a and b are the same host (v4-mapped counts as v4; ports ignored). */
int ftpaddr_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* The port of an AF_INET/AF_INET6 address, host order; 0 for others. */
uint16_t ftpaddr_port(const struct sockaddr_storage *ss);
/* Numeric host text (no port) appended to out, for logs and xferlog. */
void ftpaddr_format_host(struct buffer *out, const struct sockaddr_storage *ss);

/* MDTM/MFMT time YYYYMMDDHHMMSS[.f...] (UTC), strict: every field in range.
 * The fraction is accepted and dropped. 0 and *out, or -1. */
int ftpaddr_parse_time(const char *s, time_t *out);
/* YYYYMMDDHHMMSS (UTC) appended to out. */
void ftpaddr_format_time(struct buffer *out, time_t t);

#endif
