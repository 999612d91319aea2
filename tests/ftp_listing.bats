#!/usr/bin/env bats
# ftpd listings at mirror scale: LIST, NLST and MLSD of a 200,000-entry
# directory stream with the DTP's memory bounded by the names alone, ABOR
# stops one at once, max_list_entries refuses with 451, and MLSD symlinks
# (type=OS.unix=slink:TARGET) are recreated by lftp's mirror. LIST -R
# (ls_recurse_enable) prints what ls -R prints, within its bounds.

# One anonymous tree for every test, on tmpfs: pub/big holds 200,000 empty
# files, pub/links a file, a directory and symlinks to each, pub/tree a
# small tree for LIST -R (symlinks to a directory and to its parent, a dot
# directory, one for deny_file and one for hide_file); incoming/ is the
# session user's.
setup_file() {
	LIST_DIR=$(mktemp -d /dev/shm/postel-listing.XXXXXX)
	chmod 755 "$LIST_DIR"
	mkdir -p "$LIST_DIR/anon/pub/big" "$LIST_DIR/anon/pub/links/sub" "$LIST_DIR/empty"
	python3 -c 'import os, sys
d = sys.argv[1]
for i in range(200000):
    os.close(os.open(os.path.join(d, "f%06d" % i), os.O_CREAT | os.O_WRONLY, 0o644))' \
		"$LIST_DIR/anon/pub/big"
	printf 'target\n' >"$LIST_DIR/anon/pub/links/file.txt"
	printf 'inner\n' >"$LIST_DIR/anon/pub/links/sub/in.txt"
	ln -s file.txt "$LIST_DIR/anon/pub/links/to-file"
	ln -s sub "$LIST_DIR/anon/pub/links/to-sub"
	ln -s missing "$LIST_DIR/anon/pub/links/dangling"
	# distinct times for LIST -t: dangling newest, file.txt oldest
	local i=1 n
	for n in file.txt sub to-file to-sub dangling; do
		touch -h -d "2020-01-0$i 12:00" "$LIST_DIR/anon/pub/links/$n"
		i=$((i + 1))
	done
	local t=$LIST_DIR/anon/pub/tree
	mkdir -p "$t/a/deep/er" "$t/b" "$t/.dot" "$t/secret" "$t/skip"
	printf 'ffff\n' >"$t/a/f"
	printf 'x\n' >"$t/a/deep/x"
	printf 'yy\n' >"$t/a/deep/er/y"
	: >"$t/b/g"
	printf 'top file\n' >"$t/top"
	: >"$t/.dot/h"
	: >"$t/secret/s"
	: >"$t/skip/k"
	ln -s a "$t/link"
	ln -s .. "$t/loop"
	# distinct times for -t, at every level
	i=0
	for n in a/deep/er/y a/deep/er a/deep/x a/deep a/f b/g .dot/h .dot secret/s secret \
		skip/k skip top link loop b a; do
		touch -h -d "2021-02-03 04:05:$((10 + i))" "$t/$n"
		i=$((i + 1))
	done
	mkdir -p "$LIST_DIR/anon/incoming/drop"
	printf 'up\n' >"$LIST_DIR/anon/incoming/up.txt"
	chmod -R a+rX "$LIST_DIR/anon"
	chown -R "$(getent passwd ftp >/dev/null && echo ftp || echo nobody)" "$LIST_DIR/anon/incoming"
	chmod 555 "$LIST_DIR/anon"
	export LIST_DIR
}

teardown_file() {
	[ -n "${LIST_DIR:-}" ] && rm -rf "$LIST_DIR"
}

setup() {
	load lib/common
	load lib/ftp
	postel_tmpdir WORK
}

teardown() {
	postel_teardown
}

# up [ftpd args]: a daemon serving the shared tree.
up() {
	start_ftpd -o delay_failed_login=0 -o "anon_root=$LIST_DIR/anon" "$@"
	URL=ftp://127.0.0.1:$FTPD_PORT
}

# Python with ftplib; dtp_of(listener) finds the DTP (the listener's
# great-grandchild: session monitor, worker, DTP); slow_list(ftp, cmd) opens
# a passive data connection with a small receive buffer, so the DTP can only
# be a little ahead of what the client has read.
lpy() {
	local script=$1
	shift
	ftp_py "
def kids(pid):
    out = []
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                st = open('/proc/%s/stat' % p).read()
            except OSError:
                continue
            if int(st.rsplit(')', 1)[1].split()[1]) == pid:
                out.append(int(p))
    return out
def dtp_of(listener):
    for _ in range(200):
        for m in kids(listener):
            for w in kids(m):
                d = kids(w)
                if d:
                    return w, d[0]
        time.sleep(0.05)
    raise SystemExit('no DTP found')
def status_kb(pid, key):
    try:
        for line in open('/proc/%d/status' % pid):
            if line.startswith(key + ':'):
                return int(line.split()[1])
    except OSError:
        pass
    return None
def slow_list(ftp, cmd):
    host, port = ftplib.parse227(ftp.sendcmd('PASV'))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.connect((host, port))
    resp = ftp.sendcmd(cmd)
    assert resp.startswith('150'), resp
    return s
$script" "$@"
}

