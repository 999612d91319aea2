#!/usr/bin/env bats
# nntpd trust boundaries, attacked from the client's or the worker's side:
# each refusal is checked by its reply or errno, and the daemon stays up.

# setup_file and teardown_file: a certificate and a PAM user (lib/nntpsec).
load lib/nntpsec

setup() {
	load lib/common
	load lib/nntp
	load lib/nntpsec
}

teardown() {
	postel_teardown
}

@test "AUTHINFO after COMPRESS is 502 and CAPABILITIES stops offering it (RFC 8054)" {
	need_pam
	tls_up -o allow_plaintext_auth=YES
	run sec_py '
c = Client(P)
check("AUTHINFO USER" in c.caps(), "AUTHINFO USER offered before COMPRESS")
check(c.compress().startswith("206"), "206")
check("AUTHINFO" not in c.caps(), "AUTHINFO gone from CAPABILITIES under COMPRESS")
r = c.cmd("AUTHINFO USER " + TUSER)
check(r.startswith("502"), "AUTHINFO USER is 502: " + r)
r = c.cmd("AUTHINFO PASS " + TPASS)
check(r.startswith("502"), "AUTHINFO PASS is 502: " + r)
check(c.cmd("DATE").startswith("111"), "the session goes on")
check(c.cmd("QUIT").startswith("205"), "QUIT")
'
	echo "$output"
	[ "$status" -eq 0 ]
	kill -0 "$NNTPD_PID"
	hasnt -f "$NNTPD_LOG" "authenticated"
}

@test "sessions own nothing in the spool: the kernel and their filter refuse every write, local users read nothing" {
	is_root || skip "uids need root"
	need_pam
	if [ "$("$POSTEL_BUILD/attack/sandbox_probe" x x x x)" = "build: sanitized" ]; then
		skip "sanitizer builds relax the filters (the plain round tests them)"
	fi
	nntp_up
	article "$NNTPD_DIR/a1" "Message-ID: <own@t.example>"
	run post_file "$NNTPD_DIR/a1"
	[[ $output == *240* ]]
	local spool=$NNTPD_DIR/spool art=articles/local/test/1 group
	group=$(id -gn "$(stat -c %U "$spool")")
	[ -f "$spool/$art" ]
	# the writer's files are group-readable only; the spool is closed to others
	[ "$(stat -c %a "$spool/$art")" = 640 ]
	[ $(($(stat -c %#a "$spool") & 07)) -eq 0 ]
	# a session's identity, inside its sandbox: reads, but never writes
	run timeout 60 "$POSTEL_BUILD/attack/sandbox_probe" nntp-session "$spool" "nobody:$group" \
		"read:$art" "write:$art" "create:articles/local/test/2" "write:history"
	echo "$output"
	has "^read:$art: ok" "^write:$art: killed by seccomp" \
		'^create:articles/local/test/2: killed by seccomp' '^write:history: killed by seccomp'
	[ ! -e "$spool/articles/local/test/2" ]
	# the same identity without the filter: the file modes refuse it too
	run setpriv --reuid=nobody --regid="$group" --clear-groups sh -c "echo x >>'$spool/$art'"
	[ "$status" -ne 0 ]
	has 'Permission denied'
	run setpriv --reuid=nobody --regid="$group" --clear-groups cat "$spool/$art"
	[ "$status" -eq 0 ]
	has '^Message-ID: <own@t.example>'
	# a local user outside the group reads nothing
	run runuser -u "$TUSER" -- cat "$spool/$art"
	[ "$status" -ne 0 ]
	has 'Permission denied'
	run nntp_session "ARTICLE <own@t.example>"
	has '^220 '
}
