#!/usr/bin/env bats
# Logs an admin can use: every session line carries s=ID c=CLIENT u=USER, so
# grep on one session id tells its story; SIGUSR1 and -s report live
# sessions; -T prints the effective configuration with "# default" markers.

setup() {
	load lib/common
	load lib/ops
}

teardown() {
	postel_teardown
}

big_file() { # big_file PATH BYTES
	head -c "$2" /dev/urandom >"$1"
	chmod 644 "$1"
}

# two_sessions: with ftpd up, hold an idle logged-in session and one in a
# slow RETR of pub/big.bin open in the background until $WORK/done appears.
two_sessions() {
	rm -f "$FTPD_DIR/go" "$FTPD_DIR/done"
	ops_py '
port, flag, done = int(ARGS[0]), ARGS[1], ARGS[2]
idle = Line("ftp", "127.0.0.1", port); idle.login()
busy = Line("ftp", "127.0.0.1", port); busy.login("ftp", "x")
busy.cmd("TYPE I")
where, d = busy.pasv()
busy.send("RETR pub/big.bin")
d.recv(1000)
open(flag, "w").close()
wait_for(lambda: os.path.exists(done), 30)
d.close()
' "$FTPD_PORT" "$FTPD_DIR/go" "$FTPD_DIR/done" >"$FTPD_DIR/client.out" 2>&1 &
	TWO_PID=$!
	wait_for 10 test -e "$FTPD_DIR/go"
}

two_sessions_end() {
	touch "$FTPD_DIR/done"
	wait "$TWO_PID" || true
}

check_status_lines() {
	# the listener: how many, and one line per session with its client
	log_wait "$FTPD_LOG" 'ftpd\[[0-9]+\]: status: 2 live session\(s\)'
	log_wait "$FTPD_LOG" 'status: session pid [0-9]+ c=127\.0\.0\.1'
	[ "$(grep -Ec 'status: session pid [0-9]+ c=127\.0\.0\.1' "$FTPD_LOG")" -eq 2 ]
	# each worker: session id, client, user, state, bytes
	log_wait "$FTPD_LOG" 's=[0-9a-f]+ c=127\.0\.0\.1 u=anonymous status: idle; session in [0-9]+ out [0-9]+'
	log_wait "$FTPD_LOG" 's=[0-9a-f]+ c=127\.0\.0\.1 u=anonymous status: RETR /pub/big\.bin, [0-9]+ of 3000000 bytes'
	# the pids named are live children of the listener
	local p
	for p in $(sed -n 's/.*status: session pid \([0-9]*\) .*/\1/p' "$FTPD_LOG"); do
		[ "$(awk '/^PPid:/ { print $2 }' "/proc/$p/status")" = "$FTPD_PID" ]
	done
}

@test "SIGUSR1: the listener counts live sessions, each worker logs client, user, state and bytes" {
	start_ftpd -o anon_max_rate=50000
	big_file "$FTPD_DIR/anon/pub/big.bin" 3000000
	two_sessions
	kill -USR1 "$FTPD_PID"
	check_status_lines
	# the RETR line's count is under the total: it really is mid-transfer
	local done
	done=$(sed -n 's/.*status: RETR \/pub\/big\.bin, \([0-9]*\) of .*/\1/p' "$FTPD_LOG" | head -n 1)
	[ "$done" -gt 0 ]
	[ "$done" -lt 3000000 ]
	two_sessions_end
	# the daemon is still serving
	run ftp_session QUIT
	[[ ${lines[0]} =~ ^220 ]]
}

@test "ftpd -s asks the daemon named by pid_file for the same status lines" {
	start_ftpd -o anon_max_rate=50000
	big_file "$FTPD_DIR/anon/pub/big.bin" 3000000
	[ "$(cat "$FTPD_DIR/ftpd.pid")" = "$FTPD_PID" ]
	two_sessions
	run "$POSTEL_BUILD/ftpd" -s -f "$FTPD_CONF" -o "pid_file=$FTPD_DIR/ftpd.pid"
	[ "$status" -eq 0 ]
	check_status_lines
	two_sessions_end
}

@test "ftpd -s with no daemon running fails with a message naming the pid file" {
	local d
	postel_tmpdir d
	run "$POSTEL_BUILD/ftpd" -s -o "pid_file=$d/none.pid"
	[ "$status" -ne 0 ]
	has "$d/none\\.pid"
}

