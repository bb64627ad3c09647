#!/usr/bin/env bash
# checks/deploy-test.sh — check deploy/kubernetes and the Dockerfiles with the
# tools Kubernetes users run. (`make test-deploy`)
#
#   - `kubectl kustomize deploy/kubernetes` renders the base (no kubectl:
#     says so and skips the manifest checks; the Dockerfiles are still checked);
#   - the rendered manifests hold what README.md promises: 2 replicas,
#     startup/readiness/liveness probes on /healthz, the security context,
#     a grace period that covers preStop + CONTRIBUTORS_SHUTDOWN_GRACE, the
#     token from an optional Secret, egress to DNS and 443 only;
#   - checkov (PyPI, pinned, in a venv under target/) reports 0 failed checks
#     on the rendered manifests and on docker/*/Dockerfile, and every check
#     skipped there carries a reason (Kubernetes: a `checkov.io/skipN:
#     CKV_...=reason` annotation; Dockerfile: `# checkov:skip=CKV_...: reason`).
# One `ok - ...` / `not ok - ...` line per check; ends with `N passed, M failed`.
# Needs no cluster, no Docker and no network except PyPI on the first run.
# Env: KUBECTL (default kubectl), CHECKOV_VERSION (default: the pinned one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}
KUBECTL=${KUBECTL:-kubectl}

