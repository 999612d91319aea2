#!/usr/bin/env bats
# ftpd quotas and per-user limits (issue 13): quota_bytes and quota_files
# per user (a 552 leaves nothing behind, parallel sessions stay exact, the
# usage file is rebuilt by a scan and no command reaches it), upload and
# download rates per direction, and max_sessions_per_user (421, slots freed
# by kill -9). Virtual users through pam_userdb, each in a root of its own.

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	load lib/common
	pam_user_add quota
	pam_userdb_add ftpd-quota alice alicepw bob bobpw carol carolpw
}

teardown_file() {
	load lib/common
	pam_userdb_remove
	pam_user_remove
}

setup() {
	load lib/common
	load lib/ftp
	is_root || skip "quota tests need root (PAM, users, chroot)"
}

teardown() {
	if [ -n "${HOLDER_PID:-}" ]; then
		kill "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
	fi
	postel_teardown
}

# quota_up [args]: VROOT/<user> roots (root's, an up/ the guest account
# owns, a <user>.txt), UDIR the user_config_dir, LOCKS the session slots.
# alice: 100000 bytes, 6 files, 2 sessions; bob: 300000 bytes, no file
# limit; carol reads only. The files are read at each login: a test may
# rewrite them after the start.
quota_up() {
	local u
	postel_tmpdir VROOT
	postel_tmpdir UDIR
	postel_tmpdir LOCKS
	chmod 700 "$UDIR" "$LOCKS"
	for u in alice bob carol; do
		mkdir -p "$VROOT/$u/up"
		chown "$TUSER:" "$VROOT/$u/up"
		echo "$u" >"$VROOT/$u/$u.txt"
	done
	printf 'write_enable=YES\nquota_bytes=100000\nquota_files=6\nmax_sessions_per_user=2\n' \
		>"$UDIR/alice"
	printf 'write_enable=YES\nquota_bytes=300000\n' >"$UDIR/bob"
	printf 'write_enable=NO\nquota_bytes=1000\n' >"$UDIR/carol"
	ftp_up -o guest_enable=YES -o "guest_username=$TUSER" -o "pam_service_name=$VPAMSVC" \
		-o virtual_use_local_privs=YES -o 'user_sub_token=$USER' \
		-o "local_root=$VROOT/\$USER" -o "user_config_dir=$UDIR" \
		-o "session_lock_dir=$LOCKS/slots" "$@"
}

# q USER PASS SCRIPT: ftplib logged in as USER (f), with put(name, data)
# and get(name) that print nothing and return the final reply's code.
q() {
	local user=$1 pass=$2 script=$3
	ftp_py "
def login(u, p):
    f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(u, p)
    return f
def code(fn, *a):
    try:
        return str(fn(*a))[:3]
    except ftplib.all_errors as e:
        return str(e)[:3]
def put_on(f, name, data):
    try:
        return f.storbinary('STOR ' + name, io.BytesIO(data))[:3]
    except ftplib.error_perm as e:
        return str(e)[:3]
    except OSError:
        # the server stopped reading mid-stream: its reply is still due
        try:
            f.getresp()
            return '2xx'
        except ftplib.all_errors as e:
            return str(e)[:3]
f = login(ARGS[0], ARGS[1])
put = lambda name, data: put_on(f, name, data)
get = lambda name: code(f.retrbinary, 'RETR ' + name, lambda b: None)
$script" "$user" "$pass" "${@:4}"
}

# usage_of USER: "BYTES FILES" from USER's usage file.
usage_of() {
	python3 - "$VROOT/$1/.ftpquota" <<'EOF'
import struct, sys
rec = open(sys.argv[1], 'rb').read()
magic, ver, dev, ino, b, n, ck = struct.unpack('<IIQQQQQ', rec)
assert len(rec) == 48 and magic == 0x55514650 and ver == 1, rec
print(b, n)
EOF
}

# disk_of USER: "BYTES FILES" counted on disk as the quota counts them:
# every regular file's bytes (partials too), files and directories but
# partials and the usage file.
disk_of() {
	python3 - "$VROOT/$1" <<'EOF'
import os, stat, sys
root = sys.argv[1]; b = n = 0
for d, dirs, files in os.walk(root):
    n += len(dirs)
    for name in files:
        if d == root and name == '.ftpquota':
            continue
        st = os.lstat(os.path.join(d, name))
        if stat.S_ISREG(st.st_mode):
            b += st.st_size
            n += not name.startswith('.postel-part-')
print(b, n)
EOF
}