# abort_listing CMD FIRST: ABOR once the first bytes of CMD's listing (they
# start with FIRST) have come, with the client reading slowly: 426 then
# 226 within 2 s, the DTP gone, and the session still answers.
abort_listing() {
	run lpy '
ftp = anon()
s = slow_list(ftp, ARGS[1])
pi, dtp = dtp_of(int(ARGS[0]))
first = s.recv(4096)
assert first.startswith(ARGS[2].encode()), first
t0 = time.monotonic()
resp = ftp.abort()
ms = (time.monotonic() - t0) * 1000
for _ in range(100):
    if status_kb(dtp, "VmRSS") is None:
        break
    time.sleep(0.02)
print("abort", resp[:3], ftp.getresp()[:3], "ms", int(ms), "dtp_gone", status_kb(dtp, "VmRSS") is None)
s.close()
print("after", ftp.sendcmd("NOOP")[:3])' "$FTPD_PID" "$1" "$2"
	[ "$status" -eq 0 ]
	has '^abort 426 226 ms [0-9]+ dtp_gone True$'
	has '^after 200$'
	[ "$(awk '$1 == "abort" { print $5 }' <<<"$output")" -lt 2000 ]
}

@test "LIST, NLST, MLSD and LIST -R of 200,000 entries stream: the DTP's peak memory stays far below the listing's size" {
	up -o ls_recurse_enable=YES -o ls_recurse_max_entries=1000000
	run lpy '
ftp = anon()
import threading
for cmd in ("LIST pub/big", "NLST pub/big", "MLSD pub/big", "LIST -R pub"):
    s = slow_list(ftp, cmd)
    pi, dtp = dtp_of(int(ARGS[0]))
    base = status_kb(pi, "VmRSS")
    f = s.makefile("rb")
    lines = total = 0
    # the DTP peak, read every 5 ms while it lives: NLST (3.4 MB) may
    # sit whole in the socket buffers and the DTP end before the reader
    # is far in
    seen = {"peak": 0, "samples": 0}
    def sample():
        for _ in range(12000):
            hwm = status_kb(dtp, "VmHWM")
            if hwm is None:
                break
            seen["peak"] = max(seen["peak"], hwm); seen["samples"] += 1
            time.sleep(0.005)
    th = threading.Thread(target=sample)
    th.start()
    for line in f:
        lines += 1
        total += len(line)
    th.join()
    peak, samples = seen["peak"], seen["samples"]
    s.close()
    ftp.voidresp()
    print("".join(cmd.split()[:-1]), lines, "bytes", total, "growth_kb", peak - base, "samples", samples)' "$FTPD_PID"
	[ "$status" -eq 0 ]
	sed 's/^/# /' <<<"$output" >&3
	has '^LIST 200000 '
	has '^NLST 200000 '
	has '^MLSD 200002 ' # and cdir, pdir
	# pub, pub/big, pub/links and its sub, and pub/tree's 7 directories:
	# 11 headers, 10 blank lines, 200,000 + 3 + 5 + 1 + 15 entries
	has '^LIST-R 200045 '
	# The DTP was seen during each listing, and never grew by more than
	# 12 MB over its PI (measured: about 4.4 MB). The same DTP with the
	# listing left whole in memory grew by 16.7 MB (LIST) and 27 MB (MLSD).
	# Under AddressSanitizer (quarantine, redzones, shadow) the same
	# listing grows by about 10 MB: allow 20 MB there.
	local cmd growth samples bound=12288
	case $POSTEL_BUILD in *-san*) bound=20480 ;; esac
	for cmd in LIST NLST MLSD LIST-R; do
		growth=$(awk -v c="$cmd" '$1 == c { print $6 }' <<<"$output")
		samples=$(awk -v c="$cmd" '$1 == c { print $8 }' <<<"$output")
		[ "$samples" -ge 2 ]
		[ "$growth" -lt "$bound" ]
	done
}

@test "ABOR during a 200,000-entry LIST stops it at once: 426, 226, the DTP gone" {
	up
	abort_listing "LIST pub/big" "-rw-r--r--"
}

