#!/usr/bin/env bats
# Group flags beyond y/n/m, as INN's active has them (issue 15): x (no local
# posting, feeds filed), j (known, articles filed in junk) and =other.group
# (an alias, articles filed in the target). Posts with Python's nntplib,
# feeds with IHAVE from a configured peer; each test looks where the article
# landed by GROUP/ARTICLE and in the spool, and at LIST ACTIVE.

setup() {
	load lib/common
	load lib/nntp
	A=$BATS_TEST_TMPDIR/art
	mkdir -p "$A"
	PEER=$POSTEL_ROOT/tests/lib/nntppeer.py
}

# up [nntpd args...]: nntpd with 127.0.0.1 as a peer.
up() {
	nntp_up -o peer=127.0.0.1 "$@"
	SPOOL=$NNTPD_DIR/spool
}

teardown() {
	postel_teardown
}

peer() {
	timeout 300 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" "$@"
}

# fed FILE ID GROUPS: a relayed article as a peer would send it.
fed() {
	printf 'Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\nNewsgroups: %s\r\nSubject: fed\r\nDate: %s\r\nMessage-ID: %s\r\n\r\nHello.\r\n' \
		"$3" "$(date -u -R)" "$2" >"$1"
}

# nlpost GROUPS MSGID: post with nntplib; prints the server's final reply
# (nntplib raises on 4xx, whose text is the reply line).
nlpost() {
	timeout 60 python3 - "$NNTPD_PORT" "$1" "$2" <<'EOF'
import io, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import nntplib
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]), readermode=True, timeout=30)
art = ("From: Poster <poster@example.com>\r\nNewsgroups: %s\r\nSubject: flags\r\n"
       "Message-ID: %s\r\n\r\nposted body\r\n" % (sys.argv[2], sys.argv[3])).encode()
try:
    print(s.post(io.BytesIO(art)))
except nntplib.NNTPError as e:
    print(e)
s.quit()
EOF
}

# numbered DIR: the article files (numbers) directly in a group directory.
numbered() {
	find "$SPOOL/articles/${1//.//}" -maxdepth 1 -type f -name '[0-9]*' -printf '%f\n' 2>/dev/null | sort -n
}

@test "x: POST gets 441 (local postings not allowed), an IHAVE from a peer is filed and readable; LIST ACTIVE shows x" {
	up
	run nntpctl_run newgroup local.feeds x "Feeds only"
	[ "$status" -eq 0 ]
	run nlpost local.feeds '<x1@t.example>'
	[[ $output == "441 Local postings to local.feeds are not allowed (flag x: feeds only)" ]]
	[ -z "$(numbered local.feeds)" ]
	fed "$A/x2" '<x2@peer.example>' local.feeds
	run peer "ihave:<x2@peer.example>:$A/x2"
	grep -q '^235 ' <<<"$output"
	[ "$(numbered local.feeds)" = 1 ]
	grep -qx $'Message-ID: <x2@peer.example>\r' "$SPOOL/articles/local/feeds/1"
	run nntp_session "LIST ACTIVE local.feeds" "GROUP local.feeds" "ARTICLE 1" "ARTICLE <x1@t.example>"
	grep -qx 'local.feeds 0000000001 0000000001 x' <<<"$output"
	grep -qx '211 1 1 1 local.feeds' <<<"$output"
	grep -qx '220 1 <x2@peer.example>' <<<"$output"
	grep -qx 'Xref: test.postel.invalid local.feeds:1' <<<"$output"
	grep -q '^430 ' <<<"$output"
}

@test "j: posts and feeds are accepted and filed in junk (made with flag n), not in the group, which stays readable and empty; a crosspost goes to its other group only" {
	up
	run nntpctl_run newgroup local.junked j "Junked"
	[ "$status" -eq 0 ]
	run nlpost local.junked '<j1@t.example>'
	[[ $output == "240 "* ]]
	fed "$A/j2" '<j2@peer.example>' local.junked
	run peer "ihave:<j2@peer.example>:$A/j2"
	grep -q '^235 ' <<<"$output"
	[ "$(numbered junk | tr '\n' ' ')" = "1 2 " ]
	[ -z "$(numbered local.junked)" ]
	grep -qx $'Message-ID: <j1@t.example>\r' "$SPOOL/articles/junk/1"
	grep -qx $'Newsgroups: local.junked\r' "$SPOOL/articles/junk/1"
	grep -qx $'Message-ID: <j2@peer.example>\r' "$SPOOL/articles/junk/2"
	run nntp_session "LIST ACTIVE" "GROUP local.junked" "GROUP junk" "ARTICLE 2" "ARTICLE <j1@t.example>"
	grep -qx 'junk 0000000002 0000000001 n' <<<"$output"
	grep -qx 'local.junked 0000000000 0000000001 j' <<<"$output"
	grep -qx '211 0 1 0 local.junked' <<<"$output"
	grep -qx '211 2 1 2 junk' <<<"$output"
	grep -qx '220 2 <j2@peer.example>' <<<"$output"
	grep -qx '220 0 <j1@t.example>' <<<"$output"
	grep -qx 'Xref: test.postel.invalid junk:1' <<<"$output"
	# Crossposted to a group that files it, it goes there only (innd).
	run nlpost local.junked,local.test '<j4@t.example>'
	[[ $output == "240 "* ]]
	[ "$(numbered local.test)" = 1 ]
	[ "$(numbered junk | tr '\n' ' ')" = "1 2 " ]
	grep -qx $'Xref: test.postel.invalid local.test:1\r' "$SPOOL/articles/local/test/1"
	# junk itself is n, as in INN: nobody posts to it directly.
	run nlpost junk '<j3@t.example>'
	[[ $output == "441 Posting to junk is not allowed" ]]
}

