#!/usr/bin/env bats
# Ingest: a streaming peer's TAKETHIS pipeline (answers in order as the
# writer's group commits come back), duplicates inside one batch, CHECK's
# 431 when the writer does not keep up, and a writer killed mid-stream:
# every article that got its 239 is whole after the restart, none partial,
# and the peer's re-offer of the rest is taken.

setup() {
	load lib/common
	load lib/nntp
	STREAM=$POSTEL_ROOT/tests/lib/nntpstream.py
}

teardown() {
	[ -n "${STOPPED:-}" ] && kill -CONT "$STOPPED" 2>/dev/null
	postel_teardown
}

stream() {
	timeout 300 python3 "$STREAM" ${LINES_OPT:-} 127.0.0.1 "$NNTPD_PORT" "$@"
}

# ids_with CODE FILE: the article numbers FILE's replies gave CODE.
ids_with() {
	sed -n "s/^$1 <[^.]*\.\([0-9]*\)@peer.example>.*/\1/p" "$2"
}

@test "250 pipelined TAKETHIS: 239 each, in command order, every article whole and readable" {
	nntp_up -o peer=127.0.0.1
	run stream feed p 1 250
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "203 Streaming permitted" ]
	[ "${#lines[@]}" -eq 251 ]
	for i in $(seq 1 250); do
		[ "${lines[$i]}" = "239 <p.$i@peer.example>" ] || { echo "reply $i: ${lines[$i]}"; false; }
	done
	run stream verify p $(seq 1 250)
	[ "$output" = "ok 250" ]
}

@test "the same Message-ID twice in one pipeline: one 239, one 439, stored once" {
	nntp_up -o peer=127.0.0.1
	run stream feed d 1 40 --dup 7
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 42 ]
	[ "${lines[7]}" = "239 <d.7@peer.example>" ]
	[[ ${lines[8]} == "439 <d.7@peer.example> "* ]]
	[ "${lines[9]}" = "239 <d.8@peer.example>" ]
	[ "$(grep -rl 'Message-ID: <d.7@peer.example>' "$NNTPD_DIR/spool/articles" | wc -l)" -eq 1 ]
	run stream verify d $(seq 1 40)
	[ "$output" = "ok 40" ]
}

warmed_up() {
	grep -q '^239 <b.0@peer.example>' "$BATS_TEST_TMPDIR/out"
}

session_saw_busy() {
	grep -q "check <busy.x@peer.example>: 431, writer busy" "$NNTPD_LOG"
}

@test "CHECK gets 431 while the writer does not keep up (stopped), and no article is lost" {
	nntp_up -o peer=127.0.0.1
	# Small articles: 64 of them fit the stopped writer's socket buffer.
	LINES_OPT="--lines 2"
	STOPPED=$(writer_pid)
	[ -n "$STOPPED" ]
	stream feed b 1 64 --check '<busy.x@peer.example>' --pause "$BATS_TEST_TMPDIR/go" \
		>"$BATS_TEST_TMPDIR/out" &
	local feeder=$!
	wait_for 60 warmed_up
	kill -STOP "$STOPPED"
	touch "$BATS_TEST_TMPDIR/go"
	wait_for 60 session_saw_busy
	kill -CONT "$STOPPED"
	STOPPED=
	wait "$feeder"
	run cat "$BATS_TEST_TMPDIR/out"
	[ "${#lines[@]}" -eq 67 ]
	[ "${lines[65]}" = "239 <b.64@peer.example>" ]
	[[ ${lines[66]} == "431 <busy.x@peer.example> "* ]]
	[ "$(ids_with 239 "$BATS_TEST_TMPDIR/out" | wc -l)" -eq 65 ]
	run stream verify b $(seq 0 64)
	[ "$output" = "ok 65" ]
}

some_acknowledged() {
	[ "$(grep -c '^239 ' "$BATS_TEST_TMPDIR/out")" -ge 30 ]
}

