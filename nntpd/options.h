/* options: nntpd's configuration table and the variables it fills. */
#ifndef NNTPD_OPTIONS_H
#define NNTPD_OPTIONS_H

#include "common/core/conf.h"
#include "common/core/vector.h"

struct nntpd_options {
	char *listen_address, *listen_address6;
	unsigned long listen_port;
	unsigned long max_clients, max_per_ip, shutdown_grace;
	unsigned long ipv6_prefix_len;
	unsigned long idle_session_timeout;
	char *spool_dir, *pathhost, *nopriv_user, *pid_file;
	char *session_user;
	char *metrics_file;
	unsigned long metrics_interval;
	int proxy_protocol;
	char *proxy_trusted_addresses;
	unsigned long max_article_size;
	int allow_newnews;
	struct vector access; /* "address[/prefix]|user:NAME perms [wildmat [post-wildmat]]" */
	char *motd_file;
	char *moderators_file, *mailer; /* moderation by mail */
	unsigned long mailer_timeout;
	char *subscriptions_file; /* LIST SUBSCRIPTIONS */
	struct vector distrib_pats; /* LIST DISTRIB.PATS lines, weight:pattern:value */
	char *pam_service_name;
	unsigned long delay_failed_login, max_login_fails, failed_login_backoff;
	int allow_plaintext_auth;
	char *ssl_cert_file, *ssl_key_file, *ssl_ciphers; /* no cert file: no TLS */
	unsigned long ssl_ticket_rotate;
	unsigned long implicit_ssl_port;
	struct vector peer;   /* who may feed us: address[/prefix] or user:NAME */
	struct vector feed;   /* NAME host port wildmat [streaming|ihave] [user:pass] */
	char *feed_ca_file;   /* CA certificates for tls feeds without tls-ca= */
	struct vector expire; /* "WILDMAT DAYS|never": retention (nntpctl expire) */
	unsigned long history_remember;
	unsigned long post_rate, post_burst; /* writer: per user, else per address */
	unsigned long article_cutoff_days;   /* writer: fed articles older are refused */
	char *filter, *filter_user, *filter_failure; /* no filter: "" */
	unsigned long filter_timeout;
	unsigned long report_keep_days; /* the writer's day log (nntpctl report) */
	char *cancel_policy, *canlock_secret, *control_file; /* control messages */
	char *writer_nice;         /* the writer's nice value, -20..19 */
	unsigned long reader_nice; /* nice steps a reading session takes */
	unsigned long poster_nice; /* and a posting one */
};

extern struct nntpd_options opt;
extern const struct conf_option nntpd_options_table[];

#endif
