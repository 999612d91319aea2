#!/usr/bin/env bats
# nntpd reader commands on a raw connection: the reply codes of RFC 3977
# (section 3.2 and each command's section), RFC 2980's X-commands and
# RFC 6048's LIST keywords, access rules, wildmats and UTF-8 group names.

setup() {
	load lib/common
	load lib/nntp
}

teardown() {
	postel_teardown
}

# three_articles: post articles 1..3 to local.test, Message-IDs <n@t.example>
three_articles() {
	local i
	for i in 1 2 3; do
		article "$NNTPD_DIR/a$i" "Message-ID: <$i@t.example>" "Keywords: kw$i"
		sed -i "s/^Subject: test article/Subject: subject $i/" "$NNTPD_DIR/a$i"
		run post_file "$NNTPD_DIR/a$i"
		[[ ${lines[1]} == 240* ]]
	done
}

@test "loopback gets 200 and CAPABILITIES computed from the session" {
	nntp_up
	run nntp_session CAPABILITIES
	[[ ${lines[0]} == 200* ]]
	[[ ${lines[1]} == "101 "* ]]
	grep -qx 'VERSION 2' <<<"$output"
	grep -qx 'READER' <<<"$output"
	grep -qx 'POST' <<<"$output"
	grep -qx 'HDR' <<<"$output"
	grep -qx 'OVER MSGID' <<<"$output"
	grep -qx 'NEWNEWS' <<<"$output"
	grep -qx 'LIST ACTIVE ACTIVE.TIMES COUNTS DISTRIB.PATS HEADERS MODERATORS MOTD NEWSGROUPS OVERVIEW.FMT SUBSCRIPTIONS' <<<"$output"
	grep -q '^IMPLEMENTATION ' <<<"$output"
}

@test "read-only access: 201, no POST capability, POST is 440, no NEWNEWS when disabled" {
	nntp_up -o 'access=127.0.0.0/8 read *' -o allow_newnews=NO
	run nntp_session CAPABILITIES POST "NEWNEWS * 20000101 000000" "MODE READER"
	[[ ${lines[0]} == 201* ]]
	hasnt '^POST$' '^NEWNEWS$'
	grep -q '^440 ' <<<"$output"
	grep -q '^502 ' <<<"$output"
	[[ ${lines[-1]} == 201* ]]
}

@test "groups outside the read wildmat are invisible (411, not listed)" {
	nntp_up -o 'access=127.0.0.0/8 read,post local.*,!local.nopost'
	run nntp_session "GROUP local.nopost" "GROUP local.test" "LIST ACTIVE" "LIST NEWSGROUPS" \
		"NEWGROUPS 19900101 000000"
	[[ ${lines[1]} == 411* ]]
	[[ ${lines[2]} == "211 0 "* ]]
	grep -q '^local.test ' <<<"$output"
	hasnt 'local\.nopost'
}

@test "posting outside the post wildmat is 441" {
	nntp_up -o 'access=127.0.0.0/8 read,post local.mod'
	article "$NNTPD_DIR/a"
	run post_file "$NNTPD_DIR/a"
	[[ ${lines[0]} == 340* ]]
	[[ ${lines[1]} == "441 "*local.test* ]]
}

@test "unknown commands are 500, bad arguments 501, and the session goes on" {
	nntp_up
	run nntp_session "FROBNICATE" "GROUP" "GROUP a b" "ARTICLE abc" "ARTICLE <bad" \
		"LISTGROUP local.test x-y" "NEWGROUPS 2026 000000" "NEWGROUPS 20260101 000000 EST" \
		"MODE STREAMING" "LIST FOO" "LIST OVERVIEW.FMT x" "LIST HEADERS FOO" "OVER 1-x" \
		"HDR" "XPAT Subject 1-" "NEWNEWS * 2026x101 000000" "$(long_line 5000)" "DATE"
	[[ ${lines[1]} == 500* ]]
	[ "$(grep -c '^501 ' <<<"$output")" -eq 16 ]
	[[ ${lines[-1]} =~ ^111\ [0-9]{14}$ ]]
}

