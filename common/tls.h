/* tls: OpenSSL 3 contexts (TLS 1.2+), handshakes, and reads/writes on a
 * connection. The only file that includes OpenSSL headers for I/O. */
#ifndef POSTEL_TLS_H
#define POSTEL_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "buffer.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

/* Server context from a PEM certificate chain and key. NULL and a reason
 * in err on failure. ciphers may be NULL or "" for OpenSSL's defaults. */
SSL_CTX *tls_server_ctx(const char *cert_file, const char *key_file, const char *ciphers,
			struct buffer *err);
/* Server handshake on fd within timeout_ms; NULL on failure (logged). */
SSL *tls_accept(SSL_CTX *ctx, int fd, int timeout_ms);
/* read/write semantics: >0 bytes, 0 orderly close, -1 error. */
ssize_t tls_read(SSL *ssl, void *buf, size_t len);
ssize_t tls_write(SSL *ssl, const void *buf, size_t len);
/* Whether decrypted bytes are already waiting inside OpenSSL. */
int tls_pending(SSL *ssl);
/* Send close_notify (best effort) and free. */
void tls_close(SSL *ssl);

#endif
