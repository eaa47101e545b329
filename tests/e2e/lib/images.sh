# shellcheck shell=bash
#
# Offline test images, imported into the current engine (DOCKER_HOST). Sourced by harness.sh.
#
#   image_busybox   helix-e2e/busybox:latest  busybox-static and its applets; CMD ["sh"]
#   image_dind      helix-e2e/dind:latest     the host's dockerd, containerd, runc, docker CLI,
#                                             iptables and their libraries; the entrypoint
#                                             makes /sys and the cgroups writable, then runs
#                                             dockerd
#
# No registry is reachable, so both are `docker import`s of folders assembled from host files.
# The folders are built once and kept as tarballs in E2E_CACHE_DIR (default
# /tmp/helix-e2e-cache), named by a checksum of every input file and of this script, so a
# new dockerd or a changed recipe builds afresh. Importing into each new engine is cheap.
#
# Run dind with the flags from privileged_flags and a volume on /var/lib/docker (the image
# declares one, so an anonymous volume is used if you give none): overlay2 needs a
# non-overlay backing filesystem. Move images in with
#   docker save helix-e2e/busybox | docker exec -i inner docker load

E2E_CACHE_DIR=${E2E_CACHE_DIR:-/tmp/helix-e2e-cache}
_E2E_IMAGES_SCRIPT=$E2E_LIB_DIR/images.sh

# Binaries the inner engine needs, at their host paths. The docker CLI is Debian's 20.10
# one, the exact match of the dockerd beside it (the 28.x CLI in /usr/local/bin would
# also do: it negotiates API 1.41).
_E2E_DIND_BINARIES=(/usr/sbin/dockerd /usr/bin/containerd /usr/bin/containerd-shim-runc-v2
  /usr/sbin/runc /usr/bin/docker-init /usr/sbin/docker-proxy /usr/bin/docker)
_E2E_XTABLES_DIR=/usr/lib/x86_64-linux-gnu/xtables
_E2E_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# image_busybox: imports helix-e2e/busybox:latest unless the engine already has it.
image_busybox() {
  e2e_tolerant _image_busybox
}
_image_busybox() {
  _e2e_import helix-e2e/busybox:latest busybox _e2e_build_busybox \
    --change 'CMD ["sh"]'
}

# image_dind: imports helix-e2e/dind:latest unless the engine already has it.
image_dind() {
  e2e_tolerant _image_dind
}
_image_dind() {
  _e2e_import helix-e2e/dind:latest dind _e2e_build_dind \
    --change 'ENTRYPOINT ["/usr/local/bin/dind-entrypoint"]' \
    --change 'VOLUME /var/lib/docker'
}

# _e2e_import REF KIND BUILDER [IMPORT_FLAGS...]: imports the cached tarball of KIND as REF,
# running BUILDER ROOTFS first when the cache has no tarball for the current inputs.
_e2e_import() {
  local ref=$1 kind=$2 builder=$3
  shift 3
  if docker image inspect "$ref" >/dev/null 2>&1; then
    return 0
  fi
  _e2e_ensure_busybox_static || return 1
  local key tarball
  key=$(_e2e_cache_key "$kind") || return 1
  tarball=$E2E_CACHE_DIR/$kind-$key.tar
  if [[ ! -f $tarball ]]; then
    e2e_log "building $kind rootfs (cache miss: $tarball)"
    mkdir -p "$E2E_CACHE_DIR" || return 1
    local work
    work=$(mktemp -d "$E2E_CACHE_DIR/.build-$kind.XXXXXX") || return 1
    if ! "$builder" "$work/rootfs" ||
      ! tar --numeric-owner -C "$work/rootfs" -cf "$work/rootfs.tar" .; then
      e2e_log "building the $kind rootfs failed"
      rm -rf "$work"
      return 1
    fi
    # A rename, so concurrent runs never import a half-written tarball.
    mv -f "$work/rootfs.tar" "$tarball" && rm -rf "$work" || return 1
    # Tarballs of older inputs are dead weight (200 MB for dind); an hour's grace leaves
    # one a concurrent run may be importing.
    find "$E2E_CACHE_DIR" -maxdepth 1 -name "$kind-*.tar" ! -name "${tarball##*/}" \
      -mmin +60 -delete
  fi
  e2e_log "importing $ref from $tarball"
  docker import --change "ENV PATH=$_E2E_PATH" "$@" "$tarball" "$ref" >/dev/null
}

# _e2e_cache_key KIND: checksum of the files KIND is built from, and of this recipe.
_e2e_cache_key() {
  local files=(/bin/busybox "$_E2E_IMAGES_SCRIPT")
  if [[ $1 == dind ]]; then
    local multi
    multi=$(_e2e_xtables_multis) || return 1
    # shellcheck disable=SC2206 # paths without spaces, one per line
    files+=("${_E2E_DIND_BINARIES[@]}" $multi "$E2E_LIB_DIR/dind-entrypoint"
      "$E2E_ROOT/contrib/helix-preload")
  fi
  sha256sum "${files[@]}" | sha256sum | cut -c1-16
}

