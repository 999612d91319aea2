#!/usr/bin/env bats
# ftpd sessions: the PI answering during a transfer (STAT, NOOP, ABOR, QUIT),
# active mode from port 20, IPv6, failed uploads, timeouts and the xferlog.

setup() {
	load lib/common
	load lib/ftp
	postel_tmpdir WORK
}

teardown() {
	postel_teardown
}

# pyraw SCRIPT ARGS: python with ftpraw imported, H and P set
pyraw() {
	local script=$1
	shift
	PYTHONPATH=$POSTEL_ROOT/tests/lib timeout "${FTP_PY_TIMEOUT:-120}" python3 - \
		"${CLIENT_HOST:-127.0.0.1}" "${FTPD_PORT:?}" "$@" <<EOF
import hashlib, os, socket, sys, threading, time
from ftpraw import Ctl, read_all, wait_until
H, P = sys.argv[1], int(sys.argv[2])
ARGS = sys.argv[3:]
$script
EOF
}

big_file() { # big_file PATH MB
	head -c $(($2 * 1024 * 1024)) /dev/urandom >"$1"
	chmod 644 "$1"
}

@test "STAT during a slow 200 MB download is 213 with bytes done of total; NOOP is 200" {
	ftp_up -o anon_max_rate=2000000
	big_file "$ANON/pub/big.bin" 200
	run pyraw '
c = Ctl(H, P); c.login()
d = c.epsv()
print(c.cmd("RETR pub/big.bin"))
got = len(d.recv(1 << 20))
t = time.time()
while time.time() - t < 1.5:
    got += len(d.recv(1 << 20))
code, lines = c.cmd("STAT")
print("STAT", code, lines)
print("NOOP", c.cmd("NOOP"))
print("GOT", got)
d.close()
'
	has "^STAT 213 .*[0-9]+.* (of|/) ?209715200"
	has '^NOOP \(200'
	# the server was slowed: well under 200 MB arrived in ~1.5 s
	local got
	got=$(sed -n 's/^GOT //p' <<<"$output")
	[ "$got" -lt 50000000 ]
}

@test "ABOR during a slow 200 MB download is 426 then 226, and the session goes on" {
	ftp_up -o anon_max_rate=2000000
	big_file "$ANON/pub/big.bin" 200
	run pyraw '
c = Ctl(H, P); c.login()
d = c.epsv()
print("RETR", c.cmd("RETR pub/big.bin"))
t = time.time()
while time.time() - t < 1:
    d.recv(1 << 20)
t = time.time()
c.send("ABOR")
print("R1", c.reply())
print("R2", c.reply())
print("SECS", round(time.time() - t))
d.settimeout(5)
try:
    rest = read_all(d)
    print("DATAEOF", len(rest) < 50000000)
except OSError as e:
    print("DATAEOF", e)
d.close()
print("NOOP", c.cmd("NOOP"))
d = c.epsv()
print("RETR2", c.cmd("RETR pub/hello.txt"))
print("DATA", read_all(d)); d.close()
print("END", c.reply())
'
	has '^RETR \(150'
	has '^R1 \(426'
	has '^R2 \(226'
	has '^SECS [0-2]$'
	has '^DATAEOF True$'
	has '^NOOP \(200'
	has "^DATA b'Hello from Postel.\\\\n'$"
	has '^END \(226'
}

@test "ABOR during an upload is 426 then 226" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES
	run pyraw '
c = Ctl(H, P); c.login()
d = c.epsv()
print("STOR", c.cmd("STOR incoming/part.bin"))
d.sendall(b"x" * 100000)
# mid-transfer: the server has stored some of it
wait_until(lambda: os.path.exists(ARGS[0]) and os.path.getsize(ARGS[0]) > 0, 10)
c.send("ABOR")
print("R1", c.reply())
print("R2", c.reply())
d.close()
print("NOOP", c.cmd("NOOP"))' "$ANON/incoming/part.bin"
	has '^STOR \(150'
	has '^R1 \(426'
	has '^R2 \(226'
	has '^NOOP \(200'
}

