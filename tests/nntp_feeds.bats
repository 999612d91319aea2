#!/usr/bin/env bats
# Feeds as INN's newsfeeds(5) and incoming.conf(5) have them: feed= patterns
# with ! and @ (poison) over the Newsgroups header, /distributions, a size
# limit and the peer's name in Path; peer= limits on incoming feeds
# (max-connections, patterns). Outgoing STARTTLS (feed=... tls):
# nntp_feedtls.bats.

setup_file() {
	load lib/common
	load lib/nntp
	# One daemon for the queueing tests: its feeders point at a closed
	# port, so what each feed wants stays in spool/feeds/NAME to be read.
	local closed
	closed=$(free_port)
	nntp_up -o "peer=127.0.0.1" \
		-o "peer=127.0.0.2 max-connections=1 patterns=local.*,!local.secret,@local.poison" \
		-o "feed=bang 127.0.0.1 $closed local.*,!local.secret" \
		-o "feed=poison 127.0.0.1 $closed local.*,@local.secret,@alt.*" \
		-o "feed=late 127.0.0.1 $closed local.*,@local.*,local.test" \
		-o "feed=noworld 127.0.0.1 $closed local.*/!world" \
		-o "feed=onlyeu 127.0.0.1 $closed local.*/eu" \
		-o "feed=small 127.0.0.1 $closed local.* <700" \
		-o "feed=peer.example 127.0.0.1 $closed local.*"
	nntpctl_run newgroup local.secret y >/dev/null
	nntpctl_run newgroup local.poison y >/dev/null
	export NNTPD_PID NNTPD_PORT NNTPD_DIR NNTPD_CONF NNTPD_LOG
}

teardown_file() {
	load lib/common
	stop_pid "${NNTPD_PID:-}"
	postel_teardown
}

setup() {
	load lib/common
	load lib/nntp
	A=$BATS_TEST_TMPDIR
	PEER=$POSTEL_ROOT/tests/lib/nntppeer.py
}

teardown() {
	postel_teardown
}

# art FILE ID GROUPS [HEADER...]: an article with that Message-ID and Newsgroups.
art() {
	local f=$1 id=$2 groups=$3
	shift 3
	article "$f" "Message-ID: $id" "$@"
	sed -i "s/^Newsgroups: local.test/Newsgroups: $groups/" "$f"
}

# queued FEED: the Message-IDs in FEED's queue, one a line, sorted.
queued() {
	cut -d' ' -f2 "$NNTPD_DIR/spool/feeds/$1" 2>/dev/null | sort
}

@test "feed patterns: the last match decides, ! leaves a group out, @ holds back the whole crosspost, also to a group not carried here" {
	art "$A/1" '<p1@t.example>' local.test
	art "$A/2" '<p2@t.example>' local.secret
	art "$A/3" '<p3@t.example>' local.test,local.secret
	run nntptool postseq "$A/1" "$A/2" "$A/3"
	[ "$(grep -c '^240' <<<"$output")" -eq 3 ]
	# A peer's crosspost to a group not carried here is filed in the rest.
	printf 'Path: other.example!not-for-mail\r\nFrom: P <p@peer.example>\r\nNewsgroups: local.test,alt.elsewhere\r\nSubject: fed\r\nDate: '"$(date -u -R)"'\r\nMessage-ID: <p4@t.example>\r\n\r\nHello.\r\n' >"$A/4"
	run timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" "ihave:<p4@t.example>:$A/4"
	[[ ${lines[2]} == 235* ]]
	run queued bang
	[ "$output" = "$(printf '%s\n' '<p1@t.example>' '<p3@t.example>' '<p4@t.example>')" ]
	run queued poison
	[ "$output" = '<p1@t.example>' ]
	# A later plain pattern lifts the poison for its own group only.
	run queued late
	[ "$output" = "$(printf '%s\n' '<p1@t.example>' '<p4@t.example>')" ]
}

@test "feed /distributions: a negated one keeps those back, a plain one sends only those; no Distribution goes everywhere" {
	art "$A/1" '<d1@t.example>' local.test 'Distribution: world'
	art "$A/2" '<d2@t.example>' local.test 'Distribution: eu'
	art "$A/3" '<d3@t.example>' local.test 'Distribution: fr, eu'
	art "$A/4" '<d4@t.example>' local.test 'Distribution: fr'
	run nntptool postseq "$A/1" "$A/2" "$A/3" "$A/4"
	[ "$(grep -c '^240' <<<"$output")" -eq 4 ]
	run queued noworld
	has '^<d2@t.example>$' '^<d3@t.example>$' '^<d4@t.example>$' '^<p1@t.example>$'
	hasnt '^<d1@t.example>$'
	run queued onlyeu
	has '^<d2@t.example>$' '^<d3@t.example>$' '^<p1@t.example>$'
	hasnt '^<d1@t.example>$' '^<d4@t.example>$'
}

