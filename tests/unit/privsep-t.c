/* privsep-t: the monitor channel's framing: ps_encode/ps_decode without
 * sockets, ps_send/ps_recv over a real pair, and the PS_LOGIN payload. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/priv/privsep.h"
#include "tap.h"

static struct ps_msg m;

/* Hand-made datagram: header fields chosen freely, then len payload bytes. */
static size_t
raw(unsigned char *out, uint32_t type, uint32_t hlen, const void *payload, size_t len)
{
	memcpy(out, &type, 4);
	memcpy(out + 4, &hlen, 4);
	if (len > 0)
		memcpy(out + 8, payload, len);
	return 8 + len;
}

static int
decode(const unsigned char *d, size_t n)
{
	return ps_decode(&m, d, n, 0, 0, -1);
}

/* The lowest free descriptor: unchanged across a call means nothing leaked. */
static int
lowest_free_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

static int
login(const void *payload, size_t len, size_t max_user, const char **user, const char **pass)
{
	unsigned char d[PS_MAX_DGRAM];
	size_t n = ps_encode(d, sizeof(d), PS_LOGIN, payload, len);

	*user = *pass = NULL;
	if (n == 0 || decode(d, n) < 0)
		return -2;
	return ps_login_parse(&m, max_user, user, pass);
}

/* sendmsg an empty PS_CHOWN with n descriptors attached. */
static ssize_t
send_fds(int sock, const int *fds, size_t n)
{
	unsigned char d[PS_HEADER_SIZE];
	union {
		struct cmsghdr c;
		char space[CMSG_SPACE(sizeof(int) * 8)];
	} u;
	struct iovec iov = {d, raw(d, PS_CHOWN, 0, NULL, 0)};
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = u.space,
	                     .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(sock, &msg, 0);
}

static void
test_encode_decode(void)
{
	unsigned char d[PS_MAX_DGRAM + 16], big[PS_MAX_PAYLOAD + 1];
	size_t n;

	n = ps_encode(d, sizeof(d), PS_HANDOFF, "abc", 3);
	is_int(PS_HEADER_SIZE + 3, n, "encode: header plus payload");
	ok(decode(d, n) == 0, "round trip: decodes");
	is_int(PS_HANDOFF, m.type, "round trip: type");
	is_int(3, m.len, "round trip: length");
	is_string("abc", m.data, "round trip: payload, NUL-terminated");
	is_int(-1, m.fd, "round trip: no fd");

	n = ps_encode(d, sizeof(d), PS_OK, NULL, 0);
	ok(n == PS_HEADER_SIZE && decode(d, n) == 0 && m.type == PS_OK && m.len == 0 &&
	       m.data[0] == '\0',
	   "round trip: empty payload");

	memset(big, 'x', sizeof(big));
	n = ps_encode(d, sizeof(d), PS_HANDOFF, big, PS_MAX_PAYLOAD);
	ok(n == PS_MAX_DGRAM && decode(d, n) == 0 && m.len == PS_MAX_PAYLOAD &&
	       m.data[PS_MAX_PAYLOAD] == '\0' && m.data[PS_MAX_PAYLOAD - 1] == 'x',
	   "round trip: payload of exactly PS_MAX_PAYLOAD");
	is_int(0, ps_encode(d, sizeof(d), PS_HANDOFF, big, PS_MAX_PAYLOAD + 1),
	       "encode refuses a payload over PS_MAX_PAYLOAD");
	is_int(0, ps_encode(d, PS_HEADER_SIZE + 2, PS_HANDOFF, "abc", 3),
	       "encode refuses a buffer too small");

	n = ps_encode(d, sizeof(d), PS_CHOWN, NULL, 0);
	ok(ps_decode(&m, d, n, 0, 1, 42) == 0 && m.fd == 42, "one fd is passed on");
	ok(ps_decode(&m, d, n, 0, 2, 42) == -1 && m.fd == -1, "two fds are refused");
	ok(ps_decode(&m, d, n, 1, 0, -1) == -1, "a truncated datagram is refused");
}

