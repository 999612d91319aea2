#!/usr/bin/env bats
# newgroup, rmgroup and checkgroups control messages (RFC 5537 5.2) under
# a control_file in INN's control.ctl form: doit acts with the code
# nntpctl newgroup/rmgroup use, log only logs, drop does nothing, the
# last matching line wins, and the shipped conf/nntpd-control.ctl logs
# every one and acts on none. Whatever is done, each control message is
# filed in its control.* group and queued for the feeds like any article.
# Articles come by POST (nntplib) and IHAVE from a peer address.

setup() {
	load lib/common
	load lib/nntp
	TAG=t$$-$BATS_TEST_NUMBER
	A=$BATS_TEST_TMPDIR
	CANCEL=$POSTEL_ROOT/tests/lib/cancel.py
}

teardown() {
	postel_teardown
}

cpy() { timeout 120 python3 "$CANCEL" "${NNTPD_PORT:?}" "$@"; }

# cmsg FILE FROM CONTROL...: a control message from FROM, Newsgroups the
# group CONTROL names (local.test when it names none), with a Path and a
# Date so a peer may offer it too.
cmsg() {
	local f=$1 from=$2 control=$3 group
	group=$(set -- $control && echo "${2:-local.test}")
	{
		printf 'Path: peer.example!not-for-mail\r\n'
		printf 'From: %s\r\n' "$from"
		printf 'Newsgroups: %s\r\n' "$group"
		printf 'Subject: cmsg %s\r\n' "$control"
		printf 'Message-ID: <%s.%s@t.example>\r\n' "${control// /-}" "$TAG"
		printf 'Date: %s\r\n' "$(date -R)"
		printf 'Control: %s\r\n' "$control"
		printf 'Approved: %s\r\n' "$from"
		printf '\r\nFor your newsgroups file:\r\n%s\tA group made by a control message\r\n' \
			"$group"
	} >"$f"
}

@test "the shipped control file logs newgroup, rmgroup and checkgroups and acts on none; each is filed and queued for feeds" {
	local closed
	closed=$(free_port)
	nntp_up -o "peer=127.0.0.0/8" -o "control_file=$POSTEL_ROOT/conf/nntpd-control.ctl" \
		-o "feed=out.example 127.0.0.1 $closed *"
	cmsg "$A/new" "admin@example.org" "newgroup local.made"
	cmsg "$A/rm" "admin@example.org" "rmgroup local.test"
	cmsg "$A/check" "admin@example.org" "checkgroups"
	run cpy post "$A/new" "$A/rm"
	[ "${lines[0]}" = 240 ]
	[ "${lines[1]}" = 240 ]
	run cpy ihave "<checkgroups.$TAG@t.example>" "$A/check"
	[ "$output" = 235 ]
	run nntp_session "LIST ACTIVE local.*" "GROUP control.newgroup" "GROUP control.rmgroup" \
		"GROUP control.checkgroups" QUIT
	echo "$output"
	has '^local\.test '
	if has '^local\.made '; then false; fi
	has '^211 1 1 1 control\.newgroup' '^211 1 1 1 control\.rmgroup' \
		'^211 1 1 1 control\.checkgroups'
	has -f "$NNTPD_LOG" "newgroup local.made <newgroup-local.made.$TAG@t.example> from admin@example.org: logged only \\(log\\)" \
		"rmgroup local.test .* logged only" "checkgroups local.test .* logged only"
	# fed on like any article
	run cut -d' ' -f2 "$NNTPD_DIR/spool/feeds/out.example"
	echo "$output"
	has "<newgroup-local.made.$TAG@t.example>" "<rmgroup-local.test.$TAG@t.example>" \
		"<checkgroups.$TAG@t.example>"
}

@test "control_file: doit creates and removes groups, log only logs, drop drops, the last match wins; other control types go to control" {
	printf '%s\n' "all:*:*:log" "newgroup:*@example.org:local.*:doit" \
		"rmgroup:*@example.org:local.*:doit=/var/log/ignored" "newgroup:*:local.junk*:drop" \
		"# a comment line" "bad line" >"$A/control.ctl"
	nntp_up -o "peer=127.0.0.0/8" -o "control_file=$A/control.ctl"
	cmsg "$A/new" "Admin <ADMIN@example.org>" "newgroup local.made moderated"
	cmsg "$A/other" "mallory@example.net" "newgroup local.other"
	cmsg "$A/junk" "admin@example.org" "newgroup local.junkyard"
	cmsg "$A/ver" "admin@example.org" "version"
	run cpy post "$A/new" "$A/other" "$A/junk" "$A/ver"
	echo "$output"
	[ "$output" = "$(printf '240\n240\n240\n240')" ]
	run nntp_session "LIST ACTIVE local.*" "LIST NEWSGROUPS local.made" "GROUP control" QUIT
	echo "$output"
	has '^local\.made 0+ 0*1 m$' '^local\.made	A group made by a control message' \
		'^211 1 1 1 control$'
	if has '^local\.other ' || has '^local\.junkyard '; then false; fi
	has -f "$NNTPD_LOG" "newgroup local.made .* from admin@example.org: done" \
		"newgroup local.other .* from mallory@example.net: logged only"
	if has -f "$NNTPD_LOG" "newgroup local.junkyard"; then false; fi
	# a peer's rmgroup by the same rules
	cmsg "$A/rm" "admin@example.org" "rmgroup local.made"
	run cpy ihave "<rmgroup-local.made.$TAG@t.example>" "$A/rm"
	[ "$output" = 235 ]
	run nntp_session "LIST ACTIVE local.*" QUIT
	if has '^local\.made '; then false; fi
	has '^local\.test '
}

@test "a malformed Control header is refused" {
	nntp_up
	cmsg "$A/a" "admin@example.org" "cancel"
	cmsg "$A/b" "admin@example.org" "newgroup bad..name"
	run cpy post "$A/a" "$A/b"
	echo "$output"
	[ "${lines[0]}" = 441 ]
	[ "${lines[1]}" = 441 ]
}
