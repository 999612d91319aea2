/* ftpfs-t: fs path normalisation and confinement inside the session root:
 * symlinks to /etc, to ../../.., absolute links; nothing escapes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/buffer.h"
#include "common/core/xmalloc.h"
#include "ftpd/pi/fs.h"
#include "fixture.h"
#include "tap.h"

static char *base; /* temp dir: base/outside/secret, base/root/... */

static void
resolve_is(const char *cwd, const char *arg, const char *want)
{
	struct buffer b = BUFFER_INIT;

	fs_resolve(NULL, cwd, arg, &b);
	is_string(want, buffer_cstr(&b), "resolve cwd=%s arg=\"%s\"", cwd, arg);
	buffer_free(&b);
}

static void
test_resolve(void)
{
	struct buffer b = BUFFER_INIT;
	char *huge;

	resolve_is("/", "", "/");
	resolve_is("/", "/", "/");
	resolve_is("/", "a", "/a");
	resolve_is("/a/b", "c", "/a/b/c");
	resolve_is("/a/b", "/c", "/c");
	resolve_is("/a/b", "..", "/a");
	resolve_is("/a/b", "../../../../..", "/");
	resolve_is("/", "../etc/passwd", "/etc/passwd");
	resolve_is("/a", "./b/./c/", "/a/b/c");
	resolve_is("/a", "b//c///d", "/a/b/c/d");
	resolve_is("/a", "//x", "/x");
	resolve_is("/a", "...", "/a/...");
	resolve_is("/a", "b/../../..", "/");
	resolve_is("/", "with space/\xff\xfe\x01", "/with space/\xff\xfe\x01");
	resolve_is("/", "a\\..\\b", "/a\\..\\b");
	huge = xmalloc(FS_PATH_MAX + 10);
	memset(huge, 'x', FS_PATH_MAX + 9);
	huge[FS_PATH_MAX + 9] = '\0';
	errno = 0;
	ok(fs_resolve(NULL, "/", huge, &b) == -1 && errno == ENAMETOOLONG,
	   "overlong path refused with ENAMETOOLONG");
	free(huge);
	buffer_free(&b);
}

static void
mkfile(const char *rel, const char *content)
{
	char *p = xasprintf("%s/%s", base, rel);
	FILE *f = fopen(p, "w");

	if (f == NULL)
		die("fopen %s", p);
	fputs(content, f);
	fclose(f);
	free(p);
}

static void
mklink(const char *target, const char *rel)
{
	fixture_symlink(base, target, rel);
}

static void
mkd(const char *rel)
{
	fixture_mkdir(base, rel);
}

/* Read what fs_open gives for vpath, or "ERR:<errno>". */
static char *
slurp(struct fs_root *root, const char *vpath)
{
	char buf[256];
	int fd = fs_open(root, vpath, O_RDONLY, 0);
	ssize_t n;

	if (fd < 0)
		return xasprintf("ERR:%d", errno);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return xstrdup(buf);
}

static void
open_is(struct fs_root *root, const char *vpath, const char *want, const char *why)
{
	char *got = slurp(root, vpath);

	is_string(want, got, "open %s: %s", vpath, why);
	free(got);
}

static int
exists(const char *rel)
{
	struct stat st;
	char *p = xasprintf("%s/%s", base, rel);
	int rc = lstat(p, &st) == 0;

	free(p);
	return rc;
}

static mode_t
mode_of(const char *rel)
{
	struct stat st;
	char *p = xasprintf("%s/%s", base, rel);

	if (lstat(p, &st) < 0)
		die("lstat %s", p);
	free(p);
	return st.st_mode & 07777;
}

