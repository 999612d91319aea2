#!/usr/bin/env bats
# ftpd per-user rules (issue 13): virtual users through pam_userdb, each in
# a root of its own (user_sub_token) with rights from its user_config_dir
# file; chroot_list, userlist (deny and allow lists), deny_file and
# hide_file, banner_file, directory messages, port_enable/pasv_enable,
# pasv_address checks, and the 502/421 replies.

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	load lib/common
	pam_user_add users
	# ".." and "x/y" are names that could leave user_config_dir or the
	# roots if they were used as paths
	pam_userdb_add ftpd-users alice alicepw bob bobpw carol carolpw .. dotpw x/y slashpw
}

teardown_file() {
	load lib/common
	pam_userdb_remove
	pam_user_remove
}

setup() {
	load lib/common
	load lib/ftp
	is_root || skip "per-user tests need root (PAM, users, chroot)"
}

teardown() {
	postel_teardown
}

# virt_tree: VROOT/<user> roots (root-owned, an up/ the guest account
# owns) and UDIR, the user_config_dir (root only: no worker could read it).
virt_tree() {
	local u
	postel_tmpdir VROOT
	postel_tmpdir UDIR
	chmod 700 "$UDIR"
	for u in alice bob carol; do
		mkdir -p "$VROOT/$u/up"
		chown "$TUSER:" "$VROOT/$u/up"
		echo "$u" >"$VROOT/$u/$u.txt"
	done
	echo keep >"$VROOT/alice/up/keep.txt"
	echo song >"$VROOT/alice/up/song.mp3"
	chown "$TUSER:" "$VROOT/alice/up/"*
	mkdir "$VROOT/alice/.private" "$VROOT/alice/hiddendir"
	echo inside >"$VROOT/alice/.private/inside.txt"
	echo hid >"$VROOT/alice/hidden.txt"
	echo x >"$VROOT/alice/hiddendir/x.txt"
	printf 'write_enable=YES\nlocal_umask=027\ndeny_file={*.mp3,.private}\n' >"$UDIR/alice"
	printf '# bob reads only\nwrite_enable=NO\n' >"$UDIR/bob"
	chmod 600 "$UDIR/alice" "$UDIR/bob"
}

# virt_up [args]: virtual users, each chrooted to VROOT/<name>, writing
# only where their user_config_dir file says so (the default says NO).
virt_up() {
	virt_tree
	ftp_up -o guest_enable=YES -o "guest_username=$TUSER" -o "pam_service_name=$VPAMSVC" \
		-o virtual_use_local_privs=YES -o 'user_sub_token=$USER' \
		-o "local_root=$VROOT/\$USER" -o "user_config_dir=$UDIR" "$@"
}

local_up() {
	ftp_up -o local_enable=YES -o "pam_service_name=$PAMSVC" "$@"
}

# codes USER PASS SCRIPT: after a login, SCRIPT's calls of t(name, fn,
# args...) print "name CODE" (the reply code, or the error's).
codes() {
	local user=$1 pass=$2 script=$3
	ftp_py "
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
def t(name, fn, *a):
    try:
        r = fn(*a)
        print(name, str(r)[:3])
    except ftplib.all_errors as e:
        print(name, str(e)[:3])
sink = lambda b: None
$script" "$user" "$pass"
}

# ---- virtual users: roots and rights ------------------------------------------

@test "user_sub_token gives each virtual user a root of its own" {
	virt_up
	run ftp_session "USER alice" "PASS alicepw" PWD "SIZE /alice.txt" "SIZE /bob.txt" \
		"SIZE ../bob/bob.txt"
	[[ ${lines[2]} == 230* ]]
	[[ ${lines[3]} == '257 "/"'* ]]
	[ "${lines[4]}" = "213 6" ]
	[[ ${lines[5]} == 550* ]]
	[[ ${lines[6]} == 550* ]]
	run ftp_session "USER bob" "PASS bobpw" "SIZE /bob.txt" "SIZE /alice.txt"
	[[ ${lines[2]} == 230* ]]
	[ "${lines[3]}" = "213 4" ]
	[[ ${lines[4]} == 550* ]]
}

