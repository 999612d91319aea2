#!/usr/bin/env bats
# SIGHUP reloads the TLS certificate and key in both daemons: a renewed
# certificate is served to new connections without a restart, and one that
# does not load is logged and the one in use kept.

setup() {
	load lib/common
	postel_tmpdir CERTS
	"$POSTEL_ROOT/scripts/mkcert" "$CERTS/live"
	"$POSTEL_ROOT/scripts/mkcert" "$CERTS/renewed"
}

teardown() {
	postel_teardown
}

# served PORT PROTO: SHA-256 fingerprint of the certificate the server on
# PORT presents after STARTTLS/AUTH TLS (openssl s_client -starttls PROTO).
served() {
	timeout 10 openssl s_client -connect "127.0.0.1:$1" -starttls "$2" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null
}

fingerprint() {
	openssl x509 -noout -fingerprint -sha256 -in "$1"
}

# serves PORT PROTO CERT: wait (10 s at most) until new connections get CERT.
serves() {
	local want i
	want=$(fingerprint "$3")
	for i in $(seq 100); do
		[ "$(served "$1" "$2")" = "$want" ] && return 0
		sleep 0.1
	done
	echo "port $1 still serves $(served "$1" "$2"), not $want" >&2
	return 1
}

# reload_cycle PREFIX PROTO: renewed cert after SIGHUP; then a broken one
# is refused with a log line and the renewed one stays in use.
reload_cycle() {
	local pid_var=$1_PID port_var=$1_PORT log_var=$1_LOG
	local pid=${!pid_var} port=${!port_var} log=${!log_var}

	serves "$port" "$2" "$CERTS/live/cert.pem"
	cp "$CERTS/renewed/key.pem" "$CERTS/live/key.pem.new"
	cp "$CERTS/renewed/cert.pem" "$CERTS/live/cert.pem.new"
	mv "$CERTS/live/key.pem.new" "$CERTS/live/key.pem"
	mv "$CERTS/live/cert.pem.new" "$CERTS/live/cert.pem"
	kill -HUP "$pid"
	serves "$port" "$2" "$CERTS/renewed/cert.pem"

	echo "not a certificate" >"$CERTS/live/cert.pem.new"
	mv "$CERTS/live/cert.pem.new" "$CERTS/live/cert.pem"
	kill -HUP "$pid"
	wait_for 10 grep -q 'TLS: .*keeping the certificate in use' "$log"
	serves "$port" "$2" "$CERTS/renewed/cert.pem"
	kill -0 "$pid"
}

@test "ftpd: SIGHUP serves a renewed certificate and keeps it when the next one is bad" {
	load lib/ftp
	ftp_up -o ssl_enable=YES -o "ssl_cert_file=$CERTS/live/cert.pem" \
		-o "ssl_key_file=$CERTS/live/key.pem" -o allow_anon_ssl=YES
	reload_cycle FTPD ftp
}

@test "nntpd: SIGHUP serves a renewed certificate and keeps it when the next one is bad" {
	load lib/nntp
	nntp_up -o "ssl_cert_file=$CERTS/live/cert.pem" -o "ssl_key_file=$CERTS/live/key.pem"
	reload_cycle NNTPD nntp
}
