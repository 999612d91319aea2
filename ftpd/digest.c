/* digest: SHA-2, SHA-1 and MD5 through OpenSSL's EVP, CRC32 through zlib,
 * read with pread so the file's offset stays where the PI left it. */
#include "ftpd/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/core/log.h"
#include "common/core/pace.h"
#include "common/core/throttle.h"
#include "common/core/xmalloc.h"

#define DIGEST_BUF (256U * 1024)

static const struct {
	const char *name;
	const EVP_MD *(*md)(void); /* NULL: CRC32 */
} algos[DIGEST_N] = {
    [DIGEST_SHA256] = {"SHA-256", EVP_sha256}, [DIGEST_SHA512] = {"SHA-512", EVP_sha512},
    [DIGEST_SHA1] = {"SHA-1", EVP_sha1},       [DIGEST_MD5] = {"MD5", EVP_md5},
    [DIGEST_CRC32] = {"CRC32", NULL},
};

const char *
digest_name(enum digest_algo a)
{
	return algos[a].name;
}

int
digest_find(const char *name)
{
	for (int i = 0; i < DIGEST_N; i++)
		if (strcasecmp(algos[i].name, name) == 0)
			return i;
	return -1;
}

void
digest_feat(char *out, size_t cap, enum digest_algo current)
{
	size_t n = 0;
	int w = snprintf(out, cap, "HASH ");

	for (int i = 0; i < DIGEST_N && w >= 0 && (n += (size_t)w) < cap; i++)
		w = snprintf(out + n, cap - n, "%s%s%s", i ? ";" : "", algos[i].name,
		             i == (int)current ? "*" : "");
	if (w < 0 || n >= cap)
		die("digest_feat: %zu bytes are too few", cap);
}

size_t
digest_hex_len(enum digest_algo a)
{
	return algos[a].md == NULL ? 8 : 2 * (size_t)EVP_MD_size(algos[a].md());
}

static void
to_hex(const unsigned char *d, size_t n, char hex[DIGEST_HEX_MAX])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * n] = '\0';
}

int
digest_fd(int fd, enum digest_algo a, uint64_t start, uint64_t len, unsigned long rate,
          char hex[DIGEST_HEX_MAX])
{
	size_t chunk = rate > 0 && rate / 4 + 1 < DIGEST_BUF ? rate / 4 + 1 : DIGEST_BUF;
	double t0 = mono_seconds();
	unsigned char *buf = xmalloc(DIGEST_BUF), md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = NULL;
	uLong crc = crc32(0L, Z_NULL, 0);
	uint64_t done = 0;
	unsigned mdlen = 0;
	int rc = -1, err = 0;

	if (algos[a].md != NULL) {
		ctx = EVP_MD_CTX_new();
		if (ctx == NULL || EVP_DigestInit_ex(ctx, algos[a].md(), NULL) != 1)
			die("EVP_DigestInit_ex %s failed", algos[a].name);
	}
	while (done < len) {
		size_t want = len - done < chunk ? (size_t)(len - done) : chunk;
		ssize_t n;

		/* A hash reads like a download: the same shared buckets. */
		want = (size_t)throttle_chunk(THROTTLE_DOWN, want);
		throttle_take(THROTTLE_DOWN, want);
		n = pread(fd, buf, want, (off_t)(start + done));
		throttle_give_back(THROTTLE_DOWN, n > 0 ? want - (size_t)n : want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? EIO : errno;
			goto out;
		}
		if (ctx != NULL)
			EVP_DigestUpdate(ctx, buf, (size_t)n);
		else
			crc = crc32(crc, buf, (uInt)n);
		done += (uint64_t)n;
		pace(rate, t0, done);
	}
	if (ctx != NULL) {
		EVP_DigestFinal_ex(ctx, md, &mdlen);
	} else {
		for (int i = 0; i < 4; i++)
			md[i] = (unsigned char)(crc >> (24 - 8 * i));
		mdlen = 4;
	}
	to_hex(md, mdlen, hex);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	if (rc < 0)
		errno = err;
	return rc;
}
