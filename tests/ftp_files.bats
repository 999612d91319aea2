#!/usr/bin/env bats
# ftpd on large files and file times (issue 14): a sparse 5 GiB file read
# past 4 GiB with curl, lftp and ftplib (SIZE, MDTM, MLST, REST, RETR, STAT
# of a transfer in progress, HASH of a range past 4 GiB); MFMT and MDTM
# with a time (mdtm_write) and MFCT (an extended attribute, the MLSx create
# fact) only where writing is allowed; AVBL for authenticated users.
#
# One ftpd serves the whole file (a second, with mdtm_write=NO, for one
# test): anonymous may upload but not change (anon_other_write_enable=NO);
# the local user may write in up/, except *.lock (deny_file).

BIG=5368709120 # 5 GiB
TAIL=1048576   # the known last MiB

setup_file() {
	load lib/common
	load lib/ftp
	FILES_WORK=$(mktemp -d /tmp/postel-files.XXXXXX)
	chmod 755 "$FILES_WORK"
	export FILES_WORK
	local -a users=()
	if is_root; then
		pam_user_add files
		mkdir "$THOME/up"
		echo own >"$THOME/up/own.txt"
		echo lock >"$THOME/up/x.lock"
		chown -R "$TUSER:" "$THOME/up"
		# outside the user's root: a file only a symlink or ".." could name
		mkdir "$FILES_WORK/outside"
		echo victim >"$FILES_WORK/outside/victim"
		chown -R "$TUSER:" "$FILES_WORK/outside"
		touch -d '2011-01-01 00:00:00 UTC' "$FILES_WORK/outside/victim" "$THOME/up/x.lock"
		ln -s "$FILES_WORK/outside" "$THOME/up/outdir"
		ln -s "$FILES_WORK/outside/victim" "$THOME/up/outlink"
		chown -h "$TUSER:" "$THOME/up/outdir" "$THOME/up/outlink"
		users=(-o local_enable=YES -o "pam_service_name=$PAMSVC")
	fi
	ftp_up -o write_enable=YES -o anon_upload_enable=YES '-o' 'deny_file={*.lock}' \
		"${users[@]}" || return 1
	truncate -s "$BIG" "$ANON/pub/big.bin"
	head -c "$TAIL" /dev/urandom >"$FILES_WORK/tail.bin"
	dd if="$FILES_WORK/tail.bin" of="$ANON/pub/big.bin" bs=1M seek=$(((BIG - TAIL) / TAIL)) \
		conv=notrunc status=none
	touch -d '2020-06-07 08:09:10 UTC' "$ANON/pub/big.bin"
	chmod 644 "$ANON/pub/big.bin"
	echo anon >"$ANON/incoming/anon.txt"
	chown "$FTPD_USER" "$ANON/incoming/anon.txt"
	touch -d '2011-01-01 00:00:00 UTC' "$ANON/incoming/anon.txt"
	TAIL_SHA=$(sha "$FILES_WORK/tail.bin")
	export TAIL_SHA
}

teardown_file() {
	load lib/common
	local status=0
	stop_pid "${FTPD_PID:-}"
	if [ -n "${FTPD_DIR:-}" ]; then
		check_log "$FTPD_DIR/ftpd.log" || status=1
		rm -rf "$FTPD_DIR"
	fi
	[ -n "${FILES_WORK:-}" ] && rm -rf "$FILES_WORK"
	pam_user_remove
	return "$status"
}

setup() {
	load lib/common
	load lib/ftp
	[ -n "${FTPD_PID:-}" ] || skip "ftpd did not start"
}

teardown() {
	postel_teardown
}

need_user() {
	is_root || skip "a local user needs root (PAM, useradd, chroot)"
}

# mtime FILE: its modification time, YYYY-MM-DD HH:MM:SS in UTC.
mtime() {
	TZ=UTC stat -c %y "$1" | cut -c1-19
}

# user_cmd LINE...: the raw client after the local user's login.
user_cmd() {
	ftp_session "USER $TUSER" "PASS $TPASS" "$@"
}

# ---- a 5 GiB file ------------------------------------------------------

