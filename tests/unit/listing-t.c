/* listing-t: ls -l lines, MLSx facts, OPTS MLST, argument stripping, the
 * bounded glob, directory listings (sorting, hidden files, patterns, 5000
 * entries) and the uid/gid name cache. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/xmalloc.h"
#include "ftpd/dtp/listing.h"
#include "ftpd/namefilter.h"
#include "fixture.h"
#include "tap.h"

/* 2023-11-14 22:13:20 UTC */
#define NOW 1700000000L

static char *base;

static struct stat
mkstat(mode_t mode, long long size, time_t mtime)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = mode;
	st.st_size = size;
	st.st_mtime = mtime;
	st.st_nlink = S_ISDIR(mode) ? 2 : 1;
	st.st_uid = 1000;
	st.st_gid = 100;
	st.st_dev = 0x801;
	st.st_ino = 0x1234;
	return st;
}

static void
test_ls_line(void)
{
	struct buffer b = BUFFER_INIT;
	struct stat st;

	/* 2023-03-01 12:34 UTC = 1677674040 */
	st = mkstat(S_IFDIR | 0755, 4096, 1677674040);
	listing_ls_line(&b, "name", &st, NOW, 0, "ftp", "ftp", NULL);
	is_string("drwxr-xr-x    2 ftp      ftp          4096 Mar 01  2023 name\r\n",
	          buffer_cstr(&b), "dir older than 6 months shows the year");
	buffer_clear(&b);
	st = mkstat(S_IFREG | 0644, 123456789, NOW - 3600);
	listing_ls_line(&b, "a file", &st, NOW, 0, NULL, NULL, NULL);
	is_string("-rw-r--r--    1 1000     100      123456789 Nov 14 21:13 a file\r\n",
	          buffer_cstr(&b), "recent file shows the time; numeric ids");
	buffer_clear(&b);
	st = mkstat(S_IFREG | 0644, 1, NOW + 86400);
	listing_ls_line(&b, "future", &st, NOW, 1, "alice", "staff", NULL);
	is_string("-rw-r--r--    1 ftp      ftp             1 Nov 15  2023 future\r\n",
	          buffer_cstr(&b), "future mtime shows the year; hide_ids");
	buffer_clear(&b);
	st = mkstat(S_IFLNK | 0777, 11, NOW - 60);
	listing_ls_line(&b, "l", &st, NOW, 0, "verylongusername", "g", "/etc/passwd");
	is_string(
	    "lrwxrwxrwx    1 verylongusername g              11 Nov 14 22:12 l -> /etc/passwd\r\n",
	    buffer_cstr(&b), "symlink with target; long owner");
	buffer_clear(&b);
	st = mkstat(S_IFREG | 06755 | S_ISVTX, 0, NOW);
	listing_ls_line(&b, "s", &st, NOW, 0, "r", "r", "ignored");
	is_string("-rwsr-sr-t    1 r        r               0 Nov 14 22:13 s\r\n", buffer_cstr(&b),
	          "setuid/setgid/sticky; target ignored for a file");
	buffer_clear(&b);
	st = mkstat(S_IFDIR | 01000 | 04000, 0, NOW);
	listing_ls_line(&b, "t", &st, NOW, 0, "r", "r", NULL);
	is_string("d--S-----T    2 r        r               0 Nov 14 22:13 t\r\n", buffer_cstr(&b),
	          "S and T without x");
	buffer_free(&b);
}

