/* banner: a file's lines go out as the first lines of a multi-line reply
 * ("220-line"), so no text in a file can end the reply early. */
#include "ftpd/pi/banner.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io/fileio.h"
#include "ftpd/options.h"
#include "ftpd/pi/reply.h"

/* vsftpd's VSFTP_MAX_MSGFILE_SIZE and VSFTP_MAX_VISIT_REMEMBER. */
#define MESSAGE_MAX 4000
#define VISITED_MAX 100

static void
text_lines(struct ftp_session *s, int code, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		size_t n = (size_t)(nl - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		conn_printf(&s->ctl, "%d-", code);
		conn_append(&s->ctl, p, n);
		conn_append(&s->ctl, "\r\n", 2);
		p = nl + 1;
	}
}

void
banner_greet(struct ftp_session *s)
{
	if (ftpd_loaded.banner == NULL) {
		reply(s, FTP_SERVICE_READY, "%s", opt.ftpd_banner);
		return;
	}
	/* As vsftpd: the file's lines, then a bare "220 ". */
	text_lines(s, FTP_SERVICE_READY, ftpd_loaded.banner, strlen(ftpd_loaded.banner));
	reply(s, FTP_SERVICE_READY, "%s", "");
}

static int
visited(struct ftp_session *s, const char *dir)
{
	for (size_t i = 0; i < s->visited.count; i++)
		if (strcmp(s->visited.strings[i], dir) == 0)
			return 1;
	if (s->visited.count < VISITED_MAX)
		vector_add(&s->visited, dir);
	return 0;
}

void
banner_dir_message(struct ftp_session *s, int code)
{
	struct buffer v = BUFFER_INIT, text = BUFFER_INIT;
	struct stat st;
	int fd;

	if (!opt.dirmessage_enable || visited(s, s->fs.cwd))
		return;
	/* Through the session root like any path; O_NONBLOCK so a FIFO
	 * planted under the name cannot hang the session. */
	if (fs_resolve(&s->fs, NULL, opt.message_file, &v) < 0 ||
	    (fd = fs_open(&s->fs, buffer_cstr(&v), O_RDONLY | O_NONBLOCK, 0)) < 0) {
		buffer_free(&v);
		return;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read_upto(fd, &text, MESSAGE_MAX) >= 0)
		text_lines(s, code, buffer_head(&text), text.len);
	close(fd);
	buffer_free(&v);
	buffer_free(&text);
}
