#!/usr/bin/env bash
# Build the SD card image: image-build/out/doorward-<version>-<commit>.img (and .img.xz with --xz).
#
# Stages: host tools -> base layer (cached by the hash of packages.txt, excludes.txt and base.sh in
# $DOORWARD_IMAGE_CACHE, default /var/cache/doorward-image) -> wheels (Doorward from this checkout,
# its dependencies from PyPI for aarch64) -> rootfs (base + the /opt/doorward venv, installed by pip
# inside the arm64 chroot under qemu-user, + files/ and overlay/) -> partitions (mkfs.vfat + mtools,
# mke2fs -d; nothing is mounted) -> image (sfdisk, dd) -> optional xz.
# Run as root (chroot, file ownership in the root filesystem). SOURCE_DATE_EPOCH defaults to the
# commit's time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

XZ=0
for arg in "$@"; do
	case "$arg" in
	--xz) XZ=1 ;;
	*) die "unknown option $arg (usage: build.sh [--xz])" ;;
	esac
done

OUT_DIR="$IMAGE_BUILD_DIR/out"
WORK="$OUT_DIR/work"
ROOTFS="$WORK/rootfs"
VENV_BIN="$REPO_DIR/.venv/bin"
BOOT_MB=256         # p1, FAT32: firmware, kernel, initrd, config.txt, cmdline.txt, provisioning files
DATA_MB=128         # p3, ext4: /var/lib/doorward; grown to the end of the card at first boot
ROOT_FREE_MB=384    # free space left on p2 beyond its contents
ALIGN_MB=4          # partition alignment (as Debian's and the Pi's own images)

# ---------------------------------------------------------------------------------------------
# Host tools

