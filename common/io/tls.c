/* tls: one place that knows OpenSSL. Contexts refuse anything below
 * TLS 1.2; handshakes are bounded by poll timeouts on a non-blocking fd. */
#include "common/io/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/core/log.h"
#include "common/io/fileio.h"

static void
ssl_error_text(struct buffer *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char text[256];

	ERR_error_string_n(e, text, sizeof(text));
	buffer_printf(err, "%s: %s", what, e ? text : "unknown error");
	ERR_clear_error();
}

/* SECURITY: every block OpenSSL frees is cleared first. Without this the
 * DER the key file decoded to (and other temporaries of the load) stay in
 * the listener's freed heap, and so in every process it forks, even those
 * that free their context (tests/sec_tls_keys.bats found them there). */
static void *
clear_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return malloc(n);
}

static void
clear_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

/* Never realloc in place: a moved block would leave its old copy behind. */
static void *
clear_realloc(void *p, size_t n, const char *file, int line)
{
	size_t old;
	void *q;

	if (p == NULL)
		return clear_malloc(n, file, line);
	if (n == 0) {
		clear_free(p, file, line);
		return NULL;
	}
	q = malloc(n);
	if (q == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	clear_free(p, file, line);
	return q;
}

/* Before OpenSSL's first allocation, or it refuses (and says so). */
static void
clear_heap_init(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	if (CRYPTO_set_mem_functions(clear_malloc, clear_realloc, clear_free) != 1)
		log_msg(LOG_WARNING, "TLS: OpenSSL allocated before its heap could be set "
		                     "to clear on free; freed key bytes may linger");
}

/* Session-ticket keys. Every process of a daemon must decrypt the tickets
 * any other issued (a PROT P data connection resumes the control
 * connection's session in another process), and the keys must change, or
 * one key read out of any process decrypts every session it ever sealed.
 * So the keys live in one ring of three slots (last period's, this
 * period's, the next one's) in a memfd page that the process calling
 * tls_tickets_setup (the listener) maps twice:
 *  - writable, with MADV_DONTFORK, so no child ever has that mapping;
 *  - read-only, after F_SEAL_FUTURE_WRITE, which makes the kernel refuse
 *    to make that mapping (or any new one) writable: a compromised
 *    session can neither plant a key it knows nor wipe the ring.
 * A ticket is sealed with this period's key and opened with this period's
 * or the last one's (then renewed), so it lives one to two periods; the
 * key of the period before is overwritten as the next period's is made,
 * in every process at once. Periods count on CLOCK_MONOTONIC, which all
 * processes share. A slot is rewritten under a sequence count (odd while
 * writing), so a reader never uses a half-written key. */
#define TICKET_SLOTS 3

struct ticket_slot {
	uint64_t seq;
	int64_t period_no;
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
};

struct ticket_ring {
	uint64_t period;
	struct ticket_slot slot[TICKET_SLOTS];
};

static struct ticket_ring *ring_rw;       /* only in the process that made it */
static const struct ticket_ring *ring_ro; /* inherited by every child */
static size_t ring_len;
static pid_t ring_owner; /* who made it: in a child ring_rw is not mapped */

/* The writable ring, or NULL where it is not mapped: in a child, MADV_DONTFORK
 * left its address unmapped (and free for a later mmap to take). */
static struct ticket_ring *
ring_writable(void)
{
	return getpid() == ring_owner ? ring_rw : NULL;
}

static int64_t
period_now(uint64_t period)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)((uint64_t)ts.tv_sec / period);
}

