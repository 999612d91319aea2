#!/usr/bin/env bats
# nntpd's TLS and compression layers: STARTTLS (RFC 4642) with nntplib and a
# raw client, no plaintext command injection across it, implicit TLS (NNTPS)
# with openssl s_client and nntplib's NNTP_SSL, 580 on a failed handshake,
# a bad certificate stopping -t, and COMPRESS DEFLATE (RFC 8054) in clear and
# inside TLS, reading articles byte-exact.

# setup_file and teardown_file: a certificate and a PAM user (lib/nntpsec).
load lib/nntpsec

setup() {
	load lib/common
	load lib/nntp
	load lib/nntpsec
}

teardown() {
	postel_teardown
}

# big_article: a 300 KB article with dot-leading lines as <big@t.example>
big_article() {
	local f=$NNTPD_DIR/big
	article "$f" "Message-ID: <big@t.example>"
	python3 -c 'import base64, os, sys
for i in range(4000):
    sys.stdout.write(("." if i % 7 == 0 else "") + base64.b64encode(os.urandom(54)).decode() + "\r\n")' >>"$f"
	run post_file "$f"
	[[ $output == *240* ]]
}

@test "CAPABILITIES offers STARTTLS and AUTHINFO without USER before TLS; AUTHINFO is 483" {
	tls_up
	run sec_py '
c = Client(P)
caps = c.caps()
check("STARTTLS" in caps and "AUTHINFO" in caps and "AUTHINFO USER" not in caps, "caps in clear: %r" % caps)
check("COMPRESS DEFLATE" in caps, "COMPRESS DEFLATE advertised")
check(c.cmd("AUTHINFO USER someone").startswith("483"), "AUTHINFO USER in clear is 483")
check(c.cmd("AUTHINFO PASS secret").startswith("483"), "AUTHINFO PASS in clear is 483")
check(c.starttls().startswith("382"), "382 then the handshake")
caps = c.caps()
check("STARTTLS" not in caps and "AUTHINFO USER" in caps, "after TLS: %r" % caps)
check(c.cmd("STARTTLS").startswith("502"), "a second STARTTLS is 502")
check(c.cmd("AUTHINFO PASS x").startswith("482"), "PASS before USER is 482")
'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "nntplib: starttls() then login() as a PAM user, then read an article" {
	need_pam
	tls_up
	article "$NNTPD_DIR/a" "Message-ID: <tls1@t.example>"
	run post_file "$NNTPD_DIR/a"
	run sec_py '
s = nntplib.NNTP("127.0.0.1", P, timeout=30)
s.starttls()
check(s.tls_on and "STARTTLS" not in s.getcapabilities(), "starttls() and STARTTLS gone")
s.login(TUSER, TPASS)
caps = s.getcapabilities()
check("AUTHINFO" not in caps and "STARTTLS" not in caps, "after login(): no AUTHINFO, no STARTTLS")
resp, info = s.article("<tls1@t.example>")
check(info.lines[-1] == b"Hello.", "article over TLS")
try:
    s.login(TUSER, TPASS)
    check(False, "login twice")
except nntplib.NNTPPermanentError as e:
    check(str(e).startswith("502"), "a second login is 502")
s.quit()
c = Client(P)
c.starttls()
check(c.login(TUSER, TPASS).startswith("281"), "raw client: 281")
check(c.cmd("AUTHINFO USER " + TUSER).startswith("502"), "AUTHINFO after login is 502")
check(c.cmd("STARTTLS").startswith("502"), "STARTTLS after TLS and login is 502")
'
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'login ok' "$NNTPD_LOG"
}

@test "STARTTLS after login in clear (allow_plaintext_auth) is 502" {
	need_pam
	tls_up -o allow_plaintext_auth=YES
	run sec_py '
c = Client(P)
check("AUTHINFO USER" in c.caps(), "AUTHINFO USER offered in clear when allowed")
check(c.login(TUSER, TPASS).startswith("281"), "plaintext login allowed")
caps = c.caps()
check("STARTTLS" not in caps and "AUTHINFO" not in caps and "AUTHINFO USER" not in caps, "caps: %r" % caps)
check(c.cmd("STARTTLS").startswith("502"), "502")
'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "commands pipelined after STARTTLS in clear are never run" {
	tls_up -o allow_plaintext_auth=NO
	run sec_py '
c = Client(P)
c.send("STARTTLS\r\nAUTHINFO USER injected\r\n")
check(c.line().startswith("382"), "382")
check(c.buf == b"", "nothing more in clear")
c.sock = tls_context().wrap_socket(c.sock)
check(c.cmd("AUTHINFO PASS x").startswith("482"), "the injected AUTHINFO USER never ran (482)")
check(c.cmd("DATE").startswith("111"), "the session goes on")
'
	echo "$output"
	[ "$status" -eq 0 ]
	hasnt -f "$NNTPD_LOG" injected
}

@test "a failed STARTTLS handshake is 580 and the session ends" {
	tls_up
	run sec_py '
c = Client(P)
check(c.cmd("STARTTLS").startswith("382"), "382")
c.sock.sendall(b"this is not a TLS ClientHello\r\n" * 4)
data = b""
try:
    while True:
        d = c.sock.recv(4096)
        if not d:
            break
        data += d
except OSError:
    pass
check(b"580" in data, "580 after the failed handshake: %r" % data)
'
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'STARTTLS handshake failed' "$NNTPD_LOG"
}

