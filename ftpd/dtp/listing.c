/* listing: LIST/NLST/MLSD output, the MLST facts, uid/gid names read before
 * chroot, and a glob matcher whose work is bounded. */
#include "ftpd/dtp/listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/core/number.h"
#include "common/core/xmalloc.h"
#include "ftpd/namefilter.h"

/* SECURITY: glob work is bounded per name and per listing, so a pattern
 * like "*a*a*a*a*b" over a big directory cannot pin the CPU. */
#define GLOB_STEPS_PER_NAME 100000UL
#define GLOB_STEPS_PER_LISTING 20000000UL
#define GLOB_MAX_MATCHES 100000

/* vsftpd shows the year instead of the time past about six months. */
#define LS_RECENT_SECS (182L * 24 * 60 * 60)

static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static const struct {
	const char *name;
	unsigned bit;
} facts_table[] = {
    {"type", LISTING_FACT_TYPE},
    {"size", LISTING_FACT_SIZE},
    {"modify", LISTING_FACT_MODIFY},
    {"create", LISTING_FACT_CREATE},
    {"perm", LISTING_FACT_PERM},
    {"unique", LISTING_FACT_UNIQUE},
    {"UNIX.mode", LISTING_FACT_UNIX_MODE},
    {"UNIX.owner", LISTING_FACT_UNIX_OWNER},
    {"UNIX.group", LISTING_FACT_UNIX_GROUP},
};
#define NFACTS (sizeof(facts_table) / sizeof(facts_table[0]))

/* One entry while it is formatted; nothing here is owned. */
struct entry {
	char *name;
	char *target; /* symlink target, or NULL */
	struct stat st;
	int has_created; /* the create fact: created is set */
	time_t created;
};

/* ---- uid/gid names ---- */

struct idrec {
	unsigned long id;
	size_t pos; /* line number: the first line for an id wins, as getpwuid */
	char *name;
};

static int
idrec_cmp(const void *a, const void *b)
{
	const struct idrec *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Parse "name:x:id:..." lines into a sorted, deduplicated table. */
static struct listing_id *
idfile_load(const char *path, size_t *count)
{
	struct idrec *recs = NULL;
	struct listing_id *ids;
	size_t n = 0, alloc = 0, cap = 0, i, out;
	char *line = NULL, *colon, *field;
	uint64_t id;
	FILE *f;

	*count = 0;
	if (path == NULL || (f = fopen(path, "re")) == NULL)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		colon = strchr(line, ':');
		if (colon == NULL || colon == line || (field = strchr(colon + 1, ':')) == NULL)
			continue;
		*colon = '\0';
		field++;
		field[strcspn(field, ":")] = '\0';
		if (number_parse(field, 0, UINT32_MAX, &id) < 0)
			continue;
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			recs = xrealloc(recs, alloc * sizeof(*recs));
		}
		recs[n].id = (unsigned long)id;
		recs[n].pos = n;
		recs[n].name = xstrdup(line);
		n++;
	}
	free(line);
	fclose(f);
	if (n == 0)
		return NULL;
	qsort(recs, n, sizeof(*recs), idrec_cmp);
	ids = xmalloc(n * sizeof(*ids));
	for (i = 0, out = 0; i < n; i++) {
		if (out > 0 && ids[out - 1].id == recs[i].id) {
			free(recs[i].name);
			continue;
		}
		ids[out].id = recs[i].id;
		ids[out].name = recs[i].name;
		out++;
	}
	free(recs);
	*count = out;
	return ids;
}

static int
id_cmp(const void *key, const void *elem)
{
	unsigned long k = *(const unsigned long *)key;
	const struct listing_id *e = elem;

	return k < e->id ? -1 : k > e->id;
}

static const char *
id_find(const struct listing_id *ids, size_t n, unsigned long id)
{
	const struct listing_id *e;

	if (ids == NULL)
		return NULL;
	e = bsearch(&id, ids, n, sizeof(*ids), id_cmp);
	return e ? e->name : NULL;
}

void
listing_idcache_load(struct listing_idcache *c, const char *passwd_path, const char *group_path)
{
	c->users = idfile_load(passwd_path, &c->nusers);
	c->groups = idfile_load(group_path, &c->ngroups);
}

const char *
listing_idcache_user(const struct listing_idcache *c, uid_t uid)
{
	return c ? id_find(c->users, c->nusers, uid) : NULL;
}

const char *
listing_idcache_group(const struct listing_idcache *c, gid_t gid)
{
	return c ? id_find(c->groups, c->ngroups, gid) : NULL;
}

static void
ids_free(struct listing_id *ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i].name);
	free(ids);
}

void
listing_idcache_free(struct listing_idcache *c)
{
	ids_free(c->users, c->nusers);
	ids_free(c->groups, c->ngroups);
	memset(c, 0, sizeof(*c));
}

