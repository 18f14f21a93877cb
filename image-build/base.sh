#!/usr/bin/env bash
# The base layer: Debian bookworm arm64 + the Pi's firmware + kernel + initramfs, as a tarball.
# Usage: base.sh OUT.tar   (run as root; build.sh calls it when the cache has no layer for this key)
# The initramfs is built once, at the end (the kernel's own hook and the later trigger are diverted to
# a no-op while packages install), after the settings it depends on are in place.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out="$1"
pkgs=$(package_list | paste -sd, -)

dpkgopts=(--dpkgopt=force-unsafe-io)
while read -r line; do
	line="${line%%#*}"
	[ -n "${line// /}" ] || continue
	kind=path-exclude
	if [ "${line:0:1}" = + ]; then kind=path-include; line="${line:1}"; fi
	dpkgopts+=("--dpkgopt=$kind=$line")
	# Packages ship /lib/... and /usr/lib/... (merged /usr): cover both spellings.
	case "$line" in /lib/*) dpkgopts+=("--dpkgopt=$kind=/usr$line") ;; esac
done <"$IMAGE_BUILD_DIR/excludes.txt"

essential_hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
printf "#!/bin/sh\necho \"update-initramfs: deferred to the end of the base build\"\n" >"$1/usr/sbin/update-initramfs"
chmod 755 "$1/usr/sbin/update-initramfs"'

customize_hook='set -e
rm "$1/usr/sbin/update-initramfs"
chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
cat >"$1/etc/default/raspi-firmware" <<CONF
# Written by Doorward image-build/base.sh: the root by label, the serial console last (boot logs).
ROOTPART=LABEL=RASPIROOT
CONSOLES="tty0 ttyS1,115200"
CONF
mkdir -p "$1/etc/initramfs-tools/conf.d"
echo FSTYPE=ext4 >"$1/etc/initramfs-tools/conf.d/doorward-root"
cat >"$1/etc/fstab" <<FSTAB
# <device>      <mount point>      <type> <options>                                          <dump> <pass>
LABEL=RASPIROOT /                  ext4   rw,noatime,errors=remount-ro                       0      1
LABEL=RASPIFIRM /boot/firmware     vfat   rw,noatime,nofail                                  0      2
LABEL=DWDATA    /var/lib/doorward  ext4   rw,noatime,nosuid,nodev,x-systemd.growfs            0      2
FSTAB
mkdir -p "$1/var/lib/doorward"
for k in "$1"/lib/modules/*; do chroot "$1" update-initramfs -c -k "${k##*/}"; done
rm -f "$1/etc/resolv.conf" "$1/etc/hostname"'

say "base layer: mmdebstrap bookworm arm64 (${pkgs//,/ })"
mmdebstrap --mode=unshare --format=tar --architectures=arm64 --variant=minbase \
	--components=main,non-free-firmware \
	--include="$pkgs" \
	"${dpkgopts[@]}" \
	--essential-hook="$essential_hook" \
	--customize-hook="$customize_hook" \
	"$DEBIAN_SUITE" "$out" \
	"deb $DEBIAN_MIRROR $DEBIAN_SUITE main non-free-firmware" \
	"deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main non-free-firmware" \
	"deb $DEBIAN_SECURITY $DEBIAN_SUITE-security main non-free-firmware"
