#!/usr/bin/env bats
# Scale-out: HAProxy (Debian haproxy) in TCP mode on 127.0.0.1 in front of two
# ftpd nodes on 127.0.0.2 and 127.0.0.3 (each advertising its own
# pasv_address) and one nntpd node, sending PROXY v2 from 127.0.0.5. The
# client is 127.0.0.1: logins and transfers work in passive and active mode,
# max_per_ip counts the client, and the logs and xferlog name it — not the
# balancer.

setup() {
	load lib/common
	load lib/ops
	command -v haproxy >/dev/null ||
		skip "haproxy is not installed (scripts/deps installs it)"
	postel_tmpdir WORK
	BEHIND=(-o proxy_protocol=YES -o proxy_trusted_addresses=127.0.0.5/32)
}

teardown() {
	postel_teardown
}

# ftp_nodes [START-OPTIONS...]: two ftpd nodes behind the balancer; A_* and
# B_* hold their ports, dirs and logs. No max_per_ip by default: a test that
# runs sessions one after another would race the previous session's exit (the
# listener counts a session until it reaps it).
ftp_nodes() {
	start_ftpd -o listen_address=127.0.0.2 -o pasv_address=127.0.0.2 \
		-o "ftpd_banner=node a" "${BEHIND[@]}" "$@"
	A_PORT=$FTPD_PORT A_DIR=$FTPD_DIR A_LOG=$FTPD_LOG
	start_ftpd -o listen_address=127.0.0.3 -o pasv_address=127.0.0.3 \
		-o "ftpd_banner=node b" "${BEHIND[@]}" "$@"
	B_PORT=$FTPD_PORT B_DIR=$FTPD_DIR B_LOG=$FTPD_LOG
}

# balancer FRONTEND-PORT BACKEND-SERVER-LINES...: start haproxy -db with one
# TCP frontend on 127.0.0.1 and a round-robin backend whose connections come
# from 127.0.0.5 with PROXY v2. Sets LB_PORT.
balancer() {
	local cfg=$WORK/haproxy.cfg n=0 s
	LB_PORT=$(free_port)
	{
		printf 'global\n\tmaxconn 200\n'
		printf 'defaults\n\tmode tcp\n\ttimeout connect 5s\n\ttimeout client 60s\n\ttimeout server 60s\n'
		printf 'frontend fe\n\tbind 127.0.0.1:%s\n\tdefault_backend nodes\n' "$LB_PORT"
		printf 'backend nodes\n\tbalance roundrobin\n\tsource 127.0.0.5\n'
		for s in "$@"; do
			n=$((n + 1))
			printf '\tserver n%d %s send-proxy-v2\n' "$n" "$s"
		done
	} >"$cfg"
	haproxy -c -f "$cfg" >"$WORK/haproxy-check.log" 2>&1 || {
		cat "$cfg" "$WORK/haproxy-check.log"
		return 1
	}
	haproxy -f "$cfg" -db >"$WORK/haproxy.log" 2>&1 3>&- &
	POSTEL_PIDS+=("$!")
	wait_listening "$LB_PORT" "$!" || {
		cat "$WORK/haproxy.log"
		return 1
	}
}

@test "ftpd behind HAProxy: passive RETR goes straight to the node that advertised its address, both nodes serve" {
	ftp_nodes
	balancer "127.0.0.2:$A_PORT" "127.0.0.3:$B_PORT"
	run ops_py '
seen = set()
for i in range(4):
    c = Line("ftp", "127.0.0.1", int(ARGS[0]))
    c.login()
    data, where, final = c.retr("pub/hello.txt", source="127.0.0.1")
    print("PASV", c.greeting, "|", where, "|", data, "|", final)
    seen.add(where)
    print("QUIT", c.cmd("QUIT"))
print("NODES", sorted(seen))
' "$LB_PORT"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	has "^PASV 220 node a \\| 127\\.0\\.0\\.2 \\| b'Hello from Postel.\\\\n' \\| 226"
	has "^PASV 220 node b \\| 127\\.0\\.0\\.3 \\| b'Hello from Postel.\\\\n' \\| 226"
	has "^NODES \\['127\\.0\\.0\\.2', '127\\.0\\.0\\.3'\\]$"
	[ "$(grep -c '^QUIT 221' <<<"$output")" -eq 4 ]
}

@test "ftpd behind HAProxy: active mode (PORT to the client) works through the balancer" {
	ftp_nodes
	balancer "127.0.0.2:$A_PORT" "127.0.0.3:$B_PORT"
	run ops_py '
for i in range(2):
    c = Line("ftp", "127.0.0.1", int(ARGS[0]))
    c.login()
    data, where, final = c.retr("pub/hello.txt", mode="port", local="127.0.0.1")
    print("PORT", c.greeting, "|", data, "|", final)
    c.cmd("QUIT")
' "$LB_PORT"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	has "^PORT 220 node a \\| b'Hello from Postel.\\\\n' \\| 226"
	has "^PORT 220 node b \\| b'Hello from Postel.\\\\n' \\| 226"
}

