/* chan: the listener's and the writer's messages on their channel
 * (writer/chan.h): encoded by one end, parsed by the other. */
#include "nntpd/writer/chan.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/number.h"
#include "common/core/xmalloc.h"

void
wchan_settings_free(struct writer_settings *ws)
{
	vector_free(&ws->feed);
	vector_free(&ws->expire);
}

void
wchan_encode_config(struct buffer *out, unsigned long gen, const struct writer_settings *ws)
{
	buffer_printf(out, "config %lu\n", gen);
	buffer_printf(out, "max_article_size %zu\n", ws->max_article_size);
	buffer_printf(out, "history_remember %lu\n", ws->history_remember);
	buffer_printf(out, "post_rate %lu\npost_burst %lu\narticle_cutoff_days %lu\n",
	              ws->limits.post_rate, ws->limits.post_burst, ws->limits.cutoff_days);
	for (size_t i = 0; i < ws->feed.count; i++)
		buffer_printf(out, "feed %s\n", ws->feed.strings[i]);
	for (size_t i = 0; i < ws->expire.count; i++)
		buffer_printf(out, "expire %s\n", ws->expire.strings[i]);
}

void
wchan_encode_refused(struct buffer *out, unsigned long gen, const char *why)
{
	buffer_printf(out, "refused %lu\n%s", gen, why);
}

/* One "key value" line of a config message into ws; 0 or -1. */
static int
config_line(char *line, struct writer_settings *ws)
{
	char *sp = strchr(line, ' ');
	uint64_t n;

	if (sp == NULL)
		return -1;
	*sp++ = '\0';
	if (strcmp(line, "feed") == 0)
		vector_add(&ws->feed, sp);
	else if (strcmp(line, "expire") == 0)
		vector_add(&ws->expire, sp);
	else if (strcmp(line, "max_article_size") == 0 && number_parse(sp, 1, SIZE_MAX, &n) == 0)
		ws->max_article_size = (size_t)n;
	else if (strcmp(line, "history_remember") == 0 && number_parse(sp, 0, 36500, &n) == 0)
		ws->history_remember = (unsigned long)n;
	else if (strcmp(line, "post_rate") == 0 && number_parse(sp, 0, ULONG_MAX, &n) == 0)
		ws->limits.post_rate = (unsigned long)n;
	else if (strcmp(line, "post_burst") == 0 && number_parse(sp, 0, ULONG_MAX, &n) == 0)
		ws->limits.post_burst = (unsigned long)n;
	else if (strcmp(line, "article_cutoff_days") == 0 && number_parse(sp, 0, 36500, &n) == 0)
		ws->limits.cutoff_days = (unsigned long)n;
	else
		return -1;
	return 0;
}

int
wchan_parse(const char *msg, size_t len, unsigned long *gen, struct writer_settings *ws,
            struct buffer *why)
{
	char *text = xstrndup(msg, len), *line, *next;
	int kind = -1;
	uint64_t g;

	memset(ws, 0, sizeof(*ws));
	buffer_clear(why);
	next = strchr(text, '\n');
	if (next == NULL)
		goto out;
	*next++ = '\0';
	if (strncmp(text, "config ", 7) == 0 && number_parse(text + 7, 0, UINT64_MAX, &g) == 0)
		kind = 1;
	else if (strncmp(text, "refused ", 8) == 0 &&
	         number_parse(text + 8, 0, UINT64_MAX, &g) == 0)
		kind = 0;
	else
		goto out;
	*gen = (unsigned long)g;
	if (kind == 0) {
		buffer_puts(why, next);
		goto out;
	}
	for (line = next; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next == NULL) {
			kind = -1;
			break;
		}
		*next++ = '\0';
		if (config_line(line, ws) < 0) {
			kind = -1;
			break;
		}
	}
	if (kind < 0)
		wchan_settings_free(ws);
out:
	free(text);
	return kind;
}
