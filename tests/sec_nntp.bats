#!/usr/bin/env bats
# nntpd trust boundaries, attacked from the client's or the worker's side:
# each refusal is checked by its reply or errno, and the daemon stays up.

setup_file() {
	load lib/nntpsec
	nntpsec_setup_file
}

teardown_file() {
	load lib/nntpsec
	nntpsec_teardown_file
}

setup() {
	load lib/common
	load lib/nntp
	load lib/nntpsec
}

teardown() {
	postel_teardown
}

@test "AUTHINFO after COMPRESS is 502 and CAPABILITIES stops offering it (RFC 8054)" {
	need_pam
	tls_up -o allow_plaintext_auth=YES
	run sec_py '
c = Client(P)
check("AUTHINFO USER" in c.caps(), "AUTHINFO USER offered before COMPRESS")
check(c.compress().startswith("206"), "206")
check("AUTHINFO" not in c.caps(), "AUTHINFO gone from CAPABILITIES under COMPRESS")
r = c.cmd("AUTHINFO USER " + TUSER)
check(r.startswith("502"), "AUTHINFO USER is 502: " + r)
r = c.cmd("AUTHINFO PASS " + TPASS)
check(r.startswith("502"), "AUTHINFO PASS is 502: " + r)
check(c.cmd("DATE").startswith("111"), "the session goes on")
check(c.cmd("QUIT").startswith("205"), "QUIT")
'
	echo "$output"
	[ "$status" -eq 0 ]
	kill -0 "$NNTPD_PID"
	hasnt -f "$NNTPD_LOG" "authenticated"
}