@test "max_list_entries: a bigger directory gets 451 from LIST, NLST, MLSD and STAT; a small one lists" {
	up -o max_list_entries=199999
	run "${CURL[@]}" "$URL/pub/big/"
	[ "$status" -ne 0 ]
	has '451'
	run lpy '
ftp = anon()
for cmd in ("NLST pub/big", "MLSD pub/big"):
    try:
        ftp.retrlines(cmd, lambda l: None)
        print(cmd, "listed")
    except ftplib.error_temp as e:
        print(cmd, str(e))
try:
    ftp.sendcmd("STAT pub/big")
    print("STAT listed")
except ftplib.error_temp as e:
    print("STAT", str(e))
print("small", ftp.nlst("pub/links"))'
	[ "$status" -eq 0 ]
	has '^NLST pub/big 451 Listing stopped: the directory has more entries than max_list_entries allows; list a narrower pattern\.$'
	has '^MLSD pub/big 451 '
	has '^STAT 451 '
	has "^small \\['pub/links/dangling', 'pub/links/file.txt', 'pub/links/sub', 'pub/links/to-file', 'pub/links/to-sub'\\]$"
	grep -q 'more than 199999 entries (max_list_entries)' "$FTPD_LOG"
}

CURL=(curl -sS --max-time 60)

@test "Perl Net::FTP lists the 200,000 names and LIST shows symlink targets; wget gets the whole LIST" {
	up
	run timeout 60 perl -MNet::FTP -e '
my $f = Net::FTP->new("127.0.0.1", Port => $ARGV[0], Passive => 1) or die "connect: $@";
$f->login("anonymous", "x@") or die "login: " . $f->message;
my @n = $f->ls("pub/big");
my @d = $f->dir("pub/links");
print "ls ", scalar(@n), " first $n[0] last $n[-1]\n";
print "dir $_\n" for @d;' "$FTPD_PORT"
	[ "$status" -eq 0 ]
	has '^ls 200000 first pub/big/f000000 last pub/big/f199999$'
	has '^dir l.* to-sub -> sub$'
	run timeout 60 wget -q --no-remove-listing -O /dev/null -P "$WORK" "$URL/pub/big/"
	[ "$(grep -c ' f[0-9]\{6\}' "$WORK/.listing")" -eq 200000 ]
}

@test "lftp mirror recreates MLSD symlinks (type=OS.unix=slink:TARGET) and their targets" {
	up
	run lpy '
ftp = anon()
for l in sorted(ftp.mlsd("pub/links")):
    print(l[0], l[1]["type"])'
	[ "$status" -eq 0 ]
	has '^to-file OS\.unix=slink:file\.txt$'
	has '^to-sub OS\.unix=slink:sub$'
	has '^dangling OS\.unix=slink:missing$'
	has '^sub dir$'
	run timeout 60 lftp -c "set cmd:fail-exit yes; set ftp:use-mlsd yes; open -p $FTPD_PORT 127.0.0.1; mirror pub/links $WORK/m"
	[ "$status" -eq 0 ]
	[ "$(readlink "$WORK/m/to-file")" = file.txt ]
	[ "$(readlink "$WORK/m/to-sub")" = sub ]
	[ "$(readlink "$WORK/m/dangling")" = missing ]
	[ "$(cat "$WORK/m/sub/in.txt")" = inner ]
	[ -f "$WORK/m/file.txt" ] && [ ! -L "$WORK/m/file.txt" ]
}

@test "MLST and MLSD perm: the parent-writable letters d and f, and c, m, p on a writable directory" {
	up -o write_enable=YES -o anon_upload_enable=YES -o anon_mkdir_write_enable=YES \
		-o anon_other_write_enable=YES
	run lpy '
ftp = anon()
def perm(cmd):
    return [l.strip().split(";") for l in ftp.sendcmd(cmd).splitlines()[1:-1]][0]
print("mlst-up", [f for f in perm("MLST incoming/up.txt") if f.startswith("perm=")][0])
print("mlst-ro", [f for f in perm("MLST pub/links/file.txt") if f.startswith("perm=")][0])
for name, facts in ftp.mlsd("incoming", facts=["type", "perm"]):
    print("mlsd", name, facts["perm"])'
	[ "$status" -eq 0 ]
	has '^mlst-up perm=adfrw$'
	has '^mlst-ro perm=r$'
	has '^mlsd up\.txt adfrw$'
	has '^mlsd drop cdeflmp$'
}

