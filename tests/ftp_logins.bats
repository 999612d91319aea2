#!/usr/bin/env bats
# ftpd logins and rights: anonymous, a local user through PAM (pam_unix),
# a virtual user through pam_userdb mapped to guest_username, the chroot
# rules, the deny list, failed logins, and what anonymous may write.

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	# a chroot root the user cannot write, with a writable subdir
	load lib/common
	pam_user_add ftpd
	mkdir -p "$THOME/files"
	chown "$TUSER:" "$THOME/files"
	echo "home file" >"$THOME/home.txt"
	pam_userdb_add ftpd-virt virt virtpass other otherpass
}

teardown_file() {
	load lib/common
	pam_userdb_remove
	pam_user_remove
}

setup() {
	load lib/common
	load lib/ftp
	is_root || skip "login tests need root (PAM, users, chroot)"
}

teardown() {
	postel_teardown
}

# local_up [args]: a server allowing local PAM logins
local_up() {
	ftp_up -o local_enable=YES -o "pam_service_name=$PAMSVC" "$@"
}

# ---- anonymous -----------------------------------------------------------

@test "anonymous logs in as anonymous or ftp with any password, even empty" {
	ftp_up
	run ftp_session "USER anonymous" "PASS whatever@example" PWD
	[[ ${lines[2]} == 230* ]]
	[[ ${lines[3]} == '257 "/"'* ]]
	run ftp_session "USER ftp" "PASS" PWD
	[[ ${lines[2]} == 230* ]]
	run ftp_session "USER ANONYMOUS" "PASS x"
	[[ ${lines[2]} == 230* ]]
}

@test "anonymous_enable=NO refuses anonymous with 530" {
	ftp_up -o anonymous_enable=NO
	run ftp_session "USER anonymous" "PASS x" PWD
	has '^530 '
	hasnt '^230 '
	hasnt '^257 '
}

@test "anonymous sessions run as ftp_username, chrooted to anon_root" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES
	run ftp_py '
f = anon()
f.storbinary("STOR incoming/who", io.BytesIO(b"x"))
print(f.pwd())'
	[ "$(stat -c %U "$ANON/incoming/who")" = "$FTPD_USER" ]
	[ "$(stat -c %a "$ANON/incoming/who")" = 600 ]
}

# ---- local users through PAM ------------------------------------------------

@test "a local user logs in through PAM and is chrooted to the home (PWD is /)" {
	local_up
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD "CWD /.." PWD "SIZE /home.txt"
	[[ ${lines[2]} == 230* ]]
	[[ ${lines[3]} == '257 "/"'* ]]
	[[ ${lines[5]} == '257 "/"'* ]]
	[ "${lines[6]}" = "213 10" ]
}

@test "a local user without chroot starts in the home directory" {
	local_up -o chroot_local_user=NO
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[2]} == 230* ]]
	[[ ${lines[3]} == "257 \"$THOME\""* ]]
}

@test "local_root sets the directory a local user is chrooted to" {
	local r
	postel_tmpdir r
	echo "in local root" >"$r/lr.txt"
	local_up -o "local_root=$r"
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD "SIZE /lr.txt" "SIZE /home.txt"
	[[ ${lines[2]} == 230* ]]
	[[ ${lines[3]} == '257 "/"'* ]]
	[ "${lines[4]}" = "213 14" ]
	[[ ${lines[5]} == 550* ]]
}

@test "a local user uploads with write_enable as themself, with local_umask" {
	local_up -o write_enable=YES
	run ftp_py '
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
print(f.storbinary("STOR files/up.bin", open(ARGS[2], "rb")))
print(f.rename("files/up.bin", "files/up2.bin"))
' "$TUSER" "$TPASS" "$ANON/pub/bytes256.bin"
	[ "$status" -eq 0 ]
	[ "$(sha "$THOME/files/up2.bin")" = "$(sha "$ANON/pub/bytes256.bin")" ]
	[ "$(stat -c %U "$THOME/files/up2.bin")" = "$TUSER" ]
	[ "$(stat -c %a "$THOME/files/up2.bin")" = 644 ]
	rm -f "$THOME/files/up2.bin"
}

