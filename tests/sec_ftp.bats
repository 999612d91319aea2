#!/usr/bin/env bats
# ftpd trust boundaries attacked from inside: tests/attack/ftp_rogue is a
# worker taken over by an attacker. The real monitor forks it into the real
# sandbox (its own /proc status says so, checked below), and it sends the
# monitor what no honest worker would. The monitor must refuse and end the
# session; what it answered is on the rogue's stdout, its log on stderr.

setup() {
	load lib/common
	load lib/ftp
	is_root || skip "the monitor and the sandbox need root"
	postel_tmpdir WORK
	mkdir -p "$WORK/anon" "$WORK/empty"
	chmod 755 "$WORK/anon" "$WORK/empty"
}

teardown() {
	postel_teardown
}

# rogue ATTACK [-o key=value]...: run the harness; $output is both streams.
rogue() {
	local attack=$1
	shift
	run timeout 60 "$POSTEL_BUILD/attack/ftp_rogue" "$attack" \
		-o "anon_root=$WORK/anon" -o "secure_chroot_dir=$WORK/empty" \
		-o "ftp_username=$(ftp_user)" -o anonymous_enable=YES \
		-o max_login_fails=3 -o delay_failed_login=0 -o xferlog_enable=NO "$@"
	echo "$output"
	# 124: the harness hung (the monitor kept serving the rogue)
	[ "$status" -ne 124 ]
	# The attack ran inside the boundary: unprivileged, no capabilities,
	# no new privileges, under a seccomp filter.
	has '^pre-login Uid:[[:space:]]+[1-9]' '^pre-login CapEff:[[:space:]]+0+$' \
		'^pre-login NoNewPrivs:[[:space:]]+1' '^pre-login Seccomp:[[:space:]]+2'
}

@test "a worker cannot try passwords past max_login_fails: the monitor ends the session" {
	rogue login-flood
	has 'attempt 3 \(nosuchuser\): refused \(fatal\)' \
		'monitor: login request after the last refusal'
	# the fourth attempt and the anonymous one after it are never answered
	hasnt '^attempt [4-6] \(.*\): (accepted|refused)' 'login ok' 'flood: every attempt answered'
	has 'session end: killed by signal 9'
}

@test "a worker cannot log in a name userlist_file refuses: the monitor checks it again" {
	printf 'anonymous\n' >"$WORK/userlist"
	rogue userlist -o userlist_enable=YES -o "userlist_file=$WORK/userlist"
	has '^attempt 1 \(anonymous\): refused' 'login anonymous refused: userlist'
	hasnt 'login ok'
}

@test "a logged-in worker cannot log in again as someone else" {
	rogue relogin
	has '^attempt 1 \(anonymous\): accepted' 'login ok \(anonymous\)' \
		'^post-login Seccomp:[[:space:]]+2' 'monitor: login request after a login'
	hasnt '^attempt 2 \(root\): (accepted|refused)' 'login refused for root'
}

@test "with local users too (nopriv_user's worker, then the user's), a logged-in worker cannot log in again" {
	rogue relogin -o local_enable=YES
	has '^attempt 1 \(anonymous\): accepted' 'login ok \(anonymous\)' \
		'^post-login Seccomp:[[:space:]]+2' 'monitor: login request after a login'
	hasnt '^attempt 2 \(root\): (accepted|refused)' 'login refused for root'
}

@test "a worker cannot make the monitor buffer an endless handoff" {
	rogue handoff-flood
	has '^attempt 1 \(anonymous\): accepted' 'monitor: handoff over its bound'
	hasnt 'handoff: ([1-9]|[1-9][0-9]) MiB taken' 'handoff: all 64 MiB taken'
}