@test "user_config_dir files give virtual users different rights and umasks" {
	virt_up
	run codes alice alicepw 't("STOR", f.storbinary, "STOR up/a.bin", io.BytesIO(b"alice"))'
	has '^STOR 226$'
	[ "$(cat "$VROOT/alice/up/a.bin")" = alice ]
	[ "$(stat -c %a "$VROOT/alice/up/a.bin")" = 640 ]
	[ "$(stat -c %U "$VROOT/alice/up/a.bin")" = "$TUSER" ]
	run codes bob bobpw 't("STOR", f.storbinary, "STOR up/b.bin", io.BytesIO(b"bob"))
t("MKD", f.mkd, "up/d")'
	has '^STOR 550$' '^MKD 550$'
	[ ! -e "$VROOT/bob/up/b.bin" ]
	[ ! -e "$VROOT/bob/up/d" ]
}

@test "a user's file ends with its login: after REIN a user without a file has the defaults" {
	virt_up
	run ftp_session "USER alice" "PASS alicepw" "MKD up/first" REIN "USER carol" "PASS carolpw" \
		"MKD up/second" PWD "SIZE carol.txt"
	has '^257 "/up/first" created' '^550 Permission denied'
	hasnt '^257 "/up/second"'
	has '^213 6$'
	[ -d "$VROOT/alice/up/first" ]
	[ ! -e "$VROOT/carol/up/second" ]
}

@test "a user name that could leave user_config_dir or its root is refused" {
	virt_up
	echo 'write_enable=YES' >"$VROOT/x"
	run ftp_session "USER .." "PASS dotpw" PWD "USER x/y" "PASS slashpw" PWD
	[[ ${lines[2]} == 530* ]]
	[[ ${lines[5]} == 530* ]]
	hasnt '^230 ' '^257 '
	has -f "$FTPD_LOG" 'login \.\. refused: the name cannot name a file' \
		'login x/y refused: the name cannot name a file'
}

@test "a user file that went bad after start refuses that login, naming file, line and key" {
	virt_up
	printf 'write_enable=YES\nlocal_umask=banana\n' >"$UDIR/alice"
	run ftp_session "USER alice" "PASS alicepw" PWD "USER bob" "PASS bobpw"
	[[ ${lines[2]} == 530* ]]
	[[ ${lines[5]} == 230* ]]
	has -f "$FTPD_LOG" "login alice refused: $UDIR/alice:2: local_umask: expected an octal"
}

# ---- ftpd -t: every bad configuration names file, line and key ----------------

@test "ftpd -t: pasv_address that is not an IPv4 address, or does not resolve, is an error" {
	check_bad "pasv_address=0.0.0.0.1" 'pasv_address: not a numeric IPv4 address'
	check_bad "pasv_address=localhost" 'pasv_address: .*needs pasv_addr_resolve=YES'
	check_bad "pasv_address=no-such-host.invalid" 'pasv_address: cannot resolve' \
		-o pasv_addr_resolve=YES
	check_bad "pasv_address=::1" 'pasv_address: not a numeric IPv4 address'
	config_env ftpd
	run "$POSTEL_BUILD/ftpd" -t -o pasv_address=localhost -o pasv_addr_resolve=YES "${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
}

@test "ftpd -t: banner_file, userlist_file and chroot_list_file must be readable when used" {
	check_bad "banner_file=/nonexistent/banner" 'banner_file: /nonexistent/banner: No such file'
	check_bad "banner_file=relative" 'banner_file: must be an absolute path'
	check_bad "userlist_enable=YES" 'userlist_enable: .*ftpd\.user_list: No such file'
	check_bad "userlist_file=/nonexistent/ul" 'userlist_file: /nonexistent/ul: No such file' \
		-o userlist_enable=YES
	check_bad "userlist_file=/etc/passwd" \
		'userlist_file: has no effect without userlist_enable=YES'
	check_bad "chroot_list_enable=YES" 'chroot_list_enable: .*ftpd\.chroot_list: No such file'
	check_bad "chroot_list_file=/nonexistent/cl" \
		'chroot_list_file: /nonexistent/cl: No such file' -o chroot_list_enable=YES
}

