#!/usr/bin/env python3
"""Validates rendered Kubernetes manifests (the output of `kubectl kustomize`).

Every document must validate:
  * built-in kinds: against the Kubernetes OpenAPI schemas shipped by the PyPI package
    kubernetes-validate, strictly (unknown fields are errors), for each version in
    --kubernetes-version;
  * custom resources: against the JSON Schema in deploy/schemas/<group>_<version>_<Kind>.json.
A kind known to neither is an error. Then the wiring is checked: every ConfigMap and
Secret a workload or KEDA TriggerAuthentication names exists in the render with the keys it reads (or is declared with
--external-secret), every probe names a declared container port, and every Deployment
gives a stopping pod more time than its preStop pause plus HOOKFLOW_SHUTDOWN_GRACE_SECS.
Last, the PostgreSQL connections the services may hold at their peak (every replica the
autoscalers allow, rollout surge and pods still draining included, each with a full
HOOKFLOW_DATABASE_POOL_SIZE pool) must fit --postgres-max-connections (100, PostgreSQL's
default) less its 3 superuser-reserved connections and 10 of headroom (deploy/README.md).

Usage: validate.py [-q] [-k 1.29 -k latest] [--external-secret NAME] [--postgres-max-connections N] FILE...
('-' reads stdin)
Exit status 0 when everything passes, 1 otherwise.
"""

import argparse
import json
import math
import pathlib
import sys

import jsonschema
import yaml
from kubernetes_validate import utils as kv

SCHEMAS = pathlib.Path(__file__).resolve().parent / "schemas"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
# HOOKFLOW_DATABASE_POOL_SIZE when nothing sets it (shared/src/config.rs).
DEFAULT_POOL_SIZE = 16
# PostgreSQL's superuser_reserved_connections default, and room for psql, backups, monitoring.
RESERVED_CONNECTIONS = 3
HEADROOM_CONNECTIONS = 10


def load(paths):
    docs = []
    for path in paths:
        text = sys.stdin.read() if path == "-" else pathlib.Path(path).read_text()
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


def name_of(doc):
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def schema_errors(doc, versions):
    api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    group, _, version = api_version.rpartition("/")
    custom = SCHEMAS / f"{group}_{version}_{kind}.json"
    if group and "." in group and custom.exists():
        validator = jsonschema.Draft202012Validator(json.loads(custom.read_text()))
        return [
            f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
        ]
    errors = []
    for k8s_version in versions:
        try:
            kv.validate(doc, k8s_version, strict=True)
        except kv.ValidationError as e:
            path = ".".join(map(str, e.path)) or "<root>"
            errors.append(f"(Kubernetes {k8s_version}) {path}: {e.message}")
        except kv.SchemaNotFoundError:
            errors.append(
                f"no schema for {api_version} {kind} in Kubernetes {k8s_version} "
                f"nor in {SCHEMAS.name}/{custom.name}"
            )
    return errors


def pod_spec(doc):
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec", {})


