/* commands: the FTP command handlers, in pi.c (login, session, TLS),
 * cmd_fs.c (the tree: directories, names, facts, SITE) and cmd_data.c
 * (data connections, transfers, listings), and what they share. */
#ifndef FTPD_COMMANDS_H
#define FTPD_COMMANDS_H

#include <stddef.h>

#include "common/core/buffer.h"
#include "ftpd/pi/reply.h"
#include "ftpd/session.h"

typedef void ftp_handler(struct ftp_session *s, const char *arg);

/* pi.c */
ftp_handler cmd_user, cmd_pass, cmd_acct, cmd_rein, cmd_quit, cmd_noop, cmd_syst, cmd_host,
    cmd_opts, cmd_auth, cmd_pbsz, cmd_prot, cmd_ccc;
/* cmd_fs.c */
ftp_handler cmd_cwd, cmd_cdup, cmd_pwd, cmd_mkd, cmd_rmd, cmd_dele, cmd_rnfr, cmd_rnto, cmd_size,
    cmd_mdtm, cmd_mfmt, cmd_mfct, cmd_avbl, cmd_site;
/* cmd_data.c */
ftp_handler cmd_rest, cmd_allo, cmd_type, cmd_mode, cmd_stru, cmd_pasv, cmd_epsv, cmd_port,
    cmd_eprt, cmd_retr, cmd_stor, cmd_appe, cmd_stou, cmd_list, cmd_nlst, cmd_mlsd, cmd_mlst,
    cmd_abor, cmd_stat;
/* cmd_hash.c */
ftp_handler cmd_hash, cmd_rang, cmd_xsha256, cmd_xsha512, cmd_xsha1, cmd_xmd5, cmd_xcrc;
/* OPTS HASH [algorithm] (arg: what follows "HASH"). */
void hash_opts(struct ftp_session *s, const char *arg);
/* The FEAT line of HASH, with the session's algorithm starred. */
void hash_feat(struct ftp_session *s, char *out, size_t cap);

/* What a write needs; pi_may_write replies 550 (and logs) when refused. */
enum write_right { W_UPLOAD, W_MKDIR, W_OTHER };
int pi_may_write(struct ftp_session *s, enum write_right what);
/* Whether the session has anonymous rights: anonymous, or a virtual user
 * without virtual_use_local_privs. */
int is_anon(const struct ftp_session *s);
/* A client path to a virtual path in out; replies 553 and returns -1 if too long. */
int resolve(struct ftp_session *s, const char *arg, struct buffer *out);
void pi_exit(struct ftp_session *s) __attribute__((noreturn));
void pi_strip_telnet(char *line);
/* Names for listings, read before the chroot. */
void data_prepare(void);

#endif
