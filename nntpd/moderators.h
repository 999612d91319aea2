/* moderators: INN's moderators file (moderators(5)): lines of
 * "wildmat:address", the first line whose wildmat matches a group names
 * its submission address; "%s" in the address is the group's name with
 * each '.' made '-', "%%" is a '%'. Blank lines and '#' lines are skipped.
 * Pure: the mailer reads the file, LIST MODERATORS shows it. */
#ifndef POSTEL_NNTPD_MODERATORS_H
#define POSTEL_NNTPD_MODERATORS_H

#include <stddef.h>

#include "common/core/buffer.h"

/* Longest submission address handed to the mailer. */
#define MODERATORS_MAX_ADDRESS 255

/* The submission address of group in text (the file's bytes): 1 with the
 * address in addr, 0 when no line matches, -1 when the matching line's
 * address is unusable (empty, too long, a second %s, a lone %, a space, a
 * control byte or a leading '-', which a mailer would take for an
 * option): the reason in addr. */
int moderators_address(const char *text, size_t len, const char *group, struct buffer *addr);
/* Call fn(line, len, ctx) for each line LIST MODERATORS shows: every line
 * but blank and '#' ones, without its line end. */
void moderators_each(const char *text, size_t len,
                     void (*fn)(const char *line, size_t n, void *ctx), void *ctx);

#endif