@test "SIZE, MDTM and MLST of a 5 GiB file give its real size and time" {
	run ftp_py '
f = anon()
print("SIZE", f.sendcmd("SIZE pub/big.bin"))
print("MDTM", f.sendcmd("MDTM pub/big.bin"))
print("MLST", f.sendcmd("MLST pub/big.bin").splitlines()[1])
f.quit()'
	[ "$status" -eq 0 ]
	has "^SIZE 213 $BIG\$" '^MDTM 213 20200607080910$' "^MLST .*[; ]size=$BIG;"
}

@test "curl --continue-at past 4 GiB fetches exactly the tail" {
	run curl -sS --max-time 60 --continue-at $((BIG - TAIL)) \
		"ftp://127.0.0.1:$FTPD_PORT/pub/big.bin" -o "$FILES_WORK/curl.out"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$FILES_WORK/curl.out")" -eq "$TAIL" ]
	[ "$(sha "$FILES_WORK/curl.out")" = "$TAIL_SHA" ]
}

@test "lftp get -c continues a 5 GiB download from past 4 GiB" {
	# a sparse local copy short of its last MiB: lftp sends REST and RETR
	truncate -s $((BIG - TAIL)) "$FILES_WORK/lftp.out"
	run timeout 120 lftp -u anonymous,lftp@ -e "set net:max-retries 1; set net:timeout 10; \
		set cmd:fail-exit yes; get -c pub/big.bin -o $FILES_WORK/lftp.out; quit" \
		"ftp://127.0.0.1:$FTPD_PORT"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$FILES_WORK/lftp.out")" -eq "$BIG" ]
	[ "$(tail -c "$TAIL" "$FILES_WORK/lftp.out" | sha256sum | cut -d' ' -f1)" = "$TAIL_SHA" ]
	rm -f "$FILES_WORK/lftp.out"
}

@test "ftplib: REST past 4 GiB and RETR of the tail; REST up to 2^63-1, 501 beyond" {
	run ftp_py '
f = anon()
f.voidcmd("TYPE I")
h = hashlib.sha256()
n = [0]
def got(b):
    h.update(b); n[0] += len(b)
f.retrbinary("RETR pub/big.bin", got, rest=int(ARGS[0]) - int(ARGS[1]))
print("TAIL", n[0], h.hexdigest())
print("REST-MAX", f.sendcmd("REST 9223372036854775807"))
try:
    f.sendcmd("REST 9223372036854775808")
except ftplib.error_perm as e:
    print("REST-OVER", e)
f.quit()' "$BIG" "$TAIL"
	[ "$status" -eq 0 ]
	has "^TAIL $TAIL $TAIL_SHA\$" '^REST-MAX 350 .*9223372036854775807' \
		'^REST-OVER 501 REST offset too large \(at most 9223372036854775807\)'
}

@test "STAT during a RETR of 5 GiB counts past 4 GiB, and ABOR ends it" {
	run ftp_py '
f = anon()
f.voidcmd("TYPE I")
d = f.transfercmd("RETR pub/big.bin")
got = 0
while got < (1 << 20):
    got += len(d.recv(65536))
f.sock.sendall(b"STAT\r\n")
print("STAT", f.getline())
print("ABOR", f.abort())
d.close()
f.close()'
	[ "$status" -eq 0 ]
	has "^STAT 213 Status: [0-9]+ of $BIG bytes transferred"
}

@test "RANG past 4 GiB and HASH give the SHA-256 of exactly that range of the 5 GiB file" {
	local lo=$((BIG - TAIL + 12345)) hi=$((BIG - 1000)) want
	want=$(tail -c +$((lo + 1)) "$ANON/pub/big.bin" | head -c $((hi - lo + 1)) | sha256sum | cut -d' ' -f1)
	run ftp_py '
f = anon()
lo, hi = ARGS[0], ARGS[1]
print("RANG", f.sendcmd("RANG %s %s" % (lo, hi)))
print("HASH", f.sendcmd("HASH pub/big.bin"))
f.quit()' "$lo" "$hi"
	[ "$status" -eq 0 ]
	has "^RANG 350 Restarting at $lo. End byte range at $hi.\$" \
		"^HASH 213 SHA-256 $lo-$hi $want pub/big.bin\$"
}

