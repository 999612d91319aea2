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
ftp_worker(struct ftp_session *s, struct sandbox_id *id, enum worker_kind kind)
{
	if (kind != WORKER_PRELOGIN) {
		/* The root the monitor opened and checked: the file tree hangs
		 * from the same directory the chroot enters. */
		int fd = fcntl(s->root_fd, F_DUPFD_CLOEXEC, 0);

		/* A WORKER_ANON keeps the key until its login, for AUTH TLS
		 * or implicit TLS, as a pre-login worker does. */
		if (kind == WORKER_POSTLOGIN)
			pi_forget_key(s);
		pi_prepare(s);
		if (fd < 0)
			die("session root %s: %s", s->root_path, strerror(errno));
		fs_root_init_fd(&s->fs, fd);
	}
	s->anon_direct = kind == WORKER_ANON;
	sandbox_worker(id, kind == WORKER_PRELOGIN ? SB_FTP_PRELOGIN : SB_FTP_SESSION, s->monitor);
	pi_run(s);
	sandbox_exit(0);
}
