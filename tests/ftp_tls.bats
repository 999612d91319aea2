#!/usr/bin/env bats
# ftpd FTPS (RFC 4217, RFC 2228): explicit AUTH TLS and implicit TLS with
# curl, lftp and Python ftplib; PBSZ/PROT/CCC; the data channel must resume
# the control channel's TLS session (require_ssl_reuse); no plaintext command
# injection after AUTH TLS; ALPN; local users must encrypt; an upload whose
# TLS stream ends without close_notify is logged incomplete.

setup_file() {
	CERT_DIR=$(mktemp -d /tmp/postel-cert.XXXXXX)
	chmod 755 "$CERT_DIR"
	"$BATS_TEST_DIRNAME/../scripts/mkcert" "$CERT_DIR"
	head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$CERT_DIR/rand.bin"
	chmod 644 "$CERT_DIR/rand.bin"
	export CERT_DIR
	[ "$(id -u)" -eq 0 ] || return 0
	# a local user for the force_local_*_ssl tests (as in ftp_logins.bats)
	load lib/common
	pam_user_add ftps
	mkdir -p "$THOME/files"
	chown "$TUSER:" "$THOME/files"
	echo "home file" >"$THOME/home.txt"
}

teardown_file() {
	[ -n "${CERT_DIR:-}" ] && rm -rf "$CERT_DIR"
	load lib/common
	pam_user_remove
}

setup() {
	load lib/common
	load lib/ftp
	postel_tmpdir WORK
}

teardown() {
	postel_teardown
}

# tls_up [args]: TLS server, anonymous TLS allowed, anonymous uploads kept
# world-readable (so they can be compared), rand.bin in pub/.
tls_up() {
	ftp_up -o ssl_enable=YES -o "ssl_cert_file=$CERT_DIR/cert.pem" \
		-o "ssl_key_file=$CERT_DIR/key.pem" -o allow_anon_ssl=YES \
		-o write_enable=YES -o anon_upload_enable=YES -o anon_umask=022 "$@" || return 1
	ln "$CERT_DIR/rand.bin" "$ANON/pub/rand.bin" 2>/dev/null || cp "$CERT_DIR/rand.bin" "$ANON/pub/rand.bin"
	URL=ftp://127.0.0.1:$FTPD_PORT
}

# local_tls_up [args]: tls_up plus local PAM logins.
local_tls_up() {
	is_root || skip "local users need root (PAM, useradd, chroot)"
	tls_up -o local_enable=YES -o "pam_service_name=$PAMSVC" "$@"
}

CURL=(curl -sS --max-time 60 -k)

# tls_py SCRIPT [args]: Python with ftplib, ssl, ftpraw and ftptls imported;
# H, P are the server, ARGS the rest. No $ in SCRIPT (unquoted heredoc).
tls_py() {
	local script=$1
	shift
	PYTHONPATH=$POSTEL_ROOT/tests/lib timeout "${FTP_PY_TIMEOUT:-120}" \
		python3 - 127.0.0.1 "${FTPD_PORT:?}" "$@" <<EOF
import ftplib, hashlib, io, os, re, socket, ssl, sys, time
from ftpraw import Ctl, read_all
from ftptls import ctx, ReuseFTP_TLS, TlsCtl, read_tls_all
H, P = sys.argv[1], int(sys.argv[2])
ARGS = sys.argv[3:]
def h(b): return hashlib.sha256(b).hexdigest()
$script
EOF
}

# ---- curl ----------------------------------------------------------------------

@test "curl --ssl-reqd (explicit AUTH TLS) lists, gets and puts intact" {
	tls_up
	run "${CURL[@]}" --ssl-reqd "$URL/pub/"
	[ "$status" -eq 0 ]
	has ' rand\.bin$'
	"${CURL[@]}" --ssl-reqd -o "$WORK/r" "$URL/pub/rand.bin"
	[ "$(sha "$WORK/r")" = "$(sha "$CERT_DIR/rand.bin")" ]
	"${CURL[@]}" --ssl-reqd -T "$CERT_DIR/rand.bin" "$URL/incoming/up.bin"
	[ "$(sha "$ANON/incoming/up.bin")" = "$(sha "$CERT_DIR/rand.bin")" ]
	grep -Eq ' /pub/rand\.bin b _ o a .* c$' "$FTPD_DIR/xferlog"
	grep -Eq ' /incoming/up\.bin b _ i a ' "$FTPD_DIR/xferlog"
}

