/* session: one FTP session's state and the two entry points where the
 * roles meet: the listener starts the monitor (monitor/), the monitor forks
 * each worker (pi/). Neither role's code includes the other's headers. */
#ifndef FTPD_SESSION_H
#define FTPD_SESSION_H

#include <sys/socket.h>
#include <sys/types.h>

#include "common/core/vector.h"
#include "common/io/netio.h"
#include "common/io/tls.h"
#include "ftpd/pi/fs.h"

enum login_kind { LOGIN_NONE, LOGIN_ANON, LOGIN_LOCAL, LOGIN_GUEST };

struct ftp_session {
	struct conn ctl;
	int monitor; /* worker end of the monitor channel */
	struct sockaddr_storage peer, local;
	char peer_text[64];
	char id[16];
	int privileged; /* the daemon runs as root (its monitor can connect from port 20) */

	/* Login state. user is the pending USER argument. */
	char *user;
	enum login_kind kind;
	char *login_name;    /* the account, or "anonymous" */
	char *anon_password; /* what an anonymous user gave (xferlog) */
	char *home;          /* start directory (virtual) */
	char *root_path;     /* real directory the session is confined to */
	int root_fd;         /* it, opened by the monitor (post-login worker) */
	int quota_fd;        /* its quota usage file, or -1 (monitor/peruser.c) */
	uid_t uid;
	gid_t gid;
	unsigned unknown_before_login;
	int anon_direct; /* started as the anonymous user: logs in without a new worker */

	/* Post-login. */
	struct fs_root fs;
	int xferlog; /* xferlog_enable: lines go to the monitor (PS_XFERLOG) */
	int type_ascii;
	unsigned long long rest;
	char *rnfr; /* pending rename source (virtual path) */
	int epsv_all;
	int pasv_fd;                       /* listening passive socket or -1 */
	struct sockaddr_storage port_addr; /* PORT/EPRT target */
	int port_set;
	unsigned long umask;
	unsigned mlst_facts;
	int hash_algo;                           /* OPTS HASH: enum digest_algo, SHA-256 first */
	int rang_set;                            /* RANG given for the next HASH */
	unsigned long long rang_start, rang_end; /* inclusive */
	unsigned long long bytes_in, bytes_out;
	unsigned long max_rate;
	unsigned idle_timeout;
	struct vector deny, hide; /* deny_file, hide_file (namefilter) */
	struct vector visited;    /* dirmessage_enable: directories shown */

	/* TLS (RFC 4217). The control channel's TLS lives in the pre-login
	 * worker, which becomes a relay after login, or on an anonymous-only
	 * server in the session's one worker (see monitor/monitor.c). */
	int implicit_tls;          /* accepted on the implicit FTPS listener */
	int tls;                   /* control channel encrypted */
	int tls_key_at_monitor;    /* no key here: AUTH TLS asks the monitor for it */
	int pbsz, prot_p;          /* PBSZ 0 seen; PROT P in force */
	unsigned char sid_ctx[16]; /* this session's TLS resumption context */
	pid_t relay;

	/* The DTP while a transfer runs. */
	pid_t dtp_pid;
	int dtp_pidfd; /* to signal it (ABOR) */
	int dtp_fd;    /* status pipe from the DTP */
	int quit_pending;
	const char *transfer; /* "RETR /path" while one runs (status lines) */
};

/* The TLS context (NULL without ssl_enable), made by main.c before any
 * session so every process of a session shares its ticket keys. */
extern SSL_CTX *ftp_tls_ctx;

/* Which worker the monitor forks: before a login as nopriv_user in the
 * empty chroot; after one as the logged-in user; or, on an anonymous-only
 * server, before the login already as the anonymous user in its root, to
 * serve the whole session (monitor/monitor.c, "one worker"). */
enum worker_kind { WORKER_PRELOGIN, WORKER_POSTLOGIN, WORKER_ANON };

struct sandbox_id;
/* The listener's session entry point: runs the monitor (monitor/). */
void ftp_session(int fd, const struct sockaddr_storage *peer, int tag);
/* In a child the monitor forked: enter the sandbox as id (kind says
 * which) and run the protocol interpreter (pi/worker.c) until the
 * session ends. */
void ftp_worker(struct ftp_session *s, struct sandbox_id *id, enum worker_kind kind)
    __attribute__((noreturn));

#endif
