#!/usr/bin/env bats
# Moderation by mail (issue 15): an unapproved post to a moderated (m)
# group goes to the moderator named by moderators_file (INN's format),
# through the mailer command, here Debian's exim4 delivering to a local
# user's mailbox; the poster gets 240 saying so and nothing is filed. The
# moderator's approved repost appears in the group. No moderator known,
# an unusable line, a failing or hanging mailer: 441 with the reason and
# the writer goes on. LIST MODERATORS shows the file.
#
# The posters are 127.0.0.1 (read,post); the moderator posts from
# 127.0.0.2, whose access rule has the moderate right.

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	load lib/common
	# The moderator: a local user whose mailbox is /var/mail/$TUSER.
	pam_user_add mod
}

teardown_file() {
	load lib/common
	pam_user_remove
	[ -z "${TUSER:-}" ] || rm -f "/var/mail/$TUSER"
}

setup() {
	load lib/common
	load lib/nntp
	[ -n "${TUSER:-}" ] || skip "mail to a local user needs root (useradd)"
	[ -x /usr/sbin/sendmail ] || skip "no /usr/sbin/sendmail (exim4-daemon-light)"
	TAG=m$$-$BATS_TEST_NUMBER
	# The mailer runs as the writer's user: what it reads and runs is
	# in a directory that user can reach.
	MDIR=$(mktemp -d /tmp/postel-mod.XXXXXX)
	chmod 755 "$MDIR"
	MODS=$MDIR/moderators
	printf '%s\n' '# who moderates what' '' "local.mod:$TUSER@localhost" \
		'local.broken:-oQ/tmp/x' '*.fanclub:%s@localhost' >"$MODS"
	chmod 644 "$MODS"
}

teardown() {
	[ -z "${MDIR:-}" ] || rm -rf "$MDIR"
	postel_teardown
}

# mod_up [args]: nntpd with the moderators file, posters without the
# moderate right and the moderator's address with it; local.orphan and
# local.broken are moderated too.
mod_up() {
	nntp_up -o "moderators_file=$MODS" -o 'access=127.0.0.0/8 read,post *' \
		-o 'access=127.0.0.2/32 read,post,moderate *' "$@" || return 1
	nntpctl_run newgroup local.orphan m "No moderator" >/dev/null
	nntpctl_run newgroup local.broken m "Bad line" >/dev/null
}

# modpy SCRIPT [args]: Python with post(group, mid, src="127.0.0.1",
# extra="") -> the POST's final reply, and stat(mid) -> STAT's reply.
modpy() {
	local script=$1
	shift
	timeout 120 python3 -W ignore - "${NNTPD_PORT:?}" "$@" <<EOF
import nntplib, socket, sys
P = int(sys.argv[1]); ARGS = sys.argv[2:]
class Src(nntplib.NNTP):
    def __init__(self, src):
        self.src = src
        super().__init__("127.0.0.1", P, readermode=False, timeout=60)
    def _create_socket(self, timeout):
        return socket.create_connection(("127.0.0.1", P), timeout, source_address=(self.src, 0))
def post_raw(text, src="127.0.0.1"):
    c = Src(src)
    try:
        return c.post(text.encode()).strip()
    except nntplib.NNTPError as e:
        return str(e)
    finally:
        c.quit()
def post(group, mid, src="127.0.0.1", extra=""):
    return post_raw("From: Poster <poster@example.com>\r\nNewsgroups: %s\r\n"
                    "Subject: for the moderator\r\nMessage-ID: <%s>\r\n%s\r\n"
                    "Body line of %s.\r\n" % (group, mid, extra, mid), src)
def stat(mid):
    c = Src("127.0.0.1")
    try:
        return c.stat("<%s>" % mid)[0]
    except nntplib.NNTPError as e:
        return str(e)
    finally:
        c.quit()
$script
EOF
}

# wait_mail MID: until the moderator's mailbox holds MID (20 s at most).
wait_mail() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qF "<$1>" "/var/mail/$TUSER" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# no mail with <$1>; exim says:" >&3
	tail -n 5 /var/log/exim4/mainlog 2>/dev/null | sed 's/^/#   /' >&3
	return 1
}