@test "an HTTP request line ends the session without a reply; HEAD and POST with NNTP arguments do not" {
	nntp_up
	local req
	for req in "GET / HTTP/1.1" "POST /x HTTP/1.1" "HEAD / HTTP/1.0" \
		"CONNECT example.com:119 HTTP/1.1" "OPTIONS * HTTP/1.1"; do
		run nntp_session "DATE" "$req" "DATE"
		[[ ${lines[0]} == 200* ]]
		[[ ${lines[1]} == 111* ]]
		[ "${lines[2]}" = "<eof>" ]
		[ "${#lines[@]}" -eq 3 ]
	done
	[ "$(grep -c 'c=127\.0\.0\.1 u=- HTTP request on the NNTP port; closing$' "$NNTPD_LOG")" -eq 5 ]
	# The NNTP commands of the same names, and a third word that is not HTTP/.
	run nntp_session "HEAD / x" "HEAD <none@x>" "POST" "." "GET / HTTP" "DATE"
	[[ ${lines[1]} == 501* ]]
	[[ ${lines[2]} == 430* ]]
	[[ ${lines[3]} == 340* ]]
	[[ ${lines[4]} == 441* ]]
	[[ ${lines[5]} == 500* ]]
	[[ ${lines[6]} =~ ^111\ [0-9]{14}$ ]]
}

@test "412 without a group, 411, 420 in an empty group, 423 and 430" {
	nntp_up
	run nntp_session "ARTICLE 1" "NEXT" "LAST" "OVER" "OVER 1-5" "HDR Subject 1-" "LISTGROUP" \
		"GROUP no.such.group" "GROUP local.test" "ARTICLE" "HEAD" "STAT" "NEXT" \
		"ARTICLE 5" "BODY 5" "OVER 1-5" "XHDR Subject 1-" "ARTICLE <no@such.example>" \
		"OVER <no@such.example>"
	for i in 1 2 3 4 5 6 7; do [[ ${lines[$i]} == 412* ]]; done
	[[ ${lines[8]} == 411* ]]
	[[ ${lines[9]} == "211 0 "* ]]
	for i in 10 11 12 13; do [[ ${lines[$i]} == 420* ]]; done
	for i in 14 15 16 17; do [[ ${lines[$i]} == 423* ]]; done
	[[ ${lines[18]} == 430* ]]
	[[ ${lines[19]} == 430* ]]
}

@test "GROUP, NEXT, LAST, STAT and ARTICLE/HEAD/BODY by number, current and Message-ID" {
	nntp_up
	three_articles
	run nntp_session "GROUP local.test" "STAT" "NEXT" "NEXT" "NEXT" "LAST" "LAST" "LAST" \
		"STAT 3" "STAT <2@t.example>" "HEAD <1@t.example>" "BODY" "ARTICLE 2" "STAT 4"
	[ "${lines[1]}" = "211 3 1 3 local.test" ]
	[ "${lines[2]}" = "223 1 <1@t.example>" ]
	[ "${lines[3]}" = "223 2 <2@t.example>" ]
	[ "${lines[4]}" = "223 3 <3@t.example>" ]
	[[ ${lines[5]} == 421* ]]
	[ "${lines[6]}" = "223 2 <2@t.example>" ]
	[ "${lines[7]}" = "223 1 <1@t.example>" ]
	[[ ${lines[8]} == 422* ]]
	[ "${lines[9]}" = "223 3 <3@t.example>" ]
	[ "${lines[10]}" = "223 0 <2@t.example>" ]
	[ "${lines[11]}" = "221 0 <1@t.example>" ]
	grep -qx 'Subject: subject 1' <<<"$output"
	grep -qx 'Xref: test.postel.invalid local.test:1' <<<"$output"
	grep -qx '222 3 <3@t.example>' <<<"$output"
	grep -qx '220 2 <2@t.example>' <<<"$output"
	[[ ${lines[-1]} == 423* ]]
}