def wiring_errors(docs, external_secrets):
    found = {}
    for doc in docs:
        if doc.get("kind") in ("ConfigMap", "Secret"):
            data = {**doc.get("data", {}), **doc.get("stringData", {})}
            found[(doc["kind"], doc["metadata"]["name"])] = data
    errors = []

    def check(owner, kind, name, key=None):
        if kind == "Secret" and name in external_secrets:
            return
        data = found.get((kind, name))
        if data is None:
            errors.append(f"{owner}: {kind} {name} is not in the manifests")
        elif key is not None and key not in data:
            errors.append(f"{owner}: {kind} {name} has no key {key}")

    for doc in docs:
        if doc.get("kind") == "TriggerAuthentication":
            for ref in doc.get("spec", {}).get("secretTargetRef", []):
                check(name_of(doc), "Secret", ref["name"], ref["key"])
        if doc.get("kind") not in WORKLOAD_KINDS:
            continue
        spec = pod_spec(doc)
        configmaps = {}
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            owner = f"{name_of(doc)} container {container['name']}"
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    check(owner, "ConfigMap", source["configMapRef"]["name"])
                    configmaps.update(found.get(("ConfigMap", source["configMapRef"]["name"]), {}))
                if "secretRef" in source:
                    check(owner, "Secret", source["secretRef"]["name"])
            env = {}
            for var in container.get("env", []):
                ref = var.get("valueFrom", {})
                if "configMapKeyRef" in ref:
                    check(owner, "ConfigMap", ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"])
                # An optional reference may name a key the Secret does not have (yet).
                if "secretKeyRef" in ref and not ref["secretKeyRef"].get("optional", False):
                    check(owner, "Secret", ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"])
                if "value" in var:
                    env[var["name"]] = var["value"]
            ports = {p.get("name") for p in container.get("ports", [])}
            ports |= {p["containerPort"] for p in container.get("ports", [])}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                port = container.get(probe, {}).get("httpGet", {}).get("port")
                if port is not None and port not in ports:
                    errors.append(f"{owner}: {probe} uses port {port}, which the container does not declare")
            if doc["kind"] == "Deployment":
                grace = int(env.get("HOOKFLOW_SHUTDOWN_GRACE_SECS", configmaps.get("HOOKFLOW_SHUTDOWN_GRACE_SECS", 0)))
                command = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
                pause = int(command[1]) if len(command) == 2 and command[0].endswith("sleep") else 0
                allowed = spec.get("terminationGracePeriodSeconds", 30)
                if grace and allowed <= pause + grace:
                    errors.append(
                        f"{owner}: terminationGracePeriodSeconds {allowed} leaves no margin after "
                        f"preStop {pause}s + HOOKFLOW_SHUTDOWN_GRACE_SECS {grace}s"
                    )
    return list(dict.fromkeys(errors))


def rollout_extra(doc, replicas):
    """Pods beyond `replicas` during a rolling update: the surge, plus old pods still
    draining (they keep their connections) in batches of at most surge + unavailable."""
    rolling = doc.get("spec", {}).get("strategy", {}).get("rollingUpdate", {})

    def pods(value, default, round_up):
        value = rolling.get(value, default)
        if isinstance(value, str) and value.endswith("%"):
            share = replicas * int(value[:-1]) / 100
            return math.ceil(share) if round_up else math.floor(share)
        return int(value)

    surge = pods("maxSurge", "25%", True)
    # Kubernetes lets one pod be unavailable when both round down to 0.
    unavailable = pods("maxUnavailable", "25%", False) or (0 if surge else 1)
    return surge + surge + unavailable


def connection_errors(docs, max_connections):
    """The peak PostgreSQL connections of the workloads that have a database URL."""
    configmaps = {
        doc["metadata"]["name"]: doc.get("data", {}) for doc in docs if doc.get("kind") == "ConfigMap"
    }
    ceilings = {}
    for doc in docs:
        target = doc.get("spec", {}).get("scaleTargetRef", {}).get("name")
        if doc.get("kind") == "ScaledObject":
            ceilings[target] = doc["spec"].get("maxReplicaCount", 100)
        elif doc.get("kind") == "HorizontalPodAutoscaler":
            ceilings.setdefault(target, doc["spec"]["maxReplicas"])
    lines, total = [], 0
    for doc in docs:
        if doc.get("kind") not in ("Deployment", "Job"):
            continue
        for container in pod_spec(doc).get("containers", []):
            env = {}
            for source in container.get("envFrom", []):
                env.update(configmaps.get(source.get("configMapRef", {}).get("name"), {}))
            env.update({var["name"]: var.get("value") for var in container.get("env", [])})
            if "HOOKFLOW_DATABASE_URL" not in env:
                continue
            if doc["kind"] == "Job":
                # `config-api migrate` uses a single connection.
                pods, pool = doc.get("spec", {}).get("parallelism", 1), 1
            else:
                replicas = ceilings.get(doc["metadata"]["name"], doc.get("spec", {}).get("replicas", 1))
                pods = replicas + rollout_extra(doc, replicas)
                pool = int(env.get("HOOKFLOW_DATABASE_POOL_SIZE") or DEFAULT_POOL_SIZE)
            total += pods * pool
            lines.append(f"{name_of(doc)} {pods} x {pool}")
    budget = max_connections - RESERVED_CONNECTIONS - HEADROOM_CONNECTIONS
    if total > budget:
        return [
            f"PostgreSQL connections at peak {total} ({' + '.join(lines)}) exceed {budget} "
            f"(max_connections {max_connections} - {RESERVED_CONNECTIONS} reserved - "
            f"{HEADROOM_CONNECTIONS} headroom); lower HOOKFLOW_DATABASE_POOL_SIZE or the replica ceilings"
        ]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("-k", "--kubernetes-version", action="append", dest="versions",
                        help="a version such as 1.29, or latest (the newest the package knows)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only problems and the summary")
    parser.add_argument("--external-secret", action="append", default=[],
                        help="a Secret created outside these manifests")
    parser.add_argument("--postgres-max-connections", type=int, default=100,
                        help="max_connections of the PostgreSQL server the services use")
    args = parser.parse_args()
    versions = [kv.latest_version() if v == "latest" else v for v in args.versions or ["latest"]]

    docs = load(args.files)
    failed = 0
    for doc in docs:
        errors = schema_errors(doc, versions)
        failed += bool(errors)
        if errors or not args.quiet:
            print(f"{'FAIL' if errors else 'ok  '} {doc.get('apiVersion')} {name_of(doc)}")
        for error in errors:
            print(f"       {error}")
    wiring = wiring_errors(docs, set(args.external_secret))
    wiring += connection_errors(docs, args.postgres_max_connections)
    for error in wiring:
        print(f"FAIL wiring: {error}")
    failed += len(wiring)
    print(f"{len(docs)} resources checked against Kubernetes {', '.join(versions)}: "
          f"{'all valid' if not failed else f'{failed} problem(s)'}")
    return 1 if failed or not docs else 0


if __name__ == "__main__":
    sys.exit(main())
