/* worker: how a worker the monitor forked starts: into the sandbox, then
 * the PI. Alone in its file, so a test can link its own worker in its
 * place and attack the monitor from inside the sandbox (tests/attack/). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/xmalloc.h"
#include "common/priv/sandbox.h"
#include "ftpd/pi/fs.h"
#include "ftpd/pi/pi.h"

void
ftp_worker(struct ftp_session *s, struct sandbox_id *id, int postlogin)
{
	if (postlogin) {
		/* The root the monitor opened and checked: the file tree hangs
		 * from the same directory the chroot enters. */
		int fd = fcntl(s->root_fd, F_DUPFD_CLOEXEC, 0);

		/* The key stays, even in a clear session: AUTH TLS after
		 * login is done here (see monitor/monitor.c, who holds it). */
		pi_prepare(s);
		if (fd < 0)
			die("session root %s: %s", s->root_path, strerror(errno));
		fs_root_init_fd(&s->fs, fd);
	}
	sandbox_worker(id, postlogin ? SB_FTP_SESSION : SB_FTP_PRELOGIN, s->monitor);
	pi_run(s);
	exit(0);
}
