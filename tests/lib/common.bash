# shellcheck shell=bash
# common.bash: the helper every BATS file loads (load lib/common). It starts a
# daemon on a free port in a temp dir, talks raw protocol, and stops by PID.
#
#   start_ftpd [ftpd args...]   exports FTPD_PID FTPD_PORT FTPD_DIR FTPD_CONF FTPD_LOG
#   start_nntpd [nntpd args...] exports NNTPD_PID NNTPD_PORT NNTPD_DIR NNTPD_CONF NNTPD_LOG
#   stop_ftpd / stop_nntpd      SIGTERM, bounded wait, then SIGKILL what is left
#   ftp_session LINE... / nntp_session LINE...   see tests/lib/rawclient.py
#   postel_teardown             call from teardown(): stops what we started and
#                               fails the test on sanitizer or seccomp reports
#   has [-f FILE] REGEX...      each REGEX (grep -E) matches a line of $output (or FILE)
#   hasnt [-f FILE] REGEX...    no line of $output (or FILE) matches any REGEX
#   wait_for SECONDS CMD...     poll CMD every 0.1 s until it succeeds, at most SECONDS
#   log_count_at_least N FILE REGEX   N or more lines of FILE match (for wait_for)
#
# Assertions that say "not": hasnt, or `run ! CMD`, never a bare `! CMD` (bash's
# set -e ignores a negated command unless it is the test's last line).
#
# Extra args go after the helper's own -o options, so a test's -o wins.
# POSTEL_WRAPPER (e.g. "setpriv --reuid=nobody ...") is put before the daemon;
# NNTPD_USER (default news) owns the spool and is nntpd's nopriv_user;
# POSTEL_OWNER, if set, gets the temp dir itself (for pid and log files).
# $FTPD_CONF / $NNTPD_CONF is the (initially empty) -f file, for SIGHUP tests.

