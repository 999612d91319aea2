/* daylog-t: the day log's record format (fields cleaned, bounded, parsed
 * back; malformed lines refused), dates, and the appender's pruning. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/xmalloc.h"
#include "nntpd/store/daylog.h"
#include "tap.h"

#define T0 1764633600 /* 2025-12-02 00:00:00 UTC */

static struct daylog_record
sample(void)
{
	struct daylog_record r = {.when = T0 + 3661};

	r.f[DL_KIND] = "post";
	r.f[DL_OUTCOME] = "refused";
	r.f[DL_REASON] = "duplicate";
	r.f[DL_MSGID] = "<a@b>";
	r.f[DL_GROUPS] = "local.test,local.other";
	r.f[DL_POSTER] = "alice@example.com";
	r.f[DL_HOST] = "127.0.0.1";
	r.f[DL_WHY] = "Duplicate <a@b>";
	return r;
}

static void
format_parse(void)
{
	struct daylog_record r = sample(), back;
	struct buffer b = BUFFER_INIT;
	char *line;

	daylog_format(&r, &b);
	is_string("1764637261\tpost\trefused\tduplicate\t<a@b>\tlocal.test,local.other\t"
	          "alice@example.com\t127.0.0.1\tDuplicate <a@b>\n",
	          buffer_cstr(&b), "a record is one line of nine tab-separated fields");
	line = xstrndup(buffer_head(&b), b.len - 1);
	ok(daylog_parse(line, &back) == 0 && back.when == r.when &&
	       strcmp(back.f[DL_GROUPS], "local.test,local.other") == 0 &&
	       strcmp(back.f[DL_WHY], "Duplicate <a@b>") == 0,
	   "it parses back");
	free(line);

	/* Client bytes cannot add a field or a line. */
	buffer_clear(&b);
	r.f[DL_REASON] = NULL;
	r.f[DL_POSTER] = "evil\tname\nx y";
	r.f[DL_WHY] = "a\tb\r\nc d";
	r.f[DL_HOST] = "";
	daylog_format(&r, &b);
	is_string("1764637261\tpost\trefused\t-\t<a@b>\tlocal.test,local.other\tevil_name_x_y\t-\t"
	          "a_b__c d\n",
	          buffer_cstr(&b), "tabs, newlines and spaces cleaned; empty fields are -");
	buffer_free(&b);
}

static void
bounds(void)
{
	struct daylog_record r = sample();
	struct buffer b = BUFFER_INIT, g = BUFFER_INIT;
	char *long_field = xmalloc(DAYLOG_MAX_FIELD * 3);
	const char *gf;

	memset(long_field, 'x', DAYLOG_MAX_FIELD * 3 - 1);
	long_field[DAYLOG_MAX_FIELD * 3 - 1] = '\0';
	r.f[DL_POSTER] = long_field;
	while (g.len < DAYLOG_MAX_GROUPS + 100)
		buffer_puts(&g, g.len ? ",local.group.name" : "local.group.name");
	r.f[DL_GROUPS] = buffer_cstr(&g);
	daylog_format(&r, &b);
	gf = buffer_cstr(&b);
	for (int i = 0; i < DL_GROUPS; i++)
		gf = strchr(gf, '\t') + 1;
	ok(strcspn(gf, "\t") <= DAYLOG_MAX_GROUPS &&
	       strncmp(gf + strcspn(gf, "\t") - 16, "local.group.name", 16) == 0,
	   "the groups field is cut at a comma, keeping whole names (%zu bytes)",
	   strcspn(gf, "\t"));
	ok(strstr(buffer_cstr(&b), long_field) == NULL &&
	       strlen(buffer_cstr(&b)) < DAYLOG_MAX_GROUPS + 8 * DAYLOG_MAX_FIELD,
	   "a long field is cut to DAYLOG_MAX_FIELD");
	free(long_field);
	buffer_free(&b);
	buffer_free(&g);
}

static void
refuse(const char *text, const char *what)
{
	char *line = xstrdup(text);
	struct daylog_record r;

	ok(daylog_parse(line, &r) < 0, "refused: %s", what);
	free(line);
}

