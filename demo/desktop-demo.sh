#!/usr/bin/env bash
# The helixvol scenario on a real, private Docker engine: install the plugin
# from the offline bundle, create a desktop's data root, start a desktop-shaped
# container (an inner Docker engine) on it, run a container inside, and show
# that the data root is exclusive. Tears everything down at the end.
#
#   demo/desktop-demo.sh   (make demo builds first and runs this)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/tests/e2e/lib/engine.sh"
source "$root/tests/e2e/lib/helixvol.sh"

say() { printf '\n== %s\n' "$*"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

e2e_skip_unless_dockerd_can_run
e2e_init
say "starting a private dockerd ($(dockerd --version | cut -d, -f1)) in its own network namespace"
engine_start demo
image_busybox
image_dind

say "installing helixvol as a managed plugin from $HELIXVOL_BUNDLE"
helixvol_install_managed helixvol
docker plugin ls

say "creating the desktop's data root: docker volume create -d helixvol -o size=10G desktop-1"
t=$(date +%s%N)
docker volume create -d helixvol -o size=10G desktop-1 >/dev/null
echo "created in $(ms_since "$t") ms"
docker volume inspect desktop-1 --format '{{json .Status}}'

flags=$(privileged_flags)
mapfile -t priv <<<"$flags"
say "starting the desktop: an inner Docker engine with /var/lib/docker on desktop-1"
echo "docker run -d ${priv[*]} -v desktop-1:/var/lib/docker helix-e2e/dind"
t=$(date +%s%N)
docker run -d "${priv[@]}" --name desktop-1 -v desktop-1:/var/lib/docker helix-e2e/dind >/dev/null
e2e_retry 90 docker exec desktop-1 docker version || e2e_fail "inner engine did not start"
echo "inner engine answered after $(ms_since "$t") ms"
docker exec desktop-1 docker info --format \
  'inner engine: storage driver {{.Driver}}, {{range .DriverStatus}}{{index . 0}}: {{index . 1}}; {{end}}'
docker exec desktop-1 sh -c 'grep " /var/lib/docker " /proc/mounts'

say "running a container inside the desktop"
docker save helix-e2e/busybox | docker exec -i desktop-1 docker load
t=$(date +%s%N)
docker exec desktop-1 docker run --rm helix-e2e/busybox sh -c \
  'echo "hello from a container inside desktop-1 ($(uname -r))"'
echo "inner container ran in $(ms_since "$t") ms"

say "a second desktop asking for the same data root is refused"
if docker run --rm -v desktop-1:/var/lib/docker helix-e2e/busybox true 2>"$E2E_DIR/err"; then
  e2e_fail "a second container got the data root"
fi
cat "$E2E_DIR/err"

say "the data root while the desktop runs"
docker volume inspect desktop-1 --format '{{json .Status}}'

say "tearing down"
docker rm -f desktop-1 >/dev/null
docker volume rm desktop-1 >/dev/null
echo "loop devices left on the pool: $(helixvol_loops_for "$E2E_DIR/helixvol-state" | wc -l)"
e2e_pass "demo finished"
