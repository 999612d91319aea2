#!/usr/bin/env bats
# Smaller reader and feed gaps of issue 15, each with Python's nntplib (or a
# raw socket where nntplib cannot send the bytes): LIST SUBSCRIPTIONS and
# XGTITLE, XHDR/XPAT by Message-ID, Message-ID lookups after a group is
# removed and created again, TAKETHIS while the writer is down, and
# articles holding a bare CR.

setup() {
	load lib/common
	load lib/nntp
	A=$BATS_TEST_TMPDIR/art
	mkdir -p "$A"
}

teardown() {
	postel_teardown
}

# py ARGS... <<'PY': a Python script from stdin, given the port then ARGS
py() {
	timeout 120 python3 -W ignore - "$NNTPD_PORT" "$@"
}

# post_id ID [SUBJECT]: POST a valid article to local.test with that Message-ID
post_id() {
	article "$A/p" "Message-ID: $1"
	sed -i "s/^Subject: test article/Subject: ${2:-test article}/" "$A/p"
	run post_file "$A/p"
	[[ ${lines[1]} == 240* ]]
}

@test "LIST SUBSCRIPTIONS: a missing file is an empty 215 list; the file's groups, without comments or unreadable groups, wildmat too" {
	nntp_up -o "subscriptions_file=$NNTPD_DIR/no-such-file"
	run py <<'PY'
import nntplib, sys
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]))
resp, lines = s._longcmdstring("LIST SUBSCRIPTIONS")
print(resp)
print("count", len(lines))
print([l for l in s.getcapabilities()["LIST"]])
PY
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "215 "* ]]
	[ "${lines[1]}" = "count 0" ]
	[[ ${lines[2]} == *"'SUBSCRIPTIONS'"* ]]
	stop_nntpd
	printf 'local.test\n# a comment\n\n  local.mod  \nlocal.hidden\n.dotted\n' >"$NNTPD_DIR/subs"
	start_nntpd -o "subscriptions_file=$NNTPD_DIR/subs" \
		-o 'access=127.0.0.0/8 read,post *,!local.hidden'
	run py <<'PY'
import nntplib, sys
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]))
for cmd in ("LIST SUBSCRIPTIONS", "LIST SUBSCRIPTIONS local.m*"):
    resp, lines = s._longcmdstring(cmd)
    print(cmd, "->", resp[:3], lines)
PY
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "LIST SUBSCRIPTIONS -> 215 ['local.test', 'local.mod', '.dotted']" ]
	[ "${lines[1]}" = "LIST SUBSCRIPTIONS local.m* -> 215 ['local.mod']" ]
}

@test "XGTITLE: 282 with the descriptions a wildmat names or the selected group's; 481 with neither; in HELP" {
	nntp_up -o 'access=127.0.0.0/8 read,post *,!local.nopost'
	run py <<'PY'
import nntplib, sys
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]))
try:
    s._longcmdstring("XGTITLE")
    print("no error")
except nntplib.NNTPTemporaryError as e:
    print("error", e.response)
resp, lines = s._longcmdstring("XGTITLE local.*")
print(resp[:3], sorted(lines))
s.group("local.mod")
resp, lines = s._longcmdstring("XGTITLE")
print(resp[:3], lines)
resp, lines = s._longcmdstring("XGTITLE no.such.*")
print(resp[:3], lines)
resp, lines = s.help()
print("help", [l.split()[0] for l in lines if l.split()[0] == "XGTITLE"])
PY
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "error 481 "* ]]
	[ "${lines[1]}" = "282 ['local.mod\tModerated', 'local.test\tTest group']" ]
	[ "${lines[2]}" = "282 ['local.mod\tModerated']" ]
	[ "${lines[3]}" = "282 []" ]
	[ "${lines[4]}" = "help ['XGTITLE']" ]
}

