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
	# the accounts of the root install test, whatever happened to it
	[ -z "${RUN_ACCOUNTS+x}" ] || remove_accounts
	postel_teardown
}

# Every file make install puts under DESTDIR.
INSTALLED=(
	usr/local/sbin/ftpd usr/local/sbin/nntpd usr/local/sbin/nntpctl
	usr/local/share/man/man8/ftpd.8 usr/local/share/man/man8/nntpd.8
	usr/local/share/man/man8/nntpctl.8
	usr/local/share/man/man5/ftpd.conf.5 usr/local/share/man/man5/nntpd.conf.5
	usr/local/etc/postel/ftpd.conf usr/local/etc/postel/nntpd.conf
	usr/local/lib/postel/nntpd-filter usr/local/etc/postel/nntpd-filter.patterns
	usr/local/etc/postel/nntpd-control.ctl
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
	local sbin=$DEST/usr/local/sbin etc=$DEST/usr/local/etc/postel
	run "$sbin/ftpd" -h
	has 'default /usr/local/etc/postel/ftpd\.conf'
	run "$sbin/nntpd" -h
	has 'default /usr/local/etc/postel/nntpd\.conf'
	# This host has no make install of its own: point the paths and
	# accounts the configs name (checked as root) at a tree of the test's.
	local dir ftpuser=nobody
	postel_tmpdir dir
	ftpd_tree "$dir"
	mkdir "$dir/log"
	getent passwd ftp >/dev/null && ftpuser=ftp
	local -a env_ftpd=(-o "anon_root=$dir/anon" -o "secure_chroot_dir=$dir/empty"
		-o "xferlog_file=$dir/log/xferlog" -o "ftp_username=$ftpuser")
	local -a env_nntpd=(-o "spool_dir=$dir/spool"
		-o "nopriv_user=$(getent passwd news >/dev/null && echo news || echo nobody)")
	run "$sbin/ftpd" -t -f "$etc/ftpd.conf" "${env_ftpd[@]}"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	run "$sbin/ftpd" -T -f "$etc/ftpd.conf" -o listen_port=2121 "${env_ftpd[@]}"
	[ "$status" -eq 0 ]
	has '^listen_port=2121$'
	run "$sbin/nntpd" -t -f "$etc/nntpd.conf" "${env_nntpd[@]}"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	run "$sbin/nntpd" -T -f "$etc/nntpd.conf" -o listen_port=2121 "${env_nntpd[@]}"
	[ "$status" -eq 0 ]
	has '^listen_port=2121$'
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

# ---- make install as root: accounts and directories -------------------------

# The accounts of one run: unique names (useradd's rules: a letter first,
# at most 32), removed in teardown whatever happened.
run_accounts() {
	local tag
	tag=$(printf '%s' "${POSTEL_RUN_ID:-}-$$" | md5sum | cut -c1-8)
	U_FTP=pi${tag}f U_NOPRIV=pi${tag}p U_NEWS=pi${tag}n U_SESS=pi${tag}s
	RUN_ACCOUNTS=("$U_FTP" "$U_NOPRIV" "$U_NEWS" "$U_SESS")
}

remove_accounts() {
	local u
	for u in "${RUN_ACCOUNTS[@]}"; do
		if getent passwd "$u" >/dev/null; then userdel "$u"; fi
		if getent group "$u" >/dev/null; then groupdel "$u"; fi
	done
}

# What install made under ROOT and the accounts: owner, group, mode, mtime.
install_listing() {
	find "$ROOT" -printf '%P %u %g %m %T@\n' | sort
	getent passwd "${RUN_ACCOUNTS[@]}"
	getent group "${RUN_ACCOUNTS[@]}"
}

@test "make install as root makes accounts and directories, the installed daemons serve, a re-install changes nothing" {
	is_root || skip "make install makes accounts and directories only as root"
	run_accounts
	ROOT=$DEST
	local prefix=$ROOT/prefix
	local -a vars=(DESTDIR= PREFIX="$prefix" SYSCONFDIR=/usr/local/etc/postel
		FTP_USER="$U_FTP" FTP_NOPRIV_USER="$U_NOPRIV" NEWS_USER="$U_NEWS"
		NEWS_SESSION_USER="$U_SESS"
		SECURE_CHROOT_DIR="$ROOT/var/lib/postel/empty" ANON_ROOT="$ROOT/srv/ftp"
		HOOK_QUEUE_DIR="$ROOT/var/lib/postel/hooks" LOG_DIR="$ROOT/var/log/postel"
		SPOOL_DIR="$ROOT/var/spool/postel/news"
		PAMDIR="$ROOT/etc/pam.d" LOGROTATEDIR="$ROOT/etc/logrotate.d")
	# SYSCONFDIR as the round's build has it, so nothing is rebuilt: the
	# daemons get -f below.
	run make -s -C "$POSTEL_ROOT" "${MAKEVARS[@]}" install "${vars[@]}"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	has "^made account $U_FTP\$" "^made account $U_NEWS\$" "^made $ROOT/var/spool/postel/news "
	# the accounts: system uids, no login shell, homes as INSTALL has them
	local u uid
	for u in "${RUN_ACCOUNTS[@]}"; do
		uid=$(getent passwd "$u" | cut -d: -f3)
		[ -n "$uid" ] && [ "$uid" -lt 1000 ]
		[ "$(getent passwd "$u" | cut -d: -f7)" = /usr/sbin/nologin ]
		[ "$(id -gn "$u")" = "$u" ]
	done
	[ "$(getent passwd "$U_FTP" | cut -d: -f6)" = "$ROOT/srv/ftp" ]
	[ "$(getent passwd "$U_NEWS" | cut -d: -f6)" = "$ROOT/var/spool/postel/news" ]
	# owners and modes
	[ "$(stat -c '%U:%G %a' "$ROOT/var/lib/postel/empty")" = "root:root 755" ]
	[ "$(stat -c '%U:%G %a' "$ROOT/var/lib/postel/hooks")" = "root:root 700" ]
	[ "$(stat -c '%U:%G %a' "$ROOT/srv/ftp")" = "root:root 755" ]
	[ "$(stat -c '%U:%G %a' "$ROOT/srv/ftp/pub")" = "root:root 755" ]
	[ "$(stat -c '%U:%G %a' "$ROOT/srv/ftp/incoming")" = "$U_FTP:$U_FTP 733" ]
	[ "$(stat -c '%U:%G %a' "$ROOT/var/log/postel")" = "root:adm 750" ]
	[ "$(stat -c '%U:%G %a' "$ROOT/var/spool/postel/news")" = "$U_NEWS:$U_NEWS 750" ]
	# the installed configs name the same accounts and paths
	local etc=$prefix/etc/postel
	grep -qx "ftp_username=$U_FTP" "$etc/ftpd.conf"
	grep -qx "nopriv_user=$U_NOPRIV" "$etc/ftpd.conf"
	grep -qx "anon_root=$ROOT/srv/ftp" "$etc/ftpd.conf"
	grep -qx "secure_chroot_dir=$ROOT/var/lib/postel/empty" "$etc/ftpd.conf"
	grep -qx "xferlog_file=$ROOT/var/log/postel/xferlog" "$etc/ftpd.conf"
	grep -qx "hook_queue_dir=$ROOT/var/lib/postel/hooks" "$etc/ftpd.conf"
	grep -qx "nopriv_user=$U_NEWS" "$etc/nntpd.conf"
	grep -qx "session_user=$U_SESS" "$etc/nntpd.conf"
	grep -qx "spool_dir=$ROOT/var/spool/postel/news" "$etc/nntpd.conf"
	grep -q "^$ROOT/var/log/postel/xferlog {" "$ROOT/etc/logrotate.d/postel"
	grep -qx "ReadWritePaths=$ROOT/var/log/postel $ROOT/srv/ftp" "$prefix/lib/systemd/system/ftpd.service"
	# what install made is all -t (as root: accounts and directories too) asks for
	run "$prefix/sbin/ftpd" -t -f "$etc/ftpd.conf"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	run "$prefix/sbin/nntpd" -t -f "$etc/nntpd.conf"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]

	# again: nothing changes, not even an mtime
	local before
	before=$(install_listing)
	run make -s -C "$POSTEL_ROOT" "${MAKEVARS[@]}" install "${vars[@]}"
	[ "$status" -eq 0 ]
	hasnt '^made '
	[ "$(install_listing)" = "$before" ]

	# the installed daemons, with the installed configs, serve real clients
	local dir
	postel_tmpdir dir
	printf 'Hello from the installed Postel.\n' >"$ROOT/srv/ftp/pub/hello.txt"
	chmod 644 "$ROOT/srv/ftp/pub/hello.txt"
	POSTEL_BUILD=$prefix/sbin POSTEL_START_DIR=$dir start_daemon ftpd FTPD -f "$etc/ftpd.conf"
	run curl -sS --max-time 30 "ftp://127.0.0.1:$FTPD_PORT/pub/hello.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "Hello from the installed Postel." ]
	wait_for 10 grep -q 'pub/hello\.txt' "$ROOT/var/log/postel/xferlog"
	[ "$(stat -c '%U %a' "$ROOT/var/log/postel/xferlog")" = "root 600" ]

	"$prefix/sbin/nntpctl" -f "$etc/nntpd.conf" newgroup local.installed y "Installed"
	POSTEL_BUILD=$prefix/sbin POSTEL_START_DIR=$dir start_daemon nntpd NNTPD \
		-f "$etc/nntpd.conf" -o pathhost=test.postel.invalid
	run python3 -W ignore -c '
import io, nntplib, sys
s = nntplib.NNTP("127.0.0.1", int(sys.argv[1]))
s.post(io.BytesIO(b"From: a@example.invalid\r\nNewsgroups: local.installed\r\n"
                  b"Subject: installed\r\nMessage-ID: <installed@example.invalid>\r\n\r\nposted\r\n"))
_, count, first, last, _ = s.group("local.installed")
print("COUNT", count)
_, info = s.article("<installed@example.invalid>")
print("BODY", info.lines[-1].decode())
s.quit()
' "$NNTPD_PORT"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	has '^COUNT 1$' '^BODY posted$'
	# the writer filed it as the news account: files 0640, directories 0750
	run find "$ROOT/var/spool/postel/news" -newer "$etc/nntpd.conf" ! -user "$U_NEWS"
	[ -z "$output" ]
	stop_pid "$FTPD_PID"
	stop_pid "$NNTPD_PID"

	# uninstall keeps the accounts and the data, and says so
	run make -s -C "$POSTEL_ROOT" "${MAKEVARS[@]}" uninstall "${vars[@]}"
	[ "$status" -eq 0 ]
	has "^kept: accounts $U_FTP $U_NEWS "
	[ ! -e "$prefix/sbin/ftpd" ]
	getent passwd "$U_FTP" >/dev/null
	[ -f "$ROOT/srv/ftp/pub/hello.txt" ]
	[ -d "$ROOT/var/spool/postel/news" ]
}

