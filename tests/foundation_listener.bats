#!/usr/bin/env bats
# The listener, for both daemons: IPv4 and IPv6, the first replies, line
# limits, max_per_ip and max_clients, SIGTERM and SIGHUP.

setup() {
	load lib/common
}

teardown() {
	postel_teardown
}

# Protocol table: the replies each daemon owes. use PROTO sets the globals.
use() {
	PROTO=$1
	case $PROTO in
	ftp)
		GREET='^220 ' QUIT='^221 ' HELP_FIRST='^214-' HELP_LAST='^214 '
		UNKNOWN='^500 Unknown command\.$' TOOLONG='^500 Command line too long\.$'
		ALIVE=NOOP ALIVE_REPLY='^200 '
		PER_IP='^421 There are too many connections from your internet address\.$'
		BUSY='^421 There are too many connected users'
		;;
	nntp)
		GREET='^20[01] ' QUIT='^205' HELP_FIRST='^100' HELP_LAST='^\.$'
		UNKNOWN='^500 Unknown command' TOOLONG='^501 Line too long'
		ALIVE=HELP ALIVE_REPLY='^100'
		PER_IP='^400' BUSY='^400'
		;;
	esac
}

start() {
	if [ "$PROTO" = ftp ]; then
		start_ftpd "$@"
		PID=$FTPD_PID PORT=$FTPD_PORT CONF=$FTPD_CONF LOG=$FTPD_LOG
	else
		start_nntpd "$@"
		PID=$NNTPD_PID PORT=$NNTPD_PORT CONF=$NNTPD_CONF LOG=$NNTPD_LOG
	fi
}

session() {
	"${PROTO}_session" "$@"
}

count() {
	grep -Ec -- "$1" <<<"$output" || true
}

need_ipv6() {
	ip -6 addr show dev lo 2>/dev/null | grep -q '::1/' ||
		skip "no IPv6 on loopback"
}

greeting_and_quit_ipv4() {
	use "$1"
	start
	run session QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ $GREET ]]
	[[ ${lines[1]} =~ $QUIT ]]
	[ "${lines[2]}" = "<closed>" ]
}

greeting_and_quit_ipv6() {
	use "$1"
	need_ipv6
	start -o listen_address= -o listen_address6=::1
	CLIENT_HOST=::1 run session QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ $GREET ]]
	[[ ${lines[1]} =~ $QUIT ]]
	# Only ::1 was asked for: nothing answers on 127.0.0.1.
	run session QUIT
	[ "$status" -ne 0 ]
	has '^<error'
}

help_answers() {
	use "$1"
	start
	run session HELP QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[1]} =~ $HELP_FIRST ]]
	[ "${#lines[@]}" -gt 4 ]
	[[ ${lines[-3]} =~ $HELP_LAST ]]
	[[ ${lines[-2]} =~ $QUIT ]]
}

unknown_command_session_goes_on() {
	use "$1"
	start
	run session 'XYZZY plugh' "$ALIVE" QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[1]} =~ $UNKNOWN ]]
	[[ ${lines[2]} =~ $ALIVE_REPLY ]]
	[[ ${lines[-2]} =~ $QUIT ]]
}

overlong_line_one_error_session_goes_on() {
	use "$1"
	start
	run session "$(long_line 102400)" "$ALIVE" QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[1]} =~ $TOOLONG ]]
	# One error for the whole line: it was not split into several commands.
	[ "$(count '^5[0-9][0-9] ')" -eq 1 ]
	[[ ${lines[2]} =~ $ALIVE_REPLY ]]
	[[ ${lines[-2]} =~ $QUIT ]]
}

max_per_ip_refuses_third_others_work() {
	use "$1"
	start -o max_per_ip=2 -o max_clients=0
	run session @1 @2 @3 "@1 $ALIVE" "@2 $ALIVE" '@4 from 127.0.0.2' "@4 $ALIVE"
	[ "$status" -eq 0 ]
	has "^1: ${GREET#^}"
	has "^2: ${GREET#^}"
	has "^3: ${PER_IP#^}"
	has "^1: ${ALIVE_REPLY#^}"
	has "^2: ${ALIVE_REPLY#^}"
	# The limit is per address: another client address is still welcome.
	has "^4: ${GREET#^}"
	has "^4: ${ALIVE_REPLY#^}"
	has '^3: <closed>'
}

max_clients_refuses_third_others_work() {
	use "$1"
	start -o max_clients=2 -o max_per_ip=0
	run session @1 '@2 from 127.0.0.2' '@3 from 127.0.0.3' "@1 $ALIVE" "@2 $ALIVE"
	[ "$status" -eq 0 ]
	has "^1: ${GREET#^}"
	has "^2: ${GREET#^}"
	has "^3: ${BUSY#^}"
	has "^1: ${ALIVE_REPLY#^}"
	has "^2: ${ALIVE_REPLY#^}"
	has '^3: <closed>'
}

