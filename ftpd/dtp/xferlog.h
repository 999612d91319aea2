/* xferlog: one line per transfer in the wu-ftpd xferlog format, which log
 * analysers (webalizer, awstats, xferstats) read. */
#ifndef POSTEL_FTPD_XFERLOG_H
#define POSTEL_FTPD_XFERLOG_H

#include <time.h>

#include "common/core/buffer.h"

struct xfer_record {
	time_t when;      /* end of transfer; 0: now */
	int localtime;    /* 1: local time (tz loaded before chroot), 0: UTC */
	double seconds;   /* transfer duration; logged rounded, at least 1 */
	const char *host; /* remote host, numeric */
	long long bytes;  /* bytes transferred */
	const char *path; /* file name as the session sees it */
	char type;        /* 'a' ascii, 'b' binary */
	char direction;   /* 'o' outgoing (RETR), 'i' incoming (STOR/APPE) */
	char access;      /* 'a' anonymous, 'g' guest, 'r' real user */
	const char *user; /* login name; anonymous: the password (e-mail) given */
	int complete;     /* 1: 'c' complete, 0: 'i' incomplete */
};

/* Append the line (with "\n") to out. Fields are space separated, so spaces
 * and control bytes in host, path and user are written as '_' (vsftpd writes
 * them raw, which breaks every parser on a name with a space); empty fields
 * become "-" likewise. */
void xferlog_format(struct buffer *out, const struct xfer_record *rec);
/* Format and write the line with one write(2) to fd (opened O_APPEND before
 * chroot), so lines from concurrent sessions never interleave. 0 or -1/errno. */
int xferlog_write(int fd, const struct xfer_record *rec);

#endif