static void
setup_tree(void)
{
	char tmpl[] = "/tmp/ftpfs-t.XXXXXX";
	char *abs, *p;

	if (mkdtemp(tmpl) == NULL)
		die("mkdtemp");
	base = xstrdup(tmpl);
	mkd("outside");
	mkfile("outside/secret", "SECRET");
	p = xasprintf("%s/outside/secret", base);
	chmod(p, 0600);
	free(p);
	chmod(tmpl, 0755);
	mkd("root");
	mkd("root/pub");
	mkd("root/etc");
	mkd("root/outside");
	mkfile("root/pub/file.txt", "hello");
	mkfile("root/etc/passwd", "FAKE");
	mkfile("root/outside/secret", "INSIDE");
	mklink("/etc", "root/etc_link");
	mklink("/etc/passwd", "root/passwd_link");
	mklink("../../..", "root/pub/up");
	mklink("..", "root/updir");
	mklink("../outside/secret", "root/esc");
	mklink("../../outside/secret", "root/pub/dotdot");
	abs = xasprintf("%s/outside/secret", base);
	mklink(abs, "root/abs_secret");
	free(abs);
	abs = xasprintf("%s/outside", base);
	mklink(abs, "root/abs_dir");
	free(abs);
	mklink("/proc/self/root/etc/passwd", "root/magic");
}

static void
test_confinement(struct fs_root *root)
{
	struct stat st, want;
	char *p;

	open_is(root, "/pub/file.txt", "hello", "plain file");
	open_is(root, "/etc_link/passwd", "FAKE", "link to /etc lands in root/etc");
	open_is(root, "/passwd_link", "FAKE", "absolute link to /etc/passwd lands in root");
	open_is(root, "/pub/up/outside/secret", "INSIDE", "link to ../../.. stops at root");
	open_is(root, "/esc", "INSIDE", "link to ../outside stays in root");
	open_is(root, "/pub/dotdot", "INSIDE", "link to ../../outside stays in root");
	open_is(root, "/updir/updir/outside/secret", "INSIDE", "chained .. links stay in root");
	p = xasprintf("ERR:%d", ENOENT);
	open_is(root, "/abs_secret", p, "absolute link to the real outside is not found");
	open_is(root, "/abs_dir/secret", p, "absolute link to a real outside dir is not found");
	open_is(root, "/magic", p, "/proc link is resolved inside the root");
	free(p);
	open_is(root, "../../outside/secret", "INSIDE", "raw .. in a vpath stays in root");

	ok(fs_stat(root, "/esc", &st, 1) == 0, "stat follows link inside root");
	p = xasprintf("%s/root/outside/secret", base);
	stat(p, &want);
	free(p);
	ok(st.st_ino == want.st_ino && st.st_dev == want.st_dev, "stat of /esc is the inside file");
	ok(fs_stat(root, "/esc", &st, 0) == 0 && S_ISLNK(st.st_mode),
	   "stat follow=0 sees the link");
	ok(fs_stat(root, "/", &st, 1) == 0 && S_ISDIR(st.st_mode), "stat / is the root dir");
}

