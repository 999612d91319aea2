#!/usr/bin/env bats
# ftpd upload hooks: upload_hook runs once for every completed upload (and
# DELE and RNTO with hook_events), in the hook runner the listener starts,
# as hook_user, with the event's facts in its environment; events are on
# disk before the 226, survive a kill -9 of the runner and a restart of
# ftpd, a failing hook is retried and kept in failed/, a hanging one is
# killed at hook_timeout. Attacks: a rogue worker reporting what it should
# not, a local user talking to the runner's socket. Real clients: curl,
# Python ftplib.

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	load lib/common
	pam_user_add hk nohome
}

teardown_file() {
	load lib/common
	pam_user_remove
}

setup() {
	load lib/common
	load lib/ftp
	is_root || skip "hook tests need root (hook_user, the monitor, chroot)"
	postel_tmpdir WORK
	HOOKUSER=$TUSER
	OUT=$WORK/out
	QUEUE=$WORK/queue
	mkdir -p "$OUT"
	chown "$HOOKUSER" "$OUT"
	write_hook
}

teardown() {
	postel_teardown
}

# The hook: one line per event it handled, in $OUT/hook.log. hang* files
# hang (a sleep in its process group, both PIDs noted); bad* files always
# fail; any file fails while $OUT/hold exists.
write_hook() {
	HOOK=$WORK/hook.sh
	cat >"$HOOK" <<EOF
#!/bin/sh
out=$OUT
name=\$(basename "\$POSTEL_PATH")
case "\$name" in
hang*) sleep 1000 & echo \$! >\$out/sleep.pid; echo \$\$ >\$out/hang.pid; wait; exit 0 ;;
bad*) echo "cannot take \$name" >&2; exit 7 ;;
chatty*) head -c 5000 /dev/zero | tr '\\0' x; echo; seq 1 300; exit 0 ;;
esac
if [ -e \$out/hold ]; then echo "holding \$name" >&2; exit 3; fi
echo "\$(id -u) \$POSTEL_EVENT \$POSTEL_SESSION \$POSTEL_PATH \$POSTEL_SIZE \$POSTEL_USER \$POSTEL_CLIENT \${POSTEL_OLD_PATH:--} \$POSTEL_TRY" >>\$out/hook.log
echo "handled \$name"
EOF
	chmod 755 "$HOOK"
}

# hooks_up [args]: anonymous uploads into incoming/, the hook on.
hooks_up() {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_umask=022 \
		-o "upload_hook=$HOOK" -o "hook_user=$HOOKUSER" -o "hook_queue_dir=$QUEUE" \
		-o hook_timeout=30 "$@"
	URL=ftp://127.0.0.1:$FTPD_PORT
}

put() {
	local name=$1 size=${2:-1000}
	head -c "$size" /dev/urandom >"$WORK/$name"
	timeout 60 curl -sS -T "$WORK/$name" "$URL/incoming/$name"
}

hook_lines() { grep -c -- "$1" "$OUT/hook.log" 2>/dev/null || true; }
hook_ran() { [ "$(hook_lines "$1")" -ge 1 ]; }
runner_pid() { sed -n 's/.*hook runner started (pid \([0-9]*\)).*/\1/p' "$FTPD_LOG" | tail -n 1; }
runner_starts() { grep -c 'hook runner started' "$FTPD_LOG" || true; }
restarted() { [ "$(runner_starts)" -ge 2 ]; }
queued() { find "$QUEUE" -maxdepth 1 -name 'ev-*' | wc -l; }
queue_empty() { [ "$(queued)" -eq 0 ]; }
alive() { kill -0 "$1" 2>/dev/null && ! is_zombie "$1"; }

# every_key_once: each "session path" of hook.log appears exactly once.
every_key_once() {
	local dup
	dup=$(awk '{ print $3, $4 }' "$OUT/hook.log" | sort | uniq -d)
	if [ -n "$dup" ]; then
		echo "hook ran more than once for: $dup" >&2
		cat "$OUT/hook.log" >&2
		return 1
	fi
}

