#!/usr/bin/env python3
"""Write a CycloneDX 1.5 SBOM of the `heron` binary from `cargo metadata`.

Every crate the binary links (normal dependencies, all platforms: an
over-estimate rather than a gap) with its version, package URL, licence
expression and the SHA-256 Cargo.lock pins. With `--validate`, the result is
checked against the CycloneDX 1.5 JSON schema (cyclonedx-python-lib, from
PyPI; its schemas are bundled, nothing is fetched).

    scripts/sbom.py [--out FILE] [--validate]
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import uuid


def metadata():
    text = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(text)


def lock_checksums():
    """name@version → SHA-256 from Cargo.lock."""
    sums, name, version = {}, None, None
    with open("Cargo.lock", encoding="utf-8") as lock:
        for line in lock:
            line = line.strip()
            if '"' not in line:
                continue
            if line.startswith("name = "):
                name = line.split('"')[1]
            elif line.startswith("version = "):
                version = line.split('"')[1]
            elif line.startswith("checksum = "):
                sums[f"{name}@{version}"] = line.split('"')[1]
    return sums


def shipped(meta, root_name="heron"):
    """Package ids reachable from the binary's package by normal deps."""
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == root_name and p["source"] is None)
    seen, stack, edges = set(), [root], {}
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        children = []
        for dep in nodes[current]["deps"]:
            if any(kind["kind"] is None for kind in dep["dep_kinds"]):
                children.append(dep["pkg"])
                stack.append(dep["pkg"])
        edges[current] = sorted(set(children))
    return root, [packages[i] for i in sorted(seen)], edges, packages


def purl(package):
    return f"pkg:cargo/{package['name']}@{package['version']}"


def build():
    meta = metadata()
    sums = lock_checksums()
    root, shipped_packages, edges, packages = shipped(meta)
    components = []
    for package in shipped_packages:
        if package["id"] == root:
            continue
        component = {
            "type": "library",
            "bom-ref": purl(package),
            "name": package["name"],
            "version": package["version"],
            "purl": purl(package),
        }
        if package.get("license"):
            component["licenses"] = [{"expression": package["license"]}]
        checksum = sums.get(f"{package['name']}@{package['version']}")
        if checksum:
            component["hashes"] = [{"alg": "SHA-256", "content": checksum}]
        if package["source"] is None:
            component["description"] = package.get("description") or ""
        components.append(component)
    root_package = packages[root]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
            "tools": {"components": [{"type": "application", "name": "heron scripts/sbom.py"}]},
            "component": {
                "type": "application",
                "bom-ref": purl(root_package),
                "name": root_package["name"],
                "version": root_package["version"],
                "purl": purl(root_package),
                "licenses": [{"expression": root_package.get("license") or "Apache-2.0"}],
            },
        },
        "components": components,
        "dependencies": [
            {"ref": purl(packages[node]), "dependsOn": [purl(packages[d]) for d in deps]}
            for node, deps in sorted(edges.items())
        ],
    }


def validate(text):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
    if error is not None:
        sys.exit(f"the SBOM does not follow CycloneDX 1.5: {error}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="heron.cdx.json")
    parser.add_argument("--validate", action="store_true")
    args = parser.parse_args()
    bom = build()
    text = json.dumps(bom, indent=1, sort_keys=True)
    if args.validate:
        validate(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    unlicensed = [c["name"] for c in bom["components"] if "licenses" not in c]
    print(f"SBOM: {len(bom['components'])} components in {args.out}"
          + (f"; without a licence field: {', '.join(unlicensed)}" if unlicensed else ""))


if __name__ == "__main__":
    main()
