#!/usr/bin/env bats
# make run's layout: scripts/demo --layout-only DIR lays out the demo tree and
# its two configs (ports 2121 and 1119); both daemons start from it and serve.
# scripts/demo itself, on free ports, seeds a new spool through nntpd once
# (nntplib sees every article; a second run posts nothing).

setup() {
	load lib/common
	[ -x "$POSTEL_ROOT/scripts/demo" ] || skip "scripts/demo does not exist yet"
	postel_tmpdir DEMO
}

teardown() {
	postel_teardown
}

layout() {
	run "$POSTEL_ROOT/scripts/demo" --layout-only "$DEMO/run"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -f "$DEMO/run/ftpd.conf" ]
	[ -f "$DEMO/run/nntpd.conf" ]
}

# effective KEY DAEMON: KEY's value in the demo config, as the daemon sees it.
effective() {
	"$POSTEL_BUILD/$2" -T -f "$DEMO/run/$2.conf" |
		sed -n "s/^$1=\\(.*[^ ]\\) *\\(# default\\)\\{0,1\\}\$/\\1/p" | sed 's/ *$//'
}

# start_demo DAEMON PREFIX: start DAEMON with the demo config on a free port.
start_demo() {
	local name=$1 prefix=$2 port pid
	port=$(free_port)
	"$POSTEL_BUILD/$name" -D -f "$DEMO/run/$name.conf" -o listen_address=127.0.0.1 \
		-o listen_address6= -o "listen_port=$port" -o "pid_file=$DEMO/$name.pid" \
		-o shutdown_grace=2 2>>"$DEMO/$name.log" 3>&- &
	pid=$!
	POSTEL_PIDS+=("$pid")
	export "${prefix}_PID=$pid" "${prefix}_PORT=$port" "${prefix}_LOG=$DEMO/$name.log"
	wait_listening "$port" "$pid" || {
		sed 's/^/# /' "$DEMO/$name.log" >&3
		return 1
	}
}

@test "demo --layout-only lays out both configs, on ports 2121 and 1119, that -t accepts" {
	layout
	run "$POSTEL_BUILD/ftpd" -t -f "$DEMO/run/ftpd.conf"
	[ "$status" -eq 0 ]
	run "$POSTEL_BUILD/nntpd" -t -f "$DEMO/run/nntpd.conf"
	[ "$status" -eq 0 ]
	[ "$(effective listen_port ftpd)" = 2121 ]
	[ "$(effective listen_port nntpd)" = 1119 ]
	# Everything the demo points at lies inside the tree it laid out.
	[[ $(effective anon_root ftpd) == "$DEMO/run"* ]]
	[[ $(effective spool_dir nntpd) == "$DEMO/run"* ]]
	[ -d "$(effective anon_root ftpd)" ]
	[ -d "$(effective spool_dir nntpd)" ]
}

