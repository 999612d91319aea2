/* active-t: the active file's layout for in-place marks, updates that keep
 * the file, readers that see them without reloading, conversion of older
 * layouts at writer start, and torn or short files. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/active.h"
#include "nntpd/store/spool.h"
#include "tap.h"

#define HOST "news.example"

static char *dir;

static char *
slurp(const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	struct buffer b = BUFFER_INIT;
	FILE *f = fopen(p, "r");
	char chunk[4096];
	size_t n;

	free(p);
	if (f == NULL)
		return xstrdup("");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buffer_append(&b, chunk, n);
	fclose(f);
	p = xstrdup(buffer_cstr(&b));
	buffer_free(&b);
	return p;
}

/* The line of text for group name with each run of blanks made one space
 * (what awk or INN's tools see), or "" when there is none. */
static char *
fields_of(const char *text, const char *name)
{
	struct buffer b = BUFFER_INIT;
	size_t n = strlen(name);
	char *out;

	for (const char *line = text; *line != '\0';) {
		const char *nl = strchrnul(line, '\n');

		if (strncmp(line, name, n) == 0 && (line[n] == ' ' || line[n] == '\t')) {
			for (const char *p = line; p < nl; p++)
				if ((*p != ' ' && *p != '\t') || (p[1] != ' ' && p[1] != '\t'))
					buffer_append(&b, *p == '\t' ? " " : p, 1);
			break;
		}
		line = *nl ? nl + 1 : nl;
	}
	out = xstrdup(buffer_cstr(&b));
	buffer_free(&b);
	return out;
}

static int
has_fields(const char *text, const char *name, const char *want)
{
	char *got = fields_of(text, name);
	int same = strcmp(got, want) == 0;

	if (!same)
		printf("# %s: got \"%s\", want \"%s\"\n", name, got, want);
	free(got);
	return same;
}

