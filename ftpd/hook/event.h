/* event: the upload hook's event record, shared by its two ends (the
 * session monitor that reports, the hook runner that queues and runs) and
 * the on-disk queue both write: one file per event, made durable before
 * anyone says it is queued. */
#ifndef FTPD_HOOK_EVENT_H
#define FTPD_HOOK_EVENT_H

#include <stdint.h>

#include "common/core/buffer.h"
#include "common/core/paths.h"
#include "ftpd/options.h"

/* The runner's socket, in hook_queue_dir (SOCK_SEQPACKET: one record per
 * datagram, answered with HOOK_ACK once the record is on disk). */
#define HOOK_SOCKET_NAME PATH_HOOK_SOCKET_NAME
#define HOOK_ACK 'Q'
/* Queued events are files named HOOK_ENTRY_PREFIX...; a file being
 * written is HOOK_TEMP_PREFIX + its final name until it is renamed. */
#define HOOK_ENTRY_PREFIX "ev-"
#define HOOK_TEMP_PREFIX ".tmp-"
#define HOOK_FAILED_DIR "failed"
/* Each string of a record (paths, user, client, session). */
#define HOOK_MAX_FIELD 4096
#define HOOK_HEADER_SIZE 34
#define HOOK_MAX_RECORD (HOOK_HEADER_SIZE + 5 * HOOK_MAX_FIELD)

struct hook_event {
	enum hook_kind kind;
	uint64_t size;   /* bytes of the file (0 for delete) */
	uint64_t queued; /* unix time the monitor reported it */
	/* NUL-terminated; old_path is "" except for rename. */
	char *path, *old_path, *user, *client, *session;
};

/* The record of ev appended to out (fixed-width little-endian fields
 * after a magic and a version). 0, or -1 when a field is over
 * HOOK_MAX_FIELD or holds a NUL. */
int hook_event_encode(const struct hook_event *ev, struct buffer *out);
/* Decode n bytes into ev (its strings allocated; hook_event_free). 0, or
 * -1 for anything malformed: magic, version, kind, lengths, a NUL. */
int hook_event_decode(const void *data, size_t n, struct hook_event *ev);
void hook_event_free(struct hook_event *ev);
/* Write rec into the queue directory dirfd as a new entry: a temporary
 * name, fsync, rename, fsync of the directory. 0, or -1 with errno (no
 * entry left behind). */
int hook_queue_write(int dirfd, const struct buffer *rec);

#endif
