/* report: what the writer records of each article for nntpctl report:
 * outcome and reason, groups, poster and host, one day log line. */
#include "nntpd/writer/report.h"

#include <stdint.h>
#include <string.h>

#include "common/core/buffer.h"
#include "common/core/vector.h"
#include "nntpd/metrics.h"
#include "nntpd/store/daylog.h"

static const char *const kind_names[] = {
    [SUBMIT_POST] = "post", [SUBMIT_IHAVE] = "ihave", [SUBMIT_TAKETHIS] = "takethis"};

/* The refusal's reason as the metrics name it (reason="too_large"), so a
 * new refusal series is reported with no change here. */
static void
reason_name(unsigned refused, struct buffer *out)
{
	const char *l, *q;

	if (refused <= M_NNTP_ACCEPTED || refused >= M_NNTP_END ||
	    (l = strstr(nntpd_metric_defs[refused - M_COMMON_COUNT].labels, "reason=\"")) == NULL) {
		buffer_puts(out, "other");
		return;
	}
	l += strlen("reason=\"");
	q = strchr(l, '"');
	buffer_append(out, l, q != NULL ? (size_t)(q - l) : strlen(l));
}

/* "g1,g2" from an Xref value "host g1:n g2:m". */
static void
xref_groups(const char *xref, struct buffer *out)
{
	struct vector w = VECTOR_INIT;

	vector_split_space(&w, xref, SIZE_MAX);
	for (size_t i = 1; i < w.count; i++) {
		const char *colon = strrchr(w.strings[i], ':');

		if (out->len > 0)
			buffer_puts(out, ",");
		buffer_append(out, w.strings[i],
		              colon != NULL ? (size_t)(colon - w.strings[i])
		                            : strlen(w.strings[i]));
	}
	vector_free(&w);
}

/* The address of a From value: inside <>, else its first word. */
static void
from_address(const struct article *a, struct buffer *out)
{
	struct buffer v = BUFFER_INIT;
	const char *s, *lt, *gt;

	if (article_value(a, "From", &v) == 0) {
		s = buffer_cstr(&v);
		lt = strchr(s, '<');
		gt = lt != NULL ? strchr(lt, '>') : NULL;
		if (lt != NULL && gt != NULL)
			buffer_append(out, lt + 1, (size_t)(gt - lt - 1));
		else
			buffer_append(out, s + strspn(s, " \t"),
			              strcspn(s + strspn(s, " \t"), " \t("));
	}
	buffer_free(&v);
}

void
report_article(int spoolfd, enum submit_kind kind, int code, unsigned refused,
               const struct article *a, const struct writer_rights *r, const char *msgid,
               const char *xref, const char *why, time_t now)
{
	const struct writer_reply_codes *c = &writer_codes[kind];
	struct buffer reason = BUFFER_INIT, groups = BUFFER_INIT, poster = BUFFER_INIT;
	struct daylog_record rec = {.when = now};

	if (kind != SUBMIT_POST && kind != SUBMIT_IHAVE && kind != SUBMIT_TAKETHIS)
		return;
	rec.f[DL_KIND] = kind_names[kind];
	if (code == c->ok) {
		/* 240 without a filing: it went to the moderator. */
		rec.f[DL_OUTCOME] = xref != NULL && *xref != '\0' ? "accepted" : "moderated";
	} else {
		rec.f[DL_OUTCOME] = code == c->unavailable ? "deferred" : "refused";
		reason_name(refused, &reason);
		rec.f[DL_REASON] = buffer_cstr(&reason);
	}
	if (xref != NULL && *xref != '\0')
		xref_groups(xref, &groups);
	else if (article_value(a, "Newsgroups", &groups) == 0) {
		/* Newsgroups may hold folding white space. */
		size_t k = 0;
		char *g = buffer_cstr(&groups);

		for (size_t i = 0; g[i] != '\0'; i++)
			if (g[i] != ' ' && g[i] != '\t')
				g[k++] = g[i];
		buffer_truncate(&groups, k);
	}
	rec.f[DL_GROUPS] = buffer_cstr(&groups);
	if (kind == SUBMIT_POST && r->user != NULL && r->user[0] != '\0')
		buffer_puts(&poster, r->user);
	else
		from_address(a, &poster);
	rec.f[DL_POSTER] = buffer_cstr(&poster);
	rec.f[DL_MSGID] = msgid;
	rec.f[DL_HOST] = r->host;
	rec.f[DL_WHY] = why;
	daylog_append(spoolfd, &rec);
	buffer_free(&reason);
	buffer_free(&groups);
	buffer_free(&poster);
}
