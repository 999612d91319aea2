#!/usr/bin/env bats
# ftpd as an internal file drop (upload_atomic): a program picking files up
# sees only complete uploads, a partial is never reachable by any command,
# an overwrite is one rename, failed uploads are resumed (lftp put -c,
# REST+STOR, APPE) or expire (upload_partial_keep), anonymous partials go at
# once, and upload_fsync. Real clients: curl, lftp, Python ftplib, inotifywait.

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	load lib/common
	pam_user_add drop
	mkdir -p "$THOME/drop"
	chown "$TUSER:" "$THOME/drop"
	chmod 755 "$THOME/drop"
}

teardown_file() {
	load lib/common
	pam_user_remove
}

setup() {
	load lib/common
	load lib/ftp
	is_root || skip "drop tests need root (PAM, a local user, chroot)"
	rm -rf "${THOME:?}/drop"
	mkdir -p "$THOME/drop"
	chown "$TUSER:" "$THOME/drop"
	chmod 755 "$THOME/drop"
	DROP=$THOME/drop
	postel_tmpdir WORK
	WATCH_PID=
	CONSUMER_PID=
}

teardown() {
	[ -z "$WATCH_PID" ] || kill "$WATCH_PID" 2>/dev/null || true
	[ -z "$CONSUMER_PID" ] || kill "$CONSUMER_PID" 2>/dev/null || true
	postel_teardown
}

# drop_up [args]: local users (chrooted to their home) and anonymous may upload.
drop_up() {
	ftp_up -o local_enable=YES -o "pam_service_name=$PAMSVC" -o write_enable=YES \
		-o anon_upload_enable=YES -o anon_umask=022 -o local_umask=022 "$@"
	URL=ftp://127.0.0.1:$FTPD_PORT
}

# The hidden name of a resumable partial (pi/upload.c): what a client
# would have to guess to reach one.
partial_of() {
	printf '.postel-part-r%s\n' "$(printf 'postel-upload\0%s%s\0%s' "$1" "$2" "$3" | sha256sum | cut -c1-32)"
}
# LOGIN_LOCAL is 2 in enum login_kind (ftpd/session.h)
local_partial() { partial_of 2 "$TUSER" "$1"; }

partials() { find "$1" -maxdepth 1 -name '.postel-part-*' | wc -l; }
has_partials() { [ "$(partials "$1")" -gt 0 ]; }
no_partials() { [ "$(partials "$1")" -eq 0 ]; }
# killed_started: each slow upload has run 3 s (3 MB at 1 MB/s), so its
# transfer is long enough to get the whole 50 ms in which ftpd looks for
# the control connection's end before it publishes (cmd_data.c client_gone).
killed_started() {
	local n
	for n in killed-curl1 killed-curl2 killed-lftp1 killed-lftp2 killed-py1 killed-py2; do
		size_at_least "$DROP/$(local_partial "$n.bin")" $((3 << 20)) || return 1
	done
}
size_at_least() { [ -f "$1" ] && [ "$(stat -c %s "$1")" -ge "$2" ]; }

# An upload by ftplib as the local user that stops after N bytes of FILE:
# with ABOR (how=abor) or by a reset data connection (how=reset).
interrupted_upload() {
	ftp_py '
import struct
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
data = open(ARGS[3], "rb").read()[:int(ARGS[4])]
c = f.transfercmd("STOR drop/" + ARGS[2])
c.sendall(data)
def stored():
    for n in os.listdir(ARGS[6]):
        if n.startswith(".postel-part-") and os.path.getsize(ARGS[6] + "/" + n) >= len(data):
            return n
deadline = time.time() + 10
while time.time() < deadline and not stored():
    time.sleep(0.02)
print("PARTIAL", stored())
if ARGS[5] == "abor":
    # the replies first: a data connection closed before the server reads
    # ABOR is a complete upload
    f.sock.sendall(b"ABOR\r\n")
    print("R1", f.getline()); print("R2", f.getline())
    c.close()
else:
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    try: f.voidresp()
    except ftplib.Error as e: print("END", e)
print("NOOP", f.voidcmd("NOOP"))' "$TUSER" "$TPASS" "$1" "$2" "$3" "$4" "$DROP"
}

# ---- what a consumer sees --------------------------------------------------

# seen_at_least N: the consumer has seen N distinct names (for wait_for,
# which expands a "$(...)" argument only once).
seen_at_least() { [ "$(awk '{ print $1 }' "$WORK/seen" | sort -u | wc -l)" -ge "$1" ]; }

