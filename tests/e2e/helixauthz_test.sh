#!/usr/bin/env bash
# helixauthz as a host service on a real dockerd, with the shipped policy (plus the desktop
# image's ID): a desktop-shaped container runs; the known ways around the policy are refused
# with the plugin's message reaching the CLI; dangerous requests in disguise sent raw to the
# engine socket are refused and create nothing, while a harmless one in the same disguise
# works; helixvol preload works under the policy.
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
mapfile -t shape <<<"$(helixvol_preload_shape)"
name=$(helixvol_unique_name | sed 's/helixvol/helixauthz/')
helixauthz_policy "$E2E_DIR/policy.json" helix-e2e/dind
# The shipped policy refuses image export (GET /images/get) to ordinary callers, so preload
# under it takes archives (or saves from another engine, --source-host).
docker save $bb >"$E2E_DIR/busybox.tar"
helixauthz_start_host_service "$name" "$E2E_DIR/policy.json"
helixauthz_activate "$name"

# What the shipped policy asks of a desktop, besides its image and privileges.
desktop=(--label helix.session=s1 --memory 2g --cpus 1 --pids-limit 4096)

# A desktop: the equivalent of --privileged, a helixvol data root, labels and limits.
docker volume create -d helixvol --label helix.session=s1 -o from= -o size=2G s1 >/dev/null
docker run -d --name desktop-1 "${priv[@]}" "${desktop[@]}" -v s1:/var/lib/docker \
  helix-e2e/dind >/dev/null
e2e_retry 60 bash -c 'docker logs desktop-1 2>&1 | grep -q "API listen on"' ||
  e2e_fail "the desktop's inner engine did not start"
e2e_pass "a desktop-shaped container is admitted and its engine runs"

# denied WHAT CMD...: CMD fails, and the plugin's message reaches the CLI.
denied() { helixauthz_denied "$name" "$@"; }
denied "a privileged container from another image is refused" \
  docker run --rm "${priv[@]}" "${desktop[@]}" -v s2:/var/lib/docker --volume-driver helixvol $bb true
denied "a bind of the docker socket is refused" \
  docker run --rm -v /var/run/docker.sock:/var/run/docker.sock $bb true
denied "a host-network container is refused" docker run --rm --network host $bb true
denied "a local volume bound to a host path is refused" \
  docker volume create -o type=none -o o=bind -o device=/etc hostetc
denied "exec into a desktop is refused" docker exec desktop-1 true
# docker cp asks HEAD .../archive first, and a HEAD answer carries no message: the CLI
# fails, and the upload itself, sent raw, is refused with the plugin's words.
assert_fails docker cp "$E2E_DIR/policy.json" desktop-1:/tmp/
tar -C "$E2E_DIR" -cf "$E2E_DIR/upload.tar" policy.json
upload=$(curl -s -w ' %{http_code}' --unix-socket "${DOCKER_HOST#unix://}" -X PUT \
  -H 'Content-Type: application/x-tar' --data-binary "@$E2E_DIR/upload.tar" \
  'http://docker/v1.41/containers/desktop-1/archive?path=/tmp')
assert_contains "$upload" "helixauthz: PUT /containers/desktop-1/archive" \
  "copying into a desktop is refused"
assert_contains "$upload" " 403" "with 403 Forbidden"
denied "disabling a plugin through the engine is refused" docker plugin disable -f helixvol
denied "an ordinary container cannot mount a desktop's data root" \
  docker run --rm -v s1:/data $bb true
assert_contains "$(docker plugin ls --format '{{.Name}} {{.Enabled}}')" "helixvol:latest true" \
  "helixvol is still enabled"

