# shellcheck shell=bash
# ops.bash: what the ops_*.bats files share on top of common.bash.
#
#   ops_py SCRIPT [args]      Python with tests/lib/opsclient imported (PROXY
#                             headers, Line client, launchers), ARGS set;
#                             bounded by timeout
#   (has / hasnt are in lib/common)
#   log_wait FILE REGEX [S]   true once a line of FILE matches (S seconds at most)
#   PROXY_ON                  -o options: proxy_protocol trusting 127.0.0.1

OPSCLIENT_DIR=$POSTEL_ROOT/tests/lib
PROXY_ON=(-o proxy_protocol=YES -o proxy_trusted_addresses=127.0.0.1/32)

ops_py() {
	local script=$1
	shift
	PYTHONPATH=$OPSCLIENT_DIR timeout "${OPS_PY_TIMEOUT:-60}" python3 - "$@" <<PYEOF
import os, re, socket, sys, time
from opsclient import *
ARGS = sys.argv[1:]
$script
PYEOF
}

log_wait() {
	local file=$1 re=$2 secs=${3:-5} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line of $file matches: $re" >&2
	sed 's/^/  /' "$file" >&2 2>/dev/null || true
	return 1
}
