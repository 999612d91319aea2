#!/usr/bin/env bats
# Peering: IHAVE and MODE STREAM (CHECK/TAKETHIS, RFC 4644) from configured
# peers only, with duplicate and Path-loop refusal; a real INN 2.7 feeding us
# with innxmit (IHAVE and streaming) and receiving our outgoing feed, with the
# articles byte-identical in both stores; a feed queue that survives a peer
# outage and a restart of our writer and feeder; nntpctl feeds.

setup() {
	load lib/common
	load lib/nntp
	load lib/inn
	A=$BATS_TEST_TMPDIR/art
	mkdir -p "$A"
	PEER=$POSTEL_ROOT/tests/lib/nntppeer.py
	SAME=$POSTEL_ROOT/tests/lib/samearticle.py
}

teardown() {
	stop_inn
	postel_teardown
}

peer() {
	timeout 300 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" "$@"
}

# fed FILE ID [PATH] [GROUPS]: a relayed article as a peer would send it.
fed() {
	printf 'Path: %s\r\nFrom: P <p@peer.example>\r\nNewsgroups: %s\r\nSubject: fed\r\nDate: '"$(date -u -R)"'\r\nMessage-ID: %s\r\n\r\nHello.\r\n.dot line\r\n' \
		"${3:-peer.example!not-for-mail}" "${4:-local.test}" "$2" >"$1"
}

ours() {
	printf '%s/spool/articles/%s/%s\n' "$NNTPD_DIR" "${1//.//}" "$2"
}

@test "IHAVE from a peer: 335 then 235; a duplicate gets 435; CAPABILITIES lists IHAVE and STREAMING" {
	nntp_up -o peer=127.0.0.1
	fed "$A/1" '<i1@peer.example>'
	run peer cmd:CAPABILITIES "ihave:<i1@peer.example>:$A/1" "ihave:<i1@peer.example>:$A/1"
	grep -qx IHAVE <<<"$output"
	grep -qx STREAMING <<<"$output"
	grep -qx '335 Send it' <<<"$output"
	grep -q '^235 ' <<<"$output"
	grep -q '^435 ' <<<"$output"
	f=$(ours local.test 1)
	grep -q '^Path: test.postel.invalid!peer.example!not-for-mail' "$f"
	grep -q '^\.\.dot line' "$f"
}

@test "streaming: MODE STREAM 203; pipelined CHECK/TAKETHIS answered in order; 438/439 for duplicates and Path loops" {
	nntp_up -o peer=127.0.0.1
	fed "$A/1" '<s1@peer.example>'
	fed "$A/2" '<s2@peer.example>'
	fed "$A/3" '<s3@peer.example>' 'x!test.postel.invalid!peer.example'
	run peer "cmd:MODE STREAM" "stream:<s1@peer.example>=$A/1,<s2@peer.example>=$A/2,<s3@peer.example>=$A/3" \
		"stream:<s1@peer.example>=$A/1" "check:<s3@peer.example>"
	[ "${lines[1]}" = "203 Streaming permitted" ]
	[ "${lines[2]}" = "238 <s1@peer.example>" ]
	[ "${lines[3]}" = "238 <s2@peer.example>" ]
	[ "${lines[4]}" = "238 <s3@peer.example>" ]
	[ "${lines[5]}" = "239 <s1@peer.example>" ]
	[ "${lines[6]}" = "239 <s2@peer.example>" ]
	[[ ${lines[7]} == "439 <s3@peer.example> Path already holds test.postel.invalid (loop)" ]]
	[ "${lines[8]}" = "438 <s1@peer.example>" ]
	[[ ${lines[9]} == "439 <s1@peer.example> "* ]]
	# The refused loop is remembered: CHECK says not wanted.
	[ "${lines[10]}" = "438 <s3@peer.example>" ]
}

