#!/usr/bin/env bats
# nntpctl expire on a spool of 100,000 articles (EXPIRE_ARTICLES to change;
# a multiple of 100): per-group retention by wildmat, crossposts kept until
# every group's retention has passed, low marks raised, history remembering
# expired IDs, idempotence, and expiry through the running writer while a
# reader session stays open and posts go on.
#
# The spool is written directly by tests/lib/mkspool.py (article files with
# old mtimes, which nntpctl rebuild indexes as arrival times), so setting
# it up takes seconds rather than 100,000 fsynced posts. Measured here:
# about 6 s to write the files, 4 s to rebuild, 3 s for the expire.

bats_require_minimum_version 1.5.0 # run --separate-stderr

N=${EXPIRE_ARTICLES:-100000}
RULES=(-o "expire=exp.* 30" -o "expire=exp.short 1" -o "expire=local.* 5"
	-o "expire=exp.keep never")

setup_file() {
	load lib/common
	load lib/nntp
	is_root || skip "nntpctl talks to the running writer as root only"
	local dir user=${NNTPD_USER:-news} g
	getent passwd "$user" >/dev/null || user=nobody
	postel_tmpdir dir
	nntpd_tree "$dir" "$user"
	for g in exp.short exp.long exp.keep; do
		"$POSTEL_BUILD/nntpctl" -f "$dir/nntpd.conf" -o "spool_dir=$dir/spool" \
			newgroup "$g" y >/dev/null
	done
	python3 "$POSTEL_ROOT/tests/lib/mkspool.py" "$dir/spool" test.postel.invalid "$N" \
		"$dir/list"
	"$POSTEL_BUILD/nntpctl" -f "$dir/nntpd.conf" -o "spool_dir=$dir/spool" \
		-o pathhost=test.postel.invalid rebuild >"$dir/rebuild.log" 2>&1
	chown -R "$user:" "$dir/spool"
	POSTEL_START_DIR=$dir start_daemon nntpd NNTPD -o "spool_dir=$dir/spool" \
		-o pathhost=test.postel.invalid -o "nopriv_user=$user" -o "peer=127.0.0.0/8" \
		"${RULES[@]}"
	wait_writer
	export NNTPD_DIR NNTPD_PORT NNTPD_CONF NNTPD_LOG NNTPD_PID

	sums >"$dir/sums.before"
	hist_bytes >"$dir/histbytes.before"
	ov_bytes exp.long >"$dir/ovbytes.before"
	over_kept >"$dir/over.before"
	nntpctl_run expire -n >"$dir/dryrun.out"
	sums >"$dir/sums.dryrun"

	# A reader holds a session open across the expire; posts go on meanwhile.
	PYTHONUNBUFFERED=1 python3 -c "$READER" 127.0.0.1 "$NNTPD_PORT" "$dir/expired.flag" \
		>"$dir/reader.out" &
	local reader=$!
	# The writer runs the expire in slices between batches, so a post
	# waits one slice, not the whole expire; each answer's time and wait
	# are kept (a generous timeout all the same: a retry after one would
	# find its first try stored, 441, and miss a count of 300).
	NNTPTOOL_TIMES=1 NNTPTOOL_TIMEOUT=300 PYTHONUNBUFFERED=1 nntptool flood local.test 300 during \
		>"$dir/flood.out" &
	local flood=$!
	# the reader is in exp.short and the first post is in before expire starts
	wait_for 120 has -f "$dir/reader.out" '^211 '
	wait_for 120 has -f "$dir/flood.out" '^240 '
	# 70,000 articles while posts go on: a sanitizer build on a loaded
	# machine needs more than the usual minute
	date +%s.%N >"$dir/expire.start"
	(
		NNTPCTL_TIMEOUT=300 nntpctl_run expire >"$dir/expire.out" 2>"$dir/expire.err"
		echo $? >"$dir/expire.rc"
		date +%s.%N >"$dir/expire.end"
	) &
	local expire=$!
	# while it runs: status shows how far it is, a second one is refused
	wait_for 60 status_running "$dir/status.out"
	nntpctl_run expire >"$dir/second.out" 2>&1 && echo 0 >"$dir/second.rc" ||
		echo $? >"$dir/second.rc"
	wait "$expire"
	: >"$dir/expired.flag"
	wait "$flood"
	wait "$reader"
	# every session has ended (its worker is gone) before the sums
	wait_for 10 sessions_ended
	sums >"$dir/sums.first"
	hist_bytes >"$dir/histbytes.after"
	ov_bytes exp.long >"$dir/ovbytes.after"
	over_kept >"$dir/over.after"
	nntpctl_run expire >"$dir/expire2.out"
	sums >"$dir/sums.second"
}