static void
put_file(const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", dir, rel);
	FILE *f = fopen(p, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		die("writing %s", p);
	free(p);
}

static ino_t
active_ino(off_t *size)
{
	char *p = xasprintf("%s/active", dir);
	struct stat st;

	if (stat(p, &st) < 0)
		die("stat %s", p);
	free(p);
	if (size != NULL)
		*size = st.st_size;
	return st.st_ino;
}

/* Every line of text is laid out for in-place marks: 4 fields, each mark
 * ACTIVE_MARK_WIDTH digits at a multiple of ACTIVE_MARK_ALIGN, the low one
 * block after the high one. */
static int
laid_out(const char *text, size_t *lines)
{
	const char *line = text;

	*lines = 0;
	while (*line != '\0') {
		const char *nl = strchr(line, '\n'), *hi = strchr(line, ' ');
		size_t at;

		if (nl == NULL || hi == NULL || hi > nl)
			return 0;
		hi += strspn(hi, " ");
		at = (size_t)(hi - text);
		if (at % ACTIVE_MARK_ALIGN != 0 || strspn(hi, "0123456789") != ACTIVE_MARK_WIDTH ||
		    hi[ACTIVE_MARK_WIDTH] != ' ' ||
		    strspn(hi + ACTIVE_MARK_ALIGN, "0123456789") != ACTIVE_MARK_WIDTH ||
		    hi[ACTIVE_MARK_ALIGN + ACTIVE_MARK_WIDTH] != ' ')
			return 0;
		(*lines)++;
		line = nl + 1;
	}
	return 1;
}

static void
test_layout_and_in_place(void)
{
	struct buffer why = BUFFER_INIT;
	struct spool *s = spool_open(dir, HOST, 1);
	struct active r;
	struct group *g;
	char *text;
	size_t lines;
	ino_t ino;
	off_t size, size2;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	ok(s != NULL && spool_newgroup(s, "a", "y", "", "t", &why) == 0 &&
	       spool_newgroup(s, "a.fifteen.chars", "y", "", "t", &why) == 0 &&
	       spool_newgroup(s, "a.name.of.sixteen", "m", "", "t", &why) == 0 &&
	       spool_newgroup(s, "b.alias", "=a", "", "t", &why) == 0,
	   "groups created %s", buffer_cstr(&why));
	if (s == NULL)
		return;
	text = slurp("active");
	ok(laid_out(text, &lines) && lines == 4, "every mark sits in its own block:\n%s", text);
	ok(strncmp(text, "a               000000000000000 000000000000001 y\n", 49) == 0 &&
	       has_fields(text, "b.alias", "b.alias 000000000000000 000000000000001 =a"),
	   "a line reads as name high low flag");
	free(text);

	active_init(&r);
	ok(active_refresh(&r, fd) == 1 && active_lookup(&r, "a")->high == 0, "reader loads it");
	ino = active_ino(&size);
	g = active_find(spool_active(s), "a.name.of.sixteen");
	g->high = 123456;
	g->low = 7;
	ok(active_write_group(spool_active(s), spool_dirfd(s), g) == 0 &&
	       active_ino(&size2) == ino && size2 == size,
	   "marks are written in place: same file, same size");
	text = slurp("active");
	ok(has_fields(text, "a.name.of.sixteen",
	              "a.name.of.sixteen 000000000123456 000000000000007 m"),
	   "the new marks are in the record");
	free(text);
	ok(active_refresh(&r, fd) == 0 && active_find(&r, "a.name.of.sixteen")->high == 0,
	   "the reader does not reload active for new marks");
	g = active_lookup(&r, "a.name.of.sixteen");
	ok(g->high == 123456 && g->low == 7, "and reads them from the record: %llu %llu",
	   (unsigned long long)g->high, (unsigned long long)g->low);

	/* A field that is not digits (a torn or foreign write) is not taken. */
	{
		int afd = openat(fd, "active", O_WRONLY);

		ok(afd >= 0 && pwrite(afd, "00000000x", 9, (off_t)g->high_at) == 9,
		   "corrupt the high field");
		if (afd >= 0)
			close(afd);
		g = active_lookup(&r, "a.name.of.sixteen");
		ok(g->high == 123456 && g->low == 7, "the reader keeps the marks it had");
		active_marks_all(&r);
		ok(g->high == 123456, "so does a read of every record");
	}

	/* A mark too wide for its field: active is rewritten with a wider one. */
	g = active_find(spool_active(s), "a");
	g->high = ACTIVE_MARK_MAX + 1;
	ok(active_write_group(spool_active(s), spool_dirfd(s), g) == 0 && active_ino(NULL) != ino,
	   "a mark past %llu rewrites active", (unsigned long long)ACTIVE_MARK_MAX);
	ok(active_refresh(&r, fd) == 1 && active_lookup(&r, "a")->high == ACTIVE_MARK_MAX + 1 &&
	       active_lookup(&r, "a.name.of.sixteen")->high == 123456,
	   "and the reader reloads it");
	g->high = 5;
	ok(active_write_group(spool_active(s), spool_dirfd(s), g) == 0 &&
	       active_lookup(&r, "a")->high == ACTIVE_MARK_MAX + 1 && active_refresh(&r, fd) == 1 &&
	       active_lookup(&r, "a")->high == 5,
	   "a record with a widened field is rewritten, not patched");
	/* A rewrite that fails (active.tmp cannot be made) is retried by the
	 * next write, even with no mark changed since. */
	{
		char *tmpdir = xasprintf("%s/active.tmp", dir);

		g->high = ACTIVE_MARK_MAX + 2;
		ok(mkdir(tmpdir, 0755) == 0 &&
		       active_write_group(spool_active(s), spool_dirfd(s), g) < 0,
		   "a rewrite that cannot make active.tmp fails");
		ok(rmdir(tmpdir) == 0 && active_write(spool_active(s), spool_dirfd(s)) == 0 &&
		       active_refresh(&r, fd) == 1 &&
		       active_lookup(&r, "a")->high == ACTIVE_MARK_MAX + 2,
		   "the next write of unchanged marks rewrites active");
		free(tmpdir);
		g->high = 5;
		active_write_group(spool_active(s), spool_dirfd(s), g);
	}
	text = slurp("active");
	ok(laid_out(text, &lines) && lines == 4, "back to the in-place layout:\n%s", text);
	free(text);
	spool_close(s);
	active_free(&r);
	close(fd);
	buffer_free(&why);
}

static void
test_conversion(void)
{
	struct active r;
	struct spool *s;
	struct group *g;
	char *text;
	size_t lines;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	/* Postel's older 10-digit layout, INN's unpadded one, a bad line. */
	put_file("active", "c.old 0000000012 0000000003 y\n"
	                   "c.inn 40 1 m\n"
	                   "c.bad 0000000001 0000000001 q\n"
	                   "c.alias\t7\t2\t=c.old\n");
	active_init(&r);
	ok(active_refresh(&r, fd) == 1 && active_lookup(&r, "c.old")->high == 12 &&
	       active_lookup(&r, "c.inn")->high == 40 && active_lookup(&r, "c.alias")->low == 2,
	   "a reader reads the older layouts");
	s = spool_open(dir, HOST, 1);
	ok(s != NULL, "writer starts on them");
	if (s == NULL)
		return;
	text = slurp("active");
	ok(strncmp(text, "c.alias         000000000000007 000000000000002 =c.old\n", 55) == 0 &&
	       has_fields(text, "c.inn", "c.inn 000000000000040 000000000000001 m") &&
	       has_fields(text, "c.old", "c.old 000000000000012 000000000000003 y") &&
	       strstr(text, "\nc.bad 0000000001 0000000001 q\n"),
	   "converted at start, marks kept, the bad line kept as it was:\n%s", text);
	*strstr(text, "c.bad") = '\0';
	ok(laid_out(text, &lines) && lines == 3, "the converted lines are laid out for in place");
	free(text);
	ok(active_refresh(&r, fd) == 1 && active_lookup(&r, "c.old")->high == 12,
	   "a reader sees the conversion as a new file");
	g = active_find(spool_active(s), "c.inn");
	g->high = 41;
	ok(active_write_group(spool_active(s), spool_dirfd(s), g) == 0 &&
	       active_refresh(&r, fd) == 0 && active_lookup(&r, "c.inn")->high == 41,
	   "and then updates in place");
	spool_close(s);

	/* Cut short in place mid-record (a hand edit, a full disk): the
	 * reader reloads on the new size, the torn line is a bad one. */
	{
		char *p = xasprintf("%s/active", dir);
		struct group *cut;

		cut = active_find(&r, "c.inn");
		ok(truncate(p, (off_t)cut->high_at + 6) == 0, "cut active inside c.inn's marks");
		free(p);
		cut = active_lookup(&r, "c.old");
		ok(cut != NULL && cut->high == 12, "a pread past the end keeps the marks");
		ok(active_refresh(&r, fd) == 1 && active_find(&r, "c.alias") != NULL &&
		       active_find(&r, "c.inn") == NULL && active_find(&r, "c.old") == NULL &&
		       r.bad.count == 1,
		   "the reader reloads the short file: whole lines only");
	}
	s = spool_open(dir, HOST, 1);
	ok(s != NULL && active_find(spool_active(s), "c.alias") != NULL,
	   "a writer starts on the short file");
	spool_close(s);
	text = slurp("active");
	ok(has_fields(text, "c.alias", "c.alias 000000000000007 000000000000002 =c.old") &&
	       has_fields(text, "c.inn", "c.inn 000000"),
	   "and keeps the torn line for the admin:\n%s", text);
	free(text);
	active_free(&r);
	close(fd);
}

/* A writer process raising one group's marks as fast as it can while a
 * reader looks them up: every value the reader takes is one the writer
 * wrote (marks never go down, low stays what it is), never a mix of two. */
static void
test_concurrent(void)
{
	struct buffer why = BUFFER_INIT;
	struct spool *s = spool_open(dir, HOST, 1);
	struct active r;
	uint64_t last = 0, lookups = 0, bad = 0, changes = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY), status;
	pid_t pid;

	ok(s != NULL && spool_newgroup(s, "d.race", "y", "", "t", &why) == 0, "race group");
	if (s == NULL)
		return;
	active_init(&r);
	active_refresh(&r, fd);
	pid = fork();
	if (pid == 0) {
		struct group *g = active_find(spool_active(s), "d.race");

		/* 9999 -> 10000 and the like change many digits at once. */
		for (uint64_t i = 1; i <= 200000; i++) {
			g->high = i * 9999;
			g->low = 77;
			if (active_write_group(spool_active(s), spool_dirfd(s), g) < 0)
				_exit(1);
		}
		_exit(0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct group *g = active_lookup(&r, "d.race");

		lookups++;
		if (g->high != last)
			changes++;
		if (g->high < last || g->high % 9999 != 0 || (g->high != 0 && g->low != 77))
			bad++;
		last = g->high;
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer wrote 200,000 marks");
	ok(bad == 0 && changes > 0, "%llu lookups saw %llu changes, %llu torn",
	   (unsigned long long)lookups, (unsigned long long)changes, (unsigned long long)bad);
	active_free(&r);
	spool_close(s);
	close(fd);
	buffer_free(&why);
}

int
main(void)
{
	char *cmd;

	dir = xasprintf("%s/active-t.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_layout_and_in_place();
	cmd = xasprintf("rm -rf %s/* && mkdir -p %s", dir, dir);
	if (system(cmd) != 0)
		ok(0, "reset");
	free(cmd);
	test_conversion();
	cmd = xasprintf("rm -rf %s/* && mkdir -p %s", dir, dir);
	if (system(cmd) != 0)
		ok(0, "reset");
	free(cmd);
	test_concurrent();
	cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	free(cmd);
	free(dir);
	return tap_done();
}