@test "QUIT during a transfer waits for it to end: all bytes, then 226, then 221" {
	ftp_up -o anon_max_rate=2000000
	big_file "$ANON/pub/mid.bin" 4
	run pyraw '
c = Ctl(H, P); c.login()
d = c.epsv()
print("RETR", c.cmd("RETR pub/mid.bin"))
h = hashlib.sha256(); done = {}; got = [0]
def reader():
    while True:
        b = d.recv(1 << 20)
        if not b: break
        h.update(b); got[0] += len(b)
    done["t"] = time.time()
th = threading.Thread(target=reader); th.start()
wait_until(lambda: got[0] > 0, 10)           # QUIT lands mid-transfer
c.send("QUIT")
replies = []
try:
    while True:
        code, lines = c.reply()
        replies.append((code, time.time()))
        if code == 221: break
except EOFError:
    pass
th.join(30)
print("CODES", [r[0] for r in replies])
print("SHA", h.hexdigest())
print("LATE", replies[-1][1] >= done["t"] - 0.2)
print("SLOW", done["t"] - replies[0][1] > -1)'
	has '^CODES \[226, 221\]$'
	has "^SHA $(sha "$ANON/pub/mid.bin")$"
	has '^LATE True$'
}

@test "active mode with connect_from_port_20=YES connects from port 20" {
	is_root || skip "needs root"
	ftp_up -o connect_from_port_20=YES
	run pyraw '
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1); l.settimeout(10)
port = l.getsockname()[1]
c = Ctl(H, P); c.login()
print("PORT", c.cmd("PORT 127,0,0,1,%d,%d" % (port >> 8, port & 255)))
c.send("RETR pub/hello.txt")
d, peer = l.accept()
print("PEER", peer[1])
print("DATA", read_all(d)); d.close()
print(c.reply()); print(c.reply())
l2 = socket.socket(); l2.bind(("127.0.0.1", 0)); l2.listen(1); l2.settimeout(10)
port = l2.getsockname()[1]
print("EPRT", c.cmd("EPRT |1|127.0.0.1|%d|" % port))
c.send("LIST pub")
d, peer = l2.accept()
print("PEER2", peer[1])
read_all(d); d.close()
print(c.reply()); print(c.reply())'
	has '^PORT \(200'
	has '^PEER 20$'
	has "^DATA b'Hello from Postel.\\\\n'$"
	has '^EPRT \(200'
	has '^PEER2 20$'
}

@test "active mode without connect_from_port_20 connects from an unprivileged port" {
	ftp_up
	run pyraw '
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1); l.settimeout(10)
port = l.getsockname()[1]
c = Ctl(H, P); c.login()
c.cmd("PORT 127,0,0,1,%d,%d" % (port >> 8, port & 255))
c.send("RETR pub/hello.txt")
d, peer = l.accept()
print("PEER", peer[1])
print("DATA", read_all(d)); d.close()
print(c.reply()); print(c.reply())'
	has "^DATA b'Hello from Postel.\\\\n'$"
	local p
	p=$(sed -n 's/^PEER //p' <<<"$output")
	[ "$p" -ge 1024 ]
}

@test "pasv_min_port..pasv_max_port bound the passive port; pasv_address is advertised" {
	local lo
	lo=$(free_port)
	ftp_up -o pasv_min_port="$lo" -o pasv_max_port="$lo" -o pasv_address=10.9.8.7
	run anon_cmd PASV EPSV
	[[ ${lines[3]} == "227 "*"(10,9,8,7,$((lo >> 8)),$((lo & 255)))"* ]]
	[[ ${lines[4]} == "229 "*"(|||$lo|)"* ]]
}