# ---- times -------------------------------------------------------------

@test "MFMT and MDTM with a time set the modification time where the user may write" {
	need_user
	run user_cmd "MFMT 20020304050607 up/own.txt" "MDTM up/own.txt" \
		"MDTM 20100203040506 up/own.txt" "MDTM up/own.txt"
	[ "${lines[3]}" = "213 Modify=20020304050607; up/own.txt" ]
	[ "${lines[4]}" = "213 20020304050607" ]
	[ "${lines[5]}" = "213 File modification time set." ]
	[ "${lines[6]}" = "213 20100203040506" ]
	[ "$(mtime "$THOME/up/own.txt")" = "2010-02-03 04:05:06" ]
}

@test "MFMT and MDTM-set are refused for anonymous without anon_other_write_enable" {
	run anon_cmd "MFMT 20020304050607 incoming/anon.txt" "MDTM 20020304050607 incoming/anon.txt"
	[[ ${lines[3]} == "550 Permission denied." ]]
	[[ ${lines[4]} == "550 Permission denied." ]]
	[ "$(mtime "$ANON/incoming/anon.txt")" = "2011-01-01 00:00:00" ]
}

@test "MFMT and MDTM-set are refused on a deny_file path" {
	need_user
	run user_cmd "MFMT 20020304050607 up/x.lock" "MDTM 20020304050607 up/x.lock"
	[[ ${lines[3]} == "550 Permission denied." ]]
	[[ ${lines[4]} == "550 Permission denied." ]]
	[ "$(mtime "$THOME/up/x.lock")" = "2011-01-01 00:00:00" ]
}

