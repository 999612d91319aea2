/* session: one NNTP reader/peer session's state and the two entry points
 * where the roles meet: the listener starts the monitor (monitor/), the
 * monitor forks the sandboxed worker (session/). */
#ifndef NNTPD_SESSION_H
#define NNTPD_SESSION_H

#include <stdint.h>
#include <sys/socket.h>

#include "common/io/netio.h"

struct spool_reader;
struct peer_pipe;

/* The TLS context (main.c makes it before any session when ssl_cert_file
 * is set), or NULL: no STARTTLS, no implicit TLS. */
extern SSL_CTX *nntp_tls_ctx;

struct nntp_session {
	struct conn c;
	int monitor; /* worker end of the monitor channel */
	int writer;  /* the writer connection the monitor made, or -1 */
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
	int base_nice, nice; /* the listener's priority, and the session's */
	int can_nice;        /* both known */
	unsigned unknown_count;
	const char *line; /* the command line being run (for the rest-of-line argument) */
	/* Caches of the command handlers (commands.c, reader.c). */
	struct active *active;   /* the group list, refreshed when it changed */
	struct history *history; /* opened on first Message-ID lookup */
	char *motd;              /* motd_file, read before the chroot, or NULL */
	char *moderators;        /* moderators_file, the same way, for LIST MODERATORS */
	char *subscriptions;     /* subscriptions_file, likewise, or NULL */
	char *pathhost;          /* for recommended Message-IDs */
	struct peer_pipe *pipe;  /* TAKETHIS answers owed (session/peer.c) */
};

struct sandbox_id;
/* The listener's session entry point: runs the monitor (monitor/). */
void nntp_session(int fd, const struct sockaddr_storage *peer, int tag);
/* In the child the monitor forked: enter the sandbox as id (mon: the
 * worker's end of the monitor channel) and run the command loop. */
void nntp_worker(struct nntp_session *s, int mon, struct sandbox_id *id) __attribute__((noreturn));

#endif