@test "ftpd -t: deny_file and hide_file patterns must be vsftpd's syntax" {
	check_bad "deny_file={*.mp3,{x}}" 'deny_file: unbalanced or nested braces'
	check_bad "hide_file=*.mp3}" 'hide_file: unbalanced or nested braces'
	config_env ftpd
	run "$POSTEL_BUILD/ftpd" -t -o 'deny_file={*.mp3,*.mov,.private}' -o 'hide_file=*.{a,b}' \
		"${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
}

@test "ftpd -t checks every user_config_dir file, naming file, line and key" {
	local ud
	postel_tmpdir ud
	printf 'write_enable=YES\n' >"$ud/good"
	printf '# x\nlisten_port=2121\nwrite_enable=maybe\nno_such_key=1\n' >"$ud/bad"
	run "$POSTEL_BUILD/ftpd" -t -o "user_config_dir=$ud"
	[ "$status" -eq 1 ]
	has "^$ud/bad:2: listen_port: not allowed in this file" \
		"^$ud/bad:3: write_enable: expected YES or NO" "^$ud/bad:4: no_such_key: unknown key"
	hasnt "$ud/good"
	check_bad "user_config_dir=/nonexistent/users" 'user_config_dir: cannot open'
	rm "$ud/bad"
	config_env ftpd
	run "$POSTEL_BUILD/ftpd" -t -o "user_config_dir=$ud" "${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
}

@test "a bad user file stops ftpd at start" {
	local ud
	postel_tmpdir ud
	printf 'local_root=/x\nbanner_file=/etc/motd\n' >"$ud/eve"
	run timeout 10 "$POSTEL_BUILD/ftpd" -D -o listen_address=127.0.0.1 -o "listen_port=$(free_port)" \
		-o "pid_file=$ud/pid" -o "user_config_dir=$ud"
	[ "$status" -eq 1 ]
	has "^$ud/eve:2: banner_file: not allowed in this file"
}

# ---- chroot_list -----------------------------------------------------------------

@test "chroot_list_file names the users chroot_local_user=YES does not chroot" {
	local l
	postel_tmpdir l
	printf '# free\n%s\n' "$TUSER" >"$l/list"
	printf 'someone-else\n' >"$l/other"
	local_up -o chroot_list_enable=YES -o "chroot_list_file=$l/list"
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[2]} == 230* ]]
	[[ ${lines[3]} == "257 \"$THOME\""* ]]
	stop_ftpd
	local_up -o chroot_list_enable=YES -o "chroot_list_file=$l/other"
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[3]} == '257 "/"'* ]]
}

@test "with chroot_local_user=NO, chroot_list_file names the users who are chrooted" {
	local l
	postel_tmpdir l
	printf '%s\n' "$TUSER" >"$l/list"
	local_up -o chroot_local_user=NO -o chroot_list_enable=YES -o "chroot_list_file=$l/list"
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[2]} == 230* ]]
	[[ ${lines[3]} == '257 "/"'* ]]
	: >"$l/list"
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[3]} == "257 \"$THOME\""* ]]
}

@test "a chroot_list_file that cannot be read at login refuses the login" {
	local l
	postel_tmpdir l
	printf '%s\n' "$TUSER" >"$l/list"
	local_up -o chroot_local_user=NO -o chroot_list_enable=YES -o "chroot_list_file=$l/list"
	rm "$l/list"
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[2]} == 530* ]]
	hasnt '^230 '
	has -f "$FTPD_LOG" "refused: chroot_list_file $l/list"
}

# ---- userlist --------------------------------------------------------------------

@test "userlist_enable: a listed name is refused at USER, before any password" {
	local l
	postel_tmpdir l
	printf '# no\n%s\nftp\n' "$TUSER" >"$l/users"
	local_up -o userlist_enable=YES -o "userlist_file=$l/users"
	run ftp_session "USER $TUSER" "PASS $TPASS" PWD
	[[ ${lines[1]} == 530* ]]
	[[ ${lines[2]} == 503* ]]
	hasnt '^331 ' '^230 '
	run ftp_session "USER ANONYMOUS" "USER anonymous" "USER no-such-$$"
	[[ ${lines[1]} == 530* ]]
	[[ ${lines[2]} == 530* ]]
	[[ ${lines[3]} == 331* ]]
}

