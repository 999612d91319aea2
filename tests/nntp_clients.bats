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
	! grep -q spooled <<<"$output"
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