@test "LIST flags clients send: -1, -A, -a, -t, -r, -S and -l combined do what ls does" {
	up
	run lpy '
ftp = anon()
for cmd in ("LIST -1 pub/links", "LIST -1r pub/links", "LIST -1t pub/links", "LIST -ltr pub/links",
            "LIST -lS pub/links/*[!b]", "LIST -1A pub", "LIST -a pub", "NLST -1r pub/links"):
    l = []
    ftp.retrlines(cmd, l.append)
    print(cmd, "|", " ".join(x.split(None, 8)[-1].split(" -> ")[0] if " " in x else x for x in l))'
	[ "$status" -eq 0 ]
	has '^LIST -1 pub/links \| dangling file.txt sub to-file to-sub$'
	has '^LIST -1r pub/links \| to-sub to-file sub file.txt dangling$'
	has '^LIST -1t pub/links \| dangling to-sub to-file sub file\.txt$'
	has '^LIST -ltr pub/links \| file\.txt sub to-file to-sub dangling$'
	has '^LIST -lS pub/links/\*\[!b\] \| to-file dangling file\.txt$'
	has '^LIST -1A pub \| big links tree$'
	has '^LIST -a pub \| \. \.\. big links tree$'
	has '^NLST -1r pub/links \| pub/links/to-sub pub/links/to-file pub/links/sub pub/links/file.txt pub/links/dangling$'
}

# rlines CMD...: each command's data lines through ftplib, "CMD | line" per
# line, then "CMD = reply" (or the error), after an anonymous login.
rlines() {
	lpy '
ftp = anon()
for cmd in ARGS:
    try:
        resp = ftp.retrlines(cmd, lambda l: print(cmd, "|", l))
    except ftplib.error_temp as e:
        resp = str(e)
    print(cmd, "=", resp)' "$@"
}

@test "LIST -R by default (ls_recurse_enable=NO): -R is ignored, as vsftpd does, for ftplib, curl and lftp" {
	up
	run rlines "LIST -R pub/tree" "NLST -R pub/tree" "LIST -lR pub/tree"
	[ "$status" -eq 0 ]
	has '^LIST -R pub/tree \| d.* a$' '^NLST -R pub/tree \| pub/tree/a$' '^LIST -R pub/tree = 226 '
	hasnt ':$' 'pub/tree/a/f' ' f$'
	[ "$(grep -c '^LIST -R pub/tree |' <<<"$output")" -eq 7 ]
	[ "$(grep -c '^NLST -R pub/tree |' <<<"$output")" -eq 7 ]
	run "${CURL[@]}" "$URL/pub/tree/" -X 'LIST -R'
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 7 ]
	hasnt ':\r?$'
	run timeout 60 lftp -c "set cmd:fail-exit yes; open -p $FTPD_PORT 127.0.0.1; ls -R pub/tree"
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 7 ]
	hasnt ':\r?$'
}

@test "ls_recurse_enable: LIST and NLST with -R, -lR, -aR, -AR, -Rt, -Rr, -RS, -1R give ls -R's headers and names in ls's order" {
	up -o ls_recurse_enable=YES
	run lpy '
import subprocess
ftp = anon()
def names(line):
    # an ls -l line: its name, without a symlink target; headers and
    # blank lines as they are
    if line == "" or line.endswith(":") or " " not in line:
        return line
    return line.split(None, 8)[-1].split(" -> ")[0]
for flags in ("-R", "-lR", "-aR", "-AR", "-Rt", "-Rr", "-RS", "-1R", "-laRt", "-lRSr"):
    for verb in ("LIST", "NLST"):
        got = []
        ftp.retrlines("%s %s pub/tree" % (verb, flags), got.append)
        got = [names(l) for l in got] if verb == "LIST" else got
        # NLST never sends . and .. (flat NLST -a neither): ls -A there
        lsflags = flags.replace("l", "")
        if verb == "NLST":
            lsflags = lsflags.replace("a", "A")
        want = subprocess.run(["ls", lsflags, "pub/tree"], cwd=ARGS[0],
                              env={"LC_ALL": "C"}, capture_output=True, text=True,
                              check=True).stdout.splitlines()
        print(verb, flags, "same" if got == want else "differs: %r != %r" % (got, want),
              len(got))
' "$LIST_DIR/anon"
	sed 's/^/# /' <<<"$output" >&3
	[ "$status" -eq 0 ]
	local f v
	for f in -R -lR -aR -AR -Rt -Rr -RS -1R -laRt -lRSr; do
		for v in LIST NLST; do
			has "^$v $f same [0-9]+$"
		done
	done
	# 7 headers, 15 entries and 6 blank lines (3 levels down); -A adds
	# .dot, its header, h and a blank line; -a also . and .. in all 8
	has '^LIST -R same 28$' '^LIST -aR same 48$' '^NLST -aR same 32$'
}

