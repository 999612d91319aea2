#!/usr/bin/env bats
# Outgoing feeds over STARTTLS (feed=... tls): nntpd A feeds nntpd B (or a
# sink that records every command it gets, in clear or inside TLS) and
# sends nothing, in clear or otherwise, unless B answers STARTTLS with 382
# and B's certificate verifies against the feed's CA file (tls-ca=, else
# feed_ca_file, else the system store) and names the feed's host. A
# refused feed keeps its articles queued, logs why, counts it in
# feed_tls_refused_total and retries with its back-off. What the peer
# sends in clear after its 382 is dropped; -t loads each CA file.

setup_file() {
	load lib/common
	CERTS=$(mktemp -d /tmp/postel-cert.XXXXXX)
	chmod 755 "$CERTS"
	# good: what B and the good sink show; other: another CA altogether;
	# named: signed right but for news.example.invalid only
	"$BATS_TEST_DIRNAME/../scripts/mkcert" "$CERTS/good"
	"$BATS_TEST_DIRNAME/../scripts/mkcert" "$CERTS/other"
	"$BATS_TEST_DIRNAME/../scripts/mkcert" "$CERTS/named" DNS:news.example.invalid
	export CERTS
}

teardown_file() {
	[ -n "${CERTS:-}" ] && rm -rf "$CERTS"
}

setup() {
	load lib/common
	load lib/nntp
	W=$BATS_TEST_TMPDIR
	SINK=$POSTEL_ROOT/tests/lib/nntpsink.py
	SINKS=
	# B's STARTTLS (no implicit TLS listener)
	B_TLS=(-o "ssl_cert_file=$CERTS/good/cert.pem" -o "ssl_key_file=$CERTS/good/key.pem"
		-o implicit_ssl_port=0)
}

teardown() {
	local pid
	for pid in $SINKS; do
		stop_pid "$pid"
	done
	postel_teardown
}

# b_up [nntpd args]: nntpd B (its own pathhost) taking feeds from 127.0.0.1;
# B_* its variables.
b_up() {
	nntp_up -o peer=127.0.0.1 -o pathhost=b.test.invalid "$@"
	B_PID=$NNTPD_PID B_PORT=$NNTPD_PORT B_DIR=$NNTPD_DIR B_LOG=$NNTPD_LOG
}


# a_up [nntpd args]: nntpd A, the feeding one, with a metrics file; A is
# the current daemon (NNTPD_*) from then on.
a_up() {
	nntp_up -o "metrics_file=$NNTPD_METRICS_DIR/a.prom" -o metrics_interval=1 "$@"
	A_LOG=$NNTPD_LOG A_DIR=$NNTPD_DIR A_CONF=$NNTPD_CONF
}

# sink NAME [CERT [inject]]: tests/lib/nntpsink.py, logging articles to
# $W/NAME.log and commands to $W/NAME.cmds; with CERT (a dir of $CERTS) it
# does STARTTLS (inject: with a reply line in clear after its 382).
sink() {
	local -a tls=()
	[ -z "${2:-}" ] || tls=("$CERTS/$2/cert.pem" "$CERTS/$2/key.pem" ${3:+"$3"})
	rm -f "$W/$1.port"
	: >"$W/$1.log"
	: >"$W/$1.cmds"
	python3 "$SINK" "$W/$1.port" "$W/$1.log" "$W/$1.cmds" "${tls[@]}" &
	SINKS="$SINKS $!"
	wait_for 10 test -s "$W/$1.port"
	SINK_PORT=$(cat "$W/$1.port")
}

# post ID: a local post to A's local.test, dated now.
post() {
	article "$W/$1" "Message-ID: <$1@feedtls.test>" "Date: $(date -u -R)"
	run post_file "$W/$1"
	has '^240 '
}

