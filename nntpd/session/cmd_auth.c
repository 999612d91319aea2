/* cmd_auth: the session's security layers: AUTHINFO USER/PASS (RFC 4643)
 * answered by the monitor, STARTTLS and implicit TLS (RFC 4642, RFC 8143),
 * and COMPRESS DEFLATE (RFC 8054). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "common/io/tls.h"
#include "common/priv/sandbox.h"
#include "nntpd/access.h"
#include "nntpd/options.h"
#include "nntpd/session/commands.h"
#include "nntpd/session/monreq.h"

#define TLS_HANDSHAKE_MS 30000
#define AUTH_MAX_NAME 256

#define R_AUTH_OK "281 Authentication accepted"
#define R_AUTH_FAILED "481 Authentication failed"
#define R_AUTH_SEQUENCE "482 Authentication commands issued out of sequence"
#define R_AUTH_ENCRYPT "483 Encryption required: use STARTTLS first"
#define R_AUTH_DONE "502 Already authenticated"

/* Made by main.c before any session; every worker inherits it. */
SSL_CTX *nntp_tls_ctx;

/* Session resumption only within nntpd's own sessions. */
static const unsigned char sid_ctx[] = "postel-nntpd";

int
auth_usable(const struct nntp_session *s)
{
	/* SECURITY: passwords do not cross the wire in clear unless the
	 * site says so (allow_plaintext_auth). */
	return s->user == NULL && s->c.z == NULL && (s->c.ssl != NULL || opt.allow_plaintext_auth);
}

int
tls_offered(const struct nntp_session *s)
{
	return nntp_tls_ctx != NULL && s->c.ssl == NULL && s->user == NULL && s->c.z == NULL;
}

/* The CAPABILITIES lines for these layers, as the session stands now. */
void
capabilities_security(struct nntp_session *s)
{
	if (auth_usable(s))
		reply(s, "AUTHINFO USER");
	else if (s->user == NULL && tls_offered(s))
		reply(s, "AUTHINFO"); /* RFC 4643 2.1: after STARTTLS */
	if (tls_offered(s))
		reply(s, "STARTTLS");
	if (s->c.z == NULL)
		reply(s, "COMPRESS DEFLATE");
}

static int
start_tls(struct nntp_session *s)
{
	if (conn_start_tls(&s->c, nntp_tls_ctx, TLS_HANDSHAKE_MS, sid_ctx, sizeof(sid_ctx)) < 0)
		return -1;
	log_msg(LOG_INFO, "TLS on");
	return 0;
}

void
session_implicit_tls(struct nntp_session *s)
{
	if (!s->implicit_tls)
		return;
	if (nntp_tls_ctx == NULL || start_tls(s) < 0) {
		log_msg(LOG_NOTICE, "implicit TLS handshake failed; closing");
		sandbox_exit(0);
	}
}

void
cmd_starttls(struct nntp_session *s, struct vector *args)
{
	static const char failed[] = "580 TLS negotiation failed\r\n";

	(void)args;
	if (nntp_tls_ctx == NULL || s->c.ssl != NULL) {
		reply(s, "502 %s", s->c.ssl != NULL ? "Already using TLS" : "TLS is not available");
		return;
	}
	if (s->user != NULL || s->c.z != NULL) {
		reply(s, "502 %s",
		      s->user != NULL ? "Already authenticated" : "Compression is active");
		return;
	}
	reply(s, "382 Continue with TLS negotiation");
	if (start_tls(s) < 0) {
		log_msg(LOG_NOTICE, "STARTTLS handshake failed; closing");
		if (write_all(s->c.fd, failed, sizeof(failed) - 1) < 0) {
			/* the client is gone */
		}
		sandbox_exit(0);
	}
	/* RFC 4642: nothing learnt before TLS carries over. */
	free(s->group);
	s->group = NULL;
	s->current = 0;
	free(s->auth_user);
	s->auth_user = NULL;
}

/* The user rules over what the address gave. */
static void
user_access(struct nntp_session *s)
{
	/* can_approve: the writer learns it from the monitor, not from here. */
	struct access_result r = {s->can_read, s->can_post, s->read_groups, s->post_groups, 0};

	access_lookup_user(&opt.access, s->user, &r);
	s->can_read = r.can_read;
	s->can_post = r.can_post;
	s->read_groups = r.groups;
	s->post_groups = r.post_groups;
}

static void
authinfo_pass(struct nntp_session *s, const char *pass)
{
	int fatal = 0, rc;

	if (s->auth_user == NULL) {
		reply(s, R_AUTH_SEQUENCE);
		return;
	}
	rc = monreq_login(s, s->auth_user, pass, &fatal);
	free(s->auth_user);
	s->auth_user = NULL;
	if (rc < 0) {
		reply(s, R_AUTH_FAILED);
		if (fatal) {
			log_msg(LOG_NOTICE, "too many failed logins; closing");
			conn_flush(&s->c);
			sandbox_exit(0);
		}
		return;
	}
	user_access(s);
	log_msg(LOG_INFO, "authenticated: %s%s", s->can_read ? "read" : "",
	        s->can_post ? (s->can_read ? ",post" : "post") : "");
	reply(s, R_AUTH_OK);
}

void
cmd_authinfo(struct nntp_session *s, struct vector *args)
{
	const char *kw = args->strings[1];
	const char *arg;

	if (strcasecmp(kw, "USER") != 0 && strcasecmp(kw, "PASS") != 0) {
		reply(s, "501 Only AUTHINFO USER and AUTHINFO PASS are supported");
		return;
	}
	if (s->user != NULL) {
		reply(s, R_AUTH_DONE);
		return;
	}
	/* SECURITY: RFC 8054 2.2.2: no AUTHINFO once compression is on (a
	 * compressed password is open to length side channels, CRIME-style). */
	if (s->c.z != NULL) {
		reply(s, "502 Authentication is not allowed after COMPRESS");
		return;
	}
	if (!auth_usable(s)) {
		reply(s, R_AUTH_ENCRYPT);
		return;
	}
	/* The argument is the rest of the line: a password may hold spaces. */
	arg = s->line + strspn(s->line, " \t");
	arg += strcspn(arg, " \t");
	arg += strspn(arg, " \t");
	arg += strcspn(arg, " \t");
	arg += strspn(arg, " \t");
	if (strcasecmp(kw, "PASS") == 0) {
		authinfo_pass(s, arg);
		return;
	}
	free(s->auth_user);
	s->auth_user = NULL;
	if (strlen(arg) > AUTH_MAX_NAME) {
		reply(s, R_AUTH_FAILED);
		return;
	}
	s->auth_user = xstrdup(arg);
	reply(s, "381 Password required");
}

void
cmd_compress(struct nntp_session *s, struct vector *args)
{
	if (s->c.z != NULL) {
		reply(s, "502 Compression already active");
		return;
	}
	if (strcasecmp(args->strings[1], "DEFLATE") != 0) {
		reply(s, "503 Only DEFLATE is supported");
		return;
	}
	reply(s, "206 Compression active");
	if (conn_flush(&s->c) < 0 || conn_compress(&s->c) < 0) {
		log_msg(LOG_ERR, "cannot start compression; closing");
		sandbox_exit(0);
	}
	log_msg(LOG_INFO, "compression on");
}
