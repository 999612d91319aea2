/* options: one row per key; nntpd.conf(5) is generated from this table. */
#include "nntpd/options.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/paths.h"
#include "common/io/proxy.h"
#include "nntpd/access.h"
#include "nntpd/feed/feed.h"
#include "nntpd/store/expire.h"

struct nntpd_options opt;

/* weight:wildmat:value, as RFC 6048 section 6 lists them. */
static const char *
check_mailer(const char *v)
{
	return v[0] == '/' ? NULL : "must start with the absolute path of the command";
}

static const char *
check_distrib_pat(const char *v)
{
	const char *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *p;

	if (c1 == NULL || c2 == NULL || c1 == v || c2 == c1 + 1 || c2[1] == '\0' ||
	    strchr(c2 + 1, ':') != NULL)
		return "expected weight:wildmat:distribution";
	for (p = v; p < c1; p++)
		if (*p < '0' || *p > '9')
			return "the weight must be a number";
	return NULL;
}

/* filter: an absolute program, then its arguments (split at spaces). */
static const char *
check_filter(const char *v)
{
	return v[0] == '\0' || v[0] == '/' ? NULL : "must start with an absolute path";
}

static const char *
check_filter_failure(const char *v)
{
	return strcmp(v, "open") == 0 || strcmp(v, "closed") == 0 ? NULL
	                                                          : "expected open or closed";
}

static const char *
check_nice(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	return end != v && *end == '\0' && n >= -20 && n <= 19 ? NULL
	                                                        : "expected a nice value, -20 to 19";
}

static const char *
check_cancel_policy(const char *v)
{
	return strcmp(v, "sender") == 0 || strcmp(v, "all") == 0 || strcmp(v, "none") == 0
	           ? NULL
	           : "must be sender, all or none";
}

/* clang-format off */
#define B(name, def, desc) {#name, CONF_BOOL, &opt.name, def, 0, 0, desc, NULL}
#define U(name, def, lo, hi, desc) {#name, CONF_UINT, &opt.name, def, lo, hi, desc, NULL}
#define S(name, def, desc) {#name, CONF_STRING, &opt.name, def, 0, 0, desc, NULL}
#define SC(name, def, chk, desc) {#name, CONF_STRING, &opt.name, def, 0, 0, desc, chk}
#define L(name, def, chk, desc) {#name, CONF_LIST, &opt.name, def, 0, 0, desc, chk}

