#!/usr/bin/env bats
# nntpd's spool under load and crashes: parallel posters get distinct
# numbers and lose nothing; kill -9 of the writer mid-stream loses no
# acknowledged article and leaves nothing half-written.

setup() {
	load lib/common
	load lib/nntp
	nntp_up
}

teardown() {
	postel_teardown
}

@test "2 clients posting 1,000 articles each in parallel: 2,000 distinct numbers, none lost" {
	nntptool flood local.test 1000 alpha >"$NNTPD_DIR/alpha" &
	local a=$!
	nntptool flood local.test 1000 beta >"$NNTPD_DIR/beta" &
	local b=$!
	wait "$a"
	wait "$b"
	[ "$(grep -c '^240 ' "$NNTPD_DIR/alpha")" -eq 1000 ]
	[ "$(grep -c '^240 ' "$NNTPD_DIR/beta")" -eq 1000 ]
	run nntp_session "GROUP local.test"
	[ "${lines[1]}" = "211 2000 1 2000 local.test" ]
	nntptool bodies local.test "$NNTPD_DIR/list"
	[ "$(wc -l <"$NNTPD_DIR/list")" -eq 2000 ]
	[ "$(cut -f1 "$NNTPD_DIR/list" | sort -un | wc -l)" -eq 2000 ]
	[ "$(cut -f3 "$NNTPD_DIR/list" | sort -u | wc -l)" -eq 2000 ]
	hasnt -f "$NNTPD_DIR/list" MISSING
	cat "$NNTPD_DIR/alpha" "$NNTPD_DIR/beta" >"$NNTPD_DIR/acked"
	run nntptool verify "$NNTPD_DIR/acked"
	[ "$output" = "ok 2000" ]
	run nntpctl_run check
	echo "$output"
	[ "$status" -eq 0 ]
}