@test "userlist_deny=NO: only the listed names may log in" {
	local l
	postel_tmpdir l
	printf '%s\n' "$TUSER" >"$l/users"
	local_up -o userlist_enable=YES -o userlist_deny=NO -o "userlist_file=$l/users"
	run ftp_session "USER $TUSER" "PASS $TPASS" "USER anonymous"
	[[ ${lines[1]} == 331* ]]
	[[ ${lines[2]} == 230* ]]
	run ftp_session "USER anonymous" "PASS x" "USER other-$$"
	[[ ${lines[1]} == 530* ]]
	[[ ${lines[2]} == 503* ]]
	[[ ${lines[3]} == 530* ]]
}

@test "userlist_enable=NO leaves every name to PAM" {
	local_up
	run ftp_session "USER $TUSER" "PASS $TPASS"
	[[ ${lines[1]} == 331* ]]
	[[ ${lines[2]} == 230* ]]
}

# ---- deny_file and hide_file --------------------------------------------------------

@test "deny_file refuses every command that takes a denied path, however it is spelled" {
	virt_up
	run codes alice alicepw '
t("RETR", f.retrbinary, "RETR up/song.mp3", sink)
t("RETR-dotdot", f.retrbinary, "RETR up/../up/song.mp3", sink)
t("RETR-in-dir", f.retrbinary, "RETR /.private/inside.txt", sink)
t("STOR", f.storbinary, "STOR up/new.mp3", io.BytesIO(b"x"))
t("APPE", f.storbinary, "APPE up/song.mp3", io.BytesIO(b"x"))
t("STOU", f.storbinary, "STOU up/u.mp3", io.BytesIO(b"x"))
t("DELE", f.sendcmd, "DELE up/song.mp3")
t("RNFR", f.sendcmd, "RNFR up/song.mp3")
t("RNFR-ok", f.sendcmd, "RNFR up/keep.txt")
t("RNTO", f.sendcmd, "RNTO up/keep.mp3")
t("CWD", f.sendcmd, "CWD .private")
t("CWD-abs", f.sendcmd, "CWD /up/../.private")
t("MKD", f.sendcmd, "MKD up/.private")
t("RMD", f.sendcmd, "RMD .private")
t("SIZE", f.sendcmd, "SIZE up/song.mp3")
t("MDTM", f.sendcmd, "MDTM up/song.mp3")
t("MFMT", f.sendcmd, "MFMT 20200101000000 up/song.mp3")
t("CHMOD", f.sendcmd, "SITE CHMOD 600 up/song.mp3")
t("MLST", f.sendcmd, "MLST up/song.mp3")
t("STAT", f.sendcmd, "STAT .private")
t("LIST", f.retrlines, "LIST up/song.mp3", sink)
t("LIST-dir", f.retrlines, "LIST .private", sink)
out = []
f.retrlines("LIST .private/*", out.append)
print("LIST-glob-lines", len(out))
out = []
f.retrlines("LIST up/*", out.append)
print("LIST-glob-ok-lines", len(out))
t("NLST", f.retrlines, "NLST .private", sink)
t("MLSD", f.retrlines, "MLSD .private", sink)
t("RETR-ok", f.retrbinary, "RETR up/keep.txt", sink)
t("SIZE-ok", f.sendcmd, "SIZE up/keep.txt")
names = []
f.retrlines("NLST up", names.append)
print("NLST-up", " ".join(sorted(names)))'
	has '^RETR 550$' '^RETR-dotdot 550$' '^RETR-in-dir 550$' '^STOR 550$' '^APPE 550$' \
		'^STOU 550$' '^DELE 550$' '^RNFR 550$' '^RNFR-ok 350$' '^RNTO 550$' '^CWD 550$' \
		'^CWD-abs 550$' '^MKD 550$' '^RMD 550$' '^SIZE 550$' '^MDTM 550$' '^MFMT 550$' \
		'^CHMOD 550$' '^MLST 550$' '^STAT 550$' '^LIST 550$' '^LIST-dir 550$' \
		'^LIST-glob-lines 0$' '^LIST-glob-ok-lines 2$' '^NLST 550$' '^MLSD 550$' '^RETR-ok 226$' '^SIZE-ok 213$' \
		'^NLST-up up/keep.txt up/song.mp3$'
	[ "$(cat "$VROOT/alice/up/song.mp3")" = song ]
	[ -e "$VROOT/alice/up/keep.txt" ]
	[ ! -e "$VROOT/alice/up/new.mp3" ]
	[ ! -e "$VROOT/alice/up/keep.mp3" ]
	[ ! -e "$VROOT/alice/up/.private" ]
	[ -d "$VROOT/alice/.private" ]
	[ "$(stat -c %a "$VROOT/alice/up/song.mp3")" != 600 ]
	has -f "$FTPD_LOG" 'refused /up/song\.mp3: deny_file'
}