static void
test_mlsx(void)
{
	struct listing_perm perm = {
	    1000, 100, LISTING_RIGHT_WRITE | LISTING_RIGHT_DELETE | LISTING_RIGHT_RENAME, 1};
	struct listing_perm ro = {2000, 200, 0, 0};
	struct buffer b = BUFFER_INIT;
	struct stat st;
	unsigned facts;

	st = mkstat(S_IFREG | 0644, 42, 1000000000);
	listing_mlsx_line(&b, "f.txt", &st, LISTING_FACTS_ALL, &perm, "alice", NULL, NULL, NULL);
	is_string("type=file;size=42;modify=20010909014640;perm=adfrw;unique=801U1234;"
	          "UNIX.mode=0644;UNIX.owner=alice;UNIX.group=100; f.txt\r\n",
	          buffer_cstr(&b), "file, all facts, owner with write rights");
	buffer_clear(&b);
	listing_mlsx_line(&b, "f.txt", &st, LISTING_FACT_TYPE | LISTING_FACT_PERM, &ro, NULL, NULL,
	                  NULL, NULL);
	is_string("type=file;perm=r; f.txt\r\n", buffer_cstr(&b), "read-only session: perm=r");
	buffer_clear(&b);
	st = mkstat(S_IFDIR | 0755, 4096, 0);
	listing_mlsx_line(&b, "d", &st, LISTING_FACT_TYPE | LISTING_FACT_SIZE | LISTING_FACT_PERM,
	                  &perm, NULL, NULL, NULL, NULL);
	is_string("type=dir;perm=cdeflmp; d\r\n", buffer_cstr(&b), "dir perms, no size for dirs");
	buffer_clear(&b);
	listing_mlsx_line(&b, ".", &st, LISTING_FACT_TYPE | LISTING_FACT_PERM, &ro, NULL, NULL,
	                  NULL, NULL);
	is_string("type=cdir;perm=el; .\r\n", buffer_cstr(&b), "cdir, read-only");
	buffer_clear(&b);
	listing_mlsx_line(&b, "..", &st, LISTING_FACT_TYPE, &ro, NULL, NULL, NULL, NULL);
	is_string("type=pdir; ..\r\n", buffer_cstr(&b), "pdir");
	buffer_clear(&b);
	st = mkstat(S_IFLNK | 0777, 3, 0);
	listing_mlsx_line(&b, "ln", &st, LISTING_FACT_TYPE, &ro, NULL, NULL, "../a b", NULL);
	is_string("type=OS.unix=slink:../a b; ln\r\n", buffer_cstr(&b),
	          "symlink: slink with its target, as ProFTPD");
	buffer_clear(&b);
	listing_mlsx_line(&b, "ln", &st, LISTING_FACT_TYPE, &ro, NULL, NULL, NULL, NULL);
	is_string("type=OS.unix=slink; ln\r\n", buffer_cstr(&b), "symlink, target unknown");
	buffer_clear(&b);
	{
		time_t created = 1000000000;

		st = mkstat(S_IFREG | 0644, 42, 1000000000);
		listing_mlsx_line(&b, "c", &st, LISTING_FACT_MODIFY | LISTING_FACT_CREATE, &ro,
		                  NULL, NULL, NULL, &created);
		is_string("modify=20010909014640;create=20010909014640; c\r\n", buffer_cstr(&b),
		          "create fact after modify");
		buffer_clear(&b);
	}
	listing_mlsx_line(&b, "x y", &st, 0, NULL, NULL, NULL, NULL, NULL);
	is_string(" x y\r\n", buffer_cstr(&b), "no facts: space and name");
	buffer_clear(&b);

	facts = listing_mlst_opts("SIZE;type;bogus;unix.MODE;", &b);
	is_int(LISTING_FACT_TYPE | LISTING_FACT_SIZE | LISTING_FACT_UNIX_MODE, facts,
	       "OPTS MLST mask");
	is_string("type;size;UNIX.mode;", buffer_cstr(&b), "... canonical reply, unknown dropped");
	facts = listing_mlst_opts("", &b);
	ok(facts == 0 && b.len == 0, "OPTS MLST with no facts");
	facts = listing_mlst_opts("modify", &b);
	is_string("modify;", buffer_cstr(&b), "OPTS MLST without trailing ;");
	buffer_clear(&b);
	listing_mlst_feat(&b, LISTING_FACT_TYPE | LISTING_FACT_MODIFY);
	is_string("type*;size;modify*;create;perm;unique;UNIX.mode;UNIX.owner;UNIX.group;",
	          buffer_cstr(&b), "FEAT fact list");
	buffer_free(&b);
}

