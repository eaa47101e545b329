# shellcheck shell=bash
#
# What makes a container privileged on this machine (the desktops and dind containers of the
# tests, bench and demo), checked against the current engine. Sourced by harness.sh.
#
#   privileged_flags     the `docker run` flags, one per line

# Capability names by number, as far as dockerd 20.10 knows them (its "ALL" stops at 37).
_E2E_CAPS=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
  LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
  SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE
  SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP
  MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ)

# privileged_flags: prints, one per line, the `docker run` flags that make a container
# privileged on this machine, checked against the current engine (DOCKER_HOST):
# `--privileged` if it can start, else the equivalent set minus the capabilities missing
# from our bounding set (here CAP_SYS_RESOURCE, which is why --privileged fails:
# runc cannot grant it). The answer is cached in $E2E_DIR/privileged-flags. Use it as
#   flags=$(privileged_flags); mapfile -t priv <<<"$flags"; docker run "${priv[@]}" ...
# (one per line because `--device-cgroup-rule 'a *:* rwm'` has spaces).
privileged_flags() {
  e2e_tolerant _privileged_flags
}
_privileged_flags() {
  local cache=$E2E_DIR/privileged-flags
  if [[ -s $cache ]]; then
    cat "$cache"
    return 0
  fi
  image_busybox >&2 || return 1
  local flags=(--privileged) err=$E2E_DIR/.priv.err
  if ! docker run --rm "${flags[@]}" helix-e2e/busybox true >/dev/null 2>"$err"; then
    e2e_log "--privileged cannot start here: $(head -n 1 "$err")"
    local bnd i
    bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
    flags=(--cap-add ALL)
    for i in "${!_E2E_CAPS[@]}"; do
      if (((0x$bnd >> i & 1) == 0)); then
        flags+=(--cap-drop "${_E2E_CAPS[i]}")
      fi
    done
    flags+=(--security-opt seccomp=unconfined --security-opt apparmor=unconfined
      --security-opt systempaths=unconfined --device-cgroup-rule 'a *:* rwm')
    if ! docker run --rm "${flags[@]}" helix-e2e/busybox true >/dev/null 2>"$err"; then
      e2e_log "privileged_flags: neither --privileged nor ${flags[*]} can start a container:"
      cat "$err" >&2
      return 1
    fi
  fi
  rm -f "$err"
  printf '%s\n' "${flags[@]}" >"$cache" || return 1
  cat "$cache"
}
