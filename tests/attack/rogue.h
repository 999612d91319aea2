/* rogue.h: what the attack harnesses share: one line of output at a time,
 * and the proof that a rogue runs inside the boundary (its own /proc
 * status, opened before the sandbox and read after: no role allows the
 * open itself). */
#ifndef POSTEL_TESTS_ROGUE_H
#define POSTEL_TESTS_ROGUE_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* "WHO Uid: ...", CapEff, NoNewPrivs and Seccomp lines from fd. */
static void
show_sandbox(int fd, const char *who)
{
	char buf[4096], *line, *save = NULL;
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (n <= 0) {
		say("%s status: unreadable", who);
		return;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "Uid:", 4) == 0 || strncmp(line, "Seccomp:", 8) == 0 ||
		    strncmp(line, "CapEff:", 7) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0)
			say("%s %s", who, line);
}

#endif