@test "deny_file from one user's file does not hold for another user" {
	virt_up
	echo song >"$VROOT/bob/b.mp3"
	run ftp_session "USER bob" "PASS bobpw" "SIZE b.mp3"
	[ "${lines[3]}" = "213 5" ]
}

@test "hide_file leaves names out of LIST, NLST, MLSD and STAT, but they stay reachable" {
	virt_up -o 'hide_file={hidden*,*.mp3}'
	run codes alice alicepw '
for cmd in ("LIST", "NLST", "MLSD"):
    out = []
    f.retrlines(cmd + " /", out.append)
    print(cmd, "|".join(l.split()[-1] for l in out))
print("STAT", "|".join(l.split()[-1] for l in f.sendcmd("STAT /").splitlines()[1:-1]))
out = []
f.retrlines("NLST up", out.append)
print("NLST-up", " ".join(out))
t("RETR-hidden", f.retrbinary, "RETR hidden.txt", sink)
t("SIZE-hidden", f.sendcmd, "SIZE hidden.txt")
t("CWD-hidden", f.sendcmd, "CWD /hiddendir")
out = []
f.retrlines("NLST", out.append)
print("NLST-in", " ".join(out))'
	has '^LIST alice\.txt\|up$' '^NLST /alice\.txt\|/up$' '^STAT alice\.txt\|up$' \
		'^NLST-up up/keep\.txt$' '^RETR-hidden 226$' '^SIZE-hidden 213$' \
		'^CWD-hidden 250$' '^NLST-in x\.txt$'
	has '^MLSD \.\|\.\.\|\.private\|alice\.txt\|up$'
	hasnt 'hidden\.txt\|' '\|hiddendir'
}

# ---- banner_file and directory messages ---------------------------------------------

@test "banner_file's lines make the greeting, again after REIN" {
	local b
	postel_tmpdir b
	printf 'Welcome to the drop.\r\n220 not the end\n' >"$b/banner"
	ftp_up -o "banner_file=$b/banner" -o "ftpd_banner=not this"
	run ftp_session "USER anonymous" "PASS x" REIN
	[ "${lines[0]}" = "220-Welcome to the drop." ]
	[ "${lines[1]}" = "220-220 not the end" ]
	[ "${lines[2]}" = "220 " ]
	[[ ${lines[3]} == 331* ]]
	[[ ${lines[4]} == 230* ]]
	[ "${lines[5]}" = "220-Welcome to the drop." ]
	hasnt 'not this'
}

# greets_with LINE: a new session's first reply line is LINE
greets_with() {
	[ "$(ftp_session QUIT | head -n 1)" = "$1" ]
}

@test "banner_file is read again on SIGHUP; one that no longer loads keeps the old" {
	local b
	postel_tmpdir b
	echo one >"$b/banner"
	ftp_up -o "banner_file=$b/banner"
	run ftp_session QUIT
	[ "${lines[0]}" = "220-one" ]
	echo two >"$b/banner"
	kill -HUP "$FTPD_PID"
	wait_for 10 greets_with 220-two
	rm "$b/banner"
	kill -HUP "$FTPD_PID"
	wait_for 10 log_count_at_least 1 "$FTPD_LOG" "banner_file: $b/banner: No such file"
	run ftp_session QUIT
	[ "${lines[0]}" = "220-two" ]
}

@test "dirmessage_enable shows message_file once per directory, at login and at CWD" {
	virt_up -o dirmessage_enable=YES
	echo "alice root" >"$VROOT/alice/.message"
	echo "in up" >"$VROOT/alice/up/.message"
	run ftp_session "USER alice" "PASS alicepw" "CWD up" "CWD /" "CWD up"
	[ "${lines[2]}" = "230-alice root" ]
	[[ ${lines[3]} == 230* ]]
	[ "${lines[4]}" = "250-in up" ]
	[ "$(grep -c 'in up' <<<"$output")" -eq 1 ]
	[ "$(grep -c 'alice root' <<<"$output")" -eq 1 ]
}