@test "ls_recurse_enable: curl -X 'LIST -R' and lftp ls -R get ls -R's text; symlinks to a directory and to its parent are listed, never entered; STAT -R lists flat" {
	up -o ls_recurse_enable=YES
	run "${CURL[@]}" "$URL/pub/tree/" -X 'LIST -R'
	[ "$status" -eq 0 ]
	local got
	got=$(tr -d '\r' <<<"$output" | awk '/:$/ || $0 == "" { print; next } { print $9 }')
	[ "$got" = "$(cd "$LIST_DIR/anon/pub/tree" && LC_ALL=C ls -R)" ]
	has '^\.:' '^\./a/deep/er:' '^l.* link -> a' '^l.* loop -> \.\.'
	hasnt 'link:' 'loop:' '^\./\.dot:'
	[ "$(grep -Ec ':\r?$' <<<"$output")" -eq 7 ]
	run timeout 60 lftp -c "set cmd:fail-exit yes; open -p $FTPD_PORT 127.0.0.1; ls -laR pub/tree/a"
	[ "$status" -eq 0 ]
	has '^pub/tree/a:' '^pub/tree/a/deep:' '^pub/tree/a/deep/er:' '^-.* y$' '^d.* \.\.$'
	[ "$(grep -c ':$' <<<"$output")" -eq 3 ]
	# STAT answers from memory on the control connection: never a walk
	run lpy 'print(anon().sendcmd("STAT -R pub/tree"))'
	[ "$status" -eq 0 ]
	has '^213-Status of -R pub/tree:' '^ ?d.* a$' '^213 End'
	hasnt 'pub/tree/a:' ' f$'
}

@test "ls_recurse_max_depth and ls_recurse_max_entries end LIST -R and NLST -R with 451 after what was listed; deny_file and hide_file hold at every level" {
	up -o ls_recurse_enable=YES -o ls_recurse_max_depth=1
	run rlines "NLST -R pub/tree" "LIST -R pub/tree/a/deep"
	[ "$status" -eq 0 ]
	has '^NLST -R pub/tree = 451 Listing stopped: the tree goes deeper than ls_recurse_max_depth allows; list a subdirectory\.$'
	# pub/tree/a lists (1 level), its deep/ would be the second
	has '^NLST -R pub/tree \| pub/tree/a:$' '^NLST -R pub/tree \| deep$'
	hasnt '^NLST -R pub/tree \| pub/tree/a/deep:' '^NLST -R pub/tree \| pub/tree/b:'
	has '^LIST -R pub/tree/a/deep = 226 ' '^LIST -R pub/tree/a/deep \| pub/tree/a/deep/er:$'
	grep -q 'recursive listing of pub/tree stopped: more than ls_recurse_max_depth levels' "$FTPD_LOG"
	stop_ftpd
	# 15 entries below pub/tree: 14 let the walk get to pub/tree/skip, not into it
	up -o ls_recurse_enable=YES -o ls_recurse_max_entries=14
	run rlines "LIST -R pub/tree" "LIST -R pub/tree/a"
	[ "$status" -eq 0 ]
	has '^LIST -R pub/tree = 451 Listing stopped: the tree has more entries than ls_recurse_max_entries allows; list a subdirectory\.$'
	has '^LIST -R pub/tree \| pub/tree/secret:$' '^LIST -R pub/tree \| -.* s$' '^LIST -R pub/tree/a = 226 '
	hasnt '^LIST -R pub/tree \| pub/tree/skip:$'
	grep -q 'recursive listing of pub/tree stopped: more than ls_recurse_max_entries entries' "$FTPD_LOG"
	# the default bound (100000) stops a walk into the 200,000 names of pub/big
	stop_ftpd
	up -o ls_recurse_enable=YES
	run "${CURL[@]}" "$URL/pub/" -X 'LIST -R'
	[ "$status" -ne 0 ]
	has '451'
	stop_ftpd
	up -o ls_recurse_enable=YES -o deny_file=secret -o hide_file=skip
	run rlines "NLST -R pub/tree"
	[ "$status" -eq 0 ]
	has '^NLST -R pub/tree \| secret$' '^NLST -R pub/tree = 226 '
	hasnt 'skip' '^NLST -R pub/tree \| pub/tree/secret:$' '\| s$'
	[ "$(grep -c ':$' <<<"$output")" -eq 5 ]
}

@test "ABOR during a recursive LIST -R of 200,000 entries stops it at once: 426, 226, the DTP gone" {
	up -o ls_recurse_enable=YES -o ls_recurse_max_entries=1000000
	abort_listing "LIST -R pub" "pub:"
}
