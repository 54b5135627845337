#!/usr/bin/env bash
# Installs Debian packages whose program is missing: by default the ones the DeepCAVE tests
# use (redis-server, chromium) and postgresql (the real-worker tests start a throwaway cluster;
# its programs live in /usr/lib/postgresql/*/bin); scripts/make-deepcave-env.sh asks for swig.
# Each PACKAGE is installed only if no program of that name is on PATH, so a machine that
# has them is left untouched and a fresh one (CI, a new developer machine) gets them.
# Usage: scripts/ensure-debian.sh [PACKAGE...]   (needs root or sudo only to install)
set -euo pipefail

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(redis-server chromium postgresql)
has() {
    case "$1" in
        postgresql) compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 ;;
        *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}
missing=()
for pkg in "${wanted[@]}"; do
    has "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "ensure-debian: need root to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "ensure-debian: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