@test "a logged-in worker holds no xferlog descriptor, and the monitor takes one line at a time" {
	echo "an earlier session's line" >"$WORK/xferlog"
	rogue xferlog -o xferlog_enable=YES -o "xferlog_file=$WORK/xferlog"
	has '^attempt 1 \(anonymous\): accepted' '^xferlog: not held' \
		'monitor: malformed xferlog line'
	hasnt '^xferlog: held as fd'
	has -f "$WORK/xferlog" "^an earlier session's line\$"
	hasnt -f "$WORK/xferlog" 'forged'
}

@test "a pre-login worker gets no port-20 socket (no TCP Fast Open from port 20)" {
	rogue bind-prelogin -o connect_from_port_20=YES
	has 'monitor: data port request out of state'
	hasnt '^bind: answered' 'with a descriptor'
}

@test "a logged-in worker gets only a connected port-20 socket: to the peer, never a reserved port or another host" {
	local port
	port=$(free_port)
	rogue connect-data -o connect_from_port_20=YES -o "ftp_data_port=$port"
	has '^attempt 1 \(anonymous\): accepted' '^post-login Seccomp:[[:space:]]+2'
	# what the client's PORT could not ask for, the worker cannot either;
	# refused with a reason, and the session goes on
	has '^connect 127\.0\.0\.1:25: refused \(reserved port\)' \
		'^connect 127\.0\.0\.1:2049: refused \(reserved port\)' \
		'^connect 127\.0\.0\.1:1023: refused \(reserved port\)' \
		"^connect 127\\.0\\.0\\.2:[0-9]+: refused \\(not the control connection's peer\\)"
	# the peer's own port: a socket the monitor connected, from ftp_data_port
	has '^connect 127\.0\.0\.1:[0-9]+: a socket' \
		"^  from port $port, connected to the requested target\$" \
		'^  connect other host: EISCONN' "^target: reached from port $port\$" \
		'^other host: no connection$' '^post-login worker: done'
	hasnt 'unconnected' '^other host: reached' 'ending session'
}

@test "active mode with connect_from_port_20=YES: a real client's transfers come from ftp_data_port" {
	local port
	port=$(free_port)
	ftp_up -o connect_from_port_20=YES -o "ftp_data_port=$port"
	run ftp_py '
class F(ftplib.FTP):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = super().ntransfercmd(cmd, rest)
        print("PEER", cmd.split()[0], conn.getpeername()[1])
        return conn, size
f = F(timeout=30)
f.connect(H, P)
f.login()
f.set_pasv(False)
data = []
f.retrbinary("RETR pub/bytes256.bin", data.append)
print("SHA", hashlib.sha256(b"".join(data)).hexdigest())
f.retrlines("LIST pub", lambda l: None)
# nothing listens there: the monitor cannot connect, 425, the session goes on
s = socket.socket(); s.bind((H, 0)); dead = s.getsockname()[1]; s.close()
print("PORT", f.sendcmd("PORT 127,0,0,1,%d,%d" % (dead >> 8, dead & 255))[:3])
try:
    f.sendcmd("RETR pub/bytes256.bin")
except ftplib.error_temp as e:
    print("DEAD", str(e)[:3])
print("NOOP", f.sendcmd("NOOP")[:3])
f.quit()'
	echo "$output"
	has "^PEER RETR $port\$" "^PEER LIST $port\$" \
		"^SHA $(sha "$ANON/pub/bytes256.bin")\$" '^PORT 200' '^DEAD 425' '^NOOP 200'
}

# pam_recorder: the test PAM service also runs pam_exec at session open and
# close, which appends "open_session USER" / "close_session USER" to
# $WORK/events.
pam_recorder() {
	printf '#!/bin/sh\necho "$PAM_TYPE $PAM_USER" >>%s\n' "$WORK/events" >"$WORK/record"
	chmod 755 "$WORK/record"
	printf 'session optional pam_exec.so quiet %s\n' "$WORK/record" >>"/etc/pam.d/$PAMSVC"
}

