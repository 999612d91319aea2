/* conf: the typed option table, key=value files, -o overrides and
 * line-numbered errors. Parser, -t, -T and the man pages share one table. */
#ifndef POSTEL_CONF_H
#define POSTEL_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"

enum conf_type {
	CONF_BOOL,   /* int *: YES/NO, TRUE/FALSE, ON/OFF, 1/0 */
	CONF_UINT,   /* unsigned long *: decimal within [min, max] */
	CONF_OCTAL,  /* unsigned long *: octal within [0, max] (umasks, modes) */
	CONF_STRING, /* char **: owned, never NULL ("" when empty) */
	CONF_LIST,   /* struct vector *: a repeatable key, one value per line */
};

struct conf_option {
	const char *name;
	enum conf_type type;
	void *var;
	const char *def; /* default as written in the file (CONF_LIST: values separated by ";") */
	uint64_t min, max;
	const char *desc;
	/* Optional extra check on the text; returns NULL or a reason. */
	const char *(*check)(const char *value);
};

/* Load defaults, then FILE (NULL: none), then each "key=value" of
 * overrides. All or nothing: on any error nothing is assigned, every
 * error is appended to errors as "FILE:LINE: key: reason\n", and the
 * count of errors is returned. */
int conf_load(const struct conf_option *table, const char *file, int file_required,
              const struct vector *overrides, struct buffer *errors);
/* Effective configuration, one "key=value" line each, "# default" marked. */
void conf_dump(const struct conf_option *table, FILE *out);
/* The option list as man(7) source, for the NAME.conf(5) pages. */
void conf_man(const struct conf_option *table, FILE *out);
/* Whether a key was set by the file or -o (not left at its default). */
int conf_is_set(const struct conf_option *table, const char *name);

/* Checks usable as conf_option.check. */
const char *conf_check_address(const char *value);
const char *conf_check_abspath(const char *value);

#endif