static void
malformed(void)
{
	refuse("", "an empty line");
	refuse("garbage", "one field");
	refuse("1\tpost\taccepted\t-\t<a@b>\tg\tp\th", "eight fields");
	refuse("1\tpost\taccepted\t-\t<a@b>\tg\tp\th\tw\tx", "ten fields");
	refuse("1\tpost\taccepted\t\t<a@b>\tg\tp\th\tw", "an empty field");
	refuse("x1\tpost\taccepted\t-\t<a@b>\tg\tp\th\tw", "a time that is not a number");
	refuse("1\tsmoke\taccepted\t-\t<a@b>\tg\tp\th\tw", "an unknown kind");
	refuse("1\tpost\tmaybe\t-\t<a@b>\tg\tp\th\tw", "an unknown outcome");
}

static void
dates(void)
{
	time_t t = 0;
	char *p = daylog_path(T0 + 86399);

	is_string("daylog/2025-12-02", p, "the path names the UTC day");
	free(p);
	ok(daylog_parse_date("2025-12-02", &t) == 0 && t == T0, "2025-12-02 is its midnight");
	ok(daylog_parse_date("2024-02-29", &t) == 0, "a leap day is a date");
	ok(daylog_parse_date("2025-02-29", &t) < 0, "2025-02-29 is not");
	ok(daylog_parse_date("2025-2-01", &t) < 0, "unpadded month refused");
	ok(daylog_parse_date("2025-12-02x", &t) < 0, "trailing bytes refused");
	ok(daylog_parse_date("today", &t) < 0, "a word refused");
}

static int
exists(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, 0) == 0;
}

static void
appender(void)
{
	char dir[] = "/tmp/daylog-t.XXXXXX";
	struct daylog_record r = sample();
	int fd, dfd;
	char buf[512];
	ssize_t n;

	if (mkdtemp(dir) == NULL || (dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		ok(0, "temp dir");
		return;
	}
	mkdirat(dfd, DAYLOG_DIR, 0750);
	close(openat(dfd, "daylog/2025-11-29", O_WRONLY | O_CREAT, 0640));
	close(openat(dfd, "daylog/2025-12-01", O_WRONLY | O_CREAT, 0640));
	close(openat(dfd, "daylog/README", O_WRONLY | O_CREAT, 0640));
	daylog_set_keep(2);
	daylog_append(dfd, &r);
	daylog_append(dfd, &r);
	daylog_close();
	ok(!exists(dfd, "daylog/2025-11-29") && exists(dfd, "daylog/2025-12-01") &&
	       exists(dfd, "daylog/README"),
	   "keep 2: the day before yesterday goes, yesterday and other files stay");
	fd = openat(dfd, "daylog/2025-12-02", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	ok(strncmp(buf, DAYLOG_MAGIC, strlen(DAYLOG_MAGIC)) == 0 &&
	       strstr(buf + strlen(DAYLOG_MAGIC), "\tduplicate\t") != NULL &&
	       strchr(strchr(buf + strlen(DAYLOG_MAGIC), '\n') + 1, '\n') != NULL,
	   "the day's file: the magic line once, then both records");
	daylog_set_keep(0);
	r.when = T0 + 86400;
	daylog_append(dfd, &r);
	ok(!exists(dfd, "daylog/2025-12-03"), "keep 0: nothing is written");
	daylog_set_keep(1);
	daylog_append(dfd, &r);
	daylog_close();
	ok(exists(dfd, "daylog/2025-12-03") && !exists(dfd, "daylog/2025-12-02") &&
	       !exists(dfd, "daylog/2025-12-01"),
	   "keep 1: a new day leaves only itself");
	/* Unwritable: the append says so in the log and returns. */
	daylog_append(-1, &r);
	ok(1, "an append that cannot open its file returns");
	daylog_close();
	unlinkat(dfd, "daylog/2025-12-03", 0);
	unlinkat(dfd, "daylog/README", 0);
	unlinkat(dfd, DAYLOG_DIR, AT_REMOVEDIR);
	close(dfd);
	rmdir(dir);
}

int
main(void)
{
	tap_plan(25);
	format_parse();
	bounds();
	malformed();
	dates();
	appender();
	return tap_failed != 0;
}
