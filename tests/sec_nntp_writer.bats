#!/usr/bin/env bats
# writer.sock, attacked from the sessions' side and from any local account:
# the rights a connection may submit with travel with the connection (its
# monitor sends them first, as root), never in a frame a client sends. Each
# refusal is checked by the writer's reply code, and that nothing reached
# the spool by ARTICLE <message-id> from an ordinary client.

# setup_file and teardown_file: a certificate and a PAM user (lib/nntpsec).
load lib/nntpsec

setup() {
	load lib/common
	load lib/nntp
	load lib/nntpsec
	TAG=t$$-$BATS_TEST_NUMBER
}

teardown() {
	postel_teardown
}

# The readers' rules every test here starts from: 127.0.0.1 may read all
# and post to local.test only; no peer= lines.
writer_up() {
	nntp_up -o 'access=127.0.0.0/8 read,post * local.test' "$@" || return 1
	nntpctl_run newgroup local.other y "Outside the post wildmat" >/dev/null
}

# stat_ids ID...: "ID CODE" for ARTICLE <ID> from an ordinary client.
stat_ids() {
	local id
	local -a cmds=()
	for id in "$@"; do
		cmds+=("STAT <$id>")
	done
	nntp_session "${cmds[@]}" QUIT
}

@test "a compromised worker submits only what its monitor's rights allow, on any connection" {
	is_root || skip "the monitor and the sandbox need root"
	writer_up
	run timeout 60 "$POSTEL_BUILD/attack/nntp_rogue" "$TAG" "$NNTPD_DIR/spool" \
		-o "spool_dir=$NNTPD_DIR/spool" -o pathhost=test.postel.invalid \
		-o "nopriv_user=$(stat -c %U "$NNTPD_DIR/spool")" \
		-o 'access=127.0.0.0/8 read,post * local.test'
	echo "$output"
	[ "$status" -eq 0 ]
	# inside the boundary: unprivileged, no capabilities, seccomp on
	has '^worker Uid:[[:space:]]+[1-9]' '^worker CapEff:[[:space:]]+0+$' \
		'^worker Seccomp:[[:space:]]+2' '^monitor: answered with a descriptor' \
		'^worker: done'
	# on the monitor's connection (a reader's rights: post to local.test)
	has "^ihave <ihave\.$TAG@rogue\.invalid>: 437 Not a peer" \
		"^takethis <takethis\.$TAG@rogue\.invalid>: 439 Not a peer" \
		"^nopost <nopost\.$TAG@rogue\.invalid>: 441 .*local\.nopost" \
		"^outside <outside\.$TAG@rogue\.invalid>: 441 Posting to local\.other is not allowed" \
		'^rights-again : 502 Rights already settled' \
		"^ihave-again <ihave-again\.$TAG@rogue\.invalid>: 437 Not a peer" \
		"^forged-host <forged-host\.$TAG@rogue\.invalid>: 240 "
	# on connections of its own: no rights at all
	has "^own-post <own-post\.$TAG@rogue\.invalid>: 441 No rights" \
		'^own-rights : 502 Rights only from a session' \
		"^own-ihave2 <own-ihave2\.$TAG@rogue\.invalid>: 437 No rights"
	run stat_ids "ihave.$TAG@rogue.invalid" "takethis.$TAG@rogue.invalid" \
		"nopost.$TAG@rogue.invalid" "outside.$TAG@rogue.invalid" \
		"ihave-again.$TAG@rogue.invalid" "own-post.$TAG@rogue.invalid" \
		"own-ihave.$TAG@rogue.invalid" "own-ihave2.$TAG@rogue.invalid" \
		"forged-host.$TAG@rogue.invalid"
	echo "$output"
	for i in 1 2 3 4 5 6 7 8; do [[ ${lines[$i]} == 430* ]]; done
	[[ ${lines[9]} == 223* ]]
	# the one allowed post names the monitor's posting host, not the frame's
	run nntp_session "HEAD <forged-host.$TAG@rogue.invalid>" QUIT
	has '^Injection-Info: test\.postel\.invalid; posting-host="127\.0\.0\.1"' \
		'^Path: test\.postel\.invalid!\.POSTED!'
	hasnt 'forged\.example'
	kill -0 "$NNTPD_PID"
	has -f "$NNTPD_LOG" 'writer: rights frame refused'
}

