#!/usr/bin/env bats
# The fail2ban filters (conf/fail2ban/filter.d) against the real log of a
# brute-force run: every refused login, back-off refusal, HTTP request and
# junk session is one match with the attacker's address (IPv4 and IPv6), a
# successful login is none, and a hostile user name cannot put another
# address into a match. Debian's fail2ban-regex does the matching, and
# fail2ban-client -t loads both jails (conf/fail2ban/jail.d).
#
# One ftpd and one nntpd serve the whole file; each test plays its attacker
# from loopback addresses of its own, so its counts are its own.

BRUTE=tests/lib/bruteforce.py
NAMES=(
	# a forged session prefix for another address
	'"x c=6.6.6.1 u=- login refused for y (1 of 3)"'
	# the same after a bare CR (a line break for some readers)
	'"x\rs=0123456789 c=6.6.6.2 u=- login refused for y (1 of 3)"'
	# a listener line after a vertical tab and a form feed
	'"x\x0b\x0crefused c=6.6.6.3: address in back-off after failed logins"'
	# after the Unicode line breaks (NEL, LINE SEPARATOR) Python splits on
	'"x\u0085s=0123456789 c=6.6.6.4 u=- login refused for y (1 of 3)\u2028refused c=6.6.6.5: address in back-off after failed logins"'
)

setup_file() {
	command -v fail2ban-regex >/dev/null || return 0
	[ "$(id -u)" -eq 0 ] || return 0
	load lib/common
	pam_user_add f2b
	local -a common=(-o delay_failed_login=0 -o max_login_fails=3
		-o failed_login_backoff=60 -o listen_address6=::1
		-o "pam_service_name=$PAMSVC")
	start_ftpd -o local_enable=YES "${common[@]}"
	start_nntpd -o allow_plaintext_auth=YES "${common[@]}"
}

teardown_file() {
	load lib/common
	local status=0 d
	stop_pid "${FTPD_PID:-}"
	stop_pid "${NNTPD_PID:-}"
	for d in "${FTPD_DIR:-}" "${NNTPD_DIR:-}"; do
		[ -n "$d" ] || continue
		check_log "$d/ftpd.log" || status=1
		check_log "$d/nntpd.log" || status=1
		rm -rf "$d"
	done
	pam_user_remove
	return "$status"
}

setup() {
	load lib/common
	command -v fail2ban-regex >/dev/null || skip "fail2ban-regex not installed (package fail2ban)"
	is_root || skip "refused logins need a PAM user (root)"
	[ -n "${FTPD_PID:-}" ] && [ -n "${NNTPD_PID:-}" ] || skip "the daemons did not start"
}

teardown() {
	postel_teardown
}

# brute ACTION SRC DAEMON ARGS...: run tests/lib/bruteforce.py against DAEMON.
brute() {
	local action=$1 src=$2 port host=127.0.0.1
	[ "$3" = ftpd ] && port=$FTPD_PORT || port=$NNTPD_PORT
	[[ $src == *:* ]] && host=::1
	shift 3
	timeout 60 python3 "$POSTEL_ROOT/$BRUTE" "$action" "$src" "$host" "$port" "$@"
}

# matches DAEMON: the address of each match of DAEMON's filter in its log,
# one a line, as fail2ban-regex reports them.
matches() {
	local log
	[ "$1" = ftpd ] && log=$FTPD_LOG || log=$NNTPD_LOG
	fail2ban-regex -o ip "$log" "$POSTEL_ROOT/conf/fail2ban/filter.d/postel-$1.conf"
}

# count ADDR: how many matches in $output (from `run matches`) name ADDR.
count() {
	grep -cxF -- "$1" <<<"$output" || true
}

# logged DAEMON ADDR REGEX: how many lines of DAEMON's log for ADDR match REGEX.
logged() {
	local log
	[ "$1" = ftpd ] && log=$FTPD_LOG || log=$NNTPD_LOG
	grep -E -- "c=$2[: ].*$3" "$log" | grep -c . || true
}

@test "ftpd: a brute force from IPv4 is one match per refused login, one for the back-off" {
	run brute ftp-login 127.0.0.2 ftpd "$TUSER" bad1 bad2 bad3
	[ "$output" = $'530\n530\n530\nclosed' ]
	run brute ftp-login 127.0.0.2 ftpd "$TUSER" "$TPASS"
	[ "$output" = "refused 421" ]
	[ "$(logged ftpd 127.0.0.2 'login refused for')" -eq 3 ]
	run matches ftpd
	[ "$status" -eq 0 ]
	[ "$(count 127.0.0.2)" -eq 4 ]
}

@test "ftpd: refused logins over IPv6 match with the address; the success after them does not" {
	run brute ftp-login ::1 ftpd "$TUSER" bad1 bad2 "$TPASS"
	[ "$output" = $'530\n530\n230' ]
	[ "$(logged ftpd ::1 "u=$TUSER login ok")" -eq 1 ]
	run brute ftp-login 127.0.0.5 ftpd "$TUSER" "$TPASS"
	[ "$output" = 230 ]
	run brute ftp-login 127.0.0.5 ftpd anonymous guest@example
	[ "$output" = 230 ]
	[ "$(logged ftpd 127.0.0.5 'login ok')" -eq 2 ]
	run matches ftpd
	[ "$status" -eq 0 ]
	[ "$(count ::1)" -eq 2 ]
	[ "$(count 127.0.0.5)" -eq 0 ]
}