@test "message_file names the message; dirmessage_enable=NO shows none" {
	virt_up -o dirmessage_enable=YES -o message_file=README.msg
	echo "dot message" >"$VROOT/alice/up/.message"
	echo "readme message" >"$VROOT/alice/up/README.msg"
	run ftp_session "USER alice" "PASS alicepw" "CWD up"
	has '^250-readme message$'
	hasnt 'dot message'
	stop_ftpd
	ftp_up -o guest_enable=YES -o "guest_username=$TUSER" -o "pam_service_name=$VPAMSVC" \
		-o 'user_sub_token=$USER' -o "local_root=$VROOT/\$USER" -o message_file=README.msg
	run ftp_session "USER alice" "PASS alicepw" "CWD up"
	[[ ${lines[3]} == 250* ]]
	hasnt 'readme message'
}

# ---- data connection modes and refused commands ---------------------------------------

@test "port_enable=NO refuses PORT and EPRT with 502 and leaves them out of FEAT" {
	ftp_up -o port_enable=NO
	run ftp_session "USER anonymous" "PASS x" "PORT 127,0,0,1,200,10" "EPRT |1|127.0.0.1|51210|" \
		PASV FEAT
	[[ ${lines[3]} == 502* ]]
	[[ ${lines[4]} == 502* ]]
	[[ ${lines[5]} == 227* ]]
	has '^ EPSV$'
	hasnt '^ EPRT$'
}

@test "pasv_enable=NO refuses PASV and EPSV with 502 and leaves them out of FEAT" {
	ftp_up -o pasv_enable=NO
	run ftp_session "USER anonymous" "PASS x" PASV "EPSV" "EPSV ALL" "PORT 127,0,0,1,200,10" FEAT
	[[ ${lines[3]} == 502* ]]
	[[ ${lines[4]} == 502* ]]
	[[ ${lines[5]} == 502* ]]
	[[ ${lines[6]} == 200* ]]
	has '^ EPRT$'
	hasnt '^ EPSV$' '^ PASV$'
}

@test "pasv_address given as a host name is resolved with pasv_addr_resolve=YES" {
	ftp_up -o pasv_address=localhost -o pasv_addr_resolve=YES
	run ftp_session "USER anonymous" "PASS x" PASV
	[[ ${lines[3]} == "227 Entering Passive Mode (127,0,0,1,"* ]]
}

@test "SMNT and other known commands that are never served answer 502, unknown ones 500" {
	ftp_up
	run ftp_session "SMNT /x" "LPRT 4,4,127,0,0,1,2,200,10" "XYZZY" "USER anonymous" "PASS x" \
		"SMNT /x" "ADAT x"
	[[ ${lines[1]} == 502* ]]
	[[ ${lines[2]} == 502* ]]
	[[ ${lines[3]} == 500* ]]
	[[ ${lines[5]} == 230* ]]
	[[ ${lines[6]} == 502* ]]
	[[ ${lines[7]} == 502* ]]
}

@test "ftpd.conf(5) lists exactly the keys a user file may set" {
	local ud key val listed accepted
	postel_tmpdir ud
	listed=$(awk '/Keys a user file may set:$/ { want = 1; next } want && /^\.RS/ { getline; print; exit }' \
		"$POSTEL_ROOT/conf/man/ftpd.conf.5.in" | tr -d ' ' | tr ',' '\n' | sort)
	config_env ftpd
	accepted=$(
		"$POSTEL_BUILD/ftpd" -T -o listen_port=2121 "${CONFIG_ENV[@]}" | sed 's/  # default$//' | while IFS='=' read -r key val; do
			printf '%s=%s\n' "$key" "$val" >"$ud/u"
			if "$POSTEL_BUILD/ftpd" -t -o "user_config_dir=$ud" "${CONFIG_ENV[@]}" >/dev/null 2>&1; then
				echo "$key"
			fi
		done | sort
	)
	[ -n "$accepted" ]
	[ "$listed" = "$accepted" ]
}
