#!/usr/bin/env bats
# The seccomp filters' argument rules, attacked from inside each role:
# tests/attack/sandbox_probe enters a role through sandbox_worker (the
# same uid, chroot, capabilities and filter a session gets) and tries one
# forbidden act per child, beside a victim process of the same uid (what
# another session is). Refusals are checked by how the child ended (the
# filter traps: "killed by seccomp") or its errno, and the victim lives.

setup() {
	load lib/common
	is_root || skip "entering a sandbox needs root"
	if [ "$("$POSTEL_BUILD/attack/sandbox_probe" x x x x)" = "build: sanitized" ]; then
		skip "sanitizer builds relax the filters for the sanitizer runtime (the plain round tests them)"
	fi
	postel_tmpdir ROOT_DIR
	USER_NAME=nobody
}

teardown() {
	postel_teardown
}

probe() {
	local role=$1
	shift
	run timeout 60 "$POSTEL_BUILD/attack/sandbox_probe" "$role" "$ROOT_DIR" "$USER_NAME" "$@"
	echo "$output"
	[ "$status" -eq 0 ]
	hasnt 'victim dead'
}

@test "no worker can signal, renice or query another session of its uid" {
	for role in ftp-prelogin ftp-session ftp-dtp nntp-session nntp-writer nntp-feeder; do
		probe "$role" kill-peer tgkill-peer prlimit-peer renice-peer renice-pgrp renice-user
		has '^kill-peer: killed by seccomp' '^tgkill-peer: killed by seccomp' \
			'^prlimit-peer: killed by seccomp' '^renice-peer: killed by seccomp' \
			'^renice-pgrp: killed by seccomp' '^renice-user: killed by seccomp'
	done
}

@test "an NNTP session lowers its own priority (reader_nice) but cannot raise it" {
	probe nntp-session nice-self:5 nice-self:19 nice-self:-5
	has '^nice-self:5: ok' '^nice-self:19: ok' '^nice-self:-5: errno EACCES'
	# the other roles have no use for it
	probe ftp-session nice-self:5
	has '^nice-self:5: killed by seccomp'
}

@test "a worker still aborts itself and reads its own limits" {
	probe ftp-session abort-self prlimit-self
	has '^abort-self: died of signal ABRT' '^prlimit-self: ok'
}

@test "the FTP post-login worker opens TCP sockets only, and signals only its own DTP" {
	probe ftp-session socket-inet socket-inet6 socket-udp socket-unix socket-netlink \
		socket-packet signal-child prctl-dumpable
	has '^socket-inet: ok' '^socket-inet6: ok' '^signal-child: ok' \
		'^socket-udp: killed by seccomp' '^socket-unix: killed by seccomp' \
		'^socket-netlink: killed by seccomp' '^socket-packet: killed by seccomp' \
		'^prctl-dumpable: killed by seccomp'
}

@test "NNTP sessions and the writer open no network socket, only AF_UNIX" {
	for role in nntp-session nntp-writer; do
		probe "$role" socket-unix socket-inet socket-inet6 socket-netlink
		has '^socket-unix: ok' '^socket-inet: killed by seccomp' \
			'^socket-inet6: killed by seccomp' '^socket-netlink: killed by seccomp'
	done
}

@test "an NNTP feeder opens TCP sockets to its peer, nothing else" {
	probe nntp-feeder socket-inet socket-inet6 socket-unix socket-netlink
	has '^socket-inet: ok' '^socket-inet6: ok' '^socket-unix: killed by seccomp' \
		'^socket-netlink: killed by seccomp'
}

@test "the FTP pre-login worker opens no socket at all" {
	probe ftp-prelogin socket-inet socket-unix
	has '^socket-inet: killed by seccomp' '^socket-unix: killed by seccomp'
}

@test "no worker forks into new namespaces; clone3 is ENOSYS" {
	probe ftp-session fork clone-newuser clone-newnet clone3
	has '^fork: ok' '^clone-newuser: killed by seccomp' '^clone-newnet: killed by seccomp' \
		'^clone3: errno ENOSYS'
	probe nntp-session fork clone-newuser
	has '^fork: killed by seccomp' '^clone-newuser: killed by seccomp'
}

@test "the FTP DTP, in a filter of its own, changes nothing in the tree and forks nothing" {
	touch "$ROOT_DIR/f"
	chmod 666 "$ROOT_DIR/f"
	chmod 777 "$ROOT_DIR"
	probe ftp-dtp read:f socket-inet write:f create:g mkdir:d unlink:f listen fork
	has '^read:f: ok' '^socket-inet: ok' '^write:f: killed by seccomp' \
		'^create:g: killed by seccomp' '^mkdir:d: killed by seccomp' \
		'^unlink:f: killed by seccomp' '^listen: killed by seccomp' '^fork: killed by seccomp'
	[ -f "$ROOT_DIR/f" ]
	[ ! -e "$ROOT_DIR/d" ]
	# the same acts from the PI (its role) work: the DTP's filter is what stops them
	probe ftp-session mkdir:d listen
	has '^mkdir:d: ok' '^listen: ok'
}

@test "a session monitor cannot open a user namespace, userfaultfd or bpf, but forks its workers" {
	probe monitor unshare-user clone-newuser userfaultfd bpf fork
	has '^unshare-user: errno EPERM' '^clone-newuser: errno EPERM' \
		'^userfaultfd: errno EPERM' '^bpf: errno EPERM' '^fork: ok'
}
