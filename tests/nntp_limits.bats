#!/usr/bin/env bats
# Limits kept by the writer: post_rate and post_burst per user after
# AUTHINFO, else per client address (441 with the seconds to wait, across
# sessions), and article_cutoff_days refusing fed articles with an old or
# unparseable Date (437/439, not stored, remembered). Python's nntplib posts
# and feeds; tests/lib/nntppeer.py sends TAKETHIS.

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	load lib/common
	pam_userdb_add nntpd-limits alice alicepw bob bobpw
}

teardown_file() {
	load lib/common
	pam_userdb_remove
}

setup() {
	load lib/common
	load lib/nntp
	PEER=$POSTEL_ROOT/tests/lib/nntppeer.py
	A=$BATS_TEST_TMPDIR/art
	mkdir -p "$A"
}

teardown() {
	postel_teardown
}

# limits_py SCRIPT [args]: Python with nntplib; P is the port, ARGS the
# rest. post(s, tag) posts one article to local.test and returns the reply
# line or the refusal's; connect(user, source) logs in when user is set and
# binds source (default 127.0.0.1); check(cond, what) prints or fails.
limits_py() {
	local script=$1
	shift
	timeout 120 python3 -W ignore - "${NNTPD_PORT:?}" "$@" <<EOF
import email.utils, nntplib, socket, sys, time
P = int(sys.argv[1])
ARGS = sys.argv[2:]
def check(cond, what):
    if not cond:
        print("FAIL", what, flush=True)
        sys.exit(1)
    print("ok", what, flush=True)
class From(nntplib.NNTP):
    source = "127.0.0.1"
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))
def connect(user=None, source="127.0.0.1"):
    From.source = source
    s = From("127.0.0.1", P, timeout=30)
    if user:
        s.login(user, user + "pw")
    return s
def post(s, tag):
    art = ("From: Poster <poster@example.com>\r\nNewsgroups: local.test\r\n"
           "Subject: %s\r\n\r\nHello from %s.\r\n" % (tag, tag)).encode()
    try:
        return s.post(art)
    except nntplib.NNTPError as e:
        return str(e)
def fed(mid, date):
    return ("Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\n"
            "Newsgroups: local.test\r\nSubject: fed\r\nDate: %s\r\nMessage-ID: %s\r\n"
            "\r\nFed.\r\n" % (date, mid)).encode()
def days_ago(n):
    return email.utils.formatdate(time.time() - n * 86400, usegmt=True)
def ihave(s, mid, date):
    try:
        return s.ihave(mid, fed(mid, date))
    except nntplib.NNTPError as e:
        return str(e)
$script
EOF
}

# count GROUP: the article count GROUP answers.
count() {
	nntp_session "GROUP $1" QUIT | awk '$1 == 211 { print $2 }'
}

@test "post_rate: a user's flood gets 441 with the wait after the burst, another user posts on" {
	[ -n "${VPAMSVC:-}" ] || skip "PAM users need root (/etc/pam.d)"
	nntp_up -o allow_plaintext_auth=YES -o "pam_service_name=$VPAMSVC" \
		-o post_rate=1 -o post_burst=3
	run limits_py '
a = connect("alice")
for i in range(3):
    r = post(a, "alice %d" % i)
    check(r.startswith("240"), "alice post %d in the burst: %s" % (i, r))
r = post(a, "alice 3")
check(r.startswith("441"), "alice past the burst: %s" % r)
check("try again in" in r, "with a retry hint")
n = int(r.split("try again in ")[1].split()[0])
check(1 <= n <= 60, "the wait is at most one interval (%d s)" % n)
a.quit()
a = connect("alice")
r = post(a, "alice 4")
check(r.startswith("441"), "a new session of alice is still limited: %s" % r)
b = connect("bob")
for i in range(3):
    r = post(b, "bob %d" % i)
    check(r.startswith("240"), "bob posts normally (%d): %s" % (i, r))
'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count local.test)" = 6 ]
	grep -q 'writer: post from user:alice refused: rate exceeded' "$NNTPD_LOG"
	run nntpctl_run status
	grep -qx 'post_rate: 1/min burst 3' <<<"$output"
}

