# shellcheck shell=bash
# nntpsec.bash: what nntp_auth.bats and nntp_tls.bats share on top of nntp.bash.
#
#   nntpsec_setup_file / nntpsec_teardown_file
#                        (a file that loads this at its top level gets them
#                        as its setup_file and teardown_file)
#                        a certificate in CERT_DIR; as root also a system user
#                        TUSER with password TPASS and a PAM service PAMSVC
#                        (/etc/pam.d/postel-test-nntpd-PID), removed afterwards
#   need_pam             skip unless that user exists
#   tls_up [args]        nntp_up with TLS (STARTTLS and an implicit TLS listener
#                        on NNTPS_PORT) and the PAM service
#   sec_py SCRIPT [args] Python with nntpsec (Client, tls_context), nntplib,
#                        zlib, ssl imported; P is the port, S the NNTPS port,
#                        check(cond, what) prints "ok what" or fails

nntpsec_setup_file() {
	CERT_DIR=$(mktemp -d /tmp/postel-cert.XXXXXX)
	chmod 755 "$CERT_DIR"
	"$BATS_TEST_DIRNAME/../scripts/mkcert" "$CERT_DIR"
	export CERT_DIR
	[ "$(id -u)" -eq 0 ] || return 0
	# A space in the password: AUTHINFO PASS takes the rest of the line.
	TPASS="pw $$-Secret"
	load lib/common
	pam_user_add nntpd nohome
}

nntpsec_teardown_file() {
	[ -n "${CERT_DIR:-}" ] && rm -rf "$CERT_DIR"
	load lib/common
	pam_user_remove
}

setup_file() { nntpsec_setup_file; }
teardown_file() { nntpsec_teardown_file; }

need_pam() {
	[ -n "${TUSER:-}" ] || skip "a PAM user needs root (useradd, /etc/pam.d)"
}

tls_up() {
	local -a pam=()
	[ -z "${PAMSVC:-}" ] || pam=(-o "pam_service_name=$PAMSVC")
	NNTPS_PORT=$(free_port)
	export NNTPS_PORT
	nntp_up -o "ssl_cert_file=$CERT_DIR/cert.pem" -o "ssl_key_file=$CERT_DIR/key.pem" \
		-o "implicit_ssl_port=$NNTPS_PORT" "${pam[@]}" "$@" || return 1
	wait_listening "$NNTPS_PORT" "$NNTPD_PID"
}

sec_py() {
	local script=$1
	shift
	PYTHONPATH=$POSTEL_ROOT/tests/lib TUSER=${TUSER:-} TPASS=${TPASS:-} \
		timeout "${SEC_PY_TIMEOUT:-120}" python3 -W ignore - "${NNTPD_PORT:?}" \
		"${NNTPS_PORT:-0}" "$@" <<EOF
import io, nntplib, os, socket, ssl, sys, time, zlib
from nntpsec import Client, tls_context
P, S = int(sys.argv[1]), int(sys.argv[2])
ARGS = sys.argv[3:]
TUSER, TPASS = os.environ["TUSER"], os.environ["TPASS"]
def check(cond, what):
    if not cond:
        print("FAIL", what, flush=True)
        sys.exit(1)
    print("ok", what, flush=True)
$script
EOF
}
