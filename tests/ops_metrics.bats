#!/usr/bin/env bats
# Metrics: both daemons rewrite metrics_file (Prometheus text, tmp + rename,
# 0644) every metrics_interval seconds; a real prometheus-node-exporter,
# started here on loopback with its textfile collector on that directory,
# serves them. After a scripted load with real clients (ftplib, nntplib, a
# feeding peer, our own feed to a second nntpd) every counter has its exact
# value. A rogue worker cannot report what is not its own, holds no channel
# to the listener and cannot write the file.

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	load lib/common
	TPASS="pw-$$-Metrics"
	pam_user_add metrics nohome
}

teardown_file() {
	load lib/common
	pam_user_remove
}

setup() {
	load lib/common
	is_root || skip "the daemons' sessions and PAM logins need root"
	command -v prometheus-node-exporter >/dev/null || skip "prometheus-node-exporter is not installed"
	postel_tmpdir PROM
}

teardown() {
	postel_teardown
}

# node_exporter_up: node_exporter with only the textfile collector, on
# PROM, listening on 127.0.0.1:NE_PORT.
node_exporter_up() {
	NE_PORT=$(free_port)
	prometheus-node-exporter --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$PROM" --web.listen-address="127.0.0.1:$NE_PORT" \
		>"$PROM/node_exporter.out" 2>&1 3>&- &
	POSTEL_PIDS+=("$!")
	wait_listening "$NE_PORT" "$!"
}

# scrape: node_exporter's /metrics into $PROM/scrape (what the tests read).
scrape() {
	curl -sS --max-time 10 "http://127.0.0.1:$NE_PORT/metrics" >"$PROM/scrape.tmp" &&
		mv "$PROM/scrape.tmp" "$PROM/scrape"
}

# value SERIES: the value of one exact series (name{labels} as node_exporter
# prints it) in the last scrape; empty when absent.
value() {
	awk -v s="$1" '$1 == s { print $2 }' "$PROM/scrape"
}

# is SERIES VALUE: the series has exactly that value (says what it had).
is() {
	local got
	got=$(value "$1")
	[ "$got" = "$2" ] && return 0
	echo "$1 is '${got}', expected $2" >&2
	return 1
}

# scraped_is SERIES VALUE: a fresh scrape shows it (for wait_for).
scraped_is() {
	scrape && is "$1" "$2"
}

@test "ftpd: sessions, logins ok and refused, bytes, transfers, a bounce and a back-off, exact in node_exporter" {
	load lib/ftp
	node_exporter_up
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_umask=022 \
		-o max_login_fails=1 -o failed_login_backoff=60 \
		-o "metrics_file=$PROM/ftpd.prom" -o metrics_interval=1
	# the file is there before any session, and the collector reads it
	wait_for 10 scraped_is postel_ftpd_sessions_total 0
	run ftp_py '
f = anon()
got = io.BytesIO()
f.retrbinary("RETR pub/bytes256.bin", got.write)
assert len(got.getvalue()) == 256
f.storbinary("STOR incoming/up.bin", io.BytesIO(b"x" * 1000))
# PORT to another host: FTP bounce, refused
r = f.sendcmd("TYPE I")
try:
    f.sendcmd("PORT 127,0,0,2,200,10")
    print("PORT accepted")
except ftplib.error_perm as e:
    print("PORT refused", e)
f.quit()
g = ftplib.FTP(timeout=30)
g.connect(H, P)
try:
    g.login("nosuchuser", "wrong")
    print("login accepted")
except ftplib.error_perm as e:
    print("login refused", e)
g.close()
# the address is in back-off now: refused before a session starts
h = ftplib.FTP(timeout=30)
try:
    print("third:", h.connect(H, P))
except Exception as e:
    print("third refused", e)
'
	echo "$output"
	has '^PORT refused 500' '^login refused 530' '^third refused 421'
	wait_for 10 scraped_is postel_ftpd_logins_total'{outcome="refused"}' 1
	wait_for 10 scraped_is postel_ftpd_sessions_open 0
	is postel_ftpd_sessions_total 2
	is postel_ftpd_logins_total'{outcome="ok"}' 1
	is postel_ftpd_bytes_total'{direction="out"}' 256
	is postel_ftpd_bytes_total'{direction="in"}' 1000
	is postel_ftpd_transfers_total'{kind="download",outcome="complete"}' 1
	is postel_ftpd_transfers_total'{kind="upload",outcome="complete"}' 1
	is postel_ftpd_transfers_total'{kind="download",outcome="incomplete"}' 0
	is postel_ftpd_refusals_total'{reason="bounce"}' 1
	is postel_ftpd_refusals_total'{reason="backoff"}' 1
	is postel_ftpd_refusals_total'{reason="max_clients"}' 0
	# the file itself: HELP and TYPE once per name, 0644, no temporary left
	has -f "$PROM/ftpd.prom" '^# HELP postel_ftpd_transfers_total ' \
		'^# TYPE postel_ftpd_transfers_total counter$' '^# TYPE postel_ftpd_sessions_open gauge$'
	[ "$(grep -c '^# TYPE postel_ftpd_refusals_total ' "$PROM/ftpd.prom")" -eq 1 ]
	[ "$(stat -c %a "$PROM/ftpd.prom")" = 644 ]
	[ ! -e "$PROM/ftpd.prom.tmp" ]
	# node_exporter read it without error
	hasnt -f "$PROM/node_exporter.out" 'level=error'
}

