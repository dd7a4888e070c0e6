#!/usr/bin/env bash
# Writes what is new in each package's public API into its PublicAPI.Unshipped.txt (the analyzer's own code fix,
# applied by `dotnet format`), and removes what is gone. Review the diff: it is the change to the public surface.
# Usage: bash scripts/public-api.sh [project-directory...]   (default: every package under src/ that tracks its API)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ $# -eq 0 ]; then
  set -- $(dirname $(ls src/*/PublicAPI.Shipped.txt))
fi
for dir in "$@"; do
  project=$(ls "$dir"/*.csproj)
  echo "== $project"
  dotnet format analyzers "$project" --diagnostics RS0016 RS0017 --severity warn -v q
done