. ci/lib.sh
say() { printf '# %s\n' "$*"; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# checkov has many dependencies of its own: a venv apart from the other tools.
VENV=$(VENV=target/venv-checkov bash ci/venv.sh "checkov==$CHECKOV_VERSION")
PY=$VENV/bin/python   # has PyYAML: checkov depends on it

# ---- render
targets=(docker/*/Dockerfile)
if ! command -v "$KUBECTL" >/dev/null 2>&1; then
  say "SKIPPED: $KUBECTL is not installed, so deploy/kubernetes is not rendered or checked"
  say "         (install kubectl, which bundles kustomize, to check the manifests)"
elif "$KUBECTL" kustomize deploy/kubernetes >"$TMP/rendered.yaml" 2>"$TMP/kustomize.err"; then
  ok "kubectl kustomize deploy/kubernetes renders ($(grep -c '^kind:' "$TMP/rendered.yaml") objects)"
  targets=("$TMP/rendered.yaml" "${targets[@]}")

  # ---- what the manifests promise, read from the rendered objects
  # Prints one "ok|not ok<TAB>description" line per promise.
  "$PY" - "$TMP/rendered.yaml" >"$TMP/promises" <<'PYEOF'
import sys, yaml

objs = {o["kind"]: o for o in yaml.safe_load_all(open(sys.argv[1])) if o}
def check(desc, cond):
    print(("ok" if cond else "not ok") + "\t" + desc)

kinds = ["Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy"]
check("objects: " + ", ".join(kinds), all(k in objs for k in kinds))
dep = objs.get("Deployment", {})
pod = dep.get("spec", {}).get("template", {}).get("spec", {})
c = (pod.get("containers") or [{}])[0]
env = {e["name"]: e for e in c.get("env", [])}
check("Deployment: 2 replicas", dep.get("spec", {}).get("replicas") == 2)
probes = [c.get(p, {}).get("httpGet", {}).get("path") for p in ("startupProbe", "readinessProbe", "livenessProbe")]
check("startup, readiness and liveness probes GET /healthz", probes == ["/healthz"] * 3)
sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
check("securityContext: non-root 65534, read-only root, no privilege escalation, drop ALL, seccomp RuntimeDefault",
      sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 65534 and psc.get("runAsUser") == 65534
      and sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
      and sc.get("capabilities", {}).get("drop") == ["ALL"]
      and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault")
res = c.get("resources", {})
check("resources: CPU and memory requests and limits set",
      all(res.get(k, {}).get(r) for k in ("requests", "limits") for r in ("cpu", "memory")))
token = env.get("GITHUB_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef", {})
check("GITHUB_TOKEN from a Secret, optional (pods start without it)", bool(token.get("name")) and token.get("optional") is True)
grace = int(env.get("CONTRIBUTORS_SHUTDOWN_GRACE", {}).get("value", "5"))
pre = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
period = pod.get("terminationGracePeriodSeconds", 30)
check(f"terminationGracePeriodSeconds {period} > preStop {pre} s + CONTRIBUTORS_SHUTDOWN_GRACE {grace} s", period > pre + grace)
check("CONTRIBUTORS_TRUSTED_PROXIES is set in the Deployment (explained there)", "CONTRIBUTORS_TRUSTED_PROXIES" in env)
egress = objs.get("NetworkPolicy", {}).get("spec", {}).get("egress", [])
ports = sorted({(p.get("protocol", "TCP"), p.get("port")) for rule in egress for p in rule.get("ports") or [None] if p})
open_rules = [r for r in egress if not r.get("ports")]
check(f"NetworkPolicy egress: DNS and 443 only ({ports})",
      not open_rules and ports == [("TCP", 53), ("TCP", 443), ("UDP", 53)])
hpa = objs.get("HorizontalPodAutoscaler", {}).get("spec", {})
check("HorizontalPodAutoscaler scales the Deployment on CPU",
      hpa.get("scaleTargetRef", {}).get("name") == dep.get("metadata", {}).get("name")
      and [m.get("resource", {}).get("name") for m in hpa.get("metrics", [])] == ["cpu"])
sel = dep.get("spec", {}).get("selector", {}).get("matchLabels")
check("Service, PodDisruptionBudget and NetworkPolicy select the Deployment's pods",
      bool(sel) and objs.get("Service", {}).get("spec", {}).get("selector") == sel
      and objs.get("PodDisruptionBudget", {}).get("spec", {}).get("selector", {}).get("matchLabels") == sel
      and objs.get("NetworkPolicy", {}).get("spec", {}).get("podSelector", {}).get("matchLabels") == sel)
PYEOF
  while IFS=$'\t' read -r verdict desc; do
    if [ "$verdict" = ok ]; then ok "manifests: $desc"; else not_ok "manifests: $desc"; fi
  done <"$TMP/promises"
else
  not_ok "kubectl kustomize deploy/kubernetes renders"
  sed 's/^/#   /' "$TMP/kustomize.err"
fi

# ---- checkov: one run over everything, then a verdict per file.
# --skip-download: no call to Prisma Cloud for guideline links (offline-safe).
args=()
for f in "${targets[@]}"; do args+=(-f "$f"); done
"$VENV/bin/checkov" "${args[@]}" --framework kubernetes dockerfile --skip-download \
  --compact -o json >"$TMP/checkov.json" 2>"$TMP/checkov.err" || true
"$PY" - "$TMP/checkov.json" "$TMP/" "${targets[@]}" >"$TMP/verdicts" <<'PYEOF'
import json, os, sys

path, tmp, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
try:
    reports = json.load(open(path))
except ValueError:
    print("not ok\tcheckov ran and wrote its JSON report"); sys.exit()
reports = reports if isinstance(reports, list) else [reports]
by_file = {os.path.abspath(t): {"passed": 0, "failed": [], "skipped": []} for t in targets}
for report in reports:
    results = report.get("results", {})
    for kind in ("passed", "failed", "skipped"):
        for r in results.get(kind + "_checks", []):
            f = os.path.abspath(r.get("file_abs_path") or r["file_path"])
            entry = by_file.setdefault(f, {"passed": 0, "failed": [], "skipped": []})
            if kind == "passed":
                entry["passed"] += 1
            else:
                entry[kind].append(r)
for f, e in by_file.items():
    name = "rendered manifests" if f.startswith(os.path.abspath(tmp)) else os.path.relpath(f)
    ran = e["passed"] + len(e["failed"]) + len(e["skipped"])
    failed = ", ".join(sorted({r["check_id"] for r in e["failed"]}))
    print(("ok" if ran and not e["failed"] else "not ok")
          + f"\tcheckov {name}: {e['passed']} passed, {len(e['failed'])} failed, {len(e['skipped'])} skipped"
          + (f" ({failed})" if failed else ""))
    # checkov's own text when a Dockerfile skip gives no reason
    bare = [r["check_id"] for r in e["skipped"]
            if (r.get("check_result", {}).get("suppress_comment") or "").strip() in ("", "No comment provided")]
    if e["skipped"]:
        print(("ok" if not bare else "not ok")
              + f"\tcheckov {name}: every skip has a reason"
              + (f" (none for {', '.join(bare)})" if bare else
                 " (" + ", ".join(sorted(r["check_id"] for r in e["skipped"])) + ")"))
PYEOF
while IFS=$'\t' read -r verdict desc; do
  if [ "$verdict" = ok ]; then ok "$desc"; else not_ok "$desc"; fi
done <"$TMP/verdicts"
if [ "$FAIL" != 0 ]; then
  tail -n 20 "$TMP/checkov.err" | sed 's/^/#   /'
  say "details: $VENV/bin/checkov -f FILE --framework kubernetes dockerfile --skip-download --compact"
fi
finish
