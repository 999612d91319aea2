#!/usr/bin/env bats
# The article filter (filter=, nntpd.conf(5) FILTER PROTOCOL): the sample
# conf/nntpd-filter refuses a crosspost to 20 groups, the tenth copy of one
# body and header patterns from its file, to POST (441) and IHAVE (437, then
# remembered); a filter that hangs is killed at filter_timeout and the writer
# goes on (filter_failure=open and closed); one that crashes is restarted;
# without filter= posts are as before. Clients: Python's nntplib.

setup() {
	load lib/common
	load lib/nntp
	FILT=$POSTEL_ROOT/tests/lib/nntpfilter.py
	SAMPLE=$POSTEL_ROOT/conf/nntpd-filter
	# the filter runs as filter_user (nobody): its files must be readable
	postel_tmpdir F
	printf '# refused header patterns\nSubject: buy.*now\n' >"$F/patterns"
	chmod 644 "$F/patterns"
}

teardown() {
	postel_teardown
}

client() {
	timeout 300 python3 "$FILT" 127.0.0.1 "$NNTPD_PORT" "$@"
}

# filter_ready N: the writer has taken its Nth filter (greeting read).
filter_ready() {
	wait_for 60 log_count_at_least "$1" "$NNTPD_LOG" 'writer: filter [0-9]+ ready'
}

# groups N: local.g1,...,local.gN, made with nntpctl newgroup.
groups() {
	local i list=
	for ((i = 1; i <= $1; i++)); do
		nntpctl_run newgroup "local.g$i" y "group $i" >/dev/null
		list+=${list:+,}local.g$i
	done
	printf '%s' "$list"
}

# test_filter FILE: a filter for the failure tests: it asks for headers,
# hangs on "X-Filter: hang", exits on "X-Filter: crash", answers "maybe" to
# "X-Filter: babble", rejects a Subject with "refuse" and accepts the rest.
test_filter() {
	cat >"$1" <<'PY'
#!/usr/bin/python3
import os, sys, time
rd, wr = sys.stdin.buffer, sys.stdout.buffer
wr.write(b"postel-filter 1 headers\n"); wr.flush()
while True:
    line = rd.readline()
    if not line:
        sys.exit(0)
    f = line.split()
    head = rd.read(int(f[4]))
    if b"X-Filter: hang" in head:
        time.sleep(3600)
    if b"X-Filter: crash" in head:
        os._exit(3)
    if b"X-Filter: babble" in head:
        wr.write(b"maybe\n"); wr.flush(); continue
    wr.write(b"reject Subject refused by the test filter\n" if b"refuse" in head else b"accept\n")
    wr.flush()
PY
	chmod 755 "$1"
}

@test "the sample filter refuses a crosspost to 20 groups with 441 and its reason; 10 groups pass" {
	nntp_up -o "filter=$SAMPLE --patterns $F/patterns"
	filter_ready 1
	local twenty ten
	twenty=$(groups 20)
	ten=${twenty%%,local.g11*}
	run client post "$twenty" "crosspost" "Hello everyone."
	has '^441 Excessive crossposting: 20 groups \(limit 10\)$'
	run client post "$ten" "ten groups" "Hello some."
	has '^240 '
	run nntp_session "GROUP local.g20"
	has '^211 0 '
	run nntp_session "GROUP local.g10"
	has '^211 1 '
}

@test "the sample filter refuses the tenth copy of one body; the filter counter counts it" {
	nntp_up -o "filter=$SAMPLE --patterns $F/patterns" -o "metrics_file=$F/nntpd.prom" \
		-o metrics_interval=1
	filter_ready 1
	run client post local.test "same body" 'Buy this fine thing.\nReally.' 10
	[ "${#lines[@]}" -eq 10 ]
	for i in $(seq 0 8); do [[ ${lines[$i]} == 240\ * ]]; done
	[[ ${lines[9]} == "441 EMP: copy 10 of the same body (limit 9)" ]]
	run client post local.test "other body" 'Something else.'
	has '^240 '
	run nntp_session "GROUP local.test"
	has '^211 10 1 10 local.test'
	wait_for 30 grep -qx 'postel_nntpd_articles_refused_total{reason="filter"} 1' "$F/nntpd.prom"
}