static void
test_changes(struct fs_root *root)
{
	struct buffer b = BUFFER_INIT;
	struct stat st;
	int fd;

	ok(fs_mkdir(root, "/updir/newdir", 0755) == 0, "mkdir through a .. link");
	ok(exists("root/newdir") && !exists("newdir"), "... creates it inside the root");
	ok(fs_mkdir(root, "/etc_link/made", 0755) == 0 && exists("root/etc/made"),
	   "mkdir through a /etc link creates root/etc/made");
	ok(fs_rmdir(root, "/etc_link/made") == 0 && !exists("root/etc/made"), "rmdir through link");
	ok(fs_unlink(root, "/updir/outside/secret") == 0, "unlink through a .. link");
	ok(!exists("root/outside/secret") && exists("outside/secret"),
	   "... removes the inside file only");
	mkfile("root/outside/secret", "INSIDE");
	ok(fs_rename(root, "/pub/file.txt", "/updir/moved") == 0, "rename to a .. link path");
	ok(exists("root/moved") && !exists("moved"), "... lands inside the root");
	ok(fs_rename(root, "/moved", "/pub/file.txt") == 0, "rename back");
	ok(fs_rename(root, "/abs_dir/secret", "/stolen") == -1 && errno == ENOENT,
	   "rename from an absolute outside link fails");
	ok(exists("outside/secret"), "... and the outside file is untouched");

	errno = 0;
	ok(fs_chmod(root, "/esc", 0777) == -1, "chmod on an escaping symlink is refused");
	is_int(0600, mode_of("outside/secret"), "... outside file mode unchanged");
	ok(fs_chmod(root, "/pub/file.txt", 0640) == 0 && mode_of("root/pub/file.txt") == 0640,
	   "chmod a plain file");
	ok(fs_chmod(root, "/", 0700) == -1 && errno == EINVAL, "chmod / refused (no last name)");
	ok(fs_unlink(root, "/") == -1 && errno == EINVAL, "unlink / refused");

	ok(fs_utimes(root, "/pub/file.txt", 1000000000) == 0, "utimes a file");
	ok(fs_stat(root, "/pub/file.txt", &st, 1) == 0 && st.st_mtime == 1000000000,
	   "... mtime set");
	ok(fs_utimes(root, "/esc", 1000000000) == 0, "utimes on a link");
	ok(fs_stat(root, "/esc", &st, 1) == 0 && st.st_mtime != 1000000000,
	   "... does not touch the target");

	fd = fs_open(root, "/updir/pub/\xff\xfe name\x01", O_WRONLY | O_CREAT | O_EXCL, 0644);
	ok(fd >= 0 && exists("root/pub/\xff\xfe name\x01"), "create a non-UTF-8 name");
	if (fd >= 0)
		close(fd);
	fd = fs_open(root, "/abs_dir/created", O_WRONLY | O_CREAT, 0644);
	ok(fd < 0 && !exists("outside/created"), "create through an outside link fails");
	if (fd >= 0)
		close(fd);

	ok(fs_readlink(root, "/esc", &b) == 0, "readlink");
	is_string("../outside/secret", buffer_cstr(&b), "... gives the raw target");
	buffer_free(&b);
}

static void
test_chdir(struct fs_root *root)
{
	struct buffer b = BUFFER_INIT;
	DIR *d;

	ok(fs_chdir(root, "pub") == 0, "chdir pub");
	is_string("/pub", root->cwd, "... cwd /pub");
	ok(fs_chdir(root, "up") == 0, "chdir through link to ../../..");
	is_string("/pub/up", root->cwd, "... cwd is the virtual path");
	fs_resolve(root, NULL, "outside/secret", &b);
	open_is(root, buffer_cstr(&b), "INSIDE", "relative open from a link cwd");
	ok(fs_chdir(root, "../../..") == 0, "chdir ../../..");
	is_string("/", root->cwd, "... stops at /");
	errno = 0;
	ok(fs_chdir(root, "pub/dotdot") == -1 && errno == ENOTDIR, "chdir into a file: ENOTDIR");
	errno = 0;
	ok(fs_chdir(root, "nope") == -1 && errno == ENOENT, "chdir missing: ENOENT");
	is_string("/", root->cwd, "... cwd unchanged");
	d = fs_opendir(root, "/etc_link");
	ok(d != NULL, "opendir through link");
	if (d)
		closedir(d);
	ok(fs_opendir(root, "/pub/file.txt") == NULL && errno == ENOTDIR, "opendir a file");
	buffer_free(&b);
}

int
main(void)
{
	struct fs_root root;
	char *p, *cmd;

	test_resolve();
	setup_tree();
	p = xasprintf("%s/root", base);
	ok(fs_root_open(&root, p) == 0, "open root");
	free(p);
	test_confinement(&root);
	test_changes(&root);
	test_chdir(&root);
	fs_root_close(&root);
	cmd = xasprintf("rm -rf '%s'", base);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	free(cmd);
	return tap_done();
}
