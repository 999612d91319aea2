#!/usr/bin/env bats
# Session-ticket keys. nntpd: one ring shared by every process of the
# daemon (a ticket from one session resumes in another), new keys every
# ssl_ticket_rotate seconds (an old ticket stops resuming). ftpd: a ticket
# resumes only inside its FTP session, so each session has keys of its
# own. Either way the ring is read-only in every child: a process in a
# session's sandbox can neither plant a key it knows (and so open other
# clients' tickets) nor wipe the ring.

# setup_file and teardown_file: a certificate and a PAM user (lib/nntpsec).
load lib/nntpsec

setup() {
	load lib/common
	CLIENT=
}

teardown() {
	[ -z "${CLIENT:-}" ] || kill "$CLIENT" 2>/dev/null || true
	postel_teardown
}

# resume PORT: over implicit TLS on PORT, take a ticket from one session,
# then resume it in new sessions until a handshake is full again (bounded).
# Prints "first reused=BOOL", one "again reused=BOOL" per try, and "fresh
# reused=BOOL" for a new ticket taken after the old one stopped working.
resume() {
	timeout 60 python3 -W ignore - "$1" <<'PY'
import socket, ssl, sys, time
port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def session(old=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx.wrap_socket(raw, session=old)
    s.recv(512)  # the greeting; TLS 1.3 tickets arrive before it
    reused, sess = s.session_reused, s.session
    s.close()
    return reused, sess
_, ticket = session()
print("first reused=%s" % session(ticket)[0], flush=True)
for _ in range(40):
    reused = session(ticket)[0]
    print("again reused=%s" % reused, flush=True)
    if not reused:
        break
    time.sleep(0.25)
_, fresh = session()
print("fresh reused=%s" % session(fresh)[0], flush=True)
PY
}

# Each try is a new connection, so a new session process: a reuse means
# the ticket opened there. 40 tries of 0.25 s outlast two 2 s periods.
check_rotation() {
	run resume "$1"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "first reused=True" ]
	[ "${lines[1]}" = "again reused=True" ]
	has '^again reused=False$'
	[ "${lines[-1]}" = "fresh reused=True" ]
}

# child_count PID N / writer_known: conditions for wait_for, evaluated at each
# try (a "$(...)" argument to wait_for is expanded once, before the first).
child_count() { [ "$(cat /proc/"$1"/task/*/children | wc -w)" -eq "$2" ]; }
writer_known() { [ -n "$(writer_pid)" ]; }

@test "nntpd: a ticket resumes in another session, stops after its rotation periods, and new ones work" {
	load lib/nntp
	load lib/nntpsec
	tls_up -o ssl_ticket_rotate=2
	check_rotation "$NNTPS_PORT"
	kill -0 "$NNTPD_PID"
}

@test "ftpd: each session seals tickets with keys of its own, which the listener and other sessions never map" {
	is_root || skip "reading other uids' /proc/PID/maps needs root"
	load lib/ftp
	local port
	port=$(free_port)
	ftp_up -o ssl_enable=YES -o "ssl_cert_file=$CERT_DIR/cert.pem" \
		-o "ssl_key_file=$CERT_DIR/key.pem" -o allow_anon_ssl=YES \
		-o implicit_ssl=YES -o "implicit_ssl_port=$port"
	wait_listening "$port" "$FTPD_PID"
	# two sessions held open over implicit TLS; a ticket of the first
	# offered in a third session resumes nothing there
	postel_tmpdir CW
	timeout 60 python3 -W ignore -c '
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def conn(sess=None):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), session=sess)
    s.recv(512)
    return s
a, b = conn(), conn()
c = conn(a.session)
print("other session reused=%s" % c.session_reused, flush=True)
c.close()
print("READY", flush=True)
time.sleep(50)' "$port" >"$CW/out" &
	CLIENT=$!
	wait_for 20 grep -q READY "$CW/out"
	cat "$CW/out"
	grep -qx 'other session reused=False' "$CW/out"
	local mons m inodes
	wait_for 10 child_count "$FTPD_PID" 2
	mons=$(cat /proc/"$FTPD_PID"/task/*/children)
	run grep -c postel-tickets /proc/"$FTPD_PID"/maps
	[ "$output" = 0 ]
	# each monitor: its own writable ring; two sessions, two rings (inodes)
	inodes=
	for m in $mons; do
		run grep postel-tickets /proc/"$m"/maps
		echo "$m: $output"
		has ' rw-s '
		inodes+="$(awk '{print $5}' <<<"$output" | sort -u) "
	done
	echo "inodes: $inodes"
	[ "$(tr ' ' '\n' <<<"$inodes" | sed '/^$/d' | sort -u | wc -l)" -eq 2 ]
}

@test "a process in a session's sandbox cannot write, unprotect or punch out the ticket keys" {
	is_root || skip "entering a sandbox needs root"
	local probe=$POSTEL_BUILD/attack/sandbox_probe role
	if [ "$("$probe" x x x x)" = "build: sanitized" ]; then
		skip "sanitizer builds relax the filters for the sanitizer runtime (the plain round tests them)"
	fi
	postel_tmpdir ROOT
	for role in ftp-prelogin ftp-session ftp-dtp nntp-session; do
		run "$probe" "$role" "$ROOT" nobody ticket-read ticket-write ticket-mprotect ticket-punch
		echo "$role: $output"
		[ "$status" -eq 0 ]
		# the mapping is there and readable: the refusals below are the kernel's
		has '^ticket-read: ok$' '^ticket-write: died of signal SEGV$' \
			'^ticket-mprotect: errno EACCES$' '^ticket-punch: errno EACCES$'
		[ "$(grep -c 'victim alive' <<<"$output")" -eq 4 ]
	done
}

@test "nntpd: the writer and a feeder have no mapping of the ticket keys; a session only a read-only one" {
	is_root || skip "reading other uids' /proc/PID/maps needs root"
	load lib/nntp
	load lib/nntpsec
	tls_up -o "feed=peer.test.invalid 127.0.0.1 $(free_port) local.*"
	wait_for 10 writer_known
	# a session that stays open: its monitor and worker
	postel_tmpdir CW
	timeout 60 python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(512)
print("READY", flush=True)
time.sleep(50)' "$NNTPD_PORT" >"$CW/out" &
	CLIENT=$!
	wait_for 20 grep -q READY "$CW/out"
	local writer feeder= mon= worker p
	writer=$(writer_pid)
	for p in $(cat /proc/"$NNTPD_PID"/task/*/children); do
		[ "$p" = "$writer" ] && continue
		if [ -n "$(cat /proc/"$p"/task/*/children)" ]; then mon=$p; else feeder=$p; fi
	done
	[ -n "$feeder" ]
	[ -n "$mon" ]
	worker=$(cat /proc/"$mon"/task/*/children | tr -d ' ')
	run grep -c postel-tickets /proc/"$writer"/maps /proc/"$feeder"/maps
	echo "$output"
	[ "$output" = "/proc/$writer/maps:0
/proc/$feeder/maps:0" ]
	# the worker (it may STARTTLS) maps the ring once, read-only: the
	# listener's writable mapping is never inherited
	run grep postel-tickets /proc/"$worker"/maps
	echo "$output"
	[ "${#lines[@]}" -eq 1 ]
	has ' r--s '
	run grep postel-tickets /proc/"$NNTPD_PID"/maps
	echo "$output"
	[ "${#lines[@]}" -eq 2 ]
	has ' rw-s ' ' r--s '
}
