/* upload: where STOR, STOU and APPE write. With upload_atomic the bytes go
 * to a hidden partial in the target directory that appears under its own
 * name by one rename once complete; a failed one waits to be resumed. */
#ifndef FTPD_PI_UPLOAD_H
#define FTPD_PI_UPLOAD_H

#include <stdint.h>

#include "common/core/buffer.h"
#include "ftpd/session.h"

enum upload_mode { UPLOAD_STORE, UPLOAD_APPEND, UPLOAD_UNIQUE };

struct upload {
	int fd;           /* what the DTP writes to, positioned */
	int dirfd;        /* atomic: the target directory; -1 otherwise */
	char *name;       /* atomic: the final name in dirfd */
	char *temp;       /* atomic: the partial's name in dirfd */
	char *vpath;      /* the final name as a virtual path */
	int resumable;    /* a failure keeps the partial for its user */
	int noreplace;    /* publishing must not replace a file of that name */
	int dir_readable; /* dirfd can be listed and fsynced */
	uint64_t before;  /* atomic: the partial's size when claimed (a resume's) */
};

/* Read what the hashing of partial names needs before the sandbox. */
void upload_prepare(void);
/* Open the target of an upload to the virtual path in v (STOU: a free
 * name, which v then holds) starting at byte rest. Replies and returns -1
 * when refused. */
int upload_open(struct ftp_session *s, struct upload *u, struct buffer *v, enum upload_mode mode,
                uint64_t rest);
/* The last byte arrived: make the upload appear under its name (fsync
 * first with upload_fsync). 0, or -1 with the reply left to the caller
 * (errno says why). */
int upload_publish(struct ftp_session *s, struct upload *u);
/* The upload failed: keep the partial for a resume, or remove it. */
void upload_fail(struct ftp_session *s, struct upload *u);
void upload_close(struct upload *u);
/* SIZE of a name that does not exist yet: the size of this user's partial
 * of it, which REST+STOR or APPE would resume. 0 or -1. */
int upload_partial_size(struct ftp_session *s, const char *vpath, uint64_t *size);

#endif