@test "a local user without write_enable cannot upload (550)" {
	local_up -o write_enable=NO
	run ftp_py '
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
try:
    f.storbinary("STOR files/no.bin", io.BytesIO(b"x"))
except ftplib.error_perm as e:
    print("ERR", e)' "$TUSER" "$TPASS"
	has '^ERR 55[03]'
	[ ! -e "$THOME/files/no.bin" ]
}

@test "a chroot root writable by the user is refused with a clear message" {
	local w
	postel_tmpdir w
	chown "$TUSER:" "$w"
	local_up -o "local_root=$w"
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[2]} =~ ^(500|530|553) ]]
	has 'writable root inside chroot|allow_writeable_chroot'
	hasnt '^230 '
}

@test "allow_writeable_chroot=YES accepts a chroot root writable by the user" {
	local w
	postel_tmpdir w
	chown "$TUSER:" "$w"
	echo here >"$w/in-root.txt"
	local_up -o "local_root=$w" -o allow_writeable_chroot=YES
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD "SIZE in-root.txt"
	[[ ${lines[2]} == 230* ]]
	[[ ${lines[3]} == '257 "/"'* ]]
	[ "${lines[4]}" = "213 5" ]
}

@test "a wrong password is 530 and a later right one logs in" {
	local_up
	run ftp_session "USER $TUSER" "PASS wrong" PWD "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[2]} == 530* ]]
	[[ ${lines[3]} == 530* ]]
	[[ ${lines[5]} == 230* ]]
	[[ ${lines[6]} == '257 "/"'* ]]
}

@test "an unknown user is 530, asked for a password like a known one" {
	local_up
	run ftp_session "USER no-such-user-$$" "PASS x"
	[[ ${lines[1]} == 331* ]]
	[[ ${lines[2]} == 530* ]]
}

@test "local_enable=NO refuses a local user with a right password" {
	ftp_up -o "pam_service_name=$PAMSVC"
	run ftp_session "USER $TUSER" "PASS $TPASS"
	has '^530 '
	hasnt '^230 '
}

@test "userlist_enable: userlist_file denies the users it lists, even with the right password" {
	local l
	postel_tmpdir l
	printf '# denied\n%s\n' "$TUSER" >"$l/deny"
	local_up -o userlist_enable=YES -o "userlist_file=$l/deny"
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	has '^530 '
	hasnt '^230 '
	hasnt '^257 '
}

@test "a user not in userlist_file still logs in" {
	local l
	postel_tmpdir l
	printf 'someone-else\n' >"$l/deny"
	local_up -o userlist_enable=YES -o "userlist_file=$l/deny"
	run ftp_session "USER $TUSER" "PASS $TPASS"
	[[ ${lines[2]} == 230* ]]
}

@test "max_login_fails failed logins close the session" {
	local_up -o max_login_fails=2
	run pyraw_login_fails
	has '^R1 530'
	has '^CLOSED after 2$'
}

pyraw_login_fails() {
	timeout 30 python3 - "$FTPD_PORT" "$TUSER" <<'EOF'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
r = c.makefile("rb")
r.readline()
for i in range(1, 6):
    try:
        c.sendall(("USER %s\r\n" % sys.argv[2]).encode()); l1 = r.readline()
        if not l1: raise EOFError
        c.sendall(b"PASS wrong\r\n"); l2 = r.readline()
        if not l2: raise EOFError
        print("R%d %s" % (i, l2.decode().strip()))
        if l2.startswith(b"421"):
            raise EOFError
    except (EOFError, OSError):
        print("CLOSED after %d" % (i - 1 if not l2 or not l2.startswith(b"421") else i))
        break
EOF
}

# ---- virtual users through pam_userdb ---------------------------------------

