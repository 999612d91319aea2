#!/usr/bin/env bats
# A news mesh (issue 16): four nntpd nodes and one INN 2.7 on loopback
# aliases 127.0.0.11-15, in a ring (1-2-3-4-5-1) with two chords (1-3, 2-4).
# Each node feeds each of its neighbours (feed=, streaming; INN with innfeed)
# and takes their feeds (peer=; INN's incoming.conf). Articles posted across
# all five with nntplib must reach every node exactly once with the posted
# bodies, also when node 3 is killed with SIGKILL mid-flood and restarted on
# its spool: it catches up from its peers' queues (and sends its own).

setup() {
	load lib/common
	load lib/nntp
	load lib/inn
	A=$BATS_TEST_TMPDIR
	MESH=$POSTEL_ROOT/tests/lib/mesh.py
	POSTERS=()
}

teardown() {
	local p
	for p in "${POSTERS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	stop_inn
	postel_teardown
}

# Node I (1..5; 5 is INN): its address, its name in Path, its neighbours.
addr() { printf '127.0.0.1%s\n' "$1"; }
name() { if [ "$1" -eq 5 ]; then echo inn.test.invalid; else echo "n$1.mesh.invalid"; fi; }
NEIGH=([1]="2 5 3" [2]="1 3 4" [3]="2 4 1" [4]="3 5 2" [5]="4 1")

mesh() {
	timeout 600 python3 "$MESH" "$@"
}

# node_args I: node I's options. Every feeder's connection to a loopback
# alias comes from 127.0.0.1 (the kernel's source for lo), so that is the
# address each node's peer= line accepts.
node_args() {
	local i=$1 j
	ARGS=(-o "listen_address=$(addr "$i")" -o "pathhost=$(name "$i")" -o peer=127.0.0.1
		-o article_cutoff_days=10)
	for j in ${NEIGH[$i]}; do
		ARGS+=(-o "feed=$(name "$j") $(addr "$j") ${PORT[$j]} local.* streaming")
	done
}

node_up() {
	local i=$1
	node_args "$i"
	POSTEL_START_PORT=${PORT[$i]} start_nntpd "${ARGS[@]}" || return 1
	wait_writer || return 1
	NDIR[$i]=$NNTPD_DIR
	NPID[$i]=$NNTPD_PID
}

# node_restart I: node I again on its spool, port and log.
node_restart() {
	local i=$1 user=news
	getent passwd news >/dev/null || user=nobody
	node_args "$i"
	POSTEL_START_DIR=${NDIR[$i]} POSTEL_START_PORT=${PORT[$i]} start_daemon nntpd NNTPD \
		-o "spool_dir=${NDIR[$i]}/spool" -o "nopriv_user=$user" "${ARGS[@]}" || return 1
	wait_for 20 log_count_at_least 2 "${NDIR[$i]}/nntpd.log" 'writer: ready' || return 1
	NPID[$i]=$NNTPD_PID
}

# node_kill I: SIGKILL to node I's listener and everything below it at once.
node_kill() {
	local pids
	pids="${NPID[$1]} $(descendants "${NPID[$1]}")"
	# shellcheck disable=SC2086 # the PID list is split on purpose
	kill -KILL $pids
	# shellcheck disable=SC2086
	wait_gone $pids
	wait "${NPID[$1]}" 2>/dev/null || true
}

# INN on 127.0.0.15; its feeds to nodes 1 and 4 are batch files (Tf,Wnm)
# that inn_pump hands to innxmit (streaming). innfeed was tried first: to
# node 1 it sent 1 to 11 of 50 articles (our node answered 239) and put the
# rest in its backlog as overflow (queue full), never read back in the run;
# not yet understood, so innfeed is not what this test measures.
inn_mesh_up() {
	start_inn || return 1
	stop_inn
	PORT[5]=$INN_PORT
	inn_conf_set bindaddress 127.0.0.15
	cat >"$INN_DIR/etc/newsfeeds" <<EOC
ME:*,!junk,!control*/!local::
n1.mesh.invalid/n1.mesh.invalid:*,!junk,!control*:Ap,Tf,Wnm:
n4.mesh.invalid/n4.mesh.invalid:*,!junk,!control*:Ap,Tf,Wnm:
EOC
	chown -R news:news "$INN_DIR"
	inn_start
}

# inn_pump: until $A/stop exists (20 minutes at most), every second each
# non-empty INN batch is moved aside, flushed and sent with innxmit.
inn_pump() {
	local k s f b
	for ((k = 0; k < 1200; k++)); do
		[ -e "$A/stop" ] && return 0
		for s in 1 4; do
			f=$INN_DIR/spool/outgoing/$(name "$s")
			b=$INN_DIR/batch$s.$k
			[ -s "$f" ] || continue
			mv "$f" "$b"
			inn_run ctlinnd -t 30 flush "$(name "$s")" >/dev/null
			chown news "$b"
			inn_run innxmit -P "${PORT[$s]}" -T 60 "$(addr "$s")" "$b" >>"$A/innxmit.log" 2>&1 || true
		done
		sleep 1
	done
}

count_of() {
	mesh count "$(addr "$1")" "${PORT[$1]}"
}

# all_have N: every node's local.test holds at least N articles.
all_have() {
	local i
	for i in 1 2 3 4 5; do
		[ "$(count_of "$i")" -ge "$1" ] || return 1
	done
}

# node_has I N: node I holds at least N.
node_has() {
	[ "$(count_of "$1")" -ge "$2" ]
}

show_counts() {
	local i
	for i in 1 2 3 4 5; do
		echo "# node $i: $(count_of "$i")" >&3
	done
}

@test "mesh: 5 nodes in a ring with chords; every article on every node once, byte-identical; a node killed mid-flood catches up" {
	need_inn
	# 1,000 a node (5,000 in all, the issue's number).
	K=${MESH_PER_NODE:-1000}
	for i in 1 2 3 4; do PORT[$i]=$(free_port); done
	inn_mesh_up
	for i in 1 2 3 4; do node_up "$i"; done
	inn_pump &
	POSTERS+=($!)
	t0=$(date +%s.%N)
	# Node 3's share first, then the flood to the other four, with node 3
	# killed when node 1 holds a third of the rest.
	run mesh post "$(addr 3)" "${PORT[3]}" p3 "$K"
	echo "$output"
	[ "$output" = "posted $K" ]
	for i in 1 2 4 5; do
		mesh post "$(addr "$i")" "${PORT[$i]}" "p$i" "$K" >"$A/post$i" 2>&1 &
		POSTERS+=($!)
	done
	wait_for 300 node_has 1 $((K + K * 4 / 3))
	node_kill 3
	killed=$(count_of 1)
	for p in "${POSTERS[@]:1}"; do
		wait "$p"
	done
	for i in 1 2 4 5; do
		[ "$(cat "$A/post$i")" = "posted $K" ]
	done
	# Node 3 missed what came after the kill; its peers hold it queued.
	node_restart 3
	if ! wait_for "${MESH_WAIT:-600}" all_have $((5 * K)); then
		show_counts
		false
	fi
	t1=$(date +%s.%N)
	touch "$A/stop"
	echo "# $((5 * K)) articles on 5 nodes in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (node 3 killed at $killed on node 1)" >&3
	for i in 1 2 3 4 5; do
		run mesh check "$(addr "$i")" "${PORT[$i]}" 10 p1:"$K" p2:"$K" p3:"$K" p4:"$K" p5:"$K"
		echo "node $i: $output"
		[ "$status" -eq 0 ]
		[ "$output" = "ok $((5 * K)) $((5 * K / 10))" ]
	done
}