@test "a consumer watching the drop with inotify sees only complete uploads, never a killed one" {
	drop_up -o max_per_ip=0 -o max_clients=0
	mkdir -p "$WORK/src"
	# 200 files of random sizes (0 to 3 MB), named by client
	python3 - "$WORK/src" <<'EOF'
import os, random, sys
random.seed(13)
for i in range(200):
    n = random.choice([0, 1, 100, 4096, 65536]) if i % 10 == 0 else random.randint(1, 1 << 20)
    open(os.path.join(sys.argv[1], "f%03d.bin" % i), "wb").write(os.urandom(n))
EOF
	(cd "$WORK/src" && sha256sum f*.bin) >"$WORK/expected"
	# the consumer: hashes every file the moment it appears (skipping dot
	# names, as pick-up scripts do: a partial's name starts with a dot)
	# (through a FIFO, not a pipe, so both ends have a PID teardown ends;
	# fd 3 closed, or bats waits for them at the end of the file)
	mkfifo "$WORK/events.fifo"
	while read -r name; do
		[ "${name#.}" = "$name" ] || continue
		printf '%s %s\n' "$name" "$(sha256sum <"$DROP/$name" | cut -d' ' -f1)"
	done <"$WORK/events.fifo" >"$WORK/seen" 3>&- &
	CONSUMER_PID=$!
	inotifywait -m -e close_write,moved_to --format '%f' "$DROP" >"$WORK/events.fifo" \
		2>"$WORK/inotify.err" 3>&- &
	WATCH_PID=$!
	wait_for 10 grep -q 'Watches established' "$WORK/inotify.err"
	# six killed uploads of 20 MB at 1 MB/s: always mid-stream when killed
	head -c $((20 << 20)) /dev/urandom >"$WORK/killme.bin"
	local kpids=()
	for k in 1 2; do
		curl -sS --limit-rate 1M -u "$TUSER:$TPASS" -T "$WORK/killme.bin" "$URL/drop/killed-curl$k.bin" &
		kpids+=($!)
		lftp -u "$TUSER,$TPASS" -p "$FTPD_PORT" 127.0.0.1 \
			-e "set net:limit-rate 1000000; put $WORK/killme.bin -o drop/killed-lftp$k.bin; quit" \
			>/dev/null 2>&1 &
		kpids+=($!)
		python3 - "$FTPD_PORT" "$TUSER" "$TPASS" "$WORK/killme.bin" "killed-py$k.bin" <<'EOF' &
import ftplib, sys, time
f = ftplib.FTP(timeout=60); f.connect("127.0.0.1", int(sys.argv[1])); f.login(sys.argv[2], sys.argv[3])
c = f.transfercmd("STOR drop/" + sys.argv[5])
data = open(sys.argv[4], "rb").read()
for i in range(0, len(data), 65536):
    c.sendall(data[i:i + 65536]); time.sleep(0.06)
EOF
		kpids+=($!)
	done
	# the 200 good uploads: a third each by curl, lftp and ftplib, in parallel
	(cd "$WORK/src" && ls f*.bin) >"$WORK/by-all"
	(cd "$WORK/src" && ls f*.bin) | awk 'NR % 3 == 0' >"$WORK/by-curl"
	(cd "$WORK/src" && ls f*.bin) | awk 'NR % 3 == 1' >"$WORK/by-lftp"
	(cd "$WORK/src" && ls f*.bin) | awk 'NR % 3 == 2' >"$WORK/by-py"
	(while read -r n; do
		curl -sS --max-time 60 -u "$TUSER:$TPASS" -T "$WORK/src/$n" "$URL/drop/$n" || echo "curl $n failed"
	done <"$WORK/by-curl") >"$WORK/curl.out" 2>&1 &
	local c1=$!
	(echo "open -u $TUSER,$TPASS -p $FTPD_PORT 127.0.0.1"
		sed "s|.*|put $WORK/src/& -o drop/&|" "$WORK/by-lftp"
		echo quit) >"$WORK/lftp.script"
	lftp -f "$WORK/lftp.script" >"$WORK/lftp.out" 2>&1 &
	local c2=$!
	python3 - "$FTPD_PORT" "$TUSER" "$TPASS" "$WORK/src" "$WORK/by-py" >"$WORK/py.out" 2>&1 <<'EOF' &
import ftplib, sys
f = ftplib.FTP(timeout=60); f.connect("127.0.0.1", int(sys.argv[1])); f.login(sys.argv[2], sys.argv[3])
for n in open(sys.argv[5]).read().split():
    f.storbinary("STOR drop/" + n, open(sys.argv[4] + "/" + n, "rb"))
f.quit()
EOF
	local c3=$!
	# kill the slow ones mid-stream: each has stored some bytes, none all
	wait_for 60 killed_started
	for p in "${kpids[@]}"; do
		kill -KILL "$p"
	done
	# Reaped here, so bash's "Killed" notices go nowhere instead of into
	# the output of a later run (a CI run's hasnt . failed on them).
	for p in "${kpids[@]}"; do
		{ wait "$p"; } 2>/dev/null || true
	done
	wait "$c1" "$c2" "$c3"
	[ ! -s "$WORK/curl.out" ]
	[ ! -s "$WORK/py.out" ]
	[ ! -s "$WORK/lftp.out" ]
	# every good upload arrived complete
	(cd "$DROP" && sha256sum f*.bin) | diff - "$WORK/expected"
	# the consumer saw each name it saw with the bytes of a finished upload
	wait_for 120 seen_at_least 200 ||
		{ awk '{ print $1 }' "$WORK/seen" | sort -u | comm -13 - "$WORK/by-all"; false; }
	awk '{ print $2 "  " $1 }' "$WORK/seen" | sort -u >"$WORK/seen.sorted"
	sort -u "$WORK/expected" >"$WORK/expected.sorted"
	run comm -23 "$WORK/seen.sorted" "$WORK/expected.sorted"
	hasnt .
	# and never a killed upload, a partial or any other name
	run awk '$1 !~ /^f[0-9][0-9][0-9]\.bin$/' "$WORK/seen"
	hasnt .
	run ls "$DROP"
	hasnt killed
	# the killed uploads' partials wait for a resume
	[ "$(partials "$DROP")" -eq 6 ]
}