static void
args_is(const char *arg, int want_flags, const char *want_path)
{
	const char *path;
	int flags;

	listing_parse_args(arg, &flags, &path);
	ok(flags == want_flags && strcmp(path, want_path) == 0, "args \"%s\" -> %d \"%s\"", arg,
	   want_flags, want_path);
}

static void
test_args(void)
{
	args_is("", 0, "");
	args_is("-la", LS_ALL | LS_LONG, "");
	args_is("-al dir", LS_ALL | LS_LONG, "dir");
	args_is("-l -a  dir x", LS_ALL | LS_LONG, "dir x");
	args_is("-A", LS_ALMOST, "");
	args_is("-1tr -S x", LS_ONE | LS_SORT_TIME | LS_REVERSE | LS_SORT_SIZE, "x");
	args_is("-F -R file", LS_RECURSE, "file");
	args_is("-laR dir", LS_ALL | LS_LONG | LS_RECURSE, "dir");
	args_is("-Rt", LS_RECURSE | LS_SORT_TIME, "");
	args_is("dir", 0, "dir");
	args_is("dir -a", 0, "dir -a");
	args_is("-", 0, "");
}

static int
glob(const char *p, const char *n)
{
	unsigned long budget = 100000;

	return listing_glob_match(p, n, &budget);
}

static void
test_glob(void)
{
	unsigned long budget;
	char *longname;
	struct timespec t0, t1;
	double ms;
	int r;

	ok(glob("*", "anything") == 1, "* matches");
	ok(glob("*", "") == 1, "* matches empty");
	ok(glob("", "") == 1 && glob("", "a") == 0, "empty pattern");
	ok(glob("*.txt", "a.txt") == 1 && glob("*.txt", "a.txt.gz") == 0, "*.txt");
	ok(glob("a?c", "abc") == 1 && glob("a?c", "ac") == 0, "?");
	ok(glob("[abc]x", "bx") == 1 && glob("[abc]x", "dx") == 0, "class");
	ok(glob("[a-c]", "b") == 1 && glob("[a-c]", "d") == 0, "range");
	ok(glob("[!a-c]", "d") == 1 && glob("[^a-c]", "a") == 0, "negated class");
	ok(glob("[]]", "]") == 1 && glob("[]a]", "a") == 1, "] first is a member");
	ok(glob("[a-]", "-") == 1, "trailing - is a member");
	ok(glob("[abc", "[abc") == 1 && glob("[abc", "a") == 0, "unclosed [ is literal");
	ok(glob("{a,b}", "{a,b}") == 1 && glob("{a,b}", "a") == 0, "no brace expansion");
	ok(glob("*a*b*c", "xxaxxbxxc") == 1 && glob("*a*b*c", "xxaxxcxxb") == 0, "several stars");
	ok(glob("\xc3\xa9*", "\xc3\xa9t\xc3\xa9") == 1, "UTF-8 bytes");
	ok(glob("[\x80-\xff]*", "\xff") == 1, "byte ranges above 0x7f");

	longname = xmalloc(256);
	memset(longname, 'a', 255);
	longname[255] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	budget = 100000;
	r = listing_glob_match("*a*a*a*a*a*a*a*a*a*b", longname, &budget);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ok(r == 0 || r == -1, "glob bomb on a 255-byte name: no match or too complex (%d)", r);
	ok(ms < 50, "... fast (%.3f ms)", ms);
	budget = 10;
	ok(listing_glob_match("*a*a*a*a*a*a*a*a*a*b", longname, &budget) == -1,
	   "small budget: too complex");
	free(longname);
	ok(listing_has_glob("a*") && listing_has_glob("[x") && !listing_has_glob("a{b}"),
	   "has_glob");
}