@test "post_rate: without a login the address is the poster; another loopback address posts on" {
	nntp_up -o post_rate=2 -o post_burst=2
	run limits_py '
s = connect()
check(post(s, "one").startswith("240") and post(s, "two").startswith("240"), "two at once")
r = post(s, "three")
check(r.startswith("441") and "try again in" in r, "the third from 127.0.0.1: %s" % r)
t = connect()
r = post(t, "four")
check(r.startswith("441"), "another session from 127.0.0.1 too: %s" % r)
o = connect(source="127.0.0.2")
r = post(o, "other")
check(r.startswith("240"), "127.0.0.2 posts: %s" % r)
'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count local.test)" = 3 ]
}

@test "post_rate 0 (the default): no limit" {
	nntp_up -o post_burst=1
	run limits_py '
s = connect()
for i in range(5):
    r = post(s, "free %d" % i)
    check(r.startswith("240"), "post %d: %s" % (i, r))
'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "nntpctl reload: a new post_rate holds at once for the running writer, and 0 lifts it" {
	nntp_up
	printf 'post_rate=1\npost_burst=1\n' >"$NNTPD_CONF"
	run nntpctl_run reload
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'post_rate: 1/min burst 1' <<<"$output"
	run limits_py '
s = connect()
check(post(s, "first").startswith("240"), "the burst of one")
r = post(s, "second")
check(r.startswith("441") and "try again in" in r, "then 441: %s" % r)
'
	echo "$output"
	[ "$status" -eq 0 ]
	printf 'post_rate=0\n' >"$NNTPD_CONF"
	run nntpctl_run reload
	[ "$status" -eq 0 ]
	grep -qx 'post_rate: 0/min burst 10' <<<"$output"
	run limits_py 'check(post(connect(), "third").startswith("240"), "no limit again")'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "article_cutoff_days: an old or undated fed article is refused, not stored, and remembered; a fresh one is stored" {
	nntp_up -o peer=127.0.0.1
	run limits_py '
s = connect()
r = ihave(s, "<old@peer.example>", days_ago(11))
check(r.startswith("437") and "Too old" in r, "11 days old, default cutoff 10: %s" % r)
r = ihave(s, "<bad@peer.example>", "the other day")
check(r.startswith("437") and "Date" in r, "an unparseable Date: %s" % r)
r = ihave(s, "<new@peer.example>", days_ago(9))
check(r.startswith("235"), "9 days old: %s" % r)
r = ihave(s, "<old@peer.example>", days_ago(11))
check(r.startswith("435"), "the old one offered again is remembered: %s" % r)
for mid in ("<old@peer.example>", "<bad@peer.example>"):
    try:
        s.stat(mid)
        check(False, "%s stored" % mid)
    except nntplib.NNTPTemporaryError as e:
        check(str(e).startswith("430"), "%s not stored: %s" % (mid, e))
check(s.stat("<new@peer.example>")[2] == "<new@peer.example>", "the fresh one is stored")
'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(count local.test)" = 1 ]
	old=$(date -u -R -d '12 days ago')
	printf 'Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\nNewsgroups: local.test\r\nSubject: fed\r\nDate: %s\r\nMessage-ID: <t1@peer.example>\r\n\r\nFed.\r\n' "$old" >"$A/t1"
	run timeout 60 python3 "$POSTEL_ROOT/tests/lib/nntppeer.py" 127.0.0.1 "$NNTPD_PORT" \
		"cmd:MODE STREAM" "takethis:<t1@peer.example>=$A/t1"
	echo "$output"
	grep -q '^439 <t1@peer.example> Too old' <<<"$output"
	[ "$(count local.test)" = 1 ]
}

@test "article_cutoff_days=0 stores a fed article of any age" {
	nntp_up -o peer=127.0.0.1 -o article_cutoff_days=0
	run limits_py '
s = connect()
r = ihave(s, "<ancient@peer.example>", days_ago(4000))
check(r.startswith("235"), "4000 days old: %s" % r)
check(s.stat("<ancient@peer.example>")[2] == "<ancient@peer.example>", "stored")
'
	echo "$output"
	[ "$status" -eq 0 ]
}