@test "lftp put -c resumes an interrupted upload and publishes the whole file once" {
	drop_up
	head -c $((8 << 20)) /dev/urandom >"$WORK/big.bin"
	inotifywait -m -e close_write,moved_to,create --format '%e %f' "$DROP" >"$WORK/events" \
		2>"$WORK/inotify.err" 3>&- &
	WATCH_PID=$!
	wait_for 10 grep -q 'Watches established' "$WORK/inotify.err"
	lftp -u "$TUSER,$TPASS" -p "$FTPD_PORT" 127.0.0.1 \
		-e "set net:limit-rate 500000; put $WORK/big.bin -o drop/big.bin; quit" >/dev/null 2>&1 &
	local lp=$! part
	part=$DROP/$(local_partial big.bin)
	wait_for 20 size_at_least "$part" 1000000
	kill -KILL "$lp"
	wait_for 10 [ ! -e "$DROP/big.bin" ]
	[ ! -e "$DROP/big.bin" ]
	has_partials "$DROP"
	run lftp -d -u "$TUSER,$TPASS" -p "$FTPD_PORT" 127.0.0.1 -e "put -c $WORK/big.bin -o drop/big.bin; quit"
	# it resumed: a restart offset past the first megabyte, not a new upload
	has '^---> REST [0-9]{7,}'
	[ "$(sha "$DROP/big.bin")" = "$(sha "$WORK/big.bin")" ]
	no_partials "$DROP"
	# one rename brought it, nothing wrote under its name before
	wait_for 10 grep -q 'CLOSE_WRITE,CLOSE big.bin' "$WORK/events"
	run grep -c '^MOVED_TO big\.bin$' "$WORK/events"
	[ "$output" -eq 1 ]
	run grep ' big\.bin$' "$WORK/events"
	[ "${lines[0]}" = "MOVED_TO big.bin" ]
	hasnt '^CREATE big'

}

