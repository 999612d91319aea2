/* daylog: the day log's line format (both sides) and the writer's appender,
 * which opens one file per UTC day and drops the days past the kept ones. */
#include "nntpd/store/daylog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/xmalloc.h"

#define DAY 86400
#define DATE_LEN 10 /* YYYY-MM-DD */

static const char *const kinds[] = {"post", "ihave", "takethis", NULL};
static const char *const outcomes[] = {"accepted", "refused", "deferred", "moderated", NULL};

static unsigned keep_days = DAYLOG_DEFAULT_KEEP;
static int day_fd = -1;
static long day_open = -1;   /* the day (Unix time / DAY) day_fd is for */
static long day_failed = -1; /* the day a failure was last logged */

static void
format_date(time_t t, char out[DATE_LEN + 1])
{
	struct tm tm;

	/* Past year 9999 (not a date a log has): an empty name. */
	if (gmtime_r(&t, &tm) == NULL || strftime(out, DATE_LEN + 1, "%Y-%m-%d", &tm) != DATE_LEN)
		out[0] = '\0';
}

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* One field, cleaned: no tab, newline or control byte (nor space, but in
 * WHY), at most max bytes, "-" when empty. */
static void
put_field(struct buffer *out, const char *v, size_t max, int spaces)
{
	size_t start = out->len, n = 0;

	for (; v != NULL && *v != '\0' && n < max; v++, n++) {
		unsigned char c = (unsigned char)*v;

		char o = c < 32 || c == 127 || (c == ' ' && !spaces) ? '_' : (char)c;

		buffer_append(out, &o, 1);
	}
	if (out->len == start)
		buffer_puts(out, "-");
}

/* The groups field keeps whole names: cut at the last comma that fits. */
static void
put_groups(struct buffer *out, const char *v)
{
	size_t len = v != NULL ? strlen(v) : 0;

	while (len > DAYLOG_MAX_GROUPS) {
		const char *c = memrchr(v, ',', len);

		len = c != NULL ? (size_t)(c - v) : 0;
	}
	if (len == 0) {
		buffer_puts(out, "-");
		return;
	}
	char *cut = xstrndup(v, len);

	put_field(out, cut, len, 0);
	free(cut);
}

char *
daylog_path(time_t t)
{
	char d[DATE_LEN + 1];

	format_date(t, d);
	return xasprintf("%s/%s", DAYLOG_DIR, d);
}

int
daylog_parse_date(const char *s, time_t *out)
{
	struct tm tm = {0};
	char back[DATE_LEN + 1];
	char *end;
	time_t t;

	if (strlen(s) != DATE_LEN || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < DATE_LEN; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	tm.tm_year = (int)strtol(s, &end, 10) - 1900;
	tm.tm_mon = (int)strtol(s + 5, &end, 10) - 1;
	tm.tm_mday = (int)strtol(s + 8, &end, 10);
	t = timegm(&tm);
	/* 2026-02-30 normalises to another day: not a date. */
	format_date(t, back);
	if (t == (time_t)-1 || strcmp(back, s) != 0)
		return -1;
	*out = t;
	return 0;
}

void
daylog_format(const struct daylog_record *r, struct buffer *out)
{
	buffer_printf(out, "%lld", (long long)r->when);
	for (int i = DL_KIND; i < DL_FIELDS; i++) {
		buffer_puts(out, "\t");
		if (i == DL_GROUPS)
			put_groups(out, r->f[i]);
		else
			put_field(out, r->f[i], DAYLOG_MAX_FIELD, i == DL_WHY);
	}
	buffer_puts(out, "\n");
}

int
daylog_parse(char *line, struct daylog_record *r)
{
	uint64_t t;
	char *p = line;

	for (int i = 0; i < DL_FIELDS; i++) {
		char *tab = strchr(p, '\t');

		if ((tab == NULL) != (i == DL_FIELDS - 1))
			return -1;
		if (tab != NULL)
			*tab = '\0';
		if (*p == '\0')
			return -1;
		r->f[i] = p;
		p = tab + 1;
	}
	if (number_parse(r->f[DL_TIME], 0, INT64_MAX, &t) < 0 || !in_list(r->f[DL_KIND], kinds) ||
	    !in_list(r->f[DL_OUTCOME], outcomes))
		return -1;
	r->when = (time_t)t;
	return 0;
}

void
daylog_set_keep(unsigned days)
{
	keep_days = days;
}

void
daylog_close(void)
{
	if (day_fd >= 0)
		close(day_fd);
	day_fd = -1;
	day_open = -1;
}

/* Drop the files of days before the first kept one (names compare as
 * dates do). */
static void
prune(int spoolfd, time_t now)
{
	char first[DATE_LEN + 1];
	int dfd = openat(spoolfd, DAYLOG_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	time_t dummy;

	format_date(now - (time_t)(keep_days - 1) * DAY, first);
	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (daylog_parse_date(e->d_name, &dummy) == 0 && strcmp(e->d_name, first) < 0 &&
		    unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_msg(LOG_INFO, "daylog: dropped %s (report_keep_days=%u)", e->d_name,
			        keep_days);
	closedir(d);
}

/* The day's file open for appending, its magic line first; -1 on error. */
static int
open_day(int spoolfd, time_t now)
{
	char *p = daylog_path(now);
	/* SECURITY: the spool owner's alone (nntpctl reads it as that user):
	 * reader sessions, which read the spool through its group, never see
	 * who posted what from where. */
	int fd = openat(spoolfd, p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;

	if (fd < 0 && errno == ENOENT && mkdirat(spoolfd, DAYLOG_DIR, 0700) == 0)
		fd = openat(spoolfd, p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 ||
	    (st.st_size == 0 && write(fd, DAYLOG_MAGIC, strlen(DAYLOG_MAGIC)) < 0)) {
		close(fd);
		return -1;
	}
	prune(spoolfd, now);
	return fd;
}

void
daylog_append(int spoolfd, const struct daylog_record *r)
{
	struct buffer line = BUFFER_INIT;
	long day = (long)(r->when / DAY);

	if (keep_days == 0)
		return;
	if (day != day_open) {
		daylog_close();
		day_fd = open_day(spoolfd, r->when);
		day_open = day_fd >= 0 ? day : -1;
	}
	daylog_format(r, &line);
	if (day_fd < 0 || write(day_fd, buffer_head(&line), line.len) != (ssize_t)line.len) {
		if (day_failed != day)
			log_msg(LOG_ERR, "daylog: cannot record %s: %m (nntpctl report misses it)",
			        r->f[DL_MSGID] ? r->f[DL_MSGID] : "-");
		day_failed = day;
		/* Try a fresh open with the next article. */
		daylog_close();
	}
	buffer_free(&line);
}