@test "a virtual user logs in through pam_userdb and runs as guest_username" {
	local g
	postel_tmpdir g
	mkdir "$g/drop"
	chown "$TUSER:" "$g/drop"
	ftp_up -o guest_enable=YES -o "guest_username=$TUSER" -o "pam_service_name=$VPAMSVC" \
		-o "local_root=$g" -o write_enable=YES -o virtual_use_local_privs=YES
	run ftp_py '
f = ftplib.FTP(timeout=30); f.connect(H, P)
print(f.login("virt", "virtpass"))
print("PWD", f.pwd())
print(f.storbinary("STOR drop/v.bin", io.BytesIO(bytes(range(256)))))'
	[ "$status" -eq 0 ]
	has '^230'
	has '^PWD /$'
	[ "$(stat -c %U "$g/drop/v.bin")" = "$TUSER" ]
	[ "$(sha "$g/drop/v.bin")" = "$(sha "$ANON/pub/bytes256.bin")" ]
}

@test "a virtual user with a wrong password, or a system user, is refused by pam_userdb" {
	local g
	postel_tmpdir g
	ftp_up -o guest_enable=YES -o "guest_username=$TUSER" -o "pam_service_name=$VPAMSVC" \
		-o "local_root=$g"
	run ftp_session "USER virt" "PASS nope" "USER $TUSER" "PASS $TPASS" "USER other" "PASS otherpass"
	[[ ${lines[2]} == 530* ]]
	[[ ${lines[4]} == 530* ]]
	[[ ${lines[6]} == 230* ]]
}

# ---- what anonymous may write ------------------------------------------------

anon_try() { # anon_try CMD...: each raw command after an anonymous login
	ftp_session "USER anonymous" "PASS x" "$@"
}

drop_up() {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_mkdir_write_enable=YES "$@"
}

@test "anonymous cannot upload or make directories outside the drop" {
	drop_up
	run ftp_py '
f = anon()
for cmd in ("STOR pub/evil", "STOR evil", "APPE pub/hello.txt", "STOU"):
    try:
        f.storbinary(cmd, io.BytesIO(b"x")); print("OK", cmd)
    except ftplib.error_perm as e:
        print("ERR", e)
for d in ("pub/evil", "evil"):
    try:
        f.mkd(d); print("OK MKD", d)
    except ftplib.error_perm as e:
        print("ERR", e)'
	hasnt '^OK'
	[ "$(grep -Ec '^ERR 55[0-3]' <<<"$output")" -eq 6 ]
	[ ! -e "$ANON/pub/evil" ]
	[ ! -e "$ANON/evil" ]
	[ "$(cat "$ANON/pub/hello.txt")" = "Hello from Postel." ]
}

@test "anonymous uploads to the drop and makes a directory there" {
	drop_up
	run ftp_py '
f = anon()
print(f.storbinary("STOR incoming/new.bin", io.BytesIO(bytes(range(256)))))
print(f.mkd("incoming/dir"))'
	has '^226'
	[ "$(sha "$ANON/incoming/new.bin")" = "$(sha "$ANON/pub/bytes256.bin")" ]
	[ -d "$ANON/incoming/dir" ]
}

@test "anonymous cannot overwrite or append to an existing file (550/553)" {
	drop_up
	printf 'original' >"$ANON/incoming/exists"
	chown "$FTPD_USER" "$ANON/incoming/exists"
	run ftp_py '
f = anon()
for cmd in ("STOR incoming/exists", "APPE incoming/exists"):
    try:
        f.storbinary(cmd, io.BytesIO(b"clobber")); print("OK", cmd)
    except ftplib.error_perm as e:
        print("ERR", e)
try:
    f.storbinary("STOR incoming/exists", io.BytesIO(b"clobber"), rest=3); print("OK REST")
except ftplib.error_perm as e:
    print("ERR", e)'
	hasnt '^OK'
	[ "$(grep -Ec '^ERR 55[03]' <<<"$output")" -eq 3 ]
	[ "$(cat "$ANON/incoming/exists")" = original ]
}

@test "anonymous cannot fetch back its own upload (umask 077, world-readable only)" {
	drop_up
	run ftp_py '
f = anon()
f.storbinary("STOR incoming/mine", io.BytesIO(b"secret"))
try:
    f.retrbinary("RETR incoming/mine", print); print("OK")
except ftplib.error_perm as e:
    print("ERR", e)'
	has '^ERR 550'
	hasnt '^OK'
	[ "$(stat -c %a "$ANON/incoming/mine")" = 600 ]
}