@test "XHDR and XPAT by Message-ID start the line with that Message-ID; HDR keeps 0; by number the number" {
	nntp_up
	post_id '<x1@t.example>' 'first subject'
	post_id '<x2@t.example>' 'second subject'
	run py <<'PY'
import nntplib, sys
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]))
print(s.xhdr("subject", "<x2@t.example>")[1])
print(s._longcmdstring("XPAT Subject <x2@t.example> second*")[1])
print(s._longcmdstring("XPAT Subject <x2@t.example> first*")[1])
print(s._longcmdstring("XHDR Keywords <x1@t.example>")[1])
print(s._longcmdstring("HDR Subject <x2@t.example>")[1])
s.group("local.test")
print(s.xhdr("subject", "1-2")[1])
PY
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "['<x2@t.example> second subject']" ]
	[ "${lines[1]}" = "['<x2@t.example> second subject']" ]
	[ "${lines[2]}" = "[]" ]
	[ "${lines[3]}" = "['<x1@t.example> (none)']" ]
	[ "${lines[4]}" = "['0 second subject']" ]
	[ "${lines[5]}" = "[('1', 'first subject'), ('2', 'second subject')]" ]
}

@test "after rmgroup and newgroup of one name, an old Message-ID is 430 for ARTICLE/HEAD/BODY/STAT/OVER/XHDR, not the new article" {
	nntp_up
	post_id '<old@t.example>' 'old one'
	nntpctl_run rmgroup local.test
	nntpctl_run newgroup local.test y "Test group again"
	post_id '<new@t.example>' 'new one'
	run py <<'PY'
import nntplib, sys
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]))
resp, count, first, last, name = s.group("local.test")
print("group", count, first, last)
for what, call in (("article", s.article), ("head", s.head), ("body", s.body),
                   ("stat", s.stat), ("over", s.over)):
    try:
        r = call("<old@t.example>")
        print(what, "served", r[0][:3])
    except nntplib.NNTPTemporaryError as e:
        print(what, e.response[:3])
try:
    print("xhdr served", s.xhdr("subject", "<old@t.example>")[1])
except nntplib.NNTPTemporaryError as e:
    print("xhdr", e.response[:3])
resp, info = s.article("<new@t.example>")
print("new", resp[:3], b"Subject: new one" in info.lines)
print("over new", [o[1]["subject"] for o in s.over("<new@t.example>")[1]])
PY
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "group 1 1 1" ]
	[ "${lines[1]}" = "article 430" ]
	[ "${lines[2]}" = "head 430" ]
	[ "${lines[3]}" = "body 430" ]
	[ "${lines[4]}" = "stat 430" ]
	[ "${lines[5]}" = "over 430" ]
	[ "${lines[6]}" = "xhdr 430" ]
	[ "${lines[7]}" = "new 220 True" ]
	[ "${lines[8]}" = "over new ['new one']" ]
}

@test "TAKETHIS while the writer is down: 400 and the connection closes, nothing stored; CHECK 431, IHAVE 436; back up: 239" {
	nntp_up -o peer=127.0.0.1
	mv "$NNTPD_DIR/spool/writer.sock" "$NNTPD_DIR/spool/writer.sock.away"
	run py <<'PY'
import email.utils, socket, sys
art = (b"Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\n"
       b"Newsgroups: local.test\r\nSubject: fed\r\n"
       b"Date: " + email.utils.formatdate(usegmt=True).encode() + b"\r\nMessage-ID: <down@peer.example>\r\n"
       b"\r\nHello.\r\n.\r\n")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
def line():
    return f.readline().decode().rstrip("\r\n")
line()
for cmd in (b"MODE STREAM", b"CHECK <down@peer.example>", b"IHAVE <down@peer.example>"):
    s.sendall(cmd + b"\r\n")
    print(line())
s.sendall(art)
print(line())
s.sendall(b"TAKETHIS <down@peer.example>\r\n" + art)
print(line())
try:  # the server has closed: EOF, or a reset for the DATE sent after it
    s.sendall(b"DATE\r\n")
    rest = f.readline()
except ConnectionError:
    rest = b""
print("after:", repr(rest))
PY
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == 203* ]]
	[ "${lines[1]}" = "431 <down@peer.example> Writer unavailable, try again later" ]
	[[ ${lines[2]} == 335* ]]
	[[ ${lines[3]} == 436* ]]
	[[ ${lines[4]} == "400 "*unavailable* ]]
	[ "${lines[5]}" = "after: b''" ]
	mv "$NNTPD_DIR/spool/writer.sock.away" "$NNTPD_DIR/spool/writer.sock"
	run py <<'PY'
