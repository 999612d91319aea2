#!/usr/bin/env bats
# ftpd commands, one by one, on the control connection: the reply codes of
# RFC 959, 2389, 2428, 2640, 3659 and 7151 (raw client; data commands via
# ftplib so the data connection is handled too).

setup() {
	load lib/common
	load lib/ftp
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_mkdir_write_enable=YES
}

teardown() {
	postel_teardown
}

# after "220, 331, 230" the reply to the first command is lines[3]
@test "USER then PASS logs anonymous in with 331 then 230" {
	run ftp_session "USER anonymous" "PASS guest@"
	[ "${lines[0]:0:4}" = "220 " ]
	[ "${lines[1]:0:4}" = "331 " ]
	[ "${lines[2]:0:4}" = "230 " ]
}

@test "PASS without USER is 503" {
	run ftp_session "PASS x"
	[[ ${lines[1]} == 503* ]]
}

@test "commands before login get 530 and the session continues" {
	run ftp_session "PWD" "CWD pub" "LIST" "RETR pub/hello.txt" "STOR x" "MKD x" "SIZE pub/hello.txt" "NOOP"
	[ "$(grep -c '^530 ' <<<"$output")" -eq 7 ]
	[[ ${lines[8]} == 200* ]]
}

@test "ACCT is 202 (not needed) after login" {
	run anon_cmd "ACCT billing"
	[[ ${lines[3]} =~ ^(202|230) ]]
}

@test "QUIT is 221 and the server closes the connection" {
	run anon_cmd QUIT
	[[ ${lines[3]} == 221* ]]
	has '^<closed>$'
}

@test "REIN is 220 and logs out: PWD then needs a new login" {
	run anon_cmd REIN PWD "USER ftp" "PASS" PWD
	[[ ${lines[3]} == 220* ]]
	[[ ${lines[4]} == 530* ]]
	[[ ${lines[5]} == 331* ]]
	[[ ${lines[6]} == 230* ]]
	[[ ${lines[7]} == '257 "/"'* ]]
}

@test "NOOP is 200" {
	run ftp_session NOOP
	[[ ${lines[1]} == 200* ]]
}

@test "SYST is 215 UNIX Type: L8" {
	run ftp_session SYST
	[ "${lines[1]}" = "215 UNIX Type: L8" ]
}

@test "HELP is a multi-line 214 listing every command of the issue" {
	run ftp_session HELP NOOP
	[[ ${lines[1]} == 214-* ]]
	has '^214 '
	local c
	for c in USER PASS ACCT QUIT REIN NOOP SYST HELP STAT FEAT OPTS HOST CWD CDUP XCWD XCUP PWD XPWD \
		MKD XMKD RMD XRMD DELE RNFR RNTO SIZE MDTM MFMT RETR STOR STOU APPE REST ALLO ABOR TYPE MODE \
		STRU PORT PASV EPRT EPSV LIST NLST MLSD MLST SITE; do
		grep -q "[[:space:]]$c\\b" <<<"$output" || { echo "HELP lacks $c" >&2; return 1; }
	done
	[[ ${lines[-1]} == 200* ]]
}

@test "FEAT is 211 multi-line listing the RFC 2389 features" {
	run ftp_session FEAT
	[[ ${lines[1]} == 211-* ]]
	[[ ${lines[-1]} == "211 "* ]]
	local f
	for f in EPRT EPSV MDTM MFMT MLST PASV 'REST STREAM' SIZE TVFS UTF8; do
		grep -Eq "^ $f( |\$)" <<<"$output" || { echo "FEAT lacks $f" >&2; return 1; }
	done
	# RFC 2389: feature lines start with a space
	[ "$(sed -n '3,$p' <<<"$output" | sed '$d' | grep -vc '^ ')" -eq 0 ]
}

@test "FEAT MLST line marks the default facts with * and lists all nine" {
	run ftp_session FEAT
	local f
	for f in type size modify create perm unique UNIX.mode UNIX.owner UNIX.group; do
		grep -Eq "^ MLST .*\\b$f\\*?;" <<<"$output" || { echo "MLST lacks $f" >&2; return 1; }
	done
}