@test "curl --ssl-reqd really encrypts: the control channel carries no USER in clear" {
	tls_up
	run "${CURL[@]}" --ssl-reqd -v "$URL/pub/hello.txt"
	[ "$status" -eq 0 ]
	has '^< 234 '
	has '^Hello from Postel\.$'
	# curl's -v trace shows the command order: AUTH before USER
	local auth user
	auth=$(grep -n '^> AUTH' <<<"$output" | head -1 | cut -d: -f1)
	user=$(grep -n '^> USER' <<<"$output" | head -1 | cut -d: -f1)
	[ -n "$auth" ]
	[ -n "$user" ]
	[ "$auth" -lt "$user" ]
}

@test "curl ftps:// (implicit TLS on implicit_ssl_port) lists, gets and puts intact" {
	local iport
	iport=$(free_port)
	tls_up -o implicit_ssl=YES -o "implicit_ssl_port=$iport"
	wait_listening "$iport" "$FTPD_PID"
	run "${CURL[@]}" "ftps://127.0.0.1:$iport/pub/"
	[ "$status" -eq 0 ]
	has ' rand\.bin$'
	"${CURL[@]}" -o "$WORK/r" "ftps://127.0.0.1:$iport/pub/rand.bin"
	[ "$(sha "$WORK/r")" = "$(sha "$CERT_DIR/rand.bin")" ]
	"${CURL[@]}" -T "$CERT_DIR/rand.bin" "ftps://127.0.0.1:$iport/incoming/imp.bin"
	[ "$(sha "$ANON/incoming/imp.bin")" = "$(sha "$CERT_DIR/rand.bin")" ]
	# the explicit port still works beside it
	run "${CURL[@]}" --ssl-reqd "$URL/pub/hello.txt"
	[ "$output" = "Hello from Postel." ]
}

@test "the implicit TLS port speaks TLS from the first byte: no 220 in clear" {
	local iport
	iport=$(free_port)
	tls_up -o implicit_ssl=YES -o "implicit_ssl_port=$iport"
	wait_listening "$iport" "$FTPD_PID"
	run tls_py '
s = socket.create_connection((H, int(ARGS[0])), timeout=3)
try:
    print("CLEAR", s.recv(100))
except socket.timeout:
    print("SILENT")
t = ctx().wrap_socket(socket.create_connection((H, int(ARGS[0])), timeout=10))
print("TLS", t.version(), t.recv(100))' "$iport"
	has '^SILENT$|^CLEAR b..$'
	hasnt "CLEAR b'220"
	has "^TLS TLSv1\\.[23] b'220 "
}

# ---- lftp ------------------------------------------------------------------------

@test "lftp with ftp:ssl-force and ftp:ssl-protect-data gets and puts intact" {
	tls_up
	cp "$CERT_DIR/rand.bin" "$WORK/up.bin"
	# one line: lftp runs a multi-line -e before opening the URL ("Not connected")
	local set="set ftp:ssl-force yes; set ftp:ssl-protect-data yes; set ssl:verify-certificate no"
	set="$set; set net:max-retries 1; set net:timeout 10; set cmd:fail-exit yes"
	run timeout 60 lftp -u anonymous,x@ -e "$set; get pub/rand.bin -o $WORK/got.bin; put $WORK/up.bin -o incoming/lftp.bin; quit" "$URL"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(sha "$WORK/got.bin")" = "$(sha "$CERT_DIR/rand.bin")" ]
	cat "$FTPD_DIR/xferlog"
	grep -E 'transfer|TLS|data' "$FTPD_LOG" || true
	[ "$(sha "$ANON/incoming/lftp.bin")" = "$(sha "$CERT_DIR/rand.bin")" ]
	# lftp ends its TLS data stream properly: the upload is complete (c)
	grep -Eq ' /incoming/lftp\.bin b _ i a .* c$' "$FTPD_DIR/xferlog"
}

