# shellcheck shell=bash
# The dashboard (functions/web): its build and its end-to-end test. Source after stack.sh.
#   web_build   npm ci (pinned, functions/web/app/node_modules) and vite build into
#               functions/web/dist, the files the web crate embeds (committed, so a plain
#               `cargo build` needs no npm)
#   web_e2e     start the local runner on a free port against the stand-ins already
#               started (DYNAMODB_ENDPOINT, S3_ENDPOINT) and run the Chromium scenarios: the
#               dashboard's, then the API reference's (/api/docs)

WEB_APP=$STACK_ROOT/functions/web/app

web_build() {
	stack_npm_ci "$WEB_APP" web-npm || return 1
	stack_log "building the dashboard (vite build → functions/web/dist)"
	(cd "$WEB_APP" && node_modules/.bin/vite build --logLevel warn) || {
		stack_err "vite build failed in functions/web/app"
		return 1
	}
}

web_e2e() {
	local target=${CARGO_TARGET_DIR:-$STACK_ROOT/target} port dir bin
	[[ $target == /* ]] || target=$STACK_ROOT/$target
	cargo build -p pingoo-local --bin pingoo-local || return 1
	dir=$STACK_LOCAL/e2e
	rm -rf "$dir"
	mkdir -p "$dir/data" "$STACK_LOCAL/screenshots"
	# A copy of the binary: another build sharing CARGO_TARGET_DIR may replace it meanwhile.
	bin=$dir/pingoo-local
	cp "$target/debug/pingoo-local" "$bin"
	read -r port < <(free_port 1)
	_stack_start pingoo-local "$port" env PORT="$port" PINGOO_DATA_DIR="$dir/data" \
		GEOIP_CITY_FILE="$STACK_ROOT/shared/testdata/geoip/GeoLite2-City-Test.mmdb" \
		RUST_LOG=warn "$bin" serve || return 1
	wait_for_http "http://localhost:$port/api/health" 120 || return 1
	(cd "$WEB_APP" && export BASE_URL="http://localhost:$port" SCREENSHOTS="$STACK_LOCAL/screenshots" &&
		node e2e/dashboard.mjs && node e2e/api-docs.mjs)
}
