/* tls: one place that knows OpenSSL. Contexts refuse anything below
 * TLS 1.2; handshakes are bounded by poll timeouts on a non-blocking fd. */
#include "common/io/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

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

SSL_CTX *
tls_server_ctx(const char *cert_file, const char *key_file, const char *ciphers, struct buffer *err)
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
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ssl_error_text(err, cert_file);
		goto fail;
	}
	if (use_key_file(ctx, key_file, err) < 0)
		goto fail;
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_error_text(err, "key does not match certificate");
		goto fail;
	}
	if (ciphers != NULL && ciphers[0] != '\0' && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		ssl_error_text(err, "ssl_ciphers");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
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

ssize_t
tls_read(SSL *ssl, void *buf, size_t len)
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
			if (tls_wait(ssl, SSL_get_fd(ssl), rc, -1) == 0)
				continue;
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
