#!/usr/bin/env bash
# The host-service unit: systemd-analyze verify accepts it (no warnings), it
# orders itself before docker.service, and it uses none of the sandboxing
# options that would hide its mounts from dockerd.
#   systemd_unit_test.sh UNIT HELIXVOL_BINARY
set -uo pipefail
unit=$1 binary=$2
passed=0 failed=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else echo "FAILED: $1"; failed=$((failed + 1)); fi
}

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIPPED: systemd-analyze is not installed"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# verify checks that ExecStart exists: point it at the binary just built.
sed "s#/usr/local/bin/helixvol#$binary#" "$unit" >"$work/helixvol.service"
out=$(systemd-analyze verify "$work/helixvol.service" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out"
check "systemd-analyze verify exits 0" test "$rc" = 0
check "systemd-analyze verify prints no warning" test -z "$out"
check "starts before docker.service" grep -qx 'Before=docker.service' "$unit"
check "kills only the plugin process, not mounts" grep -qx 'KillMode=process' "$unit"
for key in PrivateTmp ProtectSystem PrivateDevices PrivateMounts ProtectHome \
  MountFlags TemporaryFileSystem ReadOnlyPaths InaccessiblePaths RootDirectory; do
  check "does not set $key" bash -c "! grep -q '^$key=' '$unit'"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