# as_local USER: a well-formed POST, a rights frame claiming everything and
# an IHAVE, each on its own connection to writer.sock, built by the framing
# comment in nntpd/writer/proto.h; prints "NAME CODE" per attempt.
as_local() {
	timeout 60 runuser -u "$1" -- /usr/bin/python3 - "$NNTPD_DIR/spool/writer.sock" "$TAG" "$1" <<'PY'
import email.utils, socket, struct, sys
path, tag, who = sys.argv[1:4]
POST, IHAVE, RIGHTS = 1, 2, 5
def frame(kind, msgid, host, payload):
    body = struct.pack("<I", kind)
    for f in (msgid, host, payload):
        body += struct.pack("<I", len(f)) + f
    return struct.pack("<I", len(body)) + body
def article(mid):
    return ("From: L <l@example.com>\r\nNewsgroups: local.test\r\nSubject: local\r\n"
            "Date: %s\r\nMessage-ID: %s\r\nPath: peer.invalid!not-for-mail\r\n\r\nLocal.\r\n"
            % (email.utils.formatdate(usegmt=True), mid)).encode()
def attempt(name, *frames):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    try:
        s.connect(path)
    except PermissionError:
        # the spool is closed to users outside the writer's group
        print(name, "EACCES", flush=True)
        return
    for f in frames:
        h = b""
        try:
            s.sendall(f)
        except OSError:
            print(name, "closed", flush=True)
            return
        while len(h) < 8:
            try:
                got = s.recv(8 - len(h))
            except ConnectionResetError:
                # the writer closed with our next frame unread
                got = b""
            if not got:
                print(name, "closed", flush=True)
                return
            h += got
        n, code = struct.unpack("<II", h)
        text = b""
        while len(text) < n - 4:
            text += s.recv(n - 4 - len(text))
        print(name, code, text.decode(), flush=True)
def mid(name):
    return "<%s.%s.%s@local.invalid>" % (name, who, tag)
rights = struct.pack("<I", 3) + struct.pack("<I", 1) + b"*" + struct.pack("<I", 0)
attempt("post", frame(POST, mid("post").encode(), b"forged.example", article(mid("post"))))
attempt("rights", frame(RIGHTS, b"", b"forged.example", rights),
        frame(IHAVE, mid("ihave").encode(), b"", article(mid("ihave"))))
attempt("ihave", frame(IHAVE, mid("ihave2").encode(), b"", article(mid("ihave2"))))
PY
}

@test "a local account, or the sessions' own uid, connecting to writer.sock itself stores nothing" {
	need_pam
	writer_up
	local u news
	news=$(stat -c %U "$NNTPD_DIR/spool")
	for u in "$TUSER" "$news"; do
		run as_local "$u"
		echo "$output"
		[ "$status" -eq 0 ]
		if [ "$u" = "$TUSER" ]; then
			# not even the socket: the kernel refuses the path (spool 0750)
			has '^post EACCES' '^rights EACCES' '^ihave EACCES'
		else
			has '^post 441 No rights' '^rights 502 Rights only from a session' \
				'^ihave 437 No rights'
		fi
		run stat_ids "post.$u.$TAG@local.invalid" "ihave.$u.$TAG@local.invalid" \
			"ihave2.$u.$TAG@local.invalid"
		echo "$output"
		[[ ${lines[1]} == 430* ]]
		[[ ${lines[2]} == 430* ]]
		[[ ${lines[3]} == 430* ]]
	done
	run nntp_session "GROUP local.test" QUIT
	[[ ${lines[1]} == "211 0 "* ]]
	kill -0 "$NNTPD_PID"
}

@test "after AUTHINFO the writer connection carries the user's rights, not the address's" {
	need_pam
	nntp_up -o 'access=127.0.0.0/8 read,post * local.test' \
		-o "access=user:$TUSER read,post * local.*" -o allow_plaintext_auth=YES \
		-o "pam_service_name=$PAMSVC" -o delay_failed_login=0
	nntpctl_run newgroup local.other y "Other" >/dev/null
	run sec_py '
def post(c, group, mid):
    if not c.cmd("POST").startswith("340"):
        return "no 340"
    c.send("From: U <u@example.com>\r\nNewsgroups: %s\r\nSubject: s\r\nMessage-ID: <%s>\r\n\r\nbody\r\n.\r\n" % (group, mid))
    return c.line()
c = Client(P)
r = post(c, "local.test", "a1.%s@t.example" % ARGS[0])
check(r.startswith("240"), "post with the address rights: %s" % r)
check(c.login(TUSER, TPASS).startswith("281"), "login")
r = post(c, "local.other", "a2.%s@t.example" % ARGS[0])
check(r.startswith("240"), "post with the user rights, past the address wildmat: %s" % r)
' "$TAG"
	echo "$output"
	[ "$status" -eq 0 ]
	run nntp_session "HEAD <a2.$TAG@t.example>" QUIT
	has '^221 ' 'posting-host="127\.0\.0\.1"'
}