@test "the hook runs once per completed upload, as hook_user, with the real path and the event's facts" {
	hooks_up
	put curl.bin 1234
	ftp_py '
f = anon()
f.storbinary("STOR incoming/ftplib.bin", io.BytesIO(b"y" * 4321))
f.quit()'
	wait_for 20 hook_ran "/ftplib.bin "
	wait_for 20 hook_ran "/curl.bin "
	cat "$OUT/hook.log"
	[ "$(wc -l <"$OUT/hook.log")" -eq 2 ]
	local sid uid
	uid=$(id -u "$HOOKUSER")
	sid=$(sed -n 's/.*s=\([0-9a-f]*\) .*hook event queued: upload \/incoming\/curl.bin$/\1/p' "$FTPD_LOG")
	[ -n "$sid" ]
	has -f "$OUT/hook.log" "^$uid upload $sid $ANON/incoming/curl.bin 1234 anonymous 127\\.0\\.0\\.1 - 1\$" \
		"^$uid upload [0-9a-f]+ $ANON/incoming/ftplib.bin 4321 anonymous 127\\.0\\.0\\.1 - 1\$"
	# the hook's output is logged, and nothing stays queued
	has -f "$FTPD_LOG" 'hook\[[0-9]+\] says: handled curl.bin' 'hook\[[0-9]+\] done: ev-'
	[ "$(queued)" -eq 0 ]
}

@test "exactly once per completed upload across a kill -9 of the runner and a restart of ftpd" {
	hooks_up
	put one.bin
	wait_for 20 hook_ran "/one.bin "
	# Held: the hook fails (on purpose) and the event waits for its retry.
	touch "$OUT/hold"
	put two.bin
	# the 226 came after the event was on disk
	[ "$(queued)" -eq 1 ]
	wait_for 20 has -f "$FTPD_LOG" 'hook\[[0-9]+\] failed \(exit 3\): ev-.*; try 2 in 1 s'
	has -f "$FTPD_LOG" 'says: holding two.bin'
	[ "$(queued)" -eq 1 ]
	local old
	old=$(runner_pid)
	[ -n "$old" ]
	kill -KILL "$old"
	wait_for 20 restarted
	[ "$(runner_pid)" != "$old" ]
	wait_for 20 has -f "$FTPD_LOG" 'hook runner: 1 queued event\(s\) to replay'
	# The new runner tries it too (and fails, held) before it may succeed,
	# so its success is a retry whatever the timing.
	local fails
	fails=$(grep -Ec 'hook\[[0-9]+\] failed \(exit 3\)' "$FTPD_LOG")
	wait_for 30 log_count_at_least $((fails + 1)) "$FTPD_LOG" 'hook\[[0-9]+\] failed \(exit 3\)'
	rm "$OUT/hold"
	wait_for 20 hook_ran "/two.bin "
	# Held again, then ftpd itself restarts: the new runner replays it.
	touch "$OUT/hold"
	put three.bin
	wait_for 20 has -f "$FTPD_LOG" 'says: holding three.bin'
	local first_anon=$ANON
	stop_ftpd
	[ "$(queued)" -eq 1 ]
	rm "$OUT/hold"
	hooks_up
	wait_for 20 hook_ran "$first_anon/incoming/three.bin "
	put four.bin
	wait_for 20 hook_ran "/four.bin "
	cat "$OUT/hook.log"
	[ "$(wc -l <"$OUT/hook.log")" -eq 4 ]
	every_key_once
	for f in one two three four; do
		[ "$(hook_lines "/$f.bin ")" -eq 1 ]
	done
	# two and three ran on a later try: the failed one was retried
	has -f "$OUT/hook.log" '/two\.bin .* [2-9]$'
	wait_for 10 queue_empty
}

@test "the runner ends with its listener (kill -9), and the next daemon's runner takes the queue" {
	hooks_up
	local runner
	runner=$(runner_pid)
	[ -n "$runner" ]
	alive "$runner"
	kill -KILL "$FTPD_PID"
	wait_gone "$runner"
	hooks_up
	put next.bin
	wait_for 20 hook_ran "/next.bin "
	hasnt -f "$FTPD_LOG" 'another runner holds'
}

