#!/usr/bin/env bats
# POST (RFC 3977 6.3.1, RFC 5536/5537): what the server adds, every refusal
# with 441 and a session that goes on, size limits, dot-stuffing both ways
# and byte-exact round trips, and a writer that is down.

setup() {
	load lib/common
	load lib/nntp
	nntp_up -o max_article_size=20000
	A=$NNTPD_DIR/art
	mkdir -p "$A"
}

teardown() {
	postel_teardown
}

@test "POST gets 340 with a recommended Message-ID, then 240; the server adds its headers" {
	article "$A/ok"
	run post_file "$A/ok"
	[[ ${lines[0]} =~ ^340\ .*\<[^@]+@test.postel.invalid\>$ ]]
	[[ ${lines[1]} == 240* ]]
	rec=$(grep -o '<[^>]*>' <<<"${lines[0]}")
	run nntp_session "ARTICLE $rec"
	[[ ${lines[1]} == "220 0 $rec" ]]
	grep -qx "Message-ID: $rec" <<<"$output"
	grep -qx 'Path: test.postel.invalid!.POSTED!not-for-mail' <<<"$output"
	grep -q '^Date: ' <<<"$output"
	grep -q '^Injection-Date: ' <<<"$output"
	grep -qx 'Injection-Info: test.postel.invalid; posting-host="127.0.0.1"' <<<"$output"
	grep -qx 'Xref: test.postel.invalid local.test:1' <<<"$output"
}

@test "every refusal is 441 with a reason, and the session goes on" {
	local big i
	{ printf 'Newsgroups: local.test\r\nSubject: s\r\n\r\nx\r\n'; } >"$A/01-nofrom"
	{ printf 'From: a <a@example.com>\r\nNewsgroups: local.test\r\n\r\nx\r\n'; } >"$A/02-nosubject"
	{ printf 'From: a <a@example.com>\r\nSubject: s\r\n\r\nx\r\n'; } >"$A/03-nonewsgroups"
	article "$A/04-dupsubject" "Subject: again"
	{ printf 'From: nobody\r\nNewsgroups: local.test\r\nSubject: s\r\n\r\nx\r\n'; } >"$A/05-badfrom"
	article "$A/06-badmsgid" "Message-ID: <no-at-sign>"
	article "$A/07-future" "Date: Thu, 01 Jan 2099 00:00:00 +0000"
	article "$A/08-unknown"
	sed -i 's/^Newsgroups: .*/Newsgroups: local.nosuch\r/' "$A/08-unknown"
	article "$A/09-nopost"
	sed -i 's/^Newsgroups: .*/Newsgroups: local.nopost\r/' "$A/09-nopost"
	article "$A/10-moderated"
	sed -i 's/^Newsgroups: .*/Newsgroups: local.mod\r/' "$A/10-moderated"
	article "$A/11-xref" "Xref: elsewhere local.test:5"
	article "$A/12-injinfo" "Injection-Info: elsewhere"
	article "$A/13-postinghost" "NNTP-Posting-Host: elsewhere"
	article "$A/14-longheader" "X-Long: $(long_line 1000)"
	{
		cat "$A/08-unknown" | head -c 0
		printf 'From: a <a@example.com>\r\nNewsgroups: local.test\r\nSubject: big\r\n\r\n'
		for ((i = 0; i < 400; i++)); do printf '%s\r\n' "$(long_line 70)"; done
	} >"$A/15-toobig"
	article "$A/16-first" "Message-ID: <dup@t.example>"
	article "$A/17-dup" "Message-ID: <dup@t.example>"
	run nntptool postseq "$A"/*
	for i in $(seq 0 14); do [[ ${lines[$i]} == 441\ ?* ]]; done
	[[ ${lines[15]} == 240* ]]
	[[ ${lines[16]} == 441*[Dd]uplicate* ]]
	[[ ${lines[17]} =~ ^111\ [0-9]{14}$ ]]
	local why=(From Subject Newsgroups "Duplicate Subject" From Message-ID Date local.nosuch
		local.nopost Approved Xref Injection-Info NNTP-Posting-Host 998 large)
	for i in "${!why[@]}"; do
		grep -qi -- "${why[$i]}" <<<"${lines[$i]}"
	done
	# only the one good article was stored
	run nntp_session "GROUP local.test"
	[[ ${lines[1]} == "211 1 1 1 local.test" ]]
}

@test "a moderated group takes an article with Approved" {
	article "$A/m" "Approved: mod@example.com"
	sed -i 's/^Newsgroups: .*/Newsgroups: local.mod\r/' "$A/m"
	run post_file "$A/m"
	[[ ${lines[1]} == 240* ]]
}