@test "the sample filter refuses a header pattern from its file" {
	nntp_up -o "filter=$SAMPLE --patterns $F/patterns"
	filter_ready 1
	run client post local.test "Buy cheap pills now" "Hello."
	has '^441 Subject header matches a refused pattern \(buy\.\*now\)$'
	run client post local.test "A fine subject" "Hello."
	has '^240 '
	grep -q 'writer: filter rejected .* from 127.0.0.1: Subject header matches' "$NNTPD_LOG"
}

@test "a rejected IHAVE gets 437 and is remembered: a re-offer is refused 435; TAKETHIS gets 439" {
	nntp_up -o "filter=$SAMPLE --patterns $F/patterns" -o peer=127.0.0.1
	filter_ready 1
	local many
	many=$(printf 'local.test'; for i in $(seq 1 19); do printf ',other.g%d' "$i"; done)
	run client ihave '<x1@peer.example>' "$many" "Spam everywhere."
	has '^437 Excessive crossposting: 20 groups \(limit 10\)$'
	run client ihave '<x1@peer.example>' "$many" "Spam everywhere."
	has '^435 '
	run client ihave '<x2@peer.example>' local.test "Fine."
	has '^235 '
	run nntp_session "GROUP local.test"
	has '^211 1 '
	# TAKETHIS: 439 with the reason, then CHECK says it is not wanted
	printf 'Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\nNewsgroups: %s\r\nSubject: fed\r\nDate: %s\r\nMessage-ID: <x3@peer.example>\r\n\r\nSpam.\r\n' \
		"$many" "$(date -u -R)" >"$F/x3"
	run timeout 60 python3 "$POSTEL_ROOT/tests/lib/nntppeer.py" 127.0.0.1 "$NNTPD_PORT" \
		'cmd:MODE STREAM' "takethis:<x3@peer.example>=$F/x3" 'check:<x3@peer.example>'
	has '^439 <x3@peer.example> Excessive crossposting: 20 groups \(limit 10\)$' '^438 <x3@peer.example>'
}

@test "a filter whose greeting is wrong is not used: filter_failure decides" {
	printf '#!/bin/sh\necho hello\nexec sleep 3600\n' >"$F/filter"
	chmod 755 "$F/filter"
	nntp_up -o "filter=$F/filter" -o filter_failure=closed
	wait_for 60 grep -q 'writer: filter 1: its greeting is not "postel-filter 1 headers|bodies"' "$NNTPD_LOG"
	run client post local.test "fine" "Hello."
	has '^441 Article filter unavailable, try again later$'
	wait_for 30 grep -q 'filter 1 (pid [0-9]*) killed at the writer' "$NNTPD_LOG"
}

@test "a filter that hangs is killed at filter_timeout; filter_failure=open accepts meanwhile" {
	test_filter "$F/filter"
	nntp_up -o "filter=$F/filter" -o filter_timeout=1 -o filter_failure=open
	filter_ready 1
	FILTER_HEADERS='X-Filter: hang' run client post local.test "hung" "Hello."
	has '^240 '
	grep -q 'writer: filter 1: no answer within filter_timeout' "$NNTPD_LOG"
	wait_for 30 grep -q 'filter 1 (pid [0-9]*) killed at the writer' "$NNTPD_LOG"
	# the next filter takes over: it judges again
	filter_ready 2
	run client post local.test "please refuse" "Hello."
	has '^441 Subject refused by the test filter$'
	run client post local.test "fine" "Hello."
	has '^240 '
}

