#!/usr/bin/env bats
# Runtime control, as ctlinnd gives INN's admins: nntpctl pause REASON / go
# (posts 440, IHAVE 436, CHECK 431, TAKETHIS 400 with the reason, while
# sessions old and new keep reading; a pause outlives a writer restart),
# and nntpctl reload / SIGHUP (the writer and feeders take new feeds, limits
# and expire rules without dropping a session or a queued article; a bad
# edit is refused with file, line and key and the old configuration keeps
# working). Only root may pause. One nntpd serves every test; each test
# leaves it running and not paused.

setup_file() {
	load lib/common
	load lib/nntp
	is_root || skip "nntpctl talks to the running writer as root only"
	start_nntpd -o "peer=127.0.0.0/8"
	wait_writer
	export NNTPD_DIR NNTPD_PORT NNTPD_CONF NNTPD_LOG NNTPD_PID
}

teardown_file() {
	stop_pid "${NNTPD_PID:-}"
	postel_teardown
}

setup() {
	load lib/common
	load lib/nntp
	is_root || skip "nntpctl talks to the running writer as root only"
	HOLD=$POSTEL_ROOT/tests/lib/nntphold.py
	PEER=$POSTEL_ROOT/tests/lib/nntppeer.py
	SINK=$POSTEL_ROOT/tests/lib/nntpsink.py
	A=$BATS_TEST_TMPDIR
	# a test that failed while paused leaves no pause to the next
	[ ! -e "$NNTPD_DIR/spool/paused" ] || nntpctl_run go >/dev/null 2>&1 || true
}

teardown() {
	exec 5>&- 2>/dev/null || true
	local pid
	for pid in ${SINKS:-}; do
		stop_pid "$pid"
	done
	postel_teardown
}

# hold: an nntplib session held open (tests/lib/nntphold.py), driven with
# "say LINE" and read with "heard REGEX" (waits for that line).
hold() {
	mkfifo "$A/hold.in"
	timeout 300 python3 "$HOLD" 127.0.0.1 "$NNTPD_PORT" <"$A/hold.in" >"$A/hold.out" 2>&1 &
	POSTEL_PIDS+=("$!")
	exec 5>"$A/hold.in"
}
say() { printf '%s\n' "$*" >&5; }
heard() { wait_for 60 has -f "$A/hold.out" "$@"; }

peer() {
	timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" "$@"
}

# fed FILE ID: a relayed article as a peer would send it.
fed() {
	printf 'Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\nNewsgroups: local.test\r\nSubject: fed\r\nDate: '"$(date -u -R)"'\r\nMessage-ID: %s\r\n\r\nHello.\r\n' \
		"$2" >"$1"
}

# sink NAME: start tests/lib/nntpsink.py; its port in SINK_PORT, what it
# took in $A/NAME.log, the commands it got in $A/NAME.cmds.
sink() {
	rm -f "$A/$1.port"
	python3 "$SINK" "$A/$1.port" "$A/$1.log" "$A/$1.cmds" &
	SINKS="${SINKS:-} $!"
	eval "SINK_PID_$1=$!"
	wait_for 10 test -s "$A/$1.port"
	SINK_PORT=$(cat "$A/$1.port")
}

# conf LINE...: the daemon's configuration file, replaced.
conf() {
	printf '%s\n' "$@" >"$NNTPD_CONF"
}

status_line() {
	nntpctl_run status | grep -E "$1"
}

@test "pause: POST 440, IHAVE 436, CHECK 431, TAKETHIS 400 with the reason; open and new sessions read on; kept over a writer restart; go: posting again" {
	hold
	say post before
	heard '^post before 240 '
	run nntpctl_run pause backup of the spool
	[ "$status" -eq 0 ]
	has 'paused: backup of the spool'
	run nntpctl_run status
	has '^writer: paused: backup of the spool$' '^paused since: '

	# the held session reads on, and its POST gets 440 with the reason
	say read
	heard '^read 211 [0-9]+ 220 <before@hold.test>'
	say post during
	heard '^post during 440 Posting paused: backup of the spool$'
	# a new session reads too; a real nntplib post gets the same 440
	run timeout 60 python3 -c 'import nntplib, sys
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]))
print(s.group("local.test")[0], s.article("<before@hold.test>")[0])
try:
    s.post([b"From: a@b.example", b"Newsgroups: local.test", b"Subject: x", b"", b"x"])
    print("posted")
