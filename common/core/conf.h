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
/* What conf_load_from reads besides the table's own: defaults of another
 * program's ("key=value" lines that replace the table's defaults and still
 * count as defaults), and every key offered to foreign first (the
 * table's own keys too: the other program may mean something else). */
enum conf_foreign_rc {
	CONF_FOREIGN_UNKNOWN, /* not its key: the table's, or "unknown key" */
	CONF_FOREIGN_DONE,    /* taken; nothing of the table to set */
	CONF_FOREIGN_SET,     /* set the table's *key_out to *value_out */
	CONF_FOREIGN_BAD,     /* refused; the reason is in errors */
};
struct conf_source {
	const char *const *defaults; /* NULL-terminated, or NULL */
	enum conf_foreign_rc (*foreign)(void *arg, const char *key, const char *value,
	                                const char *where, const char **key_out,
	                                const char **value_out, struct buffer *errors);
	void *arg;
};
/* conf_load, reading the file (and the overrides) as src says. */
int conf_load_from(const struct conf_option *table, const char *file, int file_required,
                   const struct vector *overrides, const struct conf_source *src,
                   struct buffer *errors);
/* Apply the keys FILE (already open as f, called name in errors) sets over
 * the current values, without loading defaults first: a per-user file.
 * A key not in allowed (NULL-terminated names; NULL: any) is refused.
 * With apply 0 only checks. All or nothing; errors and count as conf_load. */
int conf_overlay(const struct conf_option *table, const char *const *allowed, FILE *f,
                 const char *name, int apply, struct buffer *errors);
/* Where the last conf_load set a key ("FILE:LINE" or "-o:N"), NULL when
 * the key has its default: for errors about values that only fail later. */
const char *conf_where(const struct conf_option *table, const char *name);
/* The default the last conf_load gave a key (a conf_source's, else the
 * table's), as written in a file; NULL for a key it does not know. */
const char *conf_default(const struct conf_option *table, const char *name);
/* Every value of table, to put back later with conf_restore. */
struct conf_saved;
struct conf_saved *conf_save(const struct conf_option *table);
void conf_restore(const struct conf_option *table, const struct conf_saved *saved);
void conf_saved_free(const struct conf_option *table, struct conf_saved *saved);
/* Effective configuration, one "key=value" line each, "# default" marked. */
void conf_dump(const struct conf_option *table, FILE *out);
/* The option list as man(7) source, for the NAME.conf(5) pages. */
void conf_man(const struct conf_option *table, FILE *out);
/* s as man(7) text: backslashes and hyphens escaped. */
void conf_man_escape(FILE *out, const char *s);
/* Whether a key was set by the file or -o (not left at its default). */
int conf_is_set(const struct conf_option *table, const char *name);

/* Checks usable as conf_option.check. */
const char *conf_check_address(const char *value);
const char *conf_check_abspath(const char *value);
/* metrics_file: empty (off), or an absolute path ending in ".prom" (what
 * node_exporter's textfile collector reads). */
const char *conf_check_metrics_file(const char *value);

#endif
