#!/usr/bin/env bats
# The root listener from the attacker's side: a trusted PROXY peer that sends
# half a header and waits (or trickles bytes) costs no CPU and is closed by the
# deadline; a full table of pending headers refuses the newcomer and evicts no
# one; max_per_ip counts an IPv6 client per /64 (ipv6_prefix_len).

setup() {
	load lib/common
	load lib/ops
}

teardown() {
	postel_teardown
	pam_user_remove
	local a
	for a in "${ADDED_ADDRS[@]}"; do
		ip -6 addr del "$a/64" dev lo 2>/dev/null || true
	done
}

ADDED_ADDRS=()

# ran_ok: the last `run` exited 0; else its output is shown.
ran_ok() {
	[ "$status" -eq 0 ] && return 0
	printf 'status %s, output:\n%s\n' "$status" "$output" >&2
	return 1
}

@test "ftpd: half a PROXY header costs the listener no CPU, is closed by the deadline, others get in" {
	start_ftpd "${PROXY_ON[@]}"
	run ops_py '
pid, port = ARGS[0], int(ARGS[1])
def cpu():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime, in clock ticks
hdr1, hdr2 = v1("192.0.2.7", 41000), v2("192.0.2.8", 41001)
before = cpu()
start = time.time()
half = socket.create_connection(("127.0.0.1", port), timeout=10)
half.sendall(hdr1[:len(hdr1) // 2])
trickle = socket.create_connection(("127.0.0.1", port), timeout=10)
# one byte of a v2 header every 0.25 s: never complete before 8 s
sent, trickle_closed = 0, None
half_closed = None
while time.time() - start < 9 and (half_closed is None or trickle_closed is None):
    if trickle_closed is None:
        try:
            trickle.sendall(hdr2[sent:sent + 1])
            sent += 1
        except OSError:
            trickle_closed = time.time() - start
    for s, name in ((half, "half"), (trickle, "trickle")):
        if (half_closed if name == "half" else trickle_closed) is not None:
            continue
        s.settimeout(0.25 if name == "trickle" else 0.01)
        try:
            gone = s.recv(100) == b""
        except socket.timeout:
            gone = False
        except OSError:
            gone = True
        if gone:
            if name == "half":
                half_closed = time.time() - start
            else:
                trickle_closed = time.time() - start
    if time.time() - start > 3 and "cpu3" not in dir():
        cpu3 = cpu() - before
print("CPU-AT-3S", cpu3)
print("HALF-CLOSED-AT", half_closed)
print("TRICKLE-CLOSED-AT", trickle_closed, "AFTER-BYTES", sent)
print("CPU-TOTAL", cpu() - before)
c = Line("ftp", "127.0.0.1", port, header=v1("192.0.2.9", 41002))
print("LEGIT", c.greeting)
' "$FTPD_PID" "$FTPD_PORT"
	ran_ok
	# CPU time in clock ticks (1/100 s): a spinning listener burns ~300 by 3 s.
	has '^CPU-AT-3S [0-9]$' '^CPU-TOTAL [0-9]$'
	# PENDING_SECONDS is 5: both are closed by the deadline, not before 4 s.
	has '^HALF-CLOSED-AT [4-6]\.' '^TRICKLE-CLOSED-AT [4-6]\.'
	has '^LEGIT 220 '
	has -f "$FTPD_LOG" 'refused c=127\.0\.0\.1: no PROXY header in time'
}

@test "ftpd: a full table of pending PROXY headers refuses the newcomer and evicts no one" {
	start_ftpd "${PROXY_ON[@]}" -o max_per_ip=0 -o max_clients=0
	run ops_py '
port = int(ARGS[0])
hdr = v1("192.0.2.7", 42000)
start = time.time()
held = []
for i in range(256):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(hdr[:10])
    held.append(s)
time.sleep(0.3)  # let the listener take them all
new = socket.create_connection(("127.0.0.1", port), timeout=10)
new.sendall(hdr[:10])
new.settimeout(2)
try:
    print("NEWCOMER", "closed" if new.recv(100) == b"" else "data")
except socket.timeout:
    print("NEWCOMER", "held")
except OSError:
    print("NEWCOMER", "closed")
def gone(s):
    s.settimeout(0.001)
    try:
        return s.recv(100) == b""
    except socket.timeout:
        return False
    except OSError:
        return True
print("EVICTED", sum(gone(s) for s in held), "AT", round(time.time() - start, 1))
# the first one held finishes its header in time and is served
held[0].sendall(hdr[10:])
c = Line("ftp", "127.0.0.1", port, sock=held[0])
print("FIRST", c.greeting)
# past the deadline the rest are closed, and clients are served again
wait_for(lambda: all(gone(s) for s in held[1:]), 8)
print("LEFT-OPEN", sum(not gone(s) for s in held[1:]))
c = Line("ftp", "127.0.0.1", port, header=v1("192.0.2.9", 42001))
print("LEGIT", c.greeting)
' "$FTPD_PORT"
	ran_ok
	has '^NEWCOMER closed$'
	# checked well before the 5 s deadline
	has '^EVICTED 0 AT [0-3]\.'
	has '^FIRST 220 ' '^LEFT-OPEN 0$' '^LEGIT 220 '
	has -f "$FTPD_LOG" 'refused c=127\.0\.0\.1: too many connections waiting for a PROXY header'
}

# add_ipv6_pair: two addresses of one /64 on lo (removed in teardown); sets
# V6A and V6B.
add_ipv6_pair() {
	is_root || skip "adding addresses to lo needs root"
	ip -6 addr show dev lo 2>/dev/null | grep -q '::1/' || skip "no IPv6 on loopback"
	local net
	net=fd00:5e1:$(printf %x $(($$ % 65536))):64
	V6A=$net::1 V6B=$net::2
	ip -6 addr add "$V6A/64" dev lo nodad
	ADDED_ADDRS+=("$V6A")
	ip -6 addr add "$V6B/64" dev lo nodad
	ADDED_ADDRS+=("$V6B")
}

# start6 PROTO ARGS...: that daemon on $V6A only, max_per_ip=1; sets PID, PORT.
start6() {
	local proto=$1
	shift
	if [ "$proto" = ftp ]; then
		start_ftpd -o listen_address= -o "listen_address6=$V6A" -o max_per_ip=1 "$@"
		PID=$FTPD_PID PORT=$FTPD_PORT
	else
		start_nntpd -o listen_address= -o "listen_address6=$V6A" -o max_per_ip=1 \
			-o 'access=::/0 read *' "$@"
		PID=$NNTPD_PID PORT=$NNTPD_PORT
	fi
}

# one_slash64_is_one_client PROTO GREET PER_IP: with max_per_ip=1, a second
# address of the same /64 is refused; with ipv6_prefix_len=128 it is not.
one_slash64_is_one_client() {
	local proto=$1 greet=$2 per_ip=$3
	add_ipv6_pair
	start6 "$proto"
	run timeout 60 python3 "$RAWCLIENT" "$proto" "$V6A" "$PORT" "@1 from $V6A" "@2 from $V6B"
	ran_ok
	has "^1: $greet" "^2: $per_ip"
	stop_pid "$PID"
	start6 "$proto" -o ipv6_prefix_len=128
	run timeout 60 python3 "$RAWCLIENT" "$proto" "$V6A" "$PORT" "@1 from $V6A" "@2 from $V6B" \
		"@3 from $V6B"
	ran_ok
	has "^1: $greet" "^2: $greet" "^3: $per_ip"
}

@test "ftpd: max_per_ip counts two IPv6 addresses of one /64 as one client (not at /128)" {
	one_slash64_is_one_client ftp '220 ' '421 '
}

@test "nntpd: max_per_ip counts two IPv6 addresses of one /64 as one client (not at /128)" {
	one_slash64_is_one_client nntp '20[01] ' '400 '
}

# backoff_block PREFIX_ARGS...: V6A fails a login (max_login_fails=1); prints
# what V6B and ::1 get right after.
backoff_block() {
	start6 ftp -o max_per_ip=0 -o local_enable=YES -o "pam_service_name=$PAMSVC" \
		-o delay_failed_login=0 -o max_login_fails=1 -o failed_login_backoff=30 "$@"
	run timeout 60 python3 "$RAWCLIENT" ftp "$V6A" "$PORT" "@1 from $V6A" "@1 USER $TUSER" \
		'@1 PASS wrong' '@1 expect-close' "@2 from $V6B" '@3 from ::1'
	ran_ok
	has '^1: 530 ' '^1: <closed>' '^3: 220 '
}

@test "ftpd: the failed-login back-off holds for the whole /64 (per address at /128)" {
	is_root || skip "local users need root (PAM, useradd)"
	add_ipv6_pair
	pam_user_add v6bo nohome
	backoff_block
	has '^2: 421 Too many failed logins'
	stop_pid "$PID"
	backoff_block -o ipv6_prefix_len=128
	has '^2: 220 '
}
