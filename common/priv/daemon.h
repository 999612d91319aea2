/* daemon: the command line both daemons share (sshd style: -f -o -t -T -D
 * -h), loading the config with errors on stderr, detaching, pid files. */
#ifndef POSTEL_DAEMON_H
#define POSTEL_DAEMON_H

#include "common/core/conf.h"
#include "common/core/vector.h"
#include "common/io/tls.h"
#include "common/priv/listener.h"

struct daemon_args {
	const char *conf_file;
	int conf_given;          /* -f: a missing file is an error */
	struct vector overrides; /* -o key=value, in order */
	int test;                /* -t: check and exit */
	int dump;                /* -T: check, print the effective config, exit */
	int foreground;          /* -D */
	int man;                 /* -M: print the option list as man source */
	int inetd;               /* -i: serve one connection on stdin (inetd) */
	int status;              /* -s: ask the running daemon for status lines */
	int foreign;             /* -V FILE: conf_file is another program's format */
};

/* Parse argv; -h prints usage and exits 0, a bad option exits 2. With
 * foreign (e.g. "vsftpd"), -V FILE names a file in that program's format. */
void daemon_args(int argc, char **argv, const char *prog, const char *default_conf,
                 const char *foreign, struct daemon_args *a);
/* Load the config; errors go to stderr (and the log). Returns 0 or -1. */
int daemon_load(const struct conf_option *table, const struct daemon_args *a);
/* Report configuration errors ("FILE:LINE: key: reason" lines) as
 * daemon_load does: on stderr, and in the log when that is not stderr. */
void daemon_config_errors(const char *text);
/* Handle -t, -T and -M after a load; exits when one was given. */
void daemon_checks(const struct conf_option *table, const struct daemon_args *a, int loaded);
/* The sockets are bound: detach unless -D (then log to syslog), write the
 * pid file, and say once when sessions cannot be sandboxed (not root). */
void daemon_go(const char *ident, const struct conf_option *table, const struct daemon_args *a,
               const char *pid_file);

/* Both daemons' listening sockets: systemd's when socket-activated (then
 * returns 1), else port on each non-empty address (tag 0) and, when
 * tls_port is not 0, tls_port (tag 1: TLS from the first byte). Dies when
 * nothing is bound. */
int daemon_listen(struct listener *l, const char *addr4, const char *addr6, unsigned long port,
                  unsigned long tls_port);
/* Load the certificate chain and key into a new TLS context that accepts
 * only ALPN protocol alpn (or none), and put it in *slot, freeing the old
 * one. At start and on SIGHUP, so a renewed certificate needs no restart;
 * one that does not load leaves *slot as it was and returns -1, the error
 * on stderr and in the log. Sessions already running keep their copy.
 * Session-ticket keys change every ticket_period seconds (the listener
 * rotates them, see daemon_listen) and outlive a reload. */
int daemon_tls(SSL_CTX **slot, const char *cert, const char *key, const char *ciphers,
               const char *alpn, unsigned long ticket_period);

/* -s: send SIGUSR1 to the daemon in pid_file; exit status for main. */
int daemon_signal_status(const char *pid_file);

#endif
