/* tap: the Test Anything Protocol for unit tests: a plan, then one
 * "ok N - desc" or "not ok N - desc" line per check. Header-only. */
#ifndef POSTEL_TAP_H
#define POSTEL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void
tap_plan(int n)
{
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline int __attribute__((format(printf, 2, 3))) ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline int __attribute__((format(printf, 3, 4)))
is_string(const char *want, const char *got, const char *fmt, ...)
{
	va_list ap;
	int cond = (want == NULL && got == NULL) ||
	           (want != NULL && got != NULL && strcmp(want, got) == 0);

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		printf("#   want: \"%s\"\n#    got: \"%s\"\n", want ? want : "(null)",
		       got ? got : "(null)");
	fflush(stdout);
	return cond;
}

static inline int __attribute__((format(printf, 3, 4)))
is_int(long long want, long long got, const char *fmt, ...)
{
	va_list ap;
	int cond = want == got;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		printf("#   want: %lld\n#    got: %lld\n", want, got);
	fflush(stdout);
	return cond;
}

/* Print the plan after the tests ran and return the exit status. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
