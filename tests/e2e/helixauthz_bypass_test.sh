#!/usr/bin/env bash
# The second round of bypass classes against helixauthz (host service, the shipped policy)
# on a real dockerd, each in more than one disguise and each judged by its real effect:
# what the victim desktop printed, which containers, volumes and networks exist, which files
# landed where. Next to each, its harmless twin keeps working.
#
# The victim is a desktop (privileged-equivalent, helixvol data root, labels and limits) of
# busybox (with a VOLUME) running `sh` with stdin open: anything that reaches its stdin runs as its root and
# prints to its log. Some containers are made before helixauthz is in force, standing for
# what an earlier policy, or a race, let through.
set -euo pipefail
# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup
engine_start outer
image_busybox
image_dind
helixvol_install_managed helixvol
# A second helixvol, as a host service: dockerd finds it by joining the driver name onto
# /run/docker/plugins, where path spellings ("./NAME") reach it too.
hs=$(helixvol_unique_name)
helixvol_start_host_service "$hs"
bb=helix-e2e/busybox
mapfile -t priv <<<"$(privileged_flags)"
name=$(helixvol_unique_name | sed 's/helixvol/helixauthz-bypass/')
sock=${DOCKER_HOST#unix://}
netns=$(<"$E2E_DIR/outer/netns")

# The victim's image: busybox with a VOLUME, which every desktop of it gets as an anonymous
# volume (a request cannot ask a desktop for a read-write one).
docker create --name base $bb true >/dev/null
docker commit --change 'VOLUME /scratch' --change 'CMD ["sh"]' base helix-e2e/victim >/dev/null
docker rm base >/dev/null
victim_image=helix-e2e/victim
# The shipped policy, the victim image allowed as a desktop image, one loopback port range
# to publish on and one address pool for networks.
helixauthz_policy "$E2E_DIR/policy.json" helix-e2e/dind $victim_image
python3 - "$E2E_DIR/policy.json" "$hs" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["published_ports"] = [{"host_ip": "127.0.0.1", "ports": "18000-18999"}]
p["networks"]["pools"] = ["10.213.0.0/16"]
p["helixvol"]["drivers"] += [sys.argv[2]]
json.dump(p, open(sys.argv[1], "w"), indent=2)
PY
limits=(--memory 1g --cpus 1 --pids-limit 1000)

# Before helixauthz is in force.
docker volume create -d helixvol --label helix.session=v1 -o size=1G v1 >/dev/null
docker volume create --label helix.e2e=prune victim-assets >/dev/null
docker run -d -i --name victim "${priv[@]}" --label helix.session=v1 "${limits[@]}" \
  -v v1:/var/lib/docker --mount type=volume,src=victim-assets,dst=/assets,readonly \
  $victim_image >/dev/null
victim_id=$(docker inspect -f '{{.Id}}' victim)
scratch=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/scratch"}}{{.Name}}{{end}}{{end}}' victim)
assets_dir=$(docker volume inspect -f '{{.Mountpoint}}' victim-assets)
scratch_dir=$(docker volume inspect -f '{{.Mountpoint}}' "$scratch")
docker run -d --name web $bb sleep 600 >/dev/null
docker create --name sidecar --network "container:victim" $bb sh -c 'echo sidecar-ran' >/dev/null
docker create --name stale-writer -v victim-assets:/a $bb sh -c 'echo planted > /a/stale' \
  >/dev/null
docker run -d --name abc123 $bb sleep 600 >/dev/null
helixauthz_start_host_service "$name" "$E2E_DIR/policy.json"
helixauthz_activate "$name"

# denied WHAT CMD...: CMD fails with the plugin's message on the CLI.
denied() { helixauthz_denied "$name" "$@"; }
# victim_ran MARKER: whether the victim's shell printed MARKER (its stdin reached it).
victim_ran() { docker logs victim 2>&1 | grep -q "$1"; }
# raw NAME: sends $E2E_DIR/NAME.req to the engine socket as it is, then "echo NAME" as input;
# prints the answer's status line.
raw() {
  printf 'echo %s\n' "$1" >"$E2E_DIR/$1.in"
  python3 "$E2E_LIB_DIR/raw_http.py" "$sock" "$E2E_DIR/$1.req" "$E2E_DIR/$1.in"
}
attach_head() {
  printf 'POST /v1.41/containers/victim/attach?stream=1&stdout=1 HTTP/1.1\nHost: docker\n'
  printf 'Connection: Upgrade\nUpgrade: tcp\n'
}

e2e_log "class 1: request framing that dockerd and helixauthz read differently"
{ attach_head; printf 'Content-Type: application/x-www-form-urlencoded\nContent-Type: text/plain\n'
  printf 'Transfer-Encoding: chunked\n\n7\r\nstdin=1\r\n0\r\n\r\n'; } >"$E2E_DIR/pwned-twoct.req"
assert_contains "$(raw pwned-twoct)" " 403 " "a chunked form body behind a second Content-Type is refused"
{ attach_head; printf 'Content-Length: 7\nContent-Type: \xc2\xa0application/x-www-form-urlencoded\n\n'
  printf 'stdin=1'; } >"$E2E_DIR/pwned-nbsp.req"
assert_contains "$(raw pwned-nbsp)" " 403 " "a form type behind a Unicode space is refused"
{ attach_head; printf 'Content-Type: application/x-www-form-urlencoded\nContent-Type: application/json\n'
  printf 'Content-Length: 7\n\nstdin=1'; } >"$E2E_DIR/pwned-formjson.req"
assert_contains "$(raw pwned-formjson)" " 403 " "a form body of known length, shown as JSON, is refused"
{ attach_head; printf 'Content-Type: application/x-www-form-urlencoded\nContent-Length: 0\n'
  printf 'Transfer-Encoding: chunked\n\n7\r\nstdin=1\r\n0\r\n\r\n'; } >"$E2E_DIR/pwned-tecl.req"
assert_contains "$(raw pwned-tecl)" " 403 " "chunked with a Content-Length: 0 beside it is refused"
{ printf 'POST /v1.41/containers/victim/attach?stream=1&stdout=1&stdin=0&stdin=1 HTTP/1.1\n'
  printf 'Host: docker\nConnection: Upgrade\nUpgrade: tcp\nContent-Length: 0\n\n'; } \
  >"$E2E_DIR/pwned-repeat.req"
assert_contains "$(raw pwned-repeat)" " 403 " "a repeated stdin parameter is judged at its worst"
sleep 1
for marker in pwned-twoct pwned-nbsp pwned-formjson pwned-tecl pwned-repeat; do
  if victim_ran "$marker"; then
    e2e_fail "the victim ran $marker: stdin reached it"
  fi
done
e2e_pass "none of the disguised attaches reached the victim's shell"
{ printf 'POST /v1.41/containers/victim/attach?stream=1&stdout=1 HTTP/1.1\nHost: docker\n'
  printf 'Connection: Upgrade\nUpgrade: tcp\nContent-Length: 0\n\n'; } >"$E2E_DIR/logs-only.req"
assert_contains "$(raw logs-only)" " 101 " "harmless twin: attaching to a desktop's output still works"
victim_ran logs-only && e2e_fail "an attach without stdin delivered input"
assert_eq hi "$(echo hi | docker run -i --rm $bb cat)" "harmless twin: docker run -i (CLI 28)"
assert_eq hi "$(echo hi | /usr/bin/docker run -i --rm $bb cat)" "harmless twin: docker run -i (CLI 20.10)"
# The container exits after one line, which ends the attach: no timing guess on a slow host.
docker run -d -i --name pipe $bb sh -c 'read -r line; echo "$line"' >/dev/null
printf 'echo-through-attach\n' | timeout -k 5 60 docker attach --sig-proxy=false pipe >/dev/null || true
e2e_retry 30 bash -c 'docker logs pipe | grep -q echo-through-attach' ||
  e2e_fail "harmless twin: docker attach with stdin to an ordinary container"
e2e_pass "harmless twin: docker attach with stdin to an ordinary container"

e2e_log "class 2: a reference judged against one container and acted on against another"
prefix=${victim_id:0:6}
denied "a container named like the desktop's ID prefix is refused" \
  docker run -d --name "$prefix" $bb sleep 600
denied "renaming to an ID-prefix-like name is refused" docker rename web "$prefix"
assert_eq "" "$(docker ps -aq --filter "name=^/$prefix\$")" "no look-alike exists"
assert_eq /web "$(docker inspect -f '{{.Name}}' web)" "web kept its name"
denied "a pre-existing container named like a prefix is an ambiguous reference" \
  docker exec abc123 true
denied "joining a namespace by ID prefix is refused" \
  docker run --rm --network "container:${victim_id:0:12}" $bb true
denied "joining a namespace by an ordinary container's ID prefix is refused (binding)" \
  docker run --rm --pid "container:$(docker inspect -f '{{.Id}}' web | cut -c1-12)" $bb true
denied "volumes from a desktop are refused" docker run --rm --volumes-from victim $bb true
denied "a legacy link to a desktop is refused" docker run --rm --link victim:v $bb true
many=()
for i in $(seq 1 40); do many+=(-v "many-$i:/m$i"); done
denied "a create that needs more than 32 lookups is refused" docker run --rm "${many[@]}" $bb true
assert_contains "$E2E_LAST_ERR" "more than 32 engine lookups" "and says why"
assert_eq "" "$(docker volume ls -q | grep -E '^many-' || true)" "none of its volumes was made"
web_ns=$(docker exec web readlink /proc/self/ns/net)
assert_eq "$web_ns" "$(docker run --rm --network container:web $bb readlink /proc/self/ns/net)" \
  "harmless twin: a compose-style container:<name> network mode joins that container"
assert_eq "$web_ns" "$(docker run --rm --network "container:$(docker inspect -f '{{.Id}}' web)" \
  $bb readlink /proc/self/ns/net)" "harmless twin: container:<full ID> works too"
denied "exec into a container in a desktop's network namespace is refused" \
  docker exec sidecar true
denied "starting a container in a desktop's network namespace is refused" docker start sidecar
assert_eq created "$(docker inspect -f '{{.State.Status}}' sidecar)" "the sidecar never ran"

e2e_log "class 3: a desktop's other volumes"
denied "an ordinary container cannot mount the desktop's read-only extra volume" \
  docker run --rm -v victim-assets:/a $bb sh -c 'echo planted > /a/planted'
denied "nor the desktop's anonymous volume, by its name" \
  docker run --rm -v "$scratch:/s" $bb sh -c 'echo planted > /s/planted'
denied "nor with --mount" docker run --rm --mount "type=volume,src=victim-assets,dst=/a" $bb \
  sh -c 'echo planted > /a/planted'
echo planted >"$E2E_DIR/planted"
# docker cp asks HEAD .../archive first, whose refusal carries no message: judged by effect.
assert_fails docker cp "$E2E_DIR/planted" stale-writer:/a/
denied "starting a container that shares a desktop's volume is refused" docker start stale-writer
for f in "$assets_dir/planted" "$assets_dir/stale" "$scratch_dir/planted"; do
  [[ ! -e $f ]] || e2e_fail "$f was written"
done
e2e_pass "nothing was written into the desktop's volumes"
docker volume create mine >/dev/null
docker create --name carrier -v mine:/m $bb true >/dev/null
docker cp "$E2E_DIR/planted" carrier:/m/
assert_eq planted "$(cat "$(docker volume inspect -f '{{.Mountpoint}}' mine)/planted")" \
  "harmless twin: docker cp into an ordinary container's own volume"

e2e_log "class 4: volume drivers in other spellings"
for spelling in ./helixvol x/../helixvol /helixvol helixvol/; do
  denied "driver spelled $spelling is refused (run)" \
    docker run --rm --volume-driver "$spelling" -v sneak:/d $bb true
  denied "driver spelled $spelling is refused (volume create)" \
    docker volume create -d "$spelling" sneak2
done
denied "a driver name that could be a plugin ID prefix is refused" \
  docker volume create -d "$(docker plugin inspect -f '{{.Id}}' helixvol | cut -c1-8)" sneak3
denied "the reference spelling of helixvol is still helixvol to an ordinary container" \
  docker run --rm --volume-driver docker.io/library/helixvol:latest -v sneak:/d $bb true
# No bind names the driver: the image's VOLUME /scratch would become a helixvol volume.
volumes_before=$(docker volume ls --format '{{.Driver}} {{.Name}}' | sort)
denied "an ordinary container's image volumes cannot reach helixvol by its reference name" \
  docker run -d --name sneak-a --volume-driver docker.io/library/helixvol:latest \
  $victim_image sleep 60
denied "nor the host-service helixvol by a path spelling" \
  docker run -d --name sneak-b --volume-driver "./$hs" $victim_image sleep 60
denied "nor by a longer path" \
  docker run -d --name sneak-c --volume-driver "x/../$hs" $victim_image sleep 60
assert_eq "$volumes_before" "$(docker volume ls --format '{{.Driver}} {{.Name}}' | sort)" \
  "no volume of any driver was made"
assert_eq "" "$(docker volume ls -q | grep -E '^sneak' || true)" "no volume was made"
assert_eq "" "$(docker ps -aq --filter name=sneak)" "no container was made"

e2e_log "gaps"
docker volume create -d helixvol --label helix.session=v2 -o size=1G v2 >/dev/null
denied "a desktop cannot take another session's data root" \
  docker run -d --name thief "${priv[@]}" --label helix.session=v2 "${limits[@]}" \
  -v v1:/var/lib/docker $victim_image
denied "HELIX.SESSION is not helix.session" \
  docker run -d --name thief "${priv[@]}" --label HELIX.SESSION=v2 "${limits[@]}" \
  -v v2:/var/lib/docker $victim_image
denied "a desktop's command is its image's" \
  docker run -d --name thief "${priv[@]}" --label helix.session=v2 "${limits[@]}" \
  -v v2:/var/lib/docker $victim_image sh -c 'echo escaped'
denied "so is its entrypoint" \
  docker run -d --name thief "${priv[@]}" --label helix.session=v2 "${limits[@]}" \
  -v v2:/var/lib/docker --entrypoint /bin/sh $victim_image
denied "and its health check" \
  docker run -d --name thief "${priv[@]}" --label helix.session=v2 "${limits[@]}" \
  -v v2:/var/lib/docker --health-cmd 'echo escaped' $victim_image
denied "swap has a maximum" \
  docker run -d --name thief "${priv[@]}" --label helix.session=v2 --memory 1g \
  --memory-swap 500g --cpus 1 --pids-limit 1000 -v v2:/var/lib/docker $victim_image
assert_eq "" "$(docker ps -aq --filter name=thief)" "no desktop was made by the refused requests"
docker run -d -i --name desktop-2 "${priv[@]}" --label helix.session=v2 "${limits[@]}" \
  -e HELIX_SESSION=v2 -v v2:/var/lib/docker $victim_image >/dev/null
e2e_pass "harmless twin: a desktop on its own session's data root, with its own Env"
denied "docker update cannot lift a desktop's swap" docker update --memory-swap 500g desktop-2
docker update --memory 512m --memory-swap 900m desktop-2 >/dev/null
assert_eq 536870912 "$(docker inspect -f '{{.HostConfig.Memory}}' desktop-2)" \
  "docker update (CLI 28) within the limits changes a desktop"
docker update --memory 300m --memory-swap 600m web >/dev/null
assert_eq 314572800 "$(docker inspect -f '{{.HostConfig.Memory}}' web)" \
  "docker update (CLI 28) changes an ordinary container"
/usr/bin/docker update --cpus 0.5 web >/dev/null
assert_eq 500000000 "$(docker inspect -f '{{.HostConfig.NanoCpus}}' web)" \
  "docker update (CLI 20.10) changes an ordinary container"
denied "publishing on every address is refused" docker run --rm -p 18080:80 $bb true
denied "publishing outside the allowed range is refused" docker run --rm -p 127.0.0.1:8080:80 $bb true
denied "publishing every exposed port is refused" docker run --rm -P --expose 80 $bb true
docker run -d --name httpd -p 127.0.0.1:18080:80 $bb sh -c \
  'mkdir -p /www && echo served > /www/index.html && httpd -f -p 80 -h /www' >/dev/null
e2e_retry 10 bash -c "nsenter --net=/run/netns/$netns curl -sf http://127.0.0.1:18080/ | grep -q served" ||
  e2e_fail "harmless twin: a port published on an allowed address does not answer"
e2e_pass "harmless twin: a port published on an allowed address answers"
denied "a subnet outside the pools is refused" docker network create --subnet 10.99.0.0/24 out
denied "a link-local subnet is refused" docker network create --subnet 169.254.0.0/16 ll
denied "IPv6 is refused" docker network create --ipv6 --subnet fd00:1::/64 v6
for n in out ll v6; do
  ! docker network inspect "$n" >/dev/null 2>&1 || e2e_fail "network $n was made"
done
e2e_pass "no network was made"
docker network create --subnet 10.213.5.0/24 inpool >/dev/null
assert_eq 10.213.5.0/24 "$(docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' inpool)" \
  "harmless twin: a subnet within the pools"
host_id=$(docker network inspect -f '{{.Id}}' host)
denied "the host network by ID is refused" docker run --rm --network "${host_id:0:12}" $bb true
denied "connecting to the host network by ID is refused" docker network connect "${host_id:0:12}" web

# One rule for removing volumes: removal and prune alike, and dockerd keeps what any
# container (running or stopped) still references.
docker stop victim >/dev/null
docker volume create --label helix.e2e=prune loose >/dev/null
docker volume prune -f --filter label=helix.e2e=prune >/dev/null
assert_fails docker volume inspect loose
e2e_pass "volume prune removes an unused volume"
docker volume inspect victim-assets >/dev/null
e2e_pass "and keeps the stopped desktop's volume"
assert_fails docker volume rm v1
assert_contains "$E2E_LAST_ERR" "in use" "a stopped desktop's data root cannot be removed"

audit=$(grep -c '"decision":"deny"' "$E2E_DIR/$name.log" || true)
((audit > 20)) && e2e_pass "every deny is in the audit log ($audit lines)"
docker rm -f victim desktop-2 web httpd pipe carrier sidecar stale-writer abc123 >/dev/null