except nntplib.NNTPTemporaryError as e:
    print(e)' "$NNTPD_PORT"
	has '^211 .* 220 ' '^440 Posting paused: backup of the spool$'
	hasnt '^posted'
	# 440 is POST's first answer: no 340, so no article is sent in vain
	run peer 'cmd:POST'
	has '^440 Posting paused: backup of the spool$'
	hasnt '^340'
	# a peer: IHAVE 436 before the article, CHECK 431, TAKETHIS 400 and the end
	fed "$A/f1" '<f1@peer.example>'
	run peer 'ihave:<f1@peer.example>:'"$A/f1" 'cmd:MODE STREAM' 'check:<f1@peer.example>' \
		'takethis:<f1@peer.example>='"$A/f1" 'cmd:DATE'
	has '^436 Paused: backup of the spool$' '^203 ' \
		'^431 <f1@peer.example> Paused: backup of the spool$' '^400 Paused: backup of the spool$'
	hasnt '^335' '^238' '^239' '^111 '
	run nntpctl_run pause again
	[ "$status" -eq 1 ]
	has 'already paused: backup of the spool'

	# the pause outlives a restart of the writer (not of nntpd)
	local old ready
	old=$(writer_pid)
	ready=$(grep -c 'writer: ready' "$NNTPD_LOG")
	kill -9 "$old"
	wait_for 20 log_count_at_least $((ready + 1)) "$NNTPD_LOG" 'writer: ready'
	[ "$(writer_pid)" != "$old" ]
	has -f "$NNTPD_LOG" 'writer: paused \(kept over a writer restart\): backup of the spool'
	say post restarted
	heard '^post restarted 440 Posting paused: backup of the spool$'

	run nntpctl_run go
	[ "$status" -eq 0 ]
	has 'running \(was paused: backup of the spool\)'
	run nntpctl_run status
	has '^writer: running$'
	say post after
	heard '^post after 240 '
	run peer 'ihave:<f1@peer.example>:'"$A/f1"
	has '^335 ' '^235 '
	run nntpctl_run go
	[ "$status" -eq 1 ]
	has 'not paused'
	say read
	heard '^read 211 [0-9]+ 220 <f1@peer.example>'
	say quit
}

@test "only root pauses: the spool's owner and others are refused and posting goes on" {
	local user
	user=$(stat -c %U "$NNTPD_DIR/spool")
	run setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups \
		"$POSTEL_BUILD/nntpctl" -f "$NNTPD_CONF" -o "spool_dir=$NNTPD_DIR/spool" pause mine
	[ "$status" -eq 1 ]
	has 'need root'
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$POSTEL_BUILD/nntpctl" -f "$NNTPD_CONF" -o "spool_dir=$NNTPD_DIR/spool" pause theirs
	[ "$status" -eq 1 ]
	run nntpctl_run status
	has '^writer: running$'
	[ ! -e "$NNTPD_DIR/spool/paused" ]
	article "$A/a1" 'Message-ID: <root1@ctl.test>'
	run post_file "$A/a1"
	has '^240 '
}