static void
test_malformed(void)
{
	unsigned char d[PS_MAX_DGRAM + 16] = {0}, big[PS_MAX_PAYLOAD + 1] = {0};

	m.fd = 7;
	ok(decode(d, 0) == -1 && m.fd == -1, "empty datagram refused, fd reset");
	raw(d, PS_OK, 0, NULL, 0);
	ok(decode(d, 7) == -1, "short header (7 bytes) refused");
	ok(decode(d, 4) == -1, "type without a length refused");
	ok(decode(d, raw(d, PS_HANDOFF, 4, "abc", 3)) == -1, "length over the datagram refused");
	ok(decode(d, raw(d, PS_HANDOFF, 2, "abc", 3)) == -1, "length under the datagram refused");
	ok(decode(d, raw(d, PS_HANDOFF, UINT32_MAX, "abc", 3)) == -1, "length 0xffffffff refused");
	ok(decode(d, raw(d, 0, 0, NULL, 0)) == -1, "type 0 refused");
	ok(decode(d, raw(d, PS_TYPE_MAX, 0, NULL, 0)) == -1, "type PS_TYPE_MAX refused");
	ok(decode(d, raw(d, UINT32_MAX, 0, NULL, 0)) == -1, "type 0xffffffff refused");
	ok(decode(d, raw(d, PS_HANDOFF_END, 0, NULL, 0)) == 0, "the last type is accepted");
	ok(decode(d, raw(d, PS_HANDOFF, PS_MAX_PAYLOAD + 1, big, PS_MAX_PAYLOAD + 1)) == -1,
	   "payload over PS_MAX_PAYLOAD refused, even with a matching length");
}

static void
test_login_parse(void)
{
	const char *user, *pass;
	char longname[40];
	unsigned char d[64];

	ok(login("alice\0secret", 13, 32, &user, &pass) == 0, "login: user and password");
	is_string("alice", user, "login: user");
	is_string("secret", pass, "login: password");
	ok(login("bob\0", 5, 32, &user, &pass) == 0 && strcmp(user, "bob") == 0 && *pass == '\0',
	   "login: empty password accepted");
	is_int(-1, login("\0pw", 4, 32, &user, &pass), "login: empty user refused");
	is_int(-1, login("alice", 5, 32, &user, &pass), "login: no NUL at all refused");
	is_int(-1, login("alice\0", 6, 32, &user, &pass), "login: no second NUL refused");
	is_int(-1, login("alice\0secret", 12, 32, &user, &pass),
	       "login: password without its NUL refused");
	is_int(-1, login("alice\0secret\0x", 15, 32, &user, &pass),
	       "login: bytes after the password refused");
	is_int(-1, login("alice\0se\0cret", 14, 32, &user, &pass), "login: a third NUL refused");
	is_int(-1, login("", 0, 32, &user, &pass), "login: empty payload refused");
	memset(longname, 'u', 33);
	memcpy(longname + 33, "\0pw", 4);
	is_int(-1, login(longname, 37, 32, &user, &pass), "login: user over max_user refused");
	is_int(0, login(longname + 1, 36, 32, &user, &pass), "login: user of exactly max_user");
	ok(decode(d, raw(d, PS_HANDOFF, 13, "alice\0secret", 13)) == 0 &&
	       ps_login_parse(&m, 32, &user, &pass) == -1,
	   "login: a well-formed payload of another type refused");
}

