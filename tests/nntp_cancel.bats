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
	load lib/inn
	TAG=t$$-$BATS_TEST_NUMBER
	A=$BATS_TEST_TMPDIR
	CANCEL=$POSTEL_ROOT/tests/lib/cancel.py
}

teardown() {
	local sock
	for sock in ${TMUX_SOCKS:-}; do
		tmux -S "$sock" kill-server 2>/dev/null || true
	done
	stop_inn
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

@test "INN feeds a crossposted article, a cancel removes it from both groups, and innxmit offering it again is refused" {
	need_inn
	start_inn
	nntp_up -o peer=127.0.0.1 -o 'access=127.0.0.0/8 read,post *'
	nntpctl_run newgroup local.other y >/dev/null
	local id="<cx.0@peer.example>"
	# article 0 of the generator is crossposted to local.test and local.other
	run timeout 120 python3 "$POSTEL_ROOT/tests/lib/nntppeer.py" 127.0.0.1 "$INN_PORT" gen:1:cx
	[ "${lines[2]}" = "accepted 1" ]
	inn_batch batch1
	cp "$INN_DIR/batch1" "$INN_DIR/batch2" # innxmit removes a batch it finished
	run inn_run innxmit -s -P "$NNTPD_PORT" -T 120 127.0.0.1 "$INN_DIR/batch1"
	echo "$output"
	[ "$status" -eq 0 ]
	run nntp_session "STAT $id" "GROUP local.other" QUIT
	[[ ${lines[1]} == "223 "* ]]
	[[ ${lines[2]} == "211 1 1 1 local.other" ]]
	# the generator's sender cancels it (cancel_policy sender)
	ctl "$A/c" "$id"
	from "$A/c" "Gen <gen@peer.example>"
	run cpy post "$A/c"
	[ "$output" = 240 ]
	run nntp_session "STAT $id" "GROUP local.test" "GROUP local.other" QUIT
	echo "$output"
	[[ ${lines[1]} == "430 "* ]]
	[[ ${lines[2]} == "211 0 "* ]]
	[[ ${lines[3]} == "211 0 "* ]]
	chown news "$INN_DIR/batch2"
	run inn_run innxmit -d -s -P "$NNTPD_PORT" -T 120 127.0.0.1 "$INN_DIR/batch2"
	echo "$output"
	[ "$status" -eq 0 ]
	has "^< 435 "
	run nntp_session "STAT $id" "GROUP local.test" "GROUP local.other" QUIT
	[[ ${lines[1]} == "430 "* ]]
	[[ ${lines[2]} == "211 0 "* ]]
	[[ ${lines[3]} == "211 0 "* ]]
}

# from FILE ADDRESS: FILE's From made ADDRESS.
from() { sed -i "s/^From: .*/From: $2\r/" "$1"; }

# two_cancels POLICY: an article without a lock from tester@example.com,
# a cancel from someone else, then one from the sender (as "Name
# <TESTER@Example.com>"); prints what STAT says after each.
two_cancels() {
	local id="<s.$TAG@t.example>"
	article "$A/a" "Message-ID: $id"
	ctl "$A/other" "$id"
	from "$A/other" "Mallory <mallory@example.net>"
	ctl "$A/same" "$id"
	from "$A/same" "T. Ester <TESTER@Example.com>"
	cpy post "$A/a"
	cpy post "$A/other"
	nntp_session "STAT $id" QUIT | sed -n 2p
	cpy post "$A/same"
	nntp_session "STAT $id" QUIT | sed -n 2p
}

@test "cancel_policy sender (the default): a cancel from the article's sender removes it, one from another address does not" {
	nntp_up -o 'access=127.0.0.0/8 read,post *'
	run two_cancels
	echo "$output"
	[ "${lines[0]}" = 240 ]
	[ "${lines[1]}" = 240 ]
	[[ ${lines[2]} == "223 "* ]]
	[ "${lines[3]}" = 240 ]
	[[ ${lines[4]} == "430 "* ]]
	has -f "$NNTPD_LOG" "not honoured: the sender is not the article's"
}

@test "cancel_policy sender: a poster with the moderator right cancels any article without a lock" {
	nntp_up -o 'access=127.0.0.0/8 read,post,moderate *'
	run two_cancels
	echo "$output"
	[[ ${lines[2]} == "430 "* ]]
}

@test "cancel_policy all honours any cancel; none honours none, and nntpctl cancel still removes the article" {
	nntp_up -o 'access=127.0.0.0/8 read,post *' -o cancel_policy=all
	run two_cancels
	echo "$output"
	[[ ${lines[2]} == "430 "* ]]
	stop_nntpd
	postel_teardown
	nntp_up -o 'access=127.0.0.0/8 read,post,moderate *' -o cancel_policy=none
	run two_cancels
	echo "$output"
	[[ ${lines[2]} == "223 "* ]]
	[[ ${lines[4]} == "223 "* ]]
	has -f "$NNTPD_LOG" "not honoured: cancel_policy is none"
	run nntpctl_run cancel "<s.$TAG@t.example>"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"cancelled <s.$TAG@t.example>"* ]]
	run nntp_session "STAT <s.$TAG@t.example>" "GROUP local.test" QUIT
	[[ ${lines[1]} == "430 "* ]]
	[[ ${lines[2]} == "211 0 "* ]]
	# twice: nothing left to remove
	run nntpctl_run cancel "<s.$TAG@t.example>"
	[ "$status" -ne 0 ]
	[[ $output == *"is not here"* ]]
	run nntpctl_run cancel "not-an-id"
	[ "$status" -ne 0 ]
}

