#!/usr/bin/env bash
# Minifies the tracker: functions/collect/assets/pingoo.js -> pingoo.min.js (committed;
# the collect function embeds it and serves it as /pingoo.js). terser is pinned in
# package.json / package-lock.json. Deterministic: same input, same bytes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
assets="$here/../../functions/collect/assets"
cd "$here"
if [ ! -x node_modules/.bin/terser ]; then
  npm ci --ignore-scripts --no-audit --no-fund >&2
fi
node_modules/.bin/terser "$assets/pingoo.js" \
  --compress passes=3,unsafe_arrows=false \
  --mangle \
  --comments '/^!/' \
  --output "$assets/pingoo.min.js.tmp"
mv "$assets/pingoo.min.js.tmp" "$assets/pingoo.min.js"
size=$(gzip -9 -c "$assets/pingoo.min.js" | wc -c)
echo "pingoo.min.js: $(wc -c <"$assets/pingoo.min.js") bytes, $size gzipped" >&2
if [ "$size" -gt 1000 ]; then
  echo "pingoo.min.js is over the 1,000-byte gzip budget" >&2
  exit 1
fi