# ---- Python ftplib -----------------------------------------------------------------

@test "stock ftplib FTP_TLS prot_p gets 522 with require_ssl_reuse=YES, told what to change" {
	tls_up
	run tls_py '
f = ftplib.FTP_TLS(context=ctx(), timeout=20)
f.connect(H, P); f.login(); f.prot_p()
try:
    f.retrbinary("RETR pub/hello.txt", lambda b: print("DATA", b))
except ftplib.all_errors as e:
    print("ERR", e)
print("NOOP", f.voidcmd("NOOP"))'
	has '^ERR 522 .*resume.*TLS session.*require_ssl_reuse'
	hasnt '^DATA'
	has '^NOOP 200'
	grep -q 'c=127.0.0.1 .*data connection refused: TLS session not reused' "$FTPD_LOG"
}

@test "stock ftplib FTP_TLS prot_p works with require_ssl_reuse=NO" {
	tls_up -o require_ssl_reuse=NO
	run tls_py '
f = ftplib.FTP_TLS(context=ctx(), timeout=20)
f.connect(H, P); f.login(); f.prot_p()
b = io.BytesIO(); f.retrbinary("RETR pub/rand.bin", b.write)
print("GET", h(b.getvalue()))
print("PUT", f.storbinary("STOR incoming/py.bin", io.BytesIO(b.getvalue())))
l = []; f.retrlines("LIST pub", l.append); print("LIST", len(l))'
	has "^GET $(sha "$CERT_DIR/rand.bin")$"
	has '^PUT 226'
	has '^LIST [1-9]'
	[ "$(sha "$ANON/incoming/py.bin")" = "$(sha "$CERT_DIR/rand.bin")" ]
}

@test "an ftplib subclass resuming the control session works under TLS 1.2 and 1.3, reuse YES and NO" {
	local reuse
	for reuse in YES NO; do
		tls_up -o "require_ssl_reuse=$reuse"
		run tls_py '
for v in ("1.2", "1.3"):
    f = ReuseFTP_TLS(context=ctx(tls=v), timeout=20)
    f.connect(H, P); f.login(); f.prot_p()
    b = io.BytesIO(); f.retrbinary("RETR pub/rand.bin", b.write)
    print(v, f.sock.version(), "GET", h(b.getvalue()))
    print(v, "PUT", f.storbinary("STOR incoming/sub" + v, io.BytesIO(b.getvalue())))
    l = []; f.retrlines("LIST pub", l.append); print(v, "LIST", len(l))
    f.quit()'
		[ "$status" -eq 0 ]
		has "^1\\.2 TLSv1\\.2 GET $(sha "$CERT_DIR/rand.bin")$"
		has "^1\\.3 TLSv1\\.3 GET $(sha "$CERT_DIR/rand.bin")$"
		has '^1\.2 PUT 226'
		has '^1\.3 PUT 226'
		has '^1\.3 LIST [1-9]'
		[ "$(sha "$ANON/incoming/sub1.2")" = "$(sha "$CERT_DIR/rand.bin")" ]
		[ "$(sha "$ANON/incoming/sub1.3")" = "$(sha "$CERT_DIR/rand.bin")" ]
		postel_teardown
	done
}

@test "a data connection resuming another FTP session's TLS session is refused (522)" {
	tls_up
	run tls_py '
for v in ("1.2", "1.3"):
    a = ReuseFTP_TLS(context=ctx(tls=v), timeout=20)
    a.connect(H, P); a.login(); a.prot_p()
    a.retrbinary("RETR pub/hello.txt", lambda b: None)   # a has a session
    b = ReuseFTP_TLS(context=a.context, timeout=20)
    b.connect(H, P); b.login(); b.prot_p()
    b.steal_from = a
    try:
        b.retrbinary("RETR pub/hello.txt", lambda d: print(v, "DATA", d))
    except ftplib.all_errors as e:
        print(v, "ERR", e)
    print(v, "NOOP", b.voidcmd("NOOP"))'
	has '^1\.2 ERR 522'
	has '^1\.3 ERR 522'
	hasnt 'DATA'
	has '^1\.3 NOOP 200'
}

