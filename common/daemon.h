/* daemon: the command line both daemons share (sshd style: -f -o -t -T -D
 * -h), loading the config with errors on stderr, detaching, pid files. */
#ifndef POSTEL_DAEMON_H
#define POSTEL_DAEMON_H

#include "conf.h"
#include "vector.h"

struct daemon_args {
	const char *conf_file;
	int conf_given;	      /* -f: a missing file is an error */
	struct vector overrides; /* -o key=value, in order */
	int test;	      /* -t: check and exit */
	int dump;	      /* -T: check, print the effective config, exit */
	int foreground;	      /* -D */
	int man;	      /* -M: print the option list as man source */
	int inetd;	      /* -i: serve one connection on stdin (inetd) */
};

/* Parse argv; -h prints usage and exits 0, a bad option exits 2. */
void daemon_args(int argc, char **argv, const char *prog, const char *default_conf,
		 struct daemon_args *a);
/* Load the config; errors go to stderr (and the log). Returns 0 or -1. */
int daemon_load(const struct conf_option *table, const struct daemon_args *a);
/* Handle -t, -T and -M after a load; exits when one was given. */
void daemon_checks(const struct conf_option *table, const struct daemon_args *a, int loaded);
/* Fork into the background, new session, stdio to /dev/null, pid file. */
void daemon_detach(const char *pid_file);

#endif
