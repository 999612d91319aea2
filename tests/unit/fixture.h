/* fixture: the directories and symlinks a unit test makes below its
 * temporary directory base; any failure ends the test (die). */
#ifndef POSTEL_TESTS_FIXTURE_H
#define POSTEL_TESTS_FIXTURE_H

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/xmalloc.h"

static inline void
fixture_mkdir(const char *base, const char *rel)
{
	char *p = xasprintf("%s/%s", base, rel);

	if (mkdir(p, 0755) < 0)
		die("mkdir %s", p);
	free(p);
}

static inline void
fixture_symlink(const char *base, const char *target, const char *rel)
{
	char *p = xasprintf("%s/%s", base, rel);

	if (symlink(target, p) < 0)
		die("symlink %s", p);
	free(p);
}

#endif
