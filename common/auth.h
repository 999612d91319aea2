/* auth: the PAM conversation. Only the monitor calls it; the worker hands
 * over a user name and password and learns only yes or no. */
#ifndef POSTEL_AUTH_H
#define POSTEL_AUTH_H

/* Authenticate and check the account through PAM service. On success
 * returns 0 and sets *pam_user (owned) to the name PAM settled on. */
int auth_pam(const char *service, const char *user, const char *password, const char *rhost,
	     char **pam_user);

#endif