static void
mk(const char *rel, const char *content, time_t mtime)
{
	char *p = xasprintf("%s/%s", base, rel);
	struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};
	FILE *f = fopen(p, "w");

	if (f == NULL)
		die("fopen %s", p);
	fputs(content, f);
	fclose(f);
	utimes(p, tv);
	free(p);
}

static void
mkd(const char *rel)
{
	fixture_mkdir(base, rel);
}

static void
mkl(const char *target, const char *rel)
{
	fixture_symlink(base, target, rel);
}

static void
dir_is(struct fs_root *root, const char *arg, int flags, const struct listing_opts *o,
       const char *want, const char *why)
{
	struct buffer b = BUFFER_INIT;
	int rc = listing_path(root, arg, flags, o, &b);

	if (rc != LISTING_OK)
		buffer_printf(&b, "rc=%d", rc);
	is_string(want, buffer_cstr(&b), "%s", why);
	buffer_free(&b);
}

static void
test_dirs(void)
{
	struct listing_opts o;
	struct fs_root root;
	struct timespec ts[2];
	char tmpl[] = "/tmp/listing-t.XXXXXX";
	char *p;

	if (mkdtemp(tmpl) == NULL)
		die("mkdtemp");
	base = xstrdup(tmpl);
	mkd("sub");
	mk("b.txt", "bb", NOW - 60);
	mk("a.txt", "a", NOW - 120);
	mk(".hidden", "h", NOW - 60);
	mk("B", "", NOW - 60);
	mk("\xc3\xa9t\xc3\xa9", "", NOW - 60);
	mk("sub/x.c", "x", NOW - 60);
	mk("sub/y.h", "y", NOW - 60);
	mkl("/etc/passwd", "link");
	p = xasprintf("%s/link", base);
	ts[0].tv_sec = ts[1].tv_sec = NOW - 60;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
	free(p);
	ok(fs_root_open(&root, base) == 0, "root");

	memset(&o, 0, sizeof(o));
	o.now = NOW;
	o.hide_ids = 1;
	dir_is(&root, "", LS_NLST, &o,
	       "B\r\na.txt\r\nb.txt\r\nlink\r\nsub\r\n\xc3\xa9t\xc3\xa9\r\n",
	       "NLST: sorted byte-wise, no hidden");
	dir_is(&root, "", LS_NLST | LS_ALL, &o,
	       ".hidden\r\nB\r\na.txt\r\nb.txt\r\nlink\r\nsub\r\n\xc3\xa9t\xc3\xa9\r\n",
	       "NLST -a: hidden, but no . and ..");
	dir_is(&root, "", LS_ONE | LS_ALMOST, &o,
	       ".hidden\r\nB\r\na.txt\r\nb.txt\r\nlink\r\nsub\r\n\xc3\xa9t\xc3\xa9\r\n",
	       "LIST -1A: names, hidden ones, no . and ..");
	dir_is(&root, "", LS_ONE | LS_ALL, &o,
	       ".\r\n..\r\n.hidden\r\nB\r\na.txt\r\nb.txt\r\nlink\r\nsub\r\n\xc3\xa9t\xc3\xa9\r\n",
	       "LIST -1a: . and .. too");
	dir_is(&root, "*[!b]", LS_ONE | LS_SORT_SIZE, &o,
	       "link\r\nb.txt\r\na.txt\r\nB\r\n\xc3\xa9t\xc3\xa9\r\n",
	       "LIST -1S: largest first, names among equals (sub left out: its size is the "
	       "filesystem's)");
	dir_is(&root, "*.txt", LS_ONE | LS_SORT_TIME, &o, "b.txt\r\na.txt\r\n",
	       "LIST -1t: newest first");
	dir_is(&root, "*.txt", LS_ONE | LS_SORT_TIME | LS_REVERSE, &o, "a.txt\r\nb.txt\r\n",
	       "LIST -1tr: oldest first");
	dir_is(&root, "", LS_ONE | LS_REVERSE, &o,
	       "\xc3\xa9t\xc3\xa9\r\nsub\r\nlink\r\nb.txt\r\na.txt\r\nB\r\n",
	       "LIST -1r: names reversed");
	dir_is(&root, "sub", LS_NLST, &o, "sub/x.c\r\nsub/y.h\r\n", "NLST dir prefixes names");
	dir_is(&root, "sub/*.c", LS_NLST, &o, "sub/x.c\r\n", "NLST dir/pattern");
	dir_is(&root, "*.txt", LS_NLST, &o, "a.txt\r\nb.txt\r\n", "NLST *.txt");
	dir_is(&root, ".h*", LS_NLST, &o, ".hidden\r\n", "pattern starting with . sees hidden");
	dir_is(&root, "nomatch*", LS_NLST, &o, "", "pattern without matches: empty");
	dir_is(&root, "*/x.c", LS_NLST, &o, "rc=-1", "glob in a directory part: not found");
	dir_is(&root, "missing", LS_NLST, &o, "rc=-1", "missing file: error");
	dir_is(&root, "a.txt", LS_NLST, &o, "a.txt\r\n", "NLST file: its name");
	dir_is(&root, "a.txt", LS_LONG, &o,
	       "-rw-r--r--    1 ftp      ftp             1 Nov 14 22:11 a.txt\r\n",
	       "LIST file: one line");
	dir_is(&root, "sub/../link", LS_LONG, &o,
	       "lrwxrwxrwx    1 ftp      ftp            11 Nov 14 22:12 sub/../link -> "
	       "/etc/passwd\r\n",
	       "LIST symlink as typed, with target");
	dir_is(&root, "sub", LS_LONG, &o,
	       "-rw-r--r--    1 ftp      ftp             1 Nov 14 22:12 x.c\r\n"
	       "-rw-r--r--    1 ftp      ftp             1 Nov 14 22:12 y.h\r\n",
	       "LIST dir");
	dir_is(&root, "a.txt", LS_MLSD, &o, "rc=-1", "MLSD on a file refused");
	o.facts = LISTING_FACT_TYPE | LISTING_FACT_SIZE;
	dir_is(
	    &root, "/sub/..", LS_MLSD, &o,
	    "type=cdir; .\r\ntype=pdir; ..\r\ntype=file;size=1; .hidden\r\ntype=file;size=0; B\r\n"
	    "type=file;size=1; a.txt\r\ntype=file;size=2; b.txt\r\n"
	    "type=OS.unix=slink:/etc/passwd;size=11; link\r\ntype=dir; sub\r\n"
	    "type=file;size=0; \xc3\xa9t\xc3\xa9\r\n",
	    "MLSD of the root: all entries, cdir and pdir");
	fs_root_close(&root);
}

