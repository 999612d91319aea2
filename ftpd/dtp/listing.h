/* listing: directory listings the way clients parse them: LIST (ls -l,
 * vsftpd layout), NLST (names), MLSD/MLST (RFC 3659 facts), and the bounded
 * glob used by LIST/NLST patterns. */
#ifndef POSTEL_FTPD_LISTING_H
#define POSTEL_FTPD_LISTING_H

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"
#include "ftpd/pi/fs.h"

/* listing flags */
#define LS_ALL 0x01       /* -a: also names starting with '.' */
#define LS_LONG 0x02      /* LIST: ls -l lines */
#define LS_MLSD 0x04      /* MLSD: fact lines (all entries, "." as cdir, ".." as pdir) */
#define LS_NLST 0x08      /* NLST: names only */
#define LS_ALMOST 0x10    /* -A: names starting with '.', but not . and .. */
#define LS_SORT_TIME 0x20 /* -t: newest first (then by name) */
#define LS_SORT_SIZE 0x40 /* -S: largest first (then by name) */
#define LS_REVERSE 0x80   /* -r: the order reversed */
#define LS_ONE 0x100      /* -1 (without -l): LIST sends names only */
#define LS_RECURSE 0x200  /* -R: ls -R's walk (the PI drops it unless ls_recurse_enable) */

/* MLST facts, in the order they are printed. */
#define LISTING_FACT_TYPE 0x01
#define LISTING_FACT_SIZE 0x02
#define LISTING_FACT_MODIFY 0x04
#define LISTING_FACT_PERM 0x08
#define LISTING_FACT_UNIQUE 0x10
#define LISTING_FACT_UNIX_MODE 0x20
#define LISTING_FACT_UNIX_OWNER 0x40
#define LISTING_FACT_UNIX_GROUP 0x80
#define LISTING_FACT_CREATE 0x100 /* MFCT's attribute, else the birth time */
#define LISTING_FACTS_ALL 0x1ff

/* The session's rights, for the MLSx perm fact. */
#define LISTING_RIGHT_WRITE 0x01  /* STOR, APPE, MKD allowed at all */
#define LISTING_RIGHT_DELETE 0x02 /* DELE, RMD */
#define LISTING_RIGHT_RENAME 0x04 /* RNFR/RNTO */

/* Results of listing_dir and listing_path. */
#define LISTING_OK 0
#define LISTING_ERR (-1)         /* errno set: ENOENT, ENOTDIR, EACCES... -> 550 */
#define LISTING_TOO_COMPLEX (-2) /* glob over its work budget -> 550 */
#define LISTING_TOO_MANY (-3)    /* more entries than opts->max_entries -> 451 */
#define LISTING_SINK_FAILED (-4) /* opts->flush failed: the data connection is gone */
#define LISTING_TOO_DEEP (-5)    /* LS_RECURSE: a directory below opts->recurse_depth -> 451 */
#define LISTING_TOO_BIG (-6)     /* LS_RECURSE: more than opts->recurse_entries in all -> 451 */

/* A streamed listing leaves in writes of at most this many bytes. */
#define LISTING_CHUNK (64U * 1024)

struct listing_perm {
	uid_t uid; /* session user, to pick owner/group/other mode bits */
	gid_t gid;
	unsigned rights;     /* LISTING_RIGHT_* */
	int parent_writable; /* MLST only: may entries of the parent be removed */
};

struct listing_id {
	unsigned long id;
	char *name;
};

/* uid/gid -> name, from /etc/passwd and /etc/group read once before chroot. */
struct listing_idcache {
	struct listing_id *users, *groups;
	size_t nusers, ngroups;
};

/* Read passwd and group files (either may be NULL or missing: numbers are
 * shown then). Parses the text directly: no NSS inside the chroot. */
void listing_idcache_load(struct listing_idcache *c, const char *passwd_path,
                          const char *group_path);
/* The name for an id, or NULL when unknown. */
const char *listing_idcache_user(const struct listing_idcache *c, uid_t uid);
const char *listing_idcache_group(const struct listing_idcache *c, gid_t gid);
void listing_idcache_free(struct listing_idcache *c);

struct listing_opts {
	const struct listing_idcache *ids; /* NULL: numeric owner and group */
	int hide_ids;                      /* show "ftp" as owner and group */
	unsigned facts;                    /* MLSD facts (LISTING_FACT_*) */
	struct listing_perm perm;          /* MLSD perm fact */
	time_t now;                        /* 0: time(NULL); picks "HH:MM" or " YYYY" */
	const struct vector *hide;         /* hide_file: entries left out (NULL: none) */
	const struct vector *deny;         /* deny_file: paths not listed (NULL: none) */
	unsigned long max_entries;         /* max_list_entries: 0 for no cap */
	unsigned long recurse_depth;       /* LS_RECURSE: levels below the named directory */
	unsigned long recurse_entries;     /* LS_RECURSE: entries of all its directories */
	/* NULL: the whole listing is left in out. Else each full chunk of
	 * out (at most LISTING_CHUNK bytes) is handed to flush and dropped,
	 * so only the names of the directory stay in memory; flush returns
	 * 0, or -1 to stop (LISTING_SINK_FAILED). */
	int (*flush)(void *ctx, const void *buf, size_t len);
	void *flush_ctx;
};

