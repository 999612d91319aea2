#!/usr/bin/env bats
# Command line and configuration of both daemons: -t, -T, -o, -h, and the
# FILE:LINE: key: reason error format.

setup() {
	load lib/common
}

teardown() {
	postel_teardown
}

bin() {
	local b=$POSTEL_BUILD/$1
	[ -x "$b" ] || skip "$b is not built yet"
	printf '%s\n' "$b"
}

# A key of each type every daemon has.
BOOL_KEY=
bool_key() {
	case $1 in
	ftpd) BOOL_KEY=write_enable ;;
	nntpd)
		config_env nntpd
		BOOL_KEY=$("$(bin nntpd)" -f /dev/null -T "${CONFIG_ENV[@]}" | grep -E '=(YES|NO)( |$)' |
		head -n 1 | cut -d= -f1) ;;
	esac
	[ -n "$BOOL_KEY" ] || skip "$1 has no boolean key yet"
}

shipped_conf_accepted() {
	local b
	b=$(bin "$1")
	[ -f "$POSTEL_ROOT/conf/$1.conf" ] || skip "conf/$1.conf does not exist yet"
	config_env "$1"
	run "$b" -t -f "$POSTEL_ROOT/conf/$1.conf" "${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
	hasnt ':[0-9]+: '
}

# rejects DAEMON LINE KEY FILE-TEXT: -t says exactly FILE:LINE: KEY: reason, exits 1.
rejects() {
	local b f=$BATS_TEST_TMPDIR/bad.conf
	b=$(bin "$1")
	printf '%s' "$4" >"$f"
	run "$b" -t -f "$f"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == "$f:$2: $3: "?* ]]
}

unknown_key_rejected() {
	rejects "$1" 3 no_such_key $'# a comment\n\nno_such_key=1\n'
}

bad_boolean_rejected() {
	bool_key "$1"
	rejects "$1" 2 "$BOOL_KEY" $'listen_port=2121\n'"$BOOL_KEY"$'=maybe\n'
}

number_out_of_range_rejected() {
	rejects "$1" 1 listen_port $'listen_port=70000\nmax_clients=10\n'
}

every_bad_line_reported() {
	local b f=$BATS_TEST_TMPDIR/bad.conf
	b=$(bin "$1")
	printf 'foo=1\nlisten_port=0\nmax_clients=10\nbar=2\n' >"$f"
	run "$b" -t -f "$f"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[0]} == "$f:1: foo: "?* ]]
	[[ ${lines[1]} == "$f:2: listen_port: "?* ]]
	[[ ${lines[2]} == "$f:4: bar: "?* ]]
}

bad_file_stops_daemon_at_start() {
	local b f=$BATS_TEST_TMPDIR/bad.conf port
	b=$(bin "$1")
	port=$(free_port)
	printf 'listen_address=127.0.0.1\nlisten_port=%s\nno_such_key=1\n' "$port" >"$f"
	run timeout 10 "$b" -D -f "$f"
	[ "$status" -eq 1 ]
	[[ $output == *"$f:3: no_such_key: "?* ]]
}

missing_file_rejected() {
	local b
	b=$(bin "$1")
	run "$b" -t -f "$BATS_TEST_TMPDIR/nonexistent.conf"
	[ "$status" -eq 1 ]
	[[ $output == *"$BATS_TEST_TMPDIR/nonexistent.conf"* ]]
}

bad_override_rejected() {
	local b
	b=$(bin "$1")
	run "$b" -t -f /dev/null -o no_such_key=1
	[ "$status" -eq 1 ]
	[ "$output" != "" ]
	[[ ${lines[0]} == "-o:1: no_such_key: "?* ]]
	run "$b" -t -f /dev/null -o listen_port=2121 -o listen_port=99999
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == "-o:2: listen_port: "?* ]]
}

effective_config_printed() {
	local b f=$BATS_TEST_TMPDIR/my.conf
	b=$(bin "$1")
	printf 'max_clients=7\n' >"$f"
	config_env "$1"
	run "$b" -T -f "$f" -o listen_port=2121 "${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
	# Set values are plain, defaults are marked.
	grep -Eq '^listen_port=2121[[:space:]]*$' <<<"$output"
	grep -Eq '^max_clients=7[[:space:]]*$' <<<"$output"
	grep -Eq '^max_per_ip=[0-9]+ +# default$' <<<"$output"
	grep -Eq '^listen_address=.* # default$' <<<"$output"
	# One key=value per line (list keys such as access may repeat).
	[ "$(grep -Evc '^[a-z_0-9]+=' <<<"$output")" -eq 0 ]
	[ "$(grep -c '^listen_port=' <<<"$output")" -eq 1 ]
}

usage_on_h() {
	local b
	b=$(bin "$1")
	run "$b" -h
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == usage:* ]]
	[[ $output == *-f* && $output == *-o* && $output == *-t* && $output == *-D* ]]
}

unknown_flag_exits_2() {
	local b
	b=$(bin "$1")
	run "$b" -Z
	[ "$status" -eq 2 ]
	[[ $output == *usage:* ]]
	run "$b" -t stray-argument
	[ "$status" -eq 2 ]
}

@test "ftpd: -t accepts the shipped conf/ftpd.conf" { shipped_conf_accepted ftpd; }
@test "ftpd: -t rejects an unknown key with FILE:LINE: key: reason, exit 1" { unknown_key_rejected ftpd; }
@test "ftpd: -t rejects a bad boolean with FILE:LINE: key: reason, exit 1" { bad_boolean_rejected ftpd; }
@test "ftpd: -t rejects a number out of range with FILE:LINE: key: reason, exit 1" { number_out_of_range_rejected ftpd; }
@test "ftpd: -t reports every bad line, in order" { every_bad_line_reported ftpd; }
@test "ftpd: a bad file stops the daemon at start with exit 1" { bad_file_stops_daemon_at_start ftpd; }
@test "ftpd: -t rejects a missing -f file" { missing_file_rejected ftpd; }
@test "ftpd: -o with a bad key or value is rejected as -o:N: key: reason" { bad_override_rejected ftpd; }
@test "ftpd: -T prints the effective config with # default markers" { effective_config_printed ftpd; }
@test "ftpd: -h prints usage and exits 0" { usage_on_h ftpd; }
@test "ftpd: an unknown flag or stray argument exits 2" { unknown_flag_exits_2 ftpd; }
@test "nntpd: -t accepts the shipped conf/nntpd.conf" { shipped_conf_accepted nntpd; }
@test "nntpd: -t rejects an unknown key with FILE:LINE: key: reason, exit 1" { unknown_key_rejected nntpd; }
@test "nntpd: -t rejects a bad boolean with FILE:LINE: key: reason, exit 1" { bad_boolean_rejected nntpd; }
@test "nntpd: -t rejects a number out of range with FILE:LINE: key: reason, exit 1" { number_out_of_range_rejected nntpd; }
@test "nntpd: -t reports every bad line, in order" { every_bad_line_reported nntpd; }
@test "nntpd: a bad file stops the daemon at start with exit 1" { bad_file_stops_daemon_at_start nntpd; }
@test "nntpd: -t rejects a missing -f file" { missing_file_rejected nntpd; }
@test "nntpd: -o with a bad key or value is rejected as -o:N: key: reason" { bad_override_rejected nntpd; }
@test "nntpd: -T prints the effective config with # default markers" { effective_config_printed nntpd; }
@test "nntpd: -h prints usage and exits 0" { usage_on_h nntpd; }
@test "nntpd: an unknown flag or stray argument exits 2" { unknown_flag_exits_2 nntpd; }