@test "nntpd: SIGUSR1 and nntpd -s report a live session with its client" {
	start_nntpd
	ops_py '
c = Line("nntp", "127.0.0.1", int(ARGS[0]))
c.cmd("GROUP local.test")
open(ARGS[2], "w").close()
wait_for(lambda: os.path.exists(ARGS[1]), 20)
c.cmd("QUIT")
' "$NNTPD_PORT" "$NNTPD_DIR/done" "$NNTPD_DIR/in-group" >/dev/null 2>&1 &
	local client=$!
	log_wait "$NNTPD_LOG" 'session start'
	# the session has answered GROUP: it is live and past its greeting
	wait_for 10 test -e "$NNTPD_DIR/in-group"
	kill -USR1 "$NNTPD_PID"
	log_wait "$NNTPD_LOG" 'status: 1 live session\(s\)'
	log_wait "$NNTPD_LOG" 'status: session pid [0-9]+ c=127\.0\.0\.1'
	log_wait "$NNTPD_LOG" 's=[0-9a-f]+ c=127\.0\.0\.1 u=[^ ]+ status: '
	run "$POSTEL_BUILD/nntpd" -s -f "$NNTPD_CONF" -o "pid_file=$NNTPD_DIR/nntpd.pid"
	[ "$status" -eq 0 ]
	wait_for 5 log_count_at_least 2 "$NNTPD_LOG" 'status: 1 live session'
	[ "$(grep -c 'status: 1 live session' "$NNTPD_LOG")" -eq 2 ]
	touch "$NNTPD_DIR/done"
	wait "$client" || true
}

@test "ftpd: grep s=ID tells a session's story: start, login, transfer, end, each with client and user" {
	start_ftpd -o delay_failed_login=0
	run ops_py '
c = Line("ftp", "127.0.0.1", int(ARGS[0]))
print(c.cmd("USER anonymous"))
print(c.cmd("PASS story@"))
data, where, final = c.retr("pub/hello.txt")
print("DATA", len(data), final)
print(c.cmd("RETR pub/nosuch.txt"))
print(c.cmd("QUIT"))
' "$FTPD_PORT"
	[ "$status" -eq 0 ]
	log_wait "$FTPD_LOG" 'session end'
	local id
	id=$(sed -n 's/.* s=\([0-9a-f]*\) .*session start.*/\1/p' "$FTPD_LOG")
	[ -n "$id" ]
	run grep "s=$id " "$FTPD_LOG"
	printf '%s\n' "$output"
	# every line of the session names the session, the client and a user field
	[ "$(grep -vEc "s=$id c=127\\.0\\.0\\.1 u=[^ ]+ " <<<"$output")" -eq 0 ]
	[[ ${lines[0]} =~ u=-\ session\ start ]]
	has "s=$id c=127\\.0\\.0\\.1 u=anonymous login ok"
	has "s=$id c=127\\.0\\.0\\.1 u=anonymous transfer RETR /pub/hello\\.txt 19 bytes complete"
	[[ ${lines[-1]} =~ u=anonymous\ session\ end ]]
	# one line per transfer
	[ "$(grep -c 'transfer RETR /pub/hello.txt' <<<"$output")" -eq 1 ]
	# and no other session's lines
	[ "$(grep -c 'session start' <<<"$output")" -eq 1 ]
}

@test "ftpd: two concurrent sessions' lines do not mix under their ids" {
	start_ftpd
	run ops_py '
a = Line("ftp", "127.0.0.1", int(ARGS[0])); a.login()
b = Line("ftp", "127.0.0.1", int(ARGS[0])); b.login("ftp", "x")
a.retr("pub/hello.txt"); b.cmd("PWD"); a.cmd("QUIT"); b.cmd("QUIT")
' "$FTPD_PORT"
	[ "$status" -eq 0 ]
	# both sessions have ended (each logs its end last)
	wait_for 5 log_count_at_least 2 "$FTPD_LOG" 'session end'
	local ids id
	ids=$(sed -n 's/.* s=\([0-9a-f]*\) .*session start.*/\1/p' "$FTPD_LOG")
	[ "$(wc -w <<<"$ids")" -eq 2 ]
	for id in $ids; do
		[ "$(grep -c "s=$id .*session start" "$FTPD_LOG")" -eq 1 ]
		[ "$(grep -c "s=$id .*session end" "$FTPD_LOG")" -eq 1 ]
	done
	[ "$(grep -c 'transfer RETR' "$FTPD_LOG")" -eq 1 ]
}

