#!/usr/bin/env bats
# ftpd data transfers with real clients (curl, lftp, wget, Python ftplib):
# every byte checked by sha256, binary and ASCII, passive and active, resume,
# odd names and big directories.

setup_file() {
	# one 200 MB file for every test of this file (hard-linked into each tree)
	BIG_DIR=$(mktemp -d /tmp/postel-big.XXXXXX)
	chmod 755 "$BIG_DIR"
	head -c $((200 * 1024 * 1024)) /dev/urandom >"$BIG_DIR/big.bin"
	chmod 644 "$BIG_DIR/big.bin"
	sha256sum "$BIG_DIR/big.bin" | cut -d' ' -f1 >"$BIG_DIR/big.sha"
	export BIG_DIR
}

teardown_file() {
	[ -n "${BIG_DIR:-}" ] && rm -rf "$BIG_DIR"
}

setup() {
	load lib/common
	load lib/ftp
	# uploads world-readable here so they can be fetched back and compared
	ftp_up -o write_enable=YES -o anon_upload_enable=YES -o anon_mkdir_write_enable=YES \
		-o anon_other_write_enable=YES -o anon_umask=022 "$@"
	postel_tmpdir WORK
	URL=ftp://127.0.0.1:$FTPD_PORT
}

teardown() {
	postel_teardown
}

big_into_pub() {
	ln "$BIG_DIR/big.bin" "$ANON/pub/big.bin" 2>/dev/null || cp "$BIG_DIR/big.bin" "$ANON/pub/big.bin"
}

CURL=(curl -sS --max-time 120)

# ---- curl ----------------------------------------------------------------

@test "curl lists a directory (LIST) and names it (NLST --list-only)" {
	run "${CURL[@]}" "$URL/pub/"
	[ "$status" -eq 0 ]
	has '^-rw-r--r-- .* hello\.txt$'
	run "${CURL[@]}" --list-only "$URL/pub/"
	[ "$status" -eq 0 ]
	has '^hello\.txt$'
	has '^bytes256\.bin$'
	hasnt 'rw-r'
}

@test "curl gets all 256 byte values and an empty file intact (EPSV)" {
	"${CURL[@]}" -o "$WORK/b" "$URL/pub/bytes256.bin"
	"${CURL[@]}" -o "$WORK/e" "$URL/pub/empty.bin"
	[ "$(sha "$WORK/b")" = "$(sha "$ANON/pub/bytes256.bin")" ]
	[ -f "$WORK/e" ]
	[ ! -s "$WORK/e" ]
}

@test "curl gets a 200 MB file intact" {
	big_into_pub
	"${CURL[@]}" -o "$WORK/big" "$URL/pub/big.bin"
	[ "$(sha "$WORK/big")" = "$(cat "$BIG_DIR/big.sha")" ]
}

@test "curl puts a 200 MB file intact with -T" {
	"${CURL[@]}" -T "$BIG_DIR/big.bin" "$URL/incoming/big.bin"
	[ "$(sha "$ANON/incoming/big.bin")" = "$(cat "$BIG_DIR/big.sha")" ]
}

@test "curl puts all 256 byte values and an empty file intact" {
	"${CURL[@]}" -T "$ANON/pub/bytes256.bin" "$URL/incoming/b.bin"
	"${CURL[@]}" -T "$ANON/pub/empty.bin" "$URL/incoming/e.bin"
	[ "$(sha "$ANON/incoming/b.bin")" = "$(sha "$ANON/pub/bytes256.bin")" ]
	[ -f "$ANON/incoming/e.bin" ]
	[ ! -s "$ANON/incoming/e.bin" ]
}

@test "curl resumes a download with -C - (REST then RETR)" {
	big_into_pub
	head -c 12345678 "$BIG_DIR/big.bin" >"$WORK/big"
	"${CURL[@]}" -C - -o "$WORK/big" "$URL/pub/big.bin"
	[ "$(sha "$WORK/big")" = "$(cat "$BIG_DIR/big.sha")" ]
}

@test "curl resumes an upload with -C - (SIZE then APPE)" {
	head -c 5000000 "$BIG_DIR/big.bin" >"$ANON/incoming/big.bin"
	chown "$FTPD_USER" "$ANON/incoming/big.bin"
	"${CURL[@]}" -C - -T "$BIG_DIR/big.bin" "$URL/incoming/big.bin"
	[ "$(sha "$ANON/incoming/big.bin")" = "$(cat "$BIG_DIR/big.sha")" ]
}