# writer_backlog PID: requests wait unread on one of the writer's sockets
writer_backlog() {
	ss -xpn | awk -v p="pid=$1," 'index($0, p) && $3 > 0 { found = 1 } END { exit !found }'
}

writer_restarted() {
	[ "$(grep -c 'writer: ready' "$NNTPD_LOG")" -ge 2 ]
}

@test "kill -9 of the writer mid-stream: every 239 readable and whole after the restart, none partial, the re-offer of the rest taken" {
	nntp_up -o peer=127.0.0.1
	local w
	w=$(writer_pid)
	# 10 articles a write, 50 ms apart: the stream lasts 2 s however
	# fast the writer, so the kill lands with most of it still to come
	stream feed k 1 400 --pace 10 0.05 >"$BATS_TEST_TMPDIR/out" &
	local feeder=$!
	wait_for 120 some_acknowledged
	# Stopped with the rest of the stream waiting on its socket, unread
	# or half stored: all that dies with it, however fast the writer.
	kill -STOP "$w"
	wait_for 30 writer_backlog "$w"
	kill -9 "$w"
	wait "$feeder" || true
	wait_for 30 writer_restarted
	ids_with 239 "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/acked"
	local acked
	acked=$(wc -l <"$BATS_TEST_TMPDIR/acked")
	echo "acknowledged before the kill: $acked of 400"
	[ "$acked" -ge 30 ]
	[ "$acked" -lt 400 ]
	run stream verify k $(cat "$BATS_TEST_TMPDIR/acked")
	[ "$output" = "ok $acked" ]
	# None partial: every article file holds a whole body.
	run python3 - "$NNTPD_DIR/spool/articles/local/test" <<'EOF2'
import os, re, sys
d = sys.argv[1]
bad = 0
for f in os.listdir(d):
    t = open(os.path.join(d, f), "rb").read()
    m = re.search(rb"(?m)^Message-ID: <k\.(\d+)@", t)
    if not m or not t.endswith(b"k.%s line 59 of its body, the same text each time\r\n" % m.group(1)):
        print("partial:", f); bad += 1
print("files", len(os.listdir(d)), "bad", bad)
EOF2
	[[ $output == *" bad 0" ]]
	# The peer offers what got no 239 again: taken (or already there).
	comm -23 <(seq 1 400 | sort) <(sort "$BATS_TEST_TMPDIR/acked") >"$BATS_TEST_TMPDIR/rest"
	run stream feed k 0 0 --ids "$BATS_TEST_TMPDIR/rest"
	[ "$status" -eq 0 ]
	run grep -vc -e '^239 ' -e '^439 .* Duplicate' -e '^203' <<<"$output"
	[ "$output" = 0 ]
	run stream verify k $(seq 1 400)
	[ "$output" = "ok 400" ]
}

# nice_of PID: the nice value of PID (field 19 of /proc/PID/stat).
nice_of() {
	awk '{ sub(/.*\) /, ""); print $17 }' "/proc/$1/stat"
}

@test "writer_nice, reader_nice and poster_nice: the writer runs ahead, a reader steps back, a poster less, a feed not at all" {
	nntp_up -o peer=127.0.0.1 -o writer_nice=-7 -o reader_nice=6 -o poster_nice=3
	[ "$(nice_of "$(writer_pid)")" = -7 ]
	local go=$BATS_TEST_TMPDIR/go ready=$BATS_TEST_TMPDIR/ready
	# three sessions held open: a reader (MODE READER, GROUP), a poster
	# (MODE READER, POST) and a feed (CHECK, IHAVE)
	timeout 60 python3 - 127.0.0.1 "$NNTPD_PORT" "$ready" "$go" <<'PY' &
import os, socket, sys, time
H, P, ready, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def session(*cmds):
    s = socket.create_connection((H, P), timeout=30); f = s.makefile("rb"); f.readline()
    for c in cmds:
        s.sendall(c.encode() + b"\r\n"); f.readline()
    return s, f
reader = session("MODE READER", "GROUP local.test")
poster = session("MODE READER", "POST")
poster[0].sendall(b"From: p@example.com\r\nNewsgroups: local.test\r\nSubject: nice\r\n"
                  b"Message-ID: <nice-post@t.example>\r\n\r\nHi.\r\n.\r\n"); poster[1].readline()
feed = session("CHECK <nice-feed@t.example>", "IHAVE <nice-feed@t.example>")
feed[0].sendall(b"From: p@example.com\r\nNewsgroups: local.test\r\nSubject: fed\r\n"
                b"Message-ID: <nice-feed@t.example>\r\nPath: peer.example!not-for-mail\r\n"
                b"Date: " + time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()).encode() +
                b"\r\n\r\nHi.\r\n.\r\n"); print("feed", feed[1].readline().decode().strip())
