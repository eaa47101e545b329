#!/usr/bin/env bash
# Regenerates seccomp-userns.json, the seccomp profile of a user-namespaced desktop, from
# Docker's default profile for the engine version the sandbox host runs.
#
#   contrib/userns-desktop/regenerate-seccomp.sh DEFAULT.json [OUT.json]
#
# DEFAULT.json is moby's profiles/seccomp/default.json at the engine's tag, e.g. from a
# moby checkout: git show v20.10.24:profiles/seccomp/default.json > default.json
#
# The profile is Docker's default list plus one rule that allows four syscalls an engine
# inside the desktop needs and the default refuses:
#   keyctl, add_key, request_key  runc gives each inner container its own session keyring
#                                 (it tolerates ENOSYS from keyctl but not the EPERM the
#                                 default profile answers);
#   pivot_root                    runc enters each inner container's root by pivot_root.
# Nothing else is added: every extra syscall widens what the desktop's root can ask the
# host kernel. After regenerating, pin the new profile in the policy with
# `helixauthz seccomp-digest OUT.json` (docs/userns-desktops.md).
set -euo pipefail
[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 DEFAULT.json [OUT.json]" >&2; exit 2; }
in=$1
out=${2:-$(dirname "$0")/seccomp-userns.json}
python3 - "$in" "$out" <<'PY'
import json, sys

src, dst = sys.argv[1], sys.argv[2]
profile = json.load(open(src))
if profile.get("defaultAction") != "SCMP_ACT_ERRNO" or "syscalls" not in profile:
    sys.exit(f"{src}: not a Docker default seccomp profile (defaultAction, syscalls)")
added = ["add_key", "keyctl", "pivot_root", "request_key"]
for rule in profile["syscalls"]:
    if rule.get("action") == "SCMP_ACT_ALLOW" and not rule.get("args") and \
            not rule.get("includes") and not rule.get("excludes"):
        already = sorted(set(added) & set(rule["names"]))
        if already:
            sys.exit(f"{src}: already allows {', '.join(already)} unconditionally")
profile["syscalls"].append({"names": added, "action": "SCMP_ACT_ALLOW", "args": []})
with open(dst, "w") as f:
    json.dump(profile, f, indent="\t")
    f.write("\n")
print(f"wrote {dst}")
PY
