/* auth: the PAM conversation. Only the monitor calls it; the worker hands
 * over a user name and password and learns only yes or no. */
#ifndef POSTEL_AUTH_H
#define POSTEL_AUTH_H

#include <time.h>

/* An open PAM session (pam_open_session), kept by the monitor while the
 * logged-in worker runs. */
struct auth_session;

/* Authenticate and check the account through PAM service. On success
 * returns 0 and sets *pam_user (owned) to the name PAM settled on. With
 * session not NULL it also establishes credentials and opens a PAM session
 * (pam_limits, pam_loginuid, ... apply to this process and so to the
 * worker it forks next), kept in *session; a session that does not open
 * refuses the login. */
int auth_pam(const char *service, const char *user, const char *password, const char *rhost,
             char **pam_user, struct auth_session **session);
/* pam_close_session, credentials deleted, pam_end; NULL does nothing. */
void auth_session_close(struct auth_session *s);

/* The monitor's guard around login attempts, the same in both daemons:
 * every refusal takes the same time from the request, and too many
 * refusals end the session, and the listener is told at once to put the
 * address in back-off. */
struct auth_guard {
	unsigned long delay_seconds; /* from a request to its refusal */
	unsigned long max_fails;     /* refusals that end the session */
	void (*on_exhausted)(void);  /* called before the last refusal goes out */
	unsigned fails;
	struct timespec start;
};

/* A login request arrived: start its clock. */
void auth_attempt_begin(struct auth_guard *g);
/* It was refused: wait out the delay and count it. Returns 1 when the
 * session must now end (max_fails reached, on_exhausted called), else 0. */
int auth_attempt_refused(struct auth_guard *g);
/* Whether the session ended for too many refusals. */
int auth_exhausted(const struct auth_guard *g);

#endif