teardown_file() {
	stop_pid "${NNTPD_PID:-}"
	postel_teardown
}

setup() {
	load lib/common
	load lib/nntp
	is_root || skip "nntpctl talks to the running writer as root only"
}

# status_running FILE: nntpctl status (kept in FILE) shows an expire running
status_running() {
	nntpctl_run status >"$1" 2>&1 && grep -q '^expire: running for ' "$1"
}

# sessions_ended: each session start in the log has its session end.
sessions_ended() {
	[ "$(grep -c 'session start' "$NNTPD_LOG")" -eq "$(grep -c 'session end' "$NNTPD_LOG")" ]
}

# sums: checksums of everything expire may change
sums() {
	(cd "$NNTPD_DIR/spool" && md5sum active history history.dat* overview/*.idx)
}

# hist_bytes: bytes of history's line file (whichever generation is in use)
hist_bytes() {
	cat "$NNTPD_DIR/spool"/history.dat* | wc -c
}

# ov_bytes GROUP: bytes of the group's overview files (index and data)
ov_bytes() {
	cat "$NNTPD_DIR/spool/overview/$1".idx "$NNTPD_DIR/spool/overview/$1".dat* | wc -c
}

# over_kept: OVER of what exp.long keeps after the expire
over_kept() {
	nntp_session "GROUP exp.long" "OVER $((N * 18 / 100 + 1))-"
}

# A reader: GROUP exp.short, wait for the flag file, then GROUP again and
# read a number that expired and one that stayed, on the same connection.
READER='
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
f = s.makefile("rwb")
def cmd(line):
    if line:
        f.write(line.encode() + b"\r\n"); f.flush()
    r = f.readline().decode().rstrip()
    print(r)
    if r[:3] in ("220", "221", "222"):
        while f.readline() not in (b".\r\n", b""):
            pass
cmd(None)
cmd("GROUP exp.short")
for _ in range(600):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.1)
cmd("GROUP exp.short")
cmd("ARTICLE 1")
cmd("ARTICLE 7")
cmd("QUIT")
'
export READER

# num I GROUP: the number article I got in GROUP (from mkspool's list)
num() {
	awk -v i="$1" -v g="$2" '$1 == i { for (f = 4; f <= NF; f++) { split($f, a, ":"); if (a[1] == g) print a[2] } }' \
		"$NNTPD_DIR/list"
}

# msgid I
msgid() {
	awk -v i="$1" '$1 == i { print $3 }' "$NNTPD_DIR/list"
}

# Band sizes, per kind (mkspool.py: ten kinds, 60% old, 20% mid).
OLD=$((N * 6 / 100))
MID=$((N * 2 / 100))

@test "expire -n reports what would go and changes nothing" {
	run cat "$NNTPD_DIR/dryrun.out"
	echo "$output"
	[ "$output" = "exp.long: $((3 * OLD)) would expire
exp.short: $((6 * OLD + 5 * MID)) would expire
local.test: $((OLD + MID)) would expire
total: $((8 * OLD + 5 * MID)) articles, $((10 * OLD + 6 * MID)) links would expire" ]
	cmp "$NNTPD_DIR/sums.before" "$NNTPD_DIR/sums.dryrun"
}

@test "per-group retention by wildmat: counts and raised low marks" {
	[ "$(cat "$NNTPD_DIR/expire.rc")" = 0 ]
	run cat "$NNTPD_DIR/expire.out"
	echo "$output"
	[ "${lines[0]}" = "exp.long: $((3 * OLD)) expired, low $((3 * OLD + 1))" ]
	[ "${lines[1]}" = "exp.short: $((6 * OLD + 5 * MID)) expired, low 7" ]
	[ "${lines[2]}" = "local.test: $((OLD + MID)) expired, low $((OLD + MID + 1))" ]
	[ "${lines[3]}" = "total: $((8 * OLD + 5 * MID)) articles, $((10 * OLD + 6 * MID)) links expired; 0 remembered Message-IDs dropped" ]
	run nntp_session "GROUP exp.keep" "GROUP exp.long" "GROUP exp.short"
	echo "$output"
	[ "$(echo "${lines[1]}" | cut -d' ' -f3,4,5)" = "1 $((N / 5)) exp.keep" ]
	[ "$(echo "${lines[2]}" | cut -d' ' -f1,3,5)" = "211 $((3 * OLD + 1)) exp.long" ]
	[ "$(echo "${lines[3]}" | cut -d' ' -f1,3,5)" = "211 7 exp.short" ]
	run nntpctl_run check
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "a crosspost stays in all its groups until every group's retention has passed" {
	local mid6=$((N * 6 / 10 + 6)) mid7=$((N * 6 / 10 + 7))
	# old kind 6 (exp.short+exp.long, 40 days): gone from both
	run nntp_session "GROUP exp.short" "STAT $(num 6 exp.short)" "GROUP exp.long" \
		"STAT $(num 6 exp.long)"
	[ "${lines[2]%% *}" = 423 ]
	[ "${lines[4]%% *}" = 423 ]
	# mid kind 6 (10 days): exp.short's 1 day passed, exp.long's 30 not: kept in both
	run nntp_session "GROUP exp.short" "STAT $(num $mid6 exp.short)" "GROUP exp.long" \
		"STAT $(num $mid6 exp.long)" "STAT $(msgid $mid6)"
	echo "$output"
	[ "${lines[2]%% *}" = 223 ]
	[ "${lines[4]%% *}" = 223 ]
	[ "${lines[5]%% *}" = 223 ]
	# mid kind 7 (exp.short 1 day + local.test 5 days): gone from both
	run nntp_session "GROUP exp.short" "STAT $(num $mid7 exp.short)" "GROUP local.test" \
		"STAT $(num $mid7 local.test)"
	[ "${lines[2]%% *}" = 423 ]
	[ "${lines[4]%% *}" = 423 ]
	# kind 9 (exp.short + exp.keep, never): kept
	run nntp_session "GROUP exp.short" "STAT $(num 9 exp.short)"
	[ "${lines[2]%% *}" = 223 ]
	[ ! -e "$NNTPD_DIR/spool/articles/exp/long/$(num 6 exp.long)" ]
	[ -e "$NNTPD_DIR/spool/articles/exp/long/$(num $mid6 exp.long)" ]
}

@test "an expired number gives 423, its Message-ID 430, and IHAVE of it 435" {
	run nntp_session "GROUP exp.short" "ARTICLE 1" "ARTICLE $(msgid 0)" "IHAVE $(msgid 0)" \
		"IHAVE <never-seen.$$@test.invalid>"
	echo "$output"
	[ "${lines[2]%% *}" = 423 ]
	[ "${lines[3]%% *}" = 430 ]
	[ "${lines[4]%% *}" = 435 ]
	[ "${lines[5]%% *}" = 335 ]
}

@test "expire runs while a reader session is open and posts continue" {
	run cat "$NNTPD_DIR/reader.out"
	echo "$output"
	[ "$(echo "${lines[1]}" | cut -d' ' -f1,3)" = "211 1" ]
	[ "$(echo "${lines[2]}" | cut -d' ' -f1,3)" = "211 7" ]
	[ "${lines[3]%% *}" = 423 ]
	[ "${lines[4]%% *}" = 220 ]
	# what a post got instead of 240, if any
	grep -v '^240 ' "$NNTPD_DIR/flood.out" || true
	[ "$(grep -c '^240 ' "$NNTPD_DIR/flood.out")" -eq 300 ]
	run nntp_session "GROUP local.test"
	[ "$(echo "${lines[1]}" | cut -d' ' -f5)" = local.test ]
	[ "$(echo "${lines[1]}" | cut -d' ' -f4)" -eq $((N / 10 + 300)) ]
}

@test "while an expire runs, status shows how far it is and a second expire is refused" {
	cat "$NNTPD_DIR/status.out" "$NNTPD_DIR/second.out"
	grep -Eq '^expire: running for [0-9]+ s, [0-9]+ articles, [0-9]+ links expired so far, group [0-9]+ of [0-9]+$' \
		"$NNTPD_DIR/status.out"
	[ "$(cat "$NNTPD_DIR/second.rc")" -ne 0 ]
	grep -q 'an expire is running' "$NNTPD_DIR/second.out"
	# the first one finished and reported
	[ "$(cat "$NNTPD_DIR/expire.rc")" -eq 0 ]
	grep -q '^total: ' "$NNTPD_DIR/expire.out"
}

@test "posts answered during the expire waited one slice, not the whole expire" {
	local start end
	start=$(cat "$NNTPD_DIR/expire.start")
	end=$(cat "$NNTPD_DIR/expire.end")
	run awk -v s="$start" -v e="$end" '
		$1 == 240 && $3 > s && $3 - $4 / 1000 < e { n++; if ($4 > max) max = $4 }
		END { printf "%d %.1f\n", n, max }' "$NNTPD_DIR/flood.out"
	echo "expire took $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }') s;" \
		"posts answered meanwhile, longest wait (ms): $output"
	# at least one post was in flight during the expire, and none waited
	# a second (the expire of 70,000 articles takes seconds)
	[ "${output%% *}" -ge 1 ]
	awk -v m="${output#* }" 'BEGIN { exit !(m < 1000) }'
}

@test "expire compacts a group's overview online: its files shrink to what is kept, OVER is unchanged" {
	local before after
	before=$(cat "$NNTPD_DIR/ovbytes.before")
	after=$(cat "$NNTPD_DIR/ovbytes.after")
	echo "exp.long overview: $before bytes before, $after after"
	grep 'overview: exp.long compacted from' "$NNTPD_LOG"
	# 60% of exp.long expired (its old band): at most half is left
	[ "$after" -le $((before / 2)) ]
	[ "$(wc -l <"$NNTPD_DIR/over.after")" -gt 1000 ]
	# the same lines after the greeting and the GROUP answer (its count moved)
	head -3 "$NNTPD_DIR/over.after"
	[ "$(sed -n 3p "$NNTPD_DIR/over.after" | cut -c1-3)" = 224 ]
	cmp <(tail -n +4 "$NNTPD_DIR/over.before") <(tail -n +4 "$NNTPD_DIR/over.after")
	# the new generation's data file replaced the old one; nothing half-made is left
	[ ! -e "$NNTPD_DIR/spool/overview/exp.long.dat" ]
	[ -e "$NNTPD_DIR/spool/overview/exp.long.dat.1" ]
	[ -z "$(find "$NNTPD_DIR/spool/overview" -name '*.idx.new')" ]
}

@test "expire compacts history online: its line file shrinks to what is kept, every kept ID is found" {
	local before after
	before=$(cat "$NNTPD_DIR/histbytes.before")
	after=$(cat "$NNTPD_DIR/histbytes.after")
	echo "history line file: $before bytes before, $after after"
	grep 'history: compacting' "$NNTPD_LOG"
	# 70% of the articles expired: their filed lines went (40% of the file
	# by then), short remembered ones took their place
	[ "$after" -le $((before * 9 / 10)) ]
	[ ! -e "$NNTPD_DIR/spool/history.dat" ]
	[ -e "$NNTPD_DIR/spool/history.dat.1" ]
	[ ! -e "$NNTPD_DIR/spool/history.new" ]
	# every seventh article left in each group, by its Message-ID (from OVER)
	run python3 -W ignore::DeprecationWarning - 127.0.0.1 "$NNTPD_PORT" <<-'EOF'
		import nntplib, sys
		s = nntplib.NNTP(sys.argv[1], int(sys.argv[2]), readermode=True)
		ids = set()
		for g in ("exp.short", "exp.long", "exp.keep", "local.test"):
		    _, count, first, last, _ = s.group(g)
		    if count:
		        _, ov = s.over((first, last))
		        ids.update(f["message-id"] for _, f in ov)
		ids = sorted(ids)[::7]
		found = 0
		for m in ids:
		    try:
		        s.stat(m)
		        found += 1
		    except nntplib.NNTPTemporaryError:
		        pass
		s.quit()
		print("%d of %d found" % (found, len(ids)))
	EOF
	echo "$output"
	[ "$status" -eq 0 ]
	local found total
	read -r found _ total _ <<<"$output"
	[ "$found" -gt 1000 ]
	[ "$found" -eq "$total" ]
}

@test "a second expire in a row changes nothing" {
	run cat "$NNTPD_DIR/expire2.out"
	echo "$output"
	[ "$output" = "total: 0 articles, 0 links expired; 0 remembered Message-IDs dropped" ]
	cmp "$NNTPD_DIR/sums.first" "$NNTPD_DIR/sums.second"
}

@test "nntpctl rebuild while nntpd runs: posts go on, every article and remembered ID is kept" {
	run nntp_session "GROUP local.test"
	local before
	before=$(echo "${lines[1]}" | cut -d' ' -f2)
	# a post that waits for the rebuild (it runs whole) is still answered
	NNTPTOOL_TIMEOUT=300 nntptool flood local.test 50 rebuilt >"$NNTPD_DIR/rebuilt.out" &
	local flood=$!
	wait_for 60 has -f "$NNTPD_DIR/rebuilt.out" '^240 '
	NNTPCTL_TIMEOUT=300 run nntpctl_run rebuild
	echo "$output"
	[ "$status" -eq 0 ]
	wait "$flood"
	[ "$(grep -c '^240 ' "$NNTPD_DIR/rebuilt.out")" -eq 50 ]
	run nntptool verify "$NNTPD_DIR/rebuilt.out"
	[ "$output" = "ok 50" ]
	run nntptool verify "$NNTPD_DIR/flood.out"
	[ "$output" = "ok 300" ]
	run nntp_session "GROUP local.test"
	[ "$(echo "${lines[1]}" | cut -d' ' -f2)" -eq $((before + 50)) ]
	# a kept article by Message-ID (history anew) and an expired one
	# still remembered (435, not offered again)
	local kept gone
	kept=$(msgid $((N - 2)))
	gone=$(msgid 0)
	run nntp_session "STAT $kept" "IHAVE $gone"
	[ "${lines[1]%% *}" = 223 ]
	[ "${lines[2]%% *}" = 435 ]
	grep -q 'writer: rebuild done' "$NNTPD_LOG"
	run nntpctl_run check
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "remembered IDs older than history_remember days are dropped, once" {
	stop_pid "$NNTPD_PID"
	# nntpctl edits the spool itself once the writer's lock is free
	wait_for 10 flock -n "$NNTPD_DIR/spool/lock" true
	local before
	before=$(hist_bytes)
	run --separate-stderr nntpctl_run "${RULES[@]}" -o history_remember=0 expire
	echo "$output"
	echo "$stderr" | tee "$NNTPD_DIR/remember.err"
	[ "$status" -eq 0 ]
	[ "$output" = "total: 0 articles, 0 links expired; $((8 * OLD + 5 * MID)) remembered Message-IDs dropped" ]
	# the table was copied without them, their lines too
	grep -q "history: compacting .*($((8 * OLD + 5 * MID)) remembered IDs go" "$NNTPD_DIR/remember.err"
	echo "history line file: $before bytes before, $(hist_bytes) after"
	[ "$(hist_bytes)" -lt $((before - 8 * OLD * 40)) ]
	run nntpctl_run "${RULES[@]}" -o history_remember=0 expire
	[ "$output" = "total: 0 articles, 0 links expired; 0 remembered Message-IDs dropped" ]
	run nntpctl_run check
	[ "$status" -eq 0 ]
}

@test "a bad expire= line is refused with its place" {
	run "$POSTEL_BUILD/nntpctl" -o "expire=exp.* soon" list
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"expire"*"DAYS must be never or a whole number"* ]]
}
