#!/usr/bin/env bats
# nntpd with real news clients: Python's nntplib (every method), INN's inews,
# suck pulling a group, and tin reading a group in a terminal (tmux).

setup() {
	load lib/common
	load lib/nntp
	nntp_up
}

teardown() {
	[ -z "${TMUX_SOCK:-}" ] || tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	postel_teardown
}

@test "nntplib: every reader method against nntpd" {
	run timeout 120 python3 "$POSTEL_ROOT/tests/lib/nntplib_all.py" "$NNTPD_PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^ok quit' <<<"$output"
}

@test "INN's inews posts an article" {
	local conf=$NNTPD_DIR/inn.conf
	# inews insists on these keys even though it uses only server and domain
	cat >"$conf" <<-CONF
		server: 127.0.0.1
		domain: example.com
		pathhost: inews.example.com
		organization: "Postel tests"
		mta: "/bin/true %s"
		pathnews: /usr/lib/news
		hismethod: hisv6
		ovmethod: tradindexed
	CONF
	printf 'From: Inews <inews@example.com>\nNewsgroups: local.test\nSubject: via inews\nMessage-ID: <inews1@example.com>\n\n.dotted\nbody\n' \
		>"$NNTPD_DIR/a"
	HOME=$NNTPD_DIR INNCONF=$conf run timeout 30 inews -h -O -p "$NNTPD_PORT" "$NNTPD_DIR/a"
	echo "$output"
	[ "$status" -eq 0 ]
	hasnt spooled
	run nntp_session "GROUP local.test" "HEAD <inews1@example.com>" "BODY 1"
	[[ ${lines[1]} == "211 1 1 1 local.test" ]]
	grep -qx 'Subject: via inews' <<<"$output"
	grep -qx '..dotted' <<<"$output"
}

# run_suck: pull with suck into $NNTPD_DIR/suck/msgs (multifile mode)
run_suck() {
	local d=$NNTPD_DIR/suck
	(cd "$d" && timeout 60 suck 127.0.0.1 -N "$NNTPD_PORT" -m -H -K -c -q \
		-dd "$d/data" -dm "$d/msgs" -dt "$d/tmp")
}

@test "suck pulls a group, then only what is new" {
	local d=$NNTPD_DIR/suck i
	mkdir -p "$d/data" "$d/msgs" "$d/tmp"
	printf 'local.test 0\n' >"$d/data/sucknewsrc"
	for i in 1 2 3; do
		article "$NNTPD_DIR/a$i" "Message-ID: <suck$i@t.example>"
		sed -i "s/^Subject: .*/Subject: sucked $i\r/" "$NNTPD_DIR/a$i"
		post_file "$NNTPD_DIR/a$i" | grep -q '^240'
	done
	run run_suck
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(ls "$d/msgs" | wc -l)" -eq 3 ]
	for i in 1 2 3; do grep -lq "^Subject: sucked $i" "$d"/msgs/*; done
	grep -qx 'local.test 3' "$d/data/sucknewsrc"
	rm -f "$d"/msgs/*
	article "$NNTPD_DIR/a4"
	post_file "$NNTPD_DIR/a4" | grep -q '^240'
	run run_suck
	[ "$(ls "$d/msgs" | wc -l)" -eq 1 ]
	grep -qx 'local.test 4' "$d/data/sucknewsrc"
}

# wait_screen TEXT: true once the tmux pane shows TEXT (15 s at most)
wait_screen() {
	local i
	for ((i = 0; i < 60; i++)); do
		tmux -S "$TMUX_SOCK" capture-pane -p >"$NNTPD_DIR/screen"
		grep -qF -- "$1" "$NNTPD_DIR/screen" && return 0
		sleep 0.25
	done
	echo "# screen while waiting for '$1':" >&3
	sed 's/^/#   /' "$NNTPD_DIR/screen" >&3
	return 1
}

@test "tin reads a group in a terminal: the group, the subject, the article" {
	command -v tin >/dev/null || skip "tin is not installed"
	article "$NNTPD_DIR/a"
	sed -i "s/^Subject: .*/Subject: Hello from the tin test\r/" "$NNTPD_DIR/a"
	post_file "$NNTPD_DIR/a" | grep -q '^240'
	mkdir -p "$NNTPD_DIR/home"
	printf 'local.test:\n' >"$NNTPD_DIR/home/.newsrc"
	TMUX_SOCK=$NNTPD_DIR/tmux.sock
	tmux -S "$TMUX_SOCK" new-session -d -x 120 -y 40 \
		"env HOME=$NNTPD_DIR/home TERM=xterm tin -r -g 127.0.0.1 -p $NNTPD_PORT -q; sleep 60"
	wait_screen "Press <RETURN>"
	tmux -S "$TMUX_SOCK" send-keys Enter
	wait_screen "local.test"
	tmux -S "$TMUX_SOCK" send-keys Enter
	wait_screen "Hello from the tin test"
	tmux -S "$TMUX_SOCK" send-keys Enter
	wait_screen "Tester <tester@example.com>"
	wait_screen "Hello."
}