@test "=alias: posts and feeds to the alias are filed in the target, once when both are named; the alias is readable and empty" {
	up
	run nntpctl_run newgroup local.alias =local.test "Alias of local.test"
	[ "$status" -eq 0 ]
	run nlpost local.alias '<a1@t.example>'
	[[ $output == "240 "* ]]
	fed "$A/a2" '<a2@peer.example>' local.alias
	run peer "ihave:<a2@peer.example>:$A/a2"
	grep -q '^235 ' <<<"$output"
	run nlpost local.alias,local.test '<a3@t.example>'
	[[ $output == "240 "* ]]
	[ "$(numbered local.test | tr '\n' ' ')" = "1 2 3 " ]
	[ -z "$(numbered local.alias)" ]
	grep -qx $'Message-ID: <a1@t.example>\r' "$SPOOL/articles/local/test/1"
	grep -qx $'Message-ID: <a2@peer.example>\r' "$SPOOL/articles/local/test/2"
	grep -qx $'Xref: test.postel.invalid local.test:3\r' "$SPOOL/articles/local/test/3"
	run nntp_session "LIST ACTIVE local.*" "GROUP local.alias" "GROUP local.test" "ARTICLE 1"
	grep -qx 'local.alias 0000000000 0000000001 =local.test' <<<"$output"
	grep -qx '211 0 1 0 local.alias' <<<"$output"
	grep -qx '211 3 1 3 local.test' <<<"$output"
	grep -qx '220 1 <a1@t.example>' <<<"$output"
	# The target's rules apply: an alias of an n group takes no posts.
	run nntpctl_run changegroup local.test n
	[ "$status" -eq 0 ]
	run nlpost local.alias '<a4@t.example>'
	[[ $output == "441 Posting to local.alias is not allowed" ]]
}

@test "nntpctl refuses a bad flag or alias and names it; nntpctl check names a bad flag in active with its line" {
	up
	run nntpctl_run newgroup local.bad q
	[ "$status" -ne 0 ]
	[[ $output == *'bad flag "q": want y, n, m, x, j or =other.group'* ]]
	run nntpctl_run newgroup local.bad =local.none
	[ "$status" -ne 0 ]
	[[ $output == *'bad flag "=local.none": local.none does not exist'* ]]
	run nntpctl_run newgroup local.alias =local.test
	[ "$status" -eq 0 ]
	run nntpctl_run changegroup local.test =local.alias
	[ "$status" -ne 0 ]
	[[ $output == *'local.alias is itself an alias or a j group'* ]]
	run nntpctl_run changegroup local.test xy
	[ "$status" -ne 0 ]
	[[ $output == *'bad flag "xy"'* ]]
	run nntpctl_run list
	grep -q '^local.alias 0 1 =local.test ' <<<"$output"
	grep -q '^local.test 0 1 y ' <<<"$output"
	run nntpctl_run check
	[ "$status" -eq 0 ]
	printf 'local.broken 0000000000 0000000001 z\n' >>"$SPOOL/active"
	run nntpctl_run check
	[ "$status" -ne 0 ]
	[[ $output == *'active:5: bad flag "z": want y, n, m, x, j or =other.group (group local.broken)'* ]]
}

@test "=alias: the post wildmat must allow the target too, so an alias opens no group the access rules close" {
	up -o 'access=127.0.0.0/8 read,post * *,!local.test'
	run nntpctl_run newgroup local.alias =local.test
	[ "$status" -eq 0 ]
	run nntpctl_run newgroup local.open y
	[ "$status" -eq 0 ]
	run nlpost local.alias '<w1@t.example>'
	[[ $output == "441 Posting to local.alias is not allowed from your address" ]]
	[ -z "$(numbered local.test)" ]
	run nlpost local.open '<w2@t.example>'
	[[ $output == "240 "* ]]
	[ "$(numbered local.open)" = 1 ]
}
