/* fileio: whole reads and writes at a file offset, retrying short
 * transfers and EINTR (the on-disk indexes use them). */
#ifndef POSTEL_FILEIO_H
#define POSTEL_FILEIO_H

#include <stddef.h>
#include <stdint.h>

/* 0: all len bytes read; 1: end of file first; -1: error (errno). */
int pread_full(int fd, void *buf, size_t len, uint64_t off);
/* 0: all written; -1: error (errno). */
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

#endif
