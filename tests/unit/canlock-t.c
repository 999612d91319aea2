/* canlock-t: RFC 8315 Cancel-Lock/Cancel-Key: the RFC's own example, sha1,
 * several elements, wrong keys and unknown schemes, and the keys nntpd
 * derives for a user. */
#include <string.h>

#include "nntpd/canlock.h"
#include "tap.h"

int
main(void)
{
	struct buffer b = BUFFER_INIT, k = BUFFER_INIT;
	static const unsigned char secret[] = "0123456789abcdef";

	/* RFC 8315 section 2.1's example pair. */
	ok(canlock_lock("sha256:qv1VXHYiCGjkX/N1nhfYKcAeUn8bCVhrWhoKuBSnpMA=", 51, &b) == 0 &&
	       strcmp(buffer_cstr(&b), "sha256:s/pmK/3grrz++29ce2/mQydzJuc7iqHn1nqcJiQTPMc=") == 0,
	   "RFC 8315 example lock: %s", buffer_cstr(&b));
	ok(canlock_match("sha256:qv1VXHYiCGjkX/N1nhfYKcAeUn8bCVhrWhoKuBSnpMA=",
	                 "sha1:bNXHc6ohSmeHaRHHW56BIWZJt+4= "
	                 "sha256:s/pmK/3grrz++29ce2/mQydzJuc7iqHn1nqcJiQTPMc="),
	   "the key opens the second of two locks");
	ok(!canlock_match("sha256:qv1VXHYiCGjkX/N1nhfYKcAeUn8bCVhrWhoKuBSnpMB=",
	                  "sha256:s/pmK/3grrz++29ce2/mQydzJuc7iqHn1nqcJiQTPMc="),
	   "a wrong key opens nothing");
	ok(!canlock_match("sha1:qv1VXHYiCGjkX/N1nhfYKcAeUn8bCVhrWhoKuBSnpMA=",
	                  "sha256:s/pmK/3grrz++29ce2/mQydzJuc7iqHn1nqcJiQTPMc="),
	   "the scheme must agree");
	buffer_clear(&b);
	ok(canlock_lock("md5:abc", 7, &b) < 0 && canlock_lock("sha256:", 7, &b) < 0 &&
	       canlock_lock("abc", 3, &b) < 0,
	   "unknown schemes and malformed elements are refused");
	/* sha1 of "abc": qZk+NkcGgWq6PiVxeFDCbJzQ2J0= */
	ok(canlock_match("  SHA1:abc\t", "sha1:qZk+NkcGgWq6PiVxeFDCbJzQ2J0="),
	   "sha1, scheme without case, whitespace around");
	canlock_key(secret, 16, "alice", "<1@example.com>", &k);
	buffer_clear(&b);
	ok(strncmp(buffer_cstr(&k), "sha256:", 7) == 0 && k.len == 7 + 44 &&
	       canlock_lock(buffer_head(&k), k.len, &b) == 0 &&
	       canlock_match(buffer_cstr(&k), buffer_cstr(&b)),
	   "a user's key opens its lock: %s", buffer_cstr(&k));
	buffer_clear(&b);
	canlock_key(secret, 16, "bob", "<1@example.com>", &b);
	ok(strcmp(buffer_cstr(&b), buffer_cstr(&k)) != 0, "another user gets another key");
	buffer_clear(&b);
	canlock_key(secret, 16, "alice", "<2@example.com>", &b);
	ok(strcmp(buffer_cstr(&b), buffer_cstr(&k)) != 0, "another article gets another key");
	buffer_free(&b);
	buffer_free(&k);
	return tap_done();
}
