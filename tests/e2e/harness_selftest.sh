#!/usr/bin/env bash
# Proves the e2e harness works end to end on this machine:
#   * a private engine runs busybox containers;
#   * a second engine, with its own explicitly started containerd, runs beside it, is
#     crashed (SIGKILL with a container running) and is still cleaned up completely;
#   * a dind container started with privileged_flags runs an inner engine that loads an
#     image from the outer one and runs it (and we report its storage driver);
#   * engine_stop leaves no process, mount, network namespace or cgroup behind, survives a
#     half-failed start, is idempotent, and the host's links are untouched.
# Prints "N passed, M failed" last; exits non-zero on any failure.
set -euo pipefail

# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup

host_links_before=$(ip -o link show | awk -F': ' '{print $2}')

# --- one engine, one busybox container -------------------------------------------------------
engine_start outer
image_busybox
assert_eq hello "$(docker run --rm helix-e2e/busybox echo hello)" \
  "busybox runs on the private engine"

outer_containerd=$(engine_pids outer | while read -r pid; do
  tr '\0' ' ' <"/proc/$pid/cmdline"; echo; done | grep '^containerd ' || true)
assert_contains "$outer_containerd" "--config $E2E_DIR/outer/exec/containerd/containerd.toml" \
  "outer engine has its own managed containerd under its exec-root"
assert_contains "$(ip netns exec "$(<"$E2E_DIR/outer/netns")" ip -o link show)" docker0 \
  "docker0 lives in the engine's network namespace"
assert_eq "$host_links_before" "$(ip -o link show | awk -F': ' '{print $2}')" \
  "host links unchanged while the engine runs"

# --- a second engine at the same time, own containerd forced, then crashed ---------------------
E2E_OWN_CONTAINERD=1 engine_start second
image_busybox
docker run -d --name sleeper helix-e2e/busybox sleep 600 >/dev/null
assert_eq running "$(docker inspect --format '{{.State.Status}}' sleeper)" \
  "second engine runs containers"
assert_eq "" "$(docker -H "$(engine_host outer)" ps -aq --filter name=sleeper)" \
  "engines do not see each other's containers"
# A crash leaves the shim, the container, its mounts and cgroups behind for engine_stop.
kill -KILL "$(<"$E2E_DIR/second/harness.pid")" "$(<"$E2E_DIR/second/containerd.harness.pid")"
engine_stop second
assert_eq "" "$(e2e_leftovers second)" "nothing left of the crashed engine"

# --- a half-made engine is still torn down ----------------------------------------------------
assert_fails engine_start broken --no-such-flag
assert_contains "$E2E_LAST_ERR" "unknown flag: --no-such-flag" "failed start explains itself"
engine_stop broken
assert_eq "" "$(e2e_leftovers broken)" "nothing left of the failed engine"
engine_use outer

# --- an inner engine ---------------------------------------------------------------------------
priv_text=$(privileged_flags)
mapfile -t priv <<<"$priv_text"
e2e_log "privileged flags: ${priv[*]}"
image_dind
docker volume create helix-e2e-inner-lib >/dev/null
docker run -d "${priv[@]}" --name inner -v helix-e2e-inner-lib:/var/lib/docker \
  helix-e2e/dind >/dev/null
if ! e2e_retry 60 docker exec inner docker version; then
  docker logs inner 2>&1 | tail -n 30 >&2
  e2e_fail "inner engine did not answer within 60 s"
fi
e2e_pass "inner engine answers"
docker save helix-e2e/busybox | docker exec -i inner docker load >/dev/null
assert_eq nested "$(docker exec inner docker run --rm helix-e2e/busybox echo nested)" \
  "inner engine runs a container"
inner_driver=$(docker exec inner docker info --format '{{.Driver}}')
e2e_log "inner storage driver: $inner_driver"
assert_eq overlay2 "$inner_driver" "inner engine uses overlay2 on a local volume"
docker rm -f inner >/dev/null
docker volume rm helix-e2e-inner-lib >/dev/null

# --- everything goes away --------------------------------------------------------------------
engine_stop outer
engine_stop outer
e2e_pass "engine_stop is idempotent"
assert_eq "" "$(e2e_leftovers)" "no processes, mounts, netns or cgroups left"
assert_eq "$host_links_before" "$(ip -o link show | awk -F': ' '{print $2}')" \
  "host links unchanged after the run"
