"""Checks of the deployment files that no bundled schema covers.

- deploy/k8s/worker-autoscaling.yaml: a KEDA ScaledObject that targets the
  worker Deployment and scales on a PostgreSQL query of Heron's own queue
  table and states (read from the migrations, so a renamed column fails).
- deploy/k8s/kustomization.yaml: lists every manifest in the folder.
- deploy/compose.yaml: the API without workers, workers, PostgreSQL and an
  S3 server, wired to each other.
- deploy/monitoring/: every metric the alert rules and the Grafana
  dashboard query is one the code emits (a renamed metric fails here),
  every alert names a runbook section that exists in docs/operations.md.
  (The rules themselves are checked and unit-tested by promtool.)
"""

import json

import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def documents(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


migrations = "".join(p.read_text() for p in sorted((ROOT / "crates/heron-store/migrations").glob("*.sql")))
task_states = set(re.search(r"state\s+TEXT NOT NULL\s+CHECK \(state IN \(([^)]*)\)\)", migrations).group(1).replace("'", "").replace(" ", "").split(","))

deployments = {d["metadata"]["name"] for f in K8S.glob("*.yaml") for d in documents(f) if d.get("kind") == "Deployment"}

(scaled, authentication) = documents(K8S / "worker-autoscaling.yaml")
check(authentication["kind"] == "TriggerAuthentication", "TriggerAuthentication kind")
secret_keys = set(documents(K8S / "secret.example.yaml")[0]["stringData"])
for reference in authentication["spec"]["secretTargetRef"]:
    check(reference["name"] == "heron" and reference["key"] in secret_keys,
          f"TriggerAuthentication reads {reference['key']!r}, not a key of the Secret heron")
check(scaled["apiVersion"] == "keda.sh/v1alpha1" and scaled["kind"] == "ScaledObject", "ScaledObject kind")
spec = scaled["spec"]
check(spec["scaleTargetRef"]["name"] in deployments, f"ScaledObject targets an unknown Deployment {spec['scaleTargetRef']['name']}")
check(0 < spec["minReplicaCount"] <= spec["maxReplicaCount"], "replica bounds")
for trigger in spec["triggers"]:
    check(trigger["type"] == "postgresql", "trigger type")
    query = trigger["metadata"]["query"]
    check("FROM tasks" in query, "the query reads the tasks table")
    for state in re.findall(r"'([a-z]+)'", query):
        check(state in task_states, f"the query names an unknown task state {state!r}")
    check(int(trigger["metadata"]["targetQueryValue"]) > 0, "targetQueryValue")
    check(trigger["authenticationRef"]["name"] == authentication["metadata"]["name"], "trigger authentication")

# Secrets reach the pods as files only: every *_FILE setting names a key of
# the Secret mounted at /run/secrets/heron, read-only, owner-readable.
config = documents(K8S / "config.yaml")[0]["data"]
for setting, path in config.items():
    if setting.endswith("_FILE"):
        check(path.startswith("/run/secrets/heron/") and path.rsplit("/", 1)[1] in secret_keys,
              f"{setting} names {path}, not a key of the Secret heron")
for manifest in ("api.yaml", "worker.yaml"):
    (deployment,) = [d for d in documents(K8S / manifest) if d.get("kind") == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    check(volumes.get("secrets", {}).get("secret", {}).get("defaultMode") == 0o400,
          f"{manifest}: the secret volume must have defaultMode 0400")
    for container in pod["containers"]:
        for source in container.get("envFrom", []):
            check(source.get("secretRef", {}).get("name") != "heron",
                  f"{manifest}: the Secret heron must be mounted as files, not as environment")

kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
listed = set(kustomization["resources"])
on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
check(listed == on_disk, f"kustomization resources {sorted(listed)} != manifests {sorted(on_disk)}")

compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
services = compose["services"]
check({"api", "worker", "postgres", "s3"} <= set(services), "compose services")
check(services["api"]["command"][:3] == ["serve", "--workers", "0"], "the compose API runs no workers")
check(services["worker"]["command"][0] == "worker", "compose workers run heron worker")
check(services["worker"]["deploy"]["replicas"] >= 2, "at least two workers")
for name in ("api", "worker"):
    env = services[name]["environment"]
    check(env["HERON_DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["HERON_DATABASE_URL"], f"{name} uses the compose PostgreSQL")
    check(env["HERON_BLOB_STORE"].startswith("s3://") and env["AWS_ENDPOINT_URL"].startswith("http://s3:"), f"{name} uses the compose S3 server")

emitted = set(re.findall(
    r'metrics::(?:counter|histogram|gauge)!\(\s*"(heron_[a-z_]+)"',
    "\n".join(p.read_text() for p in (ROOT / "crates").rglob("*.rs")),
))
check(len(emitted) > 10, "metric names found in the code")
monitoring = ROOT / "deploy" / "monitoring"
rules = yaml.safe_load((monitoring / "heron-alerts.yaml").read_text())
dashboard = json.loads((monitoring / "grafana-dashboard.json").read_text())
queries = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
queries += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
for query in queries:
    for name in re.findall(r"\b(heron_[a-z_]+)", query):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        check(base in emitted, f"{name} is queried but no code emits it")
operations = (ROOT / "docs" / "operations.md").read_text().lower()
for group in rules["groups"]:
    for rule in group["rules"]:
        anchor = rule["annotations"]["runbook"].split("#")[1]
        check(f"### {anchor}" in operations, f"docs/operations.md has no section for {rule['alert']}")

if failures:
    print("deployment checks failed:\n  " + "\n  ".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"deployment files OK ({len(deployments)} Deployments, ScaledObject, kustomization, compose, "
      f"{len(queries)} monitoring queries over {len(emitted)} emitted metrics)")
