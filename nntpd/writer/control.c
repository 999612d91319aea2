/* control: the writer's control verbs (nntpctl over ctl.sock): group
 * changes and expire, run between requests. */
#include "nntpd/writer/control.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/core/vector.h"
#include "common/core/xmalloc.h"
#include "nntpd/store/expire.h"
#include "nntpd/writer/proto.h"

static const struct vector *expire_rules;
static unsigned long expire_remember_days = 10;

void
writer_set_expire(const struct vector *rules, unsigned long remember_days)
{
	expire_rules = rules;
	expire_remember_days = remember_days;
}

/* Group commands from nntpctl. */
int
control_run(struct spool *spool, const char *cmd, size_t len, struct buffer *reply)
{
	struct vector f = VECTOR_INIT;
	char *line = xstrndup(cmd, len);
	int rc = -1;

	vector_split_space(&f, line, 4);
	if (f.count >= 1 && f.count <= 2 && strcmp(f.strings[0], "expire") == 0 &&
	    (f.count == 1 || strcmp(f.strings[1], "-n") == 0)) {
		/* Between requests: sessions keep reading meanwhile, posts wait. */
		rc = expire_run(spool, expire_rules, expire_remember_days, time(NULL), f.count == 2,
		                reply);
		free(line);
		vector_free(&f);
		return rc == 0 ? writer_codes[SUBMIT_CONTROL].ok
		               : writer_codes[SUBMIT_CONTROL].refused;
	} else if (f.count >= 2 && strcmp(f.strings[0], "newgroup") == 0) {
		char flag = f.count >= 3 ? f.strings[2][0] : 'y';

		if (f.count >= 3 && f.strings[2][1] != '\0')
			flag = '?';
		rc = spool_newgroup(spool, f.strings[1], flag, f.count == 4 ? f.strings[3] : "",
		                    "nntpctl", reply);
	} else if (f.count == 2 && strcmp(f.strings[0], "rmgroup") == 0) {
		rc = spool_rmgroup(spool, f.strings[1], reply);
	} else if (f.count == 3 && strcmp(f.strings[0], "changegroup") == 0 &&
	           f.strings[2][1] == '\0') {
		rc = spool_changegroup(spool, f.strings[1], f.strings[2][0], reply);
	} else {
		buffer_puts(reply, "unknown or malformed command");
	}
	if (rc == 0)
		buffer_puts(reply, "done");
	free(line);
	vector_free(&f);
	return rc == 0 ? writer_codes[SUBMIT_CONTROL].ok : writer_codes[SUBMIT_CONTROL].refused;
}
