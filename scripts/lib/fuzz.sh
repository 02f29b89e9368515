# shellcheck shell=bash
# The fuzzing stage: schemathesis against the local runner, from the API's own OpenAPI
# document (GET /api/openapi.json). Source after stack.sh.
#   fuzz_install        idempotent: .local/fuzz-venv with infra/fuzz/requirements.txt
#                       (schemathesis, pinned with its dependencies); fast when unchanged
#   fuzz_stage [ARGS]   build and start the local runner on a free port against the
#                       stand-ins already started (DYNAMODB_ENDPOINT, S3_ENDPOINT, … exported),
#                       run scripts/lib/fuzz.py against it, return its status. ARGS go to
#                       fuzz.py (e.g. --schema FILE, --only REGEX, --max-examples N).
# Reports: .local/fuzz/report.txt (one line per failure, with its curl) and
# .local/fuzz/junit/*.xml; the runner's log is .local/logs/pingoo-local-fuzz-PORT.log.

FUZZ_REQUIREMENTS=$STACK_ROOT/infra/fuzz/requirements.txt
FUZZ_VENV=$STACK_LOCAL/fuzz-venv

_fuzz_venv_install() {
	local want
	want=$(_stack_hash "$FUZZ_REQUIREMENTS")
	# Kept while requirements.txt is unchanged and the venv's own interpreter still runs.
	if [[ -x $FUZZ_VENV/bin/schemathesis ]] && _stack_stamp_ok fuzz-venv "$want" &&
		"$FUZZ_VENV/bin/python" -c '' 2>/dev/null; then
		return 0
	fi
	if ! command -v "$STACK_PYTHON" >/dev/null 2>&1; then
		stack_err "'$STACK_PYTHON' not found (Python 3.11+ is needed for schemathesis)"
		return 1
	fi
	if ! "$STACK_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
		stack_err "schemathesis 4 needs Python 3.11 or newer; '$STACK_PYTHON' is $("$STACK_PYTHON" -V 2>&1) (set PYTHON to another)"
		return 1
	fi
	_stack_make_venv fuzz-venv "$FUZZ_VENV" "$FUZZ_REQUIREMENTS" "$want"
}

fuzz_install() {
	stack_install_locked _fuzz_venv_install
}

fuzz_stage() {
	local target=${CARGO_TARGET_DIR:-$STACK_ROOT/target} port dir bin tables rc=0
	[[ $target == /* ]] || target=$STACK_ROOT/$target
	if [[ -z ${DYNAMODB_ENDPOINT:-} || -z ${S3_ENDPOINT:-} ]]; then
		stack_err "fuzz_stage: start the stand-ins and export DYNAMODB_ENDPOINT and S3_ENDPOINT first"
		return 1
	fi
	fuzz_install || return 1
	if [[ -z ${FUZZ_BIN:-} ]]; then
		cargo build -p pingoo-local --bin pingoo-local || return 1
	fi
	dir=$STACK_LOCAL/fuzz-run
	rm -rf "$dir"
	mkdir -p "$dir/data"
	# A copy of the binary: another build sharing CARGO_TARGET_DIR may replace it meanwhile.
	# FUZZ_BIN: a binary built elsewhere (no cargo build here).
	bin=$dir/pingoo-local
	cp "${FUZZ_BIN:-$target/debug/pingoo-local}" "$bin" || return 1
	read -r port < <(free_port 1)
	tables=fuzz-$(date +%s)-$$
	# Tables of its own, new each run: the fuzzer's requests and the API's answers (which
	# steer schemathesis' generation) are then the same every run, even on stand-ins that
	# other stages or an earlier run used. And the attempt
	# limits raised: the fuzzer registers and fails logins and password checks by the
	# thousand from one address; the limits have their own tests (cargo test), and a 429
	# here would only hide the handlers behind them.
	_stack_start pingoo-local-fuzz "$port" env PORT="$port" PINGOO_DATA_DIR="$dir/data" \
		APP_TABLE="$tables-app" EVENTS_TABLE="$tables-events" STATS_TABLE="$tables-stats" \
		GEOIP_BUCKET=pingoo-geoip GEOIP_CITY_KEY=fuzz-GeoLite2-City-Test.mmdb \
		GEOIP_CITY_FILE="$STACK_ROOT/shared/testdata/geoip/GeoLite2-City-Test.mmdb" \
		REGISTER_MAX_PER_NETWORK=1000000 LOGIN_MAX_FAILURES=1000000 \
		LOGIN_MAX_FAILURES_PER_EMAIL=1000000 PASSWORD_MAX_FAILURES=1000000 \
		RUST_LOG=warn "$bin" serve || return 1
	wait_for_http "http://127.0.0.1:$port/api/health" 120 || return 1
	stack_run "$FUZZ_VENV/bin/python" "$STACK_ROOT/scripts/lib/fuzz.py" \
		--api "http://127.0.0.1:$port" "$@" || rc=$?
	if ((rc != 0)) && grep -q ' ERROR ' "${STACK_PORT_LOG[$port]:-/dev/null}" 2>/dev/null; then
		printf '\nthe runner logged errors (%s):\n' "${STACK_PORT_LOG[$port]#"$STACK_ROOT"/}" >&2
		grep ' ERROR ' "${STACK_PORT_LOG[$port]}" | tail -n 20 >&2
	fi
	return "$rc"
}
