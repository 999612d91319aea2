# shellcheck shell=bash
# nntp.bash: what the nntp_*.bats files share on top of common.bash.
#
#   nntp_up [nntpd args...]     start_nntpd, then groups local.nopost (n) and
#                               local.mod (m) beside local.test (y)
#   nntpctl_run ARGS...         nntpctl on the running server's spool (bounded by
#                               NNTPCTL_TIMEOUT seconds, default 60)
#   nntptool OP ARGS...         tests/lib/nntptool.py against the server
#   post_file FILE              POST FILE's bytes; prints 340 line and final reply
#   writer_pid                  the writer's PID, from the listener's log

NNTPTOOL=$POSTEL_ROOT/tests/lib/nntptool.py

nntpctl_run() {
	timeout "${NNTPCTL_TIMEOUT:-60}" "$POSTEL_BUILD/nntpctl" -f "$NNTPD_CONF" -o "spool_dir=$NNTPD_DIR/spool" \
		-o pathhost=test.postel.invalid "$@"
}

# wait_writer: until the writer says it is ready (10 s at most)
wait_writer() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q 'writer: ready' "${NNTPD_LOG:?}" && return 0
		sleep 0.05
	done
	return 1
}

nntp_up() {
	start_nntpd "$@" || return 1
	wait_writer
	nntpctl_run newgroup local.nopost n "No posting here" >/dev/null
	nntpctl_run newgroup local.mod m "Moderated" >/dev/null
}

nntptool() {
	local op=$1
	shift
	timeout 600 python3 "$NNTPTOOL" "$op" 127.0.0.1 "${NNTPD_PORT:?}" "$@"
}

post_file() {
	nntptool post "$1"
}

# The listener logs "writer started (pid N)" each time it (re)starts it.
writer_pid() {
	sed -n 's/.*writer started (pid \([0-9]*\)).*/\1/p' "${NNTPD_LOG:?}" | tail -n 1
}

# article FILE [headers...]: a valid article to local.test with the given
# extra header lines and body "Hello."
article() {
	local f=$1
	shift
	{
		printf 'From: Tester <tester@example.com>\r\n'
		printf 'Newsgroups: local.test\r\n'
		printf 'Subject: test article\r\n'
		local h
		for h in "$@"; do
			printf '%s\r\n' "$h"
		done
		printf '\r\nHello.\r\n'
	} >"$f"
}
