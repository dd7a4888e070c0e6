#!/usr/bin/env bash
# Runs the main sample (samples/TestRunner) on the embedded engine, as root, installing what it needs first.
# Usage: sudo bash scripts/run-sample.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/setup-host.sh
export TYPEDSANDBOX_TEST_CACHE=${TYPEDSANDBOX_TEST_CACHE:-/var/cache/typedsandbox-test}
bash scripts/fixtures/test-images.sh "$TYPEDSANDBOX_TEST_CACHE"
dotnet run --project samples/TestRunner -c Release