@test "feed <SIZE sends only smaller articles; a relayed article is never queued for the peer named in its Path" {
	art "$A/1" '<z1@t.example>' local.test
	art "$A/2" '<z2@t.example>' local.test
	head -c 1000 /dev/zero | tr '\0' x >>"$A/2"
	printf '\r\n' >>"$A/2"
	run nntptool postseq "$A/1" "$A/2"
	[ "$(grep -c '^240' <<<"$output")" -eq 2 ]
	run queued small
	has '^<z1@t.example>$'
	hasnt '^<z2@t.example>$'
	printf 'Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\nNewsgroups: local.test\r\nSubject: fed\r\nDate: '"$(date -u -R)"'\r\nMessage-ID: <r1@peer.example>\r\n\r\nHello.\r\n' >"$A/r1"
	printf 'Path: other.example!not-for-mail\r\nFrom: P <p@peer.example>\r\nNewsgroups: local.test\r\nSubject: fed\r\nDate: '"$(date -u -R)"'\r\nMessage-ID: <r2@peer.example>\r\n\r\nHello.\r\n' >"$A/r2"
	run timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" "ihave:<r1@peer.example>:$A/r1" "ihave:<r2@peer.example>:$A/r2"
	[ "$(grep -c '^235' <<<"$output")" -eq 2 ]
	run queued peer.example
	has '^<r2@peer.example>$' '^<z1@t.example>$'
	hasnt '^<r1@peer.example>$'
	run queued bang
	has '^<r1@peer.example>$' '^<r2@peer.example>$'
}

# relayed FILE ID GROUPS: an article as a peer relays it.
relayed() {
	printf 'Path: peer2.example!not-for-mail\r\nFrom: P <p@peer.example>\r\nNewsgroups: %s\r\nSubject: fed\r\nDate: '"$(date -u -R)"'\r\nMessage-ID: %s\r\n\r\nHello.\r\n' \
		"$3" "$2" >"$1"
}

@test "peer patterns=: a group the peer may not feed is refused 437/439 and not stored; poison refuses a crosspost; a partly allowed crosspost is filed whole" {
	relayed "$A/1" '<g1@peer2.example>' local.test
	relayed "$A/2" '<g2@peer2.example>' local.secret
	relayed "$A/3" '<g3@peer2.example>' local.test,local.poison
	relayed "$A/4" '<g4@peer2.example>' local.test,local.secret
	relayed "$A/5" '<g5@peer2.example>' local.secret
	run timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" --bind 127.0.0.2 \
		"ihave:<g1@peer2.example>:$A/1" "ihave:<g2@peer2.example>:$A/2" \
		"ihave:<g3@peer2.example>:$A/3" "ihave:<g4@peer2.example>:$A/4" \
		"cmd:MODE STREAM" "stream:<g5@peer2.example>=$A/5"
	echo "$output"
	[[ ${lines[2]} == 235* ]]
	[[ ${lines[4]} == '437 Unwanted newsgroups from this peer' ]]
	[[ ${lines[6]} == '437 Group local.poison refused from this peer' ]]
	[[ ${lines[8]} == 235* ]]
	[[ ${lines[11]} == '439 <g5@peer2.example> Unwanted newsgroups from this peer' ]]
	run nntpctl_run list
	echo "$output"
	grep -q '^local.poison 0 ' <<<"$output"
	# The secret group holds only the crosspost (g4); g2 and g5 were refused.
	n=$(ls "$NNTPD_DIR/spool/articles/local/secret" | wc -l)
	grep -rl '<g4@peer2.example>' "$NNTPD_DIR/spool/articles/local/secret" >/dev/null
	run grep -rlE '<g[235]@peer2.example>' "$NNTPD_DIR/spool/articles"
	[ -z "$output" ]
	# 127.0.0.1 has no patterns: it may feed the secret group.
	run timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" "ihave:<g2@peer2.example>:$A/2"
	[[ ${lines[2]} == 235* ]]
	[ "$(ls "$NNTPD_DIR/spool/articles/local/secret" | wc -l)" -eq $((n + 1)) ]
}

@test "peer max-connections=1: a second connection from that peer gets 400 while the first is open, and is taken once it closes" {
	python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), source_address=("127.0.0.2", 0))
print(s.recv(200).decode().strip(), flush=True)
time.sleep(120)' "$NNTPD_PORT" >"$A/held" 3>&- &
	holder=$!
	POSTEL_PIDS+=("$holder")
	wait_for 20 grep -q '^20[01]' "$A/held"
	run timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" --bind 127.0.0.2 cmd:DATE
	[[ ${lines[0]} == '400 Too many connections from your address' ]]
	# Other addresses are not counted with it.
	run timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" cmd:DATE
	[[ ${lines[1]} == 111* ]]
	kill "$holder"
	wait "$holder" 2>/dev/null || true
	try_date() {
		timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" --bind 127.0.0.2 cmd:DATE 2>/dev/null | grep -q '^111'
	}
	wait_for 30 try_date
}