@test "STAT without argument is a 211 multi-line status" {
	run anon_cmd STAT NOOP
	[[ ${lines[3]} == 211-* ]]
	has '^211 '
	[[ ${lines[-1]} == 200* ]]
}

@test "STAT path is a 213 listing of that path" {
	run anon_cmd "STAT pub"
	[[ ${lines[3]} == 213-* ]]
	has 'hello\.txt$'
	has '^213 '
}

@test "OPTS UTF8 ON is 200" {
	run ftp_session "OPTS UTF8 ON"
	[[ ${lines[1]} == 200* ]]
}

@test "OPTS MLST selects the facts MLST then shows" {
	run anon_cmd "OPTS MLST size;type;" "MLST pub/hello.txt"
	[[ ${lines[3]} == 200* ]]
	[[ ${lines[4]} == 250-* ]]
	[[ ${lines[5]} =~ ^\ (type=file\;size=19\;|size=19\;type=file\;)\ /pub/hello\.txt$ ]]
	[[ ${lines[6]} == "250 "* ]]
}

@test "OPTS with an unknown option is 501" {
	run ftp_session "OPTS FOOBAR ON"
	[[ ${lines[1]} =~ ^50[14] ]]
}

@test "HOST before USER is 220 and after login is 503" {
	run ftp_session "HOST 127.0.0.1" "USER anonymous" "PASS x" "HOST 127.0.0.1"
	[[ ${lines[1]} == 220* ]]
	[[ ${lines[4]} == 503* ]]
}

@test "CWD and XCWD are 250, CDUP and XCUP are 200 or 250, PWD and XPWD are 257 with the quoted path" {
	run anon_cmd "CWD pub" PWD CDUP XPWD "XCWD pub" XPWD XCUP PWD
	[[ ${lines[3]} == 250* ]]
	[[ ${lines[4]} == '257 "/pub"'* ]]
	[[ ${lines[5]} =~ ^(200|250) ]]
	[[ ${lines[6]} == '257 "/"'* ]]
	[[ ${lines[7]} == 250* ]]
	[[ ${lines[8]} == '257 "/pub"'* ]]
	[[ ${lines[9]} =~ ^(200|250) ]]
	[[ ${lines[10]} == '257 "/"'* ]]
}

@test "CWD to a missing directory is 550 and the directory is unchanged" {
	run anon_cmd "CWD /nonexistent" PWD
	[[ ${lines[3]} == 550* ]]
	[[ ${lines[4]} == '257 "/"'* ]]
}

@test "CWD cannot leave the anonymous root" {
	run anon_cmd "CWD ../../../.." PWD "CWD /.." PWD
	[[ ${lines[4]} == '257 "/"'* ]]
	[[ ${lines[6]} == '257 "/"'* ]]
}

@test "MKD and XMKD are 257 with the created path quoted, RMD and XRMD are 250" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_mkdir_write_enable=YES -o anon_other_write_enable=YES
	run anon_cmd "MKD incoming/d1" "XMKD incoming/d2" "RMD incoming/d1" "XRMD incoming/d2"
	[[ ${lines[3]} == '257 "/incoming/d1"'* ]]
	[[ ${lines[4]} == '257 "/incoming/d2"'* ]]
	[[ ${lines[5]} == 250* ]]
	[[ ${lines[6]} == 250* ]]
	[ ! -e "$ANON/incoming/d1" ]
	[ ! -e "$ANON/incoming/d2" ]
}

@test "PWD doubles a quote in the directory name (RFC 959 257)" {
	mkdir "$ANON/pub/a\"b"
	run anon_cmd 'CWD pub/a"b' PWD
	[[ ${lines[3]} == 250* ]]
	[[ ${lines[4]} == '257 "/pub/a""b"'* ]]
}