# _e2e_ensure_busybox_static: installs busybox-static when /bin/busybox is missing or dynamic.
_e2e_ensure_busybox_static() {
  if [[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1; then
    return 0
  fi
  e2e_log "installing busybox-static"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  "${apt[@]}" install -y busybox-static >/dev/null 2>&1 ||
    { "${apt[@]}" update >/dev/null 2>&1 && "${apt[@]}" install -y busybox-static >/dev/null; } || {
    e2e_log "cannot install busybox-static"
    return 1
  }
}

# _e2e_install_file SRC ROOTFS [DEST]: copies SRC (following symlinks) to ROOTFS/DEST
# (default: SRC's own path). Removes the destination first: a busybox applet link there is
# absolute and would otherwise make cp overwrite the HOST's /bin/busybox.
_e2e_install_file() {
  local src=$1 rootfs=$2 dest=${3:-$1}
  mkdir -p "$rootfs$(dirname "$dest")" &&
    rm -f "$rootfs$dest" &&
    cp -L --preserve=mode "$src" "$rootfs$dest"
}

# _e2e_build_busybox ROOTFS: a minimal root filesystem with busybox and its applet links.
_e2e_build_busybox() {
  local rootfs=$1 d
  for d in bin sbin usr/bin usr/sbin usr/local/bin etc root dev proc sys run tmp var/lib; do
    mkdir -p "$rootfs/$d" || return 1
  done
  chmod 1777 "$rootfs/tmp" &&
    ln -s ../run "$rootfs/var/run" &&
    _e2e_install_file /bin/busybox "$rootfs" &&
    chroot "$rootfs" /bin/busybox --install -s || return 1
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/:/bin/false' \
    >"$rootfs/etc/passwd" &&
    printf '%s\n' 'root:x:0:' 'docker:x:999:' 'nogroup:x:65534:' >"$rootfs/etc/group" &&
    echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
}

# _e2e_xtables_multis: the xtables multi-call binaries iptables resolves to on the host.
_e2e_xtables_multis() {
  local multi
  for multi in /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi; do
    [[ -x $multi ]] && echo "$multi"
  done
  [[ -x $(readlink -f "$(command -v iptables)") ]] || {
    e2e_log "iptables is not installed"
    return 1
  }
}

# _e2e_build_dind ROOTFS: busybox plus the host's engine binaries and their libraries.
_e2e_build_dind() {
  local rootfs=$1 bin
  _e2e_build_busybox "$rootfs" || return 1
  local elves=()
  for bin in "${_E2E_DIND_BINARIES[@]}" $(_e2e_xtables_multis); do
    _e2e_install_file "$bin" "$rootfs" || return 1
    elves+=("$bin")
  done
  # iptables names as Debian's alternatives resolve them here (nft or legacy), pointing at
  # the multi binary copied above.
  local name target
  for name in /usr/sbin/ip{,6}tables{,-nft,-legacy}{,-save,-restore}; do
    target=$(readlink -f "$name" 2>/dev/null) || continue
    [[ $target == /usr/sbin/xtables-*-multi && -x $target ]] || continue
    rm -f "$rootfs$name" && ln -s "$(basename "$target")" "$rootfs$name" || return 1
  done
  # Extensions iptables dlopens: not in any ldd output, so copied whole.
  mkdir -p "$rootfs$_E2E_XTABLES_DIR" &&
    cp -a "$_E2E_XTABLES_DIR/." "$rootfs$_E2E_XTABLES_DIR/" || return 1
  elves+=("$_E2E_XTABLES_DIR"/*.so)

  # Shared libraries and the loader, at the paths the binaries ask for.
  local lib
  for lib in $(ldd "${elves[@]}" 2>/dev/null |
    awk '/^\t/ { if ($2 == "=>" && $3 ~ /^\//) print $3; else if ($1 ~ /^\//) print $1 }' |
    sort -u); do
    _e2e_install_file "$lib" "$rootfs" || return 1
  done
  _e2e_install_file /etc/protocols "$rootfs" &&
    install -m 0755 "$E2E_LIB_DIR/dind-entrypoint" "$rootfs/usr/local/bin/dind-entrypoint" ||
    return 1
  install -m 0755 "$E2E_ROOT/contrib/helix-preload" \
    "$rootfs/usr/local/bin/helix-preload" || return 1
  # Smoke test: every binary must at least load inside the new root.
  for bin in /usr/sbin/dockerd /usr/bin/containerd /usr/sbin/runc /usr/bin/docker \
    /usr/sbin/iptables; do
    if ! chroot "$rootfs" "$bin" --version >/dev/null 2>&1; then
      e2e_log "$bin does not run inside the dind rootfs"
      return 1
    fi
  done
}
