/* paths: every filesystem path the daemons use by default, in one place. */
#ifndef POSTEL_PATHS_H
#define POSTEL_PATHS_H

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc/postel"
#endif

#define PATH_FTPD_CONF SYSCONFDIR "/ftpd.conf"
#define PATH_NNTPD_CONF SYSCONFDIR "/nntpd.conf"
#define PATH_FTPD_USER_LIST SYSCONFDIR "/ftpd.user_list"
#define PATH_FTPD_CHROOT_LIST SYSCONFDIR "/ftpd.chroot_list"
#define PATH_FTPD_PID "/run/postel-ftpd.pid"
#define PATH_FTPD_SESSIONS "/run/postel/ftpd-sessions"
/* In a session root with quotas: its usage (ftpd/dtp/quota.c). */
#define FTPD_QUOTA_NAME ".ftpquota"
#define PATH_NNTPD_PID "/run/postel-nntpd.pid"
#define PATH_NNTPD_MODERATORS SYSCONFDIR "/moderators"
/* LIST SUBSCRIPTIONS: INN's subscriptions file (one group per line). */
#define PATH_NNTPD_SUBSCRIPTIONS SYSCONFDIR "/nntpd.subscriptions"
#define PATH_NNTPD_CONTROL SYSCONFDIR "/nntpd-control.ctl"
#define PATH_EMPTY "/var/lib/postel/empty"
#define PATH_HOOK_QUEUE "/var/lib/postel/hooks"
/* The FTP hook runner's socket, inside hook_queue_dir. */
#define PATH_HOOK_SOCKET_NAME "runner.sock"
#define PATH_FTP_ROOT "/srv/ftp"
#define PATH_XFERLOG "/var/log/postel/xferlog"
#define PATH_SPOOL "/var/spool/postel/news"
#define PATH_CERT SYSCONFDIR "/tls/cert.pem"
#define PATH_KEY SYSCONFDIR "/tls/key.pem"

#endif