feed[0].sendall(b"DATE\r\n"); feed[1].readline()
open(ready, "w").close()
for i in range(500):
    if os.path.exists(go):
        break
    time.sleep(0.1)
PY
	local holder=$! i
	for ((i = 0; i < 300; i++)); do [ -e "$ready" ] && break; sleep 0.1; done
	[ -e "$ready" ]
	# each worker says which it is on SIGUSR1 (its pid in the log line)
	kill -USR1 "$NNTPD_PID"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c 'status: ' "$NNTPD_LOG")" -ge 3 ] && break
		sleep 0.1
	done
	grep 'status: ' "$NNTPD_LOG"
	local rpid fpid ppid
	rpid=$(sed -n 's/.*nntpd\[\([0-9]*\)\]: .* status: -, group local\.test, article 0$/\1/p' "$NNTPD_LOG")
	ppid=$(sed -n 's/.*nntpd\[\([0-9]*\)\]: .* status: -, group -, article 0$/\1/p' "$NNTPD_LOG")
	# the poster and the feed both have no group: tell them apart by nice
	[ -n "$rpid" ]
	[ "$(nice_of "$rpid")" = 6 ]
	[ "$(for p in $ppid; do nice_of "$p"; done | sort | tr '\n' ' ')" = "0 3 " ]
	touch "$go"
	wait "$holder"
	# both articles were taken, and reading them still works
	run nntp_session "ARTICLE <nice-post@t.example>" "ARTICLE <nice-feed@t.example>"
	[ "$(grep -c '^220 ' <<<"$output")" -eq 2 ]
}

@test "writer_nice, reader_nice and poster_nice out of range are refused by -t, naming the file, line and key" {
	local f=$BATS_TEST_TMPDIR/bad.conf
	printf 'writer_nice=-21\n' >"$f"
	run "$POSTEL_BUILD/nntpd" -t -f "$f"
	[ "$status" -eq 1 ]
	[[ $output == "$f:1: writer_nice: "*"-20 to 19"* ]]
	printf 'listen_port=1190\nwriter_nice=fast\n' >"$f"
	run "$POSTEL_BUILD/nntpd" -t -f "$f"
	[ "$status" -eq 1 ]
	[[ $output == "$f:2: writer_nice: "* ]]
	printf 'reader_nice=20\n' >"$f"
	run "$POSTEL_BUILD/nntpd" -t -f "$f"
	[ "$status" -eq 1 ]
	[[ $output == "$f:1: reader_nice: "* ]]
	printf 'poster_nice=-1\n' >"$f"
	run "$POSTEL_BUILD/nntpd" -t -f "$f"
	[ "$status" -eq 1 ]
	[[ $output == "$f:1: poster_nice: "* ]]
	printf 'spool_dir=%s\nwriter_nice=-20\nreader_nice=19\nposter_nice=0\n' "$BATS_TEST_TMPDIR" >"$f"
	run "$POSTEL_BUILD/nntpd" -t -f "$f"
	[ "$status" -eq 0 ]
}
