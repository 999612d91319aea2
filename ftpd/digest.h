/* digest: the checksums HASH (draft-bryan-ftpext-hash-02) and ProFTPD's
 * XSHA256/XSHA512/XSHA1/XMD5/XCRC answer, over a byte range of a file.
 * Neutral: the PI names algorithms, the monitor's hasher computes. */
#ifndef FTPD_DIGEST_H
#define FTPD_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_HEX_MAX 129 /* SHA-512 in hex, and its NUL */

enum digest_algo { DIGEST_SHA256, DIGEST_SHA512, DIGEST_SHA1, DIGEST_MD5, DIGEST_CRC32, DIGEST_N };

/* The IANA "Hash Function Textual Name" of a (HASH, FEAT, OPTS HASH). */
const char *digest_name(enum digest_algo a);
/* The algorithm named name (case-insensitive), or -1. */
int digest_find(const char *name);
/* The FEAT line "HASH SHA-256*;SHA-512;..." with current starred, into out. */
void digest_feat(char *out, size_t cap, enum digest_algo current);

/* The length of a's digest in hex digits. */
size_t digest_hex_len(enum digest_algo a);
/* Hash len bytes of fd from offset start into hex (lowercase, NUL ended),
 * reading at most rate bytes a second (0: no limit). 0; -1/errno on a read
 * error; the file ending early is EIO. */
int digest_fd(int fd, enum digest_algo a, uint64_t start, uint64_t len, unsigned long rate,
              char hex[DIGEST_HEX_MAX]);

#endif