@test "MFMT and MDTM-set never reach a file outside the root (.., symlinks)" {
	need_user
	local out=${FILES_WORK#/}
	run user_cmd "MFMT 20020304050607 ../../../../$out/outside/victim" \
		"MFMT 20020304050607 up/outdir/victim" "MDTM 20020304050607 up/outdir/victim" \
		"MFMT 20020304050607 up/outlink"
	[[ ${lines[3]} == 550* ]]
	[[ ${lines[4]} == 550* ]]
	[[ ${lines[5]} == 550* ]]
	# a final symlink gets its own time, never its target's
	[ "${lines[6]}" = "213 Modify=20020304050607; up/outlink" ]
	[ "$(mtime "$FILES_WORK/outside/victim")" = "2011-01-01 00:00:00" ]
}

@test "MDTM of a name that starts with a time still reads it; mdtm_write=NO only reads" {
	need_user
	echo t >"$THOME/up/20300101000000 x"
	chown "$TUSER:" "$THOME/up/20300101000000 x"
	touch -d '2012-12-12 12:12:12 UTC' "$THOME/up/20300101000000 x"
	run user_cmd "CWD up" "MDTM 20300101000000 x"
	[ "${lines[4]}" = "213 20121212121212" ]
	rm -f "$THOME/up/20300101000000 x"
	start_ftpd -o delay_failed_login=0 -o write_enable=YES -o local_enable=YES \
		-o "pam_service_name=$PAMSVC" -o mdtm_write=NO
	touch -d '2015-05-05 05:05:05 UTC' "$THOME/up/own.txt"
	run user_cmd "MDTM 20020304050607 up/own.txt"
	[[ ${lines[3]} == 550* ]]
	[ "$(mtime "$THOME/up/own.txt")" = "2015-05-05 05:05:05" ]
}

# xattr FILE: the MFCT attribute of FILE, or "none".
xattr() {
	python3 -c 'import os, sys
try:
    print(os.getxattr(sys.argv[1], "user.postel.create", follow_symlinks=False).decode())
except OSError:
    print("none")' "$1"
}

@test "MFCT sets the creation time where the user may write; MLST and MLSD show it as create" {
	need_user
	run user_cmd "MFCT 20030405060708 up/own.txt" "MLST up/own.txt" "MFCT 2003 up/own.txt" \
		"MFCT 20030405060708 up/x.lock" "MFCT 20030405060708 up/outlink"
	[ "${lines[3]}" = "213 Create=20030405060708; up/own.txt" ]
	[[ ${lines[5]} == " "*";create=20030405060708;"*" /up/own.txt" ]]
	[[ ${lines[7]} == "501 Syntax: MFCT YYYYMMDDHHMMSS path"* ]]
	[ "${lines[8]}" = "550 Permission denied." ]           # deny_file
	[ "${lines[9]}" = "550 Could not set the creation time: Permission denied." ] # a symlink
	[ "$(xattr "$THOME/up/own.txt")" = "$(date -u -d '2003-04-05 06:07:08' +%s)" ]
	[ "$(xattr "$THOME/up/x.lock")" = none ]
	run ftp_py '
f = ftplib.FTP(timeout=30)
f.connect(H, P)
f.login(ARGS[0], ARGS[1])
for name, facts in f.mlsd("up"):
    print("MLSD", name, facts.get("create", "-"))
f.quit()' "$TUSER" "$TPASS"
	[ "$status" -eq 0 ]
	has '^MLSD own\.txt 20030405060708$'
}

@test "MFCT is refused for anonymous without anon_other_write_enable; FEAT lists MFCT" {
	run anon_cmd "MFCT 20020304050607 incoming/anon.txt" FEAT
	[ "${lines[3]}" = "550 Permission denied." ]
	has '^ MFCT$' '^ MFMT$' '^ AVBL$' '^ MDTM$' '^ MLST .*create\*;'
	[ "$(xattr "$ANON/incoming/anon.txt")" = none ]
}

@test "MLST create without MFCT is the birth time, and is left out when OPTS MLST drops it" {
	local born want
	born=$(stat -c %W "$ANON/pub/big.bin")
	[ "$born" -gt 0 ] || skip "this file system keeps no birth time"
	want=$(date -u -d "@$born" +%Y%m%d%H%M%S)
	run anon_cmd "MLST pub/big.bin" "OPTS MLST type;size;" "MLST pub/big.bin"
	[[ ${lines[4]} == *";create=$want;"* ]]
	[[ ${lines[8]} == " type=file;size=$BIG; /pub/big.bin" ]]
}

@test "MFCT on a file system without user extended attributes is a 550 naming the reason" {
	need_user
	mkdir "$THOME/up/ram"
	mount -t ramfs ramfs "$THOME/up/ram" || { rmdir "$THOME/up/ram"; skip "cannot mount ramfs"; }
	echo r >"$THOME/up/ram/r.txt"
	chown -R "$TUSER:" "$THOME/up/ram"
	run user_cmd "MFCT 20030405060708 up/ram/r.txt" "MLST up/ram/r.txt"
	umount "$THOME/up/ram"
	rmdir "$THOME/up/ram"
	[ "${lines[3]}" = "550 Could not set the creation time: this file system keeps no user extended attributes (user.postel.create)." ]
	# ramfs keeps no birth time either: no create fact at all
	[[ ${lines[5]} == " type=file;"* ]]
	[[ ${lines[5]} != *create=* ]]
}

# ---- free space --------------------------------------------------------

@test "AVBL gives a local user statvfs f_bavail*f_frsize; 550 for a file and for anonymous" {
	need_user
	run user_cmd "AVBL" "AVBL up" "AVBL up/own.txt"
	local want a b
	want=$(python3 -c 'import os, sys; v = os.statvfs(sys.argv[1]); print(v.f_bavail * v.f_frsize)' "$THOME")
	[[ ${lines[3]} =~ ^213\ ([0-9]+)$ ]]
	a=${BASH_REMATCH[1]}
	[[ ${lines[4]} =~ ^213\ ([0-9]+)$ ]]
	b=${BASH_REMATCH[1]}
	[[ ${lines[5]} == 550* ]]
	# the disk is shared: allow 64 MiB of other writers between the two looks
	[ $((a > want ? a - want : want - a)) -lt 67108864 ]
	[ $((b > want ? b - want : want - b)) -lt 67108864 ]
	run anon_cmd "AVBL" "AVBL pub"
	[ "${lines[3]}" = "550 AVBL is for authenticated users only." ]
	[ "${lines[4]}" = "550 AVBL is for authenticated users only." ]
}