# wait_acked FILE N: until FILE has N acknowledged posts (60 s at most)
wait_acked() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(grep -c '^240 ' "$1" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_new_writer OLDPID: until the listener logs a writer other than OLDPID
wait_new_writer() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(writer_pid)" ] && [ "$(writer_pid)" != "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "kill -9 of the writer during a stream of posts: every acknowledged article is whole" {
	local flood w1 w2
	nntptool flood local.test 500 crash >"$NNTPD_DIR/crash" &
	flood=$!
	wait_acked "$NNTPD_DIR/crash" 100
	w1=$(writer_pid)
	kill -9 "$w1"
	wait_new_writer "$w1"
	wait_acked "$NNTPD_DIR/crash" 250
	w2=$(writer_pid)
	kill -9 "$w2"
	wait_new_writer "$w2"
	wait "$flood"
	# while the writer was down posts were answered 440 (and retried); one
	# stored just before a kill may come back 441 duplicate on the retry
	[ "$(grep -c '^240 ' "$NNTPD_DIR/crash")" -ge 490 ]
	[ "$(grep -cv '^240 \|^44[01] ' "$NNTPD_DIR/crash")" -eq 0 ]
	run nntptool verify "$NNTPD_DIR/crash"
	echo "$output"
	[ "${lines[-1]}" = "ok $(grep -c '^240 ' "$NNTPD_DIR/crash")" ]
	# every visible article is whole: each one listed opens and reads
	nntptool bodies local.test "$NNTPD_DIR/list"
	hasnt -f "$NNTPD_DIR/list" MISSING
	# active agrees with the article files: the high mark is the last file
	run nntp_session "GROUP local.test"
	[[ ${lines[1]} == "211 "*" $(ls "$NNTPD_DIR/spool/articles/local/test" | sort -n | tail -n 1) local.test" ]]
	run laid_out "$NNTPD_DIR/spool/active"
	[ "$status" -eq 0 ]
	run nntpctl_run check
	echo "$output"
	[ "$status" -eq 0 ]
}

# laid_out FILE: every active line has its marks at the in-place layout
# (each 15 digits at the start of its own 16-byte block of the file)
laid_out() {
	python3 - "$1" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
off = 0
for line in data.split(b"\n")[:-1]:
    m = re.match(rb"(\S+) +(\d+) (\d+) (\S+)$", line)
    if not m or (off + m.start(2)) % 16 or len(m.group(2)) != 15 \
            or len(m.group(3)) != 15 or m.start(3) != m.start(2) + 16:
        sys.exit("not laid out: %r" % line)
    off += len(line) + 1
print("laid out", data.count(b"\n"))
PY
}

# restart_on_spool: stop nntpd and start it again on the same spool
restart_on_spool() {
	local user=${NNTPD_USER:-news} ready
	getent passwd "$user" >/dev/null || user=nobody
	ready=$(grep -c 'writer: ready' "$NNTPD_LOG")
	stop_nntpd
	POSTEL_START_DIR=$NNTPD_DIR start_daemon nntpd NNTPD -o "spool_dir=$NNTPD_DIR/spool" \
		-o pathhost=test.postel.invalid -o "nopriv_user=$user"
	wait_for 20 writer_ready_after "$ready"
}

writer_ready_after() { [ "$(grep -c 'writer: ready' "$NNTPD_LOG")" -gt "$1" ]; }

@test "a reader's GROUP sees each new high mark at once; posts leave active the same file; new and removed groups are seen in the same session" {
	local ino
	ino=$(stat -c %i "$NNTPD_DIR/spool/active")
	run timeout 120 python3 - "$NNTPD_PORT" "$POSTEL_BUILD/nntpctl" "$NNTPD_CONF" \
		"$NNTPD_DIR/spool" <<'PY'
import email.utils, io, subprocess, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import nntplib
port, ctl, conf, spool = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
reader = nntplib.NNTP("127.0.0.1", port, readermode=True, timeout=30)
poster = nntplib.NNTP("127.0.0.1", port, readermode=True, timeout=30)
seen = []
for i in range(1, 21):
    art = ("From: P <p@example.com>\r\nNewsgroups: local.test\r\nSubject: mark %d\r\n"
           "Date: %s\r\n\r\nbody\r\n" % (i, email.utils.formatdate())).encode()
    poster.post(io.BytesIO(art))
    resp, count, first, last, name = reader.group("local.test")
    seen.append(last)
print("highs", " ".join(map(str, seen)))
def ctl_run(*args):
    subprocess.run([ctl, "-f", conf, "-o", "spool_dir=" + spool,
                    "-o", "pathhost=test.postel.invalid"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, timeout=60)
ctl_run("newgroup", "local.fresh", "y", "Fresh")
print("fresh", reader.group("local.fresh")[0])
print("test again", reader.group("local.test")[3])
ctl_run("rmgroup", "local.fresh")
try:
    reader.group("local.fresh")
    print("removed still there")
except nntplib.NNTPTemporaryError as e:
    print("removed", str(e)[:3])
PY
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "highs $(seq -s ' ' 1 20)" ]
	[[ ${lines[1]} == "fresh 211 0 "* ]]
	[ "${lines[2]}" = "test again 20" ]
	[ "${lines[3]}" = "removed 411" ]
	# the 20 posts changed active in place; the group commands replaced it
	run laid_out "$NNTPD_DIR/spool/active"
	[ "$status" -eq 0 ]
	[ "$(stat -c %i "$NNTPD_DIR/spool/active")" != "$ino" ]
}

@test "posts update active in place: the same file (inode) before and after" {
	local ino
	ino=$(stat -c %i "$NNTPD_DIR/spool/active")
	run nntptool flood local.test 30 inplace
	[ "$(grep -c '^240 ' <<<"$output")" -eq 30 ]
	[ "$(stat -c %i "$NNTPD_DIR/spool/active")" = "$ino" ]
	grep -Eq '^local\.test +000000000000030 000000000000001 y$' "$NNTPD_DIR/spool/active"
}

@test "an active file in the older 10-digit layout is converted at start; the spool works on" {
	local spool=$NNTPD_DIR/spool
	run nntptool flood local.test 3 old
	[ "$(grep -c '^240 ' <<<"$output")" -eq 3 ]
	stop_nntpd
	# Postel's former layout (marks agree with the files, so no recovery
	# rewrites it: the conversion has to)
	awk '{ printf "%s %010d %010d %s\n", $1, $2, $3, $4 }' "$spool/active" >"$spool/active.new"
	mv "$spool/active.new" "$spool/active"
	grep -qx 'local.test 0000000003 0000000001 y' "$spool/active"
	if is_root; then chown --reference="$spool/history" "$spool/active"; fi
	restart_on_spool
	run laid_out "$spool/active"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -Eq '^local\.test +000000000000003 000000000000001 y$' "$spool/active"
	run nntp_session "GROUP local.test" "GROUP local.mod"
	[ "${lines[1]}" = "211 3 1 3 local.test" ]
	[ "${lines[2]}" = "211 0 1 0 local.mod" ]
	run nntptool flood local.test 1 after
	run nntp_session "GROUP local.test"
	[ "${lines[1]}" = "211 4 1 4 local.test" ]
	run nntpctl_run check
	echo "$output"
	[ "$status" -eq 0 ]
}
