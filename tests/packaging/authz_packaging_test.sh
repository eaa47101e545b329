#!/usr/bin/env bash
# helixauthz's packaging: the managed-plugin bundle is self-contained (inside its rootfs,
# with nothing from the host, helixauthz runs and validates the shipped policy), its manifest
# names what dockerd needs, and the host-service unit passes systemd-analyze verify. The
# shipped policy for userns-remapped engines (policy-userns.json beside POLICY) is valid too,
# and pins the seccomp profile that contrib/userns-desktop ships, by its digest.
#   authz_packaging_test.sh BUNDLE_DIR POLICY UNIT HELIXAUTHZ_BINARY
set -uo pipefail
bundle=$1 policy=$2 unit=$3 binary=$4 root=$1/rootfs
passed=0 failed=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else echo "FAILED: $1"; failed=$((failed + 1)); fi
}
if [ "$(id -u)" != 0 ]; then
  echo "SKIPPED: chroot needs root"
  exit 0
fi
mount -t proc proc "$root/proc"
trap 'umount "$root/proc"; rm -f "$root/tmp/policy.json" "$root/tmp/bad.json" "$root/tmp/policy-userns.json"' EXIT
check "helixauthz runs in the rootfs" chroot "$root" /usr/bin/helixauthz help >/dev/null
cp "$policy" "$root/tmp/policy.json"
check "the shipped policy is valid" chroot "$root" /usr/bin/helixauthz validate \
  --policy /tmp/policy.json >/dev/null
userns_policy=$(dirname "$policy")/policy-userns.json
cp "$userns_policy" "$root/tmp/policy-userns.json"
check "the shipped userns policy is valid" chroot "$root" /usr/bin/helixauthz validate \
  --policy /tmp/policy-userns.json >/dev/null
profile=$(cd "$(dirname "$0")/../.." && pwd)/contrib/userns-desktop/seccomp-userns.json
digest=$("$binary" seccomp-digest "$profile")
check "the userns policy pins contrib's seccomp profile ($digest)" \
  grep -qF "\"$digest\"" "$userns_policy"
echo '{"version": 1, "nonsense": true}' >"$root/tmp/bad.json"
out=$(chroot "$root" /usr/bin/helixauthz validate --policy /tmp/bad.json 2>&1)
rc=$?
check "an invalid policy is explained, naming the key" grep -q 'nonsense' <<<"$out"
check "validate exits 1 on an invalid policy" test "$rc" = 1
size_kb=$(du -skx "$root" | cut -f1)
echo "rootfs: $((size_kb / 1024)) MiB"
check "rootfs stays small (under 16 MiB)" test "$size_kb" -lt 16384
check "config.json declares an authorization plugin" python3 - "$bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["interface"]["types"] == ["docker.authz/1.0"]
assert c["linux"]["capabilities"] == []
assert c["network"]["type"] == "none"
mounts = {m["name"]: m for m in c["mounts"]}
assert mounts["policy"]["settable"] == ["source"] and "ro" in mounts["policy"]["options"]
assert mounts["engine"]["destination"] == c["entrypoint"][c["entrypoint"].index("--engine-socket") + 1]
assert c["entrypoint"][c["entrypoint"].index("--policy") + 1].startswith(mounts["policy"]["destination"])
PY

if command -v systemd-analyze >/dev/null; then
  work=$(mktemp -d)
  sed "s#/usr/local/bin/helixauthz#$binary#" "$unit" >"$work/helixauthz.service"
  out=$(systemd-analyze verify "$work/helixauthz.service" 2>&1)
  rc=$?
  [ -n "$out" ] && echo "$out"
  check "systemd-analyze verify exits 0" test "$rc" = 0
  check "systemd-analyze verify prints no warning" test -z "$out"
  check "starts before docker.service" grep -qx 'Before=docker.service' "$unit"
  check "reloads with SIGHUP" grep -q '^ExecReload=.*-HUP' "$unit"
  rm -rf "$work"
else
  echo "systemd-analyze is not installed: unit not verified"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