/* Give slot n % 3 fresh keys for period n (-1: no period, no keys). */
static void
write_slot(struct ticket_slot *s, int64_t n)
{
	uint64_t seq = s->seq;

	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->period_no = n;
	if (n >= 0 && (RAND_bytes(s->name, sizeof(s->name)) != 1 ||
	               RAND_bytes(s->aes, sizeof(s->aes)) != 1 ||
	               RAND_bytes(s->hmac, sizeof(s->hmac)) != 1))
		s->period_no = -1; /* never matches: no tickets this period */
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

static void
fill_slot(int64_t n)
{
	struct ticket_slot *s = &ring_rw->slot[n % TICKET_SLOTS];

	if (s->period_no != n)
		write_slot(s, n);
}

/* A consistent copy of the slot for period n; 0, or -1 when the ring has
 * no key for it. */
static int
read_slot(int64_t n, struct ticket_slot *out)
{
	const struct ticket_slot *s;

	if (ring_ro == NULL || n < 0)
		return -1;
	s = &ring_ro->slot[n % TICKET_SLOTS];
	for (int tries = 0; tries < 100; tries++) {
		uint64_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

		if (a & 1)
			continue;
		memcpy(out, (const void *)s, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == a)
			return out->period_no == n && a != 0 ? 0 : -1;
	}
	return -1;
}

static void tickets_forget(void);
static void clear_heap_init(void);

/* The ring (see above) for this process and the children it forks. */
static int
ring_create(uint64_t period, struct buffer *err)
{
	int fd;

	clear_heap_init(); /* before RAND_bytes allocates */
	ring_len = (sizeof(struct ticket_ring) + 4095) & ~(size_t)4095;
	fd = memfd_create("postel-tickets", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, (off_t)ring_len) < 0) {
		buffer_printf(err, "ticket keys: memfd: %s", strerror(errno));
		goto fail;
	}
	ring_rw = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring_rw == MAP_FAILED) {
		ring_rw = NULL;
		buffer_printf(err, "ticket keys: mmap: %s", strerror(errno));
		goto fail;
	}
	ring_owner = getpid();
	/* SECURITY: children get only the read-only mapping below. */
	if (madvise(ring_rw, ring_len, MADV_DONTFORK) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) < 0) {
		buffer_printf(err, "ticket keys: seal: %s", strerror(errno));
		goto fail;
	}
	ring_ro = mmap(NULL, ring_len, PROT_READ, MAP_SHARED, fd, 0);
	if (ring_ro == MAP_FAILED) {
		ring_ro = NULL;
		buffer_printf(err, "ticket keys: mmap: %s", strerror(errno));
		goto fail;
	}
	close(fd);
	ring_rw->period = period;
	for (int i = 0; i < TICKET_SLOTS; i++)
		ring_rw->slot[i].period_no = -1;
	tls_tickets_rotate();
	return 0;
fail:
	tickets_forget();
	if (fd >= 0)
		close(fd);
	return -1;
}

int
tls_tickets_setup(unsigned long period, struct buffer *err)
{
	if (period == 0)
		return 0;
	if (ring_writable() == NULL) {
		tickets_forget();
		return ring_create(period, err);
	}
	if (ring_rw->period != period) {
		/* A new period length: new keys (tickets of the old length end). */
		ring_rw->period = period;
		for (int i = 0; i < TICKET_SLOTS; i++)
			write_slot(&ring_rw->slot[i], -1);
	}
	tls_tickets_rotate();
	return 0;
}

/* One period as long as CLOCK_MONOTONIC can count from boot. */
#define TICKETS_FOREVER ((uint64_t)1 << 62)

int
tls_tickets_own(struct buffer *err)
{
	tickets_forget();
	return ring_create(TICKETS_FOREVER, err);
}

double
tls_tickets_rotate(void)
{
	struct timespec ts;
	int64_t n;

	if (ring_writable() == NULL)
		return -1;
	n = period_now(ring_rw->period);
	/* The slot filled last holds period n-2, out of use from now. */
	for (int64_t k = n - 1; k <= n + 1; k++)
		if (k >= 0)
			fill_slot(k);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)((uint64_t)(n + 1) * ring_rw->period) - (double)ts.tv_sec -
	       (double)ts.tv_nsec / 1e9;
}

static void
tickets_forget(void)
{
	if (ring_ro != NULL)
		munmap((void *)ring_ro, ring_len);
	ring_ro = NULL;
	/* SECURITY: a child's copy of ring_rw points at an address its
	 * parent's MADV_DONTFORK left unmapped here, which a later mmap (the
	 * DTP's progress page) may since have taken: never unmap it. */
	if (ring_writable() != NULL)
		munmap(ring_rw, ring_len);
	ring_rw = NULL;
}

/* OpenSSL's ticket callback: enc=1 seals with this period's key; enc=0
 * finds the key by name among this period's and the last one's. */