@test "DELE and RNFR/RNTO work for a user with other-write rights" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_other_write_enable=YES
	echo x >"$ANON/incoming/f"
	chown "$FTPD_USER" "$ANON/incoming/f"
	run anon_cmd "RNFR incoming/f" "RNTO incoming/g" "DELE incoming/g" "DELE incoming/g"
	[[ ${lines[3]} == 350* ]]
	[[ ${lines[4]} == 250* ]]
	[[ ${lines[5]} == 250* ]]
	[[ ${lines[6]} == 550* ]]
	[ ! -e "$ANON/incoming/f" ]
	[ ! -e "$ANON/incoming/g" ]
}

@test "RNTO without RNFR is 503" {
	run anon_cmd "RNTO x"
	[[ ${lines[3]} == 503* ]]
}

@test "SIZE is 213 with the byte count, 550 for a directory or a missing file" {
	run anon_cmd "SIZE pub/hello.txt" "SIZE pub" "SIZE nothere"
	[ "${lines[3]}" = "213 19" ]
	[[ ${lines[4]} == 550* ]]
	[[ ${lines[5]} == 550* ]]
}

@test "MDTM is 213 YYYYMMDDHHMMSS in UTC" {
	touch -d '2001-02-03 04:05:06 UTC' "$ANON/pub/hello.txt"
	run anon_cmd "MDTM pub/hello.txt" "MDTM nothere"
	[ "${lines[3]}" = "213 20010203040506" ]
	[[ ${lines[4]} == 550* ]]
}

@test "MFMT sets the modification time and answers 213 Modify=" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_other_write_enable=YES
	echo x >"$ANON/incoming/m"
	chown "$FTPD_USER" "$ANON/incoming/m"
	run anon_cmd "MFMT 20020304050607 incoming/m" "MDTM incoming/m" "MFMT 2002 incoming/m"
	[[ ${lines[3]} == "213 Modify=20020304050607; incoming/m" ]] || [[ ${lines[3]} == "213 Modify=20020304050607;"* ]]
	[ "${lines[4]}" = "213 20020304050607" ]
	[[ ${lines[5]} == 501* ]]
	[ "$(TZ=UTC stat -c %y "$ANON/incoming/m" | cut -c1-19)" = "2002-03-04 05:06:07" ]
}

@test "RETR sends the file: 150, data, 226" {
	run ftp_py '
f = anon()
buf = io.BytesIO()
r = f.retrbinary("RETR pub/hello.txt", buf.write)
print(r); print(buf.getvalue().decode(), end="")
print(f.sendcmd("NOOP"))'
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == 226* ]]
	[ "${lines[1]}" = "Hello from Postel." ]
}

@test "RETR of a missing file is 550 without a data transfer" {
	run ftp_py '
f = anon()
try:
    f.retrbinary("RETR nothere", print)
except ftplib.error_perm as e:
    print("ERR", e)
print(f.sendcmd("NOOP"))'
	has '^ERR 550'
	has '^200'
}

