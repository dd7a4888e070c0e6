#!/usr/bin/env bash
# Runs the main sample (samples/TestRunner) on the embedded engine, as root, installing what it needs first.
# The first run builds the sample's image (debian:bookworm-slim from Debian's packages, then python3-pytest):
# a minute or two; later runs reuse it from the engine's state directory ($TYPEDSANDBOX_STATE_DIR or /var/lib/typedsandbox).
# With MODAL_SERVER_URL or MODAL_CONFIG_PATH set (e.g. MODAL_CONFIG_PATH=<state-dir>/modal.toml of a running engine),
# the sample talks to that server instead; the embedded engine hands the sample its own profile.
# Usage: sudo bash scripts/run-sample.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/setup-host.sh
dotnet run --project samples/TestRunner -c Release
