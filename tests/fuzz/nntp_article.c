/* nntp_article: libFuzzer target for the article parser and the RFC
 * 5536/5537 checks (as a post and as a feed), the overview line built from
 * it, dot-stuffing, and the Message-ID, From and Date syntax checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nntpd/store/article.h"
#include "nntpd/store/overview.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buffer why = BUFFER_INIT, out = BUFFER_INIT;
	struct vector groups = VECTOR_INIT;
	struct article a;
	const char *text = (const char *)data;
	char *s;
	time_t t;

	if (article_parse(&a, text, size, &why) == 0) {
		article_validate(&a, ARTICLE_POST, 1790000000, &why);
		article_validate(&a, ARTICLE_FEED, 1790000000, &why);
		article_newsgroups(&a, &groups);
		overview_build_line(&a, size, &out);
		/* An overview line is one line: no CR or LF inside. */
		if (memchr(buffer_head(&out), '\n', out.len) ||
		    memchr(buffer_head(&out), '\r', out.len))
			abort();
		article_free(&a);
	}
	buffer_clear(&out);
	article_dot_stuff(text, size, &out);
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	article_valid_msgid(s, strlen(s), 1);
	article_valid_msgid(s, strlen(s), 0);
	article_valid_from(s);
	article_parse_date(s, &t);
	article_valid_group_name(s);
	free(s);
	vector_free(&groups);
	buffer_free(&why);
	buffer_free(&out);
	return 0;
}
