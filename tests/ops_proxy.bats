#!/usr/bin/env bats
# PROXY protocol v1 and v2, raw, against ftpd and nntpd: a trusted header names
# the client for logs, max_per_ip, the bounce and hijack checks and the
# xferlog; an untrusted source, a malformed header or none at all closes the
# connection with a log line that names the peer.

setup() {
	load lib/common
	load lib/ops
}

teardown() {
	postel_teardown
}

# use ftp|nntp: start that daemon behind PROXY_ON (plus ARGS), set PORT, LOG,
# GREET (the greeting's code) and PER_IP (the max_per_ip refusal).
use() {
	PROTO=$1
	shift
	if [ "$PROTO" = ftp ]; then
		start_ftpd -o delay_failed_login=0 "${PROXY_ON[@]}" "$@"
		PORT=$FTPD_PORT LOG=$FTPD_LOG GREET='^220 ' PER_IP='^421 '
	else
		# the named clients are not on loopback: open the access rules
		start_nntpd "${PROXY_ON[@]}" -o 'access=0.0.0.0/0 read,post *' \
			-o 'access=::/0 read,post *' "$@"
		PORT=$NNTPD_PORT LOG=$NNTPD_LOG GREET='^20[01] ' PER_IP='^400 '
	fi
}

# hello HEADER-EXPR [SOURCE]: connect (from SOURCE), send the header Python
# builds, print the greeting and whether the server then closes.
hello() {
	ops_py '
kw = {"source": ARGS[3]} if len(ARGS) > 3 and ARGS[3] else {}
c = Line(ARGS[0], "127.0.0.1", int(ARGS[1]), header=eval(ARGS[2]), **kw)
print("GREETING", c.greeting)
print("QUIT", c.cmd("QUIT"))
' "$PROTO" "$PORT" "$@"
}

trusted_v1_names_the_client() {
	use "$1"
	run hello 'v1("192.0.2.7", 51000)'
	[ "$status" -eq 0 ]
	has "^GREETING ${GREET#^}"
	log_wait "$LOG" 's=[0-9a-f]+ c=192\.0\.2\.7 u=- session start'
	hasnt -f "$LOG" 'c=127\.0\.0\.1 '
}

@test "ftpd: a PROXY v1 header from a trusted address names the client in the log" {
	trusted_v1_names_the_client ftp
}

@test "nntpd: a PROXY v1 header from a trusted address names the client in the log" {
	trusted_v1_names_the_client nntp
}

trusted_v2_names_the_client() {
	use "$1"
	run hello 'v2("198.51.100.9", 52000)'
	[ "$status" -eq 0 ]
	has "^GREETING ${GREET#^}"
	run hello 'v2("2001:db8::42", 52001)'
	[ "$status" -eq 0 ]
	has "^GREETING ${GREET#^}"
	log_wait "$LOG" 'c=198\.51\.100\.9 u=- session start'
	log_wait "$LOG" 'c=2001:db8::42 u=- session start'
}

@test "ftpd: a PROXY v2 header (IPv4 and IPv6) from a trusted address names the client" {
	trusted_v2_names_the_client ftp
}

@test "nntpd: a PROXY v2 header (IPv4 and IPv6) from a trusted address names the client" {
	trusted_v2_names_the_client nntp
}

local_and_unknown_keep_the_peer() {
	use "$1"
	run hello 'v2_local()'
	[ "$status" -eq 0 ]
	has "^GREETING ${GREET#^}"
	run hello 'v1_unknown()'
	[ "$status" -eq 0 ]
	has "^GREETING ${GREET#^}"
	log_wait "$LOG" 'c=127\.0\.0\.1 u=- session start'
	[ "$(grep -c 'c=127\.0\.0\.1 u=- session start' "$LOG")" -eq 2 ]
}

@test "ftpd: PROXY v2 LOCAL and v1 UNKNOWN keep the real peer as the client" {
	local_and_unknown_keep_the_peer ftp
}

@test "nntpd: PROXY v2 LOCAL and v1 UNKNOWN keep the real peer as the client" {
	local_and_unknown_keep_the_peer nntp
}

