#!/usr/bin/env bats
# nntpd AUTHINFO USER/PASS (RFC 4643) through PAM in the monitor: refused in
# clear (483) unless allow_plaintext_auth, 281 for a PAM user, 481 after the
# failure delay for a wrong password, 482 out of sequence, 502 once logged in,
# max_login_fails closing the session and backing off the address, and the
# per-user read and post wildmats of user: access rules.

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

# plain_up [args]: no TLS, plaintext AUTHINFO allowed, the test PAM service.
plain_up() {
	local -a pam=()
	[ -z "${PAMSVC:-}" ] || pam=(-o "pam_service_name=$PAMSVC")
	nntp_up -o allow_plaintext_auth=YES "${pam[@]}" "$@"
}

@test "without TLS or allow_plaintext_auth, AUTHINFO is 483 and not advertised" {
	nntp_up
	run sec_py '
c = Client(P)
caps = c.caps()
check(not any(l.startswith("AUTHINFO") or l == "STARTTLS" for l in caps), "no AUTHINFO, no STARTTLS: %r" % caps)
check(c.cmd("AUTHINFO USER " + (TUSER or "x")).startswith("483"), "483")
'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "a PAM user logs in (281); AUTHINFO then leaves CAPABILITIES and is 502" {
	need_pam
	plain_up
	run sec_py '
s = nntplib.NNTP("127.0.0.1", P, timeout=30)
check("AUTHINFO" in s.getcapabilities(), "AUTHINFO USER advertised")
s.login(TUSER, TPASS)
check("AUTHINFO" not in s.getcapabilities(), "AUTHINFO gone after login()")
s.quit()
c = Client(P)
check(c.cmd("AUTHINFO PASS " + TPASS).startswith("482"), "PASS before USER is 482")
check(c.cmd("AUTHINFO SASL PLAIN").startswith("501"), "SASL is not offered")
check(c.login(TUSER, TPASS).startswith("281"), "281 (a password with a space)")
check(c.cmd("AUTHINFO USER " + TUSER).startswith("502"), "502 once authenticated")
'
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "u=$TUSER login ok" "$NNTPD_LOG"
}

@test "a wrong password is 481 after delay_failed_login, and a later right one is 281" {
	need_pam
	plain_up -o delay_failed_login=1
	run sec_py '
c = Client(P)
t = time.monotonic()
check(c.login(TUSER, "wrong").startswith("481"), "wrong password 481")
check(time.monotonic() - t >= 0.9, "after the delay")
t = time.monotonic()
check(c.login("no-such-user-here", "wrong").startswith("481"), "unknown user 481")
check(time.monotonic() - t >= 0.9, "after the same delay")
check(c.login(TUSER, TPASS).startswith("281"), "then 281")
'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "max_login_fails closes the session and the address backs off" {
	need_pam
	plain_up -o delay_failed_login=0 -o max_login_fails=2 -o failed_login_backoff=30
	run sec_py '
c = Client(P)
check(c.login(TUSER, "bad1").startswith("481"), "first failure")
check(c.login(TUSER, "bad2").startswith("481"), "second failure")
try:
    c.line()
    check(False, "still open")
except (EOFError, OSError):
    check(True, "closed after max_login_fails")
# no wait: the monitor reports the failures to the listener before the close
c = Client(P)
check(c.greeting.startswith("400"), "back-off: %s" % c.greeting)
'
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'login refused' "$NNTPD_LOG"
}

@test "user rules: per-user read and post wildmats apply after AUTHINFO" {
	need_pam
	plain_up -o 'access=127.0.0.0/8 read local.*' \
		-o "access=user:$TUSER read,post local.*,secret.* local.other" \
		-o 'access=user:nobody-else none'
	nntpctl_run newgroup local.other y "Other" >/dev/null
	nntpctl_run newgroup secret.stuff y "Secret" >/dev/null
	run sec_py '
def post(c, group, mid):
    if not c.cmd("POST").startswith("340"):
        return "no 340"
    c.send("From: U <u@example.com>\r\nNewsgroups: %s\r\nSubject: s\r\nMessage-ID: <%s>\r\n\r\nbody\r\n.\r\n" % (group, mid))
    return c.line()
c = Client(P)
check(c.greeting.startswith("201"), "the address may only read: 201")
check(c.cmd("GROUP secret.stuff").startswith("411"), "secret.* invisible before login")
check(c.cmd("POST").startswith("480"), "POST before login: 480")
check(c.login(TUSER, TPASS).startswith("281"), "login")
check(c.cmd("GROUP secret.stuff").startswith("211"), "secret.* readable after login")
check(post(c, "local.other", "u1@t.example").startswith("240"), "post to the post wildmat")
r = post(c, "local.test", "u2@t.example")
check(r.startswith("441"), "post outside it refused: %s" % r)
'
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "an address with no access may still log in; before that commands are 480" {
	need_pam
	plain_up -o 'access=0.0.0.0/0 none' -o "access=user:$TUSER read"
	run sec_py '
c = Client(P)
check(c.greeting.startswith("201"), "greeted: %s" % c.greeting)
check(c.cmd("GROUP local.test").startswith("480"), "480 before login")
check(c.login(TUSER, TPASS).startswith("281"), "login")
check(c.cmd("GROUP local.test").startswith("211"), "then readable")
'
	echo "$output"
	[ "$status" -eq 0 ]
	# Without user rules such an address is still turned away at once.
	stop_nntpd
	plain_up -o 'access=0.0.0.0/0 none'
	run nntp_session "DATE"
	[[ ${lines[0]} == 502* ]]
}

@test "access rules: -t checks the user form" {
	local d
	postel_tmpdir d
	: >"$d/nntpd.conf"
	run "$POSTEL_BUILD/nntpd" -t -f "$d/nntpd.conf" -o 'access=user: read'
	[ "$status" -ne 0 ]
	run "$POSTEL_BUILD/nntpd" -t -f "$d/nntpd.conf" -o 'access=user:a* read,post a.* a.b extra'
	[ "$status" -ne 0 ]
	config_env nntpd
	run "$POSTEL_BUILD/nntpd" -t -f "$d/nntpd.conf" -o 'access=user:a* read,post a.* a.b' \
		"${CONFIG_ENV[@]}"
	[ "$status" -eq 0 ]
}