POSTEL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
POSTEL_BUILD=${POSTEL_BUILD:-build}
case $POSTEL_BUILD in
/*) ;;
*) POSTEL_BUILD=$POSTEL_ROOT/$POSTEL_BUILD ;;
esac
export POSTEL_ROOT POSTEL_BUILD
# shellcheck source=tests/lib/python.bash
. "$POSTEL_ROOT/tests/lib/python.bash"
export ASAN_OPTIONS=${POSTEL_ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
export UBSAN_OPTIONS=${POSTEL_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
RAWCLIENT=$POSTEL_ROOT/tests/lib/rawclient.py

# PIDs and dirs this test created; teardown touches nothing else.
POSTEL_PIDS=()
POSTEL_DIRS=()

# Sanitizer and sandbox reports in a daemon log that fail the test.
POSTEL_BAD_LOG='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|seccomp: refused syscall|killed by seccomp'

is_root() { [ "$(id -u)" -eq 0 ]; }

# free_port: a TCP port the kernel says is free right now, below the
# ephemeral range when it can: with tens of thousands of TIME_WAIT sockets
# from a load test beside us, bind to port 0 can fail with EADDRINUSE, and a
# port picked from the ephemeral range can be taken as some connection's
# source port before the daemon binds it.
free_port() {
	python3 -c 'import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for p in [random.randrange(10000, lo) for i in range(50) if lo > 10001] + [0] * 50:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        break
    except OSError:
        s.close()
print(s.getsockname()[1])'
}

# postel_tmpdir VAR: set VAR to a fresh world-traversable dir under /tmp (the
# bats temp dirs are 0700, which unprivileged workers could not enter);
# postel_teardown removes it.
postel_tmpdir() {
	local d
	d=$(mktemp -d /tmp/postel-test.XXXXXX)
	chmod 755 "$d"
	POSTEL_DIRS+=("$d")
	printf -v "$1" '%s' "$d"
}

# wait_listening PORT PID: true once PORT is in LISTEN state (no connection is
# made, so no session is started); false if PID died or after 10 s.
wait_listening() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 200; i++)); do
		if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# descendants PID: every process below PID (children first, then theirs).
descendants() {
	local pid
	for pid in $(pgrep -P "$1" 2>/dev/null); do
		printf '%s\n' "$pid"
		descendants "$pid"
	done
}

# wait_gone PID...: true once none of the PIDs exist (5 s at most).
wait_gone() {
	local i pid alive
	for ((i = 0; i < 100; i++)); do
		alive=0
		for pid in "$@"; do
			if kill -0 "$pid" 2>/dev/null && ! is_zombie "$pid"; then
				alive=1
			fi
		done
		[ "$alive" -eq 0 ] && return 0
		sleep 0.05
	done
	return 1
}

is_zombie() {
	[ "$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" = Z ]
}

# stop_pid PID: SIGTERM, bounded wait, then SIGKILL. Whatever PID had forked
# and left behind gets the same (all ours: it descends from our process).
stop_pid() {
	local pid=$1 kids left k
	[ -n "$pid" ] || return 0
	kids=$(descendants "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	wait_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	left=
	for k in $kids; do
		if kill -0 "$k" 2>/dev/null && ! is_zombie "$k"; then
			left="$left $k"
		fi
	done
	[ -n "$left" ] || return 0
	# shellcheck disable=SC2086 # word splitting of the PID list is wanted
	kill -TERM $left 2>/dev/null || true
	# shellcheck disable=SC2086
	wait_gone $left || kill -KILL $left 2>/dev/null || true
}

# start_daemon NAME PREFIX ARGS...: start $POSTEL_BUILD/NAME -D in the
# background on a free port, wait until it listens, export PREFIX_* vars.
start_daemon() {
	local name=$1 prefix=$2 dir port pid
	local -a wrap=()
	shift 2
	if [ -n "${POSTEL_WRAPPER:-}" ]; then
		read -ra wrap <<<"$POSTEL_WRAPPER"
	fi
	dir=${POSTEL_START_DIR:?}
	port=${POSTEL_START_PORT:-$(free_port)}
	: >"$dir/$name.conf"
	if [ -n "${POSTEL_OWNER:-}" ]; then
		chown "$POSTEL_OWNER" "$dir"
	fi
	"${wrap[@]}" "$POSTEL_BUILD/$name" -D -f "$dir/$name.conf" \
		-o listen_address=127.0.0.1 -o "listen_port=$port" \
		-o "pid_file=$dir/$name.pid" -o shutdown_grace=2 \
		"$@" 2>>"$dir/$name.log" 3>&- &
	pid=$!
	POSTEL_PIDS+=("$pid")
	export "${prefix}_PID=$pid" "${prefix}_PORT=$port" "${prefix}_DIR=$dir" \
		"${prefix}_CONF=$dir/$name.conf" "${prefix}_LOG=$dir/$name.log"
	if ! wait_listening "$port" "$pid"; then
		echo "# $name did not start listening on $port; its log:" >&3
		sed 's/^/#   /' "$dir/$name.log" >&3
		return 1
	fi
}

# has [-f FILE] REGEX...: true if each REGEX (grep -E) matches some line of
# $output, or of FILE with -f; else says which one did not and shows the text.
has() {
	local file= re
	if [ "${1:-}" = -f ]; then
		file=$2
		shift 2
	fi
	for re in "$@"; do
		if [ -n "$file" ]; then
			grep -Eq -- "$re" "$file" && continue
		else
			grep -Eq -- "$re" <<<"$output" && continue
		fi
		echo "no line of ${file:-\$output} matches: $re" >&2
		_has_show "$file"
		return 1
	done
}

# hasnt [-f FILE] REGEX...: true if no line of $output (or of FILE; a missing
# FILE has none) matches any REGEX; else shows the matching lines and the text.
hasnt() {
	local file= re rc
	if [ "${1:-}" = -f ]; then
		file=$2
		shift 2
	fi
	for re in "$@"; do
		if [ -n "$file" ]; then
			[ -e "$file" ] || continue
			rc=0
			grep -Eq -- "$re" "$file" || rc=$?
		else
			rc=0
			grep -Eq -- "$re" <<<"$output" || rc=$?
		fi
		[ "$rc" -eq 1 ] && continue
		if [ "$rc" -eq 0 ]; then
			echo "a line of ${file:-\$output} matches, but should not: $re" >&2
		else
			echo "grep failed ($rc) on ${file:-\$output} for: $re" >&2
		fi
		_has_show "$file"
		return 1
	done
}

# _has_show [FILE]: $output (or FILE) for a failed has/hasnt, 200 lines at most.
_has_show() {
	echo "${1:-\$output} was:" >&2
	if [ -n "$1" ]; then
		head -n 200 -- "$1" >&2 2>/dev/null || echo "  (cannot read $1)" >&2
	else
		printf '%s\n' "$output" | head -n 200 >&2
	fi
}

# wait_for SECONDS CMD...: poll CMD (a command or function) every 0.1 s until
# it succeeds; false, saying what it waited for, after SECONDS (may be 2.5).
# Only the last try's stderr is shown (has/hasnt explain themselves there).
wait_for() {
	local secs=$1 n i
	shift
	n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 10 }')
	for ((i = 0; i < n; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	"$@" && return 0
	echo "still false after ${secs} s: $*" >&2
	return 1
}

# log_count_at_least N FILE REGEX: at least N lines of FILE match REGEX (grep -E).
log_count_at_least() {
	[ "$(grep -Ec -- "$3" "$2" 2>/dev/null)" -ge "$1" ]
}

# ftpd_tree DIR: anonymous root with pub/hello.txt, an empty secure_chroot_dir.
ftpd_tree() {
	local dir=$1
	mkdir -p "$dir/anon/pub" "$dir/empty"
	printf 'Hello from Postel.\n' >"$dir/anon/pub/hello.txt"
	chmod 644 "$dir/anon/pub/hello.txt"
	chmod 755 "$dir/empty" "$dir/anon/pub"
	# Not writable by the session user (vsftpd's rule for the anon root).
	chmod 555 "$dir/anon"
}

# config_env ftpd|nntpd: as root, -t (and a start) refuses a configuration
# whose accounts or directories are missing (what make install makes);
# a test of the configuration alone puts CONFIG_ENV (-o options, after
# its own so their -o:N stay) on the command line: a tree of its own and
# accounts this host has.
config_env() {
	local dir
	postel_tmpdir dir
	case $1 in
	ftpd)
		ftpd_tree "$dir"
		CONFIG_ENV=(-o "anon_root=$dir/anon" -o "secure_chroot_dir=$dir/empty"
			-o "xferlog_file=$dir/xferlog" -o "hook_queue_dir=$dir/hooks"
			-o "ftp_username=$(getent passwd ftp >/dev/null && echo ftp || echo nobody)")
		;;
	nntpd)
		CONFIG_ENV=(-o "spool_dir=$dir/spool"
			-o "nopriv_user=$(getent passwd news >/dev/null && echo news || echo nobody)")
		;;
	esac
}

start_ftpd() {
	local dir user=nobody
	postel_tmpdir dir
	ftpd_tree "$dir"
	getent passwd ftp >/dev/null && user=ftp
	POSTEL_START_DIR=$dir start_daemon ftpd FTPD \
		-o "anon_root=$dir/anon" -o "secure_chroot_dir=$dir/empty" \
		-o "xferlog_file=$dir/xferlog" -o "ftp_username=$user" "$@"
}

stop_ftpd() {
	stop_pid "${FTPD_PID:-}"
}

# nntpd_tree DIR USER: spool with group local.test (if nntpctl can make it).
nntpd_tree() {
	local dir=$1 user=$2
	mkdir -p "$dir/spool"
	: >"$dir/nntpd.conf"
	if ! "$POSTEL_BUILD/nntpctl" -f "$dir/nntpd.conf" -o "spool_dir=$dir/spool" \
		newgroup local.test y "Test group" >"$dir/nntpctl.log" 2>&1; then
		echo "# nntpctl newgroup failed (continuing without local.test):" >&3
		sed 's/^/#   /' "$dir/nntpctl.log" >&3
	fi
	if is_root; then
		chown -R "$user:" "$dir/spool"
	fi
}

start_nntpd() {
	local dir user=${NNTPD_USER:-news}
	[ -x "$POSTEL_BUILD/nntpd" ] || skip "$POSTEL_BUILD/nntpd is not built yet"
	getent passwd "$user" >/dev/null || user=nobody
	postel_tmpdir dir
	nntpd_tree "$dir" "$user"
	POSTEL_START_DIR=$dir start_daemon nntpd NNTPD \
		-o "spool_dir=$dir/spool" -o pathhost=test.postel.invalid \
		-o "nopriv_user=$user" "$@"
}

stop_nntpd() {
	stop_pid "${NNTPD_PID:-}"
}

# long_line N: N bytes of 'A', for overlong-line tests.
long_line() {
	# Not python3 (a start each was most of nntp_post.bats) and not bash's
	# ${pad// /A}, which took 8 s for 100 KB: two small processes.
	head -c "$1" /dev/zero | tr '\0' A
}

# ftp_session LINE...: talk to ftpd ($CLIENT_HOST, default 127.0.0.1).
ftp_session() {
	timeout 60 python3 "$RAWCLIENT" ftp "${CLIENT_HOST:-127.0.0.1}" "${FTPD_PORT:?}" "$@"
}

nntp_session() {
	timeout 60 python3 "$RAWCLIENT" nntp "${CLIENT_HOST:-127.0.0.1}" "${NNTPD_PORT:?}" "$@"
}

# worker_of LISTENER: "MONITOR WORKER" of the listener's newest session: its
# newest child that has a child (nntpd's writer is a childless child of the
# listener started before any session). Bounded wait until the worker exists.
worker_of() {
	local i mon wrk
	for ((i = 0; i < 100; i++)); do
		for mon in $(ps -o pid= --ppid "$1" --sort=-start_time 2>/dev/null); do
			wrk=$(pgrep -n -P "$mon")
			if [ -n "$wrk" ]; then
				printf '%s %s\n' "$mon" "$wrk"
				return 0
			fi
		done
		sleep 0.05
	done
	return 1
}

# check_log FILE: fail (printing them) on sanitizer or seccomp reports.
check_log() {
	[ -f "$1" ] || return 0
	if grep -Eq "$POSTEL_BAD_LOG" "$1"; then
		echo "# $1 has sanitizer or seccomp reports:" >&3
		grep -E -A20 "$POSTEL_BAD_LOG" "$1" | head -n 60 | sed 's/^/#   /' >&3
		return 1
	fi
}

postel_teardown() {
	local pid dir f status=0
	for pid in "${POSTEL_PIDS[@]}"; do
		stop_pid "$pid"
	done
	for dir in "${POSTEL_DIRS[@]}"; do
		for f in "$dir"/*.log; do
			check_log "$f" || status=1
		done
	done
	if [ "$status" -eq 0 ] || [ -z "${POSTEL_KEEP:-}" ]; then
		for dir in "${POSTEL_DIRS[@]}"; do
			rm -rf "$dir"
		done
	else
		echo "# kept ${POSTEL_DIRS[*]}" >&3
	fi
	POSTEL_PIDS=()
	POSTEL_DIRS=()
	return "$status"
}

# pam_user_add TAG [nohome]: as root, a system user postel-TAG<pid> with the
# password TPASS (default pw-<pid>-Secret; set it first for another) and a
# pam_unix service /etc/pam.d/postel-test-TAG-<pid>. With a home (the FTP
# tests' chroot) THOME is root-owned 0755, as ftpd wants a chroot root.
# Exports TUSER TPASS PAMSVC (and THOME). pam_user_remove undoes it.
pam_user_add() {
	local tag=$1 home=${2:-home}
	TUSER=postel-$tag$$
	TPASS=${TPASS:-pw-$$-Secret}
	if [ "$home" = nohome ]; then
		useradd -M -s /usr/sbin/nologin "$TUSER"
	else
		useradd -m -s /bin/sh "$TUSER"
		THOME=$(getent passwd "$TUSER" | cut -d: -f6)
		chown root:root "$THOME"
		chmod 755 "$THOME"
		export THOME
	fi
	printf '%s:%s\n' "$TUSER" "$TPASS" | chpasswd
	PAMSVC=postel-test-$tag-$$
	printf 'auth required pam_unix.so\naccount required pam_unix.so\n' >"/etc/pam.d/$PAMSVC"
	export TUSER TPASS PAMSVC
}

# pam_userdb_add TAG USER PASS [USER PASS...]: as root, a Berkeley DB of
# these virtual users and a pam_userdb service postel-test-TAG-<pid> that
# reads it. Exports VDIR (the DB's dir) and VPAMSVC; pam_userdb_remove undoes it.
pam_userdb_add() {
	local tag=$1
	shift
	VDIR=$(mktemp -d /tmp/postel-vusers.XXXXXX)
	chmod 755 "$VDIR"
	printf '%s\n' "$@" >"$VDIR/users.txt"
	db_load -T -t hash -f "$VDIR/users.txt" "$VDIR/users.db"
	chmod 600 "$VDIR/users.db"
	VPAMSVC=postel-test-$tag-$$
	printf 'auth required pam_userdb.so db=%s\naccount required pam_userdb.so db=%s\n' \
		"$VDIR/users" "$VDIR/users" >"/etc/pam.d/$VPAMSVC"
	export VDIR VPAMSVC
}

pam_userdb_remove() {
	[ -n "${VPAMSVC:-}" ] && rm -f "/etc/pam.d/$VPAMSVC"
	[ -n "${VDIR:-}" ] && rm -rf "$VDIR"
	return 0
}

pam_user_remove() {
	[ -n "${PAMSVC:-}" ] && rm -f "/etc/pam.d/$PAMSVC"
	if [ -n "${TUSER:-}" ]; then
		userdel -r "$TUSER" 2>/dev/null || userdel "$TUSER" 2>/dev/null || true
		[ -n "${THOME:-}" ] && rm -rf "$THOME"
	fi
	return 0
}