@test "curl active mode (--ftp-port 127.0.0.1) gets and puts intact" {
	"${CURL[@]}" --ftp-port 127.0.0.1 -o "$WORK/b" "$URL/pub/bytes256.bin"
	[ "$(sha "$WORK/b")" = "$(sha "$ANON/pub/bytes256.bin")" ]
	"${CURL[@]}" --ftp-port 127.0.0.1 -T "$WORK/b" "$URL/incoming/active.bin"
	[ "$(sha "$ANON/incoming/active.bin")" = "$(sha "$ANON/pub/bytes256.bin")" ]
	"${CURL[@]}" --ftp-port 127.0.0.1 --disable-eprt -o "$WORK/b2" "$URL/pub/bytes256.bin"
	[ "$(sha "$WORK/b2")" = "$(sha "$ANON/pub/bytes256.bin")" ]
}

@test "curl with --disable-epsv uses PASV and gets intact" {
	run "${CURL[@]}" -v --disable-epsv -o "$WORK/b" "$URL/pub/bytes256.bin"
	[ "$status" -eq 0 ]
	has '> PASV'
	hasnt '> EPSV'
	[ "$(sha "$WORK/b")" = "$(sha "$ANON/pub/bytes256.bin")" ]
}

@test "curl with --ftp-pasv gets intact" {
	"${CURL[@]}" --ftp-pasv -o "$WORK/b" "$URL/pub/bytes256.bin"
	[ "$(sha "$WORK/b")" = "$(sha "$ANON/pub/bytes256.bin")" ]
}

@test "curl gets and puts names with spaces and UTF-8" {
	local n='héllo wörld ☃.bin'
	cp "$ANON/pub/bytes256.bin" "$ANON/pub/$n"
	"${CURL[@]}" -o "$WORK/u" "$URL/pub/h%C3%A9llo%20w%C3%B6rld%20%E2%98%83.bin"
	[ "$(sha "$WORK/u")" = "$(sha "$ANON/pub/bytes256.bin")" ]
	"${CURL[@]}" -T "$WORK/u" "$URL/incoming/h%C3%A9llo%20w%C3%B6rld%20%E2%98%83.bin"
	[ "$(sha "$ANON/incoming/$n")" = "$(sha "$ANON/pub/bytes256.bin")" ]
}

# ---- lftp ----------------------------------------------------------------

LFTP_SET='set net:max-retries 1; set net:timeout 10; set net:reconnect-interval-base 1; set cmd:fail-exit yes'

lftp_run() {
	timeout 300 lftp -u anonymous,lftp@ -e "$LFTP_SET; $1; quit" "$URL"
}

fill_tree() {
	local d=$1
	mkdir -p "$d/sub/deeper" "$d/with space"
	cp "$ANON/pub/bytes256.bin" "$d/"
	cp "$ANON/pub/empty.bin" "$d/sub/"
	printf 'deep\n' >"$d/sub/deeper/deep.txt"
	cp "$ANON/pub/bytes256.bin" "$d/with space/ü file.bin"
	chmod -R a+rX "$d"
}

@test "lftp mirror downloads a tree intact (passive, MLSD)" {
	fill_tree "$ANON/pub/tree"
	lftp_run "set ftp:passive-mode on; set ftp:use-mlsd on; mirror pub/tree $WORK/tree"
	diff -r "$ANON/pub/tree" "$WORK/tree"
}

@test "lftp mirror downloads a tree intact (active mode)" {
	fill_tree "$ANON/pub/tree"
	lftp_run "set ftp:passive-mode off; set ftp:port-range 20000-60000; mirror pub/tree $WORK/tree"
	diff -r "$ANON/pub/tree" "$WORK/tree"
}

@test "lftp mirror -R uploads a tree intact" {
	fill_tree "$WORK/up"
	lftp_run "set ftp:passive-mode on; mirror -R $WORK/up incoming/up"
	diff -r "$WORK/up" "$ANON/incoming/up"
}

@test "lftp cls lists names and uses MLSD" {
	run lftp_run "set ftp:use-mlsd on; debug -o $WORK/lftp.debug 5; cls -1 pub/"
	[ "$status" -eq 0 ]
	has 'hello\.txt'
	has 'bytes256\.bin'
	grep -q 'MLSD' "$WORK/lftp.debug"
}

@test "lftp cls -l shows sizes from MLSD facts" {
	run lftp_run "set ftp:use-mlsd on; cls -l pub/"
	[ "$status" -eq 0 ]
	has '256 .*bytes256\.bin'
	has ' 19 .*hello\.txt'
}

@test "lftp gets the 200 MB file intact" {
	big_into_pub
	lftp_run "set ftp:passive-mode on; get pub/big.bin -o $WORK/big"
	[ "$(sha "$WORK/big")" = "$(cat "$BIG_DIR/big.sha")" ]
}

# ---- wget ----------------------------------------------------------------

@test "wget -m mirrors the anonymous tree intact" {
	fill_tree "$ANON/pub/tree"
	cd "$WORK"
	run timeout 120 wget -q -m -nH --tries=1 --timeout=10 "$URL/pub/"
	[ "$status" -eq 0 ]
	local f
	for f in hello.txt bytes256.bin empty.bin tree/bytes256.bin tree/sub/deeper/deep.txt "tree/with space/ü file.bin"; do
		cmp "$ANON/pub/$f" "$WORK/pub/$f"
	done
}