@test "an unapproved post to a moderated group is mailed to its moderator: 240 saying so, nothing filed" {
	mod_up
	run modpy 'print(post("local.mod", ARGS[0])); print(stat(ARGS[0]))' "a.$TAG@t.example"
	echo "$output"
	[[ ${lines[0]} == "240 Article <a.$TAG@t.example> sent to the moderator of local.mod" ]]
	[[ ${lines[1]} == 430* ]]
	wait_mail "a.$TAG@t.example"
	# the mail: To: the moderator, the post as it would be filed
	run python3 - "/var/mail/$TUSER" "a.$TAG@t.example" <<'EOF'
import mailbox, sys
for m in mailbox.mbox(sys.argv[1]):
    if m["Message-ID"] == "<%s>" % sys.argv[2]:
        for h in ("To", "Newsgroups", "Subject", "Path", "Injection-Info"):
            print("%s: %s" % (h, m[h]))
        print("body:", m.get_payload().strip())
EOF
	echo "$output"
	[ "${lines[0]}" = "To: $TUSER@localhost" ]
	[ "${lines[1]}" = "Newsgroups: local.mod" ]
	[ "${lines[2]}" = "Subject: for the moderator" ]
	[ "${lines[3]}" = "Path: test.postel.invalid!.POSTED!not-for-mail" ]
	[[ ${lines[4]} == 'Injection-Info: test.postel.invalid; posting-host="127.0.0.1"' ]]
	[ "${lines[5]}" = "body: Body line of a.$TAG@t.example." ]
	run nntp_session "GROUP local.mod" QUIT
	[[ ${lines[1]} == "211 0 "* ]]
}

@test "the moderator's approved repost of the mailed article appears in the group" {
	mod_up
	run modpy 'print(post("local.mod", ARGS[0]))' "r.$TAG@t.example"
	[[ $output == "240 "*"sent to the moderator"* ]]
	wait_mail "r.$TAG@t.example"
	# The moderator takes the mail, drops what mail and injection added,
	# adds Approved and posts it from the moderator's address.
	run modpy '
import mailbox
m = [m for m in mailbox.mbox("/var/mail/" + ARGS[1]) if m["Message-ID"] == "<%s>" % ARGS[0]][0]
drop = {"to", "path", "injection-info", "injection-date", "return-path", "envelope-to",
        "delivery-date", "received"}
hdrs = "".join("%s: %s\r\n" % (k, v) for k, v in m.items() if k.lower() not in drop)
text = hdrs + "Approved: %s@localhost\r\n\r\n" % ARGS[1] + m.get_payload().replace("\n", "\r\n")
print(post_raw(text, "127.0.0.2"))
print(stat(ARGS[0]))
' "r.$TAG@t.example" "$TUSER"
	echo "$output"
	[[ ${lines[0]} == "240 "* ]]
	[[ ${lines[0]} != *moderator* ]]
	[[ ${lines[1]} == 223* ]]
	run nntp_session "GROUP local.mod" "ARTICLE 1" QUIT
	echo "$output"
	[[ ${lines[1]} == "211 1 1 1 local.mod" ]]
	grep -qx "Message-ID: <r.$TAG@t.example>" <<<"$output"
	grep -qx "Approved: $TUSER@localhost" <<<"$output"
	grep -qx "Body line of r.$TAG@t.example." <<<"$output"
}

@test "no moderator known is 441 saying so; an unusable line is 441 with the reason; nothing filed" {
	mod_up
	run modpy '
print(post("local.orphan", "o." + ARGS[0]))
print(post("local.broken", "b." + ARGS[0]))
print(stat("o." + ARGS[0])); print(stat("b." + ARGS[0]))
print(post("local.test", "t." + ARGS[0]))
' "$TAG@t.example"
	echo "$output"
	[ "${lines[0]}" = "441 Moderated group local.orphan: no moderator is known for it, so the article needs an Approved header" ]
	[ "${lines[1]}" = "441 Moderated group local.broken: the moderator could not be mailed (the moderators file's line for it is unusable); try again later" ]
	[[ ${lines[2]} == 430* ]]
	[[ ${lines[3]} == 430* ]]
	[[ ${lines[4]} == 240* ]]
	has -f "$NNTPD_LOG" "the line for local.broken has an empty, overlong or '-' address"
}

