"""deploy/: the Kubernetes manifests validate against the API schemas and agree with each other and
with the service's settings; the Dockerfile is slim, non-root and health-checked (checked statically:
there is no container engine here); `transformer health` answers as a container check expects."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from transformer._catalog import load_catalog
from transformer._settings import Settings
from transformer.cli import main

from .helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
#: Oldest Kubernetes the manifests must be valid for (native gRPC probes are GA since 1.27).
KUBERNETES_VERSION = "1.27.0"


def manifests() -> dict[str, dict[str, Any]]:
    """Every resource kustomization.yaml lists, by kind."""
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    found: dict[str, dict[str, Any]] = {}
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((KUBERNETES / name).read_text()):
            assert doc["kind"] not in found, f"two {doc['kind']}s"
            found[doc["kind"]] = doc
    return found


def container(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    [only] = resources["Deployment"]["spec"]["template"]["spec"]["containers"]
    return dict(only)


def test_kustomization_lists_every_manifest() -> None:
    """Each YAML file in deploy/kubernetes is a resource of the kustomization (none forgotten)."""
    listed = set(yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(manifests()) == {"ConfigMap", "Secret", "Deployment", "Service",
                                "HorizontalPodAutoscaler", "PodDisruptionBudget"}


def test_manifests_validate_against_the_kubernetes_schemas() -> None:
    """Each resource is valid (strict: no unknown fields) for the Kubernetes API; a typo is caught."""
    validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (dev extra) missing")
    for resource in manifests().values():
        validate.validate(resource, KUBERNETES_VERSION, strict=True)
    broken = copy.deepcopy(manifests()["Deployment"])
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["prot"] = 50051
    with pytest.raises(validate.ValidationError):
        validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_deployment_probes_service_and_security() -> None:
    """Probes use the native gRPC health check on the gRPC port; the pod runs non-root; the Service is
    headless on the same named ports; the HPA (CPU) and the PDB target the Deployment's pods."""
    resources = manifests()
    deployment, service = resources["Deployment"], resources["Service"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    main_container = container(resources)
    ports = {p["name"]: p["containerPort"] for p in main_container["ports"]}
    env = {e["name"]: e.get("value") for e in main_container["env"]}
    assert ports == {"grpc": int(env["TRANSFORMER_PORT"]), "metrics": int(env["TRANSFORMER_METRICS_PORT"])}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert main_container[probe]["grpc"]["port"] == ports["grpc"], probe
    pod_security = deployment["spec"]["template"]["spec"]["securityContext"]
    assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] != 0
    assert main_container["securityContext"]["allowPrivilegeEscalation"] is False
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(ports["metrics"])
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"].items() <= pod_labels.items()
    service_ports = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
    assert service_ports == {"grpc": "grpc", "metrics": "metrics"}
    hpa = resources["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": deployment["metadata"]["name"]}
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
    assert hpa["minReplicas"] == deployment["spec"]["replicas"] == 10
    pdb = resources["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()
    grace = float(env["TRANSFORMER_GRACE_SECONDS"])
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace + 5


def test_environment_names_settings_and_references_exist() -> None:
    """Every TRANSFORMER_* variable is a setting; the Secret and ConfigMap keys it uses exist; the
    settings given as plain values are valid together."""
    resources = manifests()
    main_container = container(resources)
    plain: dict[str, str] = {}
    for item in main_container["env"]:
        assert item["name"].startswith("TRANSFORMER_")
        field = item["name"].removeprefix("TRANSFORMER_").lower()
        assert field in Settings.model_fields, item["name"]
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            secret = resources["Secret"]
            assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
        elif field in Settings.model_fields and field not in {"store", "destinations_dir"}:
            plain[field] = item["value"]
    Settings(**plain)  # raises when a value is invalid
    volumes = {v["name"]: v for v in resources["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    config_map = resources["ConfigMap"]
    assert volumes["destinations"]["configMap"]["name"] == config_map["metadata"]["name"]
    assert {i["key"] for i in volumes["destinations"]["configMap"]["items"]} == set(config_map["data"])


def test_configmap_destinations_load(tmp_path: Path) -> None:
    """The destination folders the ConfigMap mounts pass the catalog loader (as `transformer check`)."""
    resources = manifests()
    data = resources["ConfigMap"]["data"]
    volumes = {v["name"]: v for v in resources["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    for item in volumes["destinations"]["configMap"]["items"]:
        target = tmp_path / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(data[item["key"]])
    names = {Path(i["path"]).parts[0] for i in volumes["destinations"]["configMap"]["items"]}
    assert names <= set(load_catalog([tmp_path]).destinations)


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """(instruction, arguments) per line, continuation lines joined, split into build stages."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "deploy" / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def test_dockerfile_is_slim_non_root_and_health_checked() -> None:
    """The final stage is a slim Python, runs as a numeric non-root user, checks health over gRPC with
    `transformer health`, execs `transformer serve`, and copies only paths that exist."""
    stages = dockerfile_stages()
    final = stages[-1]
    by = {instruction: arguments for instruction, arguments in final}
    assert re.fullmatch(r"python:3\.1[1-9]-slim", by["FROM"].split()[0])
    user = by["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0
    assert "transformer" in by["HEALTHCHECK"] and '"health"' in by["HEALTHCHECK"]
    assert by["ENTRYPOINT"] == '["transformer"]' and by["CMD"] == '["serve"]'
    assert {"50051", "9464"} <= set(by["EXPOSE"].split())
    for stage in stages:
        for instruction, arguments in stage:
            if instruction == "COPY" and not arguments.startswith("--from"):
                for source in arguments.split()[:-1]:
                    assert (ROOT / source).exists(), source


def test_health_command_reports_serving_or_fails(target: str) -> None:
    """`transformer health` exits 0 for a serving server, 1 when nothing answers."""
    runner = CliRunner()
    serving = runner.invoke(main, ["health", "--address", target])
    assert serving.exit_code == 0 and "SERVING" in serving.output
    down = runner.invoke(main, ["health", "--timeout", "0.5"], env={"TRANSFORMER_PORT": str(free_port())})
    assert down.exit_code == 1 and "UNAVAILABLE" in down.output
