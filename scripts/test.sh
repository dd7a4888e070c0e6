#!/usr/bin/env bash
# Runs every test of the repository on this machine, as root, installing what the tests need first:
# host packages and the cgroup fix (setup-host.sh), the test images (fixtures/test-images.sh), Modal's JS SDK (npm,
# for the conformance scripts and for examples/js).
# Usage: sudo bash scripts/test.sh [extra dotnet test arguments]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/setup-host.sh
export TYPEDSANDBOX_TEST_CACHE=${TYPEDSANDBOX_TEST_CACHE:-/var/cache/typedsandbox-test}
bash scripts/fixtures/test-images.sh "$TYPEDSANDBOX_TEST_CACHE"
# npm install, not ci: the registry copy here lacks cbor-extract's optional platform builds, which `npm ci` insists on.
(cd tests/Conformance/js && npm install --no-audit --no-fund --loglevel=error)
(cd examples/js && npm install --no-audit --no-fund --loglevel=error)   # ExamplesTests runs every example

dotnet build TypedSandbox.sln -c Release --nologo -v quiet
# One project at a time: the engine tests start real sandboxes and some (Modal's guide example) are timing-sensitive.
status=0
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
timings=""
for project in tests/*/*.csproj; do
  [ -f "$project" ] || continue
  echo "== $project"
  started=$SECONDS
  dotnet test "$project" -c Release --no-build --nologo --logger "console;verbosity=normal" --blame-hang-timeout 10m "$@" \
    | tee -a "$summary" || status=1
  timings+="$(basename "$project" .csproj): $((SECONDS - started)) s"$'\n'
done
count() { awk -v word="$1" '$1 == word":" && $2 ~ /^[0-9]+$/ { sum += $2 } END { print sum + 0 }' "$summary"; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
# The end of the output is what a CI log keeps: the time per project, then every failed test with its message.
printf '%s' "$timings"
if [ "$failed" -gt 0 ]; then
  echo "Failed tests:"
  awk '/^ +Failed / { show = 12 } show > 0 { print; show-- }' "$summary"
fi
# A test host that crashed or hung stops its project early; its remaining tests are in no count above.
if grep -q "^Test Run Aborted" "$summary"; then
  echo "Aborted test runs (the test running at the time):"
  grep -A1 "^The test running when the crash occurred" "$summary" | grep -v "^The test running\|^--" || true
fi
echo "$passed passed, $failed failed, $skipped skipped"
# In CI every prerequisite is installed above, so a skipped test means a check that did not run: that fails the run.
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
  echo "CI: $skipped test(s) skipped; a skip is a failure here" >&2
  status=1
fi
exit $status