@test "ftpd: an HTTP request and a session of unknown commands are one match each" {
	run curl -sS --max-time 10 --interface 127.0.0.3 "http://127.0.0.1:$FTPD_PORT/"
	[ "$status" -ne 0 ]
	run brute ftp-junk 127.0.0.4 ftpd 25
	[ "${lines[19]}" = 421 ]
	[ "${lines[20]}" = closed ]
	run matches ftpd
	[ "$status" -eq 0 ]
	[ "$(count 127.0.0.3)" -eq 1 ]
	[ "$(count 127.0.0.4)" -eq 1 ]
}

@test "ftpd: a hostile USER name counts once for its sender and never for the address it names" {
	local i=0 n
	for n in "${NAMES[@]}"; do
		i=$((i + 1))
		run brute ftp-name "127.0.0.1$i" ftpd "$n"
		[ "${lines[0]}" = 220 ]
		[ "${lines[2]}" = 530 ]
		# The forged text reached the log, on the sender's line.
		[ "$(logged ftpd "127.0.0.1$i" "c=6\.6\.6\.$i")" -eq 1 ]
	done
	run matches ftpd
	[ "$status" -eq 0 ]
	for ((i = 1; i <= ${#NAMES[@]}; i++)); do
		[ "$(count "127.0.0.1$i")" -eq 1 ]
	done
	hasnt '^6\.6\.6\.'
}

@test "nntpd: a brute force from IPv4 is one match per refused login, one for the back-off" {
	run brute nntp-login 127.0.0.2 nntpd "$TUSER" bad1 bad2 bad3
	[ "$output" = $'481\n481\n481\nclosed' ]
	run brute nntp-login 127.0.0.2 nntpd "$TUSER" "$TPASS"
	[ "$output" = "refused 400" ]
	[ "$(logged nntpd 127.0.0.2 'login refused for')" -eq 3 ]
	[ "$(logged nntpd 127.0.0.2 'too many failed logins')" -eq 1 ]
	run matches nntpd
	[ "$status" -eq 0 ]
	[ "$(count 127.0.0.2)" -eq 4 ]
}

@test "nntpd: refused logins over IPv6 match with the address; the success after them does not" {
	run brute nntp-login ::1 nntpd "$TUSER" bad1 bad2 "$TPASS"
	[ "$output" = $'481\n481\n281' ]
	[ "$(logged nntpd ::1 "u=$TUSER login ok")" -eq 1 ]
	run brute nntp-login 127.0.0.5 nntpd "$TUSER" "$TPASS"
	[ "$output" = 281 ]
	[ "$(logged nntpd 127.0.0.5 'login ok')" -eq 1 ]
	run matches nntpd
	[ "$status" -eq 0 ]
	[ "$(count ::1)" -eq 2 ]
	[ "$(count 127.0.0.5)" -eq 0 ]
}

@test "nntpd: an HTTP request and a session of unknown commands are one match each" {
	run curl -sS --max-time 10 --interface 127.0.0.3 "http://127.0.0.1:$NNTPD_PORT/"
	[ "$status" -ne 0 ]
	run brute nntp-junk 127.0.0.4 nntpd 55
	[ "${lines[49]}" = 500 ]
	[ "${lines[50]}" = 400 ]
	run matches nntpd
	[ "$status" -eq 0 ]
	[ "$(count 127.0.0.3)" -eq 1 ]
	[ "$(count 127.0.0.4)" -eq 1 ]
}

@test "nntpd: a hostile AUTHINFO USER name counts once for its sender and never for the address it names" {
	local i=0 n
	for n in "${NAMES[@]}"; do
		i=$((i + 1))
		run brute nntp-name "127.0.0.1$i" nntpd "$n"
		[ "${lines[0]}" = 200 ]
		[ "${lines[2]}" = 481 ]
		# The forged text reached the log, on the sender's line.
		[ "$(logged nntpd "127.0.0.1$i" "c=6\.6\.6\.$i")" -eq 1 ]
	done
	run matches nntpd
	[ "$status" -eq 0 ]
	for ((i = 1; i <= ${#NAMES[@]}; i++)); do
		[ "$(count "127.0.0.1$i")" -eq 1 ]
	done
	hasnt '^6\.6\.6\.'
}

@test "fail2ban-client -t loads both jails, enabled, with the shipped filters" {
	local conf
	postel_tmpdir conf
	cp -r /etc/fail2ban/. "$conf/"
	cp "$POSTEL_ROOT"/conf/fail2ban/filter.d/*.conf "$conf/filter.d/"
	cp "$POSTEL_ROOT"/conf/fail2ban/jail.d/*.conf "$conf/jail.d/"
	# The stock sshd jail wants a log this machine may not have.
	printf '[sshd]\nenabled = false\n[postel-ftpd]\nenabled = true\n[postel-nntpd]\nenabled = true\n' \
		>"$conf/jail.d/zz-postel-test.local"
	run fail2ban-client -c "$conf" -t
	[ "$status" -eq 0 ]
	run fail2ban-client -c "$conf" -d
	[ "$status" -eq 0 ]
	has "\['add', 'postel-ftpd', 'systemd'\]" "\['add', 'postel-nntpd', 'systemd'\]" \
		"'postel-ftpd', 'addjournalmatch', '_SYSTEMD_UNIT=ftpd.service'" \
		"'postel-nntpd', 'maxretry', 5"
}