@test "a local login gets a PAM session: pam_limits applies to its worker, closed at QUIT" {
	pam_user_add ftpsess
	printf 'session required pam_limits.so conf=%s\n' "$WORK/limits.conf" >>"/etc/pam.d/$PAMSVC"
	pam_recorder
	printf '%s - msgqueue 7777\n' "$TUSER" >"$WORK/limits.conf"
	ftp_up -o local_enable=YES -o "pam_service_name=$PAMSVC"
	ftp_py '
f = ftplib.FTP(timeout=30)
f.connect(H, P)
f.login(os.environ["TUSER"], os.environ["TPASS"])
open(ARGS[0] + "/in", "w").close()
for i in range(300):
    if os.path.exists(ARGS[0] + "/go"):
        break
    time.sleep(0.1)
f.quit()
' "$WORK" >"$WORK/client.out" 2>&1 &
	client=$!
	wait_for 30 test -e "$WORK/in" || { cat "$WORK/client.out" "$FTPD_LOG"; false; }
	read -r _ wrk < <(worker_of "$FTPD_PID")
	run grep 'Max msgqueue size' "/proc/$wrk/limits"
	touch "$WORK/go"
	wait "$client"
	has ' 7777 +7777 '
	has -f "$WORK/events" "^open_session $TUSER\$"
	wait_for 10 grep -qx "close_session $TUSER" "$WORK/events"
	pam_user_remove
}

@test "session_support=NO opens no PAM session" {
	pam_user_add ftpnosess
	pam_recorder
	ftp_up -o local_enable=YES -o "pam_service_name=$PAMSVC" -o session_support=NO
	run ftp_py '
f = ftplib.FTP(timeout=30)
f.connect(H, P)
print(f.login(os.environ["TUSER"], os.environ["TPASS"]))
f.quit()
'
	pam_user_remove
	has '^230'
	hasnt -f "$WORK/events" "session"
}

@test "allow_anon_ssl=NO holds when AUTH TLS comes between USER anonymous and PASS" {
	"$POSTEL_ROOT/scripts/mkcert" "$WORK/tls"
	ftp_up -o ssl_enable=YES -o "ssl_cert_file=$WORK/tls/cert.pem" \
		-o "ssl_key_file=$WORK/tls/key.pem" -o allow_anon_ssl=NO
	run ftp_py '
import ssl
f = ftplib.FTP_TLS(timeout=30, context=ssl._create_unverified_context())
f.connect(H, P)
print("USER", f.sendcmd("USER anonymous"))
print("AUTH", f.auth())
try:
    print("PASS", f.sendcmd("PASS rogue@"))
except ftplib.error_perm as e:
    print("PASS", e)
try:
    print("PWD", f.sendcmd("PWD"))
except ftplib.error_perm as e:
    print("PWD", e)
'
	has '^USER 331' '^AUTH 234' '^PASS 530 Anonymous sessions may not use encryption' '^PWD 530'
	hasnt -f "$FTPD_LOG" 'login ok'
}

@test "anonymous SITE CHMOD never sets setuid, setgid or sticky bits" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_other_write_enable=YES
	run ftp_py '
f = anon()
f.storbinary("STOR incoming/x.sh", io.BytesIO(b"#!/bin/sh\n"))
for mode in ("4755", "2755", "1777", "6755", "0755"):
    try:
        print(mode, f.sendcmd("SITE CHMOD %s incoming/x.sh" % mode))
    except ftplib.error_perm as e:
        print(mode, e)
'
	has '^4755 550 ' '^2755 550 ' '^1777 550 ' '^6755 550 ' '^0755 200 '
	[ "$(stat -c %a "$ANON/incoming/x.sh")" = 755 ]
}