@test "anon_world_readable_only keeps anonymous from files not world-readable" {
	drop_up
	echo private >"$ANON/pub/private"
	chown "$FTPD_USER" "$ANON/pub/private"
	chmod 640 "$ANON/pub/private"
	run anon_try "SIZE pub/hello.txt" "EPSV" "RETR pub/private"
	[[ ${lines[5]} == 550* ]]
}

@test "anonymous cannot delete, rename or remove directories without anon_other_write_enable" {
	drop_up
	echo x >"$ANON/incoming/f"
	mkdir "$ANON/incoming/d"
	chown "$FTPD_USER" "$ANON/incoming/f" "$ANON/incoming/d"
	run anon_try "DELE incoming/f" "RNFR incoming/f" "RNTO incoming/g" "RMD incoming/d" "DELE pub/hello.txt" "SITE CHMOD 666 incoming/f"
	[[ ${lines[3]} == 550* ]]
	[[ ${lines[4]} =~ ^(550|350) ]]
	[[ ${lines[5]} =~ ^(550|553|503) ]]
	[[ ${lines[6]} == 550* ]]
	[[ ${lines[7]} == 550* ]]
	[[ ${lines[8]} == 550* ]]
	[ -f "$ANON/incoming/f" ]
	[ -d "$ANON/incoming/d" ]
	[ ! -e "$ANON/incoming/g" ]
	[ -f "$ANON/pub/hello.txt" ]
}

@test "anon_other_write_enable=YES lets anonymous delete and rename in the drop" {
	drop_up -o anon_other_write_enable=YES
	echo x >"$ANON/incoming/f"
	mkdir "$ANON/incoming/d"
	chown "$FTPD_USER" "$ANON/incoming/f" "$ANON/incoming/d"
	run anon_try "RNFR incoming/f" "RNTO incoming/g" "DELE incoming/g" "RMD incoming/d"
	[[ ${lines[3]} == 350* ]]
	[[ ${lines[4]} == 250* ]]
	[[ ${lines[5]} == 250* ]]
	[[ ${lines[6]} == 250* ]]
	[ ! -e "$ANON/incoming/f" ]
	[ ! -e "$ANON/incoming/g" ]
	[ ! -e "$ANON/incoming/d" ]
}

@test "anon_upload_enable=NO refuses anonymous uploads even with write_enable" {
	ftp_up -o write_enable=YES
	run anon_try "EPSV" "STOR incoming/x" "MKD incoming/d"
	[[ ${lines[4]} == 550* ]]
	[[ ${lines[5]} == 550* ]]
	[ ! -e "$ANON/incoming/x" ]
	[ ! -e "$ANON/incoming/d" ]
}

@test "write_enable=NO refuses every write even with anon_upload_enable" {
	ftp_up -o anon_upload_enable=YES -o anon_mkdir_write_enable=YES
	run anon_try "EPSV" "STOR incoming/x" "MKD incoming/d"
	[[ ${lines[4]} =~ ^55[03] ]]
	[[ ${lines[5]} =~ ^55[03] ]]
	[ ! -e "$ANON/incoming/x" ]
	[ ! -e "$ANON/incoming/d" ]
}

@test "anon_mkdir_write_enable=NO refuses MKD but allows uploads" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES
	run anon_try "MKD incoming/d"
	[[ ${lines[3]} == 550* ]]
	[ ! -e "$ANON/incoming/d" ]
}

@test "chown_uploads gives anonymous uploads to chown_username" {
	drop_up -o chown_uploads=YES -o "chown_username=$TUSER"
	run ftp_py '
f = anon()
print(f.storbinary("STOR incoming/given", io.BytesIO(b"gift")))'
	has '^226'
	[ "$(stat -c %U "$ANON/incoming/given")" = "$TUSER" ]
	[ "$(cat "$ANON/incoming/given")" = gift ]
}

@test "anon_world_readable_only=NO lets anonymous fetch its own upload" {
	drop_up -o anon_world_readable_only=NO
	run ftp_py '
f = anon()
f.storbinary("STOR incoming/mine", io.BytesIO(b"secret"))
b = io.BytesIO(); f.retrbinary("RETR incoming/mine", b.write); print("GOT", b.getvalue())'
	has "^GOT b'secret'$"
}