@test "reload and SIGHUP: a new feed's peer gets the next article, a changed limit holds, an open session goes on, a removed feed's queue is kept and resumed" {
	hold
	sink one
	local one=$SINK_PORT
	conf "feed=one 127.0.0.1 $one local.*"
	run nntpctl_run reload
	[ "$status" -eq 0 ]
	has '^reloaded: configuration [0-9]+$' '^feeds: 1 one$'
	say post r1
	heard '^post r1 240 '
	wait_for 30 has -f "$A/one.log" '^<r1@hold.test>$'

	# SIGHUP: a second peer, a smaller article limit, an expire rule
	sink two
	conf "feed=one 127.0.0.1 $one local.*" "feed=two 127.0.0.1 $SINK_PORT local.*" \
		"max_article_size=2048" "expire=local.* 7"
	kill -HUP "$NNTPD_PID"
	wait_for 20 status_line '^feeds: 2 one two$'
	run nntpctl_run status
	has '^max_article_size: 2048$' '^expire rules: 1$' '^configuration: [0-9]+, taken '
	say post r2
	heard '^post r2 240 '
	wait_for 30 has -f "$A/two.log" '^<r2@hold.test>$'
	wait_for 30 has -f "$A/one.log" '^<r2@hold.test>$'
	# the held session started with the old limit; the writer keeps the new
	say post big 4000
	heard '^post big 441 Article too large'

	# peer one goes down; an article queues for it; feed one is removed:
	# its queue stays on disk, and comes back when the feed does
	kill "$SINK_PID_one"
	say post r3
	heard '^post r3 240 '
	wait_for 20 has -f "$A/two.log" '^<r3@hold.test>$'
	conf "feed=two 127.0.0.1 $SINK_PORT local.*"
	run nntpctl_run reload
	[ "$status" -eq 0 ]
	has '^feeds: 1 two$'
	wait_for 20 has -f "$NNTPD_LOG" 'feed one: changed or removed; its feeder stops \(queue kept in .*/feeds/one\)'
	has -f "$NNTPD_DIR/spool/feeds/one" '<r3@hold.test>'
	run nntpctl_run feeds
	has '^one backlog 1 '
	sink back
	conf "feed=one 127.0.0.1 $SINK_PORT local.*" "feed=two 127.0.0.1 $(cat "$A/two.port") local.*"
	run nntpctl_run reload
	[ "$status" -eq 0 ]
	wait_for 30 has -f "$A/back.log" '^<r3@hold.test>$'
	# from where it stopped: what peer one had answered is not sent again
	hasnt -f "$A/back.log" '^<r1@hold.test>$' '^<r2@hold.test>$'
	say read
	heard '^read 211 [0-9]+ 220 <r3@hold.test>'
	say quit
}

# backlog NAME: nntpctl feeds' line for queue NAME
backlog() {
	nntpctl_run feeds | grep "^$1 backlog "
}

# backlog_is NAME N: queue NAME has N unsent lines
backlog_is() {
	backlog "$1" | grep -q "^$1 backlog $2 "
}

# count_is N FILE RE: N lines of FILE match RE
count_is() {
	[ "$(grep -c -- "$3" "$2")" -eq "$1" ]
}