sigterm_leaves_no_process() {
	use "$1"
	start
	local held=$BATS_TEST_TMPDIR/held.out i pids
	RAWCLIENT_TIMEOUT=30 session @1 '@1 expect-close' >"$held" 2>&1 3>&- &
	POSTEL_PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		grep -Eq "^1: ${GREET#^}" "$held" && break
		sleep 0.05
	done
	grep -Eq "^1: ${GREET#^}" "$held"
	worker_of "$PID" >/dev/null
	pids=$(descendants "$PID")
	[ -n "$pids" ]
	kill -TERM "$PID"
	# shutdown_grace=2: everything gone well within 8 s.
	# shellcheck disable=SC2086
	wait_gone "$PID" $pids || wait_gone "$PID" $pids
	run pgrep -f -- "listen_port=$PORT( |$)"
	[ "$status" -eq 1 ]
	# The held session was ended by the server, not left hanging.
	for ((i = 0; i < 100; i++)); do
		grep -q '<closed>' "$held" && break
		sleep 0.05
	done
	grep -q '^1: <closed>' "$held"
}

sighup_rereads_config() {
	use "$1"
	start
	run session @1 @2
	has "^2: ${GREET#^}"
	echo max_per_ip=1 >"$CONF"
	kill -HUP "$PID"
	local i
	for ((i = 0; i < 50; i++)); do
		run session @1 @2
		grep -Eq "^2: ${PER_IP#^}" <<<"$output" && break
		sleep 0.1
	done
	has "^1: ${GREET#^}"
	has "^2: ${PER_IP#^}"
}

sighup_broken_file_keeps_old_config() {
	use "$1"
	start
	echo max_per_ip=1 >"$CONF"
	kill -HUP "$PID"
	local i
	for ((i = 0; i < 50; i++)); do
		run session @1 @2
		grep -Eq "^2: ${PER_IP#^}" <<<"$output" && break
		sleep 0.1
	done
	has "^2: ${PER_IP#^}"
	printf 'max_per_ip=5\nbogus_key=1\n' >"$CONF"
	kill -HUP "$PID"
	for ((i = 0; i < 50; i++)); do
		grep -q "bogus_key" "$LOG" && break
		sleep 0.1
	done
	grep -q "$CONF:2: bogus_key: unknown key" "$LOG"
	kill -0 "$PID"
	# Still listening, and still with the old limit of 1.
	run session @1 @2
	has "^1: ${GREET#^}"
	has "^2: ${PER_IP#^}"
}

@test "ftpd: greeting and QUIT over IPv4" { greeting_and_quit_ipv4 ftp; }
@test "nntpd: greeting and QUIT over IPv4" { greeting_and_quit_ipv4 nntp; }
@test "ftpd: greeting and QUIT over IPv6 (::1 only)" { greeting_and_quit_ipv6 ftp; }
@test "nntpd: greeting and QUIT over IPv6 (::1 only)" { greeting_and_quit_ipv6 nntp; }
@test "ftpd: HELP answers with a multi-line 214" { help_answers ftp; }
@test "nntpd: HELP answers with a 100 text response" { help_answers nntp; }
@test "ftpd: unknown command gets 500 and the session goes on" { unknown_command_session_goes_on ftp; }
@test "nntpd: unknown command gets 500 and the session goes on" { unknown_command_session_goes_on nntp; }
@test "ftpd: 100 KB line gets one 500 and the session goes on" { overlong_line_one_error_session_goes_on ftp; }
@test "nntpd: 100 KB line gets one 501 and the session goes on" { overlong_line_one_error_session_goes_on nntp; }
@test "ftpd: max_per_ip=2 refuses a third client with 421, others keep working" { max_per_ip_refuses_third_others_work ftp; }
@test "nntpd: max_per_ip=2 refuses a third client with 400, others keep working" { max_per_ip_refuses_third_others_work nntp; }
@test "ftpd: max_clients=2 refuses a third client with 421, others keep working" { max_clients_refuses_third_others_work ftp; }
@test "nntpd: max_clients=2 refuses a third client with 400, others keep working" { max_clients_refuses_third_others_work nntp; }
@test "ftpd: SIGTERM ends sessions and leaves no process" { sigterm_leaves_no_process ftp; }
@test "nntpd: SIGTERM ends sessions and leaves no process" { sigterm_leaves_no_process nntp; }
@test "ftpd: SIGHUP re-reads the config file for new sessions" { sighup_rereads_config ftp; }
@test "nntpd: SIGHUP re-reads the config file for new sessions" { sighup_rereads_config nntp; }
@test "ftpd: SIGHUP with a broken file keeps the old config and listener" { sighup_broken_file_keeps_old_config ftp; }
@test "nntpd: SIGHUP with a broken file keeps the old config and listener" { sighup_broken_file_keeps_old_config nntp; }
