# shellcheck shell=bash
# python.bash: sourced by tests/lib/common.bash and scripts/runtests. When the
# python3 that PATH finds is a pyenv shim (a bash script that resolves the
# version on every start: 0.35 s on a quiet machine and 2 s on a loaded one,
# against 0.05 s for an interpreter), put Debian's python3 (scripts/deps
# installs it; the tests need only the standard library), or else the
# shim's own interpreter, first on PATH. The tests start python3 hundreds of
# times per file; the shim was a third of the suite's time. Once fixed,
# later loads find no shim and cost nothing.
postel_python_path() {
	local py real
	py=$(command -v python3) || return 0
	case $py in
	*/shims/*) ;;
	*) return 0 ;;
	esac
	real=/usr/bin/python3
	if [ ! -x "$real" ]; then
		real=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || return 0
		[ -x "$real" ] || return 0
	fi
	PATH=${real%/*}:$PATH
	export PATH
}
postel_python_path
