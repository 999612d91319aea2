/* mailer: the writer's one way out to mail, for moderation (an unapproved
 * post to a moderated group goes to its moderator, as INN's nnrpd mails
 * it). A process of its own, forked by the writer before its sandbox: it
 * runs as the writer's user, unchrooted and without a seccomp filter,
 * because it runs the mailer command (sendmail is often setuid). It
 * takes requests only from the writer, over a socketpair: a group and an
 * article. It reads moderators_file itself and runs the command from its
 * own configuration, so a compromised writer can mail only articles,
 * only to the groups' moderators, and choose no program or address. */
#ifndef POSTEL_NNTPD_WRITER_MAILER_H
#define POSTEL_NNTPD_WRITER_MAILER_H

#include <stddef.h>

#include "common/core/buffer.h"
#include "common/priv/sandbox.h"

/* Room for the headers the writer adds to a post it mails. */
#define WRITER_MAIL_SLACK 65536

enum mailer_result {
	MAILER_SENT,         /* the command took it (exit status 0) */
	MAILER_NO_MODERATOR, /* no moderators_file line names the group */
	MAILER_FAILED,       /* anything else: the reason goes with it */
};

struct mailer_conf {
	const char *command;         /* e.g. "/usr/sbin/sendmail -oi -oem" */
	const char *moderators_file; /* INN's moderators(5) */
	unsigned timeout;            /* seconds one mail may take */
	size_t max_article;          /* largest article a request carries */
};

/* Fork the mailer as user (id's uid and gid) and return the writer's end
 * of its socketpair, or -1 (logged). Called while still root. */
int mailer_start(const struct mailer_conf *conf, const char *user, const struct sandbox_id *id);
/* Writer side: mail article (the post as it would be filed, CR LF lines)
 * to the moderator of group, waiting at most timeout + a margin. The
 * address (sent) or the reason (failed) in info. After a failure the
 * channel may be closed (*fd = -1): the mailer is gone until the writer
 * restarts. */
enum mailer_result mailer_send(int *fd, const char *group, const char *article, size_t len,
                               unsigned timeout, struct buffer *info);

#endif