@test "a missing account or directory stops ftpd and nntpd, at -t and at start, naming the command that makes it" {
	is_root || skip "as an ordinary user sessions change no uid or root: nothing to check"
	local dir port
	postel_tmpdir dir
	mkdir "$dir/anon"
	run "$POSTEL_BUILD/ftpd" -t -f /dev/null -o "anon_root=$dir/anon" \
		-o "secure_chroot_dir=$dir/lib/empty" -o "xferlog_file=$dir/log/xferlog" \
		-o ftp_username=postel-no-such-user -o nopriv_user=nobody
	printf '%s\n' "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 3 ]
	has "^-o:[0-9]+: secure_chroot_dir: directory $dir/lib/empty does not exist; create it with: install -d -o root -g root -m 755 $dir/lib/empty\$" \
		"^-o:[0-9]+: ftp_username: no account \"postel-no-such-user\"; create it with: useradd --system --user-group --home-dir $dir/anon --no-create-home --shell /usr/sbin/nologin postel-no-such-user\$" \
		"^-o:[0-9]+: xferlog_file: directory $dir/log \\(for $dir/log/xferlog\\) does not exist; create it with: install -d -o root -g adm -m 750 $dir/log\$"
	# the same at start, before any port is bound
	port=$(free_port)
	run timeout 20 "$POSTEL_BUILD/ftpd" -D -f /dev/null -o listen_address=127.0.0.1 \
		-o "listen_port=$port" -o "pid_file=$dir/ftpd.pid" -o "anon_root=$dir/anon" \
		-o "secure_chroot_dir=$dir/empty" -o "xferlog_file=$dir/xferlog" \
		-o ftp_username=postel-no-such-user
	[ "$status" -eq 1 ]
	has '^-o:[0-9]+: ftp_username: no account "postel-no-such-user"; create it with: useradd --system '
	[ ! -e "$dir/ftpd.pid" ]
	# a directory ftpd makes itself needs only its parent
	run "$POSTEL_BUILD/ftpd" -t -f /dev/null -o "anon_root=$dir/anon" \
		-o "secure_chroot_dir=$dir/empty" -o "xferlog_file=$dir/xferlog" -o ftp_username=nobody
	[ "$status" -eq 0 ]

	printf 'session_user=postel-no-such-user\n' >"$dir/nntpd.conf"
	run "$POSTEL_BUILD/nntpd" -t -f "$dir/nntpd.conf" -o "spool_dir=$dir/spool/news" \
		-o nopriv_user=nobody
	printf '%s\n' "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 2 ]
	has "^$dir/nntpd\\.conf:1: session_user: no account \"postel-no-such-user\"; create it with: useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin postel-no-such-user\$" \
		"^-o:[0-9]+: spool_dir: directory $dir/spool/news does not exist; create it with: install -d -o nobody -g $(id -gn nobody) -m 750 $dir/spool/news\$"
	port=$(free_port)
	run timeout 20 "$POSTEL_BUILD/nntpd" -D -f "$dir/nntpd.conf" -o listen_address=127.0.0.1 \
		-o "listen_port=$port" -o "pid_file=$dir/nntpd.pid" -o "spool_dir=$dir/spool/news" \
		-o nopriv_user=nobody
	[ "$status" -eq 1 ]
	has "^-o:[0-9]+: spool_dir: directory $dir/spool/news does not exist; create it with: install -d "
	[ ! -e "$dir/nntpd.pid" ]
}
