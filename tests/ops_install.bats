#!/usr/bin/env bats
# make install / make uninstall into a DESTDIR: every file in its place, the
# installed daemons run from there, systemd units that point at them, and
# the admin's files (configurations, PAM) left alone.

setup() {
	load lib/common
	load lib/ops
	postel_tmpdir DEST
	PREFIX=/usr/local
	# the build this round tests (build or build-san), already built by
	# runtests: make all is a no-op then
	MAKEVARS=(BUILD="$POSTEL_BUILD")
	[ "${POSTEL_BUILD##*/}" = build-san ] && MAKEVARS+=(SAN=1)
	make -s -C "$POSTEL_ROOT" "${MAKEVARS[@]}" all >"$DEST.make.log" 2>&1 || {
		cat "$DEST.make.log"
		return 1
	}
	rm -f "$DEST.make.log"
}

teardown() {
	postel_teardown
}

# Every file make install puts under DESTDIR.
INSTALLED=(
	usr/local/sbin/ftpd usr/local/sbin/nntpd usr/local/sbin/nntpctl
	usr/local/share/man/man8/ftpd.8 usr/local/share/man/man8/nntpd.8
	usr/local/share/man/man8/nntpctl.8
	usr/local/share/man/man5/ftpd.conf.5 usr/local/share/man/man5/nntpd.conf.5
	usr/local/etc/postel/ftpd.conf usr/local/etc/postel/nntpd.conf
	etc/pam.d/ftpd etc/pam.d/nntpd
	usr/local/lib/systemd/system/ftpd.service usr/local/lib/systemd/system/ftpd.socket
	usr/local/lib/systemd/system/nntpd.service usr/local/lib/systemd/system/nntpd.socket
	etc/logrotate.d/postel
	etc/fail2ban/filter.d/postel-ftpd.conf etc/fail2ban/filter.d/postel-nntpd.conf
	etc/fail2ban/jail.d/postel-ftpd.conf etc/fail2ban/jail.d/postel-nntpd.conf
)

install_to() { # install_to DESTDIR [make args]
	local d=$1
	shift
	make -s -C "$POSTEL_ROOT" "${MAKEVARS[@]}" install DESTDIR="$d" PREFIX="$PREFIX" "$@"
}

uninstall_from() {
	local d=$1
	shift
	make -s -C "$POSTEL_ROOT" "${MAKEVARS[@]}" uninstall DESTDIR="$d" PREFIX="$PREFIX" "$@"
}

@test "make install DESTDIR PREFIX=/usr/local puts every file in its place, nothing else" {
	run install_to "$DEST"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	local f missing=0
	for f in "${INSTALLED[@]}"; do
		if [ ! -f "$DEST/$f" ]; then
			echo "missing: $f"
			missing=1
		fi
	done
	[ "$missing" -eq 0 ]
	# and nothing that is not on the list
	run bash -c "cd '$DEST' && find . -type f | sed 's|^\./||' | sort"
	[ "$output" = "$(printf '%s\n' "${INSTALLED[@]}" | sort)" ]
	# modes: daemons 755, the rest 644
	[ "$(stat -c %a "$DEST/usr/local/sbin/ftpd")" = 755 ]
	[ "$(stat -c %a "$DEST/usr/local/etc/postel/ftpd.conf")" = 644 ]
	[ "$(stat -c %a "$DEST/usr/local/lib/systemd/system/ftpd.service")" = 644 ]
}

