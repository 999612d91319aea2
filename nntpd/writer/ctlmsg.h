/* ctlmsg: control messages (RFC 5537 section 5) and Supersedes as the
 * writer handles them: where a control message is filed (control.cancel,
 * control.newgroup, control.rmgroup, control.checkgroups, else control,
 * made when first needed), the Cancel-Lock and Cancel-Key headers nntpd
 * adds for authenticated posters (RFC 8315, INN's addcanlockuser), whether
 * a cancel is honoured (cancel_policy), and newgroup, rmgroup and
 * checkgroups under INN's control.ctl (control_file). */
#ifndef NNTPD_WRITER_CTLMSG_H
#define NNTPD_WRITER_CTLMSG_H

#include <stddef.h>
#include <time.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"
#include "nntpd/store/article.h"
#include "nntpd/store/spool.h"
#include "nntpd/writer/proto.h"

enum ctlmsg_type {
	CTLMSG_NONE, /* an ordinary article (it may still carry Supersedes) */
	CTLMSG_CANCEL,
	CTLMSG_NEWGROUP,
	CTLMSG_RMGROUP,
	CTLMSG_CHECKGROUPS,
	CTLMSG_OTHER /* ihave, sendme, version...: filed in control, not acted on */
};

/* What an article's Control and Supersedes headers ask. */
struct ctlmsg {
	enum ctlmsg_type type;
	struct vector args;   /* the Control header's words, the verb first */
	struct buffer target; /* the Message-ID a cancel or Supersedes names */
};

struct ctlmsg_conf {
	const char *cancel_policy; /* "sender", "all" or "none" */
	const char *secret;        /* canlock_secret; "": spool's canlock.secret */
	const char *control_text;  /* control_file's bytes (NULL: none) */
	size_t control_len;
};
#define CTLMSG_SECRET_FILE "canlock.secret"

/* Take the configuration (copied), before the writer's first article. */
void ctlmsg_configure(const struct ctlmsg_conf *c);
/* The same from cancel_policy, canlock_secret and control_file, reading
 * the file now (before the writer's sandbox; missing: logged, and every
 * newgroup, rmgroup and checkgroups is logged only). */
#define CTLMSG_MAX_CONTROL_FILE (1 << 20)
void ctlmsg_configure_files(const char *policy, const char *secret, const char *control_file);

/* Read a's Control and Supersedes headers into m (free with ctlmsg_free):
 * 0, or -1 with why for a malformed one. */
int ctlmsg_parse(const struct article *a, struct ctlmsg *m, struct buffer *why);
void ctlmsg_free(struct ctlmsg *m);
/* The control group m is filed in, made (flag n) when missing, into
 * groups; 0 or -1 with why. */
int ctlmsg_groups(struct spool *s, const struct ctlmsg *m, struct vector *groups,
                  struct buffer *why);
/* A header nntpd rewrites in a post (Cancel-Lock, Cancel-Key): skipped
 * when the poster's headers are copied, then ctlmsg_post_headers. */
int ctlmsg_rewritten(const char *name, size_t len);
/* Cancel-Lock and Cancel-Key for a post: the poster's values, plus for an
 * authenticated user (user non-empty) the lock of the post's own msgid and
 * the key of the article it cancels or supersedes; appended to hdr. */
void ctlmsg_post_headers(struct spool *s, const struct ctlmsg *m, const struct article *a,
                         const char *msgid, const char *user, struct buffer *hdr);
/* After a is stored as msgid: cancel or supersede its target when the
 * rules allow it, run newgroup and rmgroup as control_file says, log the
 * rest. post: a is a post on a connection with rights r. */
void ctlmsg_act(struct spool *s, const struct ctlmsg *m, const struct article *a, const char *msgid,
                int post, const struct writer_rights *r, time_t now);
/* nntpctl cancel MSGID: remove it whatever the rules; 0 or -1 with why. */
int ctlmsg_admin_cancel(struct spool *s, const char *msgid, struct buffer *reply);

#endif
