#!/usr/bin/env bash
# How users get helixvol: `make publish` pushes the bundle (with settings baked
# in as defaults) to a registry, and `docker plugin install` brings it back.
# The registry is Debian's docker-registry on 127.0.0.1, run inside the
# engine's network namespace so dockerd reaches it (and trusts it: 127.0.0.0/8
# is an insecure registry by default).
set -euo pipefail
# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup
command -v docker-registry >/dev/null || e2e_fail "docker-registry is not installed (make deps)"
engine_start outer
image_busybox
netns=$(<"$E2E_DIR/outer/netns")
port=5000
registry=127.0.0.1:$port

cat >"$E2E_DIR/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $E2E_DIR/registry
http:
  addr: $registry
YML
nsenter --net="/run/netns/$netns" docker-registry serve "$E2E_DIR/registry.yml" \
  >"$E2E_DIR/registry.log" 2>&1 </dev/null &
echo $! >"$E2E_DIR/registry.pid"
disown $!
e2e_defer kill "$(<"$E2E_DIR/registry.pid")"
e2e_retry 20 nsenter --net="/run/netns/$netns" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" ||
  e2e_fail "registry did not listen on $registry"
e2e_pass "registry listens on $registry in the engine's network namespace"

build_dir=$(dirname "$(dirname "$HELIXVOL_BUNDLE")")
make -C "$E2E_ROOT" --no-print-directory BUILD_DIR="$build_dir" publish \
  REGISTRY="$registry" VERSION=e2e PLUGIN_SETTINGS="DEFAULT_SIZE=64M" >"$E2E_DIR/publish.log" 2>&1 ||
  { cat "$E2E_DIR/publish.log" >&2; e2e_fail "make publish failed"; }
e2e_pass "make publish pushed $registry/helixvol:e2e"
assert_eq "" "$(docker plugin ls -q)" "publish leaves no plugin behind in the engine"

state=$E2E_DIR/installed-state
helixvol_xfs_state "$state"
docker plugin install --grant-all-permissions --alias helixvol "$registry/helixvol:e2e" \
  state.source="$state" >/dev/null
e2e_defer helixvol_remove_managed "$DOCKER_HOST" helixvol
assert_eq true "$(docker plugin inspect helixvol --format '{{.Enabled}}')" \
  "docker plugin install from the registry enables it"
assert_contains "$(docker plugin inspect helixvol --format '{{json .Settings.Env}}')" \
  '"DEFAULT_SIZE=64M"' "the published settings came along"

docker run --rm --volume-driver helixvol -v fromreg:/data helix-e2e/busybox \
  sh -c 'echo installed > /data/f'
assert_eq installed "$(docker run --rm -v fromreg:/data helix-e2e/busybox cat /data/f)" \
  "the installed plugin serves volumes"
assert_contains "$(docker volume inspect fromreg --format '{{json .Status}}')" '"size":"64MiB"' \
  "with the published DEFAULT_SIZE"
assert_eq "fromreg" "$(ls "$state/volumes")" "in the state directory set at install"
