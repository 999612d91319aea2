#!/usr/bin/env bats
# Approved: only a moderator approves. A POST carrying Approved to a
# moderated (m) group needs the moderate perm in the client's access rule
# (address, or user after AUTHINFO), which the monitor sends the writer as
# a rights flag; a worker cannot claim it, and peers' feeds of approved
# articles are taken as before. Each refusal is checked by its reply and by
# STAT <message-id> from an ordinary client.

# setup_file and teardown_file: a certificate and a PAM user (lib/nntpsec).
load lib/nntpsec

setup() {
	load lib/common
	load lib/nntp
	load lib/nntpsec
	TAG=t$$-$BATS_TEST_NUMBER
}

teardown() {
	[ -z "${CTL_SPOOL:-}" ] || rm -rf "$CTL_SPOOL"
	postel_teardown
}

# approved FILE ID [GROUP]: an article to GROUP (local.mod) with Approved.
approved() {
	article "$1" "Message-ID: <$2>" "Approved: mod@example.com"
	sed -i "s/^Newsgroups: .*/Newsgroups: ${3:-local.mod}\r/" "$1"
}

# post_mod [login]: POST of an Approved article to local.mod as ARGS[0],
# first with the address's rights, then (with login) again after AUTHINFO
# as ARGS[1]; prints "before CODE" and "after CODE" lines.
post_mod() {
	sec_py '
def post(c, mid):
    if not c.cmd("POST").startswith("340"):
        return "no 340"
    c.send("From: U <u@example.com>\r\nNewsgroups: local.mod\r\nSubject: s\r\n"
           "Approved: mod@example.com\r\nMessage-ID: <%s>\r\n\r\nbody\r\n.\r\n" % mid)
    return c.line()
c = Client(P)
print("before", post(c, ARGS[0]), flush=True)
if len(ARGS) > 1:
    check(c.login(TUSER, TPASS).startswith("281"), "login")
    print("after", post(c, ARGS[1]), flush=True)
check(c.cmd("QUIT").startswith("205"), "the session goes on")
' "$@"
}

@test "a reader without the moderator right posting Approved to a moderated group gets 441 and nothing is stored" {
	nntp_up -o 'access=127.0.0.0/8 read,post *'
	approved "$BATS_TEST_TMPDIR/a" "a.$TAG@t.example"
	article "$BATS_TEST_TMPDIR/plain" "Message-ID: <p.$TAG@t.example>"
	sed -i 's/^Newsgroups: .*/Newsgroups: local.mod\r/' "$BATS_TEST_TMPDIR/plain"
	run nntptool postseq "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/plain"
	echo "$output"
	[[ ${lines[0]} == "441 "*"Approved: needs the moderator right"* ]]
	# without Approved it stays refused, as before
	[[ ${lines[1]} == "441 "*"needs an Approved header"* ]]
	run nntp_session "STAT <a.$TAG@t.example>" "STAT <p.$TAG@t.example>" "GROUP local.mod" QUIT
	echo "$output"
	[[ ${lines[1]} == 430* ]]
	[[ ${lines[2]} == 430* ]]
	[[ ${lines[3]} == "211 0 "* ]]
	has -f "$NNTPD_LOG" 'moderator right'
}

@test "an address rule with moderate: POST with Approved to a moderated group is 240" {
	nntp_up -o 'access=127.0.0.0/8 read,post,moderate *'
	approved "$BATS_TEST_TMPDIR/a" "a.$TAG@t.example"
	run post_file "$BATS_TEST_TMPDIR/a"
	echo "$output"
	[[ ${lines[1]} == 240* ]]
	run nntp_session "HEAD <a.$TAG@t.example>" QUIT
	has '^221 ' '^Approved: mod@example\.com' '^Newsgroups: local\.mod'
	# the perm is checked like the others
	run "$POSTEL_BUILD/nntpd" -t -f "$NNTPD_CONF" -o 'access=127.0.0.1 read,moderator *'
	[ "$status" -ne 0 ]
}

@test "a user rule with moderate: Approved is 441 before AUTHINFO and 240 after" {
	need_pam
	nntp_up -o 'access=127.0.0.0/8 read,post *' -o "access=user:$TUSER read,post,moderate *" \
		-o allow_plaintext_auth=YES -o "pam_service_name=$PAMSVC" -o delay_failed_login=0
	run post_mod "b.$TAG@t.example" "u.$TAG@t.example"
	echo "$output"
	[ "$status" -eq 0 ]
	has '^before 441 .*Approved: needs the moderator right' '^after 240 '
	run nntp_session "STAT <b.$TAG@t.example>" "STAT <u.$TAG@t.example>" QUIT
	[[ ${lines[1]} == 430* ]]
	[[ ${lines[2]} == 223* ]]
}

@test "a user rule without moderate takes the address's moderator right away after AUTHINFO" {
	need_pam
	nntp_up -o 'access=127.0.0.0/8 read,post,moderate *' -o "access=user:$TUSER read,post *" \
		-o allow_plaintext_auth=YES -o "pam_service_name=$PAMSVC" -o delay_failed_login=0
	run post_mod "b.$TAG@t.example" "u.$TAG@t.example"
	echo "$output"
	[ "$status" -eq 0 ]
	has '^before 240 ' '^after 441 .*Approved: needs the moderator right'
}