@test "IPv6: listen_address6=::1 serves EPSV transfers over ::1" {
	ftp_up -o listen_address6=::1
	CLIENT_HOST=::1 run pyraw '
c = Ctl(H, P, family=socket.AF_INET6); c.login()
d = c.epsv()
print("PEER", d.getpeername()[0])
print("RETR", c.cmd("RETR pub/bytes256.bin"))
print("SHA", hashlib.sha256(read_all(d)).hexdigest()); d.close()
print("END", c.reply())
print("PASV", c.cmd("PASV"))
print("EPSV1", c.cmd("EPSV 1"))'
	has '^PEER ::1$'
	has "^SHA $(sha "$ANON/pub/bytes256.bin")$"
	has '^END \(226'
	# RFC 2428: PASV cannot describe an IPv6 address; EPSV 1 is the wrong family
	has '^PASV \((5[0-9][0-9])'
	has '^EPSV1 \(522'
}

@test "IPv6: EPRT |2|::1|port| makes an active data connection over ::1" {
	ftp_up -o listen_address6=::1
	CLIENT_HOST=::1 run pyraw '
l = socket.socket(socket.AF_INET6); l.bind(("::1", 0)); l.listen(1); l.settimeout(10)
port = l.getsockname()[1]
c = Ctl(H, P, family=socket.AF_INET6); c.login()
print("EPRT", c.cmd("EPRT |2|::1|%d|" % port))
c.send("RETR pub/bytes256.bin")
d, peer = l.accept()
print("PEER", peer[0])
print("SHA", hashlib.sha256(read_all(d)).hexdigest()); d.close()
print(c.reply()); print("END", c.reply())
print("EPRT1", c.cmd("EPRT |1|127.0.0.1|%d|" % port))'
	has '^EPRT \(200'
	has '^PEER ::1$'
	has "^SHA $(sha "$ANON/pub/bytes256.bin")$"
	has '^END \(226'
	# an IPv4 data address on an IPv6 control connection is another host
	has '^EPRT1 \((5[0-9][0-9])'
}

abort_upload() {
	pyraw '
c = Ctl(H, P); c.login()
d = c.epsv()
print("STOR", c.cmd("STOR incoming/part.bin"))
d.sendall(b"x" * 100000)
# mid-transfer: the server has stored some of it
wait_until(lambda: os.path.exists(ARGS[0]) and os.path.getsize(ARGS[0]) > 0, 10)
c.send("ABOR")
print("R1", c.reply()); print("R2", c.reply())
d.close()
print("NOOP", c.cmd("NOOP"))' "$ANON/incoming/part.bin"
}

# upload_atomic=NO: the final name is written in place, so a failed upload
# leaves part of a file there unless delete_failed_uploads (ftp_drop.bats
# has the atomic uploads).
@test "delete_failed_uploads=YES removes the partial file of an aborted upload" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o delete_failed_uploads=YES \
		-o upload_atomic=NO
	run abort_upload
	has '^R1 \(426'
	has '^NOOP \(200'
	[ ! -e "$ANON/incoming/part.bin" ]
}

@test "delete_failed_uploads=NO keeps the partial file of an aborted upload" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o delete_failed_uploads=NO \
		-o upload_atomic=NO
	run abort_upload
	has '^R1 \(426'
	[ -f "$ANON/incoming/part.bin" ]
	[ "$(stat -c %s "$ANON/incoming/part.bin")" -gt 0 ]
	[ "$(stat -c %s "$ANON/incoming/part.bin")" -le 100000 ]
}

@test "delete_failed_uploads=YES removes an upload whose data connection is reset" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o delete_failed_uploads=YES \
		-o upload_atomic=NO
	run pyraw '
import struct
c = Ctl(H, P); c.login()
d = c.epsv()
print("STOR", c.cmd("STOR incoming/reset.bin"))
d.sendall(b"x" * 100000)
# the server has stored part of it before the reset
wait_until(lambda: os.path.exists(ARGS[0]) and os.path.getsize(ARGS[0]) > 0, 10)
d.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
d.close()
print("END", c.reply())' "$ANON/incoming/reset.bin"
	has '^END \((4[0-9][0-9])'
	[ ! -e "$ANON/incoming/reset.bin" ]
}