/* One ls -l line with "\r\n":
 * "drwxr-xr-x    2 ftp      ftp          4096 Mar 01 12:34 name"; the date shows
 * the year when mtime is in the future or older than 182 days (vsftpd), UTC,
 * C month names. owner/group NULL: numbers; hide_ids: "ftp". target: for a
 * symlink, appended as " -> target"; may be NULL. */
void listing_ls_line(struct buffer *out, const char *name, const struct stat *st, time_t now,
                     int hide_ids, const char *owner, const char *group, const char *target);
/* One RFC 3659 line with "\r\n": "fact=value;...; name". MLST callers add the
 * leading space themselves. Name "." is type=cdir, ".." type=pdir; a symlink
 * (st from lstat) is "type=OS.unix=slink:TARGET" as ProFTPD writes it, or
 * "OS.unix=slink" when target is NULL. owner and group NULL: numbers.
 * created: the create fact (fs_stat_created), or NULL to leave it out. */
void listing_mlsx_line(struct buffer *out, const char *name, const struct stat *st, unsigned facts,
                       const struct listing_perm *perm, const char *owner, const char *group,
                       const char *target, const time_t *created);
/* Whether the session may add and remove entries of the directory dir
 * (w and x for its user): what struct listing_perm's parent_writable means. */
int listing_dir_writable(const struct stat *dir, const struct listing_perm *perm);
/* OPTS MLST argument ("type;size;", case-insensitive, unknown facts ignored):
 * returns the new fact mask and puts the canonical enabled list in reply
 * ("type;size;", replacing it), for "200 MLST OPTS <reply>". */
unsigned listing_mlst_opts(const char *arg, struct buffer *reply);
/* The FEAT fact list: "type*;size*;...;" with '*' on enabled facts. */
void listing_mlst_feat(struct buffer *out, unsigned facts);

/* Strip leading "-options" words from a LIST/NLST argument like vsftpd:
 * 'a' sets LS_ALL, 'l' LS_LONG, 'A' LS_ALMOST, 't' LS_SORT_TIME, 'S'
 * LS_SORT_SIZE, 'r' LS_REVERSE, '1' LS_ONE, 'R' LS_RECURSE; others (-F -d ...)
 * are ignored.
 * *path points into arg after them, or at "" when nothing is left. */
void listing_parse_args(const char *arg, int *flags, const char **path);

/* Match name against a glob: '*', '?', '[...]' ('!' or '^' negates, ranges
 * a-z byte-wise); no braces, no escapes, '/' not special. Work is charged to
 * *budget (steps); returns 1 match, 0 no match, -1 when the budget runs out. */
int listing_glob_match(const char *pattern, const char *name, unsigned long *budget);
/* 1 when s contains a glob metacharacter. */
int listing_has_glob(const char *s);

/* List the directory vpath (virtual, resolved) into out: entries sorted
 * byte-wise, hidden ones only with LS_ALL (MLSD shows all), never those
 * opts->hide matches, filtered by pattern (may be NULL). Only the names are
 * read first (and counted against opts->max_entries); each entry is then
 * stat'ed (one fstatat), formatted and, with opts->flush, sent in turn.
 * Format from flags: LS_MLSD, LS_NLST (names prefixed with prefix when not
 * NULL), else ls -l lines. */
int listing_dir(const struct fs_root *root, const char *vpath, int flags, const char *pattern,
                const char *prefix, const struct listing_opts *opts, struct buffer *out);
/* LIST/NLST/MLSD on a client argument (as left by listing_parse_args, ""
 * for the cwd; a path opts->deny matches is EACCES): a directory lists its entries (NLST prefixes
 * them with the argument, as "dir/name"); another file gives one line naming it as typed (MLSD:
 * ENOTDIR); a missing path whose last component has glob characters lists the matching entries of
 * its parent.
 * LS_RECURSE on a directory (LIST and NLST) walks it as ls -R prints: "ARG:"
 * (".:" for ""), its entries, then each subdirectory in listing order after a
 * blank line as "ARG/sub:", depth first. Symlinks are never entered, hide and
 * deny apply at every level, and one directory's names are read at a time
 * (plus, for each level above, the subdirectory names still to walk). Past
 * opts->recurse_depth or opts->recurse_entries it stops with LISTING_TOO_DEEP
 * or LISTING_TOO_BIG, what was listed before already sent. */
int listing_path(const struct fs_root *root, const char *arg, int flags,
                 const struct listing_opts *opts, struct buffer *out);

#endif