host_tools() {
	[ "$(id -u)" = 0 ] || die "run as root: the build chroots into the arm64 tree and sets file owners"
	local need=() cmd pkg
	for pair in mmdebstrap:mmdebstrap qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support \
		arch-test:arch-test mkfs.vfat:dosfstools mcopy:mtools sfdisk:fdisk \
		qemu-system-aarch64:qemu-system-arm xz:xz-utils zstd:zstd mke2fs:e2fsprogs \
		debugfs:e2fsprogs cpio:cpio ssh-keygen:openssh-client; do
		cmd="${pair%%:*}" pkg="${pair##*:}"
		command -v "$cmd" >/dev/null || need+=("$pkg")
	done
	if [ ${#need[@]} -gt 0 ]; then
		say "installing host packages: ${need[*]}"
		"$REPO_DIR/.ci/apt-install" "${need[@]}"  # waits for another apt's lock
	fi
	if [ -z "$(ls -A /proc/sys/fs/binfmt_misc 2>/dev/null)" ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	fi
	if ! arch-test arm64 >/dev/null 2>&1; then
		update-binfmts --enable qemu-aarch64 || true
	fi
	arch-test arm64 >/dev/null 2>&1 || die "this machine cannot run arm64 programs (qemu-user-static + binfmt_misc)"
	[ -x "$VENV_BIN/pip" ] || die "no venv in $REPO_DIR/.venv: run 'make venv' (make image does)"
}

# ---------------------------------------------------------------------------------------------
# Identity of the build

identify() {
	VERSION=$("$VENV_BIN/python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
	COMMIT=$(git -C "$REPO_DIR" rev-parse --short=12 HEAD)
	COMMIT_FULL=$(git -C "$REPO_DIR" rev-parse HEAD)
	if [ -n "$(git -C "$REPO_DIR" status --porcelain --untracked-files=no)" ]; then
		COMMIT="$COMMIT-dirty" COMMIT_FULL="$COMMIT_FULL-dirty"
	fi
	export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$REPO_DIR" log -1 --format=%ct)}"
	NAME="doorward-$VERSION-$COMMIT"
	IMG="$OUT_DIR/$NAME.img"
	say "building $NAME (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
}

# A UUID that depends only on the build's identity and a role (filesystem UUIDs, hash seeds).
build_uuid() {
	"$VENV_BIN/python" -c 'import sys, uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "doorward-image:" + ":".join(sys.argv[1:])))' \
		"$COMMIT_FULL" "$SOURCE_DATE_EPOCH" "$1"
}

# ---------------------------------------------------------------------------------------------
# Base layer

base_layer() {
	local key epoch
	key=$(base_key)
	BASE_TAR="$CACHE_DIR/base-$key.tar"
	if [ -f "$BASE_TAR" ]; then
		say "base layer $key: cached ($BASE_TAR)"
		return
	fi
	say "base layer $key: not cached, building it (about 11 min on 2 cores)"
	# The base's own timestamp: the last change to what defines it, so a rebuild is the same layer.
	epoch=$(git -C "$REPO_DIR" log -1 --format=%ct -- "${BASE_INPUTS[@]/#/image-build/}")
	SOURCE_DATE_EPOCH="${epoch:-$SOURCE_DATE_EPOCH}" "$IMAGE_BUILD_DIR/base.sh" "$BASE_TAR.part"
	mv "$BASE_TAR.part" "$BASE_TAR"
	# Keep the two most recent layers.
	ls -1t "$CACHE_DIR"/base-*.tar | tail -n +3 | xargs -r rm -f
}

# ---------------------------------------------------------------------------------------------
# Wheels: Doorward from this checkout, pigpio (an sdist) built here, the rest from PyPI for aarch64

# pip, without the warnings this machine's pip.conf provokes for index folders it does not have.
host_pip() {
	"$VENV_BIN/pip" "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

wheels() {
	WHEELS="$WORK/wheels"
	mkdir -p "$WHEELS"
	host_pip wheel -q --no-deps -w "$WHEELS" "$REPO_DIR"
	host_pip wheel -q --no-deps --no-binary=pigpio -w "$WHEELS" 'pigpio>=1.78,<2'
	local wheel plats=()
	wheel=$(ls "$WHEELS"/doorward-"$VERSION"-*.whl)
	plats=(--platform manylinux2014_aarch64)
	for v in 17 24 26 27 28 31 34 36; do plats+=(--platform "manylinux_2_${v}_aarch64"); done
	host_pip download -q --dest "$WHEELS" --find-links "$WHEELS" --only-binary=:all: \
		"${plats[@]}" --python-version 3.11 --implementation cp "$wheel[lgpio]"
	say "$(ls "$WHEELS" | wc -l) wheels"
}

# ---------------------------------------------------------------------------------------------
# Root filesystem

in_root() {
	chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" "$@"
}

rootfs() {
	mkdir -p "$ROOTFS"
	tar -C "$ROOTFS" --numeric-owner --xattrs --xattrs-include='*' -xpf "$BASE_TAR" --exclude='./dev/*'
}

venv() {
	local pip_whl
	pip_whl=$(ls "$ROOTFS"/usr/share/python-wheels/pip-*.whl)
	mkdir -p "$ROOTFS/tmp/wheels"
	cp "$WHEELS"/*.whl "$ROOTFS/tmp/wheels/"
	in_root python3 -m venv --without-pip /opt/doorward
	# pip runs from Debian's own pip wheel and is not left in the venv: a fleet update is a new image.
	in_root /opt/doorward/bin/python "/usr/share/python-wheels/${pip_whl##*/}/pip" install -q \
		--no-index --no-cache-dir --no-compile --find-links /tmp/wheels 'doorward[lgpio]'
	rm -rf "$ROOTFS/tmp/wheels"
	# Bytecode that is never checked against its source (the services may not write any, and the
	# sources change only with a new image): no hashing of every module at each start.
	in_root /opt/doorward/bin/python -m compileall -q --invalidation-mode unchecked-hash \
		/opt/doorward/lib/python3.11/site-packages >/dev/null
	in_root /opt/doorward/bin/doorward --version
}

# The gpio= lines that hold every output at its locked/inactive level from power-on (PROVISION's
# command, from the default pin map); the same block goes in raspi-firmware-custom so that the
# kernel package's hook keeps it when it rewrites config.txt.
gpio_block() {
	local wiring="$REPO_DIR/wiring/doorward.toml" lines
	[ -f "$wiring" ] || die "missing $wiring (the default pin map): cannot write config.txt's gpio= lines"
	lines=$("$VENV_BIN/doorward" --config "$wiring" firmware-gpio) ||
		die "'doorward --config wiring/doorward.toml firmware-gpio' failed: cannot write config.txt's gpio= lines"
	echo "$lines" | grep -q '^gpio=' || die "'doorward firmware-gpio' printed no gpio= line"
	GPIO_BLOCK=$(printf '# doorward: begin gpio\n%s\n# doorward: end gpio\n' "$lines")
	printf '%s\n' "$GPIO_BLOCK" >>"$ROOTFS/boot/firmware/config.txt"
	printf '%s\n' "$GPIO_BLOCK" >"$ROOTFS/etc/default/raspi-firmware-custom"
}

copy_tree() { # copy_tree SRC: files owned by root, same paths in the root filesystem
	tar -C "$1" --owner=0 --group=0 --numeric-owner --mode=go-w --exclude=./README.md -cf - . |
		tar -C "$ROOTFS" --no-overwrite-dir -xf -
}

# Enable every unit in DIR whose [Install] section has a WantedBy=/RequiredBy=.
enable_units() {
	local unit
	for unit in "$1"/*.service "$1"/*.timer; do
		[ -f "$unit" ] || continue
		if sed -n '/^\[Install\]/,/^\[/p' "$unit" | grep -Eq '^(WantedBy|RequiredBy)='; then
			systemctl --root="$ROOTFS" --quiet enable "${unit##*/}"
			say "enabled ${unit##*/}"
		fi
	done
}

system() {
	local overlay="$IMAGE_BUILD_DIR/overlay"
	# The box's user: its own group, and the gpio group for /dev/gpiochip* (udev rule in the overlay).
	groupadd --root "$ROOTFS" --system gpio
	useradd --root "$ROOTFS" --system --user-group --groups gpio --home-dir /var/lib/doorward \
		--no-create-home --shell /usr/sbin/nologin --comment "Doorward controller" doorward
	chown "$(id_in_root doorward)" "$ROOTFS/var/lib/doorward"
	chmod 0750 "$ROOTFS/var/lib/doorward"

	copy_tree "$IMAGE_BUILD_DIR/files"
	if [ -d "$overlay" ]; then
		copy_tree "$overlay"
		[ -f "$overlay/README.md" ] && say "overlay: $(grep -c . "$overlay/README.md") lines of README (packages it needs must be in packages.txt)"
	else
		say "WARNING: no image-build/overlay (PROVISION's units): the image has no Doorward services"
	fi
	enable_units "$IMAGE_BUILD_DIR/files/etc/systemd/system"
	[ -d "$overlay/etc/systemd/system" ] && enable_units "$overlay/etc/systemd/system"
	systemctl --root="$ROOTFS" --quiet enable systemd-networkd.service systemd-resolved.service \
		systemd-timesyncd.service ssh.service
	# An appliance does not upgrade itself behind the district's back, nor scrub in the background.
	systemctl --root="$ROOTFS" --quiet disable apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
		e2scrub_reap.service 2>/dev/null || true

	echo doorward >"$ROOTFS/etc/hostname"
	grep -q '^127.0.1.1' "$ROOTFS/etc/hosts" 2>/dev/null || printf '127.0.1.1\tdoorward\n' >>"$ROOTFS/etc/hosts"
	ln -sfn ../run/systemd/resolve/stub-resolv.conf "$ROOTFS/etc/resolv.conf"

	# No per-box secret in the image: host keys come from doorward-ssh-keygen.service at first
	# boot, the machine id from systemd (an empty file means "first boot").
	rm -f "$ROOTFS"/etc/ssh/ssh_host_* "$ROOTFS/var/lib/systemd/random-seed" \
		"$ROOTFS/var/lib/systemd/credential.secret"
	: >"$ROOTFS/etc/machine-id"
	[ -L "$ROOTFS/var/lib/dbus/machine-id" ] || rm -f "$ROOTFS/var/lib/dbus/machine-id"

	cat >"$ROOTFS/etc/doorward-release" <<EOF
DOORWARD_VERSION=$VERSION
DOORWARD_COMMIT=$COMMIT_FULL
DOORWARD_BUILD_DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
DEBIAN_RELEASE=$DEBIAN_SUITE
EOF
	gpio_block
	# Nothing newer than SOURCE_DATE_EPOCH (what mke2fs -d and mcopy -m copy).
	find "$ROOTFS" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch --no-dereference --date="@$SOURCE_DATE_EPOCH"
	dpkg-query --admindir="$ROOTFS/var/lib/dpkg" -W -f '${Package} ${Version}\n' >"$OUT_DIR/$NAME.packages"
	in_root /opt/doorward/bin/python -c 'import importlib.metadata as m; [print(d.metadata["Name"], d.version) for d in sorted(m.distributions(), key=lambda d: d.metadata["Name"].lower())]' \
		>"$OUT_DIR/$NAME.wheels"
}

id_in_root() { # "uid:gid" of a user of the image
	awk -F: -v u="$1" '$1 == u { print $3 ":" $4 }' "$ROOTFS/etc/passwd"
}

# ---------------------------------------------------------------------------------------------
# Partitions and image (no mounts, no loop devices)

partitions() {
	local root_mb boot_dir="$WORK/boot" data_dir="$WORK/data" owner
	# Split the tree: /boot/firmware -> p1, /var/lib/doorward -> p3, the rest -> p2 (mount points stay).
	mkdir -p "$boot_dir" "$data_dir"
	mv "$ROOTFS/boot/firmware/"* "$boot_dir/"
	owner=$(id_in_root doorward)
	if [ -n "$(ls -A "$ROOTFS/var/lib/doorward")" ]; then mv "$ROOTFS/var/lib/doorward/"* "$data_dir/"; fi
	chown "$owner" "$data_dir"
	chmod 0750 "$data_dir"
	touch --date="@$SOURCE_DATE_EPOCH" "$data_dir" "$ROOTFS/boot/firmware" "$ROOTFS/var/lib/doorward"

	root_mb=$(du -sm --apparent-size "$ROOTFS" | cut -f1)
	root_mb=$(((root_mb * 115 / 100 + ROOT_FREE_MB + ALIGN_MB - 1) / ALIGN_MB * ALIGN_MB))
	ROOT_MB=$root_mb

	VOLID=$(printf '%08x' $((SOURCE_DATE_EPOCH & 0xffffffff)))
	rm -f "$WORK"/p?.img
	mkfs.vfat -F 32 -n RASPIFIRM -i "$VOLID" --invariant -C "$WORK/p1.img" $((BOOT_MB * 1024)) >/dev/null
	MTOOLS_SKIP_CHECK=1 mcopy -i "$WORK/p1.img" -s -p -m -Q "$boot_dir"/* ::/
	export E2FSPROGS_FAKE_TIME="$SOURCE_DATE_EPOCH"
	mke2fs -q -F -t ext4 -T default -b 4096 -L RASPIROOT -U "$(build_uuid root)" \
		-E "hash_seed=$(build_uuid root-hash),root_owner=0:0" -d "$ROOTFS" "$WORK/p2.img" "${ROOT_MB}M" >/dev/null
	mke2fs -q -F -t ext4 -T default -b 4096 -L DWDATA -U "$(build_uuid data)" -m 0 \
		-E "hash_seed=$(build_uuid data-hash),root_owner=$owner" -d "$data_dir" "$WORK/p3.img" "${DATA_MB}M" >/dev/null
	unset E2FSPROGS_FAKE_TIME
}

image() {
	local s1=$ALIGN_MB s2 s3 total
	s2=$((s1 + BOOT_MB)) s3=$((s2 + ROOT_MB)) total=$((s3 + DATA_MB))
	rm -f "$IMG" "$IMG.xz"
	truncate -s "${total}M" "$IMG.part"
	sfdisk -q "$IMG.part" <<EOF
label: dos
label-id: 0x$VOLID
unit: sectors
start=$((s1 * 2048)), size=$((BOOT_MB * 2048)), type=c, bootable
start=$((s2 * 2048)), size=$((ROOT_MB * 2048)), type=83
start=$((s3 * 2048)), size=$((DATA_MB * 2048)), type=83
EOF
	dd if="$WORK/p1.img" of="$IMG.part" bs=1M seek="$s1" conv=notrunc,sparse status=none
	dd if="$WORK/p2.img" of="$IMG.part" bs=1M seek="$s2" conv=notrunc,sparse status=none
	dd if="$WORK/p3.img" of="$IMG.part" bs=1M seek="$s3" conv=notrunc,sparse status=none
	touch --date="@$SOURCE_DATE_EPOCH" "$IMG.part"
	mv "$IMG.part" "$IMG"
	ln -sfn "$NAME.img" "$OUT_DIR/doorward.img"
	# Keep this image and the one before it.
	local old
	for old in $(ls -1t "$OUT_DIR"/doorward-*.img | tail -n +3); do
		rm -f "$old" "$old.xz" "$old.xz.sha256" "${old%.img}.packages" "${old%.img}.wheels"
	done
	say "$IMG: $((total)) MiB (boot $BOOT_MB, root $ROOT_MB, data $DATA_MB; $(du -m "$IMG" | cut -f1) MiB allocated)"
}

compress() {
	xz -T2 -6 -k -f "$IMG"
	touch --date="@$SOURCE_DATE_EPOCH" "$IMG.xz"
	(cd "$OUT_DIR" && sha256sum "$NAME.img.xz" >"$NAME.img.xz.sha256")
	say "$IMG.xz: $(du -m --apparent-size "$IMG.xz" | cut -f1) MiB"
}

# ---------------------------------------------------------------------------------------------

main() {
	host_tools
	mkdir -p "$CACHE_DIR" "$OUT_DIR"
	exec 9>"$CACHE_DIR/.lock"
	flock -n 9 || { say "another image build holds $CACHE_DIR/.lock: waiting"; flock 9; }
	cd "$REPO_DIR"
	identify
	if [ -f "$IMG" ] && [ "${COMMIT%-dirty}" = "$COMMIT" ] && [ "${DOORWARD_IMAGE_REBUILD:-0}" = 0 ]; then
		ln -sfn "$NAME.img" "$OUT_DIR/doorward.img"
		say "$IMG is up to date (this commit, clean tree; DOORWARD_IMAGE_REBUILD=1 rebuilds it)"
		if [ "$XZ" = 1 ] && [ ! -f "$IMG.xz" ]; then stage "xz -T2" compress; fi
		return
	fi
	rm -rf "$WORK"
	mkdir -p "$WORK"
	stage "base layer" base_layer
	stage "wheels" wheels
	stage "root filesystem: unpack the base layer" rootfs
	stage "root filesystem: /opt/doorward venv (pip under qemu-user)" venv
	stage "root filesystem: users, units, release, config.txt" system
	stage "partitions (mkfs.vfat + mtools, mke2fs -d)" partitions
	stage "image (sfdisk, dd)" image
	rm -rf "$WORK"
	if [ "$XZ" = 1 ]; then stage "xz -T2" compress; fi
	say "done: $IMG"
}

main
