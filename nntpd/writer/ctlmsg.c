/* ctlmsg: control messages and Supersedes in the writer (see ctlmsg.h). */
#include "nntpd/writer/ctlmsg.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/wildmat.h"
#include "common/core/xmalloc.h"
#include "common/io/fileio.h"
#include "nntpd/canlock.h"
#include "nntpd/store/expire.h"

#define SECRET_BYTES 32
#define MAX_SECRET 1024

static char *cancel_policy; /* NULL: sender */
static struct buffer secret = BUFFER_INIT;
static int secret_given; /* canlock_secret set: never the spool's file */
static char *control_text;
static size_t control_len;

void
ctlmsg_configure(const struct ctlmsg_conf *c)
{
	free(cancel_policy);
	cancel_policy = xstrdup(c->cancel_policy ? c->cancel_policy : "sender");
	buffer_clear(&secret);
	secret_given = c->secret != NULL && *c->secret != '\0';
	if (secret_given)
		buffer_puts(&secret, c->secret);
	free(control_text);
	control_text = c->control_text ? xstrndup(c->control_text, c->control_len) : NULL;
	control_len = c->control_len;
}

void
ctlmsg_configure_files(const char *policy, const char *secret_value, const char *control_file)
{
	struct ctlmsg_conf c = {policy, secret_value, NULL, 0};
	struct buffer text = BUFFER_INIT;
	int fd = open(control_file, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && read_upto(fd, &text, CTLMSG_MAX_CONTROL_FILE) == 0) {
		c.control_text = buffer_head(&text);
		c.control_len = text.len;
	} else {
		log_msg(LOG_NOTICE,
		        "writer: control_file %s: %s; newgroup, rmgroup and checkgroups "
		        "are logged only",
		        control_file, fd < 0 ? strerror(errno) : "unreadable");
	}
	if (fd >= 0)
		close(fd);
	ctlmsg_configure(&c);
	buffer_free(&text);
}

static const char *
policy(void)
{
	return cancel_policy ? cancel_policy : "sender";
}

/* The canlock secret: canlock_secret, else spool/canlock.secret, made
 * (random, 0600) the first time it is needed. 0, or -1 when there is
 * none to be had (then no lock or key is added). */
static int
load_secret(struct spool *s)
{
	unsigned char raw[SECRET_BYTES];
	struct buffer hex = BUFFER_INIT;
	int fd;

	if (secret.len > 0)
		return 0;
	fd = openat(spool_dirfd(s), CTLMSG_SECRET_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		read_upto(fd, &secret, MAX_SECRET);
		close(fd);
		return secret.len > 0 ? 0 : -1;
	}
	if (errno != ENOENT || getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		goto fail;
	for (size_t i = 0; i < sizeof(raw); i++)
		buffer_printf(&hex, "%02x", raw[i]);
	fd = openat(spool_dirfd(s), CTLMSG_SECRET_FILE,
	            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write_all(fd, buffer_head(&hex), hex.len) < 0 || fsync(fd) < 0) {
		if (fd >= 0) {
			close(fd);
			unlinkat(spool_dirfd(s), CTLMSG_SECRET_FILE, 0);
		}
		goto fail;
	}
	close(fd);
	log_msg(LOG_INFO, "writer: made the Cancel-Lock secret %s", CTLMSG_SECRET_FILE);
	buffer_append(&secret, buffer_head(&hex), hex.len);
	buffer_free(&hex);
	return 0;
fail:
	log_msg(LOG_ERR, "writer: no Cancel-Lock secret (%s): %m", CTLMSG_SECRET_FILE);
	buffer_free(&hex);
	return -1;
}

static const struct {
	const char *verb;
	enum ctlmsg_type type;
	const char *group;
} kinds[] = {
    {"cancel", CTLMSG_CANCEL, "control.cancel"},
    {"newgroup", CTLMSG_NEWGROUP, "control.newgroup"},
    {"rmgroup", CTLMSG_RMGROUP, "control.rmgroup"},
    {"checkgroups", CTLMSG_CHECKGROUPS, "control.checkgroups"},
};

int
ctlmsg_parse(const struct article *a, struct ctlmsg *m, struct buffer *why)
{
	struct buffer v = BUFFER_INIT;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	if (article_value(a, "Control", &v) == 0) {
		vector_split_space(&m->args, buffer_cstr(&v), 64);
		m->type = CTLMSG_OTHER;
		if (m->args.count == 0) {
			buffer_puts(why, "Empty Control header");
			rc = -1;
		}
		for (size_t i = 0; rc == 0 && i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcasecmp(m->args.strings[0], kinds[i].verb) == 0)
				m->type = kinds[i].type;
		if (rc == 0 && m->type == CTLMSG_CANCEL) {
			const char *id = m->args.count == 2 ? m->args.strings[1] : "";

			if (!article_valid_msgid(id, strlen(id), 0)) {
				buffer_puts(why, "Control: cancel needs one Message-ID");
				rc = -1;
			} else {
				buffer_puts(&m->target, id);
			}
		}
		if (rc == 0 && (m->type == CTLMSG_NEWGROUP || m->type == CTLMSG_RMGROUP) &&
		    (m->args.count < 2 || !article_valid_group_name(m->args.strings[1]))) {
			buffer_printf(why, "Control: %s needs a valid newsgroup name",
			              m->args.strings[0]);
			rc = -1;
		}
	} else if (article_value(a, "Supersedes", &v) == 0) {
		if (!article_valid_msgid(buffer_head(&v), v.len, 0)) {
			buffer_puts(why, "Supersedes: not a Message-ID");
			rc = -1;
		} else {
			buffer_append(&m->target, buffer_head(&v), v.len);
		}
	}
	buffer_cstr(&m->target);
	buffer_free(&v);
	return rc;
}

void
ctlmsg_free(struct ctlmsg *m)
{
	vector_free(&m->args);
	buffer_free(&m->target);
}

int
ctlmsg_groups(struct spool *s, const struct ctlmsg *m, struct vector *groups, struct buffer *why)
{
	const char *name = "control";

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].type == m->type)
			name = kinds[i].group;
	vector_clear(groups);
	if (active_find(spool_active(s), name) == NULL &&
	    spool_newgroup(s, name, "n", "Control messages (filed by nntpd)", "nntpd", why) < 0)
		return -1;
	vector_add(groups, name);
	return 0;
}

