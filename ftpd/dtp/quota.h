/* quota: quota_bytes and quota_files of a session root, counted in the
 * root's usage file. The PI charges what commands change, the DTP what it
 * writes, each under the file's lock, so parallel sessions stay exact. */
#ifndef FTPD_DTP_QUOTA_H
#define FTPD_DTP_QUOTA_H

#include <stdint.h>

struct quota_usage {
	uint64_t bytes, files;
};

/* After login: fd is the root's usage file (the monitor opened it; -1: no
 * quota), rootfd the root it counts. Rebuilds a missing or stale usage
 * by a scan. 0, or -1 with errno. */
int quota_start(int fd, int rootfd);
int quota_active(void);
/* Take the lock and read the usage into u (rebuilt first when stale); 0,
 * or -1 with errno and no lock held (ESTALE: the file was removed under a
 * live session). Without a quota these take no lock and u reads 0, and
 * quota_room always says yes. */
int quota_begin(struct quota_usage *u);
/* Write u back and release the lock; 0 or -1 with errno. */
int quota_commit(const struct quota_usage *u);
/* Release the lock, changing nothing. */
void quota_end(void);
/* Whether u with bytes and files more, of which credit bytes go away at the
 * end (the file an upload replaces), stays within the quota. */
int quota_room(const struct quota_usage *u, uint64_t bytes, uint64_t credit, uint64_t files);
/* Add signed amounts to the usage (saturating at 0), with no check. 0 or -1. */
int quota_add(int64_t bytes, int64_t files);
/* The DTP, before writing n more bytes of an upload that replaces credit
 * bytes: charge them, or -1 with errno EDQUOT when they would pass
 * quota_bytes (charging nothing). *charged counts what was charged. */
int quota_charge(uint64_t n, uint64_t credit, volatile uint64_t *charged);

#endif