@test "LISTGROUP with ranges, OVER/XOVER slices and OVER by Message-ID" {
	nntp_up
	three_articles
	run nntp_session "LISTGROUP local.test" "LISTGROUP local.test 2-" "LISTGROUP local.test 2" \
		"LISTGROUP local.test 3-1" "OVER 2-3" "XOVER 1-" "OVER <3@t.example>" "OVER 9-12"
	grep -q $'^2\tsubject 2\tTester <tester@example.com>\t[^\t]*\t<2@t.example>\t\t[0-9]*\t1\tXref: test.postel.invalid local.test:2$' <<<"$output"
	grep -q $'^0\tsubject 3\t' <<<"$output"
	[ "$(grep -c $'^[123]\tsubject' <<<"$output")" -eq 5 ]
	# LISTGROUP bodies: 1 2 3 / 2 3 / 2 / nothing
	[ "$(sed -n '/^211 .*list follows/,/^\.$/p' <<<"$output" | grep -c '^[0-9]$')" -eq 6 ]
	[[ ${lines[-1]} == 423* ]]
}

@test "HDR, XHDR and XPAT from overview and from the articles" {
	nntp_up
	three_articles
	run nntp_session "GROUP local.test" "HDR Subject 1-" "XHDR message-id 2" "HDR :lines 1-2" \
		"HDR Keywords 2-3" "XHDR Organization 1" "XPAT Subject 1- *2" "XPAT Keywords 1-3 kw1 *3" \
		"HDR Subject <3@t.example>" "HDR Xref 1" "HDR Subject"
	grep -qx '225 Headers follow' <<<"$output"
	grep -qx '1 subject 1' <<<"$output"
	grep -qx '2 <2@t.example>' <<<"$output"
	grep -qx '2 1' <<<"$output"
	grep -qx '3 kw3' <<<"$output"
	grep -qx '1 (none)' <<<"$output"
	[ "$(grep -c '^2 subject 2$' <<<"$output")" -eq 2 ]
	grep -qx '0 subject 3' <<<"$output"
	grep -qx '1 test.postel.invalid local.test:1' <<<"$output"
	# XPAT's pattern words are joined with a space into one pattern, as INN
	# does (a pattern may hold spaces): "kw1 *3" matches no keyword; a
	# wildmat list (commas) matches either, and only those
	run nntp_session "GROUP local.test" "XPAT Keywords 1-3 kw1 *3" "XPAT Keywords 1-3 kw1,*3"
	[ "$(sed -n '/^221 /,/^\.$/p' <<<"$output" | head -n 2 | tail -n 1)" = . ]
	has '^1 kw1$' '^3 kw3$'
	hasnt '^2 kw2$'
}

@test "LIST keywords: ACTIVE with wildmat, ACTIVE.TIMES, NEWSGROUPS, COUNTS, OVERVIEW.FMT, HEADERS" {
	nntp_up
	three_articles
	run nntp_session "LIST" "LIST ACTIVE local.n*" "LIST ACTIVE.TIMES" "LIST NEWSGROUPS local.test" \
		"LIST COUNTS local.test" "LIST OVERVIEW.FMT" "LIST HEADERS" "LIST HEADERS MSGID"
	grep -qx 'local.test 0000000003 0000000001 y' <<<"$output"
	grep -qx 'local.nopost 0000000000 0000000001 n' <<<"$output"
	grep -qx 'local.mod 0000000000 0000000001 m' <<<"$output"
	[ "$(grep -c '^local.test 0000000003' <<<"$output")" -eq 2 ] # LIST and LIST COUNTS, not LIST ACTIVE local.n*
	grep -q '^local.test [0-9]* ' <<<"$output"
	grep -qx $'local.test\tTest group' <<<"$output"
	grep -qx 'local.test 0000000003 0000000001 3 y' <<<"$output"
	fmt=$(sed -n '/^215 Order/,/^\.$/p' <<<"$output" | tr '\n' ' ')
	[ "$fmt" = "215 Order of fields in overview database Subject: From: Date: Message-ID: References: :bytes :lines Xref:full . " ]
	[ "$(grep -cx ':bytes' <<<"$output")" -eq 3 ]
}

