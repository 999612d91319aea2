/* options: ftpd's configuration table (vsftpd's names where vsftpd has the
 * option) and the variables it fills. */
#ifndef FTPD_OPTIONS_H
#define FTPD_OPTIONS_H

#include <netinet/in.h>

#include "common/core/conf.h"

struct ftpd_options {
	char *listen_address, *listen_address6;
	unsigned long listen_port;
	char *ftpd_banner, *banner_file;
	unsigned long max_clients, max_per_ip, shutdown_grace;
	unsigned long ipv6_prefix_len;
	int anonymous_enable, local_enable, guest_enable, virtual_use_local_privs, write_enable;
	char *anon_root, *ftp_username, *guest_username, *local_root, *userlist_file;
	char *user_sub_token, *user_config_dir, *chroot_list_file;
	int userlist_enable, userlist_deny, chroot_list_enable;
	int chroot_local_user, allow_writeable_chroot;
	char *deny_file, *hide_file, *message_file;
	int dirmessage_enable;
	int anon_upload_enable, anon_mkdir_write_enable, anon_other_write_enable, mdtm_write;
	int anon_world_readable_only, chown_uploads, hide_ids, delete_failed_uploads;
	int upload_atomic, upload_fsync;
	unsigned long upload_partial_keep;
	char *chown_username;
	unsigned long anon_umask, local_umask, file_open_mode;
	char *pam_service_name, *nopriv_user, *secure_chroot_dir;
	int session_support;
	int connect_from_port_20, port_enable, pasv_enable;
	unsigned long ftp_data_port, pasv_min_port, pasv_max_port;
	char *pasv_address;
	int pasv_promiscuous, port_promiscuous, pasv_addr_resolve;
	int xferlog_enable;
	char *xferlog_file;
	unsigned long idle_session_timeout, data_connection_timeout, accept_timeout,
	    connect_timeout;
	unsigned long delay_failed_login, max_login_fails, failed_login_backoff;
	unsigned long anon_max_rate, local_max_rate;
	unsigned long upload_max_rate, download_max_rate;
	unsigned long max_rate_per_ip_download, max_rate_per_ip_upload;
	unsigned long max_rate_total_download, max_rate_total_upload;
	unsigned long quota_bytes, quota_files, max_sessions_per_user;
	unsigned long max_list_entries;
	int ls_recurse_enable;
	unsigned long ls_recurse_max_depth, ls_recurse_max_entries;
	char *session_lock_dir;
	char *pid_file;
	char *metrics_file;
	unsigned long metrics_interval;
	int proxy_protocol;
	char *proxy_trusted_addresses;
	int ssl_enable, allow_anon_ssl, force_local_logins_ssl, force_local_data_ssl;
	int require_ssl_reuse, implicit_ssl;
	unsigned long implicit_ssl_port;
	char *ssl_cert_file, *ssl_key_file, *ssl_ciphers;
	char *upload_hook, *hook_events, *hook_user, *hook_queue_dir;
	unsigned long hook_timeout, hook_max_tries;
};

/* What an upload hook is told about (hook_events' words, in this order). */
enum hook_kind { HOOK_UPLOAD, HOOK_DELETE, HOOK_RENAME, HOOK_KIND_COUNT };

extern struct ftpd_options opt;
extern const struct conf_option ftpd_options_table[];
/* The keys a user_config_dir file may set (NULL-terminated). */
extern const char *const ftpd_user_keys[];

/* What the files the configuration names hold, read with it. */
struct ftpd_loaded {
	char *banner;             /* banner_file's text, or NULL */
	struct vector userlist;   /* userlist_file's names, with userlist_enable */
	struct in_addr pasv_addr; /* pasv_address resolved (0 when empty) */
};
extern struct ftpd_loaded ftpd_loaded;

/* After every load (start, SIGHUP, -t): check what the table cannot
 * (pasv_address, the files named, each user_config_dir file) and read
 * banner_file and userlist_file into ftpd_loaded (left as it was on any
 * error). Errors are appended as "FILE:LINE: key: reason"; returns how many. */
int options_prepare(struct buffer *errors);
/* Read a file of names (one per line, '#' comments). 0, or -1/errno. */
int options_read_names(const char *path, struct vector *names);
/* Whether user is in names ("anonymous" and "ftp" name one account). */
int options_name_listed(const struct vector *names, const char *user);
/* userlist_enable: whether user is refused (at USER, and at the login). */
int options_user_refused(const char *user);
/* Whether user can be a file name or a path component of its own: not
 * empty, no '/', not "." or "..". */
int options_user_name_ok(const char *user);
/* user_config_dir: apply the file named user over opt (apply 0: only
 * check it). 0 when it applied or there is none; -1 with errors. */
int options_user_file(const char *user, int apply, struct buffer *errors);
/* upload_hook: whether events of kind run it (hook_events names kind). */
int options_hook_wanted(enum hook_kind kind);
/* "upload", "delete", "rename"; NULL for no kind. */
const char *options_hook_kind_name(enum hook_kind kind);
/* The kind a hook_events word names, or -1. */
int options_hook_kind(const char *word, size_t len);

#endif