/* ---- line formats ---- */

static char
type_char(mode_t m)
{
	if (S_ISDIR(m))
		return 'd';
	if (S_ISLNK(m))
		return 'l';
	if (S_ISCHR(m))
		return 'c';
	if (S_ISBLK(m))
		return 'b';
	if (S_ISFIFO(m))
		return 'p';
	if (S_ISSOCK(m))
		return 's';
	return '-';
}

static void
mode_string(char s[11], mode_t m)
{
	s[0] = type_char(m);
	s[1] = m & S_IRUSR ? 'r' : '-';
	s[2] = m & S_IWUSR ? 'w' : '-';
	s[3] = m & S_ISUID ? (m & S_IXUSR ? 's' : 'S') : (m & S_IXUSR ? 'x' : '-');
	s[4] = m & S_IRGRP ? 'r' : '-';
	s[5] = m & S_IWGRP ? 'w' : '-';
	s[6] = m & S_ISGID ? (m & S_IXGRP ? 's' : 'S') : (m & S_IXGRP ? 'x' : '-');
	s[7] = m & S_IROTH ? 'r' : '-';
	s[8] = m & S_IWOTH ? 'w' : '-';
	s[9] = m & S_ISVTX ? (m & S_IXOTH ? 't' : 'T') : (m & S_IXOTH ? 'x' : '-');
	s[10] = '\0';
}

/* Listing lines are written by hand, not by printf: MLSD of 100,000
 * entries spent a quarter of the DTP's time in vfprintf (perf). v in
 * base (8, 10 or 16), zero-padded to width digits, written to end at the
 * end of buf; its first digit. */
static const char *
digits(char *buf, size_t size, unsigned long long v, unsigned base, int width)
{
	char *p = buf + size;

	*--p = '\0';
	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
		width--;
	} while ((v > 0 || width > 0) && p > buf);
	return p;
}

static const char *
decimal(char *buf, size_t size, unsigned long long v)
{
	return digits(buf, size, v, 10, 1);
}

/* s, padded with spaces to width: on the right (left-aligned) or left. */
static void
put_padded(struct buffer *out, const char *s, size_t width, int left)
{
	static const char spaces[] = "                ";
	size_t n = strlen(s), pad = n < width ? width - n : 0;

	if (!left)
		buffer_append(out, spaces, pad);
	buffer_append(out, s, n);
	if (left)
		buffer_append(out, spaces, pad);
}

/* Two digits, zero-padded (%02d of 0..99). */
static void
put_two(struct buffer *out, int v)
{
	char d[3];

	buffer_append(out, digits(d, sizeof(d), (unsigned)(v < 0 ? 0 : v % 100), 10, 2), 2);
}