@test "a hanging hook is killed at hook_timeout, with its process group, and never delays a 226" {
	hooks_up -o hook_timeout=10 -o hook_max_tries=1
	put hang.bin
	wait_for 20 test -s "$OUT/sleep.pid"
	wait_for 20 test -s "$OUT/hang.pid"
	local hang sleeper
	hang=$(cat "$OUT/hang.pid")
	sleeper=$(cat "$OUT/sleep.pid")
	alive "$hang"
	# An upload while the hook hangs gets its 226 (curl fails without it),
	# and the hook is still hanging when it does.
	put after.bin
	alive "$hang"
	has -f "$FTPD_LOG" 'hook event queued: upload /incoming/after.bin'
	wait_for 20 has -f "$FTPD_LOG" 'hook\[[0-9]+\] timed out after 10 s: killed its process group'
	wait_gone "$hang" "$sleeper"
	# one try only: kept in failed/, and the next event runs
	wait_for 20 has -f "$FTPD_LOG" 'hook failed 1 times, the last timed out after 10 s; kept as .*/failed/ev-'
	[ "$(find "$QUEUE/failed" -name 'ev-*' | wc -l)" -eq 1 ]
	wait_for 20 hook_ran "/after.bin "
	[ "$(hook_lines "/hang.bin ")" -eq 0 ]
}

@test "a failing hook is retried with back-off, logged, and kept in failed/ after hook_max_tries" {
	hooks_up -o hook_max_tries=3
	put bad.bin
	wait_for 30 has -f "$FTPD_LOG" 'hook failed 3 times, the last exit 7; kept as .*/failed/ev-'
	has -f "$FTPD_LOG" 'hook\[[0-9]+\] failed \(exit 7\): ev-.*; try 2 in 1 s' \
		'hook\[[0-9]+\] failed \(exit 7\): ev-.*; try 3 in 2 s' 'says: cannot take bad.bin'
	[ "$(grep -c 'says: cannot take bad.bin' "$FTPD_LOG")" -eq 3 ]
	[ "$(find "$QUEUE/failed" -name 'ev-*' | wc -l)" -eq 1 ]
	[ "$(queued)" -eq 0 ]
}

@test "the hook's output goes to the log line by line, bounded (1024 bytes a line, 200 lines a run)" {
	hooks_up
	put chatty.bin
	wait_for 20 has -f "$FTPD_LOG" 'hook\[[0-9]+\] done: ev-'
	has -f "$FTPD_LOG" "says: x{1024} \\[cut\\]\$" 'says: 199$' \
		'hook\[[0-9]+\]: output after 200 lines not logged'
	hasnt -f "$FTPD_LOG" 'says: 200$' 'x{1025}'
	[ "$(grep -c 'says: ' "$FTPD_LOG")" -eq 200 ]
}

@test "SIGHUP starts a new runner with the new configuration" {
	hooks_up -o anon_other_write_enable=YES
	local old
	old=$(runner_pid)
	echo "hook_events=upload,delete" >>"$FTPD_CONF"
	kill -HUP "$FTPD_PID"
	wait_for 20 restarted
	wait_gone "$old"
	[ "$(runner_pid)" != "$old" ]
	put h.bin
	ftp_py '
f = anon()
f.delete("incoming/h.bin")
f.quit()'
	wait_for 20 hook_ran " delete [0-9a-f]* $ANON/incoming/h.bin "
}

@test "an aborted or killed upload never runs the hook" {
	aborted_and_killed
}

@test "an aborted or killed upload never runs the hook, in place too (upload_atomic=NO)" {
	# The partial has the final name here: only the PI's word keeps it out.
	aborted_and_killed -o upload_atomic=NO
	[ -f "$ANON/incoming/aborted.bin" ]
}