# Raw requests in disguise, straight to the engine socket.
sock=${DOCKER_HOST#unix://}
containers_before=$(docker ps -aq | wc -l)
# raw METHOD PATH [CURL_ARGS...]: prints the HTTP status; the answer is in $E2E_DIR/raw.out.
raw() {
  local method=$1 path=$2
  shift 2
  curl -s -o "$E2E_DIR/raw.out" -w '%{http_code}' --unix-socket "$sock" -X "$method" \
    "http://docker$path" "$@"
}
json=(-H 'Content-Type: application/json')
evil_binds='["/var/run/docker.sock:/var/run/docker.sock"]'
assert_eq 403 "$(raw POST /v1.41/containers/create "${json[@]}" \
  -d "{\"image\":\"$bb\",\"hostconfig\":{\"binds\":$evil_binds}}")" \
  "lowercase keys do not hide a socket bind"
assert_eq 403 "$(raw POST /v1.41/containers/create "${json[@]}" \
  -d "{\"Image\":\"$bb\",\"HostConfig\":{\"Binds\":[]},\"HostConfig\":{\"Binds\":$evil_binds}}")" \
  "duplicate keys are refused"
assert_eq 403 "$(raw POST /v1.41/containers/create "${json[@]}" \
  -d "{\"Image\":\"$bb\",\"Binds\":$evil_binds}")" \
  "HostConfig fields at the top level of a create are refused"
assert_eq 403 "$(raw POST /v1.41/containers/create "${json[@]}" -H 'Transfer-Encoding: chunked' \
  -d "{\"Image\":\"$bb\",\"HostConfig\":{\"Binds\":$evil_binds}}")" \
  "a chunked create (its body unseen by the plugin) is refused"
assert_eq 403 "$(raw POST /containers/create "${json[@]}" \
  -d "{\"Image\":\"$bb\",\"HostConfig\":{\"Binds\":$evil_binds}}")" \
  "an unversioned path does not hide a socket bind"
assert_eq 403 "$(raw POST /v1.23/containers/create "${json[@]}" -d "{\"Image\":\"$bb\"}")" \
  "an old API version is refused"
assert_contains "$(cat "$E2E_DIR/raw.out")" "1.23" "and the message names the version"
assert_eq 403 "$(raw POST '/v1.41/containers%2Fcreate' "${json[@]}" -d "{\"Image\":\"$bb\"}")" \
  "an encoded slash is refused"
assert_eq "$containers_before" "$(docker ps -aq | wc -l)" "the refused requests created nothing"

# The same disguises on harmless requests.
assert_eq 201 "$(raw POST '/v1.41/containers/create?name=harmless' "${json[@]}" \
  -d "{\"image\":\"$bb\",\"cmd\":[\"true\"]}")" "a harmless create with lowercase keys works"
docker rm harmless >/dev/null
assert_eq 200 "$(raw GET /containers/json)" "an unversioned read works"
assert_eq 200 "$(raw GET '/v1.41/containers/json?all=1&filters=%7B%7D')" \
  "an escaped query works"

# helixvol preload under the shipped policy: no hole needed.
"$HELIXVOL_BINARY" preload --name golden --engine-image helix-e2e/dind "${shape[@]}" \
  --size 2G --archive "$E2E_DIR/busybox.tar" --label helix.session=preload --memory 2G --cpus 1 \
  --pids-limit 4096 >"$E2E_DIR/preload.out" ||
  { cat "$E2E_DIR/preload.out"; e2e_fail "preload under helixauthz failed"; }
assert_contains "$(cat "$E2E_DIR/preload.out")" 'done: snapshot "golden"' \
  "helixvol preload works under the shipped policy"
docker volume create -d helixvol --label helix.session=s1 -o from=golden s3 >/dev/null
docker run -d --name desktop-3 "${priv[@]}" "${desktop[@]}" -v s3:/var/lib/docker \
  helix-e2e/dind >/dev/null
e2e_retry 60 bash -c 'docker logs desktop-3 2>&1 | grep -q "API listen on"' ||
  e2e_fail "the session's inner engine did not start"
e2e_pass "a session cloned from the preloaded snapshot starts under the policy"

# The policy-testing examples in docs/helixauthz.md, decided by `helixauthz check` with this
# engine for lookups, as the running plugin decides them.
examples=$E2E_ROOT/docs/examples/authz
check() {
  "$HELIXAUTHZ_BINARY" check --policy "$E2E_DIR/policy.json" --engine-socket "$sock" "$@"
}
assert_eq '{"Allow":true}' "$(check "$examples/create-desktop.json")" \
  "check allows the example desktop"
for example in create-docker-sock create-lowercase-disguise exec-privileged plugin-disable; do
  assert_fails check "$examples/$example.json"
  assert_contains "$E2E_LAST_OUT" '"Allow":false,"Msg":"helixauthz: ' "check denies $example"
done
assert_fails check /nonexistent.json
assert_contains "$E2E_LAST_ERR" 'cannot read "/nonexistent.json"' "check names a missing file"

kill -HUP "$(cat "$E2E_DIR/$name.pid")"
e2e_retry 10 grep -q 'SIGHUP: reloading' "$E2E_DIR/$name.log" || e2e_fail "no reload on SIGHUP"
e2e_retry 10 grep -q 'policy reloaded from' "$E2E_DIR/$name.log" || e2e_fail "SIGHUP did not reload"
assert_fails docker run --rm --network host $bb true
e2e_pass "SIGHUP reloads the policy and it stays in force"

audit=$(grep -c '"decision":"deny"' "$E2E_DIR/$name.log" || true)
((audit > 0)) && e2e_pass "every deny is in the audit log ($audit lines)"
docker rm -f desktop-1 desktop-3 >/dev/null
