#!/usr/bin/env python3
"""ci/image-config.py IMAGE [--arch ARCH] [--epoch SECONDS [--base-history N]]
— rewrite a local image's config: its architecture, and its times.

Docker 20.10's classic builder and `docker import` (without BuildKit or the
containerd image store) write two things we cannot ask them not to:
  --arch   `docker import` records the engine's own architecture whatever
           --platform says, so an arm64 root file system imported on an amd64
           machine claims to be amd64 (ci/base-images.sh, the other
           architecture's stand-ins);
  --epoch  `docker build` stamps the clock into the config ("created", each
           history entry) and the id of its throwaway build container: two
           builds of the same layers get two image IDs. This sets every time
           to SECONDS (the commit's, SOURCE_DATE_EPOCH; the first N history
           entries, the base image's own, keep theirs) and drops the build
           container's traces ("container", "container_config"; BuildKit
           never writes them), so that the image ID depends on the layers and
           the Dockerfile only (ci/image.sh).
It reads `docker save`, rewrites the config, and loads it back under the
same tag; the layers are untouched. The replaced image is removed.
"""
import argparse
import datetime
import hashlib
import io
import json
import subprocess
import sys
import tarfile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--arch")
    parser.add_argument("--epoch", type=int)
    parser.add_argument("--base-history", type=int, default=0)
    args = parser.parse_args()

    saved = subprocess.run(["docker", "save", args.image], check=True, capture_output=True).stdout
    src = tarfile.open(fileobj=io.BytesIO(saved))
    manifest = json.load(src.extractfile("manifest.json"))
    old_name = manifest[0]["Config"]
    config = json.load(src.extractfile(old_name))
    if args.arch:
        config["architecture"] = args.arch
    if args.epoch is not None:
        when = datetime.datetime.fromtimestamp(args.epoch, datetime.timezone.utc)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        config["created"] = stamp
        for entry in config.get("history", [])[args.base_history:]:
            entry["created"] = stamp
        config.pop("container", None)
        config.pop("container_config", None)
        config.get("config", {})["Image"] = ""
    config_bytes = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
    new_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    if new_name == old_name:
        return 0
    manifest[0]["Config"] = new_name
    manifest[0]["RepoTags"] = [args.image]

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as dst:
        for member in src.getmembers():
            if member.name in (old_name, "manifest.json", "repositories"):
                continue
            dst.addfile(member, src.extractfile(member) if member.isfile() else None)
        for name, data in ((new_name, config_bytes), ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    subprocess.run(["docker", "load", "-q"], input=out.getvalue(), check=True, stdout=subprocess.DEVNULL)
    # The replaced image, now untagged, goes (unless another tag holds it).
    subprocess.run(["docker", "rmi", "sha256:" + old_name.removesuffix(".json")], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
