/* nntp_command: libFuzzer target for the NNTP command table and every
 * handler's argument parsing, run against a small real spool (one group,
 * two articles). Input: command lines; replies go to /dev/null. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/core/conf.h"
#include "common/core/xmalloc.h"
#include "nntpd/options.h"
#include "nntpd/session.h"
#include "nntpd/session/commands.h"
#include "nntpd/store/spool.h"
#include "nntpd/writer/writer.h"

static struct nntp_session sess;

static void
post(struct writer *w, const char *text)
{
	struct buffer reply = BUFFER_INIT;

	writer_process(w, SUBMIT_POST, NULL, "127.0.0.1", text, strlen(text), &reply);
	buffer_free(&reply);
}

static void
setup(void)
{
	char dir[] = "/tmp/nntp-fuzz.XXXXXX";
	struct buffer err = BUFFER_INIT;
	struct writer_conf wc = {"fuzz.example", 0, {0, 0, 0}};
	struct spool *sp;
	struct writer *w;

	if (conf_load(nntpd_options_table, NULL, 0, NULL, &err) != 0 || mkdtemp(dir) == NULL)
		abort();
	sp = spool_open(dir, "fuzz.example", 1);
	if (sp == NULL || spool_newgroup(sp, "local.test", "y", "Test", "fuzz", &err) < 0)
		abort();
	w = writer_new(sp, &wc);
	post(w, "From: a <a@example.com>\r\nNewsgroups: local.test\r\nSubject: one\r\n"
	        "Message-ID: <1@fuzz.example>\r\n\r\n.dot\r\nbody\r\n");
	post(w, "From: a <a@example.com>\r\nNewsgroups: local.test\r\nSubject: two\r\n"
	        "Keywords: k\r\n\r\nbody 2\r\n");
	writer_free(w);
	spool_close(sp);
	conn_init(&sess.c, open("/dev/null", O_WRONLY), 4096, 1000);
	sess.spoolfd = open(dir, O_RDONLY | O_DIRECTORY);
	sess.can_read = sess.can_post = 1;
	sess.read_groups = xstrdup("*");
	sess.post_groups = xstrdup("*");
	sess.pathhost = xstrdup("fuzz.example");
	sess.monitor = -1; /* no monitor: the session's counts go nowhere */
	buffer_free(&err);
}

/* Commands that end the process, read an article body from the client,
 * or talk to the monitor are not fuzzed here (the article reader is the
 * line reader plus the writer's checks, fuzzed as nntp_article). */
static int
skipped(const char *line)
{
	static const char *const words[] = {"QUIT", "POST", "IHAVE", "TAKETHIS", "AUTHINFO",
					    "STARTTLS"};

	while (*line == ' ' || *line == '\t')
		line++;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strncasecmp(line, words[i], strlen(words[i])) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	if (sess.pathhost == NULL)
		setup();
	free(sess.group);
	sess.group = NULL;
	sess.current = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line;

		/* The line reader hands over lines without CR LF; commands_run
		 * refuses lines holding a NUL before the table sees them. */
		if (n > 0 && p[n - 1] == '\r')
			n--;
		line = xstrndup(p, n);
		if (memchr(p, '\0', n) == NULL && !skipped(line))
			commands_dispatch(&sess, line);
		free(line);
		sess.unknown_count = 0;
		buffer_clear(&sess.c.out);
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}