# ---- commands ------------------------------------------------------------------------

@test "AUTH TLS and AUTH SSL are 234; a second AUTH is 503; AUTH XYZ is 504" {
	tls_up
	run tls_py '
for mech in ("TLS", "SSL", "tls"):
    c = TlsCtl(H, P)
    c.starttls(command="AUTH " + mech)
    print(mech, "OK", c.sock.version())
    print(mech, "AGAIN", c.cmd("AUTH TLS")[0])
c = TlsCtl(H, P)
print("XYZ", c.cmd("AUTH XYZ")[0])'
	has '^TLS OK TLSv1\.[23]$'
	has '^SSL OK TLSv1\.[23]$'
	has '^tls OK'
	has '^TLS AGAIN 503$'
	has '^XYZ 504$'
}

@test "AUTH TLS without ssl_enable is 502" {
	ftp_up
	run ftp_session "AUTH TLS" "PBSZ 0"
	[[ ${lines[1]} == 502* ]]
	[[ ${lines[2]} == 503* ]]
}

@test "PBSZ and PROT before AUTH are 503; PROT before PBSZ is 503; then PBSZ 0 and PROT P/C are 200" {
	tls_up
	run tls_py '
c = TlsCtl(H, P)
print("PBSZ-clear", c.cmd("PBSZ 0")[0])
print("PROT-clear", c.cmd("PROT P")[0])
c.starttls()
print("PROT-early", c.cmd("PROT P")[0])
print("PBSZ", c.cmd("PBSZ 0")[1][0])
print("PROT-P", c.cmd("PROT P")[0])
print("PROT-C", c.cmd("PROT C")[0])
print("PROT-S", c.cmd("PROT S")[0])
print("PROT-E", c.cmd("PROT E")[0])
print("PROT-X", c.cmd("PROT X")[0])'
	has '^PBSZ-clear 503$'
	has '^PROT-clear 503$'
	has '^PROT-early 503$'
	has '^PBSZ 200 '
	has '^PROT-P 200$'
	has '^PROT-C 200$'
	has '^PROT-S 536$'
	has '^PROT-E 536$'
	has '^PROT-X 504$'
}

@test "CCC is refused with 534 and the control channel stays encrypted" {
	tls_up
	run tls_py '
c = TlsCtl(H, P)
c.starttls()
print("CCC", c.cmd("CCC")[0])
print("NOOP", c.cmd("NOOP")[0], c.sock.version())'
	has '^CCC 534$'
	has '^NOOP 200 TLSv1\.[23]$'
}

@test "AUTH TLS empties the input buffer: commands pipelined in clear never run" {
	tls_up -o anon_other_write_enable=YES
	echo victim >"$ANON/incoming/x"
	run tls_py '
# logged in in clear, then AUTH TLS with a DELE pipelined in the same packet
c = TlsCtl(H, P)
c.login()
c.sock.sendall(b"AUTH TLS\r\nDELE incoming/x\r\n")
print("AUTH", c.reply()[0])
c.upgrade(ctx())
print("NEXT", c.cmd("NOOP")[1][0])
print("SIZE", c.cmd("SIZE incoming/x")[1][0])
# before login: USER and PASS pipelined in clear do not log in
d = TlsCtl(H, P)
d.sock.sendall(b"AUTH TLS\r\nUSER anonymous\r\nPASS x\r\n")
print("AUTH2", d.reply()[0])
d.upgrade(ctx())
print("NEXT2", d.cmd("PWD")[1][0])'
	has '^AUTH 234$'
	has '^NEXT 200 '
	has '^SIZE 213 7$'
	has '^AUTH2 234$'
	has '^NEXT2 530 '
	[ -f "$ANON/incoming/x" ]
}

