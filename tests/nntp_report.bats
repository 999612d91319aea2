#!/usr/bin/env bats
# nntpctl report (INN's news.daily): the writer's day log counted per group,
# refusal reason, peer, poster and posting host, with each outgoing feed's
# backlog; posts from nntplib on two addresses, a peer's IHAVE feed, a day
# without a log, corrupt and cut-off lines, --json, report_keep_days.

setup() {
	load lib/common
	load lib/nntp
	A=$BATS_TEST_TMPDIR/art
	mkdir -p "$A"
	PEER=$POSTEL_ROOT/tests/lib/nntppeer.py
	TODAY=$(date -u +%F)
}

teardown() {
	postel_teardown
	pam_userdb_remove
}

# posts: an nntplib script (on stdin) with post(frm, groups, mid, src,
# extra, user) printing each reply; src picks the client's address, user
# (name, password) logs in first.
posts() {
	timeout 120 python3 -W ignore - "$NNTPD_PORT" <<EOF
import nntplib, socket, sys
P = int(sys.argv[1])
class Src(nntplib.NNTP):
    def __init__(self, src):
        self.src = src
        super().__init__("127.0.0.1", P, readermode=False, timeout=60)
    def _create_socket(self, timeout):
        return socket.create_connection(("127.0.0.1", P), timeout, source_address=(self.src, 0))
def post(frm, groups, mid, src="127.0.0.1", extra="Subject: report test\r\n", user=None):
    c = Src(src)
    try:
        if user:
            c.login(user[0], user[1], usenetrc=False)
        r = c.post(("From: %s\r\nNewsgroups: %s\r\n%sMessage-ID: <%s>\r\n\r\n"
                    "Body of %s.\r\n" % (frm, groups, extra, mid, mid)).encode()).strip()
    except nntplib.NNTPError as e:
        r = str(e)
    finally:
        c.quit()
    print(mid, r[:3])
$(cat)
EOF
}

# fed FILE ID [PATH]: a relayed article as a peer would send it.
fed() {
	printf 'Path: %s\r\nFrom: P <p@peer.example>\r\nNewsgroups: local.test\r\nSubject: fed\r\nDate: %s\r\nMessage-ID: %s\r\n\r\nHello.\r\n' \
		"${3:-peer.example!not-for-mail}" "$(date -u -R)" "$2" >"$1"
}

report() {
	nntpctl_run report "$@"
}

# rows TITLE: the rows of the report's section TITLE in $output, as
# "name=count " or "name=accepted/refused ".
rows() {
	sed -n "/^$1:/,/^\$/p" <<<"$output" |
		awk '/^  [^ ]/ { printf "%s=%s%s ", $1, $2, (NF == 3 ? "/" $3 : "") }'
}

