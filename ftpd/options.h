/* options: ftpd's configuration table (vsftpd's names where vsftpd has the
 * option) and the variables it fills. */
#ifndef FTPD_OPTIONS_H
#define FTPD_OPTIONS_H

#include "common/core/conf.h"

struct ftpd_options {
	char *listen_address, *listen_address6;
	unsigned long listen_port;
	char *ftpd_banner;
	unsigned long max_clients, max_per_ip, shutdown_grace;
	unsigned long ipv6_prefix_len;
	int anonymous_enable, local_enable, guest_enable, virtual_use_local_privs, write_enable;
	char *anon_root, *ftp_username, *guest_username, *local_root, *userlist_file;
	int chroot_local_user, allow_writeable_chroot;
	int anon_upload_enable, anon_mkdir_write_enable, anon_other_write_enable;
	int anon_world_readable_only, chown_uploads, hide_ids, delete_failed_uploads;
	char *chown_username;
	unsigned long anon_umask, local_umask, file_open_mode;
	char *pam_service_name, *nopriv_user, *secure_chroot_dir;
	int session_support;
	int connect_from_port_20, port_enable, pasv_enable;
	unsigned long ftp_data_port, pasv_min_port, pasv_max_port;
	char *pasv_address;
	int pasv_promiscuous, port_promiscuous;
	int xferlog_enable;
	char *xferlog_file;
	unsigned long idle_session_timeout, data_connection_timeout, accept_timeout,
	    connect_timeout;
	unsigned long delay_failed_login, max_login_fails, failed_login_backoff;
	unsigned long anon_max_rate, local_max_rate;
	char *pid_file;
	int proxy_protocol;
	char *proxy_trusted_addresses;
	int ssl_enable, allow_anon_ssl, force_local_logins_ssl, force_local_data_ssl;
	int require_ssl_reuse, implicit_ssl;
	unsigned long implicit_ssl_port;
	char *ssl_cert_file, *ssl_key_file, *ssl_ciphers;
};

extern struct ftpd_options opt;
extern const struct conf_option ftpd_options_table[];

#endif