@test "ALPN ftp is accepted, ALPN http/1.1 is refused at the handshake" {
	tls_up
	run tls_py '
for alpn in (["ftp"], ["http/1.1"], ["h2", "http/1.1"], ["ftp", "http/1.1"]):
    c = TlsCtl(H, P)
    try:
        c.starttls(ctx(alpn=alpn))
        print(",".join(alpn), "OK", c.sock.selected_alpn_protocol(), c.cmd("NOOP")[0])
    except (ssl.SSLError, OSError, EOFError) as e:
        print(",".join(alpn), "REFUSED", type(e).__name__)'
	has '^ftp OK ftp 200$'
	has '^http/1\.1 REFUSED'
	has '^h2,http/1\.1 REFUSED'
	has '^ftp,http/1\.1 OK ftp 200$'
	grep -Eq 'c=127\.0\.0\.1 .*TLS handshake failed: no application protocol' "$FTPD_LOG"
}

@test "an HTTP request inside TLS before login also ends the session without a reply" {
	tls_up
	run tls_py '
c = TlsCtl(H, P); c.starttls()
c.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    print("GOT", c.sock.recv(100))
except (ssl.SSLError, OSError) as e:
    print("GOT error", type(e).__name__)'
	has "^GOT (b''|error)"
	grep -Eq 'c=127\.0\.0\.1 .*HTTP request' "$FTPD_LOG"
}

@test "ALPN on the implicit port: ftp accepted, http/1.1 refused" {
	local iport
	iport=$(free_port)
	tls_up -o implicit_ssl=YES -o "implicit_ssl_port=$iport"
	wait_listening "$iport" "$FTPD_PID"
	run tls_py '
for alpn in (["ftp"], ["http/1.1"]):
    try:
        t = ctx(alpn=alpn).wrap_socket(socket.create_connection((H, int(ARGS[0])), timeout=10))
        print(alpn[0], "OK", t.selected_alpn_protocol(), t.recv(4))
    except (ssl.SSLError, OSError) as e:
        print(alpn[0], "REFUSED", type(e).__name__)' "$iport"
	has "^ftp OK ftp b'220 '$"
	has '^http/1\.1 REFUSED'
}

@test "anonymous over TLS is 530 unless allow_anon_ssl=YES" {
	tls_up -o allow_anon_ssl=NO
	run tls_py '
c = TlsCtl(H, P)
c.starttls()
print("USER", c.cmd("USER anonymous")[1][0])
d = Ctl(H, P)
d.login()
print("CLEAR", d.cmd("PWD")[0])'
	has '^USER 530 Anonymous sessions may not use encryption'
	has '^CLEAR 257$'
}

@test "refused TLS logins and clear data are logged with the client address and a reason" {
	local_tls_up -o allow_anon_ssl=NO
	run tls_py '
c = TlsCtl(H, P); c.starttls()
print("ANON", c.cmd("USER anonymous")[0])
f = ReuseFTP_TLS(context=ctx(), timeout=20)
f.connect(H, P); f.login(ARGS[0], ARGS[1])
for cmd in ("PBSZ 0", "PROT C"):
    try:
        print(cmd, f.sendcmd(cmd))
    except ftplib.all_errors as e:
        print(cmd, e)
try:
    f.retrlines("LIST", print)
except ftplib.all_errors as e:
    print("LIST", e)' "$TUSER" "$TPASS"
	has '^ANON 530$'
	has '^PROT C 534 '
	has '^LIST 522 '
	echo "# log:" && cat "$FTPD_LOG"
	grep -Eq 'c=127\.0\.0\.1 .*anonymous.*(TLS|encrypt)|c=127\.0\.0\.1 .*(TLS|encrypt).*anonymous' "$FTPD_LOG"
	grep -Eq "c=127\.0\.0\.1 u=$TUSER .*PROT C" "$FTPD_LOG"
	grep -Eq "c=127\.0\.0\.1 u=$TUSER .*(clear|unencrypted|PROT P)" "$FTPD_LOG"
}

# ---- local users ---------------------------------------------------------------------

