/* fileio: whole reads and writes, at a file offset or not, retrying short
 * transfers and EINTR (the on-disk indexes and the line writer use them). */
#ifndef POSTEL_FILEIO_H
#define POSTEL_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "common/core/buffer.h"

/* 0: all len bytes read; 1: end of file first; -1: error (errno). */
int pread_full(int fd, void *buf, size_t len, uint64_t off);
/* 0: all len bytes read from fd (a pipe or socket: no offset); 1: end of
 * file first; -1: error (errno). */
int read_full(int fd, void *buf, size_t len);
/* 0: all written; -1: error (errno). */
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* Write all of buf to fd (waiting out EAGAIN); 0, or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);
/* Read fd to its end, at most max bytes, into out (replacing it): 0, 1 when
 * the file held more (out has the first max), or -1 with errno. */
int read_upto(int fd, struct buffer *out, size_t max);
/* fsync the directory name under dirfd ("." for dirfd itself), so the
 * renames and unlinks in it are on disk; 0, or -1 with errno. */
int fsync_dir_at(int dirfd, const char *name);

#endif
