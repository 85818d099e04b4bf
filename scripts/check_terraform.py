#!/usr/bin/env python3
"""Check deploy/terraform beyond what checkov's policies look at.

- every file parses as HCL2 (python-hcl2, the parser checkov uses too);
- every `var.X`, `local.X`, `module.X`, resource and data source referred
  to is declared in the module (there is no `terraform validate` here: the
  terraform binary is not on any package registry this project installs
  from);
- every Heron setting the module hands to the ConfigMap (`heron_config`)
  is one Heron reads, and the secrets it makes are the Secret's keys the
  pods mount (deploy/k8s/secret.example.yaml);
- the pods' IAM role trusts the service account the manifests really run
  as: the module's `namespace` and `service_account` defaults are the
  kustomization's namespace and the ServiceAccount every Deployment names.

Exit status 1 with one line per problem.
"""
import glob
import os
import re
import sys

import hcl2

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODULE = os.path.join(ROOT, "deploy", "terraform")
SETTINGS = os.path.join(ROOT, "crates", "heron-core", "src", "settings.rs")


def main():
    problems = []
    declared = {"var": set(), "local": set(), "module": set(), "resource": set(), "data": set()}
    texts = {}
    defaults = {}
    for path in sorted(glob.glob(os.path.join(MODULE, "*.tf"))):
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        texts[name] = text
        try:
            parsed = hcl2.loads(text)
        except Exception as error:  # the parser raises several kinds
            problems.append(f"{name}: does not parse: {error}")
            continue
        for block in parsed.get("variable", []):
            declared["var"].update(strip(k) for k in block)
            defaults.update({strip(k): first(v.get("default")) for k, v in block.items()})
        for block in parsed.get("locals", []):
            declared["local"].update(strip(k) for k in block)
        for block in parsed.get("module", []):
            declared["module"].update(strip(k) for k in block)
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for type_name, instances in block.items():
                    # {type: {name: body}}; older parser versions wrap it in a list
                    for instance in instances if isinstance(instances, list) else [instances]:
                        declared[kind].update(f"{strip(type_name)}.{strip(i)}" for i in instance)
    if not texts:
        problems.append("deploy/terraform has no .tf files")

    for name, text in texts.items():
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        for kind in ("var", "local", "module"):
            for used in set(re.findall(rf"\b{kind}\.([a-z0-9_]+)", code)):
                if used not in declared[kind]:
                    problems.append(f"{name}: {kind}.{used} is not declared")
        for used in set(re.findall(r"\bdata\.([a-z0-9_]+\.[a-z0-9_]+)", code)):
            if used not in declared["data"]:
                problems.append(f"{name}: data.{used} is not declared")
        for used in set(re.findall(r"(?<![.\w])((?:aws|random)_[a-z0-9_]+\.[a-z0-9_]+)", code)):
            if used not in declared["resource"] and not used.endswith(".json"):
                problems.append(f"{name}: resource {used} is not declared")

    everything = "\n".join(texts.values())
    for variable in sorted(declared["var"]):
        if f"var.{variable}" not in everything:
            problems.append(f"variable {variable} is declared but never used")

    with open(SETTINGS, encoding="utf-8") as handle:
        settings = handle.read()
    outputs = texts.get("outputs.tf", "")
    block = re.search(r'output "heron_config" \{.*?value = \{(.*?)\n  \}', outputs, re.S)
    if not block:
        problems.append("outputs.tf: no heron_config output")
    else:
        for key in re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*=", block.group(1), re.M):
            if key.startswith(("AWS_", "OTEL_")):
                continue
            base = key[: -len("_FILE")] if key.endswith("_FILE") else key
            if f'"{key}"' not in settings and f'"{base}"' not in settings:
                problems.append(f"outputs.tf: heron_config sets {key}, which Heron does not read")

    # The secrets it makes are the files the pods mount (the Secret `heron`).
    import yaml  # checkov brings PyYAML

    with open(os.path.join(ROOT, "deploy", "k8s", "secret.example.yaml"), encoding="utf-8") as handle:
        mounted = set(yaml.safe_load(handle)["stringData"])
    made = re.search(r"secrets = \{(.*?)\n  \}", texts.get("secrets.tf", ""), re.S)
    made = set(re.findall(r'^\s*"([a-z-]+)"\s*=', made.group(1), re.M)) if made else set()
    if made != mounted:
        problems.append(f"secrets.tf makes {sorted(made)}, the Secret heron has {sorted(mounted)}")

    # IRSA: the role's trust names system:serviceaccount:NAMESPACE:ACCOUNT.
    k8s = os.path.join(ROOT, "deploy", "k8s")
    with open(os.path.join(k8s, "kustomization.yaml"), encoding="utf-8") as handle:
        namespace = yaml.safe_load(handle).get("namespace")
    accounts, used = set(), set()
    for path in glob.glob(os.path.join(k8s, "*.yaml")):
        with open(path, encoding="utf-8") as handle:
            for document in yaml.safe_load_all(handle):
                if not document:
                    continue
                if document.get("kind") == "ServiceAccount":
                    accounts.add(document["metadata"]["name"])
                if document.get("kind") == "Deployment":
                    used.add(document["spec"]["template"]["spec"].get("serviceAccountName"))
    if "system:serviceaccount:${var.namespace}:${var.service_account}" not in texts.get("iam.tf", ""):
        problems.append("iam.tf: the pod role's trust does not name var.namespace and var.service_account")
    if defaults.get("namespace") != namespace:
        problems.append(f"variable namespace defaults to {defaults.get('namespace')!r}, the manifests use {namespace!r}")
    if used != {defaults.get("service_account")} or defaults.get("service_account") not in accounts:
        problems.append(f"variable service_account defaults to {defaults.get('service_account')!r}; "
                        f"the Deployments run as {sorted(map(str, used))}, the manifests define {sorted(accounts)}")

    for problem in problems:
        print(problem)
    if not problems:
        counts = ", ".join(f"{len(v)} {k}" for k, v in declared.items())
        print(f"deploy/terraform: {len(texts)} files parse; references resolve ({counts})")
    return 1 if problems else 0


def first(value):
    """The parser wraps attribute values in a list."""
    return value[0] if isinstance(value, list) and value else value


def strip(name):
    return name.strip('"')


if __name__ == "__main__":
    sys.exit(main())