@test "a local user must AUTH TLS first: 530 in clear, logged in over TLS" {
	local_tls_up
	run tls_py '
c = Ctl(H, P)
print("CLEAR", c.cmd("USER " + ARGS[0])[1][0])
print("CLEARPASS", c.cmd("PASS " + ARGS[1])[1][0])
f = ReuseFTP_TLS(context=ctx(), timeout=20)
f.connect(H, P)
print("TLS", f.login(ARGS[0], ARGS[1]))
f.prot_p()
b = io.BytesIO(); f.retrbinary("RETR home.txt", b.write); print("GET", b.getvalue())' \
		"$TUSER" "$TPASS"
	has '^CLEAR 530 Non-anonymous sessions must use encryption'
	has '^CLEARPASS 5[03]'
	has '^TLS 230'
	has "^GET b'home file\\\\n'$"
	grep -q "c=127.0.0.1 .*refused plaintext login for $TUSER" "$FTPD_LOG"
}

@test "force_local_logins_ssl=NO lets a local user log in in clear" {
	local_tls_up -o force_local_logins_ssl=NO -o force_local_data_ssl=NO
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[2]} == 230* ]]
}

@test "force_local_data_ssl: a local user's clear data command is 522, PROT C is refused, PROT P works" {
	local_tls_up
	run tls_py '
f = ReuseFTP_TLS(context=ctx(), timeout=20)
f.connect(H, P); f.login(ARGS[0], ARGS[1])
try:
    f.retrbinary("RETR home.txt", lambda b: print("LEAK", b))
except ftplib.all_errors as e:
    print("CLEARDATA", e)
print("PBSZ", f.voidcmd("PBSZ 0"))
try:
    print("PROTC", f.voidcmd("PROT C"))
except ftplib.all_errors as e:
    print("PROTC", e)
try:
    f.retrlines("LIST", lambda l: print("LEAK", l))
except ftplib.all_errors as e:
    print("CLEARLIST", e)
f.prot_p()
b = io.BytesIO(); f.retrbinary("RETR home.txt", b.write); print("GET", b.getvalue())' \
		"$TUSER" "$TPASS"
	has '^CLEARDATA 522 '
	has '^PROTC 534 '
	has '^CLEARLIST 522 '
	hasnt '^LEAK'
	has "^GET b'home file\\\\n'$"
}

# ---- close_notify ----------------------------------------------------------------------

@test "an FTPS download ends with close_notify" {
	tls_up
	run tls_py '
c = TlsCtl(H, P)
c.starttls(); c.login()
c.cmd("PBSZ 0"); c.cmd("PROT P"); c.cmd("TYPE I")
d = c.epsv()
c.send("RETR pub/rand.bin")
print("PRE", c.reply()[0])
t = c.wrap_data(d, suppress_ragged_eofs=False)
try:
    print("DATA", h(read_tls_all(t)), "close_notify")
except ssl.SSLError as e:
    print("RAGGED", e)
print("END", c.reply()[0])'
	has '^PRE 150$'
	has "^DATA $(sha "$CERT_DIR/rand.bin") close_notify$"
	has '^END 226$'
}

@test "an FTPS upload whose TLS stream ends without close_notify is 226 incomplete, xferlog i" {
	tls_up
	run tls_py '
def upload(name, notify):
    c = TlsCtl(H, P)
    c.starttls(); c.login()
    c.cmd("PBSZ 0"); c.cmd("PROT P"); c.cmd("TYPE I")
    d = c.epsv()
    c.send("STOR incoming/" + name)
    print(name, "PRE", c.reply()[0])
    t = c.wrap_data(d)
    t.sendall(b"z" * 100000)
    if notify:
        t.unwrap().close()
    else:
        # TCP FIN, no close_notify (unwrap skipped). Not close(): unread
        # session tickets in the receive queue would make that a RST.
        t.shutdown(socket.SHUT_WR)
    print(name, "END", " ".join(c.reply()[1]))
    c.cmd("QUIT")
upload("good", True)
upload("cut", False)'
	has '^good PRE 150$'
	has '^good END 226 Transfer complete'
	has '^cut PRE 150$'
	has '^cut END 226 .*close_notify.*incomplete'
	grep -Eq ' 100000 /incoming/good b _ i a .* c$' "$FTPD_DIR/xferlog"
	grep -Eq ' 100000 /incoming/cut b _ i a .* i$' "$FTPD_DIR/xferlog"
}

