/* monreq: the worker's side of the monitor channel (pi/monreq.h). Runs
 * unprivileged, in the PI and the DTP. */
#include "ftpd/pi/monreq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/metrics.h"
#include "common/core/xmalloc.h"
#include "common/io/tls.h"
#include "common/priv/privsep.h"
#include "ftpd/options.h"

int
monreq_login(struct ftp_session *s, const char *user, const char *pass, int *fatal,
             struct buffer *reason, int *fd)
{
	if (ps_login(s->monitor, user, pass, fatal, reason, fd) == 0)
		return 0;
	if (reason->len == 0)
		buffer_puts(reason, "Login incorrect.");
	return -1;
}

void
monreq_handoff(struct ftp_session *s)
{
	struct conn *c = &s->ctl;
	unsigned char state[3] = {(unsigned char)s->tls, (unsigned char)s->pbsz,
	                          (unsigned char)s->prot_p};
	int sv[2] = {-1, -1};

	buffer_consume(&c->in, c->consumed);
	c->consumed = 0;
	for (size_t off = 0; off < c->in.len; off += PS_MAX_PAYLOAD) {
		size_t n = c->in.len - off < PS_MAX_PAYLOAD ? c->in.len - off : PS_MAX_PAYLOAD;

		ps_send(s->monitor, PS_HANDOFF, buffer_head(&c->in) + off, n, -1);
	}
	if (c->ssl != NULL && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	conn_flush(c);
	ps_send(s->monitor, PS_HANDOFF_END, state, sizeof(state), sv[1]);
	if (c->ssl == NULL)
		_exit(0);
	close(sv[1]);
	close(s->monitor);
	tls_relay(c->ssl, sv[0]);
	_exit(0);
}

int
monreq_connect_data(struct ftp_session *s, const struct sockaddr_storage *t)
{
	struct ps_msg m;

	if (ps_send(s->monitor, PS_CONNECT_DATA, t, sizeof(*t), -1) < 0 ||
	    ps_recv(s->monitor, &m) < 0)
		die("monitor channel lost");
	if (m.type == PS_OK && m.fd >= 0)
		return m.fd;
	if (m.fd >= 0)
		close(m.fd);
	if (m.type == PS_FAIL)
		log_msg(LOG_NOTICE, "no active data connection: the monitor says %s", m.data);
	return -1;
}

SSL_CTX *
monreq_tls_ctx(struct ftp_session *s)
{
	struct buffer err = BUFFER_INIT;
	SSL_CTX *ctx = NULL;
	struct ps_msg m;

	if (ps_send(s->monitor, PS_TLS_KEY, NULL, 0, -1) < 0 || ps_recv(s->monitor, &m) < 0)
		die("monitor channel lost");
	if (m.type == PS_OK && m.fd >= 0)
		ctx = tls_ctx_import(m.fd, opt.ssl_ciphers, &err);
	if (m.fd >= 0)
		close(m.fd);
	if (ctx != NULL)
		tls_require_alpn(ctx, "ftp");
	else
		log_msg(LOG_ERR, "AUTH TLS: %s",
		        err.len ? buffer_cstr(&err) : "the monitor refused");
	buffer_free(&err);
	return ctx;
}

int
monreq_chown(struct ftp_session *s, int fd)
{
	struct ps_msg m;

	if (ps_send(s->monitor, PS_CHOWN, NULL, 0, fd) < 0 || ps_recv(s->monitor, &m) < 0)
		die("monitor channel lost");
	return m.type == PS_OK ? 0 : -1;
}

int
monreq_xferlog(struct ftp_session *s, const struct buffer *line)
{
	if (line->len == 0 || line->len > PS_MAX_PAYLOAD)
		return -1;
	if (ps_send(s->monitor, PS_XFERLOG, buffer_head(line), line->len, -1) < 0)
		die("monitor channel lost");
	return 0;
}

void
monreq_metric(struct ftp_session *s, unsigned series, uint64_t value)
{
	ps_send_metric(s->monitor, series, value);
}

int
monreq_hook(struct ftp_session *s, enum hook_kind kind, const char *path, const char *old)
{
	const char *name = options_hook_kind_name(kind);
	struct buffer b = BUFFER_INIT;
	struct ps_msg m;

	if (!options_hook_wanted(kind))
		return 0;
	buffer_append(&b, name, strlen(name) + 1);
	buffer_append(&b, path, strlen(path) + 1);
	if (kind == HOOK_RENAME)
		buffer_append(&b, old, strlen(old) + 1);
	if (b.len > PS_MAX_PAYLOAD) {
		log_msg(LOG_ERR, "%s %s: too long to report to upload_hook", name, path);
		buffer_free(&b);
		return -1;
	}
	if (ps_send(s->monitor, PS_HOOK, buffer_head(&b), b.len, -1) < 0 ||
	    ps_recv(s->monitor, &m) < 0)
		die("monitor channel lost");
	buffer_free(&b);
	if (m.fd >= 0)
		close(m.fd);
	if (m.type == PS_OK)
		return 0;
	log_msg(LOG_ERR, "%s %s: the hook event was not queued: %s", name, path,
	        m.type == PS_FAIL ? m.data : "no answer");
	return -1;
}

int
monreq_hash_start(struct ftp_session *s, int fd, unsigned algo, uint64_t start, uint64_t len)
{
	struct ps_hash_req r = {.algo = algo, .start = start, .len = len};

	return ps_send(s->monitor, PS_HASH, &r, sizeof(r), fd);
}

void
monreq_hash_abort(struct ftp_session *s)
{
	if (ps_send(s->monitor, PS_HASH_ABORT, NULL, 0, -1) < 0)
		die("monitor channel lost");
}

char
monreq_hash_result(struct ftp_session *s, char *hex, size_t cap)
{
	struct ps_msg m;

	if (ps_recv(s->monitor, &m) < 0)
		die("monitor channel lost");
	if (m.fd >= 0)
		close(m.fd);
	hex[0] = '\0';
	if (m.len < 1)
		return 'E';
	if (m.type == PS_OK && m.len - 1 < cap) {
		memcpy(hex, m.data + 1, m.len - 1);
		hex[m.len - 1] = '\0';
		return m.data[0] == 'H' ? 'H' : 'C';
	}
	return m.type == PS_FAIL ? m.data[0] : 'E';
}
