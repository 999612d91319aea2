# shellcheck shell=bash
# ftp.bash: FTP-specific helpers on top of lib/common (load both: load lib/common;
# load lib/ftp). Owned by the ftpd test suite.
#
#   ftp_up [ftpd args...]   start_ftpd with a fast-failing login, then add to the
#                           anonymous root: incoming/ (owned by the session user,
#                           the upload drop) and pub/ fixtures. Exports ANON (the
#                           anon root), FTPD_USER (the session user).
#   ftp_py SCRIPT [args]    run a Python snippet with H, P (host, port) set and
#                           ftplib imported; bounded by timeout.
#   (has / hasnt are in lib/common)
#   sha FILE                sha256 of FILE.
#   check_bad LINE REGEX [ftpd args...]
#                           a file whose second line is LINE fails ftpd -t
#                           (exit 1) with "FILE:2: REGEX".

ftp_user() {
	if getent passwd ftp >/dev/null; then echo ftp; else echo nobody; fi
}

ftp_up() {
	start_ftpd -o delay_failed_login=0 "$@" || return 1
	ANON=$FTPD_DIR/anon
	FTPD_USER=$(ftp_user)
	export ANON FTPD_USER
	mkdir -p "$ANON/incoming"
	chown "$FTPD_USER" "$ANON/incoming"
	chmod 755 "$ANON/incoming"
	# every byte value once, then an empty file
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' >"$ANON/pub/bytes256.bin"
	: >"$ANON/pub/empty.bin"
	printf 'line one\nline two\nline three\n' >"$ANON/pub/lf.txt"
	chmod 644 "$ANON/pub/"*
}

ftp_py() {
	local script=$1
	shift
	timeout "${FTP_PY_TIMEOUT:-120}" python3 - "${CLIENT_HOST:-127.0.0.1}" "${FTPD_PORT:?}" "$@" <<EOF
import ftplib, hashlib, io, os, socket, sys, time
H, P = sys.argv[1], int(sys.argv[2])
ARGS = sys.argv[3:]
def anon(**kw):
    f = ftplib.FTP(timeout=30, **kw)
    f.connect(H, P)
    f.login()
    return f
$script
EOF
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# reply_to CMD: the first reply line after the line "CMD" was sent — the raw
# client does not echo commands, so callers use positional checks; this
# helper instead runs one command after an anonymous login and prints its reply.
anon_cmd() {
	ftp_session "USER anonymous" "PASS x@" "$@"
}

check_bad() {
	local line=$1 re=$2 f
	shift 2
	postel_tmpdir f
	printf '# check\n%s\n' "$line" >"$f/ftpd.conf"
	run "$POSTEL_BUILD/ftpd" -t -f "$f/ftpd.conf" "$@"
	[ "$status" -eq 1 ]
	has "^$f/ftpd\\.conf:2: $re"
}