int
ctlmsg_rewritten(const char *name, size_t len)
{
	return (len == 11 && strncasecmp(name, "Cancel-Lock", 11) == 0) ||
	       (len == 10 && strncasecmp(name, "Cancel-Key", 10) == 0);
}

/* The Cancel-Key elements a cancel or Supersedes carries once filed: its
 * own, plus (post by user) the one nntpd derives for its target. */
static void
cancel_keys(struct spool *s, const struct ctlmsg *m, const struct article *a, const char *user,
            struct buffer *out)
{
	article_value(a, "Cancel-Key", out);
	if (user == NULL || *user == '\0' || m->target.len == 0 || load_secret(s) < 0)
		return;
	if (out->len > 0)
		buffer_puts(out, " ");
	canlock_key((const unsigned char *)buffer_head(&secret), secret.len, user,
	            buffer_head(&m->target), out);
}

void
ctlmsg_post_headers(struct spool *s, const struct ctlmsg *m, const struct article *a,
                    const char *msgid, const char *user, struct buffer *hdr)
{
	struct buffer v = BUFFER_INIT, key = BUFFER_INIT;

	article_value(a, "Cancel-Lock", &v);
	if (user != NULL && *user != '\0' && load_secret(s) == 0) {
		canlock_key((const unsigned char *)buffer_head(&secret), secret.len, user, msgid,
		            &key);
		if (v.len > 0)
			buffer_puts(&v, " ");
		canlock_lock(buffer_head(&key), key.len, &v);
	}
	if (v.len > 0)
		buffer_printf(hdr, "Cancel-Lock: %s\r\n", buffer_cstr(&v));
	cancel_keys(s, m, a, user, &v);
	if (v.len > 0)
		buffer_printf(hdr, "Cancel-Key: %s\r\n", buffer_cstr(&v));
	buffer_free(&v);
	buffer_free(&key);
}

/* The addr-spec of a From or Sender value, lower-cased, into out. */
static void
address_of(const char *v, struct buffer *out)
{
	const char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	size_t n;

	buffer_clear(out);
	if (lt != NULL && gt != NULL) {
		v = lt + 1;
		n = (size_t)(gt - v);
	} else {
		v += strspn(v, " \t");
		n = strcspn(v, " \t(");
	}
	for (size_t i = 0; i < n; i++)
		buffer_append(out, &(char){(char)tolower((unsigned char)v[i])}, 1);
	buffer_cstr(out);
}

/* The addresses of a's From and Sender (both, when both are there). */
static void
senders(const struct article *a, struct vector *out)
{
	struct buffer v = BUFFER_INIT, addr = BUFFER_INIT;

	for (int i = 0; i < 2; i++)
		if (article_value(a, i ? "Sender" : "From", &v) == 0) {
			address_of(buffer_cstr(&v), &addr);
			if (addr.len > 0)
				vector_add(out, buffer_head(&addr));
		}
	buffer_free(&v);
	buffer_free(&addr);
}

/* The stored article's headers that decide a cancel. */
struct target {
	struct buffer lock;
	struct vector senders;
};

