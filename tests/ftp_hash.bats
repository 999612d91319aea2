#!/usr/bin/env bats
# ftpd checksums: HASH with OPTS HASH and RANG (draft-bryan-ftpext-hash-02)
# and ProFTPD mod_digest's XSHA256, XSHA512, XSHA1, XMD5 and XCRC, each
# checked against coreutils and Python's zlib; the rate limit and ABOR,
# STAT and NOOP during a long hash; and the cache every session's monitor
# shares (a second hash reads nothing, an edited file is hashed again).
# One daemon serves the whole file (anon_max_rate 4 MB/s).

RATE=4000000

setup_file() {
	load lib/common
	load lib/ftp
	ftp_up -o anon_max_rate=$RATE -o xferlog_enable=YES -o 'deny_file={*.secret}'
	head -c 1000003 /dev/urandom >"$ANON/pub/r.bin"
	head -c 2000000 /dev/urandom >"$ANON/pub/two.bin"
	echo secret >"$ANON/pub/x.secret"
	# sparse: 1 GB of holes, 250 s at the rate, so it is still running at ABOR
	truncate -s 1G "$ANON/pub/sparse.bin"
	mkfifo "$ANON/pub/fifo"
	chmod 644 "$ANON/pub/"*
	export RATE
}

teardown_file() {
	# lib/common empties its list of what to stop when loaded: stop by
	# the PID and dir setup_file exported.
	load lib/common
	stop_pid "$FTPD_PID"
	check_log "$FTPD_LOG"
	local ok=$?
	rm -rf "$FTPD_DIR"
	return "$ok"
}

setup() {
	load lib/common
	load lib/ftp
}

# hpy SCRIPT: Python with an anonymous ftplib session f, and cmd(line)
# returning the reply (errors too) as text.
hpy() {
	ftp_py "
f = anon()
def cmd(line):
    try:
        return f.sendcmd(line)
    except ftplib.all_errors as e:
        return str(e)
$1"
}

@test "FEAT lists HASH with every algorithm, SHA-256 starred, and OPTS HASH moves the star" {
	run hpy '
print(cmd("FEAT"))
print(cmd("OPTS HASH"))
print(cmd("OPTS HASH md5"))
print(cmd("FEAT"))
print(cmd("OPTS HASH CRC-37"))
print(cmd("OPTS HASH"))'
	echo "$output"
	has '^ HASH SHA-256\*;SHA-512;SHA-1;MD5;CRC32$' '^200 SHA-256$' '^200 MD5$' \
		'^ HASH SHA-256;SHA-512;SHA-1;MD5\*;CRC32$' \
		'^501 Unknown algorithm, current selection not changed' 
	[ "$(grep -c '^200 MD5$' <<<"$output")" -eq 2 ]
}