/* LIST -R over base/tree: a/{f, deep/{x}}, b/{g}, top, link -> a (a symlink
 * to a directory, listed and not entered), loop -> . (never entered),
 * .dot/{h} (only with -a), secret/{s} (deny_file), skip/ (hide_file). */
static void
test_tree(void)
{
	struct vector deny = VECTOR_INIT, hide = VECTOR_INIT;
	struct buffer want = BUFFER_INIT;
	struct listing_opts o;
	struct stat st;
	DIR *d, *child;
	int err;
	struct fs_root root;
	static const char *const dirs[] = {"tree",      "tree/a",      "tree/a/deep", "tree/b",
	                                   "tree/.dot", "tree/secret", "tree/skip"};
	char *p;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkd(dirs[i]);
	mk("tree/a/f", "f", NOW - 60);
	mk("tree/a/deep/x", "xx", NOW - 30);
	mk("tree/b/g", "", NOW - 60);
	mk("tree/top", "", NOW - 10);
	mk("tree/.dot/h", "", NOW - 60);
	mk("tree/secret/s", "", NOW - 60);
	mkl("a", "tree/link");
	mkl(".", "tree/loop");
	ok(fs_root_open(&root, base) == 0, "tree root");
	d = fs_opendir(&root, "/tree");
	if (d == NULL)
		die("opendir tree");
	child = fs_opendir_child(d, "a");
	ok(child != NULL, "fs_opendir_child: a subdirectory opens");
	if (child != NULL)
		closedir(child);
	errno = 0;
	child = fs_opendir_child(d, "link");
	err = errno;
	ok(child == NULL && (err == ELOOP || err == ENOTDIR),
	   "fs_opendir_child: a symlink to a directory is refused (%s)", strerror(err));
	errno = 0;
	ok(fs_opendir_child(d, "..") == NULL && errno == EINVAL &&
	       fs_opendir_child(d, "a/deep") == NULL,
	   "fs_opendir_child: .. and a path are refused");
	closedir(d);
	memset(&o, 0, sizeof(o));
	o.now = NOW;
	o.hide_ids = 1;
	o.recurse_depth = 32;
	o.recurse_entries = 100000;
	namefilter_parse(&deny, "secret");
	namefilter_parse(&hide, "skip");
	o.deny = &deny;
	o.hide = &hide;
	dir_is(&root, "tree", LS_NLST | LS_RECURSE, &o,
	       "tree:\r\na\r\nb\r\nlink\r\nloop\r\nsecret\r\ntop\r\n"
	       "\r\ntree/a:\r\ndeep\r\nf\r\n"
	       "\r\ntree/a/deep:\r\nx\r\n"
	       "\r\ntree/b:\r\ng\r\n",
	       "NLST -R: ls -R's order, depth first; symlinks and the denied directory not "
	       "entered, the hidden one left out");
	dir_is(&root, "tree/", LS_ONE | LS_RECURSE | LS_REVERSE, &o,
	       "tree/:\r\ntop\r\nsecret\r\nloop\r\nlink\r\nb\r\na\r\n"
	       "\r\ntree/b:\r\ng\r\n"
	       "\r\ntree/a:\r\nf\r\ndeep\r\n"
	       "\r\ntree/a/deep:\r\nx\r\n",
	       "LIST -1Rr: every level reversed, subdirectories walked in that order");
	/* deep's own line: its size and time are the file system's */
	p = xasprintf("%s/tree/a/deep", base);
	if (lstat(p, &st) < 0)
		die("lstat");
	free(p);
	buffer_puts(&want, "tree/a:\r\n");
	listing_ls_line(&want, "deep", &st, NOW, 1, NULL, NULL, NULL);
	buffer_puts(&want, "-rw-r--r--    1 ftp      ftp             1 Nov 14 22:12 f\r\n"
	                   "\r\ntree/a/deep:\r\n"
	                   "-rw-r--r--    1 ftp      ftp             2 Nov 14 22:12 x\r\n");
	dir_is(&root, "tree/a", LS_LONG | LS_RECURSE, &o, buffer_cstr(&want),
	       "LIST -lR: ls -l lines under each header");
	buffer_free(&want);
	dir_is(&root, "tree/.dot", LS_ONE | LS_ALL | LS_RECURSE, &o,
	       "tree/.dot:\r\n.\r\n..\r\nh\r\n", "LIST -1aR: . and .. listed, never entered");
	o.recurse_depth = 1;
	dir_is(&root, "tree", LS_NLST | LS_RECURSE, &o,
	       "tree:\r\na\r\nb\r\nlink\r\nloop\r\nsecret\r\ntop\r\n"
	       "\r\ntree/a:\r\ndeep\r\nf\r\nrc=-5",
	       "depth 1: tree/a/deep is past it, LISTING_TOO_DEEP after what came before");
	o.recurse_depth = 2;
	o.recurse_entries = 10;
	dir_is(&root, "tree", LS_NLST | LS_RECURSE, &o,
	       "tree:\r\na\r\nb\r\nlink\r\nloop\r\nsecret\r\ntop\r\n"
	       "\r\ntree/a:\r\ndeep\r\nf\r\n"
	       "\r\ntree/a/deep:\r\nx\r\n"
	       "\r\ntree/b:\r\ng\r\n",
	       "depth 2 is enough; 10 entries (6 + 2 + 1 + 1) are enough");
	o.recurse_entries = 9;
	dir_is(&root, "tree", LS_NLST | LS_RECURSE, &o,
	       "tree:\r\na\r\nb\r\nlink\r\nloop\r\nsecret\r\ntop\r\n"
	       "\r\ntree/a:\r\ndeep\r\nf\r\n"
	       "\r\ntree/a/deep:\r\nx\r\nrc=-6",
	       "9 entries: the tenth (tree/b/g) stops it with LISTING_TOO_BIG");
	dir_is(&root, "tree", LS_NLST, &o,
	       "tree/a\r\ntree/b\r\ntree/link\r\ntree/loop\r\ntree/secret\r\ntree/top\r\n",
	       "without LS_RECURSE: flat, and the walk's bound does not apply");
	dir_is(&root, "tree/*p", LS_NLST | LS_RECURSE, &o, "tree/loop\r\ntree/top\r\n",
	       "a pattern lists flat");
	fs_root_close(&root);
	vector_free(&deny);
	vector_free(&hide);
}

