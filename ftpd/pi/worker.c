/* worker: how a worker the monitor forked starts: into the sandbox, then
 * the PI. Alone in its file, so a test can link its own worker in its
 * place and attack the monitor from inside the sandbox (tests/attack/). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/xmalloc.h"
#include "common/io/tls.h"
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

		/* SECURITY: a session that logged in without TLS keeps no
		 * copy of the key; AUTH TLS asks the monitor for it then. */
		if (!s->tls && ftp_tls_ctx != NULL) {
			tls_ctx_free(ftp_tls_ctx);
			ftp_tls_ctx = NULL;
			s->tls_key_at_monitor = 1;
		}
		pi_prepare(s);
		if (fd < 0)
			die("session root %s: %s", s->root_path, strerror(errno));
		fs_root_init_fd(&s->fs, fd);
	}
	sandbox_worker(id, postlogin ? SB_FTP_SESSION : SB_FTP_PRELOGIN, s->monitor);
	pi_run(s);
	sandbox_exit(0);
}