@test "HASH gives every algorithm's digest of the whole file, as coreutils and zlib do" {
	local f=$ANON/pub/r.bin crc
	crc=$(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$f")
	run hpy '
for a in ["SHA-256", "SHA-512", "SHA-1", "MD5", "CRC32"]:
    cmd("OPTS HASH " + a)
    print(cmd("HASH pub/r.bin"))'
	echo "$output"
	has "^213 SHA-256 0-1000002 $(sha256sum "$f" | cut -d' ' -f1) pub/r.bin\$" \
		"^213 SHA-512 0-1000002 $(sha512sum "$f" | cut -d' ' -f1) pub/r.bin\$" \
		"^213 SHA-1 0-1000002 $(sha1sum "$f" | cut -d' ' -f1) pub/r.bin\$" \
		"^213 MD5 0-1000002 $(md5sum "$f" | cut -d' ' -f1) pub/r.bin\$" \
		"^213 CRC32 0-1000002 $crc pub/r.bin\$"
}

@test "the X commands answer 250 and the digest, of the whole file or of start..end" {
	local f=$ANON/pub/r.bin part
	part=$(mktemp)
	tail -c +1001 "$f" | head -c 4000 >"$part"
	run hpy '
for c in ["XSHA256", "XSHA512", "XSHA1", "XMD5", "XCRC"]:
    print(c, cmd(c + " pub/r.bin"))
    print(c, "part", cmd(c + " pub/r.bin 1000 5000"))'
	echo "$output"
	has "^XSHA256 250 $(sha256sum "$f" | cut -d' ' -f1)\$" \
		"^XSHA512 250 $(sha512sum "$f" | cut -d' ' -f1)\$" \
		"^XSHA1 250 $(sha1sum "$f" | cut -d' ' -f1)\$" \
		"^XMD5 250 $(md5sum "$f" | cut -d' ' -f1)\$" \
		"^XCRC 250 $(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$f")\$" \
		"^XSHA256 part 250 $(sha256sum "$part" | cut -d' ' -f1)\$" \
		"^XMD5 part 250 $(md5sum "$part" | cut -d' ' -f1)\$" \
		"^XCRC part 250 $(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$part")\$"
	rm -f "$part"
}

@test "RANG picks the bytes of the next HASH only; RANG 1 0 and a past-the-end range" {
	local f=$ANON/pub/r.bin
	run hpy '
print("a", cmd("RANG 10 19"))
print("b", cmd("HASH pub/r.bin"))
print("c", cmd("HASH pub/r.bin"))
cmd("RANG 999990 2000000")
print("d", cmd("HASH pub/r.bin"))
cmd("RANG 5 9")
print("e", cmd("RANG 1 0"))
print("f", cmd("HASH pub/r.bin"))
cmd("RANG 2000000 2000001")
print("g", cmd("HASH pub/r.bin"))'
	echo "$output"
	has '^a 350 ' \
		"^b 213 SHA-256 10-19 $(tail -c +11 "$f" | head -c 10 | sha256sum | cut -d' ' -f1) pub/r.bin\$" \
		"^c 213 SHA-256 0-1000002 $(sha256sum "$f" | cut -d' ' -f1) pub/r.bin\$" \
		"^d 213 SHA-256 999990-1000002 $(tail -c 13 "$f" | sha256sum | cut -d' ' -f1) pub/r.bin\$" \
		'^e 350 ' "^f 213 SHA-256 0-1000002 " '^g 501 '
}

@test "HASH of an empty file, and the refusals: directory, missing, denied, not a file, bad arguments" {
	run hpy '
print("a", cmd("HASH pub/empty.bin"))
print("b", cmd("HASH pub"))
print("c", cmd("HASH pub/nope"))
print("d", cmd("HASH pub/x.secret"))
print("e", cmd("HASH pub/fifo"))
print("f", cmd("HASH"))
print("g", cmd("RANG 9 2"))
print("h", cmd("RANG x y"))
print("i", cmd("RANG 5"))
print("j", cmd("XMD5 pub/r.bin 50 10"))
print("k", cmd("XMD5 pub"))
print("l", cmd("XSHA1 pub/x.secret"))
print("m", cmd("NOOP"))'
	echo "$output"
	has "^a 213 SHA-256 0-0 $(sha256sum </dev/null | cut -d' ' -f1) pub/empty.bin\$" \
		'^b 553 ' '^c 550 ' '^d 550 Permission denied' '^e 556 ' '^f 501 ' \
		'^g 501 ' '^h 501 ' '^i 501 ' '^j 501 ' '^k 550 ' '^l 550 Permission denied' '^m 200 '
	hasnt 'secret 213' '^d 213' '^l 250'
}

# monitor_of: the monitor of the one open session (the listener's child
# that has a child).
monitor_of() {
	local m
	for m in $(ps -o pid= --ppid "$FTPD_PID"); do
		if [ -n "$(ps -o pid= --ppid "$m")" ]; then
			echo "$m"
			return 0
		fi
	done
	return 1
}

@test "a hash is rate-limited, and a second HASH of an unchanged file reads nothing; an edit is hashed again" {
	local f=$ANON/pub/two.bin
	run ftp_py '
f = anon()
listener = ARGS[0]
def monitor():
    for c in open("/proc/%s/task/%s/children" % (listener, listener)).read().split():
        if open("/proc/%s/task/%s/children" % (c, c)).read().split():
            return c
def rchar(m):
    for l in open("/proc/%s/io" % m):
        if l.startswith("rchar:"):
            return int(l.split()[1])
m = monitor()
for n in (1, 2):
    r0, t0 = rchar(m), time.monotonic()
    print(n, f.sendcmd("HASH pub/two.bin"))
    print(n, "read", rchar(m) - r0, "secs %.2f" % (time.monotonic() - t0))
os.system("printf X | dd of=%s bs=1 seek=12345 conv=notrunc status=none" % ARGS[1])
r0 = rchar(m)
print(3, f.sendcmd("HASH pub/two.bin"))
print(3, "read", rchar(m) - r0)
print(4, f.sendcmd("HASH pub/two.bin"))' "$FTPD_PID" "$f"
	echo "$output"
	local before after
	# the first hash reads the file (the monitor's count takes in its hasher's)
	# at 4 MB/s: half a second for 2 MB
	[ "$(awk '$1 == 1 && $2 == "read" { print ($3 >= 2000000 && $5 >= 0.4) }' <<<"$output")" = 1 ]
	# the second is the cache's: nothing read, at once
	[ "$(awk '$1 == 2 && $2 == "read" { print ($3 < 65536 && $5 < 0.3) }' <<<"$output")" = 1 ]
	after=$(sha256sum "$f" | cut -d' ' -f1)
	has "^3 213 SHA-256 0-1999999 $after pub/two.bin\$" "^4 213 SHA-256 0-1999999 $after pub/two.bin\$"
	[ "$(awk '$1 == 3 && $2 == "read" { print ($3 >= 2000000) }' <<<"$output")" = 1 ]
	[ "$(grep -c "^1 213 SHA-256 0-1999999 $after " <<<"$output")" -eq 0 ]
	# logged like a transfer: the bytes read, 0 for the cache's answer
	has -f "$FTPD_DIR/xferlog" ' 2000000 /pub/two\.bin b _ o a ' ' 0 /pub/two\.bin b _ o a '
	has -f "$FTPD_LOG" 'hash SHA-256 /pub/two\.bin 2000000 bytes complete' \
		'hash SHA-256 /pub/two\.bin 0 bytes complete'
}

@test "STAT, NOOP and ABOR answer during a long hash; ABOR ends its hasher and the session goes on" {
	run ftp_py '
s = socket.create_connection((H, P), timeout=20)
r = s.makefile("rb")
def line():
    return r.readline().decode().rstrip()
def reply():
    l = line()
    while l[3:4] == "-":
        l = line()
    return l
def send(c):
    s.sendall((c + "\r\n").encode())
reply()
send("USER anonymous"); reply()
send("PASS x@"); reply()
send("HASH pub/sparse.bin")
time.sleep(0)
send("STAT"); print("stat", reply())
send("NOOP"); print("noop", reply())
listener = ARGS[0]
kids = lambda p: open("/proc/%s/task/%s/children" % (p, p)).read().split()
mon = [c for c in kids(listener) if kids(c)][0]
def hashers():
    return [k for k in kids(mon) if "Seccomp:\t2" in open("/proc/%s/status" % k).read() and k not in worker]
worker = [kids(mon)[0]]
# the hasher, once it has entered its sandbox (sampled earlier, a
# loaded machine showed it still unfiltered)
for i in range(100):
    if hashers():
        break
    time.sleep(0.05)
hs = [k for k in kids(mon) if k != worker[0]]
print("hashers", len(hs))
st = open("/proc/%s/status" % hs[0]).read()
print("hasher uid", [l.split()[1] for l in st.splitlines() if l.startswith("Uid:")][0])
print("hasher", [l for l in st.splitlines() if l.startswith("Seccomp:")][0])
send("ABOR"); print("abor1", reply()); print("abor2", reply())
for i in range(100):
    if len(kids(mon)) == 1:
        break
    time.sleep(0.05)
print("left", len(kids(mon)))
send("NOOP"); print("after", reply())' "$FTPD_PID"
	echo "$output"
	has '^stat 213 Status: hashing 1073741824 bytes of /pub/sparse\.bin\.$' '^noop 200 ' \
		'^hashers 1$' '^hasher uid [1-9]' '^hasher Seccomp:[[:space:]]+2$' \
		'^abor1 426 ' '^abor2 226 ABOR successful' '^left 1$' '^after 200 '
	hasnt '213 SHA-256'
}