@test "report: accepted per group, refusals by reason, peers, top posters and hosts in order, a feed's backlog" {
	local dead
	dead=$(free_port)
	nntp_up -o peer=127.0.0.1 -o "feed=sink.test.invalid 127.0.0.1 $dead local.*"
	nntpctl_run newgroup local.other y >/dev/null
	run posts <<'EOF'
alice = "Alice <alice@example.com>"
bob = "bob@example.org (Bob)"
post(alice, "local.test", "a1@example.com")
post(alice, "local.test,local.other", "a2@example.com")
post(alice, "local.test", "a3@example.com")
post(alice, "local.test", "a1@example.com")
post(alice, "local.test", "a4@example.com", extra="")
post(bob, "local.other", "b1@example.org", src="127.0.0.2")
post(bob, "local.nosuch", "b2@example.org", src="127.0.0.2")
EOF
	[ "$status" -eq 0 ]
	[ "$output" = "a1@example.com 240
a2@example.com 240
a3@example.com 240
a1@example.com 441
a4@example.com 441
b1@example.org 240
b2@example.org 441" ]
	fed "$A/f1" '<f1@peer.example>'
	fed "$A/f2" '<f2@peer.example>'
	fed "$A/f3" '<f3@peer.example>' 'x!test.postel.invalid!peer.example'
	run timeout 60 python3 "$PEER" 127.0.0.1 "$NNTPD_PORT" "ihave:<f1@peer.example>:$A/f1" \
		"ihave:<f2@peer.example>:$A/f2" "ihave:<f3@peer.example>:$A/f3"
	[ "$(grep -c '^235' <<<"$output")" -eq 2 ]
	grep -q '^437 ' <<<"$output"

	run report
	[ "$status" -eq 0 ]
	has "^News report for $TODAY \(UTC\)$" \
		'^Articles: 6 accepted \(4 posted, 2 fed\), 4 refused, 0 deferred, 0 sent to moderators$'
	hasnt '^Skipped'
	# Accepted per group: the crosspost counts in both groups.
	[ "$(rows 'Accepted per group')" = "local.test=5 local.other=2 " ]
	[ "$(rows 'Refused by reason')" = "duplicate=1 groups=1 loop=1 malformed=1 " ]
	[ "$(rows 'Incoming feeds by peer')" = "127.0.0.1=2/1 " ]
	# Top posters: most accepted first; the From address, not the name.
	[ "$(rows 'Top posters')" = "alice@example.com=3/2 bob@example.org=1/1 " ]
	[ "$(rows 'Top posting hosts')" = "127.0.0.1=3/2 127.0.0.2=1/1 " ]
	# Nobody listens on the feed's port: all 6 queued, none sent.
	has '^  sink\.test\.invalid +6 +0 +6  [0-9]+[smh]$'

	run report --top 1
	[ "$(rows 'Top posters')" = "alice@example.com=3/2 " ]

	run report --json
	[ "$status" -eq 0 ]
	python3 - "$output" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
assert r["log"] is True and r["accepted"] == 6 and r["refused"] == 4, r
assert [(g["name"], g["count"]) for g in r["groups"]] == [("local.test", 5), ("local.other", 2)], r["groups"]
assert r["posters"][0] == {"name": "alice@example.com", "accepted": 3, "refused": 2}, r["posters"]
f = r["feeds"][0]
assert f["name"] == "sink.test.invalid" and f["queued"] == 6 and f["unsent"] == 6 and f["sent"] == 0, f
assert isinstance(f["oldest_unsent_seconds"], int) and f["oldest_unsent_seconds"] >= 0, f
EOF
	# The records themselves: one line per article, nine fields.
	log=$NNTPD_DIR/spool/daylog/$TODAY
	[ "$(head -n 1 "$log")" = '#postel-daylog 1' ]
	# Who posted what from where is not for the readers' group.
	[ "$(stat -c %a "$log")" = 600 ]
	[ "$(stat -c %a "${log%/*}")" = 700 ]
	[ "$(grep -c $'\t' "$log")" -eq 10 ]
	grep -q $'\tpost\trefused\tgroups\t<b2@example.org>\tlocal.nosuch\tbob@example.org\t127.0.0.2\t' "$log"
	# The day log is no part of the spool nntpctl check verifies.
	run nntpctl_run check
	[ "$status" -eq 0 ]
	has '^spool ok$'
}

@test "report: a day without a log says so; a bad --date is refused" {
	nntp_up
	run report --date 2020-01-31
	[ "$status" -eq 0 ]
	has '^News report for 2020-01-31 \(UTC\)$' '^No day log for 2020-01-31'
	hasnt '^Articles:' '^Top posters:'
	has '^Feed backlogs \(now\):$' '^  no outgoing feeds$'
	run report --json --date 2020-01-31
	python3 -c 'import json, sys; r = json.loads(sys.argv[1]); assert r["log"] is False and r["accepted"] == 0 and r["groups"] == [], r' "$output"
	for bad in 2020-02-30 2020-1-01 yesterday; do
		run report --date "$bad"
		[ "$status" -eq 2 ]
		[[ $output == *"bad argument $bad"* ]]
	done
}

@test "report: corrupt and cut-off lines in the day log are skipped and counted, the rest is reported" {
	nntp_up
	run posts <<'EOF'
post("u1@example.com", "local.test", "c1@example.com")
EOF
	[ "$output" = "c1@example.com 240" ]
	log=$NNTPD_DIR/spool/daylog/$TODAY
	[ -f "$log" ]
	# A line of the wrong shape, one of a kind we do not know, binary junk.
	printf 'garbage without tabs\n' >>"$log"
	printf '1700000000\tsmoke\taccepted\t-\t<x@y>\tlocal.test\tz@example.com\t-\tok\n' >>"$log"
	printf '\001\002\377\n' >>"$log"
	run posts <<'EOF'
post("u2@example.com", "local.test", "c2@example.com")
EOF
	[ "$output" = "c2@example.com 240" ]
	# What a crash in the middle of a write would leave at the end.
	printf '1700000000\tpost\taccepted\t-\t<cut@y>\tloc' >>"$log"
	run report
	[ "$status" -eq 0 ]
	has '^Articles: 2 accepted \(2 posted, 0 fed\), 0 refused' '^Skipped 4 malformed lines of the day log\.$'
	[ "$(rows 'Accepted per group')" = "local.test=2 " ]
	hasnt 'z@example\.com'
}

@test "report_keep_days: the writer drops day logs past the kept days when it opens a new day" {
	local old kept
	nntp_up -o report_keep_days=2
	old=2000-01-01
	kept=$(date -u -d yesterday +%F)
	mkdir -p "$NNTPD_DIR/spool/daylog"
	printf '#postel-daylog 1\n' | tee "$NNTPD_DIR/spool/daylog/$old" "$NNTPD_DIR/spool/daylog/$kept" >/dev/null
	: >"$NNTPD_DIR/spool/daylog/notes"
	if is_root; then chown -R "$(stat -c %U "$NNTPD_DIR/spool")" "$NNTPD_DIR/spool/daylog"; fi
	run posts <<'EOF'
post("k@example.com", "local.test", "k1@example.com")
EOF
	[ "$output" = "k1@example.com 240" ]
	[ -f "$NNTPD_DIR/spool/daylog/$TODAY" ]
	[ -f "$NNTPD_DIR/spool/daylog/$kept" ]
	[ -f "$NNTPD_DIR/spool/daylog/notes" ]
	[ ! -e "$NNTPD_DIR/spool/daylog/$old" ]
	grep -q "daylog: dropped $old" "$NNTPD_LOG"
}

@test "report_keep_days=0: no day log is written, and the report says there is none" {
	nntp_up -o report_keep_days=0
	run posts <<'EOF'
post("k@example.com", "local.test", "k2@example.com")
EOF
	[ "$output" = "k2@example.com 240" ]
	[ ! -e "$NNTPD_DIR/spool/daylog" ]
	run report
	has "^No day log for $TODAY"
}

@test "report: a feed queue's queued, sent and unsent lines, and the age of its oldest unsent article still in the spool" {
	local q line1
	nntp_up
	run posts <<'EOF2'
post("q@example.com", "local.test", "q1@example.com")
post("q@example.com", "local.test", "q2@example.com")
EOF2
	[ "$output" = "q1@example.com 240
q2@example.com 240" ]
	# A queue as the writer and a feeder leave it: the first line answered,
	# the second's article gone (expired), the third's stored 3 hours ago.
	q=$NNTPD_DIR/spool/feeds
	mkdir -p "$q"
	line1='local.test:1 <q1@example.com>'
	printf '%s\nlocal.test:77 <gone@example.com>\nlocal.test:2 <q2@example.com>\n' "$line1" >"$q/peer.test"
	printf '%s\n' "$((${#line1} + 1))" >"$q/peer.test.done"
	touch -d '3 hours ago' "$NNTPD_DIR/spool/articles/local/test/2"
	run report
	[ "$status" -eq 0 ]
	has '^  peer\.test +3 +1 +2  3h$'
	# Nothing unsent: no age.
	printf '%s\n' "$(stat -c %s "$q/peer.test")" >"$q/peer.test.done"
	run report
	has '^  peer\.test +3 +3 +0  -$'
}

@test "report: a logged-in poster is counted by user name, not by the From it gives" {
	is_root || skip "a PAM service needs root"
	pam_userdb_add nntp-report carol carolpw dave davepw
	nntp_up -o allow_plaintext_auth=YES -o "pam_service_name=$VPAMSVC"
	run posts <<'EOF2'
same = "Same <same@example.com>"
post(same, "local.test", "u1@example.com", user=("carol", "carolpw"))
post(same, "local.test", "u2@example.com", user=("carol", "carolpw"))
post(same, "local.test", "u3@example.com", user=("dave", "davepw"))
post(same, "local.test", "u4@example.com")
EOF2
	[ "$output" = "u1@example.com 240
u2@example.com 240
u3@example.com 240
u4@example.com 240" ]
	run report
	[ "$(rows 'Top posters')" = "carol=2/0 dave=1/0 same@example.com=1/0 " ]
}

@test "report: a post mailed to its moderator counts as sent to moderators, one with no moderator as refused (groups)" {
	local mods
	postel_tmpdir mods
	printf 'local.mod:%%s@localhost\n' >"$mods/moderators"
	chmod 644 "$mods/moderators"
	# A mailer that takes the mail (its last argument is the address).
	printf '#!/bin/sh\ncat >/dev/null\n' >"$mods/mailer"
	chmod 755 "$mods/mailer"
	nntp_up -o "moderators_file=$mods/moderators" -o "mailer=$mods/mailer"
	nntpctl_run newgroup local.orphan m "No moderator" >/dev/null
	run posts <<'EOF2'
post("m@example.com", "local.mod", "m1@example.com")
post("m@example.com", "local.orphan", "m2@example.com")
EOF2
	[ "$output" = "m1@example.com 240
m2@example.com 441" ]
	run report
	has '^Articles: 0 accepted \(0 posted, 0 fed\), 1 refused, 0 deferred, 1 sent to moderators$'
	[ "$(rows 'Refused by reason')" = "groups=1 " ]
	[ "$(rows 'Accepted per group')" = "" ]
}