void
listing_ls_line(struct buffer *out, const char *name, const struct stat *st, time_t now,
                int hide_ids, const char *owner, const char *group, const char *target)
{
	char mode[11], uidnum[24], gidnum[24], num[24];
	time_t mtime = st->st_mtime;
	struct tm tm;

	mode_string(mode, st->st_mode);
	if (hide_ids) {
		owner = "ftp";
		group = "ftp";
	}
	if (owner == NULL)
		owner = decimal(uidnum, sizeof(uidnum), (unsigned long)st->st_uid);
	if (group == NULL)
		group = decimal(gidnum, sizeof(gidnum), (unsigned long)st->st_gid);
	if (gmtime_r(&mtime, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	/* "%s %4lu %-8s %-8s %8lld %s %02d ", by hand (see put_fact) */
	buffer_append(out, mode, 10);
	buffer_append(out, " ", 1);
	put_padded(out, decimal(num, sizeof(num), (unsigned long)st->st_nlink), 4, 0);
	buffer_append(out, " ", 1);
	put_padded(out, owner, 8, 1);
	buffer_append(out, " ", 1);
	put_padded(out, group, 8, 1);
	buffer_append(out, " ", 1);
	put_padded(
	    out, decimal(num, sizeof(num), (unsigned long long)(st->st_size < 0 ? 0 : st->st_size)),
	    8, 0);
	buffer_append(out, " ", 1);
	buffer_append(out, month_names[tm.tm_mon % 12], 3);
	buffer_append(out, " ", 1);
	put_two(out, tm.tm_mday);
	buffer_append(out, " ", 1);
	if (mtime > now || now - mtime > LS_RECENT_SECS) {
		buffer_append(out, " ", 1);
		buffer_puts(
		    out,
		    decimal(uidnum, sizeof(uidnum),
		            (unsigned long long)(tm.tm_year + 1900 < 0 ? 0 : tm.tm_year + 1900)));
	} else {
		put_two(out, tm.tm_hour);
		buffer_append(out, ":", 1);
		put_two(out, tm.tm_min);
	}
	buffer_append(out, " ", 1);
	buffer_puts(out, name);
	if (target != NULL && S_ISLNK(st->st_mode)) {
		buffer_append(out, " -> ", 4);
		buffer_puts(out, target);
	}
	buffer_append(out, "\r\n", 2);
}

/* Whether the session user has mode bit (4 r, 2 w, 1 x) on st. Supplementary
 * groups are not considered; root gets r and w, and x when anyone has it. */
static int
may(const struct stat *st, const struct listing_perm *p, unsigned bit)
{
	int shift;

	if (p->uid == 0)
		return bit != 1 || S_ISDIR(st->st_mode) || (st->st_mode & 0111);
	shift = st->st_uid == p->uid ? 6 : st->st_gid == p->gid ? 3 : 0;
	return ((st->st_mode >> shift) & bit) != 0;
}

int
listing_dir_writable(const struct stat *dir, const struct listing_perm *perm)
{
	return S_ISDIR(dir->st_mode) && may(dir, perm, 2) && may(dir, perm, 1);
}

static void
perm_fact(struct buffer *out, const struct stat *st, const struct listing_perm *p)
{
	int dir = S_ISDIR(st->st_mode);
	int write = (p->rights & LISTING_RIGHT_WRITE) && may(st, p, 2);
	int del = (p->rights & LISTING_RIGHT_DELETE) && p->parent_writable;
	int ren = (p->rights & LISTING_RIGHT_RENAME) && p->parent_writable;

	buffer_puts(out, "perm=");
	if (!dir && write)
		buffer_puts(out, "a");
	if (dir && write)
		buffer_puts(out, "c");
	if (del)
		buffer_puts(out, "d");
	if (dir && may(st, p, 1))
		buffer_puts(out, "e");
	if (ren)
		buffer_puts(out, "f");
	if (dir && may(st, p, 4))
		buffer_puts(out, "l");
	if (dir && write)
		buffer_puts(out, "m");
	if (dir && write && (p->rights & LISTING_RIGHT_DELETE))
		buffer_puts(out, "p");
	if (!dir && may(st, p, 4))
		buffer_puts(out, "r");
	if (!dir && write)
		buffer_puts(out, "w");
	buffer_puts(out, ";");
}

static const char *
mlsx_type(const char *name, const struct stat *st, const char *target, struct buffer *tmp)
{
	if (S_ISDIR(st->st_mode)) {
		if (strcmp(name, ".") == 0)
			return "cdir";
		if (strcmp(name, "..") == 0)
			return "pdir";
		return "dir";
	}
	if (S_ISREG(st->st_mode))
		return "file";
	if (S_ISLNK(st->st_mode)) {
		if (target == NULL)
			return "OS.unix=slink";
		buffer_clear(tmp);
		buffer_printf(tmp, "OS.unix=slink:%s", target);
		return buffer_cstr(tmp);
	}
	if (S_ISCHR(st->st_mode))
		return "OS.unix=chr";
	if (S_ISBLK(st->st_mode))
		return "OS.unix=blk";
	if (S_ISFIFO(st->st_mode))
		return "OS.unix=fifo";
	return "OS.unix=socket";
}

/* MLSx lines, by hand like ls lines (see decimal). */
static void
put_fact(struct buffer *out, const char *name, const char *value)
{
	buffer_puts(out, name);
	buffer_puts(out, value);
	buffer_append(out, ";", 1);
}

static void
put_number(struct buffer *out, const char *name, unsigned long long v, unsigned base, int width)
{
	char d[32];

	put_fact(out, name, digits(d, sizeof(d), v, base, width));
}

/* name=YYYYMMDDHHMMSS; in UTC */
static void
put_time(struct buffer *out, const char *name, time_t t)
{
	static const int w[6] = {4, 2, 2, 2, 2, 2};
	char d[24];
	struct tm tm;
	int f[6];

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	f[0] = tm.tm_year + 1900, f[1] = tm.tm_mon + 1, f[2] = tm.tm_mday;
	f[3] = tm.tm_hour, f[4] = tm.tm_min, f[5] = tm.tm_sec;
	buffer_puts(out, name);
	for (int i = 0; i < 6; i++)
		buffer_puts(out, digits(d, sizeof(d), (unsigned)(f[i] < 0 ? 0 : f[i]), 10, w[i]));
	buffer_append(out, ";", 1);
}

void
listing_mlsx_line(struct buffer *out, const char *name, const struct stat *st, unsigned facts,
                  const struct listing_perm *perm, const char *owner, const char *group,
                  const char *target, const time_t *created)
{
	struct buffer type = BUFFER_INIT;

	if (facts & LISTING_FACT_TYPE) {
		put_fact(out, "type=", mlsx_type(name, st, target, &type));
		buffer_free(&type);
	}
	if ((facts & LISTING_FACT_SIZE) && !S_ISDIR(st->st_mode))
		put_number(out, "size=", (unsigned long long)(st->st_size < 0 ? 0 : st->st_size),
		           10, 1);
	if (facts & LISTING_FACT_MODIFY)
		put_time(out, "modify=", st->st_mtime);
	if ((facts & LISTING_FACT_CREATE) && created != NULL)
		put_time(out, "create=", *created);
	if ((facts & LISTING_FACT_PERM) && perm != NULL)
		perm_fact(out, st, perm);
	if (facts & LISTING_FACT_UNIQUE) {
		put_number(out, "unique=", (unsigned long long)st->st_dev, 16, 1);
		/* "devUino": the ';' put_number wrote becomes the 'U' */
		buffer_truncate(out, out->len - 1);
		buffer_append(out, "U", 1);
		put_number(out, "", (unsigned long long)st->st_ino, 16, 1);
	}
	if (facts & LISTING_FACT_UNIX_MODE)
		put_number(out, "UNIX.mode=", (unsigned)(st->st_mode & 07777), 8, 4);
	if (facts & LISTING_FACT_UNIX_OWNER) {
		if (owner)
			put_fact(out, "UNIX.owner=", owner);
		else
			put_number(out, "UNIX.owner=", (unsigned long)st->st_uid, 10, 1);
	}
	if (facts & LISTING_FACT_UNIX_GROUP) {
		if (group)
			put_fact(out, "UNIX.group=", group);
		else
			put_number(out, "UNIX.group=", (unsigned long)st->st_gid, 10, 1);
	}
	buffer_append(out, " ", 1);
	buffer_puts(out, name);
	buffer_append(out, "\r\n", 2);
}

unsigned
listing_mlst_opts(const char *arg, struct buffer *reply)
{
	unsigned facts = 0;
	const char *p = arg ? arg : "", *end;
	size_t i, n;

	while (*p) {
		end = strchrnul(p, ';');
		n = (size_t)(end - p);
		for (i = 0; i < NFACTS; i++)
			if (strlen(facts_table[i].name) == n &&
			    strncasecmp(facts_table[i].name, p, n) == 0)
				facts |= facts_table[i].bit;
		p = *end ? end + 1 : end;
	}
	buffer_clear(reply);
	for (i = 0; i < NFACTS; i++)
		if (facts & facts_table[i].bit)
			buffer_printf(reply, "%s;", facts_table[i].name);
	buffer_cstr(reply);
	return facts;
}

void
listing_mlst_feat(struct buffer *out, unsigned facts)
{
	size_t i;

	for (i = 0; i < NFACTS; i++)
		buffer_printf(out, "%s%s;", facts_table[i].name,
		              (facts & facts_table[i].bit) ? "*" : "");
}

/* The ls options LIST, NLST and STAT take before a path; any other letter
 * (-F -d ...) is accepted and ignored, as vsftpd does. */
static const struct {
	char letter;
	int flag;
} ls_options[] = {
    {'a', LS_ALL},       {'l', LS_LONG},    {'A', LS_ALMOST}, {'t', LS_SORT_TIME},
    {'S', LS_SORT_SIZE}, {'r', LS_REVERSE}, {'1', LS_ONE},    {'R', LS_RECURSE},
};

static int
ls_option_flag(char letter)
{
	for (size_t i = 0; i < sizeof(ls_options) / sizeof(ls_options[0]); i++)
		if (ls_options[i].letter == letter)
			return ls_options[i].flag;
	return 0;
}

void
listing_parse_args(const char *arg, int *flags, const char **path)
{
	const char *p = arg ? arg : "";

	*flags = 0;
	while (*p == '-') {
		for (p++; *p && *p != ' '; p++)
			*flags |= ls_option_flag(*p);
		while (*p == ' ')
			p++;
	}
	*path = p;
}

/* ---- glob ---- */

/* Match c against the class at p ("[...]"). Returns the byte after the
 * closing ']' and sets *hit, or NULL when there is no closing ']' (then the
 * '[' is an ordinary byte). */
static const char *
glob_class(const char *p, unsigned char c, int *hit, unsigned long *steps)
{
	int neg = 0, found = 0;
	const unsigned char *q = (const unsigned char *)p + 1;

	if (*q == '!' || *q == '^') {
		neg = 1;
		q++;
	}
	/* A ']' first in the class is a member, not the end. */
	do {
		unsigned char lo = *q, hi = *q;

		if (*q == '\0')
			return NULL;
		(*steps)++;
		if (q[1] == '-' && q[2] != ']' && q[2] != '\0') {
			hi = q[2];
			q += 2;
		}
		if (c >= lo && c <= hi)
			found = 1;
		q++;
	} while (*q != ']');
	*hit = found != neg;
	return (const char *)q + 1;
}

int
listing_glob_match(const char *pattern, const char *name, unsigned long *budget)
{
	const char *p = pattern, *n = name, *star_p = NULL, *star_n = NULL, *next;
	unsigned long steps = 0;
	int hit;

	/* One backtrack point (the last '*') is enough: every other wildcard
	 * matches one byte. So the work is O(len(p) * len(n)), then capped. */
	while (*n) {
		if (++steps > *budget)
			return -1;
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0') {
				*budget -= steps;
				return 1;
			}
			star_p = p;
			star_n = n;
			continue;
		}
		if (*p == '?') {
			p++;
			n++;
			continue;
		}
		if (*p == '[' && (next = glob_class(p, (unsigned char)*n, &hit, &steps)) != NULL) {
			if (hit) {
				p = next;
				n++;
				continue;
			}
		} else if (*p != '\0' && *p == *n) {
			p++;
			n++;
			continue;
		}
		if (star_p == NULL) {
			*budget -= steps > *budget ? *budget : steps;
			return 0;
		}
		p = star_p;
		n = ++star_n;
	}
	while (*p == '*')
		p++;
	*budget -= steps > *budget ? *budget : steps;
	return *p == '\0';
}

