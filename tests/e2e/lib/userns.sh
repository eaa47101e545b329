# shellcheck shell=bash
#
# User-namespaced desktops for the e2e tests (docs/userns-desktops.md): a remap user with
# its own subordinate id range for a private userns-remapped engine, the desktop image with
# contrib's userns entrypoint, and the flags of the userns desktop shape.
#
#   userns_user_add               # USERNS_USER, USERNS_BASE (host uid of the desktop's root)
#   engine_start outer --userns-remap "$USERNS_USER"
#   image_dind_userns             # helix-e2e/dind-userns on the current engine
#   mapfile -t shape <<<"$(userns_flags)"
#   docker run -d "${shape[@]}" -v d1:/var/lib/docker helix-e2e/dind-userns

USERNS_PROFILE=$E2E_ROOT/contrib/userns-desktop/seccomp-userns.json
USERNS_ENTRYPOINT=$(dirname "$USERNS_PROFILE")/entrypoint

# userns_user_add: adds a system user helix-un-<rand> with 65536 subordinate uids and gids
# at the first free 65536-aligned block at or above 200000 (so it never meets the ranges an
# operator gave dockremap or login users), removed again at exit. The engine's data root
# and helixvol's mounts must be traversable by that range's uids: E2E_DIR is made o+x.
userns_user_add() {
  local tag base=200000 taken
  tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ') || return 1
  USERNS_USER=helix-un-$tag
  taken=$(cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: '{ print $2 ":" $3 }')
  while awk -F: -v b="$base" '$1 < b + 65536 && b < $1 + $2 { hit = 1 } END { exit !hit }' \
    <<<"$taken"; do
    base=$((base + 65536))
  done
  useradd --system --no-create-home --shell /usr/sbin/nologin "$USERNS_USER" || return 1
  e2e_defer userdel "$USERNS_USER"
  usermod --add-subuids "$base-$((base + 65535))" --add-subgids "$base-$((base + 65535))" \
    "$USERNS_USER" || return 1
  USERNS_BASE=$base
  chmod o+x "$E2E_DIR"
  export USERNS_USER USERNS_BASE
  e2e_log "remap user $USERNS_USER: host uids and gids $base-$((base + 65535))"
}

# image_dind_userns: helix-e2e/dind with contrib/userns-desktop/entrypoint as its entrypoint.
image_dind_userns() {
  image_dind || return 1
  docker rm -f helix-e2e-mk-userns >/dev/null 2>&1 || true
  docker create --name helix-e2e-mk-userns helix-e2e/dind >/dev/null || return 1
  docker cp "$USERNS_ENTRYPOINT" helix-e2e-mk-userns:/usr/local/bin/userns-entrypoint || return 1
  docker commit --change 'ENTRYPOINT ["/usr/local/bin/userns-entrypoint"]' \
    helix-e2e-mk-userns helix-e2e/dind-userns >/dev/null || return 1
  docker rm helix-e2e-mk-userns >/dev/null
}

# userns_flags: the userns desktop shape, one flag per line (docs/userns-desktops.md).
userns_flags() {
  printf '%s\n' --cap-add SYS_ADMIN --cap-add NET_ADMIN \
    --security-opt "seccomp=$USERNS_PROFILE" --security-opt apparmor=unconfined \
    --sysctl net.ipv4.ip_forward=1
}

# userns_inner_ready CONTAINER [PREFIX...]: waits until CONTAINER's engine answers; PREFIX
# reaches a container inside another ("docker exec desktop-1" for a level below it).
userns_inner_ready() {
  local c=$1
  shift
  e2e_retry 90 "$@" docker exec "$c" docker version
}