@test "an article over max_article_size is read to its end: the next command is a command" {
	local i
	{
		printf 'From: a <a@example.com>\r\nNewsgroups: local.test\r\nSubject: big\r\n\r\n'
		printf 'ARTICLE 1\r\n'
		printf '%s\r\n' "$(long_line 30000)"
		for ((i = 0; i < 400; i++)); do printf 'QUIT\r\n'; done
	} >"$A/big"
	run nntptool postseq "$A/big"
	[[ ${lines[0]} == 441* ]]
	[[ ${lines[1]} =~ ^111\ [0-9]{14}$ ]]
}

@test "article bytes round-trip exactly: dot lines, 8-bit bodies, long lines" {
	{
		printf 'From: Tester <tester@example.com>\r\nNewsgroups: local.test\r\n'
		printf 'Subject: =?UTF-8?Q?r=C3=B6und?= trip\r\nMessage-ID: <rt@t.example>\r\n'
		printf 'X-Folded: one\r\n\ttwo\r\n\r\n'
		printf '.\r\n..\r\n.leading dot\r\ntrailing dot.\r\n\r\n'
		printf 'latin-1 \xe9\xe8\xff and utf-8 \xc3\xa9\xe2\x82\xac\r\n'
		printf 'tabs\tand  spaces  \r\n'
		printf '%s\r\n' "$(long_line 15000)"
		printf '\r\n\r\nlast line\r\n'
	} >"$A/rt"
	run post_file "$A/rt"
	[[ ${lines[1]} == 240* ]]
	sed -n '/^\r$/,$p' "$A/rt" | tail -n +2 >"$A/rt.body"
	sed -n '1,/^\r$/p' "$A/rt" >"$A/rt.head"
	run nntptool fetch local.test BODY 1 "$A/got.body"
	[[ ${lines[0]} == "222 1 <rt@t.example>" ]]
	cmp "$A/rt.body" "$A/got.body"
	run nntptool fetch local.test ARTICLE "<rt@t.example>" "$A/got.art"
	[[ ${lines[0]} == "220 0 <rt@t.example>" ]]
	# the article is our headers (with the server's added), blank line, same body
	tail -c "$(stat -c %s "$A/rt.body")" "$A/got.art" | cmp - "$A/rt.body"
	grep -q $'^X-Folded: one\r$' "$A/got.art"
	grep -q $'^\ttwo\r$' "$A/got.art"
	run nntptool fetch local.test HEAD 1 "$A/got.head"
	[[ ${lines[0]} == "221 1 <rt@t.example>" ]]
	hasnt -f "$A/got.head" 'last line'
	# the wire form really was dot-stuffed
	run nntp_session "GROUP local.test" "BODY 1"
	[ "${lines[3]}" = ".." ]
	[ "${lines[4]}" = "..." ]
	[ "${lines[5]}" = "..leading dot" ]
}

@test "writer down: POST is 440 and nothing is stored; back up, posting works again" {
	article "$A/a"
	mv "$NNTPD_DIR/spool/writer.sock" "$NNTPD_DIR/spool/writer.sock.away"
	run post_file "$A/a"
	[[ ${lines[0]} == 340* ]]
	[[ ${lines[1]} == 440* ]]
	run nntp_session "GROUP local.test"
	[[ ${lines[1]} == "211 0 "* ]]
	mv "$NNTPD_DIR/spool/writer.sock.away" "$NNTPD_DIR/spool/writer.sock"
	run post_file "$A/a"
	[[ ${lines[1]} == 240* ]]
}

@test "a client that disconnects mid-article posts nothing" {
	run python3 - "$NNTPD_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.recv(1000)
s.sendall(b"POST\r\n")
s.recv(1000)
s.sendall(b"From: a <a@example.com>\r\nNewsgroups: local.test\r\nSubject: cut\r\n\r\nhalf")
s.close()
PY
	# its session is over (the monitor logs the end after the worker exits)
	wait_for 10 has -f "$NNTPD_LOG" 'session end'
	run nntp_session "GROUP local.test"
	[[ ${lines[1]} == "211 0 "* ]]
}