# ---- Python ftplib, as its documentation shows -------------------------------

@test "ftplib: login, pwd, cwd, dir, nlst, mlsd, size, MDTM, quit" {
	touch -d '2010-01-02 03:04:05 UTC' "$ANON/pub/hello.txt"
	run ftp_py '
ftp = ftplib.FTP()
ftp.connect(H, P, timeout=30)
print(ftp.login())
print("PWD", ftp.pwd())
print(ftp.cwd("pub"))
print("PWD", ftp.pwd())
ftp.dir(lambda l: print("DIR", l))
print("NLST", sorted(ftp.nlst()))
print("MLSD", sorted(n for n, f in ftp.mlsd()))
print("SIZE", ftp.size("hello.txt"))
print(ftp.sendcmd("MDTM hello.txt"))
print(ftp.quit())'
	[ "$status" -eq 0 ]
	has '^230'
	has '^PWD /$'
	has '^PWD /pub$'
	has '^DIR -rw-r--r-- .* hello\.txt$'
	has "^NLST \\['bytes256\\.bin', 'empty\\.bin', 'hello\\.txt', 'lf\\.txt'\\]$"
	has "^MLSD \\[.*'hello\\.txt'"
	has '^SIZE 19$'
	has '^213 20100102030405$'
	has '^221'
}

@test "ftplib: retrbinary and retrlines" {
	run ftp_py '
ftp = anon()
h = hashlib.sha256()
ftp.retrbinary("RETR pub/bytes256.bin", h.update, blocksize=7)
print("SHA", h.hexdigest())
ftp.retrlines("RETR pub/lf.txt", lambda l: print("LINE", l))
ftp.quit()'
	[ "$status" -eq 0 ]
	has "^SHA $(sha "$ANON/pub/bytes256.bin")$"
	[ "$(grep -c '^LINE ' <<<"$output")" -eq 3 ]
	has '^LINE line two$'
}

@test "ftplib: storbinary and storlines, rename, delete, mkd, rmd" {
	run ftp_py '
ftp = anon()
ftp.cwd("incoming")
print(ftp.mkd("dir"))
print(ftp.storbinary("STOR dir/b.bin", open(ARGS[0], "rb")))
print(ftp.storlines("STOR dir/t.txt", io.BytesIO(b"a\nb\r\nc\n")))
print(ftp.rename("dir/b.bin", "dir/c.bin"))
print(ftp.delete("dir/t.txt"))
print(sorted(ftp.nlst("dir")))
' "$ANON/pub/bytes256.bin"
	[ "$status" -eq 0 ]
	has '^/incoming/dir$|^dir$'
	[ "$(sha "$ANON/incoming/dir/c.bin")" = "$(sha "$ANON/pub/bytes256.bin")" ]
	[ ! -e "$ANON/incoming/dir/b.bin" ]
	[ ! -e "$ANON/incoming/dir/t.txt" ]
	run ftp_py '
ftp = anon()
ftp.delete("incoming/dir/c.bin")
print(ftp.rmd("incoming/dir"))'
	has '^250'
	[ ! -e "$ANON/incoming/dir" ]
}

@test "ftplib storlines (TYPE A) stores CRLF lines as LF" {
	run ftp_py '
ftp = anon()
print(ftp.storlines("STOR incoming/t.txt", io.BytesIO(b"a\nb\r\nc\n")))'
	[ "$status" -eq 0 ]
	[ "$(od -An -c "$ANON/incoming/t.txt" | tr -d ' \n')" = 'a\nb\nc\n' ]
}

@test "ftplib: 200 MB download and upload intact" {
	big_into_pub
	run ftp_py '
ftp = anon()
h = hashlib.sha256()
ftp.retrbinary("RETR pub/big.bin", h.update, blocksize=1 << 20)
print("GOT", h.hexdigest())
with open(ARGS[0], "rb") as f:
    print(ftp.storbinary("STOR incoming/big2.bin", f, blocksize=1 << 20))' "$BIG_DIR/big.bin"
	[ "$status" -eq 0 ]
	has "^GOT $(cat "$BIG_DIR/big.sha")$"
	[ "$(sha "$ANON/incoming/big2.bin")" = "$(cat "$BIG_DIR/big.sha")" ]
}

@test "TYPE A download turns LF into CRLF; SIZE still reports the bytes on disk" {
	run ftp_py '
ftp = anon()
print(ftp.sendcmd("TYPE A"))
print(ftp.sendcmd("SIZE pub/lf.txt"))
c = ftp.transfercmd("RETR pub/lf.txt")
data = b""
while True:
    b = c.recv(65536)
    if not b: break
    data += b
c.close(); ftp.voidresp()
print("DATA", repr(data))'
	[ "$status" -eq 0 ]
	has '^213 29$'
	has "^DATA b'line one\\\\r\\\\nline two\\\\r\\\\nline three\\\\r\\\\n'$"
}