@test "STOR stores and STOU picks a unique name it names in 150 FILE: name" {
	run ftp_py '
f = anon()
f.cwd("incoming")
print(f.storbinary("STOR up.txt", io.BytesIO(b"one\n")))
c = f.transfercmd("STOU")
print("REPLY", f.lastresp if hasattr(f, "lastresp") else "")
c.sendall(b"two\n"); c.close()
print(f.voidresp())
'
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == 226* ]]
	[ "$(cat "$ANON/incoming/up.txt")" = one ]
	# the STOU file holds what we sent
	local n
	n=$(grep -lx two "$ANON"/incoming/* | head -n 1)
	[ -n "$n" ]
	[ "$n" != "$ANON/incoming/up.txt" ]
}

@test "STOU preliminary reply is 150 FILE: name of the new file" {
	run timeout 20 python3 - "$FTPD_PORT" <<'EOF'
import socket, sys, re
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
r = c.makefile("rb")
def rl(): return r.readline().decode().rstrip("\r\n")
print(rl())
for cmd in ("USER anonymous", "PASS x", "CWD incoming", "EPSV"):
    c.sendall(cmd.encode() + b"\r\n"); line = rl(); print(line)
port = int(re.search(r"\|\|\|(\d+)\|", line).group(1))
d = socket.create_connection(("127.0.0.1", port), timeout=10)
c.sendall(b"STOU\r\n"); print(rl())
d.sendall(b"uniq\n"); d.close()
print(rl())
EOF
	has '^150 FILE: [^ /]+$'
	has '^226 '
	local name
	name=$(sed -n 's/^150 FILE: //p' <<<"$output")
	[ "$(cat "$ANON/incoming/$name")" = uniq ]
}

@test "APPE appends to an existing file (local write rights)" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_other_write_enable=YES
	printf 'abc' >"$ANON/incoming/ap"
	chown "$FTPD_USER" "$ANON/incoming/ap"
	run ftp_py '
f = anon()
print(f.storbinary("APPE incoming/ap", io.BytesIO(b"def")))'
	[[ ${lines[0]} == 226* ]]
	[ "$(cat "$ANON/incoming/ap")" = abcdef ]
}

@test "REST is 350 and then RETR resumes from that offset" {
	run ftp_py '
f = anon()
buf = io.BytesIO()
f.retrbinary("RETR pub/hello.txt", buf.write, rest=6)
print(buf.getvalue().decode(), end="")'
	[ "$output" = "from Postel." ]
}

@test "REST with a bad argument is 501" {
	run anon_cmd "REST abc" "REST -5"
	[[ ${lines[3]} == 501* ]]
	[[ ${lines[4]} == 501* ]]
}

@test "ALLO is 200 or 202" {
	run anon_cmd "ALLO 1000"
	[[ ${lines[3]} =~ ^20[02] ]]
}

@test "ABOR without a transfer is 225" {
	run anon_cmd ABOR
	[[ ${lines[3]} =~ ^22[56] ]]
	[[ ${lines[3]} == 225* ]]
}

@test "TYPE A, I and L 8 are 200; other types are 504; no argument is 501" {
	run anon_cmd "TYPE A" "TYPE I" "TYPE L 8" "TYPE A N" "TYPE E" "TYPE L 7" "TYPE Z" "TYPE"
	[[ ${lines[3]} == 200* ]]
	[[ ${lines[4]} == 200* ]]
	[[ ${lines[5]} == 200* ]]
	[[ ${lines[6]} == 200* ]]
	[[ ${lines[7]} == 504* ]]
	[[ ${lines[8]} == 504* ]]
	[[ ${lines[9]} =~ ^50[14] ]]
	[[ ${lines[10]} == 501* ]]
}

@test "MODE S is 200, MODE B and C are 504" {
	run anon_cmd "MODE S" "MODE B" "MODE C"
	[[ ${lines[3]} == 200* ]]
	[[ ${lines[4]} == 504* ]]
	[[ ${lines[5]} == 504* ]]
}

@test "STRU F is 200, STRU R and P are 504" {
	run anon_cmd "STRU F" "STRU R" "STRU P"
	[[ ${lines[3]} == 200* ]]
	[[ ${lines[4]} == 504* ]]
	[[ ${lines[5]} == 504* ]]
}

@test "PASV is 227 with h1,h2,h3,h4,p1,p2 of the loopback address" {
	run anon_cmd PASV
	[[ ${lines[3]} =~ ^227\ .*\(127,0,0,1,[0-9]+,[0-9]+\) ]]
}

@test "EPSV is 229 (|||port|); EPSV 1 is 229; EPSV 2 on IPv4 is 522" {
	run anon_cmd EPSV "EPSV 1" "EPSV 2"
	[[ ${lines[3]} =~ ^229\ .*\(\|\|\|[0-9]+\|\) ]]
	[[ ${lines[4]} == 229* ]]
	[[ ${lines[5]} == 522* ]]
}

@test "after EPSV ALL, PASV, PORT and EPRT are refused" {
	run anon_cmd "EPSV ALL" PASV "PORT 127,0,0,1,4,1" "EPRT |1|127.0.0.1|1025|" EPSV
	[[ ${lines[3]} == 200* ]]
	[[ ${lines[4]} =~ ^5 ]]
	[[ ${lines[5]} =~ ^5 ]]
	[[ ${lines[6]} =~ ^5 ]]
	[[ ${lines[7]} == 229* ]]
}

@test "PORT and EPRT to the client are 200; malformed are 501" {
	run anon_cmd "PORT 127,0,0,1,4,1" "EPRT |1|127.0.0.1|1025|" "PORT 1,2,3" "PORT 127,0,0,1,300,1" "EPRT |9|x|1|" "EPRT garbage"
	[[ ${lines[3]} == 200* ]]
	[[ ${lines[4]} == 200* ]]
	[[ ${lines[5]} == 501* ]]
	[[ ${lines[6]} == 501* ]]
	[[ ${lines[7]} =~ ^50[12]|^522 ]]
	[[ ${lines[8]} == 501* ]]
}

@test "PORT to a third-party address is refused (no FTP bounce)" {
	run anon_cmd "PORT 10,1,2,3,4,1" "PORT 127,0,0,1,0,25"
	[[ ${lines[3]} =~ ^5 ]]
	[[ ${lines[4]} =~ ^5 ]]
}

@test "LIST is ls -l layout, NLST names only; -a and -l accepted" {
	run ftp_py '
f = anon()
f.retrlines("LIST pub", lambda l: print("L", l))
f.retrlines("LIST -la pub", lambda l: print("A", l))
f.retrlines("NLST pub", lambda l: print("N", l))'
	[ "$status" -eq 0 ]
	has '^L -rw-r--r-- +[0-9]+ [a-z]+ +[a-z]+ +19 [A-Z][a-z]{2} [ 0-9][0-9] ([0-9]{2}:[0-9]{2}| [0-9]{4}) hello\.txt$'
	has '^A .* hello\.txt$'
	has '^N (pub/)?hello\.txt$'
	hasnt '^N .*rw'
}

@test "LIST shows Mon dd  YYYY for a file older than six months" {
	touch -d '2001-02-03 04:05:06' "$ANON/pub/hello.txt"
	run ftp_py '
f = anon()
f.retrlines("LIST pub", lambda l: print(l))'
	has ' Feb (03| 3)  2001 hello\.txt$'
}

@test "LIST with hide_ids shows ftp ftp as owner and group" {
	ftp_up -o hide_ids=YES
	run ftp_py '
f = anon()
f.retrlines("LIST pub", lambda l: print(l))'
	has '^-rw-r--r-- +1 ftp +ftp +19 .* hello\.txt$'
}

@test "MLSD lists facts and names; MLST is 250 with one fact line" {
	run ftp_py '
f = anon()
for name, facts in f.mlsd("pub"):
    print(name, facts.get("type"), facts.get("size"), facts.get("perm"), "unique" in facts, facts.get("unix.mode"))
print(f.sendcmd("MLST pub/hello.txt"))'
	has '^hello\.txt file 19 r[a-z]* True 0644$'
	has '^250-'
	has '^ .*type=file;.*size=19;.* /pub/hello\.txt$'
}

@test "MLST of a missing path is 550; MLSD of a file is 501" {
	run anon_cmd "MLST nothere" "EPSV" "MLSD pub/hello.txt"
	[[ ${lines[3]} == 550* ]]
	[[ ${lines[5]} =~ ^5 ]]
}

@test "LIST glob is bounded: a pathological pattern answers promptly" {
	run ftp_py '
f = anon()
t = time.time()
try:
    f.retrlines("NLST " + "*a" * 60 + "b", print)
except ftplib.error_perm as e:
    print("ERR", e)
print("T", int(time.time() - t))
print(f.sendcmd("NOOP"))'
	has '^T [0-4]$'
	has '^200'
}

@test "SITE HELP is 214 listing CHMOD UMASK IDLE HELP; SITE UMASK shows the umask; SITE IDLE is 200" {
	run anon_cmd "SITE HELP" "SITE UMASK" "SITE IDLE 120" NOOP
	[[ ${lines[3]} == 214-* ]]
	has '^214 '
	local c
	for c in CHMOD UMASK IDLE HELP; do has "\\b$c\\b"; done
	has '^200 .*077'
	has '^200 .*120'
	[[ ${lines[-1]} == 200* ]]
}

@test "SITE CHMOD changes the mode of a file the session may change" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_other_write_enable=YES
	echo x >"$ANON/incoming/c"
	chown "$FTPD_USER" "$ANON/incoming/c"
	run anon_cmd "SITE CHMOD 604 incoming/c" NOOP
	[[ ${lines[3]} == 200* ]]
	[[ ${lines[4]} == 200* ]]
	[ "$(stat -c %a "$ANON/incoming/c")" = 604 ]
}

@test "SITE CHMOD is refused to anonymous without other-write rights" {
	run anon_cmd "SITE CHMOD 777 pub/hello.txt" NOOP
	[[ ${lines[3]} == 550* ]]
	[ "$(stat -c %a "$ANON/pub/hello.txt")" = 644 ]
}

@test "SITE UMASK cannot loosen the anonymous upload umask" {
	run ftp_py '
f = anon()
try:
    print(f.sendcmd("SITE UMASK 000"))
except ftplib.error_perm as e:
    print("ERR", e)
print(f.storbinary("STOR incoming/um", io.BytesIO(b"x")))'
	has '^226'
	[ "$(stat -c %a "$ANON/incoming/um")" = 600 ]
}

@test "SITE CHMOD with a bad mode is 501; unknown SITE subcommand is 500" {
	run anon_cmd "SITE CHMOD 9z9 pub/hello.txt" "SITE FROB"
	[[ ${lines[3]} =~ ^50[01] ]]
	[[ ${lines[4]} == 500* ]]
}

@test "an unknown command is 500 and the session continues" {
	run anon_cmd "XYZZY" "FROB a b c" NOOP
	[[ ${lines[3]} == 500* ]]
	[[ ${lines[4]} == 500* ]]
	[[ ${lines[5]} == 200* ]]
}

@test "commands needing an argument get 501 without one" {
	run anon_cmd "CWD" "MKD" "RMD" "DELE" "RNFR" "SIZE" "MDTM" "RETR" "STOR" "USER" "PORT" "EPRT" "MFMT"
	local n
	n=$(grep -c '^501 ' <<<"$output")
	[ "$n" -eq 13 ]
}

@test "commands are case-insensitive" {
	run anon_cmd "noop" "syst" "pwd"
	[[ ${lines[3]} == 200* ]]
	[[ ${lines[4]} == 215* ]]
	[[ ${lines[5]} == 257* ]]
}

@test "HELP CMD is 214 with that command's syntax; HELP of an unknown command is 502 or 501" {
	run ftp_session "HELP RETR" "HELP FROBNICATE"
	[[ ${lines[1]} == 214* ]]
	has 'RETR'
	[[ ${lines[-1]} =~ ^50[12] ]]
}

@test "RNFR of a missing file is 550" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_other_write_enable=YES
	run anon_cmd "RNFR incoming/nothere"
	[[ ${lines[3]} == 550* ]]
}

@test "MLSD marks . and .. as type=cdir and type=pdir (RFC 3659 7.5.1)" {
	run ftp_py '
f = anon()
for name, facts in f.mlsd("pub"):
    print(name, facts.get("type"))'
	[ "$status" -eq 0 ]
	hasnt '^\. (file|dir)$'
	hasnt '^\.\. (file|dir)$'
	has '^hello\.txt file$'
	if grep -q '^\. ' <<<"$output"; then has '^\. cdir$'; fi
	if grep -q '^\.\. ' <<<"$output"; then has '^\.\. pdir$'; fi
}

@test "LIST and NLST with a glob list only matching names" {
	run ftp_py '
f = anon()
print(sorted(f.nlst("pub/*.txt")))
f.retrlines("LIST pub/*.bin", lambda l: print("L", l.split()[-1]))'
	has "^\\['pub/hello\\.txt', 'pub/lf\\.txt'\\]$|^\\['hello\\.txt', 'lf\\.txt'\\]$"
	[ "$(grep -c '^L ' <<<"$output")" -eq 2 ]
	has '^L (pub/)?bytes256\.bin$'
}

@test "a symlink pointing outside the anonymous root cannot be followed" {
	ln -s /etc/passwd "$ANON/pub/passwd"
	ln -s / "$ANON/pub/rootdir"
	run ftp_py '
f = anon()
try:
    f.retrbinary("RETR pub/passwd", lambda b: print("LEAK", b[:20]))
except ftplib.error_perm as e:
    print("ERR", e)
try:
    f.cwd("pub/rootdir/etc"); print("CWD", f.pwd())
    f.retrlines("LIST", lambda l: print("LEAK", l))
except ftplib.error_perm as e:
    print("ERR", e)'
	hasnt '^LEAK'
	hasnt 'root:x:0'
}

@test "a passive data connection from another address is refused (no PASV theft)" {
	run timeout 30 python3 - "$FTPD_PORT" <<'EOF'
import socket, sys, re, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
r = c.makefile("rb")
def rl(): return r.readline().decode().rstrip("\r\n")
rl()
for cmd in ("USER anonymous", "PASS x", "EPSV"):
    c.sendall(cmd.encode() + b"\r\n"); line = rl()
port = int(re.search(r"\|\|\|(\d+)\|", line).group(1))
thief = socket.socket(); thief.bind(("127.0.0.2", 0)); thief.settimeout(5)
try:
    thief.connect(("127.0.0.1", port))
except OSError as e:
    print("THIEF refused", e)
c.sendall(b"RETR pub/hello.txt\r\n")
thief.settimeout(3)
try:
    data = thief.recv(100)
    print("THIEF got", data)
except OSError as e:
    print("THIEF none", e)
# the server either fails the transfer (425) or keeps waiting for the client
try:
    real = socket.create_connection(("127.0.0.1", port), timeout=5)
    print("REAL", real.recv(100)); real.close()
except OSError as e:
    print("REAL refused", e)
print("CTL", rl())
EOF
	hasnt 'THIEF got b.Hello'
	has "^CTL (425|150|226)"
	if grep -q '^CTL 150' <<<"$output"; then has "^REAL b'Hello from Postel"; fi
}

@test "STAT during a slow upload is 213 with the bytes received so far" {
	ftp_up -o write_enable=YES -o anon_upload_enable=YES
	run timeout 30 python3 - "$FTPD_PORT" "$ANON/incoming/slow" <<'EOF'
import os, socket, sys, re, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
r = c.makefile("rb")
def rl(): return r.readline().decode().rstrip("\r\n")
rl()
for cmd in ("USER anonymous", "PASS x", "EPSV"):
    c.sendall(cmd.encode() + b"\r\n"); line = rl()
port = int(re.search(r"\|\|\|(\d+)\|", line).group(1))
d = socket.create_connection(("127.0.0.1", port), timeout=10)
c.sendall(b"STOR incoming/slow\r\n"); print("STOR", rl())
d.sendall(b"x" * 300000)
# STAT once the server has all 300000 bytes (stored, so received)
end = time.time() + 10
while time.time() < end and not (os.path.exists(sys.argv[2]) and os.path.getsize(sys.argv[2]) >= 300000):
    time.sleep(0.1)
c.sendall(b"STAT\r\n"); line = rl(); print("STAT", line)
while line[3:4] == "-":
    line = rl(); print("STAT", line)
d.close(); print("END", rl())
EOF
	has '^STOR 150'
	has '^STAT 213.*300000'
	has '^END 226'
}
