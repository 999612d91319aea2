/* dtp: the data transfer process. The PI forks one per transfer; it makes
 * the data connection, moves the bytes and reports back over a pipe, so
 * the PI keeps answering ABOR, STAT and NOOP meanwhile. With PROT P the DTP
 * owns the data connection's TLS (see dtp.c for how it checks reuse). */
#ifndef FTPD_DTP_H
#define FTPD_DTP_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ftpd/dtp/listing.h"
#include "ftpd/session.h"

enum dtp_kind { DTP_RETR, DTP_STOR, DTP_LIST };

struct dtp_job {
	enum dtp_kind kind;
	int file_fd;    /* RETR source or STOR target, positioned */
	uint64_t total; /* RETR: bytes to send (for STAT) */
	int ascii;      /* TYPE A conversion */
	/* LIST/NLST/MLSD */
	const char *list_arg;
	int list_flags;
	const struct listing_opts *list_opts;
	/* The data connection: accept on pasv_fd, or connect to port_addr,
	 * or active_fd: connected by the monitor (connect_from_port_20). */
	int pasv_fd;
	int active_fd;
	struct sockaddr_storage port_addr;
	int tls; /* PROT P: TLS on the data connection */
	/* STOR with a quota: bytes of the file the upload replaces, which its
	 * charges may use up (quota_charge). */
	uint64_t quota_credit;
};

/* Events the DTP reports, one byte each on the status pipe. The PI's
 * reply to each is a row of dtp_outcomes (pi/cmd_data.c). */
enum dtp_event {
	DTP_EV_CONNECTED = 'C', /* data connection open: PI says 150 */
	DTP_EV_NOCONN = 'N',    /* could not open it */
	DTP_EV_DONE = 'D',      /* all bytes moved */
	DTP_EV_NETFAIL = 'F',   /* connection lost or timed out */
	DTP_EV_FILEFAIL = 'W',  /* local read/write error (disk full) */
	DTP_EV_TLSFAIL = 'T',   /* data TLS handshake failed */
	DTP_EV_NOREUSE = 'R',   /* data TLS did not resume the control session */
	DTP_EV_UNCLEAN = 'U',   /* upload's TLS stream ended without close_notify */
	DTP_EV_QUOTA = 'Q',     /* upload stopped: the next bytes would pass the quota */
	DTP_EV_TOOMANY = 'L',   /* listing refused: more entries than max_list_entries */
	DTP_EV_TOODEEP = 'P',   /* LIST -R stopped: deeper than ls_recurse_max_depth */
	DTP_EV_TOOBIG = 'B',    /* LIST -R stopped: more than ls_recurse_max_entries */
	DTP_EV_ABORTED = 'A',   /* never sent: the PI's own, after ABOR killed the DTP */
	DTP_EV_EXISTS = 'E',    /* never sent: the PI's, a new name was taken meanwhile */
};

struct dtp_progress {
	volatile uint64_t done;
	volatile uint64_t total;
	volatile int complete_close; /* STOR: the peer ended the stream cleanly */
	volatile uint64_t charged;   /* STOR: bytes charged to the quota (dtp/quota.c) */
};

/* Shared with the DTPs: set up once per post-login worker. */
struct dtp_progress *dtp_progress(void);
/* Fork the DTP for job; sets s->dtp_pid and s->dtp_fd. 0 or -1. */
int dtp_start(struct ftp_session *s, const struct dtp_job *job);

#endif