no_partials() {
	[ -z "$(find "$VROOT" -name '.postel-part-*')" ]
}

# ---- quota_bytes ----------------------------------------------------------------

@test "quota: an upload past quota_bytes gets 552 and leaves nothing; an overwrite keeps the old file" {
	quota_up
	run q alice alicepw '
print("big", put("up/big.bin", os.urandom(150000)))
print("keep", put("up/keep.bin", b"k" * 60000))
print("over", put("up/keep.bin", os.urandom(120000)))'
	has '^big 552$' '^keep 226$' '^over 552$'
	[ ! -e "$VROOT/alice/up/big.bin" ]
	no_partials
	[ "$(sha "$VROOT/alice/up/keep.bin")" = "$(head -c 60000 /dev/zero | tr '\0' k | sha256sum | cut -d' ' -f1)" ]
	[ "$(usage_of alice)" = "$(disk_of alice)" ]
	has -f "$FTPD_LOG" 'upload of /up/big.bin stopped: quota'
}

@test "quota: an overwrite counts the difference and REST/APPE count what they add" {
	quota_up
	run q alice alicepw '
print("first", put("up/a.bin", b"a" * 60000))
print("replace", put("up/a.bin", b"b" * 90000))
print("appe", code(f.storbinary, "APPE up/a.bin", io.BytesIO(b"c" * 9994)))
print("one more", put("up/x.bin", b"x"))'
	has '^first 226$' '^replace 226$' '^appe 226$' '^one more 552$'
	[ "$(stat -c %s "$VROOT/alice/up/a.bin")" = 99994 ]
	[ ! -e "$VROOT/alice/up/x.bin" ]
	no_partials
	# alice.txt (6 bytes) + 99994 = the quota exactly
	[ "$(usage_of alice)" = "100000 3" ]
	[ "$(disk_of alice)" = "100000 3" ]
}