# b_has ID: B filed article ID (in local.test).
b_has() {
	grep -qs "^Message-ID: <$1@feedtls.test>" "$B_DIR"/spool/articles/local/test/*
}

# backlog FEED N: A's nntpctl feeds says FEED has N articles queued.
backlog() {
	NNTPD_DIR=$A_DIR NNTPD_CONF=$A_CONF nntpctl_run feeds | grep -E "^$1 backlog $2 "
}

@test "tls feed to nntpd: the article arrives over STARTTLS, verified against tls-ca=; B's session was TLS" {
	b_up "${B_TLS[@]}"
	postel_tmpdir NNTPD_METRICS_DIR
	a_up -o "feed=b.test.invalid 127.0.0.1 $B_PORT local.* tls tls-ca=$CERTS/good/cert.pem"
	post t1
	wait_for 60 b_has t1
	has -f "$A_LOG" 'feed b\.test\.invalid: connected \(streaming, TLS verified\)'
	has -f "$B_LOG" 'TLS on'
	wait_for 20 backlog b.test.invalid 0
	hasnt -f "$A_LOG" 'nothing sent in clear'
}

@test "tls feed to an nntpd without STARTTLS: nothing sent, the article stays queued; B restarted with a certificate gets it" {
	b_up
	postel_tmpdir NNTPD_METRICS_DIR
	a_up -o "feed=b.test.invalid 127.0.0.1 $B_PORT local.* tls tls-ca=$CERTS/good/cert.pem"
	post q1
	wait_for 30 has -f "$A_LOG" "feed b\.test\.invalid: 127\.0\.0\.1 port $B_PORT: STARTTLS refused: 502 .*; nothing sent in clear, articles stay queued"
	# refused again on the retry (the back-off), still not sent
	wait_for 30 log_count_at_least 2 "$A_LOG" 'b\.test\.invalid: .*STARTTLS refused'
	run backlog b.test.invalid 1
	[ "$status" -eq 0 ]
	run b_has q1
	[ "$status" -ne 0 ]
	wait_for 20 has -f "$NNTPD_METRICS_DIR/a.prom" '^postel_nntpd_feed_tls_refused_total\{peer="b\.test\.invalid"\} [1-9]'
	hasnt -f "$A_LOG" 'feed b\.test\.invalid: connected'
	# the same port, now with a certificate: the queued article goes
	stop_pid "$B_PID"
	POSTEL_START_PORT=$B_PORT b_up "${B_TLS[@]}"
	wait_for 60 b_has q1
	has -f "$B_LOG" 'TLS on'
	wait_for 20 backlog b.test.invalid 0
}

@test "a certificate from another CA is refused and nothing is sent; the same feed to a verified sink sends only STARTTLS in clear" {
	sink bad other
	local bad=$SINK_PORT
	sink good good
	postel_tmpdir NNTPD_METRICS_DIR
	# bad: the system store (the default); bad2: feed_ca_file, our CA but not theirs
	a_up -o "feed_ca_file=$CERTS/good/cert.pem" \
		-o "feed=bad 127.0.0.1 $bad local.* tls tls-ca=/etc/ssl/certs/ca-certificates.crt" \
		-o "feed=bad2 127.0.0.1 $bad local.* tls" \
		-o "feed=good 127.0.0.1 $SINK_PORT local.* feeder:secret tls"
	post c1
	wait_for 60 has -f "$W/good.log" '^<c1@feedtls\.test>$'
	wait_for 30 has -f "$A_LOG" "feed bad: 127\.0\.0\.1 port $bad: TLS failed: certificate verification failed: .*; nothing sent in clear"
	wait_for 30 has -f "$A_LOG" "feed bad2: 127\.0\.0\.1 port $bad: TLS failed: certificate verification failed: self.signed certificate"
	wait_for 30 log_count_at_least 2 "$W/bad.cmds" '^tls-failed$'
	# the bad sink saw STARTTLS and broken handshakes, never an article
	hasnt -f "$W/bad.cmds" '^(clear|tls) (MODE|CHECK|TAKETHIS|IHAVE|AUTHINFO)'
	has -f "$W/bad.cmds" '^clear STARTTLS$'
	[ ! -s "$W/bad.log" ]
	run backlog bad 1
	[ "$status" -eq 0 ]
	run backlog bad2 1
	[ "$status" -eq 0 ]
	# the good sink: STARTTLS in clear, everything else (the login too) inside TLS
	[ "$(head -n 1 "$W/good.cmds")" = 'clear STARTTLS' ]
	has -f "$W/good.cmds" '^tls AUTHINFO$' '^tls CHECK$' '^tls TAKETHIS$'
	run grep -c '^clear ' "$W/good.cmds"
	[ "$output" -eq 1 ]
	wait_for 20 has -f "$NNTPD_METRICS_DIR/a.prom" '^postel_nntpd_feed_tls_refused_total\{peer="bad2"\} [1-9]'
	has -f "$NNTPD_METRICS_DIR/a.prom" '^postel_nntpd_feed_tls_refused_total\{peer="good"\} 0$'
}

@test "a certificate for another name is refused: an IP address feed host and a DNS name one; nothing is sent" {
	sink named named
	postel_tmpdir NNTPD_METRICS_DIR
	a_up -o "feed=byip 127.0.0.1 $SINK_PORT local.* tls tls-ca=$CERTS/named/cert.pem" \
		-o "feed=byname localhost $SINK_PORT local.* tls tls-ca=$CERTS/named/cert.pem"
	post n1
	wait_for 30 has -f "$A_LOG" "feed byip: .*TLS failed: certificate verification failed: IP address mismatch"
	wait_for 30 has -f "$A_LOG" "feed byname: .*TLS failed: certificate verification failed: hostname mismatch"
	hasnt -f "$W/named.cmds" '^(clear|tls) (MODE|CHECK|TAKETHIS|IHAVE|AUTHINFO)'
	[ ! -s "$W/named.log" ]
	run backlog byip 1
	[ "$status" -eq 0 ]
	run backlog byname 1
	[ "$status" -eq 0 ]
}

@test "a reply the peer sent in clear after its 382 is dropped, never read as an answer inside TLS (STARTTLS injection)" {
	sink inj good inject
	postel_tmpdir NNTPD_METRICS_DIR
	a_up -o "feed=inj 127.0.0.1 $SINK_PORT local.* tls tls-ca=$CERTS/good/cert.pem"
	post i1
	wait_for 60 has -f "$W/inj.log" '^<i1@feedtls\.test>$'
	# MODE STREAM got the sink's own 203, not the injected 500
	has -f "$A_LOG" 'feed inj: connected \(streaming, TLS verified\)'
	hasnt -f "$A_LOG" 'injected'
	has -f "$W/inj.cmds" '^tls MODE$' '^tls CHECK$' '^tls TAKETHIS$'
}

@test "feed= tls words: tls and tls-ca=/abs are taken, a relative tls-ca is refused with the syntax; -t loads each tls feed's CA file" {
	config_env nntpd
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null "${CONFIG_ENV[@]}" -o "feed=x 127.0.0.1 119 * streaming u:p <1000 tls tls-ca=$CERTS/good/cert.pem"
	[ "$status" -eq 0 ]
	# a CA file that does not load stops -t (and the daemon), named
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null "${CONFIG_ENV[@]}" -o "feed=x 127.0.0.1 119 * tls tls-ca=$CERTS/none.pem"
	[ "$status" -ne 0 ]
	has "feed: feed x: CA file $CERTS/none\.pem: "
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null "${CONFIG_ENV[@]}" -o "feed=y 127.0.0.1 119 * tls" -o "feed_ca_file=$CERTS/good/key.pem"
	[ "$status" -ne 0 ]
	has "^-o:[0-9]+: feed_ca_file: feed y: CA file $CERTS/good/key\.pem: "
	# a feed in clear needs no CA file
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null "${CONFIG_ENV[@]}" -o "feed=z 127.0.0.1 119 *" -o "feed_ca_file=$CERTS/none.pem"
	[ "$status" -eq 0 ]
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null "${CONFIG_ENV[@]}" -o "feed=x 127.0.0.1 119 * tls-ca=ca.pem"
	[ "$status" -ne 0 ]
	has 'tls-ca=/path/ca.pem'
	run "$POSTEL_BUILD/nntpd" -t -f /dev/null "${CONFIG_ENV[@]}" -o "feed_ca_file=certs.pem"
	[ "$status" -ne 0 ]
	has 'feed_ca_file'
}