@test "implicit TLS: openssl s_client and nntplib NNTP_SSL" {
	need_pam
	tls_up
	run bash -c "{ printf 'CAPABILITIES\r\n'; sleep 1; printf 'QUIT\r\n'; sleep 1; } |
		timeout 30 openssl s_client -connect 127.0.0.1:$NNTPS_PORT -quiet 2>/dev/null"
	echo "$output"
	grep -q '^200 ' <<<"$output"
	grep -q '^AUTHINFO USER' <<<"$output"
	hasnt '^STARTTLS'
	grep -q '^205 ' <<<"$output"
	run sec_py '
s = nntplib.NNTP_SSL("127.0.0.1", S, ssl_context=tls_context(), timeout=30)
check(s.getwelcome().startswith("200"), "welcome over NNTPS")
s.login(TUSER, TPASS)
check("AUTHINFO" not in s.getcapabilities(), "logged in over NNTPS")
resp, count, first, last, name = s.group("local.test")
check(name == "local.test", "group")
s.quit()
'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "a client naming another protocol in ALPN is refused" {
	tls_up
	run sec_py '
c = Client(P)
c.cmd("STARTTLS")
try:
    tls_context(["http/1.1"]).wrap_socket(c.sock)
    check(False, "handshake with ALPN http/1.1")
except (ssl.SSLError, OSError):
    check(True, "ALPN http/1.1 refused")
c = Client(P)
c.cmd("STARTTLS")
c.sock = tls_context(["nntp"]).wrap_socket(c.sock)
check(c.sock.selected_alpn_protocol() == "nntp", "ALPN nntp accepted")
'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "nntpd -t reports a certificate that does not load" {
	local d
	postel_tmpdir d
	: >"$d/nntpd.conf"
	echo "not a certificate" >"$d/bad.pem"
	run "$POSTEL_BUILD/nntpd" -t -f "$d/nntpd.conf" -o "ssl_cert_file=$d/bad.pem"
	echo "$output"
	[ "$status" -ne 0 ]
	grep -q "bad.pem" <<<"$output"
	run "$POSTEL_BUILD/nntpd" -t -f "$d/nntpd.conf" -o "ssl_cert_file=$CERT_DIR/cert.pem" \
		-o "ssl_key_file=$d/missing.pem"
	[ "$status" -ne 0 ]
	grep -q "missing.pem" <<<"$output"
	# as root -t also checks the spool and accounts: a tree of its own
	config_env nntpd
	run "$POSTEL_BUILD/nntpd" -t -f "$d/nntpd.conf" -o "ssl_cert_file=$CERT_DIR/cert.pem" \
		-o "ssl_key_file=$CERT_DIR/key.pem" "${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
}

@test "COMPRESS DEFLATE in clear: articles byte-exact, replies never stuck" {
	tls_up
	big_article
	run sec_py '
plain = Client(P)
plain.cmd("GROUP local.test")
check(plain.cmd("ARTICLE <big@t.example>").startswith("220"), "ARTICLE in clear (sendfile)")
want = plain.block()
c = Client(P)
check(c.compress().startswith("206"), "206")
check("COMPRESS DEFLATE" not in c.caps(), "COMPRESS gone from CAPABILITIES")
check(c.cmd("COMPRESS DEFLATE").startswith("502"), "a second COMPRESS is 502")
check(c.cmd("GROUP local.test").startswith("211"), "GROUP")
check(c.cmd("ARTICLE <big@t.example>").startswith("220"), "ARTICLE compressed")
before = c.wire_in
got = c.block()
check(got == want, "byte-exact (%d bytes)" % len(got))
for i in range(20):
    check(c.cmd("DATE").startswith("111"), "reply %d arrives at once" % i) if i in (0, 19) else c.cmd("DATE")
check(c.cmd("STARTTLS").startswith("502"), "no STARTTLS under compression")
check(c.cmd("QUIT").startswith("205"), "QUIT")
'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "COMPRESS DEFLATE inside TLS, after login, with a compressed POST" {
	need_pam
	tls_up
	big_article
	run sec_py '
plain = Client(P)
check(plain.cmd("ARTICLE <big@t.example>").startswith("220"), "ARTICLE in clear")
want = plain.block()
c = Client(P)
c.starttls()
check(c.login(TUSER, TPASS).startswith("281"), "login over TLS")
check(c.compress().startswith("206"), "206 inside TLS")
check(c.cmd("BODY <big@t.example>").startswith("222"), "BODY")
body = c.block()
check(want.endswith(body) and len(body) > 200000, "body byte-exact through TLS and deflate")
check(c.cmd("POST").startswith("340"), "POST")
art = b"From: Z <z@example.com>\r\nNewsgroups: local.test\r\nSubject: z\r\nMessage-ID: <z1@t.example>\r\n\r\n..dot\r\nzipped\r\n.\r\n"
c.send(art)
check(c.line().startswith("240"), "compressed POST stored")
check(c.cmd("BODY <z1@t.example>").startswith("222") and c.block() == b"..dot\r\nzipped\r\n", "read back")
s = Client(S, implicit=True)
check(s.compress().startswith("206") and s.cmd("DATE").startswith("111"), "COMPRESS on NNTPS")
'
	echo "$output"
	[ "$status" -eq 0 ]
}