max_per_ip_counts_the_named_client() {
	use "$1" -o max_per_ip=1
	run ops_py '
proto, port = ARGS[0], int(ARGS[1])
a = Line(proto, "127.0.0.1", port, header=v2("192.0.2.7", 40001))
print("A", a.greeting)
b = Line(proto, "127.0.0.1", port, header=v1("192.0.2.7", 40002))
print("B", b.greeting)
print("B-CLOSED", b.closed(5))
c = Line(proto, "127.0.0.1", port, header=v2("192.0.2.8", 40003))
print("C", c.greeting)
print("A-QUIT", a.cmd("QUIT"))
print("C-QUIT", c.cmd("QUIT"))
' "$PROTO" "$PORT"
	[ "$status" -eq 0 ]
	has "^A ${GREET#^}"
	has "^B ${PER_IP#^}"
	has '^B-CLOSED True$'
	has "^C ${GREET#^}"
	grep -Eq 'refused c=192\.0\.2\.7: max_per_ip' "$LOG"
	hasnt -f "$LOG" 'refused c=192\.0\.2\.8'
}

@test "ftpd: max_per_ip counts the client the header names (421), another named client gets in" {
	max_per_ip_counts_the_named_client ftp
}

@test "nntpd: max_per_ip counts the client the header names (400), another named client gets in" {
	max_per_ip_counts_the_named_client nntp
}

untrusted_source_is_closed() {
	use "$1"
	run hello 'v2("192.0.2.7")' 127.0.0.2
	[ "$status" -eq 0 ]
	has '^GREETING <closed>$'
	log_wait "$LOG" 'refused c=127\.0\.0\.2: PROXY protocol from an untrusted address'
	hasnt -f "$LOG" 'session start'
}

@test "ftpd: a PROXY header from an untrusted address (127.0.0.2) closes the connection" {
	untrusted_source_is_closed ftp
}

@test "nntpd: a PROXY header from an untrusted address (127.0.0.2) closes the connection" {
	untrusted_source_is_closed nntp
}

malformed_is_closed() {
	use "$1"
	local h
	for h in 'b"PROXY TCP4 192.0.2.7\r\n"' \
		'b"PROXY TCP4 300.1.1.1 127.0.0.1 1 2\r\n"' \
		'V2_SIG + bytes([0x21, 0x11, 0, 4]) + b"\x01\x02\x03\x04"' \
		'V2_SIG + bytes([0x31, 0x11, 0, 12]) + bytes(12)' \
		'b"GET / HTTP/1.0\r\n\r\n"'; do
		run hello "$h"
		[ "$status" -eq 0 ]
		has '^GREETING <closed>$'
	done
	log_wait "$LOG" 'refused c=127\.0\.0\.1: malformed or missing PROXY header'
	[ "$(grep -c 'malformed or missing PROXY header' "$LOG")" -eq 5 ]
	hasnt -f "$LOG" 'session start'
}

@test "ftpd: malformed PROXY headers (short v1, bad address, short v2, bad version, HTTP) close the connection" {
	malformed_is_closed ftp
}

@test "nntpd: malformed PROXY headers (short v1, bad address, short v2, bad version, HTTP) close the connection" {
	malformed_is_closed nntp
}

missing_header_is_closed() {
	use "$1"
	run ops_py '
proto, port = ARGS[0], int(ARGS[1])
t = time.time()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.settimeout(10)
try:
    got = s.recv(100)
except (ConnectionResetError, socket.timeout) as e:
    got = repr(e).encode()
print("SILENT", got, round(time.time() - t))
t = time.time()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"QUIT\r\n")
try:
    got = s.recv(100)
except ConnectionResetError:
    got = b""
print("TALKER", got, round(time.time() - t, 1))
' "$PROTO" "$PORT"
	[ "$status" -eq 0 ]
	# a silent client is closed after about 5 s, with nothing sent
	has "^SILENT b'' [4-7]$"
	# one that talks first is not a proxy: closed at once
	has "^TALKER b'' 0\\.[0-9]$"
	log_wait "$LOG" 'refused c=127\.0\.0\.1: no PROXY header in time'
	log_wait "$LOG" 'refused c=127\.0\.0\.1: malformed or missing PROXY header'
}

@test "ftpd: no PROXY header closes after 5 s, or at once when the client speaks first" {
	missing_header_is_closed ftp
}

@test "nntpd: no PROXY header closes after 5 s, or at once when the client speaks first" {
	missing_header_is_closed nntp
}

@test "ftpd: a header split over several packets is still read whole" {
	use ftp
	run ops_py '
h = v2("192.0.2.77")
s = socket.create_connection(("127.0.0.1", int(ARGS[0])), timeout=10)
for i in range(0, len(h), 5):
    s.sendall(h[i:i + 5]); time.sleep(0.05)
c = Line("ftp", None, None, sock=s)
print("GREETING", c.greeting)
print("USER", c.cmd("USER ftp"))
' "$PORT"
	[ "$status" -eq 0 ]
	has '^GREETING 220 '
	has '^USER 331 '
	log_wait "$LOG" 'c=192\.0\.2\.77 u=- session start'
}

