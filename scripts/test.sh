#!/usr/bin/env bash
# Runs every test of the repository on this machine, as root, installing what the tests need first:
# host packages and the cgroup fix (setup-host.sh), the test images (fixtures/test-images.sh), Modal's JS SDK (npm).
# Usage: sudo bash scripts/test.sh [extra dotnet test arguments]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/setup-host.sh
export TYPEDSANDBOX_TEST_CACHE=${TYPEDSANDBOX_TEST_CACHE:-/var/cache/typedsandbox-test}
bash scripts/fixtures/test-images.sh "$TYPEDSANDBOX_TEST_CACHE"
(cd tests/Conformance/js && npm ci --no-audit --no-fund --loglevel=error)

dotnet build TypedSandbox.sln -c Release --nologo -v quiet
dotnet test TypedSandbox.sln -c Release --no-build --nologo \
  --logger "console;verbosity=normal" --blame-hang-timeout 10m "$@"
