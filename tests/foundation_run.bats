#!/usr/bin/env bats
# make run's layout: scripts/demo --layout-only DIR lays out the demo tree and
# its two configs (ports 2121 and 1119); both daemons start from it and serve.

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