@test "LIST MOTD and DISTRIB.PATS: 503 when not configured, dot-stuffed when they are" {
	nntp_up
	run nntp_session "LIST MOTD" "LIST DISTRIB.PATS"
	[[ ${lines[1]} == 503* ]]
	[[ ${lines[2]} == 503* ]]
	stop_nntpd
	printf 'Welcome.\n.dotted line\n' >"$NNTPD_DIR/motd"
	start_nntpd -o "motd_file=$NNTPD_DIR/motd" -o "distrib_pats=10:local.*:local" \
		-o "distrib_pats=5:*:world"
	run nntp_session "LIST MOTD" "LIST DISTRIB.PATS"
	grep -qx 'Welcome.' <<<"$output"
	grep -qx '..dotted line' <<<"$output"
	grep -qx '10:local.\*:local' <<<"$output"
	grep -qx '5:\*:world' <<<"$output"
}

@test "NEWGROUPS and NEWNEWS by date, with and without GMT, two-digit years" {
	nntp_up
	three_articles
	run nntp_session "NEWGROUPS 19900101 000000 GMT" "NEWGROUPS 900101 000000" \
		"NEWGROUPS 20990101 000000" "NEWNEWS local.* 19900101 000000 GMT" \
		"NEWNEWS local.nopost 19900101 000000" "NEWNEWS * 20990101 000000"
	[ "$(grep -c '^local.test ' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^<[123]@t.example>$' <<<"$output")" -eq 3 ]
	[ "$(grep -c '^231 ' <<<"$output")" -eq 3 ]
	[ "$(grep -c '^230 ' <<<"$output")" -eq 3 ]
}

@test "UTF-8 group names: GROUP, LIST with a one-character wildmat, posting" {
	nntp_up
	nntpctl_run newgroup local.tëst y "Ümlaut group"
	article "$NNTPD_DIR/a"
	sed -i 's/^Newsgroups: local.test/Newsgroups: local.tëst/' "$NNTPD_DIR/a"
	run post_file "$NNTPD_DIR/a"
	[[ ${lines[1]} == 240* ]]
	run nntp_session "GROUP local.tëst" "LIST ACTIVE local.t?st" "LIST NEWSGROUPS local.t?st"
	[ "${lines[1]}" = "211 1 1 1 local.tëst" ]
	grep -qx 'local.tëst 0000000001 0000000001 y' <<<"$output"
	grep -qx 'local.test 0000000000 0000000001 y' <<<"$output"
	grep -qx $'local.tëst\tÜmlaut group' <<<"$output"
}

@test "HELP lists every command from the table; DATE; QUIT closes with 205" {
	nntp_up
	run nntp_session HELP DATE QUIT
	[[ ${lines[1]} == 100* ]]
	for c in ARTICLE BODY CAPABILITIES DATE GROUP HDR HEAD HELP LAST LIST LISTGROUP MODE \
		NEWGROUPS NEWNEWS NEXT OVER POST QUIT STAT XHDR XOVER XPAT; do
		grep -q "^  $c" <<<"$output"
	done
	[[ ${lines[-3]} =~ ^111\ 20[0-9]{12}$ ]]
	[ "${lines[-2]}" = "205 Bye!" ]
	[ "${lines[-1]}" = "<closed>" ]
}

@test "pipelined commands are answered in order" {
	nntp_up
	three_articles
	run python3 - "$NNTPD_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
cmds = b"".join(b"STAT %d\r\n" % (i % 3 + 1) for i in range(200))
s.sendall(b"GROUP local.test\r\n" + cmds + b"QUIT\r\n")
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
lines = data.decode().split("\r\n")
stats = [l for l in lines if l.startswith("223 ")]
ok = len(stats) == 200 and all(l.split()[1] == str(i % 3 + 1) for i, l in enumerate(stats))
print("ok" if ok and lines[-2].startswith("205") else "bad %d" % len(stats))
PY
	[ "$output" = ok ]
}
