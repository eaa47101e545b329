#!/usr/bin/env python3
"""Writes a `docker save` archive of a two-layer image without an engine.

    make_archive.py OUT TAG SIZE_BYTES BASE_SAVE_TAR

The image is BASE_SAVE_TAR's first layer (helix-e2e/busybox, so the image can
run `echo`) plus a layer holding /payload.bin, SIZE_BYTES of incompressible
data. Building the archive directly (instead of `docker commit` and
`docker save`) writes the data once, which keeps the benchmark's set-up short.

The payload layer is written straight into the outer tar while its sha256
(the layer's DiffID, which `docker load` checks) is computed, so nothing is
buffered in memory or written twice.
"""

import hashlib
import io
import json
import os
import sys
import tarfile

BLOCK = 512
CHUNK = 1 << 20


def pad(n):
    return (BLOCK - n % BLOCK) % BLOCK


def header(name, size, mode=0o644, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    info.type = kind
    info.mtime = 0
    return info.tobuf(format=tarfile.GNU_FORMAT)


class Hashing:
    """Writes to a file and hashes what it writes."""

    def __init__(self, out):
        self.out = out
        self.sha = hashlib.sha256()
        self.n = 0

    def write(self, b):
        self.out.write(b)
        self.sha.update(b)
        self.n += len(b)


def base_layer(path):
    """(layer tar bytes, diff id) of the first layer of a `docker save` archive."""
    with tarfile.open(path) as t:
        manifest = json.load(t.extractfile("manifest.json"))[0]
        config = json.load(t.extractfile(manifest["Config"]))
        layer = t.extractfile(manifest["Layers"][0]).read()
    diff = config["rootfs"]["diff_ids"][0]
    if "sha256:" + hashlib.sha256(layer).hexdigest() != diff:
        sys.exit(f"make_archive: {path}: first layer does not match its DiffID")
    return layer, diff, config.get("config", {})


def add_bytes(out, name, data):
    out.write(header(name, len(data)))
    out.write(data)
    out.write(b"\0" * pad(len(data)))


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    out_path, tag, size, base_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    base, base_diff, base_config = base_layer(base_path)

    # The payload layer: one tar member, payload.bin, then the end-of-archive blocks.
    inner_header = header("payload.bin", size)
    inner_size = len(inner_header) + size + pad(size) + 2 * BLOCK
    # 64 MiB of random bytes, repeated: incompressible, and neither ext4 nor XFS deduplicates.
    random_block = os.urandom(64 << 20)

    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        out = io.BufferedWriter(f, buffer_size=4 << 20)
        out.write(header("payload/", 0, 0o755, tarfile.DIRTYPE))
        out.write(header("payload/layer.tar", inner_size))
        layer = Hashing(out)
        layer.write(inner_header)
        left = size
        while left > 0:
            for off in range(0, len(random_block), CHUNK):
                if left <= 0:
                    break
                piece = memoryview(random_block)[off:off + min(CHUNK, left)]
                layer.write(piece)
                left -= len(piece)
        layer.write(b"\0" * (pad(size) + 2 * BLOCK))
        assert layer.n == inner_size
        out.write(b"\0" * pad(inner_size))
        payload_diff = "sha256:" + layer.sha.hexdigest()

        out.write(header("base/", 0, 0o755, tarfile.DIRTYPE))
        add_bytes(out, "base/layer.tar", base)
        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {"Env": base_config.get("Env", []), "Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [base_diff, payload_diff]},
        }
        config_bytes = json.dumps(config).encode()
        config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
        add_bytes(out, config_name, config_bytes)
        manifest = [{"Config": config_name, "RepoTags": [tag],
                     "Layers": ["base/layer.tar", "payload/layer.tar"]}]
        add_bytes(out, "manifest.json", json.dumps(manifest).encode())
        out.write(b"\0" * (2 * BLOCK))
        out.flush()
        os.fsync(f.fileno())
    os.rename(tmp, out_path)


if __name__ == "__main__":
    main()
