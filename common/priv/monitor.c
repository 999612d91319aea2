/* monitor: the pieces of a session monitor that ftpd's and nntpd's share. */
#include "common/priv/monitor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/priv/sandbox.h"

void
monitor_session_start(char id[MONITOR_ID_LEN], const char *peer_text)
{
	unsigned char rnd[3];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	snprintf(id, MONITOR_ID_LEN, "%02x%02x%02x%04x", rnd[0], rnd[1], rnd[2],
	         (unsigned)getpid() & 0xffff);
	log_set_prefix("s=%s c=%s u=-", id, peer_text);
	log_msg(LOG_INFO, "session start");
}

int
monitor_seccomp_report(const struct ps_msg *m)
{
	int nr;

	if (m->type != PS_SECCOMP || m->len != sizeof(int))
		return -1;
	memcpy(&nr, m->data, sizeof(nr));
	log_msg(LOG_ERR, "worker killed by seccomp: syscall %s (%d) not allowed",
	        sandbox_syscall_name(nr), nr);
	return 0;
}

void
monitor_session_end(int status)
{
	char text[96];

	if (WIFEXITED(status))
		snprintf(text, sizeof(text), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(text, sizeof(text), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(text, sizeof(text), "status %d", status);
	log_msg(LOG_INFO, "session end: %s", text);
}

int
monitor_wait(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}
