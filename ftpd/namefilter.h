/* namefilter: vsftpd's deny_file/hide_file patterns ("{*.mp3,*.mov,.private}":
 * '*', '?' and unnested {,} alternatives) and matching names and paths. */
#ifndef FTPD_NAMEFILTER_H
#define FTPD_NAMEFILTER_H

#include "common/core/vector.h"

/* A pattern list expands to at most this many alternatives. */
#define NAMEFILTER_MAX 256

/* NULL if spec is a valid pattern, else why not (conf_option.check). */
const char *namefilter_check(const char *spec);
/* Expand spec (valid, or "" for none) into f, replacing its contents. */
void namefilter_parse(struct vector *f, const char *spec);
/* Add one name, taken literally, to f. */
void namefilter_add(struct vector *f, const char *name);
/* 1 when name (one path component) matches an alternative without '/'. */
int namefilter_name(const struct vector *f, const char *name);
/* 1 when any component of the virtual path vpath matches as a name, or the
 * whole path matches an alternative with a '/' in it. */
int namefilter_path(const struct vector *f, const char *vpath);

#endif
