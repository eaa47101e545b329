#!/usr/bin/env bash
# helixauthz as a managed plugin on a real dockerd: it admits a desktop, refuses the rest,
# refuses being disabled through the engine, and picks up policy edits from its bound
# directory (keeping the last good policy when an edit is invalid).
set -euo pipefail
# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup
engine_start outer
image_busybox
image_dind
helixvol_install_managed helixvol
bb=helix-e2e/busybox
mapfile -t priv <<<"$(privileged_flags)"
helixauthz_policy "$E2E_DIR/policy.json" helix-e2e/dind
helixauthz_install_managed helixauthz "$E2E_DIR/policy.json"
helixauthz_activate helixauthz
policy=$E2E_DIR/helixauthz-policy/policy.json
desktop=(--label helix.session=s1 --memory 2g --cpus 1 --pids-limit 4096)

docker run -d --name desktop-1 "${priv[@]}" "${desktop[@]}" --volume-driver helixvol \
  -v s1:/var/lib/docker helix-e2e/dind >/dev/null
e2e_pass "a desktop-shaped container is admitted by the managed plugin"
assert_fails docker plugin disable -f helixauthz
assert_contains "$E2E_LAST_ERR" "authorization denied by plugin helixauthz" \
  "disabling helixauthz through the engine is refused"
assert_eq true "$(docker plugin inspect --format '{{.Enabled}}' helixauthz)" "it stays enabled"
assert_fails docker run --rm --pid host $bb true
assert_contains "$E2E_LAST_ERR" "authorization denied by plugin helixauthz" \
  "a host-PID container is refused"

# An invalid edit: the last good policy stays in force.
echo '{"version": 1, "privileged": {"images": ["not-an-id"]}}' >"$policy.new"
mv "$policy.new" "$policy"
e2e_retry 30 grep -q 'policy reload failed' "$E2E_DIR/outer/dockerd.log" ||
  e2e_fail "the invalid edit was never read"
docker run -d --name desktop-2 "${priv[@]}" "${desktop[@]/s1/s2}" --volume-driver helixvol \
  -v s2:/var/lib/docker helix-e2e/dind >/dev/null
e2e_pass "after an invalid edit the last good policy still admits desktops"
assert_fails docker run --rm --network host $bb true
e2e_pass "and still refuses the rest"
assert_contains "$(grep 'policy reload failed' "$E2E_DIR/outer/dockerd.log" | tail -n 1)" \
  'keeping the last good policy: /etc/helixauthz/policy.json:1: \"privileged.images[0]\"' \
  "the log says why the edit was not taken, with the line and key"

# A valid edit that allows no privileged image takes effect.
python3 - "$E2E_DIR/policy.json" "$policy.new" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["privileged"]["images"] = []
json.dump(p, open(sys.argv[2], "w"))
PY
mv "$policy.new" "$policy"
refused() {
  ! docker create "${priv[@]}" "${desktop[@]/s1/s3}" --volume-driver helixvol \
    -v s3:/var/lib/docker helix-e2e/dind >/dev/null 2>&1
}
e2e_retry 10 refused || e2e_fail "the edited policy did not take effect"
e2e_pass "a valid edit takes effect within seconds"
docker rm -f desktop-1 desktop-2 >/dev/null
