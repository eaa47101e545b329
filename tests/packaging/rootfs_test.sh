#!/usr/bin/env bash
# The managed-plugin bundle is self-contained: inside its rootfs (chroot, as
# dockerd's runc would see it, with nothing from the host) helixvol and
# mkfs.ext4 run, mkfs.ext4 makes a filesystem helixvol's way, and the
# manifest is valid JSON naming what dockerd needs.
#   rootfs_test.sh BUNDLE_DIR
set -uo pipefail
bundle=$1 root=$1/rootfs
passed=0 failed=0
check() {
  if "${@:2}"; then passed=$((passed + 1)); else echo "FAILED: $1"; failed=$((failed + 1)); fi
}
if [ "$(id -u)" != 0 ]; then
  echo "SKIPPED: chroot needs root"
  exit 0
fi
# What runc gives the plugin: /proc, and the host's /dev (config.json).
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
trap 'umount -R "$root/dev"; umount "$root/proc"' EXIT
check "helixvol runs in the rootfs" chroot "$root" /usr/bin/helixvol help >/dev/null
truncate -s 64M "$root/tmp/t.img"
check "mkfs.ext4 runs in the rootfs" chroot "$root" mkfs.ext4 -q -F -O metadata_csum_seed \
  -m 0 -b 4096 -E lazy_itable_init=1,lazy_journal_init=1 /tmp/t.img
check "e2fsck accepts what it made" chroot "$root" e2fsck -fn /tmp/t.img >/dev/null
rm -f "$root/tmp/t.img"
truncate -s 320M "$root/tmp/pool.img"
check "mkfs.xfs makes a reflink pool in the rootfs" chroot "$root" mkfs.xfs -q -f -m reflink=1 \
  /tmp/pool.img
rm -f "$root/tmp/pool.img"
for tool in tune2fs resize2fs; do
  check "$tool runs in the rootfs" bash -c "chroot '$root' $tool 2>&1 | grep -q Usage"
done
size_kb=$(du -skx "$root" | cut -f1)
echo "rootfs: $((size_kb / 1024)) MiB"
check "rootfs stays small (under 64 MiB)" test "$size_kb" -lt 65536
manifest=$bundle/config.json
check "config.json is JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$manifest"
check "config.json declares a volume driver" python3 - "$manifest" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["interface"]["types"] == ["docker.volumedriver/1.0"]
assert c["entrypoint"][c["entrypoint"].index("--mount-root") + 1] == c["propagatedMount"]
assert "CAP_SYS_ADMIN" in c["linux"]["capabilities"]
assert c["linux"]["allowAllDevices"] is True
assert any(m["source"] == "/dev" for m in c["mounts"])
assert {"DEFAULT_SIZE", "LOG_LEVEL", "POOL", "POOL_SIZE", "DEFAULT_FROM", "FREEZE_TIMEOUT", "POOL_WARNING", "POOL_CRITICAL"} <= {e["name"] for e in c["env"]}
PY
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