int
listing_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* ---- directories ---- */

/* The names of one directory, NUL-terminated one after another in one
 * block, and one slot per name: its offset while the block grows, then a
 * pointer into it for the sort. That is all a listing keeps in memory. */
struct name_slot {
	union {
		size_t off;
		const char *name;
	} u;
	int64_t key; /* -t: mtime in ns; -S: size; else 0 */
};

struct names {
	struct buffer text;
	struct name_slot *slot;
	size_t n, alloc;
};

static void
names_add(struct names *v, const char *name, int64_t key)
{
	if (v->n == v->alloc) {
		v->alloc = v->alloc ? v->alloc * 2 : 64;
		v->slot = xrealloc(v->slot, v->alloc * sizeof(*v->slot));
	}
	v->slot[v->n].u.off = v->text.len;
	v->slot[v->n++].key = key;
	buffer_append(&v->text, name, strlen(name) + 1);
}

/* Byte-wise by name, the order listings have always had; -t and -S put
 * the biggest key first and keep the name order among equals; -r turns
 * the whole order round, as ls does. */
static int
name_cmp(const void *a, const void *b, void *flagsp)
{
	const struct name_slot *x = a, *y = b;
	int flags = *(const int *)flagsp;
	int c = x->key != y->key ? (x->key > y->key ? -1 : 1) : strcmp(x->u.name, y->u.name);

	return (flags & LS_REVERSE) ? -c : c;
}