import nntplib, sys
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]))
print(s.group("local.test")[1])
PY
	[ "${lines[0]}" = 0 ]
	run py <<'PY'
import email.utils, socket, sys
art = (b"Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\n"
       b"Newsgroups: local.test\r\nSubject: fed\r\n"
       b"Date: " + email.utils.formatdate(usegmt=True).encode() + b"\r\nMessage-ID: <down@peer.example>\r\n"
       b"\r\nHello.\r\n.\r\n")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
f.readline()
s.sendall(b"MODE STREAM\r\nTAKETHIS <down@peer.example>\r\n" + art)
print(f.readline().decode().rstrip())
print(f.readline().decode().rstrip())
PY
	[ "${lines[1]}" = "239 <down@peer.example>" ]
}

@test "a bare CR in body or headers: POST 441, IHAVE 437, TAKETHIS 439 with the reason, nothing stored; CRLF articles pass" {
	nntp_up -o peer=127.0.0.1
	run py <<'PY'
import email.utils, socket, sys
def art(mid, extra_head=b"", body=b"Hello.\r\n"):
    return (b"Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\n"
            b"Newsgroups: local.test\r\nSubject: cr\r\n" + extra_head +
            b"Date: " + email.utils.formatdate(usegmt=True).encode() + b"\r\nMessage-ID: " + mid +
            b"\r\n\r\n" + body + b".\r\n")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
def line():
    return f.readline().decode().rstrip("\r\n")
def cmd(c):
    s.sendall(c + b"\r\n")
    return line()
line()
print("post body", cmd(b"POST")[:3], end=" ")
s.sendall(art(b"<cr1@peer.example>", body=b"one\rtwo\r\n"))
print(line())
print("post head", cmd(b"POST")[:3], end=" ")
s.sendall(art(b"<cr2@peer.example>", extra_head=b"X-Odd: a\rb\r\n"))
print(line())
print("post end", cmd(b"POST")[:3], end=" ")
s.sendall(art(b"<cr3@peer.example>", body=b"last line\r\r\n"))
print(line())
print("ihave", cmd(b"IHAVE <cr4@peer.example>")[:3], end=" ")
s.sendall(art(b"<cr4@peer.example>", body=b"one\rtwo\r\n"))
print(line())
print("stream", cmd(b"MODE STREAM")[:3])
s.sendall(b"TAKETHIS <cr5@peer.example>\r\n" + art(b"<cr5@peer.example>", body=b"\rx\r\n"))
print("takethis", line())
print("post ok", cmd(b"POST")[:3], end=" ")
s.sendall(art(b"<crok@peer.example>"))
print(line())
print("group", cmd(b"GROUP local.test"))
for i in range(1, 6):
    print("stat", cmd(b"STAT <cr%d@peer.example>" % i)[:3])
PY
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "post body 340 441 Article contains a bare CR (not followed by LF)" ]
	[ "${lines[1]}" = "post head 340 441 Article contains a bare CR (not followed by LF)" ]
	[ "${lines[2]}" = "post end 340 441 Article contains a bare CR (not followed by LF)" ]
	[ "${lines[3]}" = "ihave 335 437 Article contains a bare CR (not followed by LF)" ]
	[ "${lines[4]}" = "stream 203" ]
	[ "${lines[5]}" = "takethis 439 <cr5@peer.example> Article contains a bare CR (not followed by LF)" ]
	[[ ${lines[6]} == "post ok 340 240 "* ]]
	[ "${lines[7]}" = "group 211 1 1 1 local.test" ]
	for i in 8 9 10 11 12; do [ "${lines[$i]}" = "stat 430" ]; done
	[ -z "$(find "$NNTPD_DIR/spool/articles" -type f -name 2)" ]
}
