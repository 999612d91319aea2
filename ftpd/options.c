/* options: one row per key: name, type, variable, default, range, and the
 * line the man page prints. ftpd.conf(5) is generated from this table. */
#include "ftpd/options.h"

#include <stddef.h>

#include "common/core/paths.h"
#include "common/io/proxy.h"

struct ftpd_options opt;

/* clang-format off */
#define B(name, def, desc) {#name, CONF_BOOL, &opt.name, def, 0, 0, desc, NULL}
#define U(name, def, lo, hi, desc) {#name, CONF_UINT, &opt.name, def, lo, hi, desc, NULL}
#define O(name, def, desc) {#name, CONF_OCTAL, &opt.name, def, 0, 0777, desc, NULL}
#define S(name, def, desc) {#name, CONF_STRING, &opt.name, def, 0, 0, desc, NULL}
#define SC(name, def, chk, desc) {#name, CONF_STRING, &opt.name, def, 0, 0, desc, chk}

const struct conf_option ftpd_options_table[] = {
	SC(listen_address, "0.0.0.0", conf_check_address,
	   "IPv4 (or IPv6) address to listen on; empty for none."),
	SC(listen_address6, "", conf_check_address,
	   "IPv6 address to listen on as well, e.g. ::; empty for none."),
	U(listen_port, "21", 1, 65535, "Port for FTP control connections."),
	S(ftpd_banner, "Postel FTP server ready.", "Text of the 220 greeting."),
	U(max_clients, "2000", 0, 1000000,
	  "Most sessions at once (0: no limit); beyond it a client gets 421 and is closed."),
	U(max_per_ip, "50", 0, 1000000,
	  "Most sessions from one client address (0: no limit); beyond it 421."),
	U(ipv6_prefix_len, "64", 32, 128,
	  "IPv6 clients are counted per block of this prefix for max_per_ip and "
	  "failed_login_backoff (one site may use any address of its /64); IPv4 per address."),
	U(shutdown_grace, "10", 0, 3600,
	  "Seconds sessions get to end after SIGTERM before they are killed."),
	B(anonymous_enable, "YES", "Allow anonymous logins (users anonymous and ftp)."),
	B(local_enable, "NO", "Allow local users to log in through PAM."),
	B(guest_enable, "NO", "Map every non-anonymous PAM login to guest_username (virtual users)."),
	B(virtual_use_local_privs, "NO",
	  "Virtual users get local users' rights (else anonymous users' anon_* rights)."),
	B(write_enable, "NO", "Allow any command that changes the filesystem."),
	SC(anon_root, PATH_FTP_ROOT, conf_check_abspath,
	   "Directory anonymous sessions are chrooted to."),
	S(ftp_username, "ftp", "User anonymous sessions run as."),
	S(guest_username, "ftp", "User virtual (guest) sessions run as."),
	S(local_root, "", "Directory local users start in (and are chrooted to) instead of home."),
	S(userlist_file, "", "File of user names (one per line) that may never log in."),
	B(chroot_local_user, "YES", "Chroot local users to their home (or local_root)."),
	B(allow_writeable_chroot, "NO", "Allow a chroot root the session user can write to."),
	B(anon_upload_enable, "NO", "Let anonymous users upload (needs write_enable)."),
	B(anon_mkdir_write_enable, "NO", "Let anonymous users create directories."),
	B(anon_other_write_enable, "NO",
	  "Let anonymous users delete, rename and overwrite (a public drop should say NO)."),
	B(anon_world_readable_only, "YES", "Anonymous users download only world-readable files."),
	B(chown_uploads, "NO", "Give anonymous uploads to chown_username."),
	S(chown_username, "root", "Owner of anonymous uploads when chown_uploads=YES."),
	B(hide_ids, "NO", "Show every owner and group as ftp in listings."),
	B(delete_failed_uploads, "NO", "Remove the partial file of a failed or aborted upload."),
	O(anon_umask, "077", "Umask for anonymous uploads (077: readable by nobody)."),
	O(local_umask, "022", "Umask for files local users create."),
	O(file_open_mode, "0666", "Mode uploads are created with, before the umask."),
	S(pam_service_name, "ftpd", "PAM service for local and guest logins."),
	B(session_support, "YES",
	  "Open a PAM session for local and guest logins (pam_limits, pam_loginuid apply)."),
	S(nopriv_user, "nobody", "Unprivileged user sessions run as before login."),
	SC(secure_chroot_dir, PATH_EMPTY, conf_check_abspath,
	   "Empty directory, not writable by nopriv_user, for the pre-login chroot."),
	B(connect_from_port_20, "NO",
	  "Active mode connects from ftp_data_port (needs root). The monitor connects, only to "
	  "the client's address (any with port_promiscuous), never to a port below 1024 or "
	  "2049, and the session gets the connected socket."),
	U(ftp_data_port, "20", 1, 65535, "Source port of active connections."),
	B(port_enable, "YES", "Allow active mode (PORT, EPRT)."),
	B(pasv_enable, "YES", "Allow passive mode (PASV, EPSV)."),
	U(pasv_min_port, "0", 0, 65535, "Lowest passive port (0: any)."),
	U(pasv_max_port, "0", 0, 65535, "Highest passive port (0: any)."),
	S(pasv_address, "", "IPv4 address to advertise in PASV replies (behind NAT)."),
	B(pasv_promiscuous, "NO", "Accept passive data connections from any address."),
	B(port_promiscuous, "NO", "Allow PORT/EPRT to any address and port (FTP bounce)."),
	B(xferlog_enable, "YES", "Write one xferlog line per transfer."),
	S(xferlog_file, PATH_XFERLOG, "The xferlog file (wu-ftpd format)."),
	U(idle_session_timeout, "300", 1, 86400, "Seconds of idle control connection before 421."),
	U(data_connection_timeout, "300", 1, 86400, "Seconds a stalled transfer may wait."),
	U(accept_timeout, "60", 1, 3600, "Seconds to wait for a passive data connection."),
	U(connect_timeout, "60", 1, 3600, "Seconds to wait for an active data connection."),
	U(delay_failed_login, "1", 0, 60, "Seconds before answering a failed login."),
	U(max_login_fails, "3", 1, 1000, "Failed logins before the session is closed."),
	U(failed_login_backoff, "30", 0, 3600,
	  "After a session is closed for failed logins, its address waits this many seconds "
	  "before it may connect again, doubling with each repeat up to an hour (0: never)."),
	U(anon_max_rate, "0", 0, 1UL << 40, "Bytes per second per anonymous session (0: no limit)."),
	U(local_max_rate, "0", 0, 1UL << 40, "Bytes per second per local session (0: no limit)."),
	S(pid_file, PATH_FTPD_PID, "Pid file written when running in the background."),
	B(ssl_enable, "NO", "Offer FTPS: AUTH TLS on the control port (RFC 4217)."),
	B(allow_anon_ssl, "NO", "Let anonymous sessions use TLS."),
	B(force_local_logins_ssl, "YES",
	  "With ssl_enable, local and virtual users must AUTH TLS before sending a password."),
	B(force_local_data_ssl, "YES",
	  "With ssl_enable, local and virtual users' data connections must be encrypted (PROT P)."),
	B(require_ssl_reuse, "YES",
	  "A TLS data connection must resume the control connection's TLS session, "
	  "proving it comes from the same client (else 522)."),
	B(implicit_ssl, "NO", "Also listen on implicit_ssl_port for implicit FTPS (TLS from the start)."),
	U(implicit_ssl_port, "990", 1, 65535, "Port of the implicit FTPS listener."),
	S(ssl_cert_file, PATH_CERT, "PEM certificate chain for TLS."),
	S(ssl_key_file, PATH_KEY, "PEM private key for TLS (readable by root only)."),
	S(ssl_ciphers, "", "OpenSSL cipher list for TLS 1.2 (empty: OpenSSL's defaults)."),
	B(proxy_protocol, "NO",
	  "Behind HAProxy: every connection starts with a PROXY v1/v2 header naming the client."),
	SC(proxy_trusted_addresses, "", proxy_check_list,
	   "Addresses and CIDR blocks (comma-separated) PROXY headers are accepted from."),
	{NULL, 0, NULL, NULL, 0, 0, NULL, NULL},
};
/* clang-format on */
