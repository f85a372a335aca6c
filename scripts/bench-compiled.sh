#!/usr/bin/env bash
# `npm run bench:compiled`: the benches on JavaScript compiled by tsc, as the Docker image and `npm run build` run the
# AP, not through tsx (whose esbuild transform keeps function names with a defineProperty at every inner function's
# creation: a few per cent of the CPU on the hot paths). BENCH=… selects as for `npm run bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.scratch-bench-build
npx tsc -p tsconfig.bench.json
cp bench/*.cjs "$out/bench/"
# Modules find schemas/, certs/ and test fixtures relative to their own file, as from dist/ or the sources.
ln -sfn ../schemas "$out/schemas"
ln -sfn ../certs "$out/certs"
# Test fixtures the benches read (JSON, XML) beside the compiled helpers there.
mkdir -p "$out/test/fixtures"
cp -r test/fixtures/. "$out/test/fixtures/"
exec node "$out/bench/run.js"