@test "an FTPS upload reset by the client (RST) is 426 as in clear, not 226" {
	tls_up
	run tls_py '
import struct
for tls in (False, True):
    c = TlsCtl(H, P)
    if tls:
        c.starttls()
    c.login(); c.cmd("TYPE I")
    if tls:
        c.cmd("PBSZ 0"); c.cmd("PROT P")
    d = c.epsv()
    c.send("STOR incoming/rst%d" % tls)
    c.reply()
    t = c.wrap_data(d) if tls else d
    t.sendall(b"q" * 100000); time.sleep(0.3)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    t.close()                                  # RST: data may be lost
    print("TLS" if tls else "CLEAR", " ".join(c.reply()[1]))'
	has '^CLEAR 426 '
	has '^TLS 426 '
	grep -Eq ' /incoming/rst1 b _ i a .* i$' "$FTPD_DIR/xferlog"
}

@test "QUIT over TLS: the server answers 221 and ends the control channel with close_notify" {
	tls_up
	run tls_py '
c = TlsCtl(H, P)
c.cmd("AUTH TLS")
c.sock = ctx().wrap_socket(c.sock, suppress_ragged_eofs=False)
c.login()
print("QUIT", c.cmd("QUIT")[0])
try:
    print("REST", read_tls_all(c.sock), "close_notify")
except ssl.SSLError as e:
    print("RAGGED", e)'
	has '^QUIT 221$'
	has "^REST b'' close_notify$"
}

@test "REIN under TLS logs out and in again: data under PROT P both times, close_notify at QUIT" {
	local mode
	# anonymous only: the worker that did AUTH TLS serves the login, and at
	# REIN stays on as the relay; with local users the relay is the
	# pre-login worker's
	for mode in anon-only with-local; do
		if [ $mode = anon-only ]; then tls_up; else local_tls_up; fi
		run tls_py '
f = ReuseFTP_TLS(context=ctx(), timeout=20)
f.connect(H, P)
for n in (1, 2):
    print(n, "LOGIN", f.login()[:3]); f.prot_p()
    b = io.BytesIO(); f.retrbinary("RETR pub/rand.bin", b.write)
    print(n, "GET", h(b.getvalue()))
    if n == 1:
        print(n, "REIN", f.sendcmd("REIN")[:3])
        try:
            f.sendcmd("PWD")
        except ftplib.error_perm as e:
            print(n, "PWD", str(e)[:3])
print("QUIT", f.quit()[:3])'
		echo "$mode: $output"
		has "^1 LOGIN 230$" "^1 GET $(sha "$CERT_DIR/rand.bin")$" '^1 REIN 220$' '^1 PWD 530$' \
			"^2 LOGIN 230$" "^2 GET $(sha "$CERT_DIR/rand.bin")$" '^QUIT 221$'
		check_log "$FTPD_LOG"
		postel_teardown
	done
}

# ---- ciphers ---------------------------------------------------------------------------

@test "ssl_ciphers limits TLS 1.2 ciphers: a client offering only others is refused" {
	tls_up -o ssl_ciphers=ECDHE-RSA-AES128-GCM-SHA256
	run tls_py '
for ciphers in ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"):
    cx = ctx(tls="1.2"); cx.set_ciphers(ciphers)
    c = TlsCtl(H, P)
    try:
        c.starttls(cx)
        print(ciphers, "OK", c.sock.cipher()[0], c.cmd("NOOP")[0])
    except (ssl.SSLError, OSError, EOFError) as e:
        print(ciphers, "REFUSED", type(e).__name__)'
	has '^ECDHE-RSA-AES128-GCM-SHA256 OK ECDHE-RSA-AES128-GCM-SHA256 200$'
	has '^ECDHE-RSA-AES256-GCM-SHA384 REFUSED'
}
