#!/usr/bin/env bats
# How the daemons get their sockets besides binding them: systemd socket
# activation (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES with "implicit" for
# implicit TLS) and inetd mode (-i: one session on stdin/stdout).

setup() {
	load lib/common
	load lib/ops
	postel_tmpdir WORK
}

teardown() {
	postel_teardown
}

# ftpd_args DIR: the -o options that make ftpd serve DIR's anonymous tree.
ftpd_args() {
	local user=nobody
	getent passwd ftp >/dev/null && user=ftp
	FTPD_ARGS=(-o "anon_root=$1/anon" -o "secure_chroot_dir=$1/empty"
		-o "xferlog_file=$1/xferlog" -o "ftp_username=$user" -o delay_failed_login=0)
}

nntpd_args() {
	local user=${NNTPD_USER:-news}
	getent passwd "$user" >/dev/null || user=nobody
	nntpd_tree "$1" "$user"
	NNTPD_ARGS=(-f "$1/nntpd.conf" -o "spool_dir=$1/spool" -o pathhost=test.postel.invalid
		-o "nopriv_user=$user")
}

# activate LOG NAMES ADDR:PORT[,...] -- ARGV...: socket-activate ARGV the way
# systemd does (tests/lib/opsclient.py, the same process execs the daemon so
# LISTEN_PID is its pid). Sets ACT_PID.
activate() {
	local log=$1 names=$2 listen=$3
	shift 4
	PYTHONPATH=$OPSCLIENT_DIR python3 "$OPSCLIENT_DIR/opsclient.py" activate \
		"$log" "$names" "$listen" -- "$@" 3>&- &
	ACT_PID=$!
	POSTEL_PIDS+=("$ACT_PID")
	# The sockets listen before exec; wait until the daemon itself runs.
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink "/proc/$ACT_PID/exe" 2>/dev/null)" = "$(readlink -f "$1")" ] && return 0
		sleep 0.05
	done
	return 1
}

not_listening() {
	[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

@test "ftpd serves on the socket systemd-socket-activate passes (LISTEN_FDS=1) and binds nothing itself" {
	command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate is not installed"
	ftpd_tree "$WORK"
	ftpd_args "$WORK"
	local port own
	port=$(free_port)
	own=$(free_port)
	# it passes on only the environment it is told to (-E): the sanitizer options
	systemd-socket-activate -E ASAN_OPTIONS -E UBSAN_OPTIONS -l "127.0.0.1:$port" \
		"$POSTEL_BUILD/ftpd" -D \
		-o listen_address=127.0.0.1 -o "listen_port=$own" "${FTPD_ARGS[@]}" \
		2>"$WORK/ftpd.log" 3>&- &
	POSTEL_PIDS+=("$!")
	wait_listening "$port" "$!"
	FTPD_PORT=$port run ftp_session "USER ftp" "PASS x" PWD QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^220 ]]
	[[ ${lines[2]} =~ ^230 ]]
	[[ ${lines[3]} =~ ^257 ]]
	[[ ${lines[4]} =~ ^221 ]]
	not_listening "$own"
	log_wait "$WORK/ftpd.log" 'c=127\.0\.0\.1 u=anonymous session end'
}

@test "ftpd adopts an inherited socket with our own launcher too; sessions and passive transfers work" {
	ftpd_tree "$WORK"
	ftpd_args "$WORK"
	local port own
	port=$(free_port)
	own=$(free_port)
	activate "$WORK/ftpd.log" - "127.0.0.1:$port" -- "$POSTEL_BUILD/ftpd" -D \
		-o listen_address=127.0.0.1 -o "listen_port=$own" "${FTPD_ARGS[@]}"
	run ops_py '
c = Line("ftp", "127.0.0.1", int(ARGS[0]))
print("GREETING", c.greeting)
c.login()
data, where, final = c.retr("pub/hello.txt")
print("DATA", data, final)
print("QUIT", c.cmd("QUIT"))
' "$port"
	[ "$status" -eq 0 ]
	has '^GREETING 220 '
	has "^DATA b'Hello from Postel.\\\\n' 226"
	not_listening "$own"
}

@test "nntpd serves on every inherited socket (LISTEN_FDS=2) and binds nothing itself" {
	[ -x "$POSTEL_BUILD/nntpd" ] || skip "nntpd is not built"
	nntpd_args "$WORK"
	local p1 p2 own
	p1=$(free_port)
	p2=$(free_port)
	own=$(free_port)
	activate "$WORK/nntpd.log" - "127.0.0.1:$p1,127.0.0.1:$p2" -- "$POSTEL_BUILD/nntpd" -D \
		-o listen_address=127.0.0.1 -o "listen_port=$own" "${NNTPD_ARGS[@]}"
	NNTPD_PORT=$p1 run nntp_session "GROUP local.test" QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^20[01] ]]
	[[ ${lines[1]} =~ ^211\ 0 ]]
	[[ ${lines[2]} =~ ^205 ]]
	NNTPD_PORT=$p2 run nntp_session CAPABILITIES QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^20[01] ]]
	has '^101 '
	has '^READER$'
	not_listening "$own"
}