@test "a host that is not a peer gets 502 for IHAVE, MODE STREAM, CHECK and TAKETHIS, and the session goes on" {
	nntp_up -o peer=127.0.0.1
	fed "$A/1" '<n1@peer.example>'
	run timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" --bind 127.0.0.2 \
		"ihave:<n1@peer.example>:$A/1" "cmd:MODE STREAM" "check:<n1@peer.example>" \
		"takethis:<n1@peer.example>=$A/1" cmd:DATE
	[[ ${lines[1]} == 502* ]]
	[[ ${lines[2]} == 502* ]]
	[[ ${lines[3]} == 502* ]]
	[[ ${lines[4]} == 502* ]]
	[[ ${lines[5]} == 111* ]]
	run peer cmd:CAPABILITIES
	run timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" --bind 127.0.0.2 cmd:CAPABILITIES
	hasnt '^IHAVE$'
	[ ! -e "$(ours local.test 1)" ]
}

# same_stores GROUP N: articles 1..N of GROUP carry the same Message-IDs in
# both stores (looked up by ID) and are byte-identical but for Path and Xref.
same_stores() {
	python3 - "$NNTPD_DIR/spool/articles" "$INN_DIR/spool/articles" "$SAME" "$@" <<'EOF2'
import os, re, sys
ours, theirs, lib = sys.argv[1:4]
sys.path.insert(0, os.path.dirname(lib))
from samearticle import same
def index(root):
    m = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            h = open(p, "rb").read().split(b"\r\n\r\n", 1)[0]
            mid = re.search(rb"(?im)^Message-ID: (\S+)", h).group(1)
            m.setdefault(mid, p)
    return m
a, b = index(ours), index(theirs)
bad = 0
for mid in b:
    if mid not in a:
        print("missing in ours:", mid); bad += 1; continue
    if not same(a[mid], b[mid]):
        bad += 1
for mid in a:
    if mid not in b:
        print("missing in INN:", mid); bad += 1
print("compared", len(b))
sys.exit(1 if bad else 0)
EOF2
}

@test "INN's innxmit feeds us 1,000 articles with IHAVE and more with streaming; byte-identical, crossposts and Xref right" {
	need_inn
	start_inn
	nntp_up -o peer=127.0.0.1
	nntpctl_run newgroup local.other y >/dev/null
	run timeout 300 python3 "$PEER" 127.0.0.1 "$INN_PORT" gen:1000:ih
	echo "$output" | tail -3
	[ "${lines[2]}" = "accepted 1000" ]
	inn_batch batch1
	[ "$(wc -l <"$INN_DIR/batch1")" -eq 1000 ]
	cp "$INN_DIR/batch1" "$INN_DIR/batch3" # innxmit removes a batch it finished
	# innxmit streams by default; -s makes it use IHAVE (checked with -d).
	run inn_run innxmit -s -P "$NNTPD_PORT" -T 120 127.0.0.1 "$INN_DIR/batch1"
	echo "$output"
	[ "$status" -eq 0 ]
	run nntpctl_run list
	grep -q '^local.test 1000 1 ' <<<"$output"
	grep -q '^local.other 100 1 ' <<<"$output"
	# Streaming (CHECK/TAKETHIS) for the next 200.
	run timeout 300 python3 "$PEER" 127.0.0.1 "$INN_PORT" gen:200:st
	[ "${lines[2]}" = "accepted 200" ]
	inn_batch batch2
	run inn_run innxmit -c -P "$NNTPD_PORT" -T 120 127.0.0.1 "$INN_DIR/batch2"
	[ "$status" -eq 0 ]
	# Offering the first batch again stores nothing twice.
	chown news "$INN_DIR/batch3"
	run inn_run innxmit -P "$NNTPD_PORT" -T 120 127.0.0.1 "$INN_DIR/batch3"
	run nntpctl_run list
	echo "$output"
	grep -q '^local.test 1200 1 ' <<<"$output"
	grep -q '^local.other 120 1 ' <<<"$output"
	run same_stores
	[ "$status" -eq 0 ]
	# A crosspost: one file, hard-linked, whose Xref names both our numbers.
	f=$(ours local.other 1)
	[ "$(stat -c %h "$f")" -eq 2 ]
	grep -Eq '^Xref: test.postel.invalid local.test:[0-9]+ local.other:1' "$f" ||
		grep -Eq '^Xref: test.postel.invalid local.other:1 local.test:[0-9]+' "$f"
	n=$(grep -o 'local.test:[0-9]*' "$f" | cut -d: -f2)
	[ "$(stat -c %i "$f")" = "$(stat -c %i "$(ours local.test "$n")")" ]
}