@test "TYPE A upload with CRLF is stored with LF; TYPE I keeps CRLF" {
	run ftp_py '
ftp = anon()
ftp.sendcmd("TYPE A")
c = ftp.transfercmd("STOR incoming/a.txt")
c.sendall(b"one\r\ntwo\r\n"); c.close(); print(ftp.voidresp())
ftp.sendcmd("TYPE I")
c = ftp.transfercmd("STOR incoming/i.txt")
c.sendall(b"one\r\ntwo\r\n"); c.close(); print(ftp.voidresp())'
	[ "$status" -eq 0 ]
	[ "$(od -An -c "$ANON/incoming/a.txt" | tr -d ' \n')" = 'one\ntwo\n' ]
	[ "$(od -An -c "$ANON/incoming/i.txt" | tr -d ' \n')" = 'one\r\ntwo\r\n' ]
}

@test "a CRLF split across TCP segments in an ASCII upload still becomes LF" {
	run ftp_py '
ftp = anon()
ftp.sendcmd("TYPE A")
c = ftp.transfercmd("STOR incoming/s.txt")
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.sendall(b"x" * 65535 + b"\r"); time.sleep(0.3); c.sendall(b"\ny\r\n"); c.close(); print(ftp.voidresp())'
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$ANON/incoming/s.txt")" -eq $((65535 + 3)) ]
	[ "$(tail -c 4 "$ANON/incoming/s.txt" | od -An -c | tr -d ' \n')" = 'x\ny\n' ]
}

@test "a file name with invalid UTF-8 lists and transfers without loss" {
	python3 -c 'import os, sys; d = sys.argv[1]
open(os.path.join(d.encode(), b"caf\xe9 \xff.bin"), "wb").write(bytes(range(256)))' "$ANON/pub"
	chmod 644 "$ANON/pub/"*
	run ftp_py '
ftp = ftplib.FTP(encoding="latin-1", timeout=30)
ftp.connect(H, P); ftp.login()
names = [n for n in ftp.nlst("pub") if "caf" in n]
print("NAMES", [n.encode("latin-1") for n in names])
lst = []
ftp.retrlines("LIST pub", lst.append)
print("LIST", [l.encode("latin-1")[-10:] for l in lst if "caf" in l])
h = hashlib.sha256()
ftp.retrbinary("RETR " + names[0], h.update)
print("SHA", h.hexdigest())
ftp.storbinary("STOR incoming/" + names[0].split("/")[-1], io.BytesIO(b"up"))
ftp.quit()'
	[ "$status" -eq 0 ]
	has "^NAMES \\[b'(pub/)?caf\\\\xe9 \\\\xff\\.bin'\\]$"
	has "caf\\\\xe9 \\\\xff\\.bin'\\]$"
	has "^SHA $(sha "$ANON/pub/bytes256.bin")$"
	[ "$(cat "$ANON/incoming/$(printf 'caf\xe9 \xff.bin')")" = up ]
}

@test "a directory of 5,000 entries: LIST and NLST show every one" {
	python3 -c 'import os, sys
d = os.path.join(sys.argv[1], "many"); os.mkdir(d)
for i in range(5000): open(os.path.join(d, "f%05d" % i), "w").close()' "$ANON/pub"
	run ftp_py '
ftp = anon()
l = []; ftp.retrlines("LIST pub/many", l.append)
print("LIST", len([x for x in l if x.endswith(tuple("0123456789")) and " f0" in x]))
n = ftp.nlst("pub/many")
print("NLST", len(n), len(set(n)), all(x.split("/")[-1].startswith("f") and len(x.split("/")[-1]) == 6 for x in n))
m = list(ftp.mlsd("pub/many"))
print("MLSD", len([x for x in m if x[1]["type"] == "file"]))'
	[ "$status" -eq 0 ]
	has '^LIST 5000$'
	has '^NLST 5000 5000 True$'
	has '^MLSD 5000$'
}

@test "curl gets a file with spaces from a 5,000 entry directory by sha" {
	mkdir "$ANON/pub/many"
	python3 -c 'import os, sys
for i in range(5000): open(os.path.join(sys.argv[1], "f %05d" % i), "w").write(str(i))' "$ANON/pub/many"
	"${CURL[@]}" -o "$WORK/x" "$URL/pub/many/f%2004999"
	[ "$(cat "$WORK/x")" = 4999 ]
	run "${CURL[@]}" --list-only "$URL/pub/many/"
	[ "${#lines[@]}" -eq 5000 ]
}