@test "ftpd with ssl_enable speaks TLS at once on the socket named \"implicit\", plain FTP on the other" {
	ftpd_tree "$WORK"
	ftpd_args "$WORK"
	"$POSTEL_ROOT/scripts/mkcert" "$WORK/tls"
	local plain tls
	plain=$(free_port)
	tls=$(free_port)
	activate "$WORK/ftpd.log" plain:implicit "127.0.0.1:$plain,127.0.0.1:$tls" -- \
		"$POSTEL_BUILD/ftpd" -D -o listen_address=127.0.0.1 -o "listen_port=$(free_port)" \
		"${FTPD_ARGS[@]}" -o ssl_enable=YES -o allow_anon_ssl=YES \
		-o "ssl_cert_file=$WORK/tls/cert.pem" -o "ssl_key_file=$WORK/tls/key.pem"
	run ops_py '
import ssl
ctx = ssl.create_default_context(cafile=ARGS[2])
raw = socket.create_connection(("127.0.0.1", int(ARGS[1])), timeout=10)
t = ctx.wrap_socket(raw, server_hostname="localhost")
print("TLS", t.version())
c = Line("ftp", None, None, sock=t)
print("TLS-GREETING", c.greeting)
c.login()
print("TLS-PBSZ", c.cmd("PBSZ 0"))
print("TLS-QUIT", c.cmd("QUIT"))
p = Line("ftp", "127.0.0.1", int(ARGS[0]))
print("PLAIN-GREETING", p.greeting)
print("PLAIN-AUTH", p.cmd("AUTH TLS"))
' "$plain" "$tls" "$WORK/tls/cert.pem"
	[ "$status" -eq 0 ]
	has '^TLS TLSv1\.[23]$'
	has '^TLS-GREETING 220 '
	has '^TLS-PBSZ 200 '
	has '^TLS-QUIT 221 '
	has '^PLAIN-GREETING 220 '
	has '^PLAIN-AUTH 234 '
}

@test "LISTEN_FDS meant for another process (LISTEN_PID differs) is ignored: the daemon binds its own port" {
	ftpd_tree "$WORK"
	ftpd_args "$WORK"
	local own
	own=$(free_port)
	LISTEN_FDS=1 LISTEN_PID=1 "$POSTEL_BUILD/ftpd" -D -o listen_address=127.0.0.1 \
		-o "listen_port=$own" "${FTPD_ARGS[@]}" 2>"$WORK/ftpd.log" 3>&- &
	POSTEL_PIDS+=("$!")
	wait_listening "$own" "$!"
	FTPD_PORT=$own run ftp_session QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^220 ]]
}

@test "ftpd -i serves one session on stdin/stdout: greeting, login, SYST, a passive RETR, QUIT, exit 0" {
	ftpd_tree "$WORK"
	ftpd_args "$WORK"
	run ops_py '
inetd(ARGS[1:], ARGS[0], "ftp", ["USER ftp", "PASS x", "SYST", "RETR-PASV pub/hello.txt", "QUIT"])
' "$WORK/ftpd.log" "$POSTEL_BUILD/ftpd" -i -D "${FTPD_ARGS[@]}"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^220 ]]
	[[ ${lines[1]} =~ ^331 ]]
	[[ ${lines[2]} =~ ^230 ]]
	[[ ${lines[3]} =~ ^215 ]]
	has '^DATA 19 bytes from 127\.0\.0\.1; 226 '
	has '^221 '
	has '^CLOSED$'
	has '^EXIT 0$'
	log_wait "$WORK/ftpd.log" 'c=127\.0\.0\.1 u=anonymous session end'
	log_wait "$WORK/xferlog" ' 127\.0\.0\.1 19 /pub/hello\.txt b _ o a '
}

@test "nntpd -i serves one session on stdin/stdout: greeting, GROUP, QUIT, exit 0" {
	[ -x "$POSTEL_BUILD/nntpd" ] || skip "nntpd is not built"
	nntpd_args "$WORK"
	run ops_py '
inetd(ARGS[1:], ARGS[0], "nntp", ["GROUP local.test", "CAPABILITIES", "QUIT"])
' "$WORK/nntpd.log" "$POSTEL_BUILD/nntpd" -i -D "${NNTPD_ARGS[@]}"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^20[01] ]]
	[[ ${lines[1]} =~ ^211\ 0 ]]
	has '^101 '
	has '^205'
	has '^CLOSED$'
	has '^EXIT 0$'
}

@test "nntpd -i: a client that hangs up ends the daemon (no process is left)" {
	[ -x "$POSTEL_BUILD/nntpd" ] || skip "nntpd is not built"
	nntpd_args "$WORK"
	run ops_py '
import subprocess
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
c = socket.create_connection(ls.getsockname(), timeout=10)
a, _ = ls.accept()
p = subprocess.Popen(ARGS, stdin=a, stdout=a, stderr=subprocess.DEVNULL)
a.close()
print("GREETING", c.recv(200))
c.close()
try:
    print("EXIT", p.wait(timeout=10))
except subprocess.TimeoutExpired:
    p.kill(); p.wait(); print("EXIT timeout")
' "$POSTEL_BUILD/nntpd" -i -D "${NNTPD_ARGS[@]}"
	[ "$status" -eq 0 ]
	has "^GREETING b'20[01] "
	has '^EXIT [0-9]+$'
}
