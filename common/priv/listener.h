/* listener: bind (IPv4 and IPv6), accept, enforce max_clients and
 * max_per_ip before a session starts, fork one child per session, reap.
 * It never reads a byte the client sends. */
#ifndef POSTEL_LISTENER_H
#define POSTEL_LISTENER_H

#include <sys/socket.h>
#include <sys/types.h>

#include "common/core/buffer.h"
#include "common/core/cidr.h"
#include "common/core/metrics.h"
#include "common/priv/ratebuckets.h"

#define LISTENER_MAX_SOCKETS 8

struct listener {
	int fds[LISTENER_MAX_SOCKETS];
	int tags[LISTENER_MAX_SOCKETS];
	int nfds;
	/* Limits, re-read from here for every accept (SIGHUP may change them). */
	unsigned long max_clients;
	unsigned long max_per_ip;
	/* A limit of an address's own in place of max_per_ip (NULL, or 0
	 * returned: none); nntpd: a peer's max-connections. */
	unsigned long (*addr_limit)(const struct addr_key *full);
	/* max_per_ip and back-off count an IPv6 client per block of this
	 * prefix (0: per address); IPv4 is always per address. */
	unsigned long ipv6_prefix_len;
	unsigned long grace_seconds;
	const char *busy_reply;    /* sent when max_clients is reached */
	const char *per_ip_reply;  /* sent when max_per_ip is reached */
	const char *backoff_reply; /* sent to an address in back-off */
	/* PROXY protocol (v1/v2): every connection must start with a header,
	 * from an address in proxy_trusted; the client is who it names. */
	int proxy_protocol;
	const char *proxy_trusted;
	unsigned long backoff_seconds; /* 0: no back-off */
	/* In the child: serve the session on fd and return (the child exits). */
	void (*session)(int fd, const struct sockaddr_storage *peer, int tag);
	/* On SIGHUP: re-read the configuration; nonzero keeps the old one. */
	int (*reload)(void);
	/* A child the daemon started itself (not a session) ended. */
	void (*other_exit)(pid_t pid, int status);
	/* Called at every wake-up (NULL: none); returns the seconds until it
	 * must be called again, or <0 for never (daemon_listen sets it to the
	 * session-ticket key rotation). */
	double (*tick)(void);
	/* One more descriptor the accept loop watches (NULL: none): when
	 * aux_fd is readable, aux_ready runs (nntpd: its writer's channel). */
	void (*aux_ready)(void);
	int aux_fd;
	/* metrics_file: the registry the listener keeps (NULL: none), the
	 * file it rewrites every metrics_interval seconds ("": none). */
	struct metrics *metrics;
	const char *metrics_file;
	unsigned long metrics_interval;
	/* Aggregate rate buckets (NULL: none): each session gets its
	 * address's slot, mapped before l->session runs. */
	struct ratebuckets *rates;
};

/* Bind addr:port (numeric IPv4 or IPv6) and listen; tag is handed to the
 * session (e.g. which socket is implicit TLS). -1 with a reason in err. */
int listener_bind(struct listener *l, const char *addr, unsigned port, int tag, struct buffer *err);
/* systemd socket activation: adopt the sockets in LISTEN_FDS (without
 * libsystemd); a socket named "implicit" in LISTEN_FDNAMES gets tag 1.
 * Returns how many were adopted (0: not socket-activated). */
int listener_adopt_systemd(struct listener *l);
/* inetd mode (-i; xinetd, systemd Accept=yes): serve the one connection on
 * stdin as a session, in this process. */
void listener_inetd(struct listener *l);
/* Accept loop until SIGTERM or SIGINT; then sessions get SIGTERM, and
 * after grace_seconds whatever remains gets SIGKILL. */
void listener_run(struct listener *l);
/* In a session's monitor, before it closes a connection for too many
 * failed logins: the listener puts the address in back-off (new
 * connections refused for backoff_seconds, doubling with each repeat, up
 * to an hour) before the client can see the close and reconnect. */
void listener_report_penalty(void);
/* The back-off table (public for tests/unit/penalty-t.c). strike: one
 * more session closed for key (a block, see addr_key_prefix) at now;
 * returns when its back-off ends. until: when key's ends (0: never
 * struck). SECURITY: it holds at most LISTENER_PENALTY_MAX blocks; a new
 * one beyond that replaces the one struck longest ago. */
#define LISTENER_PENALTY_MAX 4096
double listener_penalty_strike(const struct addr_key *key, double now,
                               unsigned long backoff_seconds);
double listener_penalty_until(const struct addr_key *key);
size_t listener_penalty_count(void);
/* Metrics sources. Each session, and each child of the daemon's own that
 * reports (nntpd's writer, a feeder), gets a pipe whose read end only the
 * listener holds: every record it reads is that child's, and may only
 * touch the series its kind of source may report (metrics_apply); a
 * feeder's only its own peer's. Around such a fork: listener_source_open
 * (by: METRIC_BY_ bits; peer: a feeder's index), then in the child
 * listener_source_child, in the parent listener_source_parent(pid) (pid
 * < 0: the fork failed). Nothing happens when no registry is set. The
 * child reports with metrics_report (common/core/metrics.h). */
void listener_source_open(struct listener *l, unsigned by, unsigned peer);
void listener_source_child(void);
void listener_source_parent(pid_t pid);
/* In a child that reports nothing (a hook runner): drop every read end. */
void listener_forget_sources(void);
/* Text form of an address, v4-mapped IPv6 shown as IPv4. */
void listener_addr_text(const struct sockaddr_storage *ss, char *out, size_t n);
/* Port of an address (host order). */
unsigned listener_addr_port(const struct sockaddr_storage *ss);

#endif
