/* tls: OpenSSL 3 contexts (TLS 1.2+), handshakes, and reads/writes on a
 * connection. The only file that includes OpenSSL headers for I/O. */
#ifndef POSTEL_TLS_H
#define POSTEL_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/core/buffer.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

/* Server context from a PEM certificate chain and key. NULL and a reason
 * in err on failure. ciphers may be NULL or "" for OpenSSL's defaults. */
SSL_CTX *tls_server_ctx(const char *cert_file, const char *key_file, const char *ciphers,
                        struct buffer *err);
/* Session-ticket keys shared by this process and every child it forks
 * afterwards (read-only there), changed every period seconds (0: none
 * shared; see tls_tickets_own); call again on reload (a new period length
 * means new keys). Without keys a context issues no tickets and resumes
 * none. -1 with a reason in err. */
int tls_tickets_setup(unsigned long period, struct buffer *err);
/* Forget inherited ticket keys and make this process's own, for its life,
 * shared the same way with the children it forks from now on. */
int tls_tickets_own(struct buffer *err);
/* In the process that called tls_tickets_setup: make the keys due now.
 * Returns the seconds until it is due again (-1: no ticket keys). */
double tls_tickets_rotate(void);
/* The context's key and certificate chain, as the read end of a pipe
 * (for a privileged process to hand to one that may soon do TLS); -1 on
 * failure. */
int tls_ctx_export(SSL_CTX *ctx);
/* A server context from what tls_ctx_export wrote into fd. NULL and a
 * reason in err on failure. */
SSL_CTX *tls_ctx_import(int fd, const char *ciphers, struct buffer *err);
/* Free a context (NULL: nothing); sessions already started keep theirs. */
void tls_ctx_free(SSL_CTX *ctx);
/* In a process that will never do TLS: free the context it inherited and
 * set the slot to NULL, so its copy of the private key is cleared (see
 * tls.c for what OpenSSL clears and what it cannot), and unmap the
 * session-ticket keys. */
void tls_ctx_drop(SSL_CTX **slot);
/* Server handshake on fd within timeout_ms, resumable only within the
 * session context sid_ctx (NULL: none); NULL on failure (logged). */
SSL *tls_accept(SSL_CTX *ctx, int fd, int timeout_ms, const unsigned char *sid_ctx,
                unsigned sid_len);
/* The same for an FTP data connection: no session tickets are issued. */
SSL *tls_accept_data(SSL_CTX *ctx, int fd, int timeout_ms, const unsigned char *sid_ctx,
                     unsigned sid_len);
/* Client context (TLS 1.2+) that verifies the peer's certificate against
 * the PEM CA certificates in ca_file, all read now (so a process may
 * chroot after); NULL and a reason in err on failure. */
SSL_CTX *tls_client_ctx(const char *ca_file, struct buffer *err);
/* Client handshake on fd within timeout_ms, the peer's certificate
 * verified and matching host (a DNS name, also sent as SNI, or an IP
 * address literal); NULL and the reason in err on any failure. */
SSL *tls_connect(SSL_CTX *ctx, int fd, const char *host, int timeout_ms, struct buffer *err);
/* read/write semantics: >0 bytes, 0 orderly close, -1 error. */
ssize_t tls_read(SSL *ssl, void *buf, size_t len);
/* tls_read waiting at most timeout_ms for the peer (-1, errno ETIMEDOUT). */
ssize_t tls_read_within(SSL *ssl, void *buf, size_t len, int timeout_ms);
ssize_t tls_write(SSL *ssl, const void *buf, size_t len);
/* Whether decrypted bytes are already waiting inside OpenSSL. */
int tls_pending(SSL *ssl);
/* Send close_notify (best effort) and free. */
void tls_close(SSL *ssl);
/* Accept only this ALPN protocol when a client offers ALPN at all. */
void tls_require_alpn(SSL_CTX *ctx, const char *proto);
/* Whether the handshake resumed an earlier session. */
int tls_reused(SSL *ssl);
/* Whether the peer ended the stream with close_notify (after tls_read
 * returned 0 or -1). */
int tls_clean_close(SSL *ssl);
/* Relay: decrypt from ssl to plain_fd and encrypt the other way until
 * either side closes; then close_notify. */
void tls_relay(SSL *ssl, int plain_fd);

#endif
