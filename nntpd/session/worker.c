/* worker: the NNTP session worker's start: sandbox, signals, the command
 * loop. Runs unprivileged, chrooted to the spool, next to client bytes.
 * Alone in its file, so a test can link its own worker in its place and
 * attack the monitor and the writer from inside the sandbox (tests/attack/). */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/xmalloc.h"
#include "common/io/netio.h"
#include "common/priv/sandbox.h"
#include "nntpd/options.h"
#include "nntpd/session.h"
#include "nntpd/session/commands.h"

static struct nntp_session *sess;

/* SIGTERM (the daemon is stopping): say so, unless TLS or compression is
 * on (a plaintext line would corrupt the stream), and go. */
static void
on_sigterm(int sig)
{
	static const char bye[] = "400 Server shutting down\r\n";

	(void)sig;
	if (conn_is_plain(&sess->c) && write(sess->c.fd, bye, sizeof(bye) - 1) < 0) {
		/* The client is gone already. */
	}
	_exit(0);
}

/* SIGUSR1 to the listener (or nntpd -s): one line about this session. */
static void
log_status(void)
{
	log_msg(LOG_INFO, "status: %s, group %s, article %llu", sess->user ? sess->user : "-",
	        sess->group ? sess->group : "-", (unsigned long long)sess->current);
}

void
nntp_worker(struct nntp_session *s, int mon, struct sandbox_id *id)
{
	sess = s;
	sess->monitor = mon;
	/* reader_nice and poster_nice step down from the listener's. */
	errno = 0;
	sess->base_nice = sess->nice = getpriority(PRIO_PROCESS, 0);
	sess->can_nice = errno == 0;
	/* Opened before the chroot, so the same fd serves both modes. */
	sess->spoolfd = open(opt.spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sess->spoolfd < 0)
		die("spool_dir %s: %s", opt.spool_dir, strerror(errno));
	sandbox_worker(id, SB_NNTP_SESSION, mon);
	signal(SIGTERM, on_sigterm);
	signal(SIGPIPE, SIG_IGN);
	netio_status_signal(log_status);
	commands_run(sess);
	sandbox_exit(0);
}