const struct conf_option nntpd_options_table[] = {
	SC(listen_address, "0.0.0.0", conf_check_address,
	   "IPv4 (or IPv6) address to listen on; empty for none."),
	SC(listen_address6, "", conf_check_address,
	   "IPv6 address to listen on as well, e.g. ::; empty for none."),
	U(listen_port, "119", 1, 65535, "Port for NNTP connections."),
	U(max_clients, "2000", 0, 1000000,
	  "Most sessions at once (0: no limit); beyond it a client gets 400 and is closed."),
	U(max_per_ip, "50", 0, 1000000, "Most sessions from one client address (0: no limit)."),
	U(ipv6_prefix_len, "64", 32, 128,
	  "IPv6 clients are counted per block of this prefix for max_per_ip and "
	  "failed_login_backoff (one site may use any address of its /64); IPv4 per address."),
	U(shutdown_grace, "10", 0, 3600,
	  "Seconds sessions get to end after SIGTERM before they are killed."),
	U(idle_session_timeout, "1800", 1, 86400, "Seconds of idle connection before it is closed."),
	SC(spool_dir, PATH_SPOOL, conf_check_abspath,
	   "The spool: articles, active, overview, history. Sessions are chrooted here."),
	S(pathhost, "", "Name in Path, Xref and generated Message-IDs (default: the host name)."),
	S(nopriv_user, "news", "User the writer and feeders run as; it owns the spool."),
	S(session_user, "nobody",
	  "User sessions run as, with nopriv_user's group: it owns nothing in the spool."),
	S(pid_file, PATH_NNTPD_PID, "Pid file written when running in the background."),
	SC(metrics_file, "", conf_check_metrics_file,
	   "Prometheus text file (*.prom) of the counters: sessions, logins, bytes, refusals, "
	   "articles, writer batches and commit latency, feed backlog; rewritten atomically every "
	   "metrics_interval seconds for node_exporter's textfile collector (empty: none)."),
	U(metrics_interval, "15", 1, 3600, "Seconds between rewrites of metrics_file."),
	SC(writer_nice, "-5", check_nice,
	   "Nice value of the writer, which stores every post and fed article: ahead of the "
	   "sessions (nice 0), so readers cannot starve submissions of CPU (needs root; as "
	   "another user the writer keeps the listener's)."),
	U(reader_nice, "19", 0, 19,
	  "Nice steps a session takes at its first reading command (GROUP, ARTICLE, OVER, "
	  "...), as INN's nicennrpd: readers yield the CPU to submissions. 0: none."),
	U(poster_nice, "10", 0, 19,
	  "Nice steps a session takes at POST (a session that read first stays at reader_nice): "
	  "posters yield to the feeds but keep ahead of readers. A feeding peer's session "
	  "(IHAVE, CHECK, TAKETHIS) keeps the listener's priority. 0: none."),
	U(max_article_size, "1000000", 1024, 1UL << 30, "Largest article accepted, in bytes."),
	B(allow_newnews, "YES", "Answer NEWNEWS (it can be expensive on a big spool)."),
	L(access, "127.0.0.0/8 read,post,moderate *;::1/128 read,post,moderate *", access_check_rule,
	  "Access rule (repeatable): address[/prefix] read|post|read,post|none "
	  "[wildmat [post-wildmat]]; the last matching rule wins, no match means no access. "
	  "moderate added to the perms (read,post,moderate) lets POST carry Approved to a "
	  "moderated group; without it such a post is refused. "
	  "user:NAME (NAME a wildmat) instead of an address applies after AUTHINFO to the "
	  "users it names, over what the address rules gave."),
	S(motd_file, "", "File shown by LIST MOTD."),
	SC(moderators_file, PATH_NNTPD_MODERATORS, conf_check_abspath,
	   "INN's moderators file: lines of group-wildmat:address (%s is the group with each . "
	   "made -, %% a %); the first match names where an unapproved post to a moderated "
	   "group is mailed. Read again for each such post and by each session for LIST "
	   "MODERATORS; missing: no moderators."),
	SC(mailer, "/usr/sbin/sendmail -oi -oem", check_mailer,
	   "Command (absolute path, then its options; no shell) that mails a post to its "
	   "moderator: the address is added as its last argument, the article comes on stdin. "
	   "Read when the writer starts."),
	U(mailer_timeout, "30", 1, 3600,
	  "Seconds the mailer command may take for one article before it is killed and the post "
	  "refused with 441 (the writer waits meanwhile)."),
	S(subscriptions_file, PATH_NNTPD_SUBSCRIPTIONS,
	  "Default subscriptions for newsreaders (LIST SUBSCRIPTIONS, RFC 6048), as INN's "
	  "subscriptions file: one group per line, # comments; a missing file lists none."),
	L(distrib_pats, "", check_distrib_pat,
	  "LIST DISTRIB.PATS line (repeatable): weight:wildmat:distribution, e.g. 10:local.*:local."),
	S(pam_service_name, "nntpd", "PAM service for AUTHINFO USER/PASS."),
	U(delay_failed_login, "1", 0, 60, "Seconds before answering a failed AUTHINFO."),
	U(max_login_fails, "3", 1, 1000, "Failed AUTHINFO attempts before the session is closed."),
	U(failed_login_backoff, "30", 0, 3600,
	  "After a session is closed for failed logins, its address waits this many seconds "
	  "(doubling on repeats, up to an hour) before it may connect again; 0: no back-off."),
	B(allow_plaintext_auth, "NO",
	  "Accept AUTHINFO on an unencrypted connection (otherwise 483: STARTTLS first)."),
	S(ssl_cert_file, "",
	  "PEM certificate chain for TLS: STARTTLS and the implicit_ssl_port listener. "
	  "Empty: no TLS. A file that does not load stops the daemon (and nntpd -t)."),
	S(ssl_key_file, "", "PEM private key for TLS (empty: in ssl_cert_file)."),
	S(ssl_ciphers, "", "OpenSSL cipher list for TLS 1.2 (empty: OpenSSL's defaults)."),
	U(ssl_ticket_rotate, "3600", 1, 86400,
	  "Seconds between new session-ticket keys: a ticket resumes a TLS session "
	  "for one to two of these, in any process of the daemon."),
	U(implicit_ssl_port, "563", 0, 65535,
	  "Port of the implicit TLS (NNTPS) listener, when ssl_cert_file is set; 0: none."),
	L(peer, "", access_check_peer_rule,
	  "Peer allowed to feed articles with IHAVE and MODE STREAM (repeatable): an address, "
	  "address/prefix, or user:NAME (NAME a wildmat) for a user logged in with AUTHINFO; "
	  "then optionally max-connections=N (connections from that address, in place of "
	  "max_per_ip) and patterns=WILDMAT (INN's incoming.conf: an article none of whose "
	  "groups matches, or one crossposted to a group whose last match is @, is refused "
	  "437/439 by the writer, which gets the patterns with the connection's rights, and is "
	  "not remembered; one that passes is filed in all its groups). The last matching "
	  "line wins."),
	L(feed, "", feed_check_rule,
	  "Outgoing feed (repeatable): NAME host port wildmat[/distributions] [streaming|ihave] "
	  "[user:password] [<MAXBYTES] [tls] [tls-ca=/PATH]. NAME is the peer's name in Path "
	  "(articles it has seen are not sent to it); host is a numeric address or a name "
	  "resolved at start. As in INN's newsfeeds, the wildmat is matched against every group "
	  "of the Newsgroups header, the last matching pattern deciding for each: the article is "
	  "sent when one group matches, ! leaves a group out, and a group decided by @ keeps "
	  "the whole article back; /dist,!dist keeps back an article whose Distribution names "
	  "none of dist (or only !dist ones); <MAXBYTES sends only smaller articles. Wanted "
	  "articles are queued in spool/feeds/NAME and sent (default streaming, CHECK/TAKETHIS). "
	  "A reload (SIGHUP, nntpctl reload) starts and stops feeders for added, changed and "
	  "removed lines; a removed feed's queue stays on disk. tls (or tls-ca=) sends STARTTLS "
	  "first and sends nothing unless the peer answers 382 and its certificate verifies, "
	  "TLS 1.2 or later, against tls-ca (PEM CA certificates; default feed_ca_file) and "
	  "names host (a DNS name, also sent as SNI, or the IP address); otherwise the articles "
	  "stay queued, the reason is logged and the feeder retries with its back-off. "
	  "AUTHINFO then goes inside TLS."),
	SC(feed_ca_file, "/etc/ssl/certs/ca-certificates.crt", conf_check_abspath,
	   "PEM file of the CA certificates a tls feed's peer is verified against when its line "
	   "has no tls-ca=; read by each feeder as it starts, before its chroot. A CA file that does "
	   "not load stops the daemon (and nntpd -t)."),
	L(expire, "", expire_check_rule,
	  "Retention for nntpctl expire (repeatable): WILDMAT DAYS, or WILDMAT never. The last "
	  "rule whose wildmat matches a group decides; a group no rule matches keeps its articles "
	  "forever. A crossposted article goes only when every one of its groups' retention has "
	  "passed. Ages count from arrival."),
	U(history_remember, "10", 0, 36500,
	  "Days an expired article's Message-ID stays in history, so a peer offering it again is "
	  "refused (INN's /remember/)."),
	U(post_rate, "0", 0, 100000,
	  "Posts a minute the writer takes from one user (after AUTHINFO) or, without a login, "
	  "from one address, after a burst of post_burst; a post past them is refused 441 with "
	  "the seconds to wait. 0: no limit. Feeds are not limited."),
	U(post_burst, "10", 1, 100000,
	  "Posts one user or address may make at once before post_rate applies."),
	U(article_cutoff_days, "10", 0, 36500,
	  "A fed article (IHAVE, TAKETHIS) whose Date is older than this many days is refused "
	  "437/439 and not stored, so an old article offered again after its history entry "
	  "expired stays out (INN's artcutoff). 0: no cutoff. Posts are not checked."),
	SC(filter, "", check_filter,
	   "Article filter: an absolute program path, then its arguments (split at spaces), "
	   "started by the listener as filter_user and kept running beside the writer, which "
	   "asks it about every post and fed article before storing it (FILTER PROTOCOL "
	   "below). Empty: no filter. A reload with another value restarts it."),
	S(filter_user, "nobody",
	  "User the filter runs as: never root and never nopriv_user (the filter does not "
	  "own the spool); best an account of its own."),
	U(filter_timeout, "5", 1, 60,
	  "Seconds the writer waits for the filter's greeting or one answer; past it the "
	  "filter is killed and restarted, and filter_failure decides meanwhile. At most 60: "
	  "a session waits 120 s for the writer's answer."),
	SC(filter_failure, "open", check_filter_failure,
	   "While the filter is down, hung or broken: open accepts articles unfiltered, closed "
	   "refuses them with a transient error (POST 441, IHAVE 436, TAKETHIS 436)."),
	U(report_keep_days, "7", 0, 3660,
	  "Days of the writer's day log (spool/daylog/YYYY-MM-DD, one line per article decided: "
	  "accepted, refused and why, sent to a moderator) kept for nntpctl report; older days "
	  "are removed when a new day starts, and 0 keeps no day log. Taken when the writer "
	  "starts."),
	SC(cancel_policy, "sender", check_cancel_policy,
	   "Which cancel control messages (and Supersedes) remove their article. An article with a "
	   "Cancel-Lock (RFC 8315) goes only for a cancel whose Cancel-Key opens it. Without one, "
	   "sender (INN's verifycancels): the cancel's From or Sender must be the article's From "
	   "or Sender, or the cancel be posted with the moderator right; all: every cancel; none: "
	   "no cancel from a client or peer (nntpctl cancel still works). A cancel not honoured "
	   "is filed in control.cancel and logged, nothing else. Read when the writer starts."),
	S(canlock_secret, "",
	  "Secret for the Cancel-Lock nntpd adds to posts of authenticated users and the matching "
	  "Cancel-Key it adds to their cancels and Supersedes (INN's addcanlockuser), so users "
	  "cancel their own posts from any newsreader. Empty: a random secret the writer makes "
	  "once in spool_dir/canlock.secret. Read when the writer starts."),
	SC(control_file, PATH_NNTPD_CONTROL, conf_check_abspath,
	   "INN's control.ctl: lines of message:from:newsgroups:action for newgroup, rmgroup and "
	   "checkgroups control messages (message a type or all, from a wildmat of the sender's "
	   "address, newsgroups a wildmat, action doit, doit=FILE, log, log=FILE, mail (logged) "
	   "or drop); the last matching line wins, no match is log. Read when the writer starts; "
	   "missing: every such message is logged only."),
	B(proxy_protocol, "NO",
	  "Behind HAProxy: every connection starts with a PROXY v1/v2 header naming the client."),
	SC(proxy_trusted_addresses, "", proxy_check_list,
	   "Addresses and CIDR blocks (comma-separated) PROXY headers are accepted from."),
	{NULL, 0, NULL, NULL, 0, 0, NULL, NULL},
};
/* clang-format on */