# nntp_load: a reader that logs in, posts A, posts A again (a duplicate),
# reads A; a wrong password; a peer feeding B by IHAVE.
nntp_load() {
	timeout 60 python3 -W ignore - "$NNTPD_PORT" "$TUSER" "$TPASS" "$1" "$2" <<'EOF'
import nntplib, socket, sys
P, user, pw, a, b = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
s = nntplib.NNTP("127.0.0.1", P, timeout=30)
s.login(user, pw)
print("post:", s.post(open(a, "rb").read()[:-2].split(b"\r\n")))
try:
    s.post(open(a, "rb").read()[:-2].split(b"\r\n"))
    print("second post accepted")
except nntplib.NNTPError as e:
    print("second post refused", e)
resp, info = s.article("<a1@metrics.example>")
print("article lines:", len(info.lines))
s.quit()
t = nntplib.NNTP("127.0.0.1", P, timeout=30)
try:
    t.login(user, "wrong")
    print("wrong password accepted")
except nntplib.NNTPError as e:
    print("wrong password refused", e)
t.quit()
# a feeding peer
c = socket.create_connection(("127.0.0.1", P), timeout=30)
f = c.makefile("rb")
print(f.readline().decode().strip())
c.sendall(b"IHAVE <b1@metrics.example>\r\n")
print(f.readline().decode().strip())
c.sendall(open(b, "rb").read() + b".\r\n")
print(f.readline().decode().strip())
c.sendall(b"QUIT\r\n")
print(f.readline().decode().strip())
EOF
}

@test "nntpd: sessions, logins, bytes, articles by reason, writer batches and commits, feed backlog and last success per peer" {
	load lib/nntp
	node_exporter_up
	# the peer our feed "up" delivers to: a second nntpd, fed by 127.0.0.1
	start_nntpd -o peer=127.0.0.1
	wait_writer
	local up_port=$NNTPD_PORT down_port
	down_port=$(free_port)
	start_nntpd -o allow_plaintext_auth=YES -o "pam_service_name=$PAMSVC" -o peer=127.0.0.1 \
		-o "feed=up.test.invalid 127.0.0.1 $up_port local.*" \
		-o "feed=down.test.invalid 127.0.0.1 $down_port local.*" \
		-o "metrics_file=$PROM/nntpd.prom" -o metrics_interval=1
	wait_writer
	wait_for 10 scraped_is postel_nntpd_sessions_total 0
	local a=$NNTPD_DIR/a.txt b=$NNTPD_DIR/b.txt
	printf 'From: T <t@metrics.example>\r\nNewsgroups: local.test\r\nSubject: a\r\nMessage-ID: <a1@metrics.example>\r\n\r\nHello.\r\n' >"$a"
	printf 'Path: peer.example!not-for-mail\r\nFrom: P <p@peer.example>\r\nNewsgroups: local.test\r\nSubject: b\r\nDate: '"$(date -u -R)"'\r\nMessage-ID: <b1@metrics.example>\r\n\r\nFed.\r\n' >"$b"
	run nntp_load "$a" "$b"
	echo "$output"
	has '^post: 240' '^second post refused 441' '^wrong password refused 481' '^335' '^235'
	wait_for 10 scraped_is postel_nntpd_logins_total'{outcome="refused"}' 1
	wait_for 10 scraped_is postel_nntpd_sessions_open 0
	# the writer holds its counts up to a second and sends them in one
	# write: the second commit's arrival brings every count before it
	wait_for 10 scraped_is postel_nntpd_writer_batch_size_count 2
	is postel_nntpd_sessions_total 3
	is postel_nntpd_logins_total'{outcome="ok"}' 1
	is postel_nntpd_articles_accepted_total 2
	is postel_nntpd_articles_refused_total'{reason="duplicate"}' 1
	is postel_nntpd_articles_refused_total'{reason="malformed"}' 0
	# bytes in: what the sessions handed the writer (two posts and the feed,
	# as sent); bytes out: article 1 as stored, sent by ARTICLE
	local in out
	in=$(($(stat -c %s "$a") * 2 + $(stat -c %s "$b")))
	out=$(stat -c %s "$NNTPD_DIR/spool/articles/local/test/1")
	is postel_nntpd_bytes_total'{direction="in"}' "$in"
	is postel_nntpd_bytes_total'{direction="out"}' "$out"
	# one article per commit: two commits of batch size 1
	is postel_nntpd_writer_batch_size_count 2
	is postel_nntpd_writer_batch_size_bucket'{le="1"}' 2
	is postel_nntpd_writer_batch_size_sum 2
	is postel_nntpd_writer_commit_seconds_count 2
	is postel_nntpd_writer_commit_seconds_bucket'{le="+Inf"}' 2
	# feeds: "up" delivers both (backlog 0, a success time); "down" is
	# unreachable, both wait (backlog 2, never a success)
	wait_for 30 scraped_is postel_nntpd_feed_backlog_articles'{peer="up.test.invalid"}' 0
	wait_for 10 scraped_is postel_nntpd_feed_backlog_articles'{peer="down.test.invalid"}' 2
	is postel_nntpd_feed_last_success_timestamp_seconds'{peer="down.test.invalid"}' 0
	local when now
	wait_for 10 scrape
	when=$(value postel_nntpd_feed_last_success_timestamp_seconds'{peer="up.test.invalid"}')
	now=$(date +%s)
	awk -v w="$when" -v n="$now" 'BEGIN { exit !(w > n - 120 && w <= n + 1) }'
	hasnt -f "$PROM/node_exporter.out" 'level=error'
}

