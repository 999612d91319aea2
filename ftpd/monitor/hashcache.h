/* hashcache: digests for HASH and the X* commands, computed by a hasher the
 * monitor forks and kept in one table every session's monitor shares.
 * Runs in the monitor (root); the listener makes the table. */
#ifndef FTPD_MONITOR_HASHCACHE_H
#define FTPD_MONITOR_HASHCACHE_H

#include "common/priv/privsep.h"
#include "common/priv/sandbox.h"

/* The listener, once: map the shared table (later calls do nothing). */
void hashcache_init(void);
/* A worker being forked, before it drops privilege: unmap the table. */
void hashcache_forget(void);

/* Answer one PS_HASH from the worker on sock (m->fd the file): from the
 * table, or by a hasher running as hasher_id at rate bytes a second, while
 * watching sock for PS_HASH_ABORT. 0; -1 with *why set when the worker
 * broke the protocol (the caller ends the session). */
int hashcache_serve(int sock, const struct ps_msg *m, const struct sandbox_id *hasher_id,
                    unsigned long rate, const char **why);

#endif
