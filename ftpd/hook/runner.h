/* runner: the FTP hook runner, one per daemon, started (and restarted) by
 * the listener. It takes events from session monitors, queues them on
 * disk, and runs upload_hook for each as hook_user until it succeeds. */
#ifndef FTPD_HOOK_RUNNER_H
#define FTPD_HOOK_RUNNER_H

#include <sys/types.h>

/* Prepare hook_queue_dir (root's, 0700 made if missing, never writable by
 * group or others) and its failed/ subdirectory. 0, or -1 with the reason
 * logged. */
int hook_runner_prepare(void);
/* The runner's process, from opt (upload_hook, hook_user, hook_timeout,
 * hook_max_tries, hook_queue_dir): replays the queue, then serves until
 * SIGTERM or the end of listener (its parent). Returns the exit status. */
int hook_runner_main(pid_t listener);

#endif