@test "ftplib REST+STOR and APPE resume a partial; the file appears once, complete" {
	drop_up
	head -c 3000000 /dev/urandom >"$WORK/a.bin"
	run interrupted_upload r.bin "$WORK/a.bin" 1000000 abor
	has '^R1 426' '^NOOP 200'
	[ ! -e "$DROP/r.bin" ]
	run interrupted_upload p.bin "$WORK/a.bin" 1200000 reset
	has '^NOOP 200'
	[ ! -e "$DROP/p.bin" ]
	run ftp_py '
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
data = open(ARGS[2], "rb").read()
n = f.size("drop/r.bin"); print("SIZE r", n)
print(f.storbinary("STOR drop/r.bin", io.BytesIO(data[n:]), rest=n))
n = f.size("drop/p.bin"); print("SIZE p", n)
print(f.storbinary("APPE drop/p.bin", io.BytesIO(data[n:])))
try: f.storbinary("STOR drop/r2.bin", io.BytesIO(b"x"), rest=10)
except ftplib.Error as e: print("BEYOND", e)' "$TUSER" "$TPASS" "$WORK/a.bin"
	has '^SIZE r 1000000$' '^SIZE p 1200000$' '^BEYOND 554'
	[ "$(sha "$DROP/r.bin")" = "$(sha "$WORK/a.bin")" ]
	[ "$(sha "$DROP/p.bin")" = "$(sha "$WORK/a.bin")" ]
	[ ! -e "$DROP/r2.bin" ]
	no_partials "$DROP"
}

# ---- the partial is nobody's to reach ----------------------------------------

@test "a partial is never listed, fetched, sized, deleted, renamed or written by any command" {
	drop_up
	head -c 500000 /dev/urandom >"$WORK/a.bin"
	run interrupted_upload hid.bin "$WORK/a.bin" 200000 abor
	local part
	part=$(local_partial hid.bin)
	[ -f "$DROP/$part" ]
	run ftp_py '
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
t = ARGS[2]
def L(text):
    for l in text.split("\n"): print("L:", l)
for what, call in (
        ("LIST", lambda: f.retrlines("LIST -a drop", L)),
        ("LISTGLOB", lambda: f.retrlines("LIST -a drop/.postel*", L)),
        ("NLST", lambda: f.retrlines("NLST -a drop", L)),
        ("MLSD", lambda: f.retrlines("MLSD drop", L)),
        ("STAT", lambda: L(f.sendcmd("STAT -a drop"))),
        ("STATP", lambda: print(f.sendcmd("STAT drop/" + t))),
        ("MLST", lambda: print(f.sendcmd("MLST drop/" + t))),
        ("RETR", lambda: f.retrbinary("RETR drop/" + t, print)),
        ("SIZE", lambda: print(f.sendcmd("SIZE drop/" + t))),
        ("MDTM", lambda: print(f.sendcmd("MDTM drop/" + t))),
        ("DELE", lambda: print(f.sendcmd("DELE drop/" + t))),
        ("RNFR", lambda: print(f.sendcmd("RNFR drop/" + t))),
        ("CWD", lambda: print(f.sendcmd("CWD drop/" + t))),
        ("STOR", lambda: f.storbinary("STOR drop/" + t, io.BytesIO(b"evil"))),
        ("APPE", lambda: f.storbinary("APPE drop/" + t, io.BytesIO(b"evil"))),
        ("MKD", lambda: print(f.sendcmd("MKD drop/.postel-part-x"))),
        ("RNTO", lambda: (f.sendcmd("RNFR drop"), print(f.sendcmd("RNTO .postel-part-x"))))):
    try:
        call(); print(what, "DONE")
    except ftplib.Error as e:
        print(what, "ERR", e)' "$TUSER" "$TPASS" "$part"
	hasnt '^L:.*postel-part' '^L:.*hid\.bin' "^(STATP|MLST|RETR|SIZE|MDTM|DELE|RNFR|CWD|STOR|APPE|MKD|RNTO) DONE"
	has '^LIST DONE' '^LISTGLOB DONE' '^NLST DONE' '^MLSD DONE' '^STAT DONE' '^L: 213-' '^L:.* \.\.$'
	has '^RETR ERR 550' '^SIZE ERR 550' '^DELE ERR 550' '^RNFR ERR 550' '^STOR ERR 550'
	# untouched, still resumable
	[ "$(stat -c %s "$DROP/$part")" -eq 200000 ]
	[ ! -e "$DROP/.postel-part-x" ]
}

# ---- overwrite ---------------------------------------------------------------