/* What a sink saw: every chunk appended, the biggest one, how many. */
struct sink {
	struct buffer all;
	size_t chunks, biggest;
	int fail_after; /* refuse the chunk after this many (0: never) */
};

static int
sink_flush(void *ctx, const void *buf, size_t len)
{
	struct sink *k = ctx;

	if (k->fail_after > 0 && k->chunks == (size_t)k->fail_after)
		return -1;
	buffer_append(&k->all, buf, len);
	k->chunks++;
	if (len > k->biggest)
		k->biggest = len;
	return 0;
}

/* The 5000-entry directory again, through a sink and with a cap. */
static void
test_stream(const struct fs_root *root, const struct listing_opts *base_opts)
{
	struct listing_opts o = *base_opts;
	struct buffer whole = BUFFER_INIT, rest = BUFFER_INIT;
	struct sink k = {BUFFER_INIT, 0, 0, 0};
	int rc;

	rc = listing_dir(root, "/", LS_MLSD, NULL, NULL, &o, &whole);
	o.flush = sink_flush;
	o.flush_ctx = &k;
	rc = listing_dir(root, "/", LS_MLSD, NULL, NULL, &o, &rest);
	ok(rc == LISTING_OK && rest.len == 0 && k.all.len == whole.len &&
	       memcmp(buffer_head(&k.all), buffer_head(&whole), whole.len) == 0,
	   "streamed MLSD is byte for byte the listing made in memory (%zu bytes)", k.all.len);
	ok(k.chunks > 1 && k.biggest <= LISTING_CHUNK && k.biggest > LISTING_CHUNK / 2,
	   "... in %zu chunks of at most 64 KiB (biggest %zu)", k.chunks, k.biggest);
	buffer_clear(&k.all);
	k.chunks = 0;
	k.fail_after = 1;
	ok(listing_dir(root, "/", LS_LONG, NULL, NULL, &o, &rest) == LISTING_SINK_FAILED &&
	       k.chunks == 1,
	   "a failing sink stops the listing at once");
	k.fail_after = 0;
	buffer_clear(&k.all);
	buffer_clear(&rest);
	o.max_entries = 4999;
	ok(listing_dir(root, "/", LS_NLST, NULL, NULL, &o, &rest) == LISTING_TOO_MANY &&
	       k.all.len == 0 && rest.len == 0,
	   "max_list_entries 4999 of 5000: refused before a byte");
	o.max_entries = 5000;
	ok(listing_dir(root, "/", LS_MLSD, NULL, NULL, &o, &rest) == LISTING_OK &&
	       k.all.len == whole.len,
	   "max_list_entries 5000: all of them (. and .. not counted)");
	buffer_free(&whole);
	buffer_free(&rest);
	buffer_free(&k.all);
}

