# shellcheck shell=bash
# inn.bash: a private INN 2.7 (Debian inn2) on loopback for the peering tests.
#
#   need_inn                    skip unless inn2 is installed
#   start_inn                   exports INN_DIR INN_PORT INN_CONF INN_PID; innd on
#                               127.0.0.1:INN_PORT with pathhost inn.test.invalid,
#                               groups local.test, local.other (y); everything under
#                               INN_DIR, nothing of the system's INN touched
#   inn_start                   start innd again after stop_inn (same dir and port)
#   stop_inn                    ctlinnd shutdown, then by PID
#   inn_run CMD ARGS...         an INN program as news with INNCONF set
#   inn_batch NAME              INN's outgoing batch for the postel feed moved to
#                               INN_DIR/NAME (for innxmit)

INN_BIN=/usr/lib/news/bin

need_inn() {
	[ -x "$INN_BIN/innd" ] && [ -x "$INN_BIN/innxmit" ] ||
		skip "inn2 is not installed (lead: add inn2 to scripts/deps)"
	getent passwd news >/dev/null || skip "no news user"
	is_root || skip "INN's private instance is started as the news user (needs root)"
}

inn_run() {
	local prog=$1
	shift
	[[ $prog == /* ]] || prog=$INN_BIN/$prog
	timeout 300 runuser -u news -- env INNCONF="$INN_CONF" HOME="$INN_DIR" "$prog" "$@"
}

# inn_conf_set KEY VALUE: replace (or add) one inn.conf key.
inn_conf_set() {
	if grep -q "^$1:" "$INN_CONF"; then
		sed -i "s|^$1:.*|$1: $2|" "$INN_CONF"
	else
		printf '%s: %s\n' "$1" "$2" >>"$INN_CONF"
	fi
}

start_inn() {
	local d k i
	d=$(mktemp -d /tmp/postel-inn.XXXXXX)
	chmod 755 "$d"
	INN_DIR=$d
	INN_PORT=$(free_port)
	INN_CONF=$d/etc/inn.conf
	export INN_DIR INN_PORT INN_CONF
	cp -r /etc/news "$d/etc"
	mkdir -p "$d/db" "$d/spool/articles" "$d/spool/overview" "$d/spool/incoming/tmp" \
		"$d/spool/outgoing" "$d/spool/archive" "$d/log" "$d/run" "$d/http"
	for k in archive:spool/archive articles:spool/articles db:db etc:etc http:http \
		incoming:spool/incoming log:log outgoing:spool/outgoing overview:spool/overview \
		run:run spool:spool tmp:spool/incoming/tmp filter:etc/filter; do
		inn_conf_set "path${k%%:*}" "$d/${k#*:}"
	done
	inn_conf_set port "$INN_PORT"
	inn_conf_set bindaddress 127.0.0.1
	inn_conf_set bindaddress6 none
	inn_conf_set domain test.invalid
	inn_conf_set pathhost inn.test.invalid
	inn_conf_set server 127.0.0.1
	inn_conf_set ovmethod tradindexed
	inn_conf_set hismethod hisv6
	inn_conf_set logipaddr false
	inn_conf_set artcutoff 0
	inn_conf_set nicekids 0
	inn_conf_set xrefslave false
	inn_conf_set wireformat true
	inn_conf_set syntaxchecks "[ no-laxmid ]"
	{
		for g in control control.cancel control.checkgroups control.newgroup control.rmgroup junk; do
			printf '%s 0000000000 0000000001 n\n' "$g"
		done
		printf 'local.other 0000000000 0000000001 y\n'
		printf 'local.test 0000000000 0000000001 y\n'
	} >"$d/db/active"
	: >"$d/db/active.times"
	: >"$d/db/newsgroups"
	: >"$d/db/history"
	# Anyone on loopback may feed it (our nntpd's feeder, the tests).
	cat >"$d/etc/incoming.conf" <<'EOC'
streaming: true
max-connections: 8
peer postel {
  hostname: "127.0.0.1"
}
EOC
	# Article tokens and Message-IDs of every article, for innxmit.
	cat >"$d/etc/newsfeeds" <<'EOC'
ME:*,!junk,!control*/!local::
postel:*,!junk,!control*:Tf,Wnm:
EOC
	chown -R news:news "$d"
	(cd "$d/db" && inn_run makedbz -i -o) || return 1
	inn_start
}

# inn_start: (re)start innd on the existing INN_DIR and INN_PORT.
inn_start() {
	local d=$INN_DIR i
	runuser -u news -- env INNCONF="$INN_CONF" HOME="$d" "$INN_BIN/innd" -f -r \
		>"$d/innd.out" 2>&1 &
	INN_PID=$!
	export INN_PID
	for ((i = 0; i < 200; i++)); do
		[ -n "$(ss -Hltn "sport = :$INN_PORT" 2>/dev/null)" ] && return 0
		kill -0 "$INN_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$d/innd.out" "$d"/log/* >&2 2>/dev/null
	return 1
}

# inn_batch NAME: INN's outgoing postel batch (tokens and Message-IDs, for
# innxmit) moved to INN_DIR/NAME, owned by news.
inn_batch() {
	# Rename first: INN keeps writing to the renamed file until the flush.
	mv "$INN_DIR/spool/outgoing/postel" "$INN_DIR/$1"
	inn_run ctlinnd -t 30 flush postel >/dev/null
	chown news "$INN_DIR/$1"
}

stop_inn() {
	[ -n "${INN_PID:-}" ] || return 0
	inn_run ctlinnd -t 20 shutdown "test over" >/dev/null 2>&1 || true
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$INN_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$INN_PID" 2>/dev/null || true
	wait "$INN_PID" 2>/dev/null || true
	INN_PID=
}

# inn_article GROUP NUMBER: path of an article file in INN's tradspool.
inn_article() {
	printf '%s/spool/articles/%s/%s\n' "$INN_DIR" "${1//.//}" "$2"
}