@test "an overwrite is one rename: the old name holds the old bytes until the new are complete" {
	drop_up
	head -c 4000000 /dev/urandom >"$WORK/old.bin"
	head -c 4000000 /dev/urandom >"$WORK/new.bin"
	cp "$WORK/old.bin" "$DROP/f.bin"
	chown "$TUSER:" "$DROP/f.bin"
	run ftp_py '
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
old = open(ARGS[2] + "/old.bin", "rb").read(); new = open(ARGS[2] + "/new.bin", "rb").read()
reader = open(ARGS[3], "rb"); first = reader.read(1000)
c = f.transfercmd("STOR drop/f.bin")
c.sendall(new[:3000000])
time.sleep(0.3)
print("MIDWAY old", open(ARGS[3], "rb").read() == old)
c.sendall(new[3000000:]); c.close(); print(f.voidresp())
print("AFTER new", open(ARGS[3], "rb").read() == new)
print("READER old", first + reader.read() == old)' "$TUSER" "$TPASS" "$WORK" "$DROP/f.bin"
	has '^MIDWAY old True$' '^226' '^AFTER new True$' '^READER old True$'
}

# ---- partials that nobody resumes --------------------------------------------

old_enough() { [ $(($(date +%s) - $(stat -c %Y "$1"))) -gt "$2" ]; }

# kept_partial NAME: an upload of NAME aborted after 100,000 bytes; PART is
# the partial it left.
kept_partial() {
	head -c 300000 /dev/urandom >"$WORK/a.bin"
	run interrupted_upload "$1" "$WORK/a.bin" 100000 abor
	PART=$DROP/$(local_partial "$1")
	[ -f "$PART" ]
}

@test "a partial nobody resumes is removed after upload_partial_keep, at the next upload there" {
	drop_up -o upload_partial_keep=2
	kept_partial gone.bin
	local part=$PART
	# young: another upload into the directory leaves it
	curl -sS -u "$TUSER:$TPASS" -T "$WORK/a.bin" "$URL/drop/other1.bin"
	[ -f "$part" ]
	wait_for 10 old_enough "$part" 2
	curl -sS -u "$TUSER:$TPASS" -T "$WORK/a.bin" "$URL/drop/other2.bin"
	[ ! -e "$part" ]
	[ -f "$DROP/other2.bin" ]
}

@test "an expired partial is not resumed: the session that finds it starts over" {
	drop_up -o upload_partial_keep=2
	kept_partial late.bin
	wait_for 10 old_enough "$PART" 2
	run ftp_py '
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
try: print("SIZE", f.size("drop/late.bin"))
except ftplib.Error as e: print("SIZE ERR", e)
try: f.storbinary("STOR drop/late.bin", io.BytesIO(b"x"), rest=100000)
except ftplib.Error as e: print("REST ERR", e)' "$TUSER" "$TPASS"
	has '^SIZE ERR 550' '^REST ERR 554'
	[ ! -e "$DROP/late.bin" ]
}

@test "an anonymous partial is removed at once: aborted, reset or client gone" {
	drop_up
	chown "$FTPD_USER" "$ANON/incoming"
	run ftp_py '
import struct
def mid(how):
    f = anon(); c = f.transfercmd("STOR incoming/" + how + ".bin")
    c.sendall(b"x" * 300000)
    deadline = time.time() + 10
    while time.time() < deadline and not any(n.startswith(".postel-part-") and os.path.getsize(ARGS[0] + "/" + n) > 0 for n in os.listdir(ARGS[0])):
        time.sleep(0.02)
    print(how, "PARTIAL", [n[:14] for n in os.listdir(ARGS[0])])
    return f, c
f, c = mid("abor"); f.sock.sendall(b"ABOR\r\n"); print("ABOR", f.getline(), f.getline()); c.close()
print("LEFT", os.listdir(ARGS[0]))
f, c = mid("reset"); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
print("RESET", f.getline()); print("LEFT", os.listdir(ARGS[0]))
f, c = mid("gone"); f.sock.shutdown(socket.SHUT_RDWR); f.sock.close(); c.close()' "$ANON/incoming"
	has "^abor PARTIAL \['.postel-part-a'\]" "^reset PARTIAL \['.postel-part-a'\]" "^gone PARTIAL"
	has '^ABOR 426' '^RESET 426'
	hasnt "^LEFT \[.+\]"
	wait_for 10 no_partials "$ANON/incoming"
	run ls -A "$ANON/incoming"
	[ "$output" = "" ]
}

@test "delete_failed_uploads=YES leaves a local user nothing to resume" {
	drop_up -o delete_failed_uploads=YES
	head -c 300000 /dev/urandom >"$WORK/a.bin"
	run interrupted_upload del.bin "$WORK/a.bin" 100000 abor
	has '^R1 426'
	no_partials "$DROP"
	[ ! -e "$DROP/del.bin" ]
}