@test "a filter that hangs is killed at filter_timeout; filter_failure=closed refuses meanwhile" {
	test_filter "$F/filter"
	nntp_up -o "filter=$F/filter" -o filter_timeout=1 -o filter_failure=closed -o peer=127.0.0.1
	filter_ready 1
	FILTER_HEADERS='X-Filter: hang' run client post local.test "hung" "Hello."
	has '^441 Article filter unavailable, try again later$'
	filter_ready 2
	run client post local.test "fine" "Hello."
	has '^240 '
	run client post local.test "please refuse" "Hello."
	has '^441 Subject refused by the test filter$'
	run nntp_session "GROUP local.test"
	has '^211 1 '
}

@test "a filter that crashes is restarted, later with a back-off, and judges the next article" {
	test_filter "$F/filter"
	nntp_up -o "filter=$F/filter"
	filter_ready 1
	FILTER_HEADERS='X-Filter: crash' run client post local.test "crash" "Hello."
	has '^240 '
	wait_for 30 grep -q 'filter 1 ended: exit 3; restarting in 0 s' "$NNTPD_LOG"
	filter_ready 2
	run client post local.test "please refuse" "Hello."
	has '^441 Subject refused by the test filter$'
	# dying young again: the restart waits
	FILTER_HEADERS='X-Filter: crash' run client post local.test "crash again" "Hello."
	has '^240 '
	wait_for 30 grep -q 'filter 2 ended: exit 3; restarting in 1 s' "$NNTPD_LOG"
	filter_ready 3
}

@test "an answer that is neither accept nor reject counts as a failure: the filter is replaced" {
	test_filter "$F/filter"
	nntp_up -o "filter=$F/filter" -o filter_failure=closed
	filter_ready 1
	FILTER_HEADERS='X-Filter: babble' run client post local.test "babble" "Hello."
	has '^441 Article filter unavailable, try again later$'
	grep -q 'writer: filter 1: its answer is neither "accept" nor "reject REASON"' "$NNTPD_LOG"
	filter_ready 2
	run client post local.test "fine" "Hello."
	has '^240 '
}

@test "without filter= posts are as before: 20 groups and ten copies are stored" {
	nntp_up
	local twenty
	twenty=$(groups 20)
	run client post "$twenty" "crosspost" "Hello everyone."
	has '^240 '
	run client post local.test "same body" 'Same.' 10
	[ "$(grep -c '^240 ' <<<"$output")" -eq 10 ]
	hasnt -f "$NNTPD_LOG" 'filter'
}

@test "nntpd -t refuses filter_user root or the spool's owner, and a filter that is not there" {
	is_root || skip "the account checks are made as root only"
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null -o "filter=$SAMPLE" -o filter_user=root
	[ "$status" -ne 0 ]
	has 'filter_user: root is root'
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null -o "filter=$SAMPLE" -o filter_user=news -o nopriv_user=news
	[ "$status" -ne 0 ]
	has 'filter_user: news is nopriv_user'
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null -o "filter=$F/none"
	[ "$status" -ne 0 ]
	has "filter: $F/none: No such file"
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null -o "filter=$SAMPLE" -o filter_failure=maybe
	[ "$status" -ne 0 ]
	has 'filter_failure.*expected open or closed'
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null -o "filter=$SAMPLE" -o filter_timeout=61
	[ "$status" -ne 0 ]
	has 'filter_timeout'
}

@test "a reload starts, replaces and stops the filter" {
	test_filter "$F/filter"
	nntp_up
	printf 'filter=%s\n' "$SAMPLE" >"$NNTPD_CONF"
	kill -HUP "$NNTPD_PID"
	filter_ready 1
	run client post local.test "please refuse" "Hello."
	has '^240 '
	printf 'filter=%s\n' "$F/filter" >"$NNTPD_CONF"
	kill -HUP "$NNTPD_PID"
	filter_ready 2
	run client post local.test "please refuse" "Hello."
	has '^441 Subject refused by the test filter$'
	: >"$NNTPD_CONF"
	kill -HUP "$NNTPD_PID"
	wait_for 30 grep -q 'writer: no article filter' "$NNTPD_LOG"
	run client post local.test "please refuse" "Hello."
	has '^240 '
}
