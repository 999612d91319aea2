/* listener: a ppoll loop with signals blocked except inside ppoll, so a
 * SIGCHLD or SIGTERM can never be lost between the check and the wait. */
#include "common/priv/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/core/cidr.h"
#include "common/core/log.h"
#include "common/core/number.h"
#include "common/core/pace.h"
#include "common/core/vector.h"
#include "common/core/xmalloc.h"
#include "common/io/netio.h"
#include "common/io/proxy.h"

struct child {
	pid_t pid;
	struct sockaddr_storage addr_full;
	struct addr_key key;
	int rate_slot; /* in l->rates; -1: none */
};

/* The back-off table: a fixed array of LISTENER_PENALTY_MAX entries,
 * chained from PENALTY_BUCKETS hash buckets (a random seed, so clients
 * cannot aim collisions), and a list from the one struck longest ago to
 * the newest, so a lookup and a strike cost O(1) expected and a full
 * table replaces its oldest entry. Indexes; -1 is none. */
#define PENALTY_BUCKETS 8192 /* a power of two, twice the entries */

struct penalty {
	struct addr_key key;
	unsigned strikes;
	double until; /* monotonic seconds */
	int next;     /* in its bucket */
	int older, newer;
};

/* A session's monitor reports "closed for failed logins" with this
 * queued signal (si_pid names it) before the client sees the close. */
#define SIG_PENALTY (SIGRTMIN + 1)
static pid_t listener_pid;

/* A connection from the proxy whose PROXY header is not complete yet.
 * What arrived of it is taken out of the socket into head, so poll wakes
 * only for new bytes (a peeked prefix would keep the fd readable). */
struct pending {
	int fd, tag;
	struct sockaddr_storage peer;
	double deadline; /* monotonic seconds */
	size_t have;
	unsigned char head[PROXY_MAX_HEADER];
};

/* SECURITY: at most PENDING_MAX connections wait for a header, each at
 * most PENDING_SECONDS however it trickles bytes; a newcomer beyond that
 * is refused, so a slow peer can never push out one already waiting. */
#define PENDING_MAX 256
#define PENDING_SECONDS 5

static struct pending pending[PENDING_MAX];
static size_t npending;
static volatile sig_atomic_t got_chld, got_term, got_hup, got_usr1;
static struct penalty penalties[LISTENER_PENALTY_MAX];
static int buckets[PENALTY_BUCKETS];
static size_t npenalties;
static int oldest = -1, newest = -1;
static uint64_t penalty_seed;
static struct child *children;
static size_t nchildren, children_cap;
static struct listener *the_listener;

/* A metrics source: the read end of one child's pipe (see listener.h). */
struct source {
	pid_t pid;
	int fd;
	unsigned by, peer;
};

static struct source *sources;
static size_t nsources, sources_cap;
/* The sources' read ends in one epoll set, which is one entry of the
 * listener's ppoll: a wakeup costs what is ready, not one poll entry per
 * live session (hundreds of idle readers). -1 until the first source. */
static int source_ep = -1;
/* Between listener_source_open and the fork: the new pipe. */
static struct source opening = {0, -1, 0, 0};
static int opening_wfd = -1;
static double next_metrics; /* monotonic seconds; 0: write at once */
static struct pollfd *pfds;
static size_t pfds_cap;

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

void
listener_addr_text(const struct sockaddr_storage *ss, char *out, size_t n)
{
	struct addr_key key;

	addr_key_of(ss, &key);
	if (inet_ntop(key.family, key.addr, out, (socklen_t)n) == NULL)
		snprintf(out, n, "?");
}