@test "a second upload of a name whose upload runs is refused with 450" {
	drop_up
	run ftp_py '
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
c = f.transfercmd("STOR drop/busy.bin"); c.sendall(b"a" * 1000)
g = ftplib.FTP(timeout=30); g.connect(H, P); g.login(ARGS[0], ARGS[1])
try: g.storbinary("STOR drop/busy.bin", io.BytesIO(b"b"))
except ftplib.Error as e: print("SECOND", e)
c.close(); print("FIRST", f.voidresp())' "$TUSER" "$TPASS"
	has '^SECOND 450' '^FIRST 226'
	[ "$(cat "$DROP/busy.bin" | wc -c)" -eq 1000 ]
}

@test "anonymous without anon_other_write_enable never replaces a file, even one that appears meanwhile" {
	drop_up
	chown "$FTPD_USER" "$ANON/incoming"
	echo keep >"$ANON/incoming/there"
	run ftp_py '
f = anon()
try: f.storbinary("STOR incoming/there", io.BytesIO(b"clobber"))
except ftplib.Error as e: print("THERE", e)
c = f.transfercmd("STOR incoming/race"); c.sendall(b"late")
open(ARGS[0] + "/race", "w").write("first\n")
c.close()
try: f.voidresp()
except ftplib.Error as e: print("RACE", e)' "$ANON/incoming"
	has '^THERE 553' '^RACE 553'
	[ "$(cat "$ANON/incoming/there")" = keep ]
	[ "$(cat "$ANON/incoming/race")" = first ]
	no_partials "$ANON/incoming"
}

# ---- upload_fsync --------------------------------------------------------------

traced() { ! grep -q '^TracerPid:[[:space:]]*0$' "/proc/$1/status"; }

# fsync_calls: the fsync family and rename calls ftpd's processes make
# during one upload.
fsync_calls() {
	strace -f -qq -s 256 -e trace=fsync,fdatasync,syncfs,renameat2,renameat -p "$FTPD_PID" -o "$WORK/strace" &
	local st=$!
	wait_for 10 traced "$FTPD_PID"
	curl -sS -u "$TUSER:$TPASS" -T "$WORK/a.bin" "$URL/drop/s.bin"
	kill "$st"
	wait "$st" 2>/dev/null || true
	grep -E 'fsync|syncfs|rename' "$WORK/strace" | sed 's/^[0-9]* *//'
}

@test "upload_fsync=YES: the file, then after the rename its directory, are fsynced before 226" {
	drop_up -o upload_fsync=YES
	head -c 100000 /dev/urandom >"$WORK/a.bin"
	run fsync_calls
	# fsync(file), renameat(partial -> s.bin), fsync(directory), in that order
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[0]} == fsync\(* ]]
	[[ ${lines[1]} == renameat*\(*postel-part-r*\"s.bin\"* ]]
	[[ ${lines[2]} == fsync\(* ]]
	[ "${lines[0]}" != "${lines[2]}" ]
	[ "$(sha "$DROP/s.bin")" = "$(sha "$WORK/a.bin")" ]
}

@test "upload_fsync=NO (the default): one rename, no fsync" {
	drop_up
	head -c 100000 /dev/urandom >"$WORK/a.bin"
	run fsync_calls
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == renameat*\(*postel-part-r*\"s.bin\"* ]]
}

@test "upload_atomic=NO writes the final name in place, as vsftpd does" {
	drop_up -o upload_atomic=NO
	run ftp_py '
f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
c = f.transfercmd("STOR drop/inplace.bin"); c.sendall(b"a" * 5000)
deadline = time.time() + 10
while time.time() < deadline and not (os.path.exists(ARGS[2]) and os.path.getsize(ARGS[2]) == 5000):
    time.sleep(0.02)
print("MIDWAY", os.path.getsize(ARGS[2]))
c.close(); print(f.voidresp())
# O_APPEND in place (the DTP cannot splice into it)
print("APPE", f.storbinary("APPE drop/inplace.bin", io.BytesIO(b"b" * 300000)))
print("SAME", open(ARGS[2], "rb").read() == b"a" * 5000 + b"b" * 300000)' "$TUSER" "$TPASS" "$DROP/inplace.bin"
	has '^MIDWAY 5000$' '^226' '^APPE 226' '^SAME True$'
	no_partials "$DROP"
}
