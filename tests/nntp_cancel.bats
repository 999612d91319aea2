#!/usr/bin/env bats
# Cancels (RFC 5537 5.3) and Supersedes (5.4) with real clients: Python's
# nntplib posts an article with an RFC 8315 Cancel-Lock, a cancel with a
# wrong Cancel-Key (not honoured: the article stays, the cancel is filed
# in control.cancel) and one with the right key (the article is gone from
# GROUP's count, OVER, ARTICLE by number and by Message-ID, HEAD, BODY and
# STAT), then a peer's IHAVE of it is refused. cancel_policy sender, all
# and none for articles without a lock; nntpctl cancel; Supersedes; the
# Cancel-Lock nntpd adds for an authenticated user, which lets tin cancel
# its own post.

# setup_file and teardown_file: a certificate and a PAM user (lib/nntpsec).
load lib/nntpsec

setup() {
	load lib/common
	load lib/nntp
	load lib/nntpsec
	TAG=t$$-$BATS_TEST_NUMBER
	A=$BATS_TEST_TMPDIR
	CANCEL=$POSTEL_ROOT/tests/lib/cancel.py
}

teardown() {
	postel_teardown
}

cpy() { timeout 120 python3 "$CANCEL" "${NNTPD_PORT:?}" "$@"; }

# ctl FILE TARGET [headers...]: a cancel of TARGET to local.test.
ctl() {
	local f=$1 target=$2
	shift 2
	article "$f" "Message-ID: <c$RANDOM.$TAG@t.example>" "Control: cancel $target" "$@"
	sed -i "s/^Subject: .*/Subject: cmsg cancel $target\r/" "$f"
}

@test "a wrong Cancel-Key leaves the article; the right one removes it everywhere and a peer's IHAVE of it is refused" {
	nntp_up -o "peer=127.0.0.0/8"
	local id="<a.$TAG@t.example>" key="sha256:$(head -c 32 /dev/urandom | base64)"
	local lock
	lock=$(cpy lock "$key")
	article "$A/a" "Message-ID: $id" "Cancel-Lock: $lock"
	run cpy post "$A/a"
	[ "$output" = 240 ]
	ctl "$A/wrong" "$id" "Cancel-Key: sha256:$(head -c 32 /dev/urandom | base64)"
	run cpy post "$A/wrong"
	[ "$output" = 240 ]
	run cpy look "$id=1" local.test
	echo "$output"
	[ "${lines[0]}" = "stat 223" ]
	[ "${lines[4]}" = "group 1 1 1" ]
	[ "${lines[5]}" = "over 1" ]
	[ "${lines[6]}" = "number 220" ]
	# the refused cancel is filed in control.cancel, and logged
	run nntp_session "GROUP control.cancel" "HEAD 1" QUIT
	echo "$output"
	[[ ${lines[1]} == "211 1 1 1 control.cancel" ]]
	has "^Control: cancel $id" "^Xref: test.postel.invalid control.cancel:1"
	has -f "$NNTPD_LOG" "of $id not honoured: no Cancel-Key opens"

	ctl "$A/right" "$id" "Cancel-Key: $key"
	run cpy post "$A/right"
	[ "$output" = 240 ]
	run cpy look "$id=1" local.test
	echo "$output"
	[ "${lines[0]}" = "stat 430" ]
	[ "${lines[1]}" = "article 430" ]
	[ "${lines[2]}" = "head 430" ]
	[ "${lines[3]}" = "body 430" ]
	[ "${lines[4]}" = "group 0 2 1" ]
	[ "${lines[5]}" = "over 0" ]
	[ "${lines[6]}" = "number 423" ]
	run nntp_session "GROUP control.cancel" QUIT
	[[ ${lines[1]} == "211 2 1 2 control.cancel" ]]
	has -f "$NNTPD_LOG" "removed $id"
	# the article offered again by a peer: history remembers the cancel
	sed -i '1i Path: peer.example!not-for-mail\r' "$A/a"
	printf 'Date: %s\r\n' "$(date -R)" >"$A/date"
	sed -i "1r $A/date" "$A/a"
	run cpy ihave "$id" "$A/a"
	echo "$output"
	[ "$output" = 435 ]
}
