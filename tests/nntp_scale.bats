#!/usr/bin/env bats
# nntpd as its spool grows: NEWNEWS (a binary search of each group's
# overview for the first article since the date) lists exactly what a scan
# of every article's arrival time lists, and history doubles while posts go
# on without any post waiting on a rehash.
#
# The spools are written directly by tests/lib/spreadspool.py (article files
# whose mtimes, which nntpctl rebuild indexes as arrival times, are spread
# over days, a few out of order, with gaps in the numbers).

setup() {
	load lib/common
	load lib/nntp
}

teardown() {
	postel_teardown
}

# spread_up COUNT SPAN GROUP...: COUNT articles over SPAN hours in GROUPs,
# indexed by nntpctl rebuild, then nntpd on that spool.
spread_up() {
	local count=$1 span=$2 dir user=${NNTPD_USER:-news} g
	shift 2
	[ -x "$POSTEL_BUILD/nntpd" ] || skip "$POSTEL_BUILD/nntpd is not built yet"
	getent passwd "$user" >/dev/null || user=nobody
	postel_tmpdir dir
	nntpd_tree "$dir" "$user"
	for g in "$@"; do
		[ "$g" = local.test ] && continue # nntpd_tree made it
		"$POSTEL_BUILD/nntpctl" -f "$dir/nntpd.conf" -o "spool_dir=$dir/spool" \
			newgroup "$g" y >/dev/null
	done
	python3 "$POSTEL_ROOT/tests/lib/spreadspool.py" "$dir/spool" test.postel.invalid \
		"$count" "$span" "$dir/list" "$@"
	"$POSTEL_BUILD/nntpctl" -f "$dir/nntpd.conf" -o "spool_dir=$dir/spool" \
		-o pathhost=test.postel.invalid rebuild >"$dir/rebuild.log" 2>&1
	if is_root; then
		chown -R "$user:" "$dir/spool"
	fi
	POSTEL_START_DIR=$dir start_daemon nntpd NNTPD -o "spool_dir=$dir/spool" \
		-o pathhost=test.postel.invalid -o "nopriv_user=$user"
	wait_writer
}

# The slot count in a history table's header (u64 at byte 8).
history_slots() {
	od -An -t u8 -j 8 -N 8 "$1" | tr -d ' '
}

@test "NEWNEWS by binary search lists what a scan of arrival times lists" {
	spread_up 3000 120 nn.a nn.b nn.c
	# Since: before everything, each of a spread of dates (some exactly an
	# article's arrival, some a second either side, some inside a clock
	# step back), and after everything.
	run timeout 120 python3 - 127.0.0.1 "$NNTPD_PORT" "$NNTPD_DIR/list" <<-'EOF'
		import datetime, nntplib, sys, time
		host, port, listfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		arts = []
		for line in open(listfile):
		    i, t, msgid, *links = line.split()
		    arts.append((int(t), msgid, {l.split(":")[0] for l in links}))
		times = sorted({t for t, _, _ in arts})
		sinces = [0, times[-1] + 1, int(time.time()) + 3600]
		for k in range(0, len(times), 97):
		    sinces += [times[k] - 1, times[k], times[k] + 1]
		s = nntplib.NNTP(host, port, readermode=True)
		bad = checked = 0
		for since in sinces:
		    for pat, groups in (("*", None), ("nn.b", {"nn.b"}), ("nn.a,nn.c", {"nn.a", "nn.c"})):
		        want = sorted({m for t, m, g in arts if t >= since and (groups is None or g & groups)})
		        dt = datetime.datetime.fromtimestamp(max(since, 86400), datetime.timezone.utc)
		        if since == 0:
		            got = s.newnews(pat, dt.replace(tzinfo=None))[1]
		        else:
		            when = dt.strftime("%Y%m%d %H%M%S")
		            got = s._longcmdstring("NEWNEWS %s %s GMT" % (pat, when))[1]
		        checked += 1
		        if sorted(got) != want:
		            bad += 1
		            print("since %d %s: got %d, want %d" % (since, pat, len(got), len(want)))
		s.quit()
		print("checked %d, bad %d" % (checked, bad))
		sys.exit(1 if bad else 0)
	EOF
	echo "$output" | tail -n 5
	[ "$status" -eq 0 ]
	[[ "$output" == *"bad 0"* ]]
}

@test "history doubles while posts go on: every ID found, no post waits on a rehash" {
	# 8,100 entries: the first table (16,384 slots) starts growing at the
	# 8,193rd, so the posts below carry the whole growth.
	spread_up 8100 48 local.test
	[ "$(history_slots "$NNTPD_DIR/spool/history")" -eq 16384 ]
	run timeout 300 python3 - 127.0.0.1 "$NNTPD_PORT" "$NNTPD_DIR/list" <<-'EOF'
		import email.utils, io, nntplib, sys, time
		host, port, listfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		s = nntplib.NNTP(host, port, readermode=True)
		worst = 0.0
		for i in range(300):
		    art = ("From: Grower <grow@example.com>\r\nNewsgroups: local.test\r\n"
		           "Subject: grow %d\r\nMessage-ID: <grow%d@test.postel.invalid>\r\n"
		           "Date: %s\r\n\r\nBody %d.\r\n" % (i, i, email.utils.formatdate(usegmt=True), i))
		    t0 = time.monotonic()
		    s.post(io.BytesIO(art.encode()))
		    worst = max(worst, time.monotonic() - t0)
		ids = [l.split()[2] for l in open(listfile)] + ["<grow%d@test.postel.invalid>" % i for i in range(300)]
		missing = 0
		for m in ids:
		    try:
		        s.stat(m)
		    except nntplib.NNTPTemporaryError:
		        missing += 1
		s.quit()
		print("worst post %.3f s, %d of %d IDs missing" % (worst, missing, len(ids)))
		sys.exit(1 if missing or worst > 2.0 else 0)
	EOF
	echo "$output" | tail -n 3
	[ "$status" -eq 0 ]
	[ "$(history_slots "$NNTPD_DIR/spool/history")" -eq 32768 ]
	[ ! -e "$NNTPD_DIR/spool/history.new" ]
}
