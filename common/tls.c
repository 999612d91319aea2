/* tls: one place that knows OpenSSL. Contexts refuse anything below
 * TLS 1.2; handshakes are bounded by poll timeouts on a non-blocking fd. */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"

static void
ssl_error_text(struct buffer *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char text[256];

	ERR_error_string_n(e, text, sizeof(text));
	buffer_printf(err, "%s: %s", what, e ? text : "unknown error");
	ERR_clear_error();
}

SSL_CTX *
tls_server_ctx(const char *cert_file, const char *key_file, const char *ciphers,
	       struct buffer *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

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
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ssl_error_text(err, key_file);
		goto fail;
	}
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

SSL *
tls_accept(SSL_CTX *ctx, int fd, int timeout_ms)
{
	SSL *ssl = SSL_new(ctx);
	int rc;

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	while ((rc = SSL_accept(ssl)) != 1) {
		if (tls_wait(ssl, fd, rc, timeout_ms) < 0) {
			unsigned long e = ERR_get_error();

			log_msg(LOG_NOTICE, "TLS handshake failed: %s",
				e ? ERR_reason_error_string(e) : "timeout or peer closed");
			ERR_clear_error();
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
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
			return -1;
		default:
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
