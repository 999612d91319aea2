/* auth: PAM with our own failure delay (PAM's is switched off), so the
 * caller controls the timing of every refusal, known user or not. */
#include "common/priv/auth.h"

#include <errno.h>
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"

struct conv_data {
	const char *user;
	const char *password;
};

struct auth_session {
	pam_handle_t *ph;
	struct conv_data conv_data; /* the conversation may be called again */
	struct pam_conv conv;
};

static int
conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct conv_data *d = arg;
	struct pam_response *r;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = xcalloc((size_t)n, sizeof(*r));
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			r[i].resp = xstrdup(d->password);
			break;
		case PAM_PROMPT_ECHO_ON:
			r[i].resp = xstrdup(d->user);
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			break;
		default:
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static void
no_delay(int status, unsigned int usec, void *arg)
{
	(void)status;
	(void)usec;
	(void)arg;
}

/* After a successful authentication: credentials and a session kept open
 * in *out. PAM's result code. */
static int
open_session(pam_handle_t *ph, struct auth_session **out)
{
	int rc = pam_setcred(ph, PAM_ESTABLISH_CRED);

	if (rc != PAM_SUCCESS)
		return rc;
	rc = pam_open_session(ph, 0);
	if (rc != PAM_SUCCESS) {
		pam_setcred(ph, PAM_DELETE_CRED);
		return rc;
	}
	(*out)->ph = ph;
	return PAM_SUCCESS;
}

int
auth_pam(const char *service, const char *user, const char *password, const char *rhost,
         char **pam_user, struct auth_session **session)
{
	struct auth_session *as = xcalloc(1, sizeof(*as));
	pam_handle_t *ph = NULL;
	const void *item = NULL;
	int rc;

	/* The conversation data lives as long as the handle may call it. */
	as->conv_data = (struct conv_data){user, password};
	as->conv = (struct pam_conv){conversation, &as->conv_data};
	rc = pam_start(service, user, &as->conv, &ph);
	if (rc != PAM_SUCCESS) {
		log_msg(LOG_ERR, "pam_start(%s): %s", service, pam_strerror(ph, rc));
		free(as);
		return -1;
	}
	pam_set_item(ph, PAM_RHOST, rhost);
	pam_set_item(ph, PAM_TTY, "ftp");
	pam_set_item(ph, PAM_FAIL_DELAY, (const void *)no_delay);
	rc = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(ph, 0);
	if (rc == PAM_SUCCESS && session != NULL)
		rc = open_session(ph, &as);
	else if (rc == PAM_SUCCESS)
		rc = pam_setcred(ph, PAM_ESTABLISH_CRED);
	if (rc == PAM_SUCCESS && pam_get_item(ph, PAM_USER, &item) == PAM_SUCCESS && item)
		*pam_user = xstrdup(item);
	else if (rc == PAM_SUCCESS)
		*pam_user = xstrdup(user);
	if (rc != PAM_SUCCESS)
		log_msg(LOG_NOTICE, "PAM %s: %s", service, pam_strerror(ph, rc));
	if (rc == PAM_SUCCESS && session != NULL) {
		/* Nothing the caller owns is needed again (PAM_USER is set). */
		as->conv_data = (struct conv_data){"", ""};
		*session = as;
		return 0;
	}
	pam_end(ph, rc);
	free(as);
	return rc == PAM_SUCCESS ? 0 : -1;
}

void
auth_session_close(struct auth_session *s)
{
	int rc;

	if (s == NULL)
		return;
	rc = pam_close_session(s->ph, 0);
	if (rc != PAM_SUCCESS)
		log_msg(LOG_NOTICE, "pam_close_session: %s", pam_strerror(s->ph, rc));
	pam_setcred(s->ph, PAM_DELETE_CRED);
	pam_end(s->ph, rc);
	free(s);
}

void
auth_attempt_begin(struct auth_guard *g)
{
	clock_gettime(CLOCK_MONOTONIC, &g->start);
}

int
auth_attempt_refused(struct auth_guard *g)
{
	struct timespec until = g->start;

	/* SECURITY: every refusal takes the same time from the request,
	 * known user or not, however long PAM took to say no. */
	until.tv_sec += (time_t)g->delay_seconds;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
	g->fails++;
	if (!auth_exhausted(g))
		return 0;
	/* Before the refusal goes out, so the client cannot reconnect first. */
	if (g->on_exhausted != NULL)
		g->on_exhausted();
	return 1;
}

int
auth_exhausted(const struct auth_guard *g)
{
	return g->max_fails > 0 && g->fails >= g->max_fails;
}