@test "Supersedes replaces the named article under the same rules" {
	nntp_up -o 'access=127.0.0.0/8 read,post *'
	local old="<old.$TAG@t.example>" new="<new.$TAG@t.example>" bad="<bad.$TAG@t.example>"
	article "$A/old" "Message-ID: $old"
	article "$A/bad" "Message-ID: $bad" "Supersedes: $old"
	from "$A/bad" "Mallory <mallory@example.net>"
	article "$A/new" "Message-ID: $new" "Supersedes: $old"
	sed -i 's/^Hello\./Hello again./' "$A/new"
	run cpy post "$A/old" "$A/bad"
	[ "${lines[1]}" = 240 ]
	run nntp_session "STAT $old" "STAT $bad" QUIT
	[[ ${lines[1]} == "223 "* ]]
	[[ ${lines[2]} == "223 "* ]]
	run cpy post "$A/new"
	[ "$output" = 240 ]
	run nntp_session "STAT $old" "GROUP local.test" "BODY $new" QUIT
	echo "$output"
	[[ ${lines[1]} == "430 "* ]]
	# bad (which superseded nothing) and new stay; new is not a control message
	[[ ${lines[2]} == "211 2 2 3 local.test" ]]
	has '^Hello again\.'
	has -f "$NNTPD_LOG" "Supersedes $new removed $old"
}

@test "an authenticated user's post gets a Cancel-Lock and their cancel the key that opens it; nobody else's cancel does" {
	need_pam
	plain_up() { nntp_up -o allow_plaintext_auth=YES -o "pam_service_name=$PAMSVC" "$@"; }
	plain_up -o 'access=127.0.0.0/8 read,post *'
	local id="<u.$TAG@t.example>"
	article "$A/a" "Message-ID: $id"
	ctl "$A/anon" "$id"
	ctl "$A/own" "$id"
	from "$A/own" "Someone Else <else@example.org>"
	run env NNTP_USER="$TUSER" NNTP_PASS="$TPASS" python3 "$CANCEL" "$NNTPD_PORT" post "$A/a"
	[ "$output" = 240 ]
	run nntp_session "HEAD $id" QUIT
	has '^Cancel-Lock: sha256:[A-Za-z0-9+/]{43}=$'
	[ -s "$NNTPD_DIR/spool/canlock.secret" ]
	# the same From without the key: the lock holds (cancel_policy sender
	# would have honoured it)
	run cpy post "$A/anon"
	[ "$output" = 240 ]
	run nntp_session "STAT $id" QUIT
	[[ ${lines[1]} == "223 "* ]]
	run env NNTP_USER="$TUSER" NNTP_PASS="$TPASS" python3 "$CANCEL" "$NNTPD_PORT" post "$A/own"
	[ "$output" = 240 ]
	run nntp_session "STAT $id" QUIT
	[[ ${lines[1]} == "430 "* ]]
	run nntp_session "GROUP control.cancel" "HEAD 2" QUIT
	has '^Cancel-Key: sha256:'
}