static int
read_target(struct spool *s, const char *msgid, struct target *t)
{
	struct spool_article art;
	struct buffer v = BUFFER_INIT, addr = BUFFER_INIT;
	uint64_t number;
	char *group;

	if (spool_find_msgid(spool_history(s), spool_dirfd(s), msgid, &group, &number, &art) < 0)
		return -1;
	spool_article_header(&art, "Cancel-Lock", &t->lock);
	for (int i = 0; i < 2; i++)
		if (spool_article_header(&art, i ? "Sender" : "From", &v) == 0) {
			address_of(buffer_cstr(&v), &addr);
			if (addr.len > 0)
				vector_add(&t->senders, buffer_head(&addr));
		}
	close(art.fd);
	free(group);
	buffer_free(&v);
	buffer_free(&addr);
	return 0;
}

/* Whether the cancel (or Supersedes) a may remove the article t: NULL
 * when so, else why not. */
static const char *
may_cancel(struct spool *s, const struct ctlmsg *m, const struct article *a, int post,
           const struct writer_rights *r, struct target *t)
{
	struct buffer keys = BUFFER_INIT;
	struct vector from = VECTOR_INIT;
	const char *why = "cancel_policy is none";

	if (strcmp(policy(), "all") == 0)
		return NULL;
	if (strcmp(policy(), "none") == 0)
		return why;
	if (t->lock.len > 0) {
		/* SECURITY: RFC 8315: a Cancel-Lock is opened by its key only;
		 * the sender's word and the moderator right do not count. */
		cancel_keys(s, m, a, post ? r->user : NULL, &keys);
		why = canlock_match(buffer_cstr(&keys), buffer_cstr(&t->lock))
		          ? NULL
		          : "no Cancel-Key opens the article's Cancel-Lock";
		buffer_free(&keys);
		return why;
	}
	if (post && r->may_approve)
		return NULL;
	why = "the sender is not the article's (cancel_policy sender)";
	senders(a, &from);
	for (size_t i = 0; why != NULL && i < from.count; i++)
		for (size_t j = 0; why != NULL && j < t->senders.count; j++)
			if (strcmp(from.strings[i], t->senders.strings[j]) == 0)
				why = NULL;
	vector_free(&from);
	return why;
}

static void
cancel_target(struct spool *s, const struct ctlmsg *m, const struct article *a, const char *msgid,
              int post, const struct writer_rights *r, time_t now)
{
	const char *target = buffer_head(&m->target),
	           *what = m->type == CTLMSG_CANCEL ? "cancel" : "Supersedes";
	struct target t = {BUFFER_INIT, VECTOR_INIT};
	struct buffer why = BUFFER_INIT;
	const char *no;

	if (strcmp(target, msgid) == 0) {
		log_msg(LOG_NOTICE, "writer: %s %s names itself: not acted on", what, msgid);
	} else if (read_target(s, target, &t) < 0) {
		/* Not here (yet): with cancel_policy all it is remembered, so
		 * the article is refused should it arrive later. */
		if (strcmp(policy(), "all") == 0 &&
		    history_lookup(spool_history(s), target, NULL) == 0)
			history_add(spool_history(s), target, now, NULL);
		log_msg(LOG_NOTICE, "writer: %s %s of %s: no such article here", what, msgid,
		        target);
	} else if ((no = may_cancel(s, m, a, post, r, &t)) != NULL) {
		log_msg(LOG_NOTICE, "writer: %s %s of %s not honoured: %s", what, msgid, target,
		        no);
	} else if (expire_remove_msgid(s, target, now, &why) > 0) {
		log_msg(LOG_NOTICE, "writer: %s %s removed %s", what, msgid, target);
	} else {
		log_msg(LOG_ERR, "writer: %s %s of %s: %s", what, msgid, target, buffer_cstr(&why));
	}
	buffer_free(&t.lock);
	vector_free(&t.senders);
	buffer_free(&why);
}

/* The action of the last control_file line matching verb, sender and
 * group into action ("log" when none matches). */
static void
control_action(const char *verb, const char *sender, const char *group, struct buffer *action)
{
	const char *p = control_text, *end = control_text + control_len;
	struct vector f = VECTOR_INIT;

	buffer_clear(action);
	buffer_puts(action, "log");
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line = xstrndup(p, (size_t)((nl ? nl : end) - p));

		p = nl ? nl + 1 : end;
		line[strcspn(line, "\r")] = '\0';
		vector_clear(&f);
		vector_split(&f, line, ':');
		if (line[0] != '#' && f.count >= 4 &&
		    (strcasecmp(f.strings[0], verb) == 0 || strcasecmp(f.strings[0], "all") == 0) &&
		    wildmat_match(sender, f.strings[1]) && wildmat_match(group, f.strings[2])) {
			/* The action takes the rest (a doit=FILE may hold ':'). */
			buffer_clear(action);
			for (size_t i = 3; i < f.count; i++)
				buffer_printf(action, "%s%s", i > 3 ? ":" : "", f.strings[i]);
		}
		free(line);
	}
	vector_free(&f);
	buffer_cstr(action);
}

