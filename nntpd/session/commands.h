/* commands.h: what the command handler files (commands.c, cmd_article.c,
 * cmd_list.c, post.c) share: the reply helpers, session caches and the
 * handler prototypes the one command table in commands.c names. */
#ifndef NNTPD_COMMANDS_H
#define NNTPD_COMMANDS_H

#include <stdint.h>

#include "common/core/vector.h"
#include "nntpd/session.h"
#include "nntpd/store/active.h"

/* Reply texts used by more than one handler (RFC 3977 section 3.2). */
#define R_NO_SUCH_GROUP "411 No such newsgroup"
#define R_NO_GROUP "412 No newsgroup selected"
#define R_NO_CURRENT "420 Current article number is invalid"
#define R_NO_NUMBER "423 No article with that number"
#define R_NO_RANGE "423 No articles in that range"
#define R_NO_MSGID "430 No article with that message-id"
#define R_DENIED "502 Permission denied"
#define R_AUTH_REQUIRED "480 Authentication required"
#define R_SYNTAX "501 Syntax error"
#define R_SPOOL "403 Archive server temporarily offline"

/* The command loop, in the sandboxed worker: serve until QUIT or EOF. */
void commands_run(struct nntp_session *s);
/* Run one command line (no CR LF, no NUL) through the table. */
void commands_dispatch(struct nntp_session *s, const char *line);

/* One reply line; it leaves with the next flush (before a blocking read). */
void reply(struct nntp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The end of a multi-line reply. */
void reply_end(struct nntp_session *s);
/* One data line of a multi-line reply, dot-stuffed. */
void reply_data(struct nntp_session *s, const char *line, size_t len);

/* The group list, refreshed if its files changed; NULL (with a 403 sent)
 * when the spool cannot be read. */
struct active *session_groups(struct nntp_session *s);
/* Whether this session may see group name (access rules' read wildmat). */
int group_visible(struct nntp_session *s, const char *name);
int group_visible_cb(void *s, const char *name);
/* The selected group's active entry, or NULL after replying 412. */
struct group *selected_group(struct nntp_session *s);
/* A Message-ID argument ("<...>", lax syntax). */
int is_msgid(const char *arg);
/* The history, opened on first use; NULL if it cannot be opened. */
struct history *session_history(struct nntp_session *s);

/* cmd_article.c */
void cmd_group(struct nntp_session *s, struct vector *args);
void cmd_listgroup(struct nntp_session *s, struct vector *args);
void cmd_last(struct nntp_session *s, struct vector *args);
void cmd_next(struct nntp_session *s, struct vector *args);
void cmd_article(struct nntp_session *s, struct vector *args);
void cmd_head(struct nntp_session *s, struct vector *args);
void cmd_body(struct nntp_session *s, struct vector *args);
void cmd_stat(struct nntp_session *s, struct vector *args);
void cmd_over(struct nntp_session *s, struct vector *args);
void cmd_hdr(struct nntp_session *s, struct vector *args);
void cmd_xhdr(struct nntp_session *s, struct vector *args);
void cmd_xpat(struct nntp_session *s, struct vector *args);
/* cmd_list.c */
void cmd_list(struct nntp_session *s, struct vector *args);
void cmd_newgroups(struct nntp_session *s, struct vector *args);
void cmd_newnews(struct nntp_session *s, struct vector *args);
void cmd_xgtitle(struct nntp_session *s, struct vector *args);
/* The "LIST keyword..." line of CAPABILITIES, from the LIST table. */
void list_capability(struct nntp_session *s);
/* post.c */
void cmd_post(struct nntp_session *s, struct vector *args);
/* Read a dot-terminated article, un-dot-stuffed, into text: 0, or 1 when
 * it was over limit (read to its end and dropped). */
int read_article(struct nntp_session *s, struct buffer *text, size_t limit);
/* peer.c */
void cmd_ihave(struct nntp_session *s, struct vector *args);
void cmd_check(struct nntp_session *s, struct vector *args);
void cmd_takethis(struct nntp_session *s, struct vector *args);
/* TAKETHIS articles one session may have at the writer at once. */
#define PEER_IN_FLIGHT 64
/* Answers owed to a streaming peer (waiting on the writer or queued
 * behind those); peer_wait, when no command is buffered: send what is
 * ready and wait for the writer's next reply or the peer's next bytes
 * (1: the peer's, to be read); peer_drain, before any command that must
 * see earlier results: every answer sent. */
size_t peer_in_flight(const struct nntp_session *s);
int peer_wait(struct nntp_session *s);
void peer_drain(struct nntp_session *s);
/* Whether the session's address or user is named by a peer= line. */
int session_is_peer(const struct nntp_session *s);
/* cmd_auth.c */
void cmd_authinfo(struct nntp_session *s, struct vector *args);
void cmd_starttls(struct nntp_session *s, struct vector *args);
void cmd_compress(struct nntp_session *s, struct vector *args);
/* Whether AUTHINFO may be used now (not yet authenticated, and encrypted
 * or allow_plaintext_auth). */
int auth_usable(const struct nntp_session *s);
/* Whether STARTTLS is offered now. */
int tls_offered(const struct nntp_session *s);
/* AUTHINFO, STARTTLS and COMPRESS lines of CAPABILITIES, as they stand. */
void capabilities_security(struct nntp_session *s);
/* On the implicit TLS listener: the handshake before the greeting (the
 * session ends if it fails). */
void session_implicit_tls(struct nntp_session *s);
/* The reply to a command the access rules refuse: 480 when logging in
 * could help, else 502. */
const char *denied_reply(const struct nntp_session *s);

#endif