@test "a mailer that fails is 441 with its status; one that hangs is killed at mailer_timeout and the writer goes on" {
	printf '#!/bin/sh\ncat >/dev/null\nexit 3\n' >"$MDIR/fail"
	printf '#!/bin/sh\necho $$ >>"%s/hang.pids"\nexec sleep 60\n' "$MDIR" >"$MDIR/hang"
	chmod 755 "$MDIR/fail" "$MDIR/hang"
	chmod 777 "$MDIR"
	mod_up -o "mailer=$MDIR/fail -x"
	run modpy 'print(post("local.mod", ARGS[0]))' "f.$TAG@t.example"
	echo "$output"
	[ "$output" = "441 Moderated group local.mod: the moderator could not be mailed ($MDIR/fail -x exited with status 3); try again later" ]
	postel_teardown
	mod_up -o "mailer=$MDIR/hang" -o mailer_timeout=1
	run modpy '
print(post("local.mod", "h." + ARGS[0]))
print(post("local.test", "t." + ARGS[0]))
print(post("local.mod", "h2." + ARGS[0]))
' "$TAG@t.example"
	echo "$output"
	[ "${lines[0]}" = "441 Moderated group local.mod: the moderator could not be mailed ($MDIR/hang took more than 1 s and was killed); try again later" ]
	[[ ${lines[1]} == 240* ]]
	[[ ${lines[2]} == "441 "*"took more than 1 s"* ]]
	# both hung commands ran and are gone, not left behind
	run cat "$MDIR/hang.pids"
	[ "${#lines[@]}" -eq 2 ]
	for pid in "${lines[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			echo "hung mailer $pid still runs"
			false
		fi
	done
}

@test "LIST MODERATORS shows the moderators file without comments or blank lines; 503 without one" {
	mod_up
	run nntp_session "LIST MODERATORS" QUIT
	echo "$output"
	[ "${lines[1]}" = '215 Newsgroup moderators in form "group:submission address"' ]
	[ "${lines[2]}" = "local.mod:$TUSER@localhost" ]
	[ "${lines[3]}" = "local.broken:-oQ/tmp/x" ]
	[ "${lines[4]}" = "*.fanclub:%s@localhost" ]
	[ "${lines[5]}" = "." ]
	postel_teardown
	nntp_up -o "moderators_file=$MDIR/none"
	run nntp_session "LIST MODERATORS" "CAPABILITIES" QUIT
	echo "$output"
	[ "${lines[1]}" = "503 No MODERATORS available" ]
	grep -q '^LIST .* MODERATORS ' <<<"$output"
}

@test "a moderators line with %s names the group with each dot made a dash, the address the mailer's last argument" {
	# a mailer that keeps its arguments and its input
	printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/args"\ncat >"%s/mail"\n' \
		"$MDIR" "$MDIR" >"$MDIR/rec"
	chmod 755 "$MDIR/rec"
	chmod 777 "$MDIR"
	mod_up -o "mailer=$MDIR/rec -oi -oem"
	nntpctl_run newgroup local.fanclub m "Fans" >/dev/null
	run modpy 'print(post("local.fanclub", ARGS[0]))' "p.$TAG@t.example"
	echo "$output"
	[ "$output" = "240 Article <p.$TAG@t.example> sent to the moderator of local.fanclub" ]
	run cat "$MDIR/args"
	echo "$output"
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = -oi ]
	[ "${lines[1]}" = -oem ]
	[ "${lines[2]}" = local-fanclub@localhost ]
	run head -n 1 "$MDIR/mail"
	[ "$output" = "To: local-fanclub@localhost" ]
	# LF line ends for sendmail, not CR LF
	run grep -c $'\r' "$MDIR/mail"
	[ "$output" = 0 ]
}