static void
test_socket(void)
{
	int sv[2], p[2], fds[6], before;
	unsigned char d[PS_MAX_DGRAM + 64];
	struct ps_msg r;
	char text[64];

	if (ps_pair(sv) < 0 || pipe(p) < 0) {
		ok(0, "socketpair and pipe");
		return;
	}
	ok(ps_send(sv[1], PS_HANDOFF, "hello", 5, -1) == 0 && ps_recv(sv[0], &r) == 0 &&
	       r.type == PS_HANDOFF && r.len == 5 && strcmp(r.data, "hello") == 0 && r.fd == -1,
	   "send/recv: payload over the socket");
	ok(ps_send(sv[1], PS_CHOWN, NULL, 0, p[1]) == 0 && ps_recv(sv[0], &r) == 0 && r.fd >= 0 &&
	       r.fd != p[1] && write(r.fd, "z", 1) == 1 && read(p[0], text, 1) == 1 &&
	       text[0] == 'z',
	   "send/recv: the fd arrives and refers to the same pipe");
	ok(r.fd >= 0 && (fcntl(r.fd, F_GETFD) & FD_CLOEXEC), "send/recv: received fd is CLOEXEC");
	if (r.fd >= 0)
		close(r.fd);
	ok(ps_send(sv[1], PS_HANDOFF, d, PS_MAX_PAYLOAD + 1, -1) == -1,
	   "send refuses an oversized payload");

	/* Forged datagrams, as a compromised worker would write them. */
	before = lowest_free_fd();
	ok(send(sv[1], d, raw(d, PS_HANDOFF, 9, "abc", 3), 0) == 11 && ps_recv(sv[0], &r) == -1,
	   "recv refuses a length that disagrees with the datagram");
	ok(send(sv[1], d, 5, 0) == 5 && ps_recv(sv[0], &r) == -1, "recv refuses a short header");
	memset(d, 0, sizeof(d));
	raw(d, PS_HANDOFF, PS_MAX_PAYLOAD + 1, NULL, 0);
	ok(send(sv[1], d, PS_MAX_DGRAM + 1, 0) == PS_MAX_DGRAM + 1 && ps_recv(sv[0], &r) == -1,
	   "recv refuses a datagram the buffer cannot hold");

	fds[0] = p[0];
	fds[1] = p[1];
	ok(send_fds(sv[1], fds, 2) == 8 && ps_recv(sv[0], &r) == -1 && r.fd == -1,
	   "recv refuses a message with two fds");
	for (int i = 0; i < 6; i++)
		fds[i] = p[i % 2];
	ok(send_fds(sv[1], fds, 6) == 8 && ps_recv(sv[0], &r) == -1 && r.fd == -1,
	   "recv refuses more fds than its control buffer holds (MSG_CTRUNC)");
	ok(send(sv[1], d, raw(d, 99, 0, NULL, 0), 0) == 8 && ps_recv(sv[0], &r) == -1,
	   "recv refuses an unknown type");
	is_int(before, lowest_free_fd(), "refused messages leak no descriptor");
	ok(send(sv[1], d, raw(d, PS_HANDOFF, 0, NULL, 0), 0) == 8 && ps_recv(sv[0], &r) == 0,
	   "the channel still works after refusals");

	/* ps_login against a monitor whose answer is already queued. */
	{
		struct buffer out = BUFFER_INIT;
		const char *user, *pass;
		int fatal = -1;

		ok(ps_send(sv[0], PS_OK, "pamuser", 7, -1) == 0 &&
		       ps_login(sv[1], "alice", "pw", &fatal, &out, NULL) == 0 && fatal == 0 &&
		       out.len == 7 && memcmp(buffer_head(&out), "pamuser", 7) == 0,
		   "ps_login: accepted, PS_OK payload appended");
		ok(ps_recv(sv[0], &r) == 0 && ps_login_parse(&r, 32, &user, &pass) == 0 &&
		       strcmp(user, "alice") == 0 && strcmp(pass, "pw") == 0,
		   "ps_login: the monitor parses what the worker sent");
		buffer_clear(&out);
		ok(ps_login_refuse(sv[0], 1, "go away") == 0 &&
		       ps_login(sv[1], "alice", "bad", &fatal, &out, NULL) == -1 && fatal == 1 &&
		       out.len == 7 && memcmp(buffer_head(&out), "go away", 7) == 0,
		   "ps_login: a fatal refusal and its reason");
		ps_recv(sv[0], &r);
		buffer_clear(&out);
		ok(ps_login_refuse(sv[0], 0, "") == 0 &&
		       ps_login(sv[1], "alice", "bad", &fatal, &out, NULL) == -1 && fatal == 0 &&
		       out.len == 0,
		   "ps_login: a non-fatal refusal without reason");
		ps_recv(sv[0], &r);
		{
			/* An acceptance carrying a descriptor (a WORKER_ANON's quota
			 * file): the caller gets it; NULL closes it, as does a refusal. */
			int got = -2, fd0 = lowest_free_fd();

			ok(ps_send(sv[0], PS_OK, NULL, 0, p[0]) == 0 &&
			       ps_login(sv[1], "anonymous", "a@", &fatal, &out, &got) == 0 &&
			       got >= 0 && got != p[0],
			   "ps_login: the descriptor of an acceptance goes to the caller");
			if (got >= 0)
				close(got);
			ps_recv(sv[0], &r);
			ok(ps_send(sv[0], PS_OK, NULL, 0, p[0]) == 0 &&
			       ps_login(sv[1], "anonymous", "a@", &fatal, &out, NULL) == 0,
			   "ps_login: without fd the descriptor is closed");
			ps_recv(sv[0], &r);
			ok(ps_send(sv[0], PS_FAIL, "R", 1, p[0]) == 0 &&
			       ps_login(sv[1], "anonymous", "a@", &fatal, &out, &got) == -1 &&
			       got == -1,
			   "ps_login: a refusal passes no descriptor");
			ps_recv(sv[0], &r);
			is_int(fd0, lowest_free_fd(), "ps_login leaks no descriptor");
		}
		memset(d, 'p', PS_MAX_PAYLOAD);
		d[PS_MAX_PAYLOAD - 1] = '\0';
		ok(ps_login(sv[1], "alice", (const char *)d, &fatal, &out, NULL) == -1,
		   "ps_login: a request over PS_MAX_PAYLOAD is not sent");
		buffer_free(&out);
	}
	close(sv[1]);
	ok(ps_recv(sv[0], &r) == -1, "recv: EOF is -1");
	close(sv[0]);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	test_encode_decode();
	test_malformed();
	test_login_parse();
	test_socket();
	return tap_done();
}