aborted_and_killed() {
	hooks_up "$@"
	ftp_py '
f = anon()
c = f.transfercmd("STOR incoming/aborted.bin")
c.sendall(b"a" * 100000)
f.abort()
c.close()
f.quit()' || true
	ftp_py '
f = anon()
c = f.transfercmd("STOR incoming/killed.bin")
c.sendall(b"k" * 100000)
os.kill(os.getpid(), 9)' || true
	# Events run in order: once the sentinel's ran, any before it had.
	put sentinel.bin
	wait_for 20 hook_ran "/sentinel.bin "
	[ "$(hook_lines "/aborted.bin ")" -eq 0 ]
	[ "$(hook_lines "/killed.bin ")" -eq 0 ]
	hasnt -f "$FTPD_LOG" 'hook event queued: upload /incoming/(aborted|killed).bin'
	[ "$(wc -l <"$OUT/hook.log")" -eq 1 ]
}

@test "delete and rename events run the hook with hook_events=upload,delete,rename" {
	hooks_up -o anon_other_write_enable=YES -o hook_events=upload,delete,rename
	put r.bin 777
	ftp_py '
f = anon()
f.rename("incoming/r.bin", "incoming/r2.bin")
f.delete("incoming/r2.bin")
f.quit()'
	wait_for 20 hook_ran " delete "
	cat "$OUT/hook.log"
	has -f "$OUT/hook.log" " upload [0-9a-f]+ $ANON/incoming/r.bin 777 anonymous " \
		" rename [0-9a-f]+ $ANON/incoming/r2.bin 777 anonymous 127\\.0\\.0\\.1 $ANON/incoming/r.bin 1\$" \
		" delete [0-9a-f]+ $ANON/incoming/r2.bin 0 anonymous 127\\.0\\.0\\.1 - 1\$"
	[ "$(wc -l <"$OUT/hook.log")" -eq 3 ]
}

@test "without delete and rename in hook_events, DELE and RNTO run no hook" {
	hooks_up -o anon_other_write_enable=YES
	put s.bin
	ftp_py '
f = anon()
f.rename("incoming/s.bin", "incoming/s2.bin")
f.delete("incoming/s2.bin")
f.quit()'
	put sentinel.bin
	wait_for 20 hook_ran "/sentinel.bin "
	[ "$(hook_lines " rename ")" -eq 0 ]
	[ "$(hook_lines " delete ")" -eq 0 ]
	[ "$(wc -l <"$OUT/hook.log")" -eq 2 ]
}

# rogue_hooks: the rogue worker's PS_HOOK requests against the real monitor
# (no runner: the monitor queues what it accepts itself).
rogue_hooks() {
	mkdir -p "$WORK/anon/adir" "$WORK/empty" "$QUEUE"
	chmod 755 "$WORK/anon" "$WORK/empty"
	chmod 700 "$QUEUE"
	printf 'twelve bytes' >"$WORK/anon/ok.bin"
	ln -s /etc/passwd "$WORK/anon/link"
	ln -s /etc "$WORK/anon/etc"
	run timeout 60 "$POSTEL_BUILD/attack/ftp_rogue" hooks \
		-o "anon_root=$WORK/anon" -o "secure_chroot_dir=$WORK/empty" \
		-o "ftp_username=$(ftp_user)" -o anonymous_enable=YES -o delay_failed_login=0 \
		-o xferlog_enable=NO -o "upload_hook=$HOOK" -o "hook_user=$HOOKUSER" \
		-o "hook_queue_dir=$QUEUE" -o hook_events=upload,delete,rename
	echo "$output"
	[ "$status" -ne 124 ]
	has '^post-login Seccomp:[[:space:]]+2'
}

