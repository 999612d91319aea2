/* canlock: RFC 8315 Cancel-Lock and Cancel-Key (see canlock.h). */
#include "nntpd/canlock.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

static void
base64(const unsigned char *p, size_t n, struct buffer *out)
{
	char enc[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	int len = EVP_EncodeBlock((unsigned char *)enc, p, (int)n);

	buffer_append(out, enc, (size_t)len);
}

void
canlock_key(const unsigned char *secret, size_t slen, const char *user, const char *msgid,
            struct buffer *out)
{
	struct buffer in = BUFFER_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	buffer_printf(&in, "%s%s", user, msgid);
	HMAC(EVP_sha256(), secret, (int)slen, (const unsigned char *)buffer_head(&in), in.len, md,
	     &mdlen);
	buffer_puts(out, "sha256:");
	base64(md, mdlen, out);
	buffer_free(&in);
}

int
canlock_lock(const char *key, size_t len, struct buffer *out)
{
	const char *colon = memchr(key, ':', len);
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t slen, klen;

	if (colon == NULL || colon == key || colon + 1 == key + len)
		return -1;
	slen = (size_t)(colon - key);
	klen = len - slen - 1;
	if (slen == 4 && strncasecmp(key, "sha1", 4) == 0) {
		SHA1((const unsigned char *)colon + 1, klen, md);
		buffer_puts(out, "sha1:");
		base64(md, SHA_DIGEST_LENGTH, out);
	} else if (slen == 6 && strncasecmp(key, "sha256", 6) == 0) {
		SHA256((const unsigned char *)colon + 1, klen, md);
		buffer_puts(out, "sha256:");
		base64(md, SHA256_DIGEST_LENGTH, out);
	} else {
		return -1;
	}
	return 0;
}

/* Whether the element lock (len n) equals want: the scheme is compared
 * without case, the base64 exactly. */
static int
same_lock(const char *lock, size_t n, const struct buffer *want)
{
	const char *w = buffer_head(want), *c = memchr(w, ':', want->len);
	size_t slen = (size_t)(c - w);

	return n == want->len && strncasecmp(lock, w, slen) == 0 &&
	       memcmp(lock + slen, w + slen, n - slen) == 0;
}

int
canlock_match(const char *keys, const char *locks)
{
	static const char ws[] = " \t\r\n";
	struct buffer want = BUFFER_INIT;
	int found = 0;

	for (const char *k = keys + strspn(keys, ws); *k != '\0' && !found; k += strspn(k, ws)) {
		size_t kn = strcspn(k, ws);

		buffer_clear(&want);
		if (canlock_lock(k, kn, &want) == 0)
			for (const char *l = locks + strspn(locks, ws); *l != '\0' && !found;
			     l += strspn(l, ws)) {
				size_t ln = strcspn(l, ws);

				found = same_lock(l, ln, &want);
				l += ln;
			}
		k += kn;
	}
	buffer_free(&want);
	return found;
}
