#!/usr/bin/env bats
# The sandbox proved from outside, through /proc: each session's worker runs
# with no privilege in a chroot, its monitor keeps only the capabilities the
# code lists; run by an ordinary user the daemons still work, unchrooted.

setup() {
	load lib/common
}

teardown() {
	postel_teardown
}

need_root() {
	is_root || skip "needs root"
}

# status_field PID FIELD: the value of FIELD: in /proc/PID/status.
status_field() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^[ \t]+/, ""); print }' "/proc/$1/status"
}

# hold PROTO PATTERN LINE...: open a session in the background, send the
# LINEs and keep it open; true once PATTERN shows in what it received.
hold() {
	local proto=$1 pattern=$2 i l out=$BATS_TEST_TMPDIR/held.out
	local -a cmds=(@1)
	shift 2
	for l in "$@"; do
		cmds+=("@1 $l")
	done
	RAWCLIENT_TIMEOUT=60 "${proto}_session" "${cmds[@]}" '@1 expect-close' \
		>"$out" 2>&1 3>&- &
	POSTEL_PIDS+=("$!")
	for ((i = 0; i < 200; i++)); do
		grep -Eq "$pattern" "$out" && return 0
		sleep 0.05
	done
	echo "held session never saw $pattern:" >&2
	cat "$out" >&2
	return 1
}

# expected_monitor_caps: CapEff mask of monitor_caps[] in common/priv/sandbox.c,
# with the numbers from the kernel's capability.h.
expected_monitor_caps() {
	python3 - "$POSTEL_ROOT/common/priv/sandbox.c" /usr/include/linux/capability.h <<'EOF'
import re, sys
src = re.sub(r"/\*.*?\*/", "", open(sys.argv[1]).read(), flags=re.S)
body = re.search(r"monitor_caps\[\]\s*=\s*\{(.*?)\};", src, re.S).group(1)
names = re.findall(r"\bCAP_[A-Z_]+\b", body)
hdr = open(sys.argv[2]).read()
nums = dict(re.findall(r"^#define\s+(CAP_[A-Z_]+)\s+(\d+)\s*$", hdr, re.M))
mask = 0
for name in names:
    mask |= 1 << int(nums[name])
assert mask, "no capabilities found in monitor_caps[]"
print("%016x" % mask)
EOF
}

# assert_worker PID UID ROOT: the sandbox as /proc shows it.
assert_worker() {
	local pid=$1 uid=$2 root=$3 f output
	echo "worker $pid: $(grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' "/proc/$pid/status" | tr '\n\t' '  ')"
	[ "$(status_field "$pid" Uid)" = "$uid $uid $uid $uid" ]
	[ "$uid" -ne 0 ]
	# no supplementary group 0 (root)
	output=$(status_field "$pid" Groups)
	hasnt '(^|[[:space:]])0([[:space:]]|$)'
	for f in CapEff CapPrm CapInh CapAmb; do
		[ "$(status_field "$pid" "$f")" = 0000000000000000 ]
	done
	[ "$(status_field "$pid" NoNewPrivs)" = 1 ]
	[ "$(status_field "$pid" Seccomp)" = 2 ]
	echo "root: $(readlink "/proc/$pid/root"), want $root"
	[ "$(readlink "/proc/$pid/root")" = "$root" ]
}

assert_monitor() {
	local pid=$1 want
	want=$(expected_monitor_caps)
	echo "monitor $pid: CapEff $(status_field "$pid" CapEff), want $want"
	[ "$(status_field "$pid" CapEff)" = "$want" ]
}

ftp_user() {
	getent passwd ftp >/dev/null && echo ftp || echo nobody
}

@test "ftpd: pre-login worker is unprivileged, seccomp-filtered, chrooted to secure_chroot_dir" {
	need_root
	# local users: the worker before the login is nopriv_user's
	start_ftpd -o nopriv_user=nobody -o local_enable=YES
	hold ftp '^1: 220 '
	read -r mon wrk < <(worker_of "$FTPD_PID")
	assert_worker "$wrk" "$(id -u nobody)" "$FTPD_DIR/empty"
}