@test "a reader's POST refused by the writer leaves the session usable" {
	writer_up
	article "$BATS_TEST_TMPDIR/outside" "Message-ID: <o.$TAG@t.example>"
	sed -i 's/^Newsgroups: .*/Newsgroups: local.other\r/' "$BATS_TEST_TMPDIR/outside"
	article "$BATS_TEST_TMPDIR/inside" "Message-ID: <i.$TAG@t.example>"
	run nntptool postseq "$BATS_TEST_TMPDIR/outside" "$BATS_TEST_TMPDIR/inside"
	echo "$output"
	[[ ${lines[0]} == 441* ]]
	[[ ${lines[1]} == 240* ]]
	[[ ${lines[2]} =~ ^111\  ]]
}

@test "a session whose writer connection was closed gets a fresh one from its monitor" {
	writer_up
	run sec_py '
import signal
def post(c, mid):
    if not c.cmd("POST").startswith("340"):
        return "no 340"
    c.send("From: U <u@example.com>\r\nNewsgroups: local.test\r\nSubject: s\r\nMessage-ID: <%s>\r\n\r\nbody\r\n.\r\n" % mid)
    return c.line()
def readies():
    with open(ARGS[2]) as f:
        return f.read().count("writer: ready")
c = Client(P)
r = post(c, "r1.%s@t.example" % ARGS[0])
check(r.startswith("240"), "first post: %s" % r)
os.kill(int(ARGS[1]), signal.SIGTERM)
for i in range(200):
    if readies() >= 2:
        break
    time.sleep(0.05)
check(readies() >= 2, "the writer was restarted")
r = post(c, "r2.%s@t.example" % ARGS[0])
check(r.startswith("240"), "the same session posts again: %s" % r)
' "$TAG" "$(writer_pid)" "$NNTPD_LOG"
	echo "$output"
	[ "$status" -eq 0 ]
	run stat_ids "r1.$TAG@t.example" "r2.$TAG@t.example"
	[[ ${lines[1]} == 223* ]]
	[[ ${lines[2]} == 223* ]]
}

@test "a compromised peer worker feeds only what its peer= patterns allow: the writer checks them" {
	is_root || skip "the monitor and the sandbox need root"
	writer_up -o 'peer=127.0.0.1 patterns=local.test,@local.spam'
	nntpctl_run newgroup local.spam y "Poisoned for this peer" >/dev/null
	run timeout 60 "$POSTEL_BUILD/attack/nntp_rogue" "$TAG" "$NNTPD_DIR/spool" \
		-o "spool_dir=$NNTPD_DIR/spool" -o pathhost=test.postel.invalid \
		-o "nopriv_user=$(stat -c %U "$NNTPD_DIR/spool")" \
		-o 'access=127.0.0.0/8 read,post * local.test' \
		-o 'peer=127.0.0.1 patterns=local.test,@local.spam'
	echo "$output"
	[ "$status" -eq 0 ]
	has '^worker Seccomp:[[:space:]]+2' '^worker: done'
	# a peer's rights: local.test is fed, the rest refused by the writer
	has "^ihave <ihave\.$TAG@rogue\.invalid>: 235" \
		"^ihave-outside <ihave-outside\.$TAG@rogue\.invalid>: 437 Unwanted newsgroups from this peer" \
		"^ihave-poison <ihave-poison\.$TAG@rogue\.invalid>: 437 Group local\.spam refused from this peer"
	run stat_ids "ihave.$TAG@rogue.invalid" "ihave-outside.$TAG@rogue.invalid" \
		"ihave-poison.$TAG@rogue.invalid"
	echo "$output"
	[[ ${lines[1]} == 223* ]]
	[[ ${lines[2]} == 430* ]]
	[[ ${lines[3]} == 430* ]]
	# not remembered in history: a peer allowed the group may still feed it
	run nntp_session "MODE STREAM" "CHECK <ihave-outside.$TAG@rogue.invalid>" QUIT
	echo "$output"
	[ "${lines[2]}" = "238 <ihave-outside.$TAG@rogue.invalid>" ]
}