/* The description newgroup's body gives its group: the line after "For
 * your newsgroups file:" that starts with the group's name. */
static void
newgroup_description(const struct article *a, const char *group, struct buffer *out)
{
	const char *p = a->text + a->body_off, *end = a->text + a->len;
	size_t glen = strlen(group);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;

		if ((size_t)(e - p) > glen && strncmp(p, group, glen) == 0 &&
		    (p[glen] == ' ' || p[glen] == '\t')) {
			article_unfold(p + glen, (size_t)(e - p) - glen, out);
			return;
		}
		p = nl ? nl + 1 : end;
	}
}

static int
run_newgroup(struct spool *s, const struct ctlmsg *m, const struct article *a, const char *sender,
             struct buffer *why)
{
	const char *name = m->args.strings[1];
	const char *flag =
	    m->args.count > 2 && strcasecmp(m->args.strings[2], "moderated") == 0 ? "m" : "y";
	const struct group *g = active_find(spool_active(s), name);
	struct buffer desc = BUFFER_INIT;
	int rc;

	if (g != NULL) {
		if (g->flag == flag[0] && g->flags[1] == '\0') {
			buffer_printf(why, "%s already exists", name);
			return 0;
		}
		return spool_changegroup(s, name, flag, why);
	}
	/* The description is one unfolded line (no CR or LF, tabs made
	 * spaces), so it cannot add a line to the newsgroups file. */
	newgroup_description(a, name, &desc);
	rc = spool_newgroup(s, name, flag, buffer_cstr(&desc), sender, why);
	buffer_free(&desc);
	return rc;
}

static void
group_control(struct spool *s, const struct ctlmsg *m, const struct article *a, const char *msgid)
{
	struct vector from = VECTOR_INIT, groups = VECTOR_INIT;
	struct buffer action = BUFFER_INIT, why = BUFFER_INIT;
	const char *verb = m->args.strings[0], *sender, *group;
	int rc = 0;

	senders(a, &from);
	article_newsgroups(a, &groups);
	sender = from.count > 0 ? from.strings[from.count - 1] : "";
	group = m->args.count > 1 ? m->args.strings[1] : groups.count ? groups.strings[0] : "";
	control_action(verb, sender, group, &action);
	if (strcmp(buffer_head(&action), "drop") == 0) {
		/* dropped: filed, nothing else, not even a log line */
	} else if (strncmp(buffer_head(&action), "doit", 4) != 0 || m->type == CTLMSG_CHECKGROUPS) {
		log_msg(LOG_NOTICE, "writer: %s %s %s from %s: logged only (%s)", verb, group,
		        msgid, sender,
		        m->type == CTLMSG_CHECKGROUPS ? "checkgroups is never run"
		                                      : buffer_head(&action));
	} else {
		rc = m->type == CTLMSG_NEWGROUP ? run_newgroup(s, m, a, sender, &why)
		                                : spool_rmgroup(s, group, &why);
		log_msg(rc == 0 ? LOG_NOTICE : LOG_ERR, "writer: %s %s %s from %s: %s%s%s%s", verb,
		        group, msgid, sender, rc == 0 ? "done" : "failed", why.len ? " (" : "",
		        buffer_cstr(&why), why.len ? ")" : "");
	}
	vector_free(&from);
	vector_free(&groups);
	buffer_free(&action);
	buffer_free(&why);
}

void
ctlmsg_act(struct spool *s, const struct ctlmsg *m, const struct article *a, const char *msgid,
           int post, const struct writer_rights *r, time_t now)
{
	if (m->target.len > 0)
		cancel_target(s, m, a, msgid, post, r, now);
	else if (m->type == CTLMSG_NEWGROUP || m->type == CTLMSG_RMGROUP ||
	         m->type == CTLMSG_CHECKGROUPS)
		group_control(s, m, a, msgid);
}

int
ctlmsg_admin_cancel(struct spool *s, const char *msgid, struct buffer *reply)
{
	int rc;

	if (!article_valid_msgid(msgid, strlen(msgid), 0)) {
		buffer_printf(reply, "%s is not a Message-ID", msgid);
		return -1;
	}
	rc = expire_remove_msgid(s, msgid, time(NULL), reply);
	if (rc > 0) {
		log_msg(LOG_NOTICE, "writer: nntpctl cancel removed %s", msgid);
		buffer_printf(reply, "cancelled %s", msgid);
	}
	return rc > 0 ? 0 : -1;
}