@test "ftpd from the demo layout lists its tree and serves the 10 MB file intact" {
	layout
	local root big rel
	root=$(effective anon_root ftpd)
	big=$(find "$root" -type f -size +9999999c | head -n 1)
	[ -n "$big" ]
	rel=${big#"$root"/}
	start_demo ftpd FTPD
	run curl -sS --max-time 30 "ftp://127.0.0.1:$FTPD_PORT/"
	[ "$status" -eq 0 ]
	# Every top-level entry of the anon root is in the listing.
	local e
	for e in "$root"/*; do
		[[ $output == *"$(basename "$e")"* ]]
	done
	run curl -sS --max-time 60 -o "$DEMO/big.out" "ftp://127.0.0.1:$FTPD_PORT/$rel"
	[ "$status" -eq 0 ]
	[ "$(sha256sum <"$DEMO/big.out")" = "$(sha256sum <"$big")" ]
}

@test "nntpd from the demo layout greets and answers CAPABILITIES" {
	layout
	start_demo nntpd NNTPD
	run nntp_session CAPABILITIES QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^20[01]\  ]]
	[[ ${lines[1]} =~ ^101 ]]
	[[ $output == *VERSION\ 2* ]]
	[[ ${lines[-2]} =~ ^205 ]]
}

# run_demo OUT: scripts/demo itself (what make run starts), on free ports
# with its tree in $DEMO/run, printing to OUT; waits for its banner.
run_demo() {
	local out=$1 pid
	DEMO_FTP_PORT=$(free_port)
	DEMO_NNTP_PORT=$(free_port)
	POSTEL_DEMO_DIR=$DEMO/run POSTEL_DEMO_FTP_PORT=$DEMO_FTP_PORT \
		POSTEL_DEMO_NNTP_PORT=$DEMO_NNTP_PORT "$POSTEL_ROOT/scripts/demo" >"$out" 2>&1 3>&- &
	pid=$!
	POSTEL_PIDS+=("$pid")
	DEMO_PID=$pid
	wait_for 30 grep -q '^Postel demo running' "$out" || {
		sed 's/^/# /' "$out" >&3
		return 1
	}
}

# demo_news: what nntplib sees on the demo's nntpd, checked; prints the
# article count of each group and every Message-ID, one a line.
demo_news() {
	timeout 60 python3 -W ignore::DeprecationWarning - "$DEMO_NNTP_PORT" <<'PY'
import nntplib, sys
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]), timeout=20)
groups = {g.group: g.flag for g in s.list()[1]}
assert groups == {"local.general": "y", "local.test": "y", "local.announce": "m"}, groups
ids = []
def over(name):
    _, count, first, last, _ = s.group(name)
    print(name, count)
    arts = s.over((first, last))[1] if count else []
    ids.extend(o["message-id"] for _, o in arts)
    return arts
general = over("local.general")
subjects = [o["subject"] for _, o in general]
assert "Welcome to the Postel demo" in subjects, subjects
# The thread: a root and two follow-ups, each naming its parents in order.
root = [o["message-id"] for _, o in general if o["subject"] == "Which newsreader do you use?"]
assert len(root) == 1, subjects
replies = [o for _, o in general if o["subject"] == "Re: Which newsreader do you use?"]
replies.sort(key=lambda o: len(o["references"].split()))
chain = [o["references"].split() for o in replies]
assert chain == [root, root + [replies[0]["message-id"]]], chain
test = over("local.test")
subject = nntplib.decode_header(test[0][1]["subject"])
assert subject == "Gr\u00fc\u00dfe aus Z\u00fcrich \u2013 \u00e7a marche \u2713", repr(subject)
announce = over("local.announce")
_, info = s.article(announce[0][1]["message-id"])
assert any(l.startswith(b"Approved: ") for l in info.lines), info.lines
s.quit()
for m in ids:
    print(m)
PY
}

@test "make run's demo posts its articles through nntpd into a new spool, and never twice" {
	run_demo "$DEMO/first.out"
	run demo_news
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "local.general 4" ]
	[ "${lines[1]}" = "local.test 1" ]
	[ "${lines[2]}" = "local.announce 1" ]
	local first=$output
	has -f "$DEMO/first.out" '^demo: a new spool: posted the demo articles$'
	[ ! -e "$DEMO/run/seed-pending" ]
	# The README's nntplib line works against the demo as printed.
	local cmd
	cmd=$(sed -n '/^  python3 -c "import nntplib/,/"$/p' "$POSTEL_ROOT/README" | sed "s/1119/$DEMO_NNTP_PORT/")
	[ -n "$cmd" ]
	run timeout 30 bash -c "$cmd"
	[ "$status" -eq 0 ]
	has "local.announce.*flag='m'" '^Gr.*ße aus Zürich – ça marche ✓$'
	stop_pid "$DEMO_PID"
	run_demo "$DEMO/second.out"
	run demo_news
	[ "$status" -eq 0 ]
	[ "$output" = "$first" ]
	hasnt -f "$DEMO/second.out" 'posted the demo articles' 'post <'
}