static void
test_big_dir(void)
{
	struct listing_opts o;
	struct buffer b = BUFFER_INIT;
	struct fs_root root;
	struct timespec t0, t1;
	double ms;
	char *p;
	int i, fd, rc;
	size_t lines = 0, k;

	p = xasprintf("%s/big", base);
	mkdir(p, 0755);
	for (i = 4999; i >= 0; i--) {
		char *f = xasprintf("%s/file%05d", p, i);

		fd = open(f, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		free(f);
	}
	ok(fs_root_open(&root, p) == 0, "big root");
	free(p);
	memset(&o, 0, sizeof(o));
	o.now = NOW;
	o.facts = LISTING_FACTS_ALL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = listing_dir(&root, "/", LS_LONG, NULL, NULL, &o, &b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	for (k = 0; k < b.len; k++)
		lines += buffer_head(&b)[k] == '\n';
	ok(rc == 0 && lines == 5000, "5000 entries listed (%zu lines)", lines);
	ok(ms < 1000, "... in %.1f ms", ms);
	ok(strncmp(buffer_head(&b) + b.len - 11, "file04999\r\n", 11) == 0, "... sorted");
	buffer_clear(&b);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = listing_dir(&root, "/", LS_NLST, "*a*a*a*a*a*a*a*a*a*b", NULL, &o, &b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ok((rc == 0 && b.len == 0) || rc == LISTING_TOO_COMPLEX, "glob bomb over 5000 names");
	ok(ms < 1000, "... in %.1f ms", ms);
	buffer_clear(&b);
	rc = listing_dir(&root, "/", LS_NLST, "file0000?", NULL, &o, &b);
	is_string("file00000\r\nfile00001\r\nfile00002\r\nfile00003\r\nfile00004\r\nfile00005\r\n"
	          "file00006\r\nfile00007\r\nfile00008\r\nfile00009\r\n",
	          buffer_cstr(&b), "pattern over 5000 names");
	test_stream(&root, &o);
	buffer_free(&b);
	fs_root_close(&root);
}

static void
test_idcache(void)
{
	struct listing_idcache c;
	char *pw = xasprintf("%s/passwd", base), *gr = xasprintf("%s/group", base);
	FILE *f;

	f = fopen(pw, "w");
	fputs("root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\nftp:x:107:65534::/srv/ftp:"
	      "/usr/sbin/nologin\ntoor:x:0:0::/:/bin/sh\nneg:x:-1:0::/:\nbig:x:99999999999:0::/:\n"
	      "alice:x:1000:1000::/home/alice:/bin/sh",
	      f);
	fclose(f);
	f = fopen(gr, "w");
	fputs("root:x:0:\nusers:x:100:alice,bob\n", f);
	fclose(f);
	listing_idcache_load(&c, pw, gr);
	is_string("root", listing_idcache_user(&c, 0), "uid 0 -> root (first line wins)");
	is_string("ftp", listing_idcache_user(&c, 107), "uid 107 -> ftp");
	is_string("alice", listing_idcache_user(&c, 1000), "last line without newline");
	ok(listing_idcache_user(&c, 4242) == NULL, "unknown uid -> NULL");
	is_string("users", listing_idcache_group(&c, 100), "gid 100 -> users");
	ok(listing_idcache_group(&c, 1000) == NULL, "unknown gid -> NULL");
	listing_idcache_free(&c);
	listing_idcache_load(&c, "/nonexistent", NULL);
	ok(listing_idcache_user(&c, 0) == NULL, "missing files: numbers");
	listing_idcache_free(&c);
	free(pw);
	free(gr);
}

int
main(void)
{
	char *cmd;

	test_ls_line();
	test_mlsx();
	test_args();
	test_glob();
	test_dirs();
	test_tree();
	test_big_dir();
	test_idcache();
	cmd = xasprintf("rm -rf '%s'", base);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	free(cmd);
	free(base);
	return tap_done();
}
