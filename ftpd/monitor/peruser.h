/* peruser: what a session's monitor holds for its user beside the login:
 * a max_sessions_per_user slot and the root's quota usage file. */
#ifndef FTPD_MONITOR_PERUSER_H
#define FTPD_MONITOR_PERUSER_H

/* max_sessions_per_user: take a free slot of user (0), held until
 * peruser_slot_release or the monitor's end; 1 when every slot is taken,
 * -1 when the slots cannot be used (logged). */
int peruser_slot_take(const char *user);
/* Also in each forked worker: the slot stays the monitor's alone, so a
 * session's slot goes with its monitor. */
void peruser_slot_release(void);
/* quota_bytes or quota_files: open the usage file in the root (rootfd,
 * named root_path) for the post-login worker. The fd, -1 when no quota
 * applies, or -2 when the login must be refused (logged). */
int peruser_usage_open(int rootfd, const char *root_path, const char *user);

#endif
