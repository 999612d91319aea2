#!/usr/bin/env bats
# The TLS private key lives only in processes that may do TLS: read from
# /proc/PID/mem, nntpd's writer and feeders and ftpd's DTPs of clear
# transfers hold no copy of it; a process that does TLS (an NNTP session
# after STARTTLS, the FTP TLS relay, a PROT P DTP) does, which shows the
# search finds it. Session-ticket keys: sec_tls_tickets.bats.

# setup_file and teardown_file: a certificate and a PAM user (lib/nntpsec).
load lib/nntpsec

setup() {
	load lib/common
	# ASan's shadow memory is terabytes of mappings: a scan of it is
	# neither possible nor meaningful; the plain round reads the heaps.
	if [ "$("$POSTEL_BUILD/attack/sandbox_probe" x x x x)" = "build: sanitized" ]; then
		skip "sanitizer builds: /proc/PID/mem is mostly ASan shadow"
	fi
	is_root || skip "reading other processes' memory needs root"
	CLIENT=
}

teardown() {
	[ -z "${CLIENT:-}" ] || kill "$CLIENT" 2>/dev/null || true
	postel_teardown
}

# children PID: the PIDs PID forked (one a line).
children() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | sed '/^$/d'
}

# no_children PID / writer_known: conditions for wait_for, evaluated at each
# try (a "$(...)" argument to wait_for is expanded once, before the first).
no_children() { [ -z "$(children "$1")" ]; }
writer_known() { [ -n "$(writer_pid)" ]; }

# keymem PID...: "PID found" or "PID clean" per process (tests/lib/keymem.py).
keymem() {
	python3 "$POSTEL_ROOT/tests/lib/keymem.py" "$CERT_DIR/key.pem" "$@"
}

# holds STATE PID...: keymem finds each PID's memory STATE (found or clean).
holds() {
	local state=$1 p
	shift
	run keymem "$@"
	echo "$output"
	[ "$status" -eq 0 ]
	for p in "$@"; do
		has "^$p $state$"
	done
}

# client NAME SCRIPT: run a Python client in the background (CLIENT is its
# PID, killed by teardown); it prints READY when it holds its session.
client() {
	local name=$1 script=$2
	postel_tmpdir CWORK
	PYTHONPATH=$POSTEL_ROOT/tests/lib python3 -W ignore - "$PORT" >"$CWORK/$name.out" 2>&1 <<EOF &
import socket, ssl, sys, time
from ftpraw import Ctl
from ftptls import ctx, TlsCtl
from nntpsec import Client
P = int(sys.argv[1])
$script
print("READY", flush=True)
time.sleep(120)
EOF
	CLIENT=$!
	wait_for 20 grep -q '^READY' "$CWORK/$name.out" || {
		cat "$CWORK/$name.out"
		return 1
	}
}

# one_child PID: PID has exactly one child; prints it.
one_child() {
	[ "$(children "$1" | wc -l)" -eq 1 ] && children "$1"
}

# ---- nntpd ---------------------------------------------------------------------

@test "nntpd: the writer, a feeder and a session monitor hold no copy of the private key; a session after STARTTLS does" {
	load lib/nntp
	load lib/nntpsec
	tls_up -o "feed=peer.test.invalid 127.0.0.1 $(free_port) local.*"
	PORT=$NNTPD_PORT
	wait_for 10 writer_known
	writer=$(writer_pid)
	client nntp '
c = Client(P)
assert c.starttls().startswith("382")
assert c.cmd("DATE").startswith("111")'
	# the listener's children: the writer, the feeder, the session's monitor
	mon= feeder=
	for p in $(children "$NNTPD_PID"); do
		[ "$p" = "$writer" ] && continue
		if [ -n "$(children "$p")" ]; then mon=$p; else feeder=$p; fi
	done
	[ -n "$feeder" ]
	[ -n "$mon" ]
	worker=$(one_child "$mon")
	run keymem "$writer" "$feeder" "$mon" "$worker"
	echo "$output"
	[ "$status" -eq 0 ]
	# the monitor forks no other worker, so it drops its copy too
	has "^$writer clean$" "^$feeder clean$" "^$mon clean$" "^$worker found$"
}

# ---- ftpd ----------------------------------------------------------------------

# ftps_up [args]: ftpd with TLS on (so the listener has the key), anonymous
# TLS allowed.
ftps_up() {
	load lib/ftp
	ftp_up -o ssl_enable=YES -o "ssl_cert_file=$CERT_DIR/cert.pem" \
		-o "ssl_key_file=$CERT_DIR/key.pem" -o allow_anon_ssl=YES "$@"
	PORT=$FTPD_PORT
}

# ftp_tree: MON, then the monitor's children in KIDS; DTP the one
# grandchild (the DTP waiting for its data connection) and PI its parent.
ftp_tree() {
	MON=$(one_child "$FTPD_PID") || return 1
	KIDS=$(children "$MON")
	DTP= PI=
	for p in $KIDS; do
		if [ -n "$(children "$p")" ]; then
			PI=$p
			DTP=$(one_child "$p") || return 1
		fi
	done
	[ -n "$DTP" ]
}

# tls_dtp_waiting LEVEL: an AUTH TLS session at PROT LEVEL whose RETR's DTP
# waits for its data connection (ftp_tree then names the processes).
tls_dtp_waiting() {
	ftps_up
	client ftp "
c = TlsCtl('127.0.0.1', P)
c.starttls()
c.login()
assert c.cmd('PBSZ 0')[0] == 200
assert c.cmd('PROT $1')[0] == 200
assert c.cmd('EPSV')[0] == 229
c.send('RETR pub/bytes256.bin')"
	wait_for 10 ftp_tree
}

# A RETR after EPSV without connecting: the DTP waits in accept.
@test "ftpd: the DTP of a clear session holds no copy of the private key" {
	ftps_up
	client ftp '
c = Ctl("127.0.0.1", P)
c.login()
assert c.cmd("TYPE I")[0] == 200
assert c.cmd("EPSV")[0] == 229
c.send("RETR pub/bytes256.bin")'
	wait_for 10 ftp_tree
	holds clean "$DTP"
}

# An anonymous-only server runs one worker per session: the PI itself is
# the control connection's TLS end (no relay).
@test "ftpd: under AUTH TLS the PI (no relay on an anonymous-only server) and a PROT P DTP hold the private key" {
	tls_dtp_waiting P
	[ "$KIDS" = "$PI" ]
	holds found "$PI" "$DTP"
}

@test "ftpd: a PROT C DTP under AUTH TLS holds no copy of the private key" {
	tls_dtp_waiting C
	holds clean "$DTP"
}

# pi_of: the PI of the one session (the monitor's one child after login).
pi_of() {
	local mon
	mon=$(one_child "$FTPD_PID") || return 1
	one_child "$mon"
}

@test "ftpd: the post-login worker of a clear session holds no copy of the private key; after AUTH TLS it does" {
	ftps_up
	client ftp '
c = TlsCtl("127.0.0.1", P)
c.login()
assert c.cmd("NOOP")[0] == 200'
	wait_for 10 pi_of
	holds clean "$(pi_of)"
	kill "$CLIENT"
	CLIENT=
	wait_for 20 no_children "$FTPD_PID"
	# AUTH TLS after the login: the monitor hands the key over, once
	client ftp2 '
c = TlsCtl("127.0.0.1", P)
c.login()
c.starttls()
assert c.cmd("NOOP")[0] == 200'
	wait_for 10 pi_of
	holds found "$(pi_of)"
}