/* Turn offsets into pointers: the block no longer moves. */
static void
names_fix(struct names *v)
{
	const char *base = buffer_head(&v->text);

	for (size_t i = 0; i < v->n; i++)
		v->slot[i].u.name = base + v->slot[i].u.off;
}

static void
names_sort(struct names *v, int flags)
{
	names_fix(v);
	if (v->n > 0)
		qsort_r(v->slot, v->n, sizeof(*v->slot), name_cmp, &flags);
}

/* The -t or -S key of a name: one more fstatat, before the sort. */
static int64_t
sort_key(int dirfd, const char *name, int flags)
{
	struct stat st;

	if (!(flags & (LS_SORT_TIME | LS_SORT_SIZE)) ||
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (flags & LS_SORT_TIME)
		return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return (int64_t)st.st_size;
}

static void
names_free(struct names *v)
{
	buffer_free(&v->text);
	free(v->slot);
	memset(v, 0, sizeof(*v));
}

static void
format_entry(struct buffer *out, const struct entry *e, int flags, const char *prefix,
             const struct listing_opts *opts, const struct listing_perm *perm, time_t now)
{
	const char *owner = listing_idcache_user(opts->ids, e->st.st_uid);
	const char *group = listing_idcache_group(opts->ids, e->st.st_gid);

	if (flags & LS_MLSD) {
		listing_mlsx_line(out, e->name, &e->st, opts->facts, perm, owner, group, e->target,
		                  e->has_created ? &e->created : NULL);
	} else if ((flags & LS_NLST) || ((flags & LS_ONE) && !(flags & LS_LONG))) {
		if (prefix && (flags & LS_NLST))
			buffer_puts(out, prefix);
		buffer_puts(out, e->name);
		buffer_puts(out, "\r\n");
	} else {
		listing_ls_line(out, e->name, &e->st, now, opts->hide_ids, owner, group, e->target);
	}
}

/* LIST -R: how deep the walk is, and how many entries it has read. */
struct walk {
	unsigned long depth, entries;
};

/* Read the names of d that pass the filters; no stat yet. w: the walk
 * whose entry bound they count against, or NULL. */
static int
read_names(DIR *d, int flags, const char *pattern, const struct listing_opts *opts, struct walk *w,
           struct names *v)
{
	unsigned long budget = GLOB_STEPS_PER_LISTING, name_budget, used, counted = 0;
	struct dirent *de;
	int r, dots;

	while ((errno = 0, de = readdir(d)) != NULL) {
		dots = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
		if (fs_reserved(de->d_name)) /* uploads in progress (pi/upload.c) */
			continue;
		/* Hidden unless -a, MLSD, or a pattern that asks for a dot. */
		if (de->d_name[0] == '.' && !(flags & (LS_ALL | LS_ALMOST | LS_MLSD)) &&
		    !(pattern && pattern[0] == '.'))
			continue;
		if (dots && ((flags & LS_NLST) || ((flags & LS_ALMOST) && !(flags & LS_ALL))))
			continue;
		if (opts->hide != NULL && !dots && namefilter_name(opts->hide, de->d_name))
			continue;
		if (pattern) {
			name_budget = budget < GLOB_STEPS_PER_NAME ? budget : GLOB_STEPS_PER_NAME;
			used = name_budget;
			r = listing_glob_match(pattern, de->d_name, &name_budget);
			budget -= used - name_budget;
			if (r < 0 || (r > 0 && v->n >= GLOB_MAX_MATCHES))
				return LISTING_TOO_COMPLEX;
			if (r == 0)
				continue;
		}
		/* max_list_entries: refused before a byte is sent, and before
		 * the names alone could run the DTP out of memory. */
		if (!dots && opts->max_entries > 0 && ++counted > opts->max_entries)
			return LISTING_TOO_MANY;
		/* SECURITY: ls_recurse_max_entries, over the whole walk. */
		if (!dots && w != NULL && ++w->entries > opts->recurse_entries)
			return LISTING_TOO_BIG;
		names_add(v, de->d_name, sort_key(dirfd(d), de->d_name, flags));
	}
	return errno != 0 ? LISTING_ERR : LISTING_OK;
}

/* Hand out's whole lines before keep to the sink, in one write. */
static int
flush_lines(struct buffer *out, size_t keep, const struct listing_opts *opts)
{
	if (keep == 0)
		return 0;
	if (opts->flush(opts->flush_ctx, buffer_head(out), keep) < 0)
		return -1;
	buffer_consume(out, keep);
	return 0;
}

/* Stat, format and (with a sink) send each name in turn; subdirs, when not
 * NULL, gets the names of the real directories among them (no symlink, not
 * . or ..) in the order they were listed. */
static int
emit_names(DIR *d, int home, const char *vpath, int flags, const char *prefix,
           const struct names *v, const struct listing_opts *opts, const struct listing_perm *perm,
           const struct stat *dirst, struct names *subdirs, struct buffer *out)
{
	time_t now = opts->now ? opts->now : time(NULL);
	char target[FS_PATH_MAX];
	int fd = dirfd(d), rc = LISTING_OK;
	/* The create fact reads an attribute by name: from inside the
	 * directory, entered once for the listing and left after it. */
	int here = (flags & LS_MLSD) && (opts->facts & LISTING_FACT_CREATE) && fchdir(fd) == 0;
	struct entry e;
	ssize_t len;
	size_t mark;

	for (size_t i = 0; i < v->n; i++) {
		memset(&e, 0, sizeof(e));
		e.name = (char *)v->slot[i].u.name;
		if (!(flags & LS_NLST) || (flags & LS_MLSD) || subdirs != NULL) {
			/* SECURITY: ".." of the root would describe the directory
			 * above it (unprivileged mode has no chroot): show the root. */
			int top = strcmp(e.name, "..") == 0 && strcmp(vpath, "/") == 0;

			if (top) {
				e.st = *dirst;
				if (here)
					e.has_created =
					    fs_stat_created(fd, ".", &e.st, &e.created) > 0;
			} else if (here) {
				int c = fs_stat_created(fd, e.name, &e.st, &e.created);

				if (c < 0)
					continue; /* removed meanwhile */
				e.has_created = c;
			} else if (fstatat(fd, e.name, &e.st, AT_SYMLINK_NOFOLLOW) < 0) {
				continue; /* removed meanwhile */
			}
			if (S_ISLNK(e.st.st_mode) &&
			    (len = readlinkat(fd, e.name, target, sizeof(target) - 1)) >= 0) {
				target[len] = '\0';
				e.target = target;
			}
			if (subdirs != NULL && S_ISDIR(e.st.st_mode) && strcmp(e.name, ".") != 0 &&
			    strcmp(e.name, "..") != 0)
				names_add(subdirs, e.name, 0);
		}
		mark = out->len;
		format_entry(out, &e, flags, prefix, opts, perm, now);
		/* One line is far below a chunk: name and link target are
		 * bounded by NAME_MAX and FS_PATH_MAX. */
		if (opts->flush != NULL && out->len > LISTING_CHUNK &&
		    flush_lines(out, mark, opts) < 0) {
			rc = LISTING_SINK_FAILED;
			break;
		}
	}
	if (rc == LISTING_OK && opts->flush != NULL && flush_lines(out, out->len, opts) < 0)
		rc = LISTING_SINK_FAILED;
	if (here)
		(void)fchdir(home);
	return rc;
}

int
listing_dir(const struct fs_root *root, const char *vpath, int flags, const char *pattern,
            const char *prefix, const struct listing_opts *opts, struct buffer *out)
{
	struct listing_perm perm = opts->perm;
	struct names v = {BUFFER_INIT, NULL, 0, 0};
	struct stat dirst;
	DIR *d;
	int rc;

	d = fs_opendir(root, vpath);
	if (d == NULL)
		return LISTING_ERR;
	if (fstat(dirfd(d), &dirst) < 0) {
		rc = LISTING_ERR;
		goto done;
	}
	rc = read_names(d, flags, pattern, opts, NULL, &v);
	if (rc != LISTING_OK)
		goto done;
	names_sort(&v, flags);
	perm.parent_writable = listing_dir_writable(&dirst, &perm);
	rc = emit_names(d, root->fd, vpath, flags, prefix, &v, opts, &perm, &dirst, NULL, out);
done:
	names_free(&v);
	closedir(d);
	return rc;
}

/* ---- LIST -R ---- */

static int walk_dir(const struct fs_root *root, DIR *d, struct buffer *vpath, struct buffer *shown,
                    int flags, const struct listing_opts *opts, struct walk *w, struct buffer *out);

/* Append "/name" to a path, no doubled slash. */
static void
path_join(struct buffer *p, const char *name)
{
	if (p->len == 0 || buffer_head(p)[p->len - 1] != '/')
		buffer_puts(p, "/");
	buffer_puts(p, name);
}

/* Walk the subdirectory name of d, unless deny_file covers it or it cannot
 * be opened (ls names it on stderr and goes on; the listing just goes on). */
static int
walk_child(const struct fs_root *root, DIR *d, const char *name, struct buffer *vpath,
           struct buffer *shown, int flags, const struct listing_opts *opts, struct walk *w,
           struct buffer *out)
{
	size_t vlen = vpath->len, slen = shown->len;
	int rc = LISTING_OK;
	DIR *child;

	/* SECURITY: ls_recurse_max_depth, before the directory is opened. */
	if (w->depth >= opts->recurse_depth)
		return LISTING_TOO_DEEP;
	path_join(vpath, name);
	path_join(shown, name);
	/* SECURITY: a denied directory is listed in its parent (as flat
	 * LIST shows it), but its own names stay unlisted. */
	if (opts->deny == NULL || !namefilter_path(opts->deny, buffer_cstr(vpath))) {
		child = fs_opendir_child(d, name);
		if (child != NULL) {
			w->depth++;
			rc = walk_dir(root, child, vpath, shown, flags, opts, w, out);
			w->depth--;
			closedir(child);
		}
	}
	buffer_truncate(vpath, vlen);
	buffer_truncate(shown, slen);
	return rc;
}

/* One directory of the walk: its header and entries, then its
 * subdirectories. Its other names are freed before the first descent. */
static int
walk_dir(const struct fs_root *root, DIR *d, struct buffer *vpath, struct buffer *shown, int flags,
         const struct listing_opts *opts, struct walk *w, struct buffer *out)
{
	struct names v = {BUFFER_INIT, NULL, 0, 0}, subdirs = {BUFFER_INIT, NULL, 0, 0};
	struct listing_perm perm = opts->perm;
	struct stat dirst;
	int rc;

	if (fstat(dirfd(d), &dirst) < 0)
		return LISTING_ERR;
	rc = read_names(d, flags, NULL, opts, w, &v);
	if (rc == LISTING_OK) {
		names_sort(&v, flags);
		buffer_printf(out, "%s%s:\r\n", w->depth > 0 ? "\r\n" : "", buffer_cstr(shown));
		perm.parent_writable = listing_dir_writable(&dirst, &perm);
		rc = emit_names(d, root->fd, buffer_cstr(vpath), flags, NULL, &v, opts, &perm,
		                &dirst, &subdirs, out);
	}
	names_free(&v);
	names_fix(&subdirs);
	for (size_t i = 0; rc == LISTING_OK && i < subdirs.n; i++)
		rc = walk_child(root, d, subdirs.slot[i].u.name, vpath, shown, flags, opts, w, out);
	names_free(&subdirs);
	return rc;
}

/* LIST -R of the directory vpath, arg as the client typed it. */
static int
list_tree(const struct fs_root *root, const char *vpath, const char *arg, int flags,
          const struct listing_opts *opts, struct buffer *out)
{
	struct buffer v = BUFFER_INIT, shown = BUFFER_INIT;
	struct walk w = {0, 0};
	DIR *d = fs_opendir(root, vpath);
	int rc;

	if (d == NULL)
		return LISTING_ERR;
	buffer_puts(&v, vpath);
	buffer_puts(&shown, *arg ? arg : ".");
	rc = walk_dir(root, d, &v, &shown, flags, opts, &w, out);
	closedir(d);
	buffer_free(&v);
	buffer_free(&shown);
	return rc;
}

/* One line for a non-directory named as the client typed it. */
static int
list_one(const struct fs_root *root, const char *vpath, const char *arg, int flags,
         const struct listing_opts *opts, struct buffer *out)
{
	struct buffer target = BUFFER_INIT;
	struct entry e;

	if (flags & LS_MLSD) {
		errno = ENOTDIR;
		return LISTING_ERR;
	}
	if (flags & LS_NLST) {
		buffer_puts(out, arg);
		buffer_puts(out, "\r\n");
		return LISTING_OK;
	}
	if (fs_stat(root, vpath, &e.st, 0) < 0)
		return LISTING_ERR;
	e.name = (char *)arg;
	e.target = NULL;
	if (S_ISLNK(e.st.st_mode) && fs_readlink(root, vpath, &target) == 0)
		e.target = buffer_cstr(&target);
	format_entry(out, &e, flags, NULL, opts, &opts->perm, opts->now ? opts->now : time(NULL));
	buffer_free(&target);
	return LISTING_OK;
}

/* A missing path whose last component is a pattern: list its parent. */
static int
list_glob(const struct fs_root *root, const char *arg, int flags, const struct listing_opts *opts,
          struct buffer *out)
{
	const char *slash = strrchr(arg, '/');
	const char *pattern = slash ? slash + 1 : arg;
	struct buffer vdir = BUFFER_INIT;
	char *dirarg = xstrndup(arg, (size_t)(pattern - arg));
	int rc;

	if (listing_has_glob(dirarg) || *pattern == '\0') {
		errno = ENOENT;
		rc = LISTING_ERR;
	} else if (fs_resolve(root, NULL, dirarg, &vdir) < 0) {
		rc = LISTING_ERR;
	} else {
		rc = listing_dir(root, buffer_cstr(&vdir), flags, pattern, *dirarg ? dirarg : NULL,
		                 opts, out);
	}
	free(dirarg);
	buffer_free(&vdir);
	return rc;
}

int
listing_path(const struct fs_root *root, const char *arg, int flags,
             const struct listing_opts *opts, struct buffer *out)
{
	struct buffer vpath = BUFFER_INIT;
	char *prefix = NULL;
	struct stat st;
	size_t len = strlen(arg);
	int rc;

	if (fs_resolve(root, NULL, arg, &vpath) < 0) {
		rc = LISTING_ERR;
	} else if (opts->deny != NULL && namefilter_path(opts->deny, buffer_cstr(&vpath))) {
		/* SECURITY: deny_file, for STAT and patterns the PI did not
		 * resolve itself: a denied directory's names stay unlisted. */
		errno = EACCES;
		rc = LISTING_ERR;
	} else if (fs_stat(root, buffer_cstr(&vpath), &st, 1) == 0 ||
	           fs_stat(root, buffer_cstr(&vpath), &st, 0) == 0) {
		/* A dangling symlink is still listed, as ls -l does. */
		if (S_ISDIR(st.st_mode) && (flags & LS_RECURSE) && !(flags & LS_MLSD)) {
			rc = list_tree(root, buffer_cstr(&vpath), arg, flags, opts, out);
		} else if (S_ISDIR(st.st_mode)) {
			if ((flags & LS_NLST) && len > 0)
				prefix = xasprintf("%s%s", arg, arg[len - 1] == '/' ? "" : "/");
			rc = listing_dir(root, buffer_cstr(&vpath), flags, NULL, prefix, opts, out);
		} else {
			rc = list_one(root, buffer_cstr(&vpath), arg, flags, opts, out);
		}
	} else if (errno == ENOENT && listing_has_glob(arg)) {
		rc = list_glob(root, arg, flags, opts, out);
	} else {
		rc = LISTING_ERR;
	}
	free(prefix);
	buffer_free(&vpath);
	return rc;
}