@test "ftpd behind HAProxy: logs and xferlog name the client 127.0.0.1, not the balancer" {
	ftp_nodes
	balancer "127.0.0.2:$A_PORT" "127.0.0.3:$B_PORT"
	run ops_py '
for mode in ("pasv", "port"):
    c = Line("ftp", "127.0.0.1", int(ARGS[0]))
    c.login()
    print(c.retr("pub/hello.txt", mode=mode, source="127.0.0.1")[2])
    c.cmd("QUIT")
' "$LB_PORT"
	[ "$status" -eq 0 ]
	local log
	for log in "$A_DIR" "$B_DIR"; do
		log_wait "$log/xferlog" ' 127\.0\.0\.1 19 /pub/hello\.txt b _ o a '
		hasnt -f "$log/xferlog" '127\.0\.0\.5'
		log_wait "$log/ftpd.log" 'c=127\.0\.0\.1 u=anonymous transfer RETR /pub/hello\.txt 19 bytes complete'
		hasnt -f "$log/ftpd.log" 'c=127\.0\.0\.5'
	done
}

@test "ftpd behind HAProxy: max_per_ip counts the client behind the balancer, not the balancer" {
	ftp_nodes -o max_per_ip=1
	# one node, so every connection lands on the same max_per_ip=1 counter
	balancer "127.0.0.2:$A_PORT"
	run ops_py '
port = int(ARGS[0])
a = Line("ftp", "127.0.0.1", port); a.login()
print("FIRST", a.greeting)
b = Line("ftp", "127.0.0.1", port)
print("SECOND", b.greeting, b.closed(5))
c = Line("ftp", "127.0.0.1", port, source="127.0.0.6")
print("OTHER", c.greeting)
c.login()
print("OTHER-RETR", c.retr("pub/hello.txt", source="127.0.0.6")[2])
print("FIRST-QUIT", a.cmd("QUIT"))
' "$LB_PORT"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	has '^FIRST 220 node a$'
	has '^SECOND 421 .* True$'
	has '^OTHER 220 node a$'
	has '^OTHER-RETR 226 '
	has '^FIRST-QUIT 221 '
	log_wait "$A_LOG" 'refused c=127\.0\.0\.1: max_per_ip'
	log_wait "$A_LOG" 'c=127\.0\.0\.6 u=anonymous transfer RETR'
}

@test "ftpd behind HAProxy: a node refuses a client that bypasses the balancer (no PROXY header from an untrusted peer)" {
	ftp_nodes
	run ops_py '
c = Line("ftp", "127.0.0.2", int(ARGS[0]))
print("DIRECT", c.greeting)
' "$A_PORT"
	has '^DIRECT <closed>$'
	log_wait "$A_LOG" 'refused c=127\.0\.0\.1: PROXY protocol from an untrusted address'
}

@test "nntpd behind HAProxy: greeting, POST, GROUP and ARTICLE work; the log names the client" {
	start_nntpd -o listen_address=127.0.0.2 "${BEHIND[@]}"
	balancer "127.0.0.2:$NNTPD_PORT"
	run ops_py '
c = Line("nntp", "127.0.0.1", int(ARGS[0]))
print("GREETING", c.greeting)
print("CAPS", "|".join(c.cmds("CAPABILITIES")))
r = c.cmd("POST")
print("POST", r)
if r.startswith("340"):
    for line in ["From: Ops <ops@example.com>", "Newsgroups: local.test",
                 "Subject: through the balancer", "Message-ID: <lb-1@ops.invalid>", "",
                 "Hello through HAProxy."]:
        c.send(line)
    print("POSTED", c.cmd("."))
def found():
    g = c.cmd("GROUP local.test")
    return g.startswith("211 1 ")
print("GROUP", wait_for(found, 10))
a = c.cmds("ARTICLE <lb-1@ops.invalid>")
print("ARTICLE", a[0], "Hello through HAProxy." in a)
print("QUIT", c.cmd("QUIT"))
' "$LB_PORT"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	has '^GREETING 200 '
	has '^CAPS 101 .*\|READER\|'
	has '^POSTED 240 '
	has '^GROUP True$'
	has '^ARTICLE 220 .*<lb-1@ops\.invalid> True$'
	has '^QUIT 205'
	log_wait "$NNTPD_LOG" 's=[0-9a-f]+ c=127\.0\.0\.1 u=[^ ]+ session start'
	hasnt -f "$NNTPD_LOG" 'c=127\.0\.0\.5'
}

@test "nntpd behind HAProxy: max_per_ip counts the client behind the balancer" {
	start_nntpd -o listen_address=127.0.0.2 -o max_per_ip=1 "${BEHIND[@]}"
	balancer "127.0.0.2:$NNTPD_PORT"
	run ops_py '
port = int(ARGS[0])
a = Line("nntp", "127.0.0.1", port)
print("FIRST", a.greeting)
b = Line("nntp", "127.0.0.1", port)
print("SECOND", b.greeting)
c = Line("nntp", "127.0.0.1", port, source="127.0.0.6")
print("OTHER", c.greeting)
' "$LB_PORT"
	printf '%s\n' "$output"
	has '^FIRST 20[01] '
	has '^SECOND 400 '
	has '^OTHER 20[01] '
	log_wait "$NNTPD_LOG" 'refused c=127\.0\.0\.1: max_per_ip'
}
