/* vsftpd: reading an existing vsftpd.conf (ftpd -V FILE): one table of
 * every vsftpd.conf(5) option, and what ftpd does with each. */
#ifndef FTPD_VSFTPD_H
#define FTPD_VSFTPD_H

#include <stdio.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"

/* What a vsftpd option becomes. */
enum vsftpd_what {
	VSFTPD_SAME,      /* ftpd's key of the same name, with vsftpd's meaning */
	VSFTPD_AS,        /* ftpd's key of another name, same meaning */
	VSFTPD_LISTEN,    /* listen, listen_ipv6, background: worked out after the load */
	VSFTPD_NOTNEEDED, /* accepted with a notice: ftpd needs no such switch */
	VSFTPD_NOTICE,    /* not supported, a notice whatever the value */
	VSFTPD_REFUSE,    /* not supported; a value other than ok cannot be honoured */
};

enum vsftpd_kind { VSFTPD_BOOL, VSFTPD_NUM, VSFTPD_OCTAL, VSFTPD_STR };

struct vsftpd_option {
	const char *name;
	enum vsftpd_kind kind;
	enum vsftpd_what what;
	const char *key; /* SAME, AS: ftpd's key */
	const char *def; /* SAME, AS: vsftpd's default where it is not ftpd's */
	const char *ok;  /* REFUSE: the one value ftpd honours */
	const char *why; /* NOTNEEDED, NOTICE, REFUSE: why, and what to use */
};

extern const struct vsftpd_option vsftpd_options[];

/* What one load found: notices, and the keys worked out after it. */
struct vsftpd_load {
	int listen, listen_ipv6, background; /* -1: not in the file */
	char *listen_where, *listen_ipv6_where;
	int std_format; /* xferlog_std_format, -1: not set */
	char *std_format_where;
	struct buffer notes; /* "WHERE: key: notice: ..." lines */
	unsigned nnotes;
};

/* The row of a vsftpd option, or NULL. */
const struct vsftpd_option *vsftpd_find(const char *name);
/* Read file as a vsftpd.conf (then the -o overrides, vsftpd's keys or
 * ftpd's) into opt; notices go to l->notes, errors ("FILE:LINE: key:
 * why") to errors. inetd: started with -i (listen=NO, listen_ipv6=NO is
 * vsftpd's inetd mode). Returns the count of errors; l is for
 * vsftpd_load_free. */
int vsftpd_read(const char *file, const struct vector *overrides, int inetd, struct vsftpd_load *l,
                struct buffer *errors);
void vsftpd_load_free(struct vsftpd_load *l);
/* The table as man(7) source, for ftpd.conf(5)'s VSFTPD.CONF section. */
void vsftpd_man(FILE *out);

#endif
