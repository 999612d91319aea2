/* number: bounded decimal parsing (strtonum style) for every number a
 * client or a config file supplies. */
#ifndef POSTEL_NUMBER_H
#define POSTEL_NUMBER_H

#include <stdint.h>

/* Parse all of s as an unsigned decimal in [min, max]. No sign, no
 * spaces, no leading '+'. Returns 0 and sets *out, or -1. */
int number_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* The same in base 8 (umask-style values). */
int number_parse_octal(const char *s, uint64_t max, uint64_t *out);

#endif