@test "expire compacts an answered feed queue: the file shrinks to the unsent lines, a new feeder and a running one go on from where they were, nothing sent twice or missed" {
	local q=$NNTPD_DIR/spool/feeds/cq before
	sink cq1
	conf "feed=cq 127.0.0.1 $SINK_PORT local.*"
	run nntpctl_run reload
	[ "$status" -eq 0 ]
	nntptool flood local.test 2000 cqa >"$A/cqa.out"
	[ "$(grep -c '^240 ' "$A/cqa.out")" -eq 2000 ]
	wait_for 120 count_is 2000 "$A/cq1.log" '@flood.example>$'
	# the peer goes down: 20 more wait in the queue, after the answered 2,000
	kill "$SINK_PID_cq1"
	nntptool flood local.test 20 cqb >"$A/cqb.out"
	wait_for 30 backlog_is cq 20
	before=$(backlog cq)
	echo "before: $before, $(stat -c %s "$q") bytes"
	[ "$(stat -c %s "$q")" -gt 65536 ]

	run nntpctl_run expire
	[ "$status" -eq 0 ]
	has -f "$NNTPD_LOG" 'feed cq: queue compacted from [0-9]+ to [0-9]+ bytes'
	echo "after: $(backlog cq), $(stat -c %s "$q") bytes"
	# the file holds its header and the 20 unsent lines; offsets are unchanged
	[ "$(stat -c %s "$q")" -lt 2000 ]
	[ "$(head -c 16 "$q")" = "#postel-queue 1 " ]
	[ "$(tail -n +2 "$q" | grep -c '<cqb\.')" -eq 20 ]
	[ "$(backlog cq)" = "$before" ]

	# a new feeder (the peer back on another port) sends just those 20
	sink cq2
	conf "feed=cq 127.0.0.1 $SINK_PORT local.*"
	run nntpctl_run reload
	[ "$status" -eq 0 ]
	wait_for 60 count_is 20 "$A/cq2.log" '<cqb\.'
	[ "$(grep -c '<cqa\.' "$A/cq2.log")" -eq 0 ]

	# a running feeder: another 2,000 answered, compacted under it, then
	# 20 more reach the peer from the new file
	nntptool flood local.test 2000 cqc >"$A/cqc.out"
	wait_for 120 count_is 2000 "$A/cq2.log" '<cqc\.'
	wait_for 30 backlog_is cq 0
	run nntpctl_run expire
	[ "$status" -eq 0 ]
	[ "$(grep -c 'feed cq: queue compacted' "$NNTPD_LOG")" -eq 2 ]
	[ "$(stat -c %s "$q")" -lt 200 ]
	nntptool flood local.test 20 cqd >"$A/cqd.out"
	wait_for 60 count_is 20 "$A/cq2.log" '<cqd\.'
	# each article offered once (a second offer would be a CHECK the sink
	# refuses, so not in its log), none missing
	[ "$(wc -l <"$A/cq2.log")" -eq 2040 ]
	[ -z "$(sort "$A/cq2.log" | uniq -d)" ]
	[ "$(grep -c '^clear CHECK$' "$A/cq2.cmds")" -eq 2040 ]
	wait_for 30 backlog_is cq 0
}

@test "a bad edit is refused with file, line and key, by nntpctl and the daemon; the old configuration keeps working" {
	sink keep
	conf "feed=keep 127.0.0.1 $SINK_PORT local.*" "max_article_size=100000"
	run nntpctl_run reload
	[ "$status" -eq 0 ]
	conf "feed=keep 127.0.0.1 $SINK_PORT local.*" "max_article_size=lots"
	# nntpctl checks the file it reads itself
	run nntpctl_run reload
	[ "$status" -ne 0 ]
	has 'nntpd.conf:2: max_article_size: '
	# the daemon's own refusal, to an nntpctl whose configuration is fine
	run timeout 60 "$POSTEL_BUILD/nntpctl" -f /dev/null -o "spool_dir=$NNTPD_DIR/spool" reload
	[ "$status" -eq 1 ]
	has 'reload refused; the running configuration stays' 'nntpd.conf:2: max_article_size: '
	has -f "$NNTPD_LOG" 'nntpd.conf:2: max_article_size: '
	# SIGHUP likewise: refused, said in the log
	local before
	before=$(grep -c 'keeping the old one' "$NNTPD_LOG")
	kill -HUP "$NNTPD_PID"
	wait_for 20 log_count_at_least $((before + 1)) "$NNTPD_LOG" 'keeping the old one'
	run nntpctl_run -f /dev/null status
	has '^last reload: configuration [0-9]+ refused$' '^max_article_size: 100000$' '^feeds: 1 keep$'
	article "$A/k1" 'Message-ID: <k1@ctl.test>'
	run post_file "$A/k1"
	has '^240 '
	wait_for 30 has -f "$A/keep.log" '^<k1@ctl.test>$'
	conf ""
	run nntpctl_run reload
	[ "$status" -eq 0 ]
	has '^feeds: 0$'
}