@test "ftpd: refusals carry the client: failed login, max_per_ip" {
	start_ftpd -o delay_failed_login=0 -o max_per_ip=1 -o local_enable=YES
	run ftp_session "@1 USER nosuch-ops-user" "@1 PASS wrong" "@2" "@1 QUIT"
	has '^1: 530 '
	has '^2: 421 '
	log_wait "$FTPD_LOG" 's=[0-9a-f]+ c=127\.0\.0\.1 u=[^ ]+ login refused for nosuch-ops-user'
	log_wait "$FTPD_LOG" 'refused c=127\.0\.0\.1: max_per_ip'
}

@test "nntpd: grep s=ID tells a session's story with the client on every line" {
	start_nntpd
	run nntp_session "GROUP local.test" "AUTHINFO USER nosuch-ops-user" "AUTHINFO PASS wrong" QUIT
	log_wait "$NNTPD_LOG" 'session end'
	local id
	id=$(sed -n 's/.* s=\([0-9a-f]*\) .*session start.*/\1/p' "$NNTPD_LOG")
	[ -n "$id" ]
	run grep "s=$id " "$NNTPD_LOG"
	printf '%s\n' "$output"
	[ "${#lines[@]}" -ge 2 ]
	[ "$(grep -vEc "s=$id c=127\\.0\\.0\\.1 u=[^ ]+ " <<<"$output")" -eq 0 ]
	[[ ${lines[0]} =~ session\ start ]]
	[[ ${lines[-1]} =~ session\ end ]]
}

# -T ----------------------------------------------------------------------

t_output() { # t_output DAEMON: every key once, defaults marked, -f and -o not
	local d=$1 dir
	postel_tmpdir dir
	printf 'max_clients=77\n' >"$dir/$d.conf"
	# as root -T also checks the accounts and directories: a tree of its own
	config_env "$d"
	run "$POSTEL_BUILD/$d" -T -f "$dir/$d.conf" -o max_per_ip=3 "${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output"
	has '^max_clients=77$'
	has '^max_per_ip=3$'
	has '^listen_port=[0-9]+ +# default$'
	has '^proxy_protocol=NO +# default$'
	has '^proxy_trusted_addresses= *# default$'
	# key=value lines only, each key once (access may repeat in nntpd)
	[ "$(grep -vEc '^[a-z0-9_]+=' <<<"$output")" -eq 0 ]
	[ -z "$(cut -d= -f1 <<<"$output" | grep -vx access | sort | uniq -d)" ]
	# the output, defaults and all, is itself a valid configuration that
	# gives the same effective values
	sed 's/ *# default$//' <<<"$output" >"$dir/again.conf"
	local first=$output
	run "$POSTEL_BUILD/$d" -T -f "$dir/again.conf"
	[ "$status" -eq 0 ]
	[ "$(sed 's/ *# default$//' <<<"$output")" = "$(sed 's/ *# default$//' <<<"$first")" ]
}

@test "ftpd -T prints every key once with # default markers; its output is a valid config" {
	t_output ftpd
}

@test "nntpd -T prints every key once with # default markers; its output is a valid config" {
	t_output nntpd
}

@test "-t and -T reject a bad line with FILE:LINE and exit 1" {
	local dir d
	postel_tmpdir dir
	for d in ftpd nntpd; do
		printf '# ok\nmax_clients=10\nmax_per_ip=lots\n' >"$dir/$d.conf"
		run "$POSTEL_BUILD/$d" -T -f "$dir/$d.conf"
		[ "$status" -eq 1 ]
		has "$dir/$d\\.conf:3: max_per_ip"
		run "$POSTEL_BUILD/$d" -t -f "$dir/$d.conf" -o proxy_trusted_addresses=10.0.0.0/33
		[ "$status" -eq 1 ]
	done
}

@test "pid file: with -D it is written only when pid_file is set explicitly" {
	local dir port
	postel_tmpdir dir
	ftpd_tree "$dir"
	[ ! -e /run/postel-ftpd.pid ] || skip "/run/postel-ftpd.pid exists (a real ftpd?)"
	port=$(free_port)
	"$POSTEL_BUILD/ftpd" -D -o listen_address=127.0.0.1 -o "listen_port=$port" \
		-o "anon_root=$dir/anon" -o "secure_chroot_dir=$dir/empty" -o "xferlog_file=$dir/xferlog" \
		-o "ftp_username=$(getent passwd ftp >/dev/null && echo ftp || echo nobody)" \
		2>"$dir/ftpd.log" 3>&- &
	POSTEL_PIDS+=("$!")
	wait_listening "$port" "$!"
	[ ! -e /run/postel-ftpd.pid ]
	start_ftpd
	[ "$(cat "$FTPD_DIR/ftpd.pid")" = "$FTPD_PID" ]
}
