#!/usr/bin/env bats
# ftpd -V FILE reads an existing vsftpd.conf (issue 17): Debian's own file
# (from the vsftpd .deb, extracted, never installed) runs as is and serves a
# local login; a file with every option of vsftpd.conf(5) gets one line per
# option ftpd does not implement and none for the rest; bad values and
# settings ftpd cannot honour name file, line and key.

VSFTPD_CACHE=${POSTEL_VSFTPD_CACHE:-/var/cache/postel-test}

setup_file() {
	local deb
	deb=$(ls "$VSFTPD_CACHE"/vsftpd_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || return 0
	VSDEB=$(mktemp -d /tmp/postel-vsftpd-deb.XXXXXX)
	dpkg-deb -x "$deb" "$VSDEB"
	zcat "$VSDEB/usr/share/man/man5/vsftpd.conf.5.gz" >"$VSDEB/vsftpd.conf.5"
	export VSDEB
}

teardown_file() {
	[ -z "${VSDEB:-}" ] || rm -rf "$VSDEB"
}

setup() {
	load lib/common
	load lib/ftp
	[ -n "${VSDEB:-}" ] ||
		skip "no vsftpd .deb in $VSFTPD_CACHE (scripts/deps downloads it as root)"
	DEBCONF=$VSDEB/etc/vsftpd.conf
}

teardown() {
	pam_user_remove
	postel_teardown
}

# man_options: "name default" for every option of vsftpd.conf(5), in order.
man_options() {
	awk '/^\.TP/ { getline; if ($1 == ".B" && NF == 2) name = $2; next }
		/^Default:/ && name != "" { print name, $2; name = "" }' "$VSDEB/vsftpd.conf.5"
}

@test "Debian's vsftpd.conf: ftpd -t says it runs as is, naming each option it does not implement" {
	run "$POSTEL_BUILD/ftpd" -t -V "$DEBCONF"
	[ "$status" -eq 0 ]
	has "^$DEBCONF: vsftpd.conf would run as is \(2 notices above\)$"
	# use_localtime=YES is the one line of the file ftpd does not do; the
	# log format is vsftpd's default NO of xferlog_std_format
	has "^$DEBCONF:[0-9]+: use_localtime: notice: not supported: listings and MDTM show UTC"
	has "^$DEBCONF: xferlog_std_format: notice: not supported \(NO by default\)"
	[ "$(grep -c notice: <<<"$output")" -eq 2 ]
}

@test "Debian's vsftpd.conf: vsftpd's keys and defaults, listen_ipv6=YES on :: with IPv4 beside it" {
	run "$POSTEL_BUILD/ftpd" -T -V "$DEBCONF"
	[ "$status" -eq 0 ]
	has '^listen_address6=::' '^listen_address=0\.0\.0\.0' \
		'^anonymous_enable=NO$' '^local_enable=YES$' '^chroot_local_user=NO  # default$' \
		'^pam_service_name=vsftpd$' '^session_support=NO  # default$' \
		'^local_umask=077  # default$' '^max_per_ip=0  # default$' \
		'^ssl_cert_file=/etc/ssl/certs/ssl-cert-snakeoil\.pem$' \
		'^ssl_key_file=/etc/ssl/private/ssl-cert-snakeoil\.key$' \
		'^secure_chroot_dir=/var/run/vsftpd/empty$'
	# listen=YES instead: IPv4 only
	run "$POSTEL_BUILD/ftpd" -T -V "$DEBCONF" -o listen=YES -o listen_ipv6=NO
	[ "$status" -eq 0 ]
	has '^listen_address6=(  # default)?$' '^listen_address=0\.0\.0\.0'
}

@test "Debian's vsftpd.conf serves a local user (curl), and refuses anonymous as it says" {
	is_root || skip "a local login needs root (PAM, a user)"
	pam_user_add vsconf
	echo "hello from $TUSER" >"$THOME/hello.txt"
	chown "$TUSER:" "$THOME/hello.txt"
	start_ftpd -V "$DEBCONF" -o listen=YES -o listen_ipv6=NO \
		-o "pam_service_name=$PAMSVC" -o delay_failed_login=0
	has -f "$FTPD_LOG" 'use_localtime: notice: not supported'
	run curl -sS --max-time 20 "ftp://$TUSER:$TPASS@127.0.0.1:$FTPD_PORT/hello.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "hello from $TUSER" ]
	# chroot_local_user is vsftpd's NO: the user starts in its home, not
	# chrooted to it; local_umask is vsftpd's 077 (write_enable is NO)
	run ftp_py 'f = ftplib.FTP(timeout=30); f.connect(H, P); f.login(ARGS[0], ARGS[1])
print(f.pwd()); print(f.sendcmd("SITE UMASK"))' "$TUSER" "$TPASS"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$THOME" ]
	has '^200 Your current UMASK is 077$'
	run curl -sS --max-time 20 "ftp://127.0.0.1:$FTPD_PORT/"
	[ "$status" -ne 0 ]
	has 'Access denied: 530'
}

@test "every option of vsftpd.conf(5): one line each for those ftpd does not implement, none for the rest" {
	local f name def implemented others
	postel_tmpdir f
	# each option at its documented default ("(none)" is empty), and the
	# options Debian's vsftpd knows but its man page leaves out
	man_options | while read -r name def; do
		case $def in '(none'*) def= ;; esac
		printf '%s=%s\n' "$name" "$def"
	done >"$f/all.conf"
	printf '%s\n' seccomp_sandbox=YES isolate=YES isolate_network=YES \
		allow_writeable_chroot=NO utf8_filesystem=NO >>"$f/all.conf"
	[ "$(wc -l <"$f/all.conf")" -ge 130 ]
	# listen=NO with listen_ipv6=NO is inetd mode: -i
	run "$POSTEL_BUILD/ftpd" -t -i -V "$f/all.conf"
	[ "$status" -eq 0 ]
	has "^$f/all\.conf: vsftpd\.conf would run as is"
	hasnt 'unknown key' 'cannot run as is'
	# ftpd -M -V (ftpd.conf(5)'s table) says "Implemented..." or why not;
	# the lines wanted: FILE:LINE: name for each option it does not implement
	"$POSTEL_BUILD/ftpd" -M -V /dev/null |
		awk '/^\.B / { n = $2; getline; if ($0 ~ /^Implemented/) print n }' >"$f/implemented"
	awk -F= -v f="$f/all.conf" 'NR == FNR { impl[$0] = 1; next }
		!($1 in impl) { print f ":" FNR ": " $1 }' "$f/implemented" "$f/all.conf" |
		sort >"$f/want"
	grep ': notice: ' <<<"$output" | sed 's/: notice: .*//' | sort >"$f/got"
	diff "$f/want" "$f/got"
	# nothing else: one line per option not implemented, and the summary
	others=$(wc -l <"$f/want")
	implemented=$(($(wc -l <"$f/all.conf") - others))
	[ "${#lines[@]}" -eq $((others + 1)) ]
	[ "$implemented" -ge 60 ]
	[ "$others" -ge 50 ]
}