static int
ticket_key_cb(SSL *ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
              EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct ticket_slot k;
	OSSL_PARAM params[3];
	int64_t n, use = -1;
	int rc = 0;

	(void)ssl;
	if (ring_ro == NULL)
		return 0;
	n = period_now(ring_ro->period);
	if (enc) {
		if (read_slot(n, &k) < 0 || RAND_bytes(iv, 16) != 1)
			goto out;
		memcpy(name, k.name, sizeof(k.name));
		use = n;
	} else {
		for (int64_t c = n; c >= n - 1 && use < 0; c--)
			if (read_slot(c, &k) == 0 && memcmp(name, k.name, sizeof(k.name)) == 0)
				use = c;
		if (use < 0)
			goto out; /* unknown or expired: a full handshake */
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof(k.hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		goto fail;
	if (enc ? EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1
	        : EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1)
		goto fail;
	/* 2: opened with the last period's key, so send a fresh ticket. */
	rc = use == n ? 1 : 2;
	goto out;
fail:
	rc = -1;
out:
	explicit_bzero(&k, sizeof(k));
	return rc;
}

#define MAX_KEY_FILE (1024 * 1024)

/* The key through our own buffer, cleared after: a FILE's stdio buffer
 * (SSL_CTX_use_PrivateKey_file) would leave the PEM text in the heap. */
static int
use_key_file(SSL_CTX *ctx, const char *key_file, struct buffer *err)
{
	struct stat st;
	EVP_PKEY *pkey = NULL;
	char *text = NULL;
	BIO *bio = NULL;
	ssize_t n = -1;
	int fd, rc = -1;

	fd = open(key_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > MAX_KEY_FILE) {
		buffer_printf(err, "%s: %s", key_file, fd < 0 ? strerror(errno) : "bad size");
		goto out;
	}
	text = OPENSSL_malloc((size_t)st.st_size);
	if (text != NULL)
		n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size) {
		buffer_printf(err, "%s: short read", key_file);
		goto out;
	}
	bio = BIO_new_mem_buf(text, (int)n);
	if (bio != NULL)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, SSL_CTX_get_default_passwd_cb(ctx),
		                               SSL_CTX_get_default_passwd_cb_userdata(ctx));
	if (pkey == NULL || SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
		ssl_error_text(err, key_file);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(pkey); /* the context keeps its own reference */
	BIO_free(bio);
	if (text != NULL)
		OPENSSL_clear_free(text, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	return rc;
}

static SSL_CTX *
new_ctx(struct buffer *err)
{
	SSL_CTX *ctx;

	clear_heap_init();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		ssl_error_text(err, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	return ctx;
}

/* With the certificate and key in: check them, set ciphers and tickets. */
static SSL_CTX *
finish_ctx(SSL_CTX *ctx, const char *ciphers, struct buffer *err)
{
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_error_text(err, "key does not match certificate");
		goto fail;
	}
	if (ciphers != NULL && ciphers[0] != '\0' && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		ssl_error_text(err, "ssl_ciphers");
		goto fail;
	}
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb) != 1) {
		ssl_error_text(err, "session tickets");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_server_ctx(const char *cert_file, const char *key_file, const char *ciphers, struct buffer *err)
{
	SSL_CTX *ctx = new_ctx(err);

	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ssl_error_text(err, cert_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (use_key_file(ctx, key_file, err) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return finish_ctx(ctx, ciphers, err);
}

/* The key, the certificate and its chain as PEM, in that order. */
#define MAX_EXPORT (64 * 1024) /* a pipe's buffer: written without blocking */

int
tls_ctx_export(SSL_CTX *ctx)
{
	BIO *bio = BIO_new(BIO_s_mem());
	STACK_OF(X509) *chain = NULL;
	char *data = NULL;
	long n = 0;
	int p[2] = {-1, -1}, ok;

	ok = bio != NULL && SSL_CTX_get0_privatekey(ctx) != NULL &&
	     PEM_write_bio_PrivateKey(bio, SSL_CTX_get0_privatekey(ctx), NULL, NULL, 0, NULL,
	                              NULL) == 1 &&
	     PEM_write_bio_X509(bio, SSL_CTX_get0_certificate(ctx)) == 1 &&
	     SSL_CTX_get0_chain_certs(ctx, &chain) == 1;
	for (int i = 0; ok && i < sk_X509_num(chain); i++)
		ok = PEM_write_bio_X509(bio, sk_X509_value(chain, i)) == 1;
	if (ok)
		n = BIO_get_mem_data(bio, &data);
	if (!ok || n <= 0 || n > MAX_EXPORT || pipe2(p, O_CLOEXEC) < 0 ||
	    write_all(p[1], data, (size_t)n) < 0) {
		if (p[0] >= 0)
			close(p[0]);
		p[0] = -1;
	}
	if (p[1] >= 0)
		close(p[1]);
	ERR_clear_error();
	BIO_free(bio); /* its buffer is cleared on free (clear_free) */
	return p[0];
}

SSL_CTX *
tls_ctx_import(int fd, const char *ciphers, struct buffer *err)
{
	char *text = OPENSSL_malloc(MAX_EXPORT);
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL, *x;
	SSL_CTX *ctx = NULL;
	BIO *bio = NULL;
	size_t len = 0;
	ssize_t n;

	while (text != NULL && len < MAX_EXPORT &&
	       ((n = read(fd, text + len, MAX_EXPORT - len)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	if (text == NULL || len == 0 || len >= MAX_EXPORT) {
		buffer_printf(err, "no key from the monitor");
		goto out;
	}
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio == NULL || (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL ||
	    (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL || (ctx = new_ctx(err)) == NULL ||
	    SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
		if (err->len == 0)
			ssl_error_text(err, "the monitor's key");
		SSL_CTX_free(ctx);
		ctx = NULL;
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
			X509_free(x);
	ERR_clear_error(); /* the end of the chain */
	ctx = finish_ctx(ctx, ciphers, err);
out:
	EVP_PKEY_free(pkey);
	X509_free(cert);
	BIO_free(bio);
	if (text != NULL)
		OPENSSL_clear_free(text, MAX_EXPORT);
	return ctx;
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

/* A forked child's copy of the context is its own (copy-on-write), so
 * this frees only this process's copy; the listener's stays. The context
 * holds the only reference to its EVP_PKEY; OpenSSL 3.0's RSA and EC free
 * paths clear the private numbers (BN_clear_free, also in the Montgomery
 * contexts that hold p and q), but the load's temporaries (the DER the PEM
 * decoded to) were freed uncleared, so clear_free above clears every block
 * OpenSSL frees, and use_key_file reads the PEM through a buffer it
 * clears. Limits: only memory OpenSSL allocates through CRYPTO_malloc is
 * covered; a key copy in registers or the stack of an earlier call may
 * survive until overwritten. tests/sec_tls_keys.bats checks the result: no
 * 32-byte slice of p or q (either byte order) nor of the PEM text in the
 * whole memory of such a process. A process that did a handshake keeps
 * the key: each SSL holds a reference to it. */
void
tls_ctx_drop(SSL_CTX **slot)
{
	SSL_CTX_free(*slot);
	*slot = NULL;
	tickets_forget();
}

/* Wait for what OpenSSL asked for; returns 0, or -1 on timeout/error. */
static int
tls_wait(SSL *ssl, int fd, int rc, int timeout_ms)
{
	struct pollfd p = {.fd = fd};

	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		p.events = POLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		p.events = POLLOUT;
		break;
	default:
		return -1;
	}
	return poll(&p, 1, timeout_ms) == 1 ? 0 : -1;
}

static SSL *
accept_with(SSL_CTX *ctx, int fd, int timeout_ms, const unsigned char *sid_ctx, unsigned sid_len,
            int tickets)
{
	SSL *ssl = SSL_new(ctx);
	int rc;

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    (!tickets && SSL_set_num_tickets(ssl, 0) != 1) ||
	    (sid_ctx != NULL && SSL_set_session_id_context(ssl, sid_ctx, sid_len) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	/* Non-blocking for the handshake, so timeout_ms bounds it. */
	int flags = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	while ((rc = SSL_accept(ssl)) != 1) {
		if (tls_wait(ssl, fd, rc, timeout_ms) < 0) {
			unsigned long e = ERR_get_error();

			log_msg(LOG_NOTICE, "TLS handshake failed: %s",
			        e ? ERR_reason_error_string(e) : "timeout or peer closed");
			ERR_clear_error();
			SSL_free(ssl);
			fcntl(fd, F_SETFL, flags);
			return NULL;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return ssl;
}

SSL *
tls_accept(SSL_CTX *ctx, int fd, int timeout_ms, const unsigned char *sid_ctx, unsigned sid_len)
{
	return accept_with(ctx, fd, timeout_ms, sid_ctx, sid_len, 1);
}

SSL *
tls_accept_data(SSL_CTX *ctx, int fd, int timeout_ms, const unsigned char *sid_ctx,
                unsigned sid_len)
{
	/* TLS 1.3 sends session tickets after every handshake; a data
	 * connection never needs one, and some clients (GnuTLS in lftp) drop
	 * an upload when one arrives in the middle of it. */
	return accept_with(ctx, fd, timeout_ms, sid_ctx, sid_len, 0);
}

SSL_CTX *
tls_client_ctx(const char *ca_file, struct buffer *err)
{
	SSL_CTX *ctx;

	clear_heap_init(); /* the listener may make a server context later */
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		ssl_error_text(err, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	/* SECURITY: a file, not a directory: X509_LOOKUP_file reads every
	 * certificate now, where a hashed directory would be read at each
	 * handshake (inside a chroot that has none). */
	if (SSL_CTX_load_verify_file(ctx, ca_file) != 1) {
		ssl_error_text(err, ca_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* What the peer's certificate should name: an IP address literal is
 * matched against iPAddress entries and sends no SNI (RFC 6066 3); a name
 * against DNS entries (no partial wildcards), and is sent as SNI. */
static int
expect_host(SSL *ssl, const char *host)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	unsigned char ip[16];

	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(vp, host) == 1 ? 0 : -1;
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

SSL *
tls_connect(SSL_CTX *ctx, int fd, const char *host, int timeout_ms, struct buffer *err)
{
	SSL *ssl = SSL_new(ctx);
	int flags = fcntl(fd, F_GETFL), rc;

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || expect_host(ssl, host) < 0) {
		ssl_error_text(err, "TLS setup");
		SSL_free(ssl);
		return NULL;
	}
	/* Non-blocking for the handshake, so timeout_ms bounds it. */
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	while ((rc = SSL_connect(ssl)) != 1) {
		if (tls_wait(ssl, fd, rc, timeout_ms) < 0)
			break;
	}
	fcntl(fd, F_SETFL, flags);
	/* SECURITY: verified, and it was this peer's certificate that was. */
	if (rc == 1 && SSL_get_verify_result(ssl) == X509_V_OK &&
	    SSL_get0_peer_certificate(ssl) != NULL)
		return ssl;
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		buffer_printf(err, "certificate verification failed: %s",
		              X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
		ERR_clear_error();
	} else if (rc == 1 || ERR_peek_error() != 0) {
		ssl_error_text(err, "TLS handshake");
	} else {
		buffer_puts(err, "TLS handshake: timeout or peer closed");
	}
	SSL_free(ssl);
	return NULL;
}

ssize_t
tls_read(SSL *ssl, void *buf, size_t len)
{
	return tls_read_within(ssl, buf, len, -1);
}

ssize_t
tls_read_within(SSL *ssl, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;
	int rc;

	for (;;) {
		rc = SSL_read_ex(ssl, buf, len, &got);
		if (rc == 1)
			return (ssize_t)got;
		switch (SSL_get_error(ssl, rc)) {
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			if (tls_wait(ssl, SSL_get_fd(ssl), rc, timeout_ms) == 0)
				continue;
			if (timeout_ms >= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			log_msg(LOG_NOTICE, "TLS read: waiting failed: %s (%d)", strerror(errno),
			        SSL_get_error(ssl, rc));
			return -1;
		case SSL_ERROR_SYSCALL: /* errno says why: a reset, a timeout */
			ERR_clear_error();
			return -1;
		default:
			/* A TCP close without close_notify is an end of stream the
			 * caller can tell from a clean one by tls_clean_close(). */
			if (ERR_GET_REASON(ERR_peek_error()) ==
			    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
				ERR_clear_error();
				return 0;
			}
			ERR_clear_error();
			errno = EPROTO;
			return -1;
		}
	}
}

ssize_t
tls_write(SSL *ssl, const void *buf, size_t len)
{
	size_t done = 0;
	int rc;

	for (;;) {
		rc = SSL_write_ex(ssl, buf, len, &done);
		if (rc == 1)
			return (ssize_t)done;
		if (tls_wait(ssl, SSL_get_fd(ssl), rc, -1) == 0)
			continue;
		ERR_clear_error();
		errno = EPIPE;
		return -1;
	}
}

int
tls_pending(SSL *ssl)
{
	return SSL_pending(ssl) > 0;
}

void
tls_close(SSL *ssl)
{
	if (ssl == NULL)
		return;
	SSL_shutdown(ssl);
	SSL_free(ssl);
}

static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
            unsigned int inlen, void *arg)
{
	const char *want = arg;
	size_t wl = strlen(want);

	(void)ssl;
	for (unsigned i = 0; i < inlen;) {
		unsigned n = in[i];

		if (i + 1 + n > inlen)
			break;
		if (n == wl && memcmp(in + i + 1, want, wl) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	/* SECURITY: a client speaking another protocol (ALPACA) is refused. */
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void
tls_require_alpn(SSL_CTX *ctx, const char *proto)
{
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)proto);
}

int
tls_reused(SSL *ssl)
{
	return SSL_session_reused(ssl);
}

int
tls_clean_close(SSL *ssl)
{
	return (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
}

void
tls_relay(SSL *ssl, int plain_fd)
{
	char buf[16384];
	int fd = SSL_get_fd(ssl);

	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
		                      {.fd = plain_fd, .events = POLLIN}};
		ssize_t n;

		if (!tls_pending(ssl) && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (tls_pending(ssl) || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = tls_read(ssl, buf, sizeof(buf));
			if (n <= 0 || write_all(plain_fd, buf, (size_t)n) < 0)
				break;
			continue;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(plain_fd, buf, sizeof(buf));
			if (n <= 0 || tls_write(ssl, buf, (size_t)n) != n)
				break;
		}
	}
	tls_close(ssl);
}