@test "idle_session_timeout closes an idle session with 421" {
	ftp_up -o idle_session_timeout=2
	run pyraw '
c = Ctl(H, P); c.login()
t = time.time()
print("GOT", c.reply())
print("AFTER", round(time.time() - t))
try:
    print("EOF", c.sock.recv(100) == b"")
except OSError as e:
    print("EOF", True)'
	has '^GOT \(421'
	has '^AFTER [1-4]$'
	has '^EOF True$'
}

@test "SITE IDLE lengthens the idle timeout of the session" {
	ftp_up -o idle_session_timeout=2
	run pyraw '
c = Ctl(H, P); c.login()
print("IDLE", c.cmd("SITE IDLE 30"))
time.sleep(3.5)
print("NOOP", c.cmd("NOOP"))'
	has '^IDLE \(200'
	has '^NOOP \(200'
}

@test "accept_timeout: RETR after EPSV with no data connection fails with 425" {
	ftp_up -o accept_timeout=2
	run pyraw '
c = Ctl(H, P); c.login()
c.cmd("EPSV")
t = time.time()
print("RETR", c.cmd("RETR pub/hello.txt"))
r = c.reply() if False else None
print("SECS", round(time.time() - t))
print("NOOP", c.cmd("NOOP"))'
	# some servers say 150 first; either way the failure is a 425
	has '^RETR \((425|150)'
	has '^NOOP \(200|^NOOP \(425'
}

@test "data_connection_timeout ends a stalled upload" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o data_connection_timeout=2
	run pyraw '
c = Ctl(H, P); c.login()
d = c.epsv()
print("STOR", c.cmd("STOR incoming/stall.bin"))
d.sendall(b"x" * 1000)
t = time.time()
print("END", c.reply())
print("SECS", round(time.time() - t))
d.close()'
	has '^STOR \(150'
	has '^END \((421|426)'
	has '^SECS [1-5]$'
}

@test "xferlog has one wu-ftpd line per RETR and STOR (o/i, a, c)" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES
	run ftp_py '
f = anon()
f.retrbinary("RETR pub/bytes256.bin", lambda b: None)
f.storbinary("STOR incoming/up.bin", io.BytesIO(b"0123456789"))
f.quit()'
	[ "$status" -eq 0 ]
	local log=$FTPD_DIR/xferlog i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(wc -l <"$log" 2>/dev/null || echo 0)" -ge 2 ] && break
		sleep 0.2
	done
	cat "$log"
	[ "$(wc -l <"$log")" -eq 2 ]
	# wu-ftpd: DDD MMM dd hh:mm:ss YYYY secs host size name type _ dir access user ftp auth authuser status
	local re='^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4} [0-9]+ 127\.0\.0\.1 '
	grep -Eq "${re}256 /pub/bytes256\\.bin b _ o a [^ ]+ ftp 0 \\* c$" "$log"
	grep -Eq "${re}10 /incoming/up\\.bin b _ i a [^ ]+ ftp 0 \\* c$" "$log"
}

@test "xferlog marks an aborted transfer incomplete (i)" {
	ftp_up -o anon_max_rate=2000000
	big_file "$ANON/pub/big.bin" 20
	run pyraw '
c = Ctl(H, P); c.login()
d = c.epsv()
c.cmd("RETR pub/big.bin")
d.recv(100000)
c.send("ABOR"); print(c.reply()); print(c.reply())
d.close()
c.cmd("QUIT")'
	local log=$FTPD_DIR/xferlog i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -s "$log" ] && break
		sleep 0.2
	done
	cat "$log"
	grep -Eq ' /pub/big\.bin b _ o a [^ ]+ ftp 0 \* i$' "$log"
}

@test "xferlog_enable=NO writes no xferlog" {
	ftp_up -o xferlog_enable=NO
	run ftp_py '
f = anon()
f.retrbinary("RETR pub/hello.txt", lambda b: None)
f.quit()'
	[ "$status" -eq 0 ]
	[ ! -s "$FTPD_DIR/xferlog" ]
}