# wait_backlog N: until nntpctl feeds says the inn feed's backlog is N (60 s).
wait_backlog() {
	local i
	for ((i = 0; i < 300; i++)); do
		nntpctl_run feeds | grep -q "^inn.test.invalid backlog $1 " && return 0
		sleep 0.2
	done
	nntpctl_run feeds >&2
	return 1
}

inn_count() {
	find "$INN_DIR/spool/articles/local" -type f | wc -l
}

# inn_has N: INN holds at least N article files under local/
inn_has() {
	[ "$(inn_count)" -ge "$1" ]
}

@test "our feed delivers posts and fed articles to INN byte-identical, skips what INN's name is in Path, survives an INN outage and a writer and feeder restart" {
	need_inn
	start_inn
	nntp_up -o peer=127.0.0.1 -o "feed=inn.test.invalid 127.0.0.1 $INN_PORT local.* streaming"
	nntpctl_run newgroup local.other y >/dev/null
	for i in $(seq 1 20); do
		article "$A/p$i" "X-Seq: $i"
		post_file "$A/p$i" >/dev/null
	done
	article "$A/x" "X-Seq: cross"
	sed -i 's/^Newsgroups: local.test/Newsgroups: local.test,local.other/' "$A/x"
	post_file "$A/x" >/dev/null
	# Relayed articles go on, except to the peer already in their Path.
	fed "$A/f1" '<f1@peer.example>'
	fed "$A/f2" '<f2@peer.example>' 'inn.test.invalid!peer.example'
	peer "cmd:MODE STREAM" "stream:<f1@peer.example>=$A/f1,<f2@peer.example>=$A/f2" >/dev/null
	wait_backlog 0 || { cat "$NNTPD_LOG" >&2; false; }
	wait_for 10 inn_has 23
	[ "$(inn_count)" -eq 23 ] # 20 + the crosspost twice + f1
	[ "$(wc -l <"$NNTPD_DIR/spool/feeds/inn.test.invalid")" -eq 22 ]
	run same_stores
	echo "$output" | tail -3
	grep -qx 'compared 22' <<<"$output"
	# INN was never offered f2; everything else is identical.
	grep -q 'missing in INN: b.<f2@peer.example>' <<<"$output"
	[ "$(grep -c missing <<<"$output")" -eq 1 ]
	hasnt differ
	# INN's Xref for the crosspost names both of its groups.
	grep -q '^Xref: inn.test.invalid local.test:[0-9]* local.other:1' "$(inn_article local.other 1)"

	# Outage: INN down, five posts wait in the queue.
	stop_inn
	for i in $(seq 21 25); do
		article "$A/p$i" "X-Seq: $i"
		post_file "$A/p$i" >/dev/null
	done
	wait_backlog 5
	run nntpctl_run feeds
	[[ $output == "inn.test.invalid backlog 5 "* ]]
	# Restart our writer and feeder (SIGKILL: no clean shutdown).
	kill -9 "$(writer_pid)"
	feeder=$(sed -n 's/.*nntpd\[\([0-9]*\)\]: feed inn.test.invalid: feeder started.*/\1/p' "$NNTPD_LOG" | tail -n 1)
	[ -n "$feeder" ]
	kill -9 "$feeder"
	wait_writer
	inn_start
	wait_backlog 0 || { cat "$NNTPD_LOG" >&2; false; }
	wait_for 10 inn_has 28
	[ "$(inn_count)" -eq 28 ]
	run same_stores
	grep -A3 differ <<<"$output" || true
	grep -qx 'compared 27' <<<"$output"
	[ "$(grep -c missing <<<"$output")" -eq 1 ]
	hasnt differ
}
