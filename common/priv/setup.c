/* setup: refuses a start when an account or a directory the
 * configuration names is missing, naming it and the command that makes it. */
#include "common/priv/setup.h"

#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/core/xmalloc.h"

static void __attribute__((format(printf, 3, 4)))
setup_error(struct setup_check *c, const char *key, const char *fmt, ...)
{
	const char *where = c->where(key);
	va_list ap;

	buffer_printf(c->errors, "%s: %s: ", where ? where : "(default)", key);
	va_start(ap, fmt);
	buffer_vprintf(c->errors, fmt, ap);
	va_end(ap);
	buffer_puts(c->errors, "\n");
	c->bad++;
}

void
setup_need_account(struct setup_check *c, const char *key, const char *name, const char *home)
{
	if (getpwnam(name) != NULL)
		return;
	setup_error(c, key,
	            "no account \"%s\"; create it with: useradd --system --user-group "
	            "--home-dir %s --no-create-home --shell /usr/sbin/nologin %s",
	            name, home, name);
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* path without its last component ("/" for "/x"), in a new string. */
static char *
parent_of(const char *path)
{
	char *p = xstrdup(path), *slash = strrchr(p, '/');

	while (slash != NULL && slash > p && slash[1] == '\0') {
		*slash = '\0';
		slash = strrchr(p, '/');
	}
	if (slash == NULL) {
		free(p);
		return xstrdup(".");
	}
	if (slash == p)
		p[1] = '\0';
	else
		*slash = '\0';
	return p;
}

/* The name of owner's group; owner itself when owner does not exist yet
 * (useradd --user-group gives it a group of that name). */
static const char *
group_of(const char *owner)
{
	struct passwd *pw = getpwnam(owner);
	struct group *gr = pw ? getgrgid(pw->pw_gid) : NULL;

	return gr ? gr->gr_name : owner;
}

void
setup_need_dir(struct setup_check *c, const char *key, const char *path, const char *owner,
               const char *group, mode_t mode, int daemon_makes)
{
	struct stat st;
	char *parent;

	if (is_dir(path))
		return;
	if (stat(path, &st) == 0) {
		setup_error(c, key, "%s is not a directory", path);
		return;
	}
	if (group == NULL)
		group = group_of(owner);
	parent = parent_of(path);
	if (daemon_makes && is_dir(parent)) {
		free(parent);
		return;
	}
	setup_error(c, key,
	            "directory %s does not exist; create it with: install -d -o %s -g %s -m %o %s",
	            path, owner, group, (unsigned)mode, path);
	free(parent);
}

void
setup_need_parent(struct setup_check *c, const char *key, const char *file, const char *owner,
                  const char *group, mode_t mode)
{
	char *dir = parent_of(file);

	if (!is_dir(dir))
		setup_error(
		    c, key,
		    "directory %s (for %s) does not exist; create it with: install -d -o %s "
		    "-g %s -m %o %s",
		    dir, file, owner, group, (unsigned)mode, dir);
	free(dir);
}
