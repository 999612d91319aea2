#!/usr/bin/env bats
# The tree keeps the direction of trust (scripts/checklayout): nothing
# privileged includes an unprivileged role's headers, the daemons never
# include each other, common/ knows no daemon, and no include cycle.

setup() {
	load lib/common
	local dir
	postel_tmpdir dir
	tree=$dir/tree
	mkdir -p "$tree"
	cp -r "$POSTEL_ROOT/common" "$POSTEL_ROOT/ftpd" "$POSTEL_ROOT/nntpd" "$tree/"
}

teardown() {
	postel_teardown
}

# plant FILE LINE: add an include line to FILE in the copy.
plant() {
	printf '%s\n' "$2" >>"$tree/$1"
}

refused() {
	run "$POSTEL_ROOT/scripts/checklayout" "$tree"
	[ "$status" -eq 1 ]
	grep -qF -- "$1" <<<"$output"
}

@test "the tree as it is passes the layout check" {
	run "$POSTEL_ROOT/scripts/checklayout" "$POSTEL_ROOT"
	[ "$status" -eq 0 ]
	[ "$output" = "checklayout: ok" ]
}

@test "a monitor including the PI is refused" {
	plant ftpd/monitor/monitor.c '#include "ftpd/pi/pi.h"'
	refused "ftpd/monitor/monitor.c:"
	refused "privileged ftpd/monitor/ includes unprivileged ftpd/pi/pi.h"
}

@test "common/priv including the DTP is refused" {
	plant common/priv/sandbox.c '#include "ftpd/dtp/dtp.h"'
	refused "privileged common/priv/ includes unprivileged ftpd/dtp/dtp.h"
}

@test "the NNTP writer including session code is refused" {
	plant nntpd/writer/serve.c '#include "nntpd/session/commands.h"'
	refused "privileged nntpd/writer/ includes unprivileged nntpd/session/commands.h"
}

@test "the NNTP monitor including session code is refused" {
	plant nntpd/monitor/monitor.c '#include "nntpd/session/monreq.h"'
	refused "privileged nntpd/monitor/ includes unprivileged nntpd/session/monreq.h"
}

@test "one daemon including the other is refused" {
	plant ftpd/options.c '#include "nntpd/options.h"'
	refused "ftpd includes the other daemon's nntpd/options.h"
}

@test "common/ including a daemon header is refused" {
	plant common/core/buffer.c '#include "ftpd/session.h"'
	refused "common/ includes daemon header ftpd/session.h"
}

@test "a relative include, which the check could not place, is refused" {
	plant ftpd/monitor/monitor.c '#include "../pi/pi.h"'
	refused 'include "../pi/pi.h" is not written from the top of the tree'
}

@test "an include cycle is refused" {
	plant common/core/buffer.h '#include "common/core/vector.h"'
	plant common/core/vector.h '#include "common/core/buffer.h"'
	refused "include cycle: common/core/buffer -> common/core/vector -> common/core/buffer"
}