@test "ftpd: anonymous-only, one worker: ftp_username in anon_root from the greeting, the same process after the login" {
	need_root
	local out=$BATS_TEST_TMPDIR/held.out mon wrk mon2 wrk2 i
	start_ftpd -o nopriv_user=nobody
	RAWCLIENT_TIMEOUT=60 ftp_session @1 "@sleep 3" "@1 USER anonymous" "@1 PASS a@b" \
		'@1 expect-close' >"$out" 2>&1 3>&- &
	POSTEL_PIDS+=("$!")
	wait_for 10 grep -q '^1: 220 ' "$out"
	read -r mon wrk < <(worker_of "$FTPD_PID")
	assert_worker "$wrk" "$(id -u "$(ftp_user)")" "$FTPD_DIR/anon"
	wait_for 20 grep -q '^1: 230 ' "$out"
	read -r mon2 wrk2 < <(worker_of "$FTPD_PID")
	echo "before login $mon/$wrk, after $mon2/$wrk2"
	[ "$mon2" = "$mon" ] && [ "$wrk2" = "$wrk" ]
	[ "$(pgrep -c -P "$mon")" = 1 ]
}

@test "ftpd: a userlist that refuses anonymous keeps the nopriv_user worker before the login" {
	need_root
	printf 'anonymous\n' >"$BATS_TEST_TMPDIR/userlist"
	start_ftpd -o nopriv_user=nobody -o userlist_enable=YES \
		-o "userlist_file=$BATS_TEST_TMPDIR/userlist"
	hold ftp '^1: 220 '
	read -r mon wrk < <(worker_of "$FTPD_PID")
	assert_worker "$wrk" "$(id -u nobody)" "$FTPD_DIR/empty"
}

@test "ftpd: session monitor keeps exactly the capabilities in monitor_caps[]" {
	need_root
	start_ftpd
	hold ftp '^1: 220 '
	read -r mon wrk < <(worker_of "$FTPD_PID")
	[ -n "$wrk" ]
	assert_monitor "$mon"
}

@test "ftpd: anonymous worker runs as ftp_username, chrooted to anon_root" {
	need_root
	start_ftpd
	hold ftp '^1: 230' 'USER anonymous' 'PASS guest@example.org'
	read -r mon wrk < <(worker_of "$FTPD_PID")
	assert_worker "$wrk" "$(id -u "$(ftp_user)")" "$FTPD_DIR/anon"
	assert_monitor "$mon"
}

@test "nntpd: worker is unprivileged, seccomp-filtered, chrooted to spool_dir" {
	need_root
	start_nntpd
	hold nntp '^1: 20[01] '
	read -r mon wrk < <(worker_of "$NNTPD_PID")
	# session_user (nobody), not the spool's owner, with the writer's group
	assert_worker "$wrk" "$(id -u nobody)" "$NNTPD_DIR/spool"
	[ "$(status_field "$wrk" Gid)" = "$(id -g news) $(id -g news) $(id -g news) $(id -g news)" ]
}

@test "nntpd: session monitor keeps exactly the capabilities in monitor_caps[]" {
	need_root
	start_nntpd
	hold nntp '^1: 20[01] '
	read -r mon wrk < <(worker_of "$NNTPD_PID")
	[ -n "$wrk" ]
	assert_monitor "$mon"
}

as_nobody() {
	POSTEL_WRAPPER="setpriv --reuid=nobody --regid=nogroup --clear-groups" \
		POSTEL_OWNER=nobody NNTPD_USER=nobody "$@"
}

@test "ftpd: as an ordinary user it runs sessions as that user, unchrooted, and says so once" {
	need_root
	as_nobody start_ftpd
	[ "$(status_field "$FTPD_PID" Uid)" = "65534 65534 65534 65534" ]
	run curl -sS --max-time 20 "ftp://127.0.0.1:$FTPD_PORT/pub/hello.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "Hello from Postel." ]
	hold ftp '^1: 220 '
	read -r mon wrk < <(worker_of "$FTPD_PID")
	[ "$(status_field "$wrk" Uid)" = "65534 65534 65534 65534" ]
	[ "$(readlink "/proc/$wrk/root")" = / ]
	[ "$(grep -c 'not root: sessions run as this user without chroot or uid change' "$FTPD_LOG")" -eq 1 ]
}

@test "nntpd: as an ordinary user it runs sessions as that user, unchrooted, and says so once" {
	need_root
	as_nobody start_nntpd
	[ "$(status_field "$NNTPD_PID" Uid)" = "65534 65534 65534 65534" ]
	run nntp_session HELP QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^20[01]\  ]]
	[[ ${lines[-2]} =~ ^205 ]]
	hold nntp '^1: 20[01] '
	read -r mon wrk < <(worker_of "$NNTPD_PID")
	[ "$(status_field "$wrk" Uid)" = "65534 65534 65534 65534" ]
	[ "$(readlink "/proc/$wrk/root")" = / ]
	[ "$(grep -c 'not root: sessions run as this user without chroot or uid change' "$NNTPD_LOG")" -eq 1 ]
}