@test "ftpd: the header is read exactly: a command right behind it in the same packet is answered" {
	use ftp
	run ops_py '
s = socket.create_connection(("127.0.0.1", int(ARGS[0])), timeout=10)
s.sendall(v1("192.0.2.78") + b"USER ftp\r\n")
c = Line("ftp", None, None, sock=s)
print("GREETING", c.greeting)
print("USER", c.reply()[0])
' "$PORT"
	[ "$status" -eq 0 ]
	has '^GREETING 220 '
	has '^USER 331 '
}

@test "nntpd: the header is read exactly: a command right behind it in the same packet is answered" {
	use nntp
	run ops_py '
s = socket.create_connection(("127.0.0.1", int(ARGS[0])), timeout=10)
s.sendall(v2("192.0.2.79") + b"DATE\r\n")
c = Line("nntp", None, None, sock=s)
print("GREETING", c.greeting)
print("DATE", c.reply()[0])
' "$PORT"
	[ "$status" -eq 0 ]
	has '^GREETING 20[01] '
	has '^DATE 111 [0-9]{14}$'
}

@test "ftpd: the xferlog names the client of a PROXY v2 header after a passive RETR" {
	use ftp
	# The header names 127.0.0.3, a client the test can really be: its data
	# connection comes from 127.0.0.3, the control one from the proxy.
	run ops_py '
c = Line("ftp", "127.0.0.1", int(ARGS[0]), header=v2("127.0.0.3", 45000))
c.login()
data, where, final = c.retr("pub/hello.txt", source="127.0.0.3")
print("DATA", data, final)
print("QUIT", c.cmd("QUIT"))
' "$PORT"
	[ "$status" -eq 0 ]
	has "^DATA b'Hello from Postel.\\\\n' 226"
	log_wait "$FTPD_DIR/xferlog" ' 127\.0\.0\.3 19 /pub/hello\.txt b _ o a '
	hasnt -f "$FTPD_DIR/xferlog" ' 127\.0\.0\.1 '
	grep -Eq 'c=127\.0\.0\.3 u=anonymous transfer RETR /pub/hello\.txt 19 bytes complete' "$FTPD_LOG"
}

@test "ftpd: behind a PROXY header the hijack check guards the named client: a data connection from the proxy is refused" {
	use ftp -o accept_timeout=3
	run ops_py '
c = Line("ftp", "127.0.0.1", int(ARGS[0]), header=v2("127.0.0.3", 45000))
c.login()
c.cmd("TYPE I")
where, d = c.pasv(source="127.0.0.1")
r = c.cmd("RETR pub/hello.txt")
d.settimeout(5)
try:
    got = d.recv(100)
except (socket.timeout, ConnectionResetError):
    got = b"<nothing>"
print("RETR", r)
print("THIEF GOT", got)
' "$PORT"
	has '^THIEF GOT (b.<nothing>.|b..)$'
	hasnt 'Hello from Postel'
}

@test "ftpd: behind a PROXY header the bounce check guards the named client: PORT to the proxy is refused, to the client works" {
	use ftp
	run ops_py '
c = Line("ftp", "127.0.0.1", int(ARGS[0]), header=v2("127.0.0.3", 45000))
c.login()
r, ls = c.port("127.0.0.1")
print("PORT-PROXY", r)
ls.close()
data, where, final = c.retr("pub/hello.txt", mode="port", local="127.0.0.3")
print("ACTIVE", data, where, final)
' "$PORT"
	[ "$status" -eq 0 ]
	has '^PORT-PROXY 500 '
	has "^ACTIVE b'Hello from Postel.\\\\n' 127\\.0\\.0\\.1 226"
}

@test "ftpd: a failed local login behind a PROXY header is logged with the named client" {
	use ftp -o local_enable=YES
	run ops_py '
c = Line("ftp", "127.0.0.1", int(ARGS[0]), header=v1("203.0.113.50"))
print(c.cmd("USER nosuchuser-ops"))
print(c.cmd("PASS wrong"))
' "$PORT"
	[ "$status" -eq 0 ]
	has '^530 '
	log_wait "$LOG" 'c=203\.0\.113\.50 u=[^ ]+ login refused for nosuchuser-ops'
}

@test "nntpd: access rules apply to the client the header names, not to the proxy" {
	PROTO=nntp
	start_nntpd "${PROXY_ON[@]}"
	PORT=$NNTPD_PORT
	# default access: 127.0.0.0/8 only; the proxy is 127.0.0.1
	run hello 'v2("192.0.2.7")'
	has '^GREETING 502 '
	run hello 'v2("127.0.0.9")'
	has '^GREETING 20[01] '
}
