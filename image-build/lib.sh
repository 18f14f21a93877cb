# Shared helpers for the image build scripts (sourced, not run).
# shellcheck shell=bash

IMAGE_BUILD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$IMAGE_BUILD_DIR/.." && pwd)"
CACHE_DIR="${DOORWARD_IMAGE_CACHE:-/var/cache/doorward-image}"
DEBIAN_MIRROR="${DOORWARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY="${DOORWARD_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
DEBIAN_SUITE=bookworm
BUILD_T0="${BUILD_T0:-$(date +%s)}"
export BUILD_T0

# The files that define the base layer: its cache key is their hash.
BASE_INPUTS=(packages.txt excludes.txt base.sh)

# "[image  123s] message": progress with the time since the build started.
say() { printf '[image %4ds] %s\n' "$(($(date +%s) - BUILD_T0))" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# stage NAME CMD...: run CMD, then report how long the stage took.
stage() {
	local name="$1" t
	shift
	t=$(date +%s)
	say "$name ..."
	"$@"
	say "$name done in $(($(date +%s) - t)) s"
}

base_key() {
	(cd "$IMAGE_BUILD_DIR" && cat "${BASE_INPUTS[@]}") | sha256sum | cut -c1-16
}

# The package list without comments and blank lines.
package_list() {
	sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$IMAGE_BUILD_DIR/packages.txt"
}
