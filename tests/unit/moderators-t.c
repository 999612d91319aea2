/* moderators-t: INN's moderators file: first match, %s and %%, refusals. */
#include <string.h>

#include "nntpd/moderators.h"
#include "tap.h"

static const char sample[] = "# moderators\n"
                             "\n"
                             "example.important:announce-request@example.com\r\n"
                             "example.*:%s@smtp.example.com\n"
                             "pct.*:a%%b-%s@example.com\n"
                             "bad.two:%s-%s@example.com\n"
                             "bad.pct:a%b@example.com\n"
                             "bad.dash:-oQ/tmp\n"
                             "bad.space:a b@example.com\n"
                             "bad.empty:\n"
                             "*:%s@moderators.isc.org";

static void
want(const char *group, int rc, const char *addr)
{
	struct buffer b = BUFFER_INIT;
	int got = moderators_address(sample, strlen(sample), group, &b);

	ok(got == rc && (rc != 1 || strcmp(buffer_cstr(&b), addr) == 0), "%s: %d \"%s\"", group,
	   got, rc == 1 ? buffer_cstr(&b) : "");
	buffer_free(&b);
}

static void
count(const char *line, size_t n, void *ctx)
{
	(void)line;
	(void)n;
	(*(int *)ctx)++;
}

int
main(void)
{
	struct buffer b = BUFFER_INIT;
	int lines = 0;

	want("example.important", 1, "announce-request@example.com");
	want("example.x.announce", 1, "example-x-announce@smtp.example.com");
	want("pct.a", 1, "a%b-pct-a@example.com");
	want("comp.sources.unix", 1, "comp-sources-unix@moderators.isc.org");
	want("bad.two", -1, NULL);
	want("bad.pct", -1, NULL);
	want("bad.dash", -1, NULL);
	want("bad.space", -1, NULL);
	want("bad.empty", -1, NULL);
	ok(moderators_address("a.*:x@y\n", 8, "b.c", &b) == 0, "no line matches: 0");
	ok(moderators_address("", 0, "b.c", &b) == 0, "an empty file: 0");
	ok(moderators_address("nocolon\n", 8, "nocolon", &b) == 0, "a line without ':' is skipped");
	moderators_each(sample, strlen(sample), count, &lines);
	ok(lines == 9, "LIST MODERATORS shows the 9 lines that are not blank or comments (%d)",
	   lines);
	buffer_free(&b);
	return tap_done();
}