unsigned
listener_addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* Once a port is open a client (or an admin's SIGHUP) may come: from the
 * first bind on, signals only set flags, which the accept loop reads. */
static void
catch_signals(void)
{
	static int done;
	struct sigaction sa;

	if (done)
		return;
	done = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
listener_bind(struct listener *l, const char *addr, unsigned port, int tag, struct buffer *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, on = 1;

	catch_signals();

	if (l->nfds == LISTENER_MAX_SOCKETS) {
		buffer_printf(err, "too many listening sockets");
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		buffer_printf(err, "%s: not a numeric address", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		buffer_printf(err, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 511) < 0) {
		buffer_printf(err, "bind %s port %u: %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	l->fds[l->nfds] = fd;
	l->tags[l->nfds] = tag;
	l->nfds++;
	return 0;
}

/* ---- metrics sources ---- */

static void
count(unsigned series)
{
	if (the_listener != NULL && the_listener->metrics != NULL)
		metrics_add(the_listener->metrics, series, 0, 1);
}

void
listener_source_open(struct listener *l, unsigned by, unsigned peer)
{
	int p[2];

	the_listener = l;
	if (l->metrics == NULL)
		return;
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_msg(LOG_ERR, "metrics: pipe: %s", strerror(errno));
		return;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	opening = (struct source){0, p[0], by, peer};
	opening_wfd = p[1];
}

void
listener_forget_sources(void)
{
	for (size_t i = 0; i < nsources; i++)
		close(sources[i].fd);
	nsources = 0;
	if (source_ep >= 0)
		close(source_ep);
	source_ep = -1;
	if (opening.fd >= 0)
		close(opening.fd);
	opening.fd = -1;
}

void
listener_source_child(void)
{
	listener_forget_sources();
	metrics_report_fd(opening_wfd);
	opening_wfd = -1;
}

void
listener_source_parent(pid_t pid)
{
	if (opening_wfd >= 0)
		close(opening_wfd);
	opening_wfd = -1;
	if (opening.fd < 0)
		return;
	if (pid < 0) {
		close(opening.fd);
		opening.fd = -1;
		return;
	}
	if (nsources == sources_cap) {
		sources_cap = sources_cap ? sources_cap * 2 : 64;
		sources = xrealloc(sources, sources_cap * sizeof(*sources));
	}
	if (source_ep < 0 && (source_ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		log_msg(LOG_ERR, "metrics: epoll_create1: %s", strerror(errno));
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = opening.fd};

	if (source_ep < 0 || epoll_ctl(source_ep, EPOLL_CTL_ADD, opening.fd, &ev) < 0) {
		log_msg(LOG_ERR, "metrics: epoll_ctl: %s", strerror(errno));
		close(opening.fd);
		opening.fd = -1;
		return;
	}
	opening.pid = pid;
	sources[nsources++] = opening;
	opening.fd = -1;
}

static void
drop_source(size_t i)
{
	(void)epoll_ctl(source_ep, EPOLL_CTL_DEL, sources[i].fd, NULL);
	close(sources[i].fd);
	sources[i] = sources[--nsources];
}

/* Every record source i has written; 1 when it is gone (EOF, or a record
 * it may not send: it is not believed again). */
static int
read_source(size_t i)
{
	struct metric_rec recs[64];
	struct source *src = &sources[i];

	for (int round = 0; round < 16; round++) {
		ssize_t n = read(src->fd, recs, sizeof(recs));

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			drop_source(i);
			return 1;
		}
		if (n % (ssize_t)sizeof(recs[0]) != 0) {
			log_msg(LOG_ERR, "metrics: pid %ld sent a torn record; ignored from now",
			        (long)src->pid);
			drop_source(i);
			return 1;
		}
		for (size_t k = 0; k < (size_t)n / sizeof(recs[0]); k++) {
			/* SECURITY: a feeder speaks for its own peer only. */
			if ((src->by == METRIC_BY_FEEDER && recs[k].peer != src->peer) ||
			    metrics_apply(the_listener->metrics, &recs[k], src->by) < 0) {
				log_msg(LOG_ERR,
				        "metrics: pid %ld sent a record it may not (series %u)",
				        (long)src->pid, (unsigned)recs[k].series);
				drop_source(i);
				return 1;
			}
		}
		/* Short: drained (the epoll set says when more comes). */
		if ((size_t)n < sizeof(recs))
			return 0;
	}
	return 0;
}

/* A child ended: what it wrote before it ended still counts. */
static void
source_ended(pid_t pid)
{
	for (size_t i = 0; i < nsources; i++)
		if (sources[i].pid == pid) {
			if (!read_source(i))
				drop_source(i);
			return;
		}
}

static void
write_metrics(struct listener *l)
{
	struct buffer err = BUFFER_INIT;

	if (l->metrics == NULL || l->metrics_file == NULL || l->metrics_file[0] == '\0')
		return;
	metrics_set(l->metrics, M_SESSIONS_OPEN, 0, (double)nchildren);
	if (metrics_write_file(l->metrics, l->metrics_file, &err) < 0)
		log_msg(LOG_ERR, "%s", buffer_cstr(&err));
	buffer_free(&err);
	next_metrics = mono_seconds() + (double)(l->metrics_interval ? l->metrics_interval : 15);
}

static size_t
penalty_bucket(const struct addr_key *key)
{
	static int ready;

	if (!ready) {
		ready = 1;
		if (getrandom(&penalty_seed, sizeof(penalty_seed), 0) != sizeof(penalty_seed))
			penalty_seed = (uint64_t)mono_seconds() ^ (uint64_t)getpid() << 32;
		for (size_t i = 0; i < PENALTY_BUCKETS; i++)
			buckets[i] = -1;
	}
	return (size_t)(addr_key_hash(key, penalty_seed) & (PENALTY_BUCKETS - 1));
}

static int
penalty_find(const struct addr_key *key)
{
	for (int i = buckets[penalty_bucket(key)]; i >= 0; i = penalties[i].next)
		if (addr_key_equal(&penalties[i].key, key))
			return i;
	return -1;
}

static void
penalty_unlink_age(int i)
{
	struct penalty *p = &penalties[i];

	if (p->older >= 0)
		penalties[p->older].newer = p->newer;
	else
		oldest = p->newer;
	if (p->newer >= 0)
		penalties[p->newer].older = p->older;
	else
		newest = p->older;
}

static void
penalty_push_newest(int i)
{
	penalties[i].older = newest;
	penalties[i].newer = -1;
	if (newest >= 0)
		penalties[newest].newer = i;
	else
		oldest = i;
	newest = i;
}

/* The oldest entry leaves its bucket and the age list; its slot is reused. */
static int
penalty_evict_oldest(void)
{
	int i = oldest, *link = &buckets[penalty_bucket(&penalties[i].key)];

	while (*link != i)
		link = &penalties[*link].next;
	*link = penalties[i].next;
	penalty_unlink_age(i);
	return i;
}

double
listener_penalty_strike(const struct addr_key *key, double now, unsigned long backoff_seconds)
{
	int i = penalty_find(key);
	struct penalty *p;
	double wait;

	if (i < 0) {
		i = npenalties == LISTENER_PENALTY_MAX ? penalty_evict_oldest() : (int)npenalties++;
		p = &penalties[i];
		memset(p, 0, sizeof(*p));
		p->key = *key;
		p->next = buckets[penalty_bucket(key)];
		buckets[penalty_bucket(key)] = i;
	} else {
		p = &penalties[i];
		penalty_unlink_age(i);
		/* Forget strikes whose back-off ended an hour ago. */
		if (p->until + 3600 < now)
			p->strikes = 0;
	}
	penalty_push_newest(i);
	p->strikes++;
	wait = (double)backoff_seconds * (double)(1U << (p->strikes > 7 ? 6 : p->strikes - 1));
	p->until = now + (wait > 3600 ? 3600 : wait);
	return p->until;
}

double
listener_penalty_until(const struct addr_key *key)
{
	int i = penalty_find(key);

	return i < 0 ? 0 : penalties[i].until;
}

size_t
listener_penalty_count(void)
{
	return npenalties;
}

/* The key a client is counted as, under the prefix now configured.
 * SECURITY: an IPv6 site may use any address of its /64; counted per
 * address, it would get max_per_ip and a fresh back-off per address. */
static void
counted_key(const struct listener *l, const struct addr_key *full, struct addr_key *out)
{
	*out = *full;
	if (l->ipv6_prefix_len > 0)
		addr_key_prefix(out, (unsigned)l->ipv6_prefix_len);
}

/* SECURITY: brute force across sessions: each session closed for failed
 * logins doubles how long its address (IPv6: its ipv6_prefix_len block)
 * must wait before the next one. */
static void
penalize(const struct child *c)
{
	struct listener *l = the_listener;
	struct addr_key key;

	if (l == NULL || l->backoff_seconds == 0)
		return;
	counted_key(l, &c->key, &key);
	listener_penalty_strike(&key, mono_seconds(), l->backoff_seconds);
}

/* Take every penalty report queued so far (the signal stays blocked; it
 * is read here, before any accept and any reap, so it is never late). */
static void
drain_penalties(void)
{
	struct timespec zero = {0, 0};
	siginfo_t info;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIG_PENALTY);
	while (sigtimedwait(&set, &info, &zero) > 0)
		for (size_t i = 0; i < nchildren; i++)
			if (children[i].pid == info.si_pid) {
				penalize(&children[i]);
				break;
			}
}

void
listener_report_penalty(void)
{
	if (listener_pid > 0 && getppid() == listener_pid)
		kill(listener_pid, SIG_PENALTY);
}

static void
reap(void)
{
	pid_t pid;
	int status;

	drain_penalties();
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int session = 0;

		source_ended(pid);
		for (size_t i = 0; i < nchildren && !session; i++)
			if (children[i].pid == pid) {
				if (the_listener != NULL && the_listener->rates != NULL)
					ratebuckets_release(the_listener->rates,
					                    children[i].rate_slot);
				children[i] = children[--nchildren];
				session = 1;
			}
		if (!session && the_listener != NULL && the_listener->other_exit != NULL)
			the_listener->other_exit(pid, status);
	}
}

/* Sessions from the block key (already cut to the prefix) names. */
static size_t
count_addr(const struct listener *l, const struct addr_key *key)
{
	struct addr_key k;
	size_t n = 0;

	for (size_t i = 0; i < nchildren; i++) {
		counted_key(l, &children[i].key, &k);
		n += addr_key_equal(&k, key);
	}
	return n;
}

/* Refuse without reading: one short line, then close. */
static void
refuse(int fd, const char *line, const char *addr, const char *why)
{
	log_msg(LOG_NOTICE, "refused c=%s: %s", addr, why);
	if (write(fd, line, strlen(line)) < 0) {
		/* The client is gone; nothing to tell it. */
	}
	close(fd);
}

/* The limits a new connection must pass before a session is forked; 1
 * when it was refused (and closed). */
static int
refused_at_door(struct listener *l, int fd, const struct addr_key *full, const char *text)
{
	struct addr_key key;

	if (l->max_clients > 0 && nchildren >= l->max_clients) {
		count(M_REFUSED_MAX_CLIENTS);
		refuse(fd, l->busy_reply, text, "max_clients reached");
		return 1;
	}
	drain_penalties();
	counted_key(l, full, &key);
	if (l->backoff_reply != NULL && listener_penalty_until(&key) > mono_seconds()) {
		count(M_REFUSED_BACKOFF);
		refuse(fd, l->backoff_reply, text, "address in back-off after failed logins");
		return 1;
	}
	unsigned long own = l->addr_limit != NULL ? l->addr_limit(full) : 0;

	if ((own > 0 || l->max_per_ip > 0) &&
	    count_addr(l, &key) >= (own > 0 ? own : l->max_per_ip)) {
		count(M_REFUSED_MAX_PER_IP);
		refuse(fd, l->per_ip_reply, text,
		       own > 0 ? "the address's own connection limit reached"
		               : "max_per_ip reached");
		return 1;
	}
	return 0;
}

/* In the forked child: nothing of the listener's stays but fd. */
static void
run_session(struct listener *l, int fd, const struct sockaddr_storage *peer, int tag, int slot)
{
	sigset_t none;

	setpgid(0, 0);
	if (l->rates != NULL)
		ratebuckets_attach(l->rates, slot);
	for (int i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	for (size_t i = 0; i < npending; i++)
		close(pending[i].fd);
	listener_source_child();
	/* Only workers answer SIGUSR1 (with a status line). */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	l->session(fd, peer, tag);
	_exit(0);
}

static void
add_child(pid_t pid, const struct sockaddr_storage *peer, const struct addr_key *key, int slot)
{
	if (nchildren == children_cap) {
		children_cap = children_cap ? children_cap * 2 : 64;
		children = xrealloc(children, children_cap * sizeof(*children));
	}
	children[nchildren].pid = pid;
	children[nchildren].addr_full = *peer;
	children[nchildren].key = *key;
	children[nchildren].rate_slot = slot;
	nchildren++;
}

static void
start_session(struct listener *l, int fd, const struct sockaddr_storage *peer, int tag)
{
	struct addr_key key, counted;
	char text[INET6_ADDRSTRLEN];
	int slot = -1;
	pid_t pid;

	addr_key_of(peer, &key);
	listener_addr_text(peer, text, sizeof(text));
	if (refused_at_door(l, fd, &key, text))
		return;
	/* The rate bucket is per block, as max_per_ip counts. */
	counted_key(l, &key, &counted);
	if (l->rates != NULL && (slot = ratebuckets_acquire(l->rates, &counted)) < 0) {
		close(fd); /* no bucket, no rate limit: not started (logged) */
		return;
	}
	listener_source_open(l, METRIC_BY_MONITOR | METRIC_BY_WORKER, 0);
	pid = fork();
	if (pid != 0 && l->rates != NULL)
		ratebuckets_forked(l->rates, slot);
	if (pid < 0) {
		log_msg(LOG_ERR, "fork: %s", strerror(errno));
		listener_source_parent(-1);
		if (l->rates != NULL)
			ratebuckets_release(l->rates, slot);
		close(fd);
		return;
	}
	if (pid == 0)
		run_session(l, fd, peer, tag, slot);
	listener_source_parent(pid);
	count(M_SESSIONS_TOTAL);
	setpgid(pid, pid);
	close(fd);
	add_child(pid, peer, &key, slot);
}

static void
drop_pending(size_t i, const char *why)
{
	char text[INET6_ADDRSTRLEN];

	listener_addr_text(&pending[i].peer, text, sizeof(text));
	if (why != NULL) {
		count(M_REFUSED_PROXY);
		log_msg(LOG_NOTICE, "refused c=%s: %s", text, why);
	}
	close(pending[i].fd);
	pending[i] = pending[--npending];
}

/* SECURITY: a PROXY header is believed only from proxy_trusted; from
 * anywhere else, or malformed, or missing, the connection is closed. */
static void
hold_for_proxy(struct listener *l, int fd, const struct sockaddr_storage *peer, int tag)
{
	char text[INET6_ADDRSTRLEN];

	if (l->proxy_trusted == NULL || !proxy_trusted(l->proxy_trusted, peer)) {
		listener_addr_text(peer, text, sizeof(text));
		log_msg(LOG_NOTICE, "refused c=%s: PROXY protocol from an untrusted address", text);
		count(M_REFUSED_PROXY);
		close(fd);
		return;
	}
	if (npending == PENDING_MAX) {
		listener_addr_text(peer, text, sizeof(text));
		log_msg(LOG_NOTICE, "refused c=%s: too many connections waiting for a PROXY header",
		        text);
		count(M_REFUSED_PROXY);
		close(fd);
		return;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	pending[npending].fd = fd;
	pending[npending].tag = tag;
	pending[npending].peer = *peer;
	pending[npending].deadline = mono_seconds() + PENDING_SECONDS;
	pending[npending].have = 0;
	npending++;
}

/* Take from the socket exactly n bytes of the header; 0 or -1. */
static int
take_header(struct pending *p, size_t n)
{
	if (recv(p->fd, p->head + p->have, n, 0) != (ssize_t)n)
		return -1;
	p->have += n;
	return 0;
}

/* Peek at what arrived after the part already taken; take the bytes that
 * belong to the header (never more), then start the session as the
 * client it names. Returns 1 when pending[i] is gone. */
static int
read_proxy(struct listener *l, size_t i)
{
	struct pending *p = &pending[i];
	struct sockaddr_storage src;
	size_t used = 0;
	ssize_t n = recv(p->fd, p->head + p->have, sizeof(p->head) - p->have, MSG_PEEK);
	enum proxy_result r;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		drop_pending(i, "closed before a PROXY header");
		return 1;
	}
	r = proxy_parse(p->head, p->have + (size_t)n, &src, &used);
	if (r == PROXY_INCOMPLETE) {
		/* Every byte of an incomplete header is header: take them all. */
		if (p->have + (size_t)n == sizeof(p->head) || take_header(p, (size_t)n) < 0) {
			drop_pending(i, "malformed PROXY header");
			return 1;
		}
		return 0;
	}
	if (r == PROXY_BAD) {
		drop_pending(i, "malformed or missing PROXY header");
		return 1;
	}
	if (used < p->have || take_header(p, used - p->have) < 0) {
		drop_pending(i, "PROXY header read failed");
		return 1;
	}
	{
		struct pending done = *p;

		pending[i] = pending[--npending];
		start_session(l, done.fd, r == PROXY_OK ? &src : &done.peer, done.tag);
	}
	return 1;
}

static void
accept_all(struct listener *l, int idx)
{
	for (int burst = 0; burst < 64; burst++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(l->fds[idx], (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		int on = 1;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_msg(LOG_ERR, "accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				usleep(10000);
			return;
		}
		/* Replies leave in one write each; never wait on Nagle. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (l->proxy_protocol)
			hold_for_proxy(l, fd, &peer, l->tags[idx]);
		else
			start_session(l, fd, &peer, l->tags[idx]);
	}
}

static void
shutdown_sessions(struct listener *l)
{
	time_t deadline = time(NULL) + (time_t)l->grace_seconds;

	for (int i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	log_msg(LOG_INFO, "shutting down: %zu session(s) to end", nchildren);
	for (size_t i = 0; i < nchildren; i++)
		kill(-children[i].pid, SIGTERM);
	while (nchildren > 0 && time(NULL) < deadline) {
		reap();
		if (nchildren > 0)
			usleep(20000);
	}
	for (size_t i = 0; i < nchildren; i++)
		kill(-children[i].pid, SIGKILL);
	while (nchildren > 0 && waitpid(-1, NULL, 0) > 0)
		reap();
	reap();
}

/* Signals are held back everywhere but inside ppoll (old: the mask ppoll
 * waits with). */
static void
block_signals(sigset_t *old)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIG_PENALTY);
	sigprocmask(SIG_BLOCK, &block, old);
}

static void
log_status(void)
{
	/* Each session's worker logs its own status line. */
	log_msg(LOG_INFO, "status: %zu live session(s)", nchildren);
	for (size_t i = 0; i < nchildren; i++) {
		char text[INET6_ADDRSTRLEN];

		listener_addr_text(&children[i].addr_full, text, sizeof(text));
		log_msg(LOG_INFO, "status: session pid %ld c=%s", (long)children[i].pid, text);
		kill(-children[i].pid, SIGUSR1);
	}
}

/* What the signal handlers flagged since the last round. */
static void
handle_signal_flags(struct listener *l)
{
	if (got_chld) {
		got_chld = 0;
		reap();
	}
	if (got_usr1) {
		got_usr1 = 0;
		log_status();
	}
	if (got_hup) {
		got_hup = 0;
		if (l->reload != NULL && l->reload() != 0)
			log_msg(LOG_ERR, "SIGHUP: configuration has errors; keeping the old one");
		else
			log_msg(LOG_INFO, "SIGHUP: configuration re-read for new sessions");
	}
}

/* The listening sockets, then the np connections waiting for a PROXY
 * header, then the sources' epoll set (when there is one); how many
 * entries. */
static nfds_t
fill_pollfds(const struct listener *l, size_t np)
{
	size_t need = (size_t)l->nfds + np + (source_ep >= 0);

	if (need + 1 > pfds_cap) { /* + 1: the aux descriptor */
		pfds_cap = need + 64;
		pfds = xrealloc(pfds, pfds_cap * sizeof(*pfds));
	}
	for (int i = 0; i < l->nfds; i++)
		pfds[i] = (struct pollfd){.fd = l->fds[i], .events = POLLIN};
	for (size_t i = 0; i < np; i++)
		pfds[l->nfds + i] = (struct pollfd){.fd = pending[i].fd, .events = POLLIN};
	if (source_ep >= 0)
		pfds[(size_t)l->nfds + np] = (struct pollfd){.fd = source_ep, .events = POLLIN};
	return (nfds_t)need;
}

/* The sources the epoll set has ready, found by fd: a reap since may
 * have moved or dropped some. Level-triggered: one that has more than a
 * round's worth left is ready again next time. */
static void
serve_sources(void)
{
	struct epoll_event ev[64];
	int n = epoll_wait(source_ep, ev, 64, 0);

	for (int k = 0; k < n; k++)
		for (size_t i = 0; i < nsources; i++)
			if (sources[i].fd == ev[k].data.fd) {
				read_source(i);
				break;
			}
}

static void
serve_ready(struct listener *l, const struct pollfd *pfd, size_t np, int sources_ready)
{
	double now = mono_seconds();

	if (sources_ready)
		serve_sources();
	/* Pending entries first (backwards: handling one may move the
	 * last into its place), then new connections. SECURITY: the
	 * deadline holds whether or not bytes keep arriving. */
	for (size_t i = np; i-- > 0;) {
		if (pfd[l->nfds + i].revents != 0 && read_proxy(l, i))
			continue;
		if (pending[i].deadline <= now)
			drop_pending(i, "no PROXY header in time");
	}
	for (int i = 0; i < l->nfds; i++)
		if (pfd[i].revents & POLLIN)
			accept_all(l, i);
}

/* How long ppoll may sleep: until the nearest PROXY deadline, the next
 * metrics file, or until the tick wants to run again. */
static struct timespec *
next_deadline(const struct listener *l, struct timespec *ts)
{
	double wait = l->tick != NULL ? l->tick() : -1, now = mono_seconds();
	int have = wait >= 0;

	for (size_t i = 0; i < npending; i++)
		if (!have || pending[i].deadline - now < wait) {
			wait = pending[i].deadline - now;
			have = 1;
		}
	if (l->metrics != NULL && l->metrics_file != NULL && l->metrics_file[0] != '\0' &&
	    (!have || next_metrics - now < wait)) {
		wait = next_metrics - now;
		have = 1;
	}
	if (!have)
		return NULL;
	if (wait < 0)
		wait = 0;
	ts->tv_sec = (time_t)wait;
	ts->tv_nsec = (long)((wait - (double)ts->tv_sec) * 1e9) + 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
	return ts;
}

void
listener_run(struct listener *l)
{
	sigset_t old;

	catch_signals();
	block_signals(&old);
	/* The penalty signal stays blocked in ppoll too: it is only read. */
	sigaddset(&old, SIG_PENALTY);
	listener_pid = getpid();
	the_listener = l;
	while (!got_term) {
		struct timespec ts;
		size_t np = npending;
		int ep = source_ep >= 0;
		nfds_t nfds = fill_pollfds(l, np);
		int aux = l->aux_ready != NULL && l->aux_fd >= 0;

		if (aux) /* fill_pollfds leaves room for it */
			pfds[nfds++] = (struct pollfd){.fd = l->aux_fd, .events = POLLIN};
		int n = ppoll(pfds, nfds, next_deadline(l, &ts), &old);

		handle_signal_flags(l);
		if (n >= 0)
			serve_ready(l, pfds, np, ep && pfds[(size_t)l->nfds + np].revents != 0);
		if (n > 0 && aux && pfds[nfds - 1].revents != 0)
			l->aux_ready();
		if (mono_seconds() >= next_metrics)
			write_metrics(l);
	}
	shutdown_sessions(l);
	write_metrics(l);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int
listener_adopt_systemd(struct listener *l)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	struct vector v = VECTOR_INIT;
	uint64_t n, p;

	catch_signals();
	if (pid == NULL || fds == NULL || number_parse(pid, 1, UINT32_MAX, &p) < 0 ||
	    (pid_t)p != getpid() || number_parse(fds, 1, LISTENER_MAX_SOCKETS, &n) < 0)
		return 0;
	if (names != NULL)
		vector_split(&v, names, ':');
	for (uint64_t i = 0; i < n && l->nfds < LISTENER_MAX_SOCKETS; i++) {
		int fd = 3 + (int)i;

		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		l->fds[l->nfds] = fd;
		l->tags[l->nfds] = i < v.count && strcmp(v.strings[i], "implicit") == 0;
		l->nfds++;
	}
	vector_free(&v);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

void
listener_inetd(struct listener *l)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3), null, on = 1;

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
		die("inetd mode: standard input is not a connected socket");
	/* Nothing stray may reach the client through stdin or stdout. */
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	signal(SIGPIPE, SIG_IGN);
	l->session(fd, &peer, 0);
}
