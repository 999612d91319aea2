/* canlock: RFC 8315 Cancel-Lock and Cancel-Key. A Cancel-Lock element is
 * "scheme:base64(hash(K))" where K is the c-key-string of the matching
 * Cancel-Key element "scheme:K"; schemes sha1 and sha256. The keys nntpd
 * makes for authenticated users (INN 2.7's addcanlockuser) are RFC 8315
 * section 4's K = base64(HMAC-SHA256(secret, user + Message-ID)). Pure. */
#ifndef POSTEL_NNTPD_CANLOCK_H
#define POSTEL_NNTPD_CANLOCK_H

#include <stddef.h>

#include "common/core/buffer.h"

/* "sha256:K" for msgid posted by user, appended to out. */
void canlock_key(const unsigned char *secret, size_t slen, const char *user, const char *msgid,
                 struct buffer *out);
/* The Cancel-Lock element of a Cancel-Key element "scheme:K", appended to
 * out; 0, or -1 for an unknown scheme or a malformed element. */
int canlock_lock(const char *key, size_t len, struct buffer *out);
/* 1 when some element of the Cancel-Key value keys opens some element of
 * the Cancel-Lock value locks (whitespace-separated lists), else 0. */
int canlock_match(const char *keys, const char *locks);

#endif