# wait_screen TEXT: true once the tmux pane shows TEXT (30 s at most)
wait_screen() {
	local i
	for ((i = 0; i < 120; i++)); do
		tmux -S "$TMUX_SOCK" capture-pane -p >"$A/screen"
		grep -qF -- "$1" "$A/screen" && return 0
		sleep 0.25
	done
	echo "# screen while waiting for '$1':" >&3
	sed 's/^/#   /' "$A/screen" >&3
	return 1
}

# tin_run N: tin in a tmux pane of its own (server TMUX_SOCK, the Nth), as
# the PAM user by its .newsauth (-A: AUTHINFO at connect).
tin_run() {
	[ -z "${TMUX_SOCK:-}" ] || tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	TMUX_SOCK=$A/tmux$1.sock
	TMUX_SOCKS="${TMUX_SOCKS:-} $TMUX_SOCK"
	tmux -S "$TMUX_SOCK" new-session -d -x 120 -y 40 \
		"env HOME=$A/home TERM=xterm EDITOR=$A/editor VISUAL=$A/editor tin -A -r -g 127.0.0.1 -p $NNTPD_PORT -q; sleep 60"
}

@test "tin posts as an authenticated user and cancels its own article with the key nntpd adds" {
	command -v tin >/dev/null || skip "tin is not installed"
	command -v tmux >/dev/null || skip "tmux is not installed"
	need_pam
	nntp_up -o allow_plaintext_auth=YES -o "pam_service_name=$PAMSVC" \
		-o 'access=127.0.0.0/8 read,post *'
	mkdir -p "$A/home/.tin"
	printf 'local.test:\n' >"$A/home/.newsrc"
	printf '127.0.0.1 "%s" %s\n' "$TPASS" "$TUSER" >"$A/home/.newsauth"
	chmod 600 "$A/home/.newsauth"
	# tin's own Cancel-Lock off: only nntpd's lock and key are in play
	printf 'cancel_lock_algo=none\nmail_address=Tin User <tin@example.com>\n' >"$A/home/.tin/tinrc"
	printf '#!/bin/sh\nfor f; do :; done\nprintf "Posted by tin %s.\\n" >>"$f"\n' "$TAG" \
		>"$A/editor"
	chmod 755 "$A/editor"
	tin_run 1
	wait_screen "local.test"
	tmux -S "$TMUX_SOCK" send-keys Enter
	wait_screen "local.test"
	tmux -S "$TMUX_SOCK" send-keys w
	wait_screen "ubject"
	tmux -S "$TMUX_SOCK" send-keys "tin cancel $TAG" Enter
	wait_screen "p=post"
	tmux -S "$TMUX_SOCK" send-keys p
	wait_for 30 has -f "$NNTPD_LOG" "u=$TUSER post .*: 240"
	# a new tin finds the article in the group and cancels it
	tin_run 2
	wait_screen "local.test"
	tmux -S "$TMUX_SOCK" send-keys Enter
	wait_screen "tin cancel $TAG"
	tmux -S "$TMUX_SOCK" send-keys D
	wait_screen "(d/s/q)"
	tmux -S "$TMUX_SOCK" send-keys d
	wait_screen "d=delete (cancel)"
	tmux -S "$TMUX_SOCK" send-keys d
	wait_for 30 has -f "$NNTPD_LOG" "writer: cancel .* removed"
	tmux -S "$TMUX_SOCK" send-keys q q q
	# the article had nntpd's lock only (tin's own is off) and is gone
	local id
	id=$(sed -n "s/.*u=$TUSER post \(<[^>]*>\): 240.*/\1/p" "$NNTPD_LOG" | head -n 1)
	[ -n "$id" ]
	has -f "$NNTPD_LOG" "removed $id"
	run nntp_session "STAT $id" "GROUP local.test" "GROUP control.cancel" "HEAD 1" QUIT
	echo "$output"
	[[ ${lines[1]} == "430 "* ]]
	[[ ${lines[2]} == "211 0 "* ]]
	[[ ${lines[3]} == "211 1 1 1 control.cancel" ]]
	has "^Control: cancel $id" '^Cancel-Key: sha256:'
	if has '^Cancel-Lock: sha1:'; then false; fi
}