@test "quota: parallel uploads by one user end exactly at its quota" {
	quota_up
	printf 'write_enable=YES\nquota_bytes=3000000\n' >"$UDIR/bob"
	run q bob bobpw '
import threading
res = {}
data = {i: os.urandom(300000 + 1000 * i) for i in range(16)}
def one(i):
    g = login(ARGS[0], ARGS[1])
    res[i] = put_on(g, "up/p%d.bin" % i, data[i])
    g.quit()
ts = [threading.Thread(target=one, args=(i,)) for i in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
for i in range(16):
    ok = res[i] == "226"
    path = os.path.join(sys.argv[-1], "p%d.bin" % i)
    if ok:
        assert hashlib.sha256(open(path, "rb").read()).digest() == hashlib.sha256(data[i]).digest(), i
    else:
        assert not os.path.exists(path), i
    print("upload", i, res[i])
' "$VROOT/bob/up"
	[ "$status" -eq 0 ]
	has '^upload [0-9]* 226$' '^upload [0-9]* 552$'
	hasnt '^upload [0-9]* [^25]'
	no_partials
	# published bytes never pass the quota, and the count is the disk's
	read -r used files <<<"$(disk_of bob)"
	[ "$used" -le 3000000 ]
	[ "$(usage_of bob)" = "$used $files" ]
	# what is left is exactly what still fits: all of it, then not a byte more
	run q bob bobpw "
print('rest', put('up/rest.bin', b'r' * (3000000 - $used)))
print('byte', put('up/byte.bin', b'!'))"
	has '^rest 226$' '^byte 552$'
	[ "$(usage_of bob)" = "3000000 $((files + 1))" ]
}

@test "quota: DELE gives the bytes back, RNFR/RNTO inside the root changes nothing" {
	quota_up
	run q alice alicepw '
print("fill", put("up/fill.bin", b"f" * 99994))
print("full", put("up/more.bin", b"m" * 10))
print("ren", code(f.rename, "up/fill.bin", "up/moved.bin"))
print("full again", put("up/more.bin", b"m" * 10))
print("dele", code(f.delete, "up/moved.bin"))
print("room", put("up/more.bin", b"m" * 10))'
	has '^fill 226$' '^full 552$' '^ren 250$' '^full again 552$' '^dele 250$' '^room 226$'
	[ "$(usage_of alice)" = "16 3" ]
	[ "$(disk_of alice)" = "16 3" ]
}

@test "quota: with upload_atomic=NO a new file past the quota goes and the count stays exact" {
	quota_up -o upload_atomic=NO
	run q alice alicepw '
print("big", put("up/big.bin", os.urandom(150000)))
print("ok", put("up/ok.bin", b"o" * 50000))
print("overwrite", put("up/ok.bin", b"p" * 90000))
print("full", put("up/x.bin", b"x" * 9995))'
	has '^big 552$' '^ok 226$' '^overwrite 226$' '^full 552$'
	[ ! -e "$VROOT/alice/up/big.bin" ]
	[ ! -e "$VROOT/alice/up/x.bin" ]
	[ "$(stat -c %s "$VROOT/alice/up/ok.bin")" = 90000 ]
	[ "$(usage_of alice)" = "90006 3" ]
	[ "$(disk_of alice)" = "90006 3" ]
}

# ---- quota_files ----------------------------------------------------------------

@test "quota: quota_files counts STOR of a new name and MKD, not an overwrite; DELE and RMD free" {
	quota_up
	# alice.txt and up/ are 2 of alice's 6 files
	run q alice alicepw '
print("mkd1", code(f.sendcmd, "MKD up/d1"))
print("mkd2", code(f.sendcmd, "MKD up/d2"))
print("stor1", put("up/f1", b"1"))
print("stor2", put("up/f2", b"2"))
print("mkd3", code(f.sendcmd, "MKD up/d3"))
print("stor3", put("up/f3", b"3"))
print("stou", code(f.storbinary, "STOU up/f1", io.BytesIO(b"u")))
print("overwrite", put("up/f1", b"11"))
print("rmd", code(f.rmd, "up/d1"))
print("stor3 again", put("up/f3", b"3"))
print("dele", code(f.delete, "up/f2"))
print("mkd3 again", code(f.sendcmd, "MKD up/d3"))'
	has '^mkd1 257$' '^mkd2 257$' '^stor1 226$' '^stor2 226$' '^mkd3 552$' '^stor3 552$' \
		'^stou 552$' '^overwrite 226$' '^rmd 250$' '^stor3 again 226$' '^dele 250$' \
		'^mkd3 again 257$'
	[ ! -e "$VROOT/alice/up/f1.1" ]
	[ "$(cat "$VROOT/alice/up/f1")" = 11 ]
	no_partials
	[ "$(usage_of alice)" = "$(disk_of alice)" ]
	[ "$(usage_of alice | cut -d' ' -f2)" = 6 ]
}

# ---- the usage file -------------------------------------------------------------

@test "quota: a missing or stale usage file is rebuilt by a scan and stays exact" {
	quota_up
	run q bob bobpw 'print("a", put("up/a.bin", b"a" * 1000))'
	has '^a 226$'
	[ "$(usage_of bob)" = "1004 3" ]
	[ "$(stat -c '%U %a' "$VROOT/bob/.ftpquota")" = "root 600" ]
	# missing, and the tree changed outside FTP meanwhile
	rm "$VROOT/bob/.ftpquota"
	head -c 200000 /dev/zero >"$VROOT/bob/up/admin.bin"
	mkdir "$VROOT/bob/up/sub"
	run q bob bobpw 'print("big", put("up/big.bin", b"b" * 98997))'
	has '^big 552$'
	[ "$(usage_of bob)" = "201004 5" ]
	has -f "$FTPD_LOG" 'quota: usage rebuilt by a scan: 201004 bytes, 5 files'
	# stale: not a record of this version (garbage)
	printf 'garbage' >"$VROOT/bob/.ftpquota"
	run q bob bobpw '
print("fits", put("up/fits.bin", b"f" * 98996))
print("byte", put("up/byte.bin", b"!"))'
	has '^fits 226$' '^byte 552$'
	[ "$(usage_of bob)" = "300000 6" ]
	[ "$(disk_of bob)" = "300000 6" ]
	log_count_at_least 2 "$FTPD_LOG" 'quota: usage rebuilt by a scan'
}

@test "quota: no command lists, fetches, deletes, renames or replaces the usage file" {
	quota_up
	run q alice alicepw '
lines = []
f.retrlines("LIST -a", lines.append)
print("list", "|".join(lines))
print("nlst", "|".join(f.nlst("-a")))
print("mlsd", "|".join(n for n, _ in f.mlsd("/")))
print("retr", get(".ftpquota"))
print("size", code(f.size, "/.ftpquota"))
print("dele", code(f.delete, ".ftpquota"))
print("rnfr", code(f.sendcmd, "RNFR /.ftpquota"))
print("rnto", code(f.sendcmd, "RNFR up"), code(f.sendcmd, "RNTO .ftpquota"))
print("stor", put("up/.ftpquota", b"x"))
print("mlst", code(f.sendcmd, "MLST /.ftpquota"))'
	[ "$status" -eq 0 ]
	has '^list ' '^nlst ' '^mlsd ' '^retr 550$' '^size 550$' '^dele 550$' '^rnfr 550$' \
		'^rnto 350 550$' '^stor 550$' '^mlst 550$'
	has '^list .*alice\.txt' '^mlsd .*alice\.txt'
	hasnt 'ftpquota'
	[ -s "$VROOT/alice/.ftpquota" ]
	[ -d "$VROOT/alice/up" ]
	[ ! -e "$VROOT/alice/up/.ftpquota" ]
}

@test "quota: a user's quota is its own; a user without write rights still has none" {
	quota_up
	run q alice alicepw 'print("alice", put("up/a.bin", b"a" * 150000))'
	has '^alice 552$'
	run q bob bobpw 'print("bob", put("up/a.bin", b"a" * 150000))'
	has '^bob 226$'
	run q carol carolpw 'print("carol", put("up/a.bin", b"a"))'
	has '^carol 550$'
	[ ! -e "$VROOT/alice/up/a.bin" ]
	[ ! -e "$VROOT/carol/up/a.bin" ]
	[ "$(stat -c %s "$VROOT/bob/up/a.bin")" = 150000 ]
}

# ---- rates ----------------------------------------------------------------------

@test "rates: upload_max_rate and download_max_rate apply per direction, else local_max_rate" {
	quota_up -o local_max_rate=400000
	printf 'write_enable=YES\nupload_max_rate=100000\ndownload_max_rate=200000\n' >"$UDIR/bob"
	head -c 250000 /dev/urandom >"$VROOT/bob/up/down.bin"
	cp "$VROOT/bob/up/down.bin" "$VROOT/alice/up/down.bin"
	run q bob bobpw '
t0 = time.monotonic(); print("up", put("up/new.bin", os.urandom(250000))); print("up secs", time.monotonic() - t0)
t0 = time.monotonic(); print("down", get("up/down.bin")); print("down secs", time.monotonic() - t0)'
	has '^up 226$' '^down 226$'
	# lower bounds only, with room: size/rate is 2.5 s and 1.25 s
	awk '/^up secs/ { exit !($3 >= 1.8) }' <<<"$output"
	awk '/^down secs/ { exit !($3 >= 0.9) }' <<<"$output"
	has -f "$FTPD_LOG" 'u=bob.*upload limited to 100000 bytes/s' \
		'u=bob.*download limited to 200000 bytes/s'
	run q alice alicepw 'print("down", get("up/down.bin"))'
	has '^down 226$'
	has -f "$FTPD_LOG" 'u=alice.*download limited to 400000 bytes/s'
	hasnt -f "$FTPD_LOG" 'u=alice.*(upload|download) limited to [12]00000'
}

# ---- max_sessions_per_user ------------------------------------------------------

@test "sessions: a third session of a user with max_sessions_per_user=2 gets 421 after PASS" {
	quota_up
	run q alice alicepw '
g = login(ARGS[0], ARGS[1])
h = ftplib.FTP(timeout=30); h.connect(H, P); h.sendcmd("USER alice")
try:
    print("third", h.sendcmd("PASS alicepw"))
except ftplib.all_errors as e:
    print("third", str(e))
try:
    print("after", h.sendcmd("PWD"))
except Exception:
    print("after closed")
b = login("bob", "bobpw")
print("bob", b.pwd())
print("first still", f.pwd(), g.pwd())'
	has '^third 421 ' '^after closed$' '^bob /$' '^first still / /$'
	hasnt '^third 230'
	has -f "$FTPD_LOG" 'login alice refused: max_sessions_per_user \(2\) reached'
	# a refused third is not a failed password: no delay, no penalty
	hasnt -f "$FTPD_LOG" 'login refused for alice'
}

@test "sessions: kill -9 of a session frees its slot; anonymous sessions count together" {
	quota_up -o max_sessions_per_user=1
	postel_tmpdir SYNC
	printf 'write_enable=YES\nmax_sessions_per_user=2\n' >"$UDIR/alice"
	q alice alicepw "
g = login(ARGS[0], ARGS[1])
open('$SYNC/port', 'w').write(str(f.sock.getsockname()[1]))
for i in range(600):
    if os.path.exists('$SYNC/killed'):
        break
    time.sleep(0.05)
for i in range(100):
    h = ftplib.FTP(timeout=30); h.connect(H, P); h.sendcmd('USER alice')
    try:
        print('again', h.sendcmd('PASS alicepw')[:3]); break
    except ftplib.error_temp as e:
        print('again', str(e)[:3]); h.close(); time.sleep(0.1)
print('other still', g.pwd())
" >"$SYNC/out" 2>&1 &
	HOLDER_PID=$!
	wait_for 20 test -s "$SYNC/port"
	# both slots taken: a third is refused
	run q alice alicepw 'print("x")'
	[ "$status" -ne 0 ]
	has '421'
	# every process holding the first session's control connection
	pids=$(ss -Htnp "sport = :$FTPD_PORT and dport = :$(cat "$SYNC/port")" |
		grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
	[ -n "$pids" ]
	[[ " $pids " != *" $FTPD_PID "* ]]
	# shellcheck disable=SC2086
	kill -KILL $pids
	# shellcheck disable=SC2086
	wait_gone $pids
	touch "$SYNC/killed"
	wait "$HOLDER_PID"
	HOLDER_PID=
	run cat "$SYNC/out"
	has '^again 230$' '^other still /$'
	hasnt '^again 421$'
	# anonymous and ftp are one user, "anonymous", under the global limit of 1
	run ftp_session "@1 USER anonymous" "@1 PASS a@" "@2 USER ftp" "@2 PASS b@" "@1 PWD"
	has '^1: 230 ' '^2: 421 Too many sessions' '^1: 257 "/"'
	hasnt '^2: 230'
	has -f "$FTPD_LOG" 'login anonymous refused: max_sessions_per_user \(1\) reached'
}

@test "anonymous-only (one worker, no second at the login): the anonymous quota and session limit hold" {
	postel_tmpdir LOCKS
	chmod 700 "$LOCKS"
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o quota_bytes=5000 \
		-o max_sessions_per_user=1 -o "session_lock_dir=$LOCKS/slots"
	# the anonymous root is 0555: the monitor (no CAP_DAC_OVERRIDE) cannot
	# make the usage file there, so it is made here, empty (rebuilt by a scan)
	install -m 600 /dev/null "$ANON/.ftpquota"
	run ftp_py '
def put(f, name, n):
    try:
        return f.storbinary("STOR " + name, io.BytesIO(b"q" * n))[:3]
    except ftplib.error_perm as e:
        return str(e)[:3]
    except OSError:
        try:
            f.getresp()
            return "2xx"
        except ftplib.all_errors as e:
            return str(e)[:3]
f = anon()
print("small", put(f, "incoming/a.bin", 3000))
print("past", put(f, "incoming/b.bin", 3000))
g = ftplib.FTP(timeout=30); g.connect(H, P); g.sendcmd("USER anonymous")
try:
    print("second", g.sendcmd("PASS x@")[:3])
except ftplib.error_temp as e:
    print("second", str(e)[:3])
print("first still", f.pwd())
f.quit()'
	echo "$output"
	has '^small 226' '^past 552' '^second 421' '^first still /$'
	[ ! -e "$ANON/incoming/b.bin" ]
	has -f "$FTPD_LOG" 'login anonymous refused: max_sessions_per_user \(1\) reached'
}

# ---- ftpd -t --------------------------------------------------------------------

@test "ftpd -t: quota, rate and session keys are checked, in the main file and a user's" {
	check_bad "quota_bytes=-1" 'quota_bytes: expected a whole number'
	check_bad "quota_files=many" 'quota_files: expected a whole number'
	check_bad "upload_max_rate=1e6" 'upload_max_rate: expected a whole number'
	check_bad "download_max_rate=" 'download_max_rate: expected a whole number'
	check_bad "max_sessions_per_user=100001" 'max_sessions_per_user: expected a whole number from 0 to 100000'
	check_bad "session_lock_dir=run/x" 'session_lock_dir: must be an absolute path'
	local ud
	postel_tmpdir ud
	printf 'quota_bytes=10\nquota_files=2\nupload_max_rate=5\ndownload_max_rate=5\nmax_sessions_per_user=1\n' >"$ud/good"
	config_env ftpd
	run "$POSTEL_BUILD/ftpd" -t -o "user_config_dir=$ud" "${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
	printf '# x\nquota_bytes=lots\nsession_lock_dir=/tmp\n' >"$ud/bad"
	run "$POSTEL_BUILD/ftpd" -t -o "user_config_dir=$ud"
	[ "$status" -eq 1 ]
	has "^$ud/bad:2: quota_bytes: expected a whole number" \
		"^$ud/bad:3: session_lock_dir: not allowed in this file"
}
