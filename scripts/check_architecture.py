#!/usr/bin/env python3
"""Keep ARCHITECTURE.md and the README's settings table true to the code.

  scripts/check-architecture

Fails (exit 1, one line per problem) when:
- a file or folder ARCHITECTURE.md names in backticks (`crates/heron-store/migrations/`,
  `commands/eval.rs`: a path from the repository root, or the tail of one)
  matches nothing in the repository;
- a Rust item it names (`Store::append_audit`, `heron_worker::follow_semantic`,
  `combine::POOLING`) is not defined: the last name must be a function,
  constant, static, type, trait, module or enum variant in the code, inside
  the crate when the first name is a crate (`heron_x::…`), beside an `impl` or
  a definition of the first name when that is a type, in a file or folder of
  that name when it is a module; `Pipeline::classify` after a rename is drift;
- a crate of the workspace is missing from ARCHITECTURE.md's diagram or code map;
- the README's settings table and `heron-core/src/settings.rs` (the table of
  environment variables `Settings::parse` reads) disagree on the variables.

Names of other projects (`ring::aead`) are listed in EXTERNAL below.
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Items of other crates ARCHITECTURE.md names on purpose.
EXTERNAL = {"ring::aead"}
# Backticked strings with a slash that are not paths (routes, URLs, MIME types).
NOT_PATHS = re.compile(r"^(/|https?:|[a-z]+/[a-z0-9.+-]+$)")


def tracked_files():
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    files = [line for line in out.stdout.splitlines() if line]
    folders = set()
    for f in files:
        parts = f.split("/")
        for i in range(1, len(parts)):
            folders.add("/".join(parts[:i]))
    return files, folders


def path_exists(name, files, folders):
    name = name.rstrip("/")
    if name.startswith("../"):
        return True  # outside the repository (the shared corpus)
    if name in folders or name in files:
        return True
    suffix = "/" + name
    return any(f.endswith(suffix) for f in files) or any(d.endswith(suffix) for d in folders)


def rust_sources(files):
    sources = {}
    for f in files:
        if f.endswith(".rs"):
            try:
                sources[f] = (ROOT / f).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    return sources


DEFINITION = r"(?:pub(?:\([a-z]+\))?\s+)?(?:async\s+)?(?:unsafe\s+)?(?:fn|const|static|struct|enum|trait|type|mod)\s+{name}\b"


def defines(text, name):
    if re.search(DEFINITION.format(name=re.escape(name)), text):
        return True
    # An enum variant or a struct field.
    return re.search(rf"^\s+(?:pub\s+)?{re.escape(name)}\s*[({{,:]", text, re.M) is not None


def item_exists(path, sources):
    parts = path.removesuffix("()").split("::")
    last = parts[-1]
    first = parts[0]
    candidates = sources
    if first.startswith("heron_") or first == "heron":
        crate = "crates/" + first.replace("_", "-") + "/"
        candidates = {f: t for f, t in sources.items() if f.startswith(crate)}
        if len(parts) == 2 and any(f.startswith(crate + f"src/{last}") for f in candidates):
            return True  # a module: src/<name>.rs or src/<name>/
    elif first[0].isupper():
        # A type: the name defined in a file with an impl of the type or its definition.
        pattern = re.compile(rf"\b(?:impl(?:<[^>]*>)?\s+(?:[A-Za-z_:]+\s+for\s+)?{first}\b|(?:struct|enum|trait)\s+{first}\b)")
        candidates = {f: t for f, t in sources.items() if pattern.search(t)}
    else:
        # A module: a file or folder of that name.
        candidates = {
            f: t for f, t in sources.items()
            if f.endswith(f"/{first}.rs") or f"/{first}/" in f or re.search(rf"\bmod\s+{first}\b", t)
        }
    return any(defines(text, last) for text in candidates.values())


def check_settings(problems):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    settings = (ROOT / "crates/heron-core/src/settings.rs").read_text(encoding="utf-8")
    table = set()
    for line in readme.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            table.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    declared = set(re.findall(r'^\s*\("([A-Z][A-Z0-9_]+)",', settings, re.M))
    if not declared:
        problems.append("settings.rs: no (\"NAME\", …) table of environment variables found")
        return
    for name in sorted(declared - table):
        problems.append(f"README.md: setting {name} (heron-core/src/settings.rs) is not in the settings table")
    for name in sorted(table - declared):
        problems.append(f"README.md: the settings table names {name}, which heron-core/src/settings.rs does not read")


def main():
    files, folders = tracked_files()
    sources = rust_sources(files)
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    problems = []
    for name in sorted(set(re.findall(r"`([A-Za-z0-9_.][A-Za-z0-9_./-]*/[A-Za-z0-9_./-]*)`", text))):
        if NOT_PATHS.match(name) or "{" in name:
            continue
        if not path_exists(name, files, folders):
            problems.append(f"ARCHITECTURE.md: `{name}` is no file or folder of the repository")
    for item in sorted(set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)+(?:\(\))?)`", text))):
        if item in EXTERNAL:
            continue
        if not item_exists(item, sources):
            problems.append(f"ARCHITECTURE.md: `{item}` names nothing defined in the code")
    crates = sorted(f.split("/")[1] for f in files if re.fullmatch(r"crates/[^/]+/Cargo.toml", f))
    for crate in crates:
        if f"**{crate}**" not in text:
            problems.append(f"ARCHITECTURE.md: crate {crate} has no entry (**{crate}**) in the code map")
        diagram = text.split("## ", 2)[1] if "## " in text else text
        if crate not in diagram:
            problems.append(f"ARCHITECTURE.md: crate {crate} is missing from the diagram")
    check_settings(problems)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s): ARCHITECTURE.md or the README drifted from the code", file=sys.stderr)
        sys.exit(1)
    print(f"ARCHITECTURE.md and the README's settings table match the code ({len(crates)} crates)", file=sys.stderr)


if __name__ == "__main__":
    main()