@test "a worker cannot have the monitor report a path outside its root, a symlink, a directory, or a size" {
	rogue_hooks
	has '^hook outside: refused: outside the session.s root' \
		'^hook symlink: refused: not a regular file' \
		'^hook via-symlink: refused: through a symbolic link' \
		'^hook directory: refused: not a regular file' \
		'^hook delete-present: refused: the file still exists' \
		'^hook rename-outside: refused: outside the session.s root' \
		'^hook honest: queued' 'monitor: malformed hook event'
	hasnt '^hook forged-size: (queued|refused)'
	# Only the honest report is queued, with the size the monitor saw.
	[ "$(queued)" -eq 1 ]
	run python3 - "$QUEUE" <<'EOF'
import os, struct, sys
q = sys.argv[1]
(name,) = [n for n in os.listdir(q) if n.startswith("ev-")]
d = open(os.path.join(q, name), "rb").read()
assert d[:4] == b"PHKE", d[:4]
ver, kind, size, queued = struct.unpack_from("<HHQQ", d, 4)
lens = struct.unpack_from("<5H", d, 24)
off, f = 34, []
for n in lens:
    f.append(d[off:off + n].decode())
    off += n
print("kind=%d size=%d path=%s user=%s" % (kind, size, f[0], f[2]))
EOF
	echo "$output"
	[ "$status" -eq 0 ]
	has "^kind=0 size=12 path=$WORK/anon/ok.bin user=anonymous\$"
	# A daemon started on that queue replays it: the hook runs for ok.bin
	# only, once.
	hooks_up
	wait_for 20 hook_ran "$WORK/anon/ok.bin "
	[ "$(wc -l <"$OUT/hook.log")" -eq 1 ]
	has -f "$OUT/hook.log" " upload [0-9a-f]+ $WORK/anon/ok.bin 12 anonymous "
}

@test "a local user who is not root cannot queue events on the runner's socket (SO_PEERCRED)" {
	hooks_up
	# Even with the queue's directory opened up to others (never the
	# default: 0700), the runner hears only root's monitors.
	chmod 711 "$QUEUE"
	run timeout 30 setpriv --reuid="$HOOKUSER" --regid="$(id -g "$HOOKUSER")" --clear-groups \
		python3 - "$QUEUE/runner.sock" "$WORK/forged" <<'EOF'
import socket, struct, sys
path, fake = sys.argv[1], sys.argv[2].encode()
fields = [b"/" + fake.lstrip(b"/"), b"", b"forger", b"127.0.0.1", b"forged"]
rec = b"PHKE" + struct.pack("<HHQQ", 1, 0, 1, 0) + struct.pack("<5H", *map(len, fields)) + b"".join(fields)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(10)
s.connect(path)
try:
    s.send(rec)
    ack = s.recv(1)
except OSError as e:
    ack = b""
print("ack" if ack == b"Q" else "no ack")
EOF
	echo "$output"
	has '^no ack$'
	wait_for 10 has -f "$FTPD_LOG" "hook runner: refused a connection from uid $(id -u "$HOOKUSER")"
	[ "$(queued)" -eq 0 ]
	# the runner still serves the daemon's own monitors
	put real.bin
	wait_for 20 hook_ran "/real.bin "
	[ "$(hook_lines forged)" -eq 0 ]
}

@test "ftpd -t: a relative upload_hook, an unknown or root hook_user, a bad hook_events word" {
	local conf=$WORK/ftpd.conf
	printf 'upload_hook=bin/hook\n' >"$conf"
	run "$POSTEL_BUILD/ftpd" -f "$conf" -t
	[ "$status" -ne 0 ]
	has "^$conf:1: upload_hook: must be an absolute path"
	printf 'upload_hook=/bin/true\nhook_user=root\n' >"$conf"
	run "$POSTEL_BUILD/ftpd" -f "$conf" -t
	[ "$status" -ne 0 ]
	has "^$conf:2: hook_user: \"root\" is root"
	printf 'upload_hook=/bin/true\n\nhook_user=postel-no-such-user\n' >"$conf"
	run "$POSTEL_BUILD/ftpd" -f "$conf" -t
	[ "$status" -ne 0 ]
	has "^$conf:3: hook_user: no such user \"postel-no-such-user\""
	printf 'upload_hook=/bin/true\nhook_events=upload,delete,bogus\n' >"$conf"
	run "$POSTEL_BUILD/ftpd" -f "$conf" -t
	[ "$status" -ne 0 ]
	has "^$conf:2: hook_events: unknown event \"bogus\""
	printf 'upload_hook=/bin/true\nhook_user=%s\nhook_events=upload, delete,rename\n' "$HOOKUSER" >"$conf"
	config_env ftpd
	run "$POSTEL_BUILD/ftpd" -f "$conf" -t "${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
}
