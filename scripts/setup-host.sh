#!/bin/bash
# Prepares a Debian 12 host for the TypedSandbox engine. Idempotent; run as root.
#   - installs the packages the engine and its tests use (only those missing; btrfs-progs: sandboxes' size-limited storage)
#   - applies the cgroup fix crun needs on hybrid cgroup hosts (v1 controllers + a cgroup2 that owns a controller)
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "setup-host.sh: must run as root" >&2
  exit 1
fi

packages=(crun runc runsc slirp4netns iproute2 iptables busybox-static clang lld mmdebstrap
          docker-registry skopeo umoci jq uidmap curl python3 btrfs-progs)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs Modal's JS SDK in the conformance tests; any install providing `node` and `npm` will do.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-host.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# crun refuses hybrid cgroups while cgroup2 owns a controller ("cgroups in hybrid mode not supported"):
# mount each such controller (hugetlb on this machine kind) as a v1 hierarchy. Does not persist across reboots.
unified=/sys/fs/cgroup/unified/cgroup.controllers
if [ -f "$unified" ]; then
  for c in $(cat "$unified"); do
    mkdir -p "/sys/fs/cgroup/$c"
    mountpoint -q "/sys/fs/cgroup/$c" || mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"
  done
fi

echo "setup-host.sh: host ready"