@test "metrics_file: -t names file, line and key for a relative path or a name node_exporter would skip" {
	local d
	postel_tmpdir d
	printf '# metrics\nmetrics_file=relative.prom\n' >"$d/ftpd.conf"
	run "$POSTEL_BUILD/ftpd" -t -f "$d/ftpd.conf"
	[ "$status" -eq 1 ]
	has "^$d/ftpd\\.conf:2: metrics_file: must be an absolute path"
	printf '# metrics\nmetrics_file=/var/lib/x/nntpd.txt\n' >"$d/nntpd.conf"
	run "$POSTEL_BUILD/nntpd" -t -f "$d/nntpd.conf"
	[ "$status" -eq 1 ]
	has "^$d/nntpd\\.conf:2: metrics_file: must end in \\.prom"
	printf 'metrics_interval=0\n' >"$d/nntpd.conf"
	run "$POSTEL_BUILD/nntpd" -t -f "$d/nntpd.conf"
	[ "$status" -eq 1 ]
	has "^$d/nntpd\\.conf:1: metrics_interval: "
}

@test "a rogue worker holds no channel to the listener, cannot write the file, and its foreign record ends the session unforwarded" {
	load lib/ftp
	mkdir -p "$PROM/anon" "$PROM/empty"
	chmod 755 "$PROM/anon" "$PROM/empty"
	: >"$PROM/ftpd.prom"
	run timeout 60 "$POSTEL_BUILD/attack/ftp_rogue" metrics \
		-o "anon_root=$PROM/anon" -o "secure_chroot_dir=$PROM/empty" \
		-o "ftp_username=$(ftp_user)" -o anonymous_enable=YES -o xferlog_enable=NO \
		-o "metrics_file=$PROM/ftpd.prom"
	echo "$output"
	[ "$status" -ne 124 ]
	has '^post-login Seccomp:[[:space:]]+2' '^post-login Uid:[[:space:]]+[1-9]'
	# no pipe among its descriptors; the file neither by path nor held
	has '^metrics: no pipe held$' '^metrics: open file: (No such file|Permission denied)'
	# its own bytes are forwarded, one record or two at once; a login
	# count is not its to send, nor is the honest one sent with it
	has '^listener got series 11 op 1 value 4321$' 'monitor: malformed or foreign metric'
	has '^listener got series 11 op 1 value 11$' '^listener got series 10 op 1 value 22$'
	has '^listener got series 2 op 1 value 1$'
	hasnt 'value 1000000' 'value 5555' 'post-login worker: done'
	[ ! -s "$PROM/ftpd.prom" ]
}