@test "the installed man pages are manual pages (man can render each)" {
	install_to "$DEST"
	local f
	for f in "$DEST"/usr/local/share/man/man[58]/*; do
		run timeout 30 man -l -Tutf8 "$f"
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" -gt 10 ]
	done
	[ -f "$DEST/usr/local/share/man/man8/nntpd.8" ]
	[ -f "$DEST/usr/local/share/man/man5/nntpd.conf.5" ]
}

@test "the installed daemons default to PREFIX's config dir and accept the installed configs (-t)" {
	install_to "$DEST"
	local sbin=$DEST/usr/local/sbin etc=$DEST/usr/local/etc/postel d
	run "$sbin/ftpd" -h
	has 'default /usr/local/etc/postel/ftpd\.conf'
	run "$sbin/nntpd" -h
	has 'default /usr/local/etc/postel/nntpd\.conf'
	for d in ftpd nntpd; do
		run "$sbin/$d" -t -f "$etc/$d.conf"
		printf '%s\n' "$output"
		[ "$status" -eq 0 ]
		run "$sbin/$d" -T -f "$etc/$d.conf" -o listen_port=2121
		[ "$status" -eq 0 ]
		has '^listen_port=2121$'
	done
}

@test "the installed ftpd runs from DESTDIR with the installed config: login and RETR" {
	install_to "$DEST"
	local dir
	postel_tmpdir dir
	ftpd_tree "$dir"
	POSTEL_BUILD=$DEST/usr/local/sbin POSTEL_START_DIR=$dir start_daemon ftpd FTPD \
		-f "$DEST/usr/local/etc/postel/ftpd.conf" \
		-o "anon_root=$dir/anon" -o "secure_chroot_dir=$dir/empty" \
		-o "xferlog_file=$dir/xferlog" -o "ftp_username=$(getent passwd ftp >/dev/null && echo ftp || echo nobody)"
	[ "$(readlink -f "/proc/$FTPD_PID/exe")" = "$(readlink -f "$DEST/usr/local/sbin/ftpd")" ]
	run ops_py '
c = Line("ftp", "127.0.0.1", int(ARGS[0]))
print("GREETING", c.greeting)
c.login()
data, where, final = c.retr("pub/hello.txt")
print("DATA", data, final)
print("QUIT", c.cmd("QUIT"))
' "$FTPD_PORT"
	[ "$status" -eq 0 ]
	has '^GREETING 220 '
	has "^DATA b'Hello from Postel.\\\\n' 226"
	has '^QUIT 221 '
}

@test "the installed nntpd and nntpctl run from DESTDIR with the installed config: GROUP, QUIT" {
	install_to "$DEST"
	[ -f "$DEST/usr/local/etc/postel/nntpd.conf" ]
	local dir user=news sbin=$DEST/usr/local/sbin
	getent passwd news >/dev/null || user=nobody
	postel_tmpdir dir
	mkdir -p "$dir/spool"
	"$sbin/nntpctl" -f "$DEST/usr/local/etc/postel/nntpd.conf" -o "spool_dir=$dir/spool" \
		newgroup local.installed y "Installed"
	chown -R "$user:" "$dir/spool"
	POSTEL_BUILD=$sbin POSTEL_START_DIR=$dir start_daemon nntpd NNTPD \
		-f "$DEST/usr/local/etc/postel/nntpd.conf" -o "spool_dir=$dir/spool" \
		-o pathhost=test.postel.invalid -o "nopriv_user=$user"
	run nntp_session "GROUP local.installed" QUIT
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^20[01] ]]
	[[ ${lines[1]} =~ ^211\ 0\ .*local\.installed ]]
	[[ ${lines[2]} =~ ^205 ]]
}

@test "systemd units point at the installed sbin and config, and pass systemd-analyze verify" {
	install_to "$DEST"
	local u=$DEST/usr/local/lib/systemd/system d
	# no unsubstituted @PLACEHOLDER@ (grep: 1 is no match, 2 an error)
	run grep -n '@[A-Z]*@' "$u"/*
	echo "unsubstituted placeholders: $output"
	[ "$status" -eq 1 ]
	for d in ftpd nntpd; do
		grep -qx "ExecStart=/usr/local/sbin/$d -D -f /usr/local/etc/postel/$d.conf" "$u/$d.service"
		grep -qx "ExecStartPre=/usr/local/sbin/$d -t -f /usr/local/etc/postel/$d.conf" "$u/$d.service"
		[ -x "$DEST/usr/local/sbin/$d" ]
		[ -f "$DEST/usr/local/etc/postel/$d.conf" ]
		grep -qx "Service=$d.service" "$u/$d.socket"
		grep -Eq '^ListenStream=' "$u/$d.socket"
		grep -qx 'WantedBy=multi-user.target' "$u/$d.service"
		grep -qx 'WantedBy=sockets.target' "$u/$d.socket"
	done
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (grep checks passed)"
	# The units name /usr/local/sbin/..., which is under DESTDIR here, not on
	# this host: that one complaint is expected, any other is a failure.
	run bash -c "cd '$u' && systemd-analyze verify --man=no ./ftpd.socket ./ftpd.service ./nntpd.socket ./nntpd.service 2>&1"
	printf '%s\n' "$output"
	local rest
	rest=$(grep -Ev '^(ftpd|nntpd)\.service: Command /usr/local/sbin/(ftpd|nntpd) is not executable: No such file or directory$' <<<"$output" || true)
	[ -z "$rest" ]
}

@test "make uninstall removes what install put there and leaves a changed config" {
	install_to "$DEST"
	printf '\n# changed by the admin\nmax_clients=5\n' >>"$DEST/usr/local/etc/postel/ftpd.conf"
	run uninstall_from "$DEST"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	run bash -c "cd '$DEST' && find . -type f | sed 's|^\./||' | sort"
	printf '%s\n' "$output"
	[ "$output" = usr/local/etc/postel/ftpd.conf ]
	grep -q '^# changed by the admin$' "$DEST/usr/local/etc/postel/ftpd.conf"
	# a second uninstall is harmless
	run uninstall_from "$DEST"
	[ "$status" -eq 0 ]
}

@test "make install keeps existing configs, PAM, logrotate and fail2ban files; uninstall keeps them too" {
	mkdir -p "$DEST/etc/pam.d" "$DEST/usr/local/etc/postel" "$DEST/etc/logrotate.d" \
		"$DEST/etc/fail2ban/jail.d"
	printf 'auth required pam_deny.so # local policy\n' >"$DEST/etc/pam.d/ftpd"
	printf 'auth required pam_deny.so # local policy\n' >"$DEST/etc/pam.d/nntpd"
	printf 'listen_port=2121\n' >"$DEST/usr/local/etc/postel/ftpd.conf"
	printf '# mine\n' >"$DEST/etc/logrotate.d/postel"
	printf '[postel-ftpd]\nenabled = true\n' >"$DEST/etc/fail2ban/jail.d/postel-ftpd.conf"
	run install_to "$DEST"
	[ "$status" -eq 0 ]
	grep -q '# local policy' "$DEST/etc/pam.d/ftpd"
	grep -q '# local policy' "$DEST/etc/pam.d/nntpd"
	[ "$(cat "$DEST/usr/local/etc/postel/ftpd.conf")" = listen_port=2121 ]
	[ "$(cat "$DEST/etc/logrotate.d/postel")" = '# mine' ]
	[ "$(cat "$DEST/etc/fail2ban/jail.d/postel-ftpd.conf")" = $'[postel-ftpd]\nenabled = true' ]
	# the other fail2ban files were absent: installed
	cmp "$DEST/etc/fail2ban/jail.d/postel-nntpd.conf" "$POSTEL_ROOT/conf/fail2ban/jail.d/postel-nntpd.conf"
	run uninstall_from "$DEST"
	[ "$status" -eq 0 ]
	grep -q '# local policy' "$DEST/etc/pam.d/ftpd"
	grep -q '# local policy' "$DEST/etc/pam.d/nntpd"
	[ -f "$DEST/usr/local/etc/postel/ftpd.conf" ]
	[ -f "$DEST/etc/logrotate.d/postel" ]
	[ -f "$DEST/etc/fail2ban/jail.d/postel-ftpd.conf" ]
	[ ! -e "$DEST/etc/fail2ban/jail.d/postel-nntpd.conf" ]
	[ ! -e "$DEST/usr/local/sbin/ftpd" ]
}

@test "the shipped PAM files and sample configs are tracked in git (a fresh clone can install)" {
	cd "$POSTEL_ROOT"
	git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	local f
	for f in conf/pam.d/ftpd conf/pam.d/nntpd conf/ftpd.conf conf/nntpd.conf conf/logrotate \
		conf/systemd/ftpd.service conf/systemd/nntpd.service \
		conf/fail2ban/filter.d/postel-ftpd.conf conf/fail2ban/filter.d/postel-nntpd.conf \
		conf/fail2ban/jail.d/postel-ftpd.conf conf/fail2ban/jail.d/postel-nntpd.conf; do
		if ! git ls-files --error-unmatch "$f" >/dev/null 2>&1; then
			echo "not tracked: $f"
			return 1
		fi
	done
}

@test "make install with another PREFIX rebuilds: the daemons default to that PREFIX's config dir" {
	# A private build dir, so the shared build/ is not touched.
	local b=$DEST.build
	POSTEL_DIRS+=("$b")
	PREFIX=/opt/postel
	MAKEVARS=(BUILD="$b")
	run make -s -j"$(nproc)" -C "$POSTEL_ROOT" BUILD="$b" PREFIX=/opt/postel "$b/ftpd"
	[ "$status" -eq 0 ]
	run "$b/ftpd" -h
	has 'default /opt/postel/etc/postel/ftpd\.conf'
	PREFIX=/opt/other
	run install_to "$DEST" -j"$(nproc)"
	[ "$status" -eq 0 ]
	grep -qx 'ExecStart=/opt/other/sbin/ftpd -D -f /opt/other/etc/postel/ftpd.conf' \
		"$DEST/opt/other/lib/systemd/system/ftpd.service"
	run "$DEST/opt/other/sbin/ftpd" -h
	has 'default /opt/other/etc/postel/ftpd\.conf'
}
