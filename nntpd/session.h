/* session: one NNTP reader/peer session: the monitor (privileged, answers
 * AUTHINFO through PAM) and the sandboxed worker that runs the commands. */
#ifndef NNTPD_SESSION_H
#define NNTPD_SESSION_H

#include <stdint.h>
#include <sys/socket.h>

#include "netio.h"

struct spool_reader;

/* The TLS context (main.c makes it before any session when ssl_cert_file
 * is set), or NULL: no STARTTLS, no implicit TLS. */
extern SSL_CTX *nntp_tls_ctx;

struct nntp_session {
	struct conn c;
	int monitor; /* worker end of the monitor channel */
	int spoolfd; /* the spool root (after chroot: "/") */
	struct sockaddr_storage peer;
	char peer_text[64];
	char id[16];
	/* Access from the rules for this address, then for the user. */
	int can_read, can_post;
	char *read_groups; /* wildmat of readable groups */
	char *post_groups; /* wildmat of groups one may post to */
	char *user;        /* after AUTHINFO, or NULL */
	char *auth_user;   /* AUTHINFO USER given, PASS awaited */
	int auth_helps;    /* there are user rules: logging in may give access */
	int implicit_tls;  /* accepted on the implicit TLS listener */
	/* Reader state. */
	char *group;      /* selected group, or NULL */
	uint64_t current; /* current article number, 0: none */
	int reader_mode;
	unsigned unknown_count;
	const char *line; /* the command line being run (for the rest-of-line argument) */
	/* Caches of the command handlers (commands.c, reader.c). */
	struct active *active;   /* the group list, refreshed when it changed */
	struct history *history; /* opened on first Message-ID lookup */
	char *motd;              /* motd_file, read before the chroot, or NULL */
	char *pathhost;          /* for recommended Message-IDs */
};

/* In the listener, at start and on SIGHUP: look up nopriv_user once. */
void session_prepare(void);
/* The listener's session entry point (runs the monitor). */
void nntp_session(int fd, const struct sockaddr_storage *peer, int tag);
/* The command loop (commands.c), in the sandboxed worker. */
void commands_run(struct nntp_session *s);
/* Fill can_read/can_post/read_groups/post_groups from the access rules. */
void session_access(struct nntp_session *s);
/* AUTHINFO through the monitor: 0 with s->user set, or -1 (*fatal: the
 * monitor ends the session after max_login_fails). */
int session_login(struct nntp_session *s, const char *user, const char *pass, int *fatal);

#endif
