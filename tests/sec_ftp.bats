#!/usr/bin/env bats
# ftpd trust boundaries attacked from inside: tests/attack/ftp_rogue is a
# worker taken over by an attacker. The real monitor forks it into the real
# sandbox (its own /proc status says so, checked below), and it sends the
# monitor what no honest worker would. The monitor must refuse and end the
# session; what it answered is on the rogue's stdout, its log on stderr.

setup() {
	load lib/common
	load lib/ftp
	is_root || skip "the monitor and the sandbox need root"
	postel_tmpdir WORK
	mkdir -p "$WORK/anon" "$WORK/empty"
	chmod 755 "$WORK/anon" "$WORK/empty"
}

teardown() {
	postel_teardown
}

# rogue ATTACK [-o key=value]...: run the harness; $output is both streams.
rogue() {
	local attack=$1
	shift
	run timeout 60 "$POSTEL_BUILD/attack/ftp_rogue" "$attack" \
		-o "anon_root=$WORK/anon" -o "secure_chroot_dir=$WORK/empty" \
		-o "ftp_username=$(ftp_user)" -o anonymous_enable=YES \
		-o max_login_fails=3 -o delay_failed_login=0 -o xferlog_enable=NO "$@"
	echo "$output"
	# 124: the harness hung (the monitor kept serving the rogue)
	[ "$status" -ne 124 ]
	# The attack ran inside the boundary: unprivileged, no capabilities,
	# no new privileges, under a seccomp filter.
	has '^pre-login Uid:[[:space:]]+[1-9]' '^pre-login CapEff:[[:space:]]+0+$' \
		'^pre-login NoNewPrivs:[[:space:]]+1' '^pre-login Seccomp:[[:space:]]+2'
}

@test "a worker cannot try passwords past max_login_fails: the monitor ends the session" {
	rogue login-flood
	has 'attempt 3 \(nosuchuser\): refused \(fatal\)' \
		'monitor: login request after the last refusal'
	# the fourth attempt and the anonymous one after it are never answered
	hasnt '^attempt [4-6] \(.*\): (accepted|refused)' 'login ok' 'flood: every attempt answered'
	has 'session end: killed by signal 9'
}

@test "a logged-in worker cannot log in again as someone else" {
	rogue relogin
	has '^attempt 1 \(anonymous\): accepted' 'login ok \(anonymous\)' \
		'^post-login Seccomp:[[:space:]]+2' 'monitor: login request after a login'
	hasnt '^attempt 2 \(root\): (accepted|refused)' 'login refused for root'
}

@test "a worker cannot make the monitor buffer an endless handoff" {
	rogue handoff-flood
	has '^attempt 1 \(anonymous\): accepted' 'monitor: handoff over its bound'
	hasnt 'handoff: ([1-9]|[1-9][0-9]) MiB taken' 'handoff: all 64 MiB taken'
}

@test "a logged-in worker holds no xferlog descriptor, and the monitor takes one line at a time" {
	echo "an earlier session's line" >"$WORK/xferlog"
	rogue xferlog -o xferlog_enable=YES -o "xferlog_file=$WORK/xferlog"
	has '^attempt 1 \(anonymous\): accepted' '^xferlog: not held' \
		'monitor: malformed xferlog line'
	hasnt '^xferlog: held as fd'
	has -f "$WORK/xferlog" "^an earlier session's line\$"
	hasnt -f "$WORK/xferlog" 'forged'
}

@test "a pre-login worker gets no port-20 socket (no TCP Fast Open from port 20)" {
	rogue bind-prelogin -o connect_from_port_20=YES
	has 'monitor: data port request out of state'
	hasnt '^bind: answered' 'with a descriptor'
}

# pam_recorder: the test PAM service also runs pam_exec at session open and
# close, which appends "open_session USER" / "close_session USER" to
# $WORK/events.
pam_recorder() {
	printf '#!/bin/sh\necho "$PAM_TYPE $PAM_USER" >>%s\n' "$WORK/events" >"$WORK/record"
	chmod 755 "$WORK/record"
	printf 'session optional pam_exec.so quiet %s\n' "$WORK/record" >>"/etc/pam.d/$PAMSVC"
}

@test "a local login gets a PAM session: pam_limits applies to its worker, closed at QUIT" {
	pam_user_add ftpsess
	printf 'session required pam_limits.so conf=%s\n' "$WORK/limits.conf" >>"/etc/pam.d/$PAMSVC"
	pam_recorder
	printf '%s - msgqueue 7777\n' "$TUSER" >"$WORK/limits.conf"
	ftp_up -o local_enable=YES -o "pam_service_name=$PAMSVC"
	ftp_py '
f = ftplib.FTP(timeout=30)
f.connect(H, P)
f.login(os.environ["TUSER"], os.environ["TPASS"])
open(ARGS[0] + "/in", "w").close()
for i in range(300):
    if os.path.exists(ARGS[0] + "/go"):
        break
    time.sleep(0.1)
f.quit()
' "$WORK" >"$WORK/client.out" 2>&1 &
	client=$!
	wait_for 30 test -e "$WORK/in" || { cat "$WORK/client.out" "$FTPD_LOG"; false; }
	read -r _ wrk < <(worker_of "$FTPD_PID")
	run grep 'Max msgqueue size' "/proc/$wrk/limits"
	touch "$WORK/go"
	wait "$client"
	has ' 7777 +7777 '
	has -f "$WORK/events" "^open_session $TUSER\$"
	wait_for 10 grep -qx "close_session $TUSER" "$WORK/events"
	pam_user_remove
}

@test "session_support=NO opens no PAM session" {
	pam_user_add ftpnosess
	pam_recorder
	ftp_up -o local_enable=YES -o "pam_service_name=$PAMSVC" -o session_support=NO
	run ftp_py '
f = ftplib.FTP(timeout=30)
f.connect(H, P)
print(f.login(os.environ["TUSER"], os.environ["TPASS"]))
f.quit()
'
	pam_user_remove
	has '^230'
	hasnt -f "$WORK/events" "session"
}
