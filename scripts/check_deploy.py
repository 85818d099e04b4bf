"""Checks of the deployment files that no bundled schema covers.

- deploy/k8s/worker-autoscaling.yaml: a KEDA ScaledObject that targets the
  worker Deployment and scales on a PostgreSQL query of Heron's own queue
  table and states (read from the migrations, so a renamed column fails).
- deploy/k8s/kustomization.yaml: lists every manifest in the folder.
- deploy/k8s: every serviceAccountName, Service, port and autoscaler
  target resolves to a manifest of the folder; a Deployment an autoscaler
  owns sets no replica count; replicas spread across nodes and zones.
- Dockerfile: the runtime image installs the Debian package of every
  program the code runs (found in the code, each program's package asked
  of dpkg on this machine, where CI installs them all) and carries the
  OCR and embedding models.
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
import shutil
import subprocess
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

# References between the manifests resolve.
manifests = [d for f in sorted(K8S.glob("*.yaml")) if f.name != "kustomization.yaml" for d in documents(f)]
by_kind = {}
for d in manifests:
    by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
service_accounts = by_kind.get("ServiceAccount", {})
autoscaled = {d["spec"]["scaleTargetRef"]["name"] for d in by_kind.get("HorizontalPodAutoscaler", {}).values()}
autoscaled |= {d["spec"]["scaleTargetRef"]["name"] for d in by_kind.get("ScaledObject", {}).values()}
for name, deployment in by_kind.get("Deployment", {}).items():
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    account = pod.get("serviceAccountName")
    check(account in service_accounts, f"Deployment {name} runs as service account {account!r}, which no manifest defines")
    check(name in autoscaled, f"Deployment {name} has no autoscaler")
    check("replicas" not in deployment["spec"], f"Deployment {name} sets replicas, which its autoscaler owns")
    spread = {c["topologyKey"]: c for c in pod.get("topologySpreadConstraints", [])}
    for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone"):
        check(key in spread and spread[key]["labelSelector"]["matchLabels"].items() <= labels.items(),
              f"Deployment {name} does not spread its replicas over {key}")
for name, hpa in by_kind.get("HorizontalPodAutoscaler", {}).items():
    check(hpa["spec"]["scaleTargetRef"]["name"] in deployments, f"HorizontalPodAutoscaler {name} targets an unknown Deployment")
    check(0 < hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], f"HorizontalPodAutoscaler {name} replica bounds")
services = by_kind.get("Service", {})
for name, ingress in by_kind.get("Ingress", {}).items():
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            service = services.get(backend["name"])
            check(service is not None, f"Ingress {name} routes to an unknown Service {backend['name']}")
            if service:
                ports = {p.get("name") for p in service["spec"]["ports"]} | {p["port"] for p in service["spec"]["ports"]}
                wanted = backend["port"].get("name", backend["port"].get("number"))
                check(wanted in ports, f"Ingress {name} routes to port {wanted!r}, which Service {backend['name']} lacks")
check(len(by_kind.get("Ingress", {})) >= 1, "no Ingress: the API is unreachable from outside the cluster")

# The image has every program the code runs. Programs are found where the
# code starts them (tests and examples aside); each one's Debian package
# is asked of dpkg, so a new program without its package fails here.
started = set()
for source in (ROOT / "crates").glob("*/src/**/*.rs"):
    if "heron-testkit" in source.parts:
        continue
    code = source.read_text().split("#[cfg(test)]")[0]
    started |= set(re.findall(r'(?:Command::new|tool::run|legacy::extract)\(\s*"([\w.-]+)"', code))
check({"tesseract", "pdftotext", "qpdf"} <= started, f"programs found in the code: {sorted(started)}")
dockerfile = (ROOT / "Dockerfile").read_text()
runtime = dockerfile.split("AS runtime", 1)[1]
installed = set(re.search(r"apt-get install[^\n]*\\\n((?:[^\n]*\\\n)*)", runtime).group(1).replace("\\", " ").split())
for program in sorted(started):
    path = shutil.which(program)
    if path is None:
        check(False, f"{program} (run by the code) is not installed here, so its package cannot be checked")
        continue
    # With merged /usr a package may list /bin/X for what PATH finds as /usr/bin/X.
    package = None
    for candidate in (str(pathlib.Path(path).resolve()), f"/bin/{program}", f"/usr/bin/{program}"):
        owner = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if owner.returncode == 0:
            package = owner.stdout.split(":", 1)[0]
            break
    check(package is not None and package in installed,
          f"the code runs {program} (Debian package {package}), which the Dockerfile's runtime stage does not install")
for setting, script in (("HERON_OCR_MODELS", "fetch-ocr-models"), ("HERON_EMBEDDING_MODEL", "fetch-embedding-model")):
    check(f"scripts/{script}" in dockerfile and f"{setting}=" in runtime,
          f"the image does not carry the models of {setting} (scripts/{script})")

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
