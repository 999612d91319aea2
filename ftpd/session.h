/* session: one FTP session's state, shared by the monitor (which forks the
 * workers) and the protocol interpreter (which runs in them). */
#ifndef FTPD_SESSION_H
#define FTPD_SESSION_H

#include <sys/socket.h>
#include <sys/types.h>

#include "fs.h"
#include "netio.h"
#include "tls.h"

enum login_kind { LOGIN_NONE, LOGIN_ANON, LOGIN_LOCAL, LOGIN_GUEST };

struct ftp_session {
	struct conn ctl;
	int monitor; /* worker end of the monitor channel */
	struct sockaddr_storage peer, local;
	char peer_text[64];
	char id[16];
	int privileged; /* the daemon runs as root (monitor can bind port 20) */

	/* Login state. user is the pending USER argument. */
	char *user;
	enum login_kind kind;
	char *login_name;    /* the account, or "anonymous" */
	char *anon_password; /* what an anonymous user gave (xferlog) */
	char *home;          /* start directory (virtual) */
	char *root_path;     /* real directory the session is confined to */
	uid_t uid;
	gid_t gid;
	unsigned unknown_before_login;

	/* Post-login. */
	struct fs_root fs;
	int xferlog_fd;
	int type_ascii;
	unsigned long long rest;
	char *rnfr; /* pending rename source (virtual path) */
	int epsv_all;
	int pasv_fd;                       /* listening passive socket or -1 */
	struct sockaddr_storage port_addr; /* PORT/EPRT target */
	int port_set;
	unsigned long umask;
	unsigned mlst_facts;
	unsigned long long bytes_in, bytes_out;
	unsigned long max_rate;
	unsigned idle_timeout;

	/* TLS (RFC 4217). The control channel's TLS lives in the pre-login
	 * worker, which becomes a relay after login (see session.c). */
	int implicit_tls;          /* accepted on the implicit FTPS listener */
	int tls;                   /* control channel encrypted */
	int pbsz, prot_p;          /* PBSZ 0 seen; PROT P in force */
	unsigned char sid_ctx[16]; /* this session's TLS resumption context */
	pid_t relay;

	/* The DTP while a transfer runs. */
	pid_t dtp_pid;
	int dtp_fd; /* status pipe from the DTP */
	int quit_pending;
	const char *transfer; /* "RETR /path" while one runs (status lines) */
};

/* The TLS context (NULL without ssl_enable), made before any session so
 * every process of a session shares its ticket keys. */
extern SSL_CTX *ftp_tls_ctx;

/* In the listener, at start and on SIGHUP: what every session would
 * otherwise look up itself (accounts, names for listings). */
void session_prepare(void);
/* The listener's session entry point (runs the monitor). */
void ftp_session(int fd, const struct sockaddr_storage *peer, int tag);

/* Worker -> monitor requests (each returns 0 on PS_OK, -1 otherwise). */
/* PASS: ask the monitor to log in; on refusal reason holds the text and
 * *fatal says the session must end. */
int session_login(struct ftp_session *s, const char *user, const char *pass, int *fatal,
                  struct buffer *reason);
/* After a successful login: hand the unread input to the monitor and exit. */
void session_handoff(struct ftp_session *s) __attribute__((noreturn));
/* A socket bound to ftp_data_port for an active connection to target. */
int session_bind_data(struct ftp_session *s, const struct sockaddr_storage *target);
/* Give an upload to chown_username. */
int session_chown(struct ftp_session *s, int fd);

/* The protocol interpreter: serve until QUIT or the connection ends. */
void pi_run(struct ftp_session *s);

#endif
