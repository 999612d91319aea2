/* daily: nntpctl report, a day's news in the spirit of INN's news.daily,
 * read from the writer's day log (nntpd/store/daylog.h) and feed queues. */
#ifndef NNTPD_TOOLS_DAILY_H
#define NNTPD_TOOLS_DAILY_H

#include <stdio.h>
#include <time.h>

struct daily_opts {
	time_t day;   /* any time in the UTC day to report */
	time_t now;   /* for the backlog's ages */
	int json;     /* one JSON object instead of text */
	unsigned top; /* rows of the top posters and hosts */
};

/* Write the report on out; 0, or -1 with errno when the day log exists
 * but cannot be read. A day without a log says so and is not an error. */
int daily_report(int spoolfd, const struct daily_opts *o, FILE *out);

#endif