# virtual_up ARGS: virtual users (pam_userdb: virt/virtpass) mapped to
# guest_username, rooted in $WORK/v with a drop/ they own.
virtual_up() {
	pam_user_add ftpvirt
	mkdir -p "$WORK/v/drop"
	chown "$TUSER:" "$WORK/v/drop"
	printf 'virt\nvirtpass\n' >"$WORK/users.txt"
	db_load -T -t hash -f "$WORK/users.txt" "$WORK/users.db"
	printf 'auth required pam_userdb.so db=%s\naccount required pam_userdb.so db=%s\n' \
		"$WORK/users" "$WORK/users" >"/etc/pam.d/$PAMSVC"
	ftp_up -o guest_enable=YES -o "guest_username=$TUSER" -o "pam_service_name=$PAMSVC" \
		-o "local_root=$WORK/v" -o write_enable=YES -o session_support=NO "$@"
}

virtual_store() {
	run ftp_py '
f = ftplib.FTP(timeout=30)
f.connect(H, P)
print(f.login("virt", "virtpass"))
for cmd in ("STOR drop/v.bin", "MKD drop/d", "DELE drop/v.bin"):
    try:
        if cmd.startswith("STOR"):
            print(cmd, f.storbinary(cmd, io.BytesIO(b"v")))
        else:
            print(cmd, f.sendcmd(cmd))
    except ftplib.error_perm as e:
        print(cmd, e)
'
	pam_user_remove
}

@test "virtual users get anonymous rights unless virtual_use_local_privs=YES" {
	virtual_up
	virtual_store
	has '^230' '^STOR drop/v.bin 550' '^MKD drop/d 550' '^DELE drop/v.bin 550'
	[ ! -e "$WORK/v/drop/v.bin" ]
}

@test "virtual users with virtual_use_local_privs=YES get local users' rights" {
	virtual_up -o virtual_use_local_privs=YES
	virtual_store
	has '^230' '^STOR drop/v.bin 226' '^MKD drop/d 257' '^DELE drop/v.bin 250'
}

@test "virtual users with anon_upload_enable=YES upload, and nothing more" {
	virtual_up -o anon_upload_enable=YES
	virtual_store
	has '^STOR drop/v.bin 226' '^MKD drop/d 550' '^DELE drop/v.bin 550'
}

# tls_rogue ATTACK [-o key=value]...: the rogue with ssl_enable and a key.
tls_rogue() {
	local attack=$1
	shift
	"$POSTEL_ROOT/scripts/mkcert" "$WORK/tls" >/dev/null
	rogue "$attack" -o ssl_enable=YES -o allow_anon_ssl=YES \
		-o "ssl_cert_file=$WORK/tls/cert.pem" -o "ssl_key_file=$WORK/tls/key.pem" "$@"
}

@test "a clear worker gets the private key from the monitor once (AUTH TLS after login), never twice" {
	tls_rogue tls-key
	has '^post-login Seccomp:[[:space:]]+2' '^key 1: given, -----BEGIN PRIVATE KEY-----' \
		'^key 2: refused'
	hasnt '^key 2: given'
}

@test "a worker before login never gets the private key: the monitor ends the session" {
	tls_rogue tls-key-prelogin
	has 'monitor: key request before login' 'session end: killed by signal 9'
	hasnt '^key 1: (given|refused)'
}

@test "without ssl_enable the monitor has no key to give" {
	rogue tls-key
	has '^post-login Seccomp:[[:space:]]+2' '^key 1: refused' '^key 2: refused'
}

@test "a worker cannot plant a digest in the hash cache: it maps no table and its request carries none" {
	head -c 300000 /dev/urandom >"$WORK/anon/f.bin"
	chmod 644 "$WORK/anon/f.bin"
	local want
	want=$(sha256sum "$WORK/anon/f.bin" | cut -d' ' -f1)
	rogue hash
	has '^attempt 1 \(anonymous\): accepted' '^post-login Seccomp:[[:space:]]+2' \
		'^hashcache: not mapped \([1-9][0-9]* mappings read\)' "^hash 1: answered C$want\$" "^hash 2: answered H$want\$" \
		'monitor: malformed hash request'
	# the forged request is never answered, and its digest never comes back
	hasnt '^hashcache: mapped' '^hash 3: (answered|refused)' 'deadbeef$'
}