@test "a compromised worker cannot approve on its monitor's connection" {
	is_root || skip "the monitor and the sandbox need root"
	nntp_up -o 'access=127.0.0.0/8 read,post *'
	run timeout 60 "$POSTEL_BUILD/attack/nntp_rogue" "$TAG" "$NNTPD_DIR/spool" \
		-o "spool_dir=$NNTPD_DIR/spool" -o pathhost=test.postel.invalid \
		-o "nopriv_user=$(stat -c %U "$NNTPD_DIR/spool")" \
		-o 'access=127.0.0.0/8 read,post *'
	echo "$output"
	[ "$status" -eq 0 ]
	has '^worker Uid:[[:space:]]+[1-9]' '^worker Seccomp:[[:space:]]+2' \
		'^monitor: answered with a descriptor' '^worker: done' \
		"^approved <approved\.$TAG@rogue\.invalid>: 441 .*Approved: needs the moderator right" \
		'^rights-again : 502 ' '^own-rights : 502 '
	run nntp_session "STAT <approved.$TAG@rogue.invalid>" "GROUP local.mod" QUIT
	echo "$output"
	[[ ${lines[1]} == 430* ]]
	[[ ${lines[2]} == "211 0 "* ]]
	kill -0 "$NNTPD_PID"
}

@test "a peer's IHAVE of an Approved article to a moderated group is still accepted" {
	nntp_up -o peer=127.0.0.1 -o 'access=127.0.0.0/8 read,post *'
	run sec_py '
import email.utils
c = Client(P)
mid = "<f.%s@peer.example>" % ARGS[0]
check(c.cmd("IHAVE " + mid).startswith("335"), "335")
c.send("Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\n"
       "Newsgroups: local.mod\r\nSubject: fed\r\nDate: %s\r\nMessage-ID: %s\r\n"
       "Approved: mod@peer.example\r\n\r\nHello.\r\n.\r\n" % (email.utils.formatdate(usegmt=True), mid))
r = c.line()
check(r.startswith("235"), "235: " + r)
' "$TAG"
	echo "$output"
	[ "$status" -eq 0 ]
	run nntp_session "STAT <f.$TAG@peer.example>" "GROUP local.mod" QUIT
	[[ ${lines[1]} == 223* ]]
	[[ ${lines[2]} == "211 1 "* ]]
}

# ctl_parse_ids SPOOL ARGS...: nntpctl ARGS on SPOOL, whose active is a FIFO:
# once nntpctl has opened it and waits to read it (parsing the spool), its
# /proc status Uid and Gid lines; then the FIFO gets EOF and nntpctl ends.
ctl_parse_ids() {
	timeout 60 python3 - "$POSTEL_BUILD/nntpctl" "$@" <<'PY'
import os, subprocess, sys, time
ctl, spool, args = sys.argv[1], sys.argv[2], sys.argv[3:]
p = subprocess.Popen([ctl, "-f", "/dev/null", "-d", spool] + args)
fifo = os.path.join(spool, "active")
for i in range(400):
    try:
        # ENXIO until a reader (nntpctl, inside active_refresh) has it open
        w = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        break
    except OSError:
        if p.poll() is not None:
            sys.exit("nntpctl ended before reading active")
        time.sleep(0.05)
else:
    p.kill()
    sys.exit("nntpctl never opened active")
with open("/proc/%d/status" % p.pid) as f:
    for line in f:
        if line.startswith(("Uid:", "Gid:")):
            print(" ".join(line.split()), flush=True)
os.close(w)
print("exit", p.wait(), flush=True)
PY
}

@test "nntpctl run as root parses spool files with root given up for good (no saved root uid)" {
	is_root || skip "nntpctl drops root only when run as root"
	local spool uid gid
	spool=$(mktemp -d /tmp/postel-ctl.XXXXXX)
	CTL_SPOOL=$spool
	chmod 755 "$spool"
	chown nobody:"$(id -gn nobody)" "$spool"
	mkfifo "$spool/active"
	chown nobody:"$(id -gn nobody)" "$spool/active"
	uid=$(id -u nobody)
	gid=$(id -g nobody)
	[ "$uid" -ne 0 ]
	[ "$gid" -ne 0 ]
	run ctl_parse_ids "$spool" list
	echo "$output"
	# real, effective, saved and fs ids: the spool owner's, none root's
	has "^Uid: $uid $uid $uid $uid\$" "^Gid: $gid $gid $gid $gid\$" '^exit 0$'
	# a group command with no writer running edits the spool itself (under
	# its lock), parsing active (still the FIFO) the same way
	run ctl_parse_ids "$spool" newgroup local.ctl y
	echo "$output"
	has "^Uid: $uid $uid $uid $uid\$" "^Gid: $gid $gid $gid $gid\$" '^exit 0$'
	grep -q '^local\.ctl ' "$spool/active"
}