@test "a bad value, an unknown key and a setting ftpd cannot honour name file, line and key" {
	local f
	postel_tmpdir f
	printf 'listen=YES\nanon_upload_enable=maybe\n' >"$f/a.conf"
	run "$POSTEL_BUILD/ftpd" -t -V "$f/a.conf"
	[ "$status" -eq 1 ]
	has "^$f/a\.conf:2: anon_upload_enable: expected YES or NO \(got \"maybe\"\)$" \
		"^$f/a\.conf: vsftpd\.conf would not run as is"
	# a bad value of an option ftpd does not implement is still an error
	printf 'listen=YES\nseccomp_sandbox=perhaps\ntrans_chunk_size=lots\n' >"$f/b.conf"
	run "$POSTEL_BUILD/ftpd" -t -V "$f/b.conf"
	[ "$status" -eq 1 ]
	has "^$f/b\.conf:2: seccomp_sandbox: expected YES or NO" \
		"^$f/b\.conf:3: trans_chunk_size: expected a whole number"
	printf 'listen=YES\nno_such_option=1\n' >"$f/c.conf"
	run "$POSTEL_BUILD/ftpd" -t -V "$f/c.conf"
	[ "$status" -eq 1 ]
	has "^$f/c\.conf:2: no_such_option: unknown key$"
	# security ftpd cannot honour: the file would not run as is
	printf 'listen=YES\ntcp_wrappers=YES\ncmds_denied=DELE,RMD\nrsa_cert_file=\n' >"$f/d.conf"
	run "$POSTEL_BUILD/ftpd" -t -V "$f/d.conf"
	[ "$status" -eq 1 ]
	has "^$f/d\.conf:2: tcp_wrappers: cannot run as is: tcp_wrappers=YES is not supported: .*firewall" \
		"^$f/d\.conf:3: cmds_denied: cannot run as is: cmds_denied=DELE,RMD is not supported" \
		"^$f/d\.conf: vsftpd\.conf would not run as is"
	# both listen keys, as vsftpd itself refuses; and neither without -i
	printf 'listen=YES\nlisten_ipv6=YES\n' >"$f/e.conf"
	run "$POSTEL_BUILD/ftpd" -t -V "$f/e.conf"
	[ "$status" -eq 1 ]
	has "^$f/e\.conf:2: listen_ipv6: cannot be YES with listen=YES"
	printf '# inetd\nlisten=NO\n' >"$f/g.conf"
	run "$POSTEL_BUILD/ftpd" -t -V "$f/g.conf"
	[ "$status" -eq 1 ]
	has "^$f/g\.conf:2: listen: NO with listen_ipv6=NO is vsftpd's inetd mode"
	run "$POSTEL_BUILD/ftpd" -t -i -V "$f/g.conf"
	[ "$status" -eq 0 ]
}
