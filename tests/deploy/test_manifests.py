"""The Kubernetes manifests (deploy/k8s) are valid, and say what docs/deploy.md says they do.

Every file is checked offline against the Kubernetes OpenAPI schemas bundled with
kubernetes-validate, in strict mode (an unknown or misspelt field fails). The kustomizations are
checked to list every manifest of their folder and, where kubectl is installed, rendered and
validated whole. The command lines of the ledger workers and of the migration gate are run, with
stand-ins for the programs they start, or against a real database.
"""

import ast
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from alembic import command as alembic_command
from alembic.config import Config
from alembic.script import ScriptDirectory

from devtools.databases import create_database, drop_database
from ledger.db import normalize_url
from workers import commands
from workers.routing import partitions_for_worker

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
DEV = K8S / "dev"
# The schemas checked against: a release the big clouds still run (the manifests need 1.27 or later).
KUBERNETES_VERSION = "1.32"
IMAGE = "wallet"
SECRET_NAME = "wallet-secrets"
CONFIG_NAME = "wallet-config"
PLACEHOLDER = "CHANGE-ME"
# Variables read by a container's command line rather than by settings.py.
COMMAND_LINE_VARIABLES = {"POD_NAME", "LEDGER_WORKERS"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


def load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifest_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")


ALL_MANIFESTS = sorted(p for folder in (BASE, DEV) for p in manifest_files(folder))
BASE_DOCS = [doc for path in manifest_files(BASE) for doc in load(path)]
DEV_DOCS = [doc for path in manifest_files(DEV) for doc in load(path)]


def find(docs: list[dict], kind: str, name: str) -> dict:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def pod_specs(docs: list[dict]) -> Iterator[tuple[str, dict]]:
    for doc in docs:
        if doc["kind"] in WORKLOAD_KINDS:
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def containers(pod: dict) -> list[dict]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def wallet_containers(docs: list[dict]) -> Iterator[tuple[str, dict]]:
    """Every container that runs the wallet's image (not the dev overlay's PostgreSQL and Redis)."""
    for name, pod in pod_specs(docs):
        for container in containers(pod):
            if container["image"].split(":")[0] == IMAGE:
                yield name, container


def env_value(container: dict, name: str) -> dict:
    (entry,) = [e for e in container.get("env", []) if e["name"] == name]
    return entry


def config_env() -> dict[str, str]:
    pairs = {}
    for line in (BASE / "config.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def settings_defaults() -> dict[str, object]:
    """NAME -> default, for every ``os.environ.get("NAME", ...)`` and ``_int("NAME", ...)`` (or _float, _bool)."""
    tree = ast.parse((ROOT / "settings.py").read_text())
    found = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        func = node.func
        is_environ_get = (
            isinstance(func, ast.Attribute) and func.attr == "get" and ast.unparse(func.value) == "os.environ"
        )
        is_typed = isinstance(func, ast.Name) and func.id in {"_int", "_float", "_bool"}
        if is_environ_get or is_typed:
            default = node.args[1] if len(node.args) > 1 else None
            found[node.args[0].value] = ast.literal_eval(default) if isinstance(default, ast.Constant) else None
    return found


def run_with_stand_in(program: str, shell_command: str, env: dict[str, str], tmp_path: Path) -> list[str]:
    """Run a container's ``sh -c`` line with ``program`` replaced by a script that prints its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stand_in = bin_dir / program
    stand_in.write_text('#!/bin/sh\nfor arg in "$@"; do echo "$arg"; done\n')
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IXUSR)
    out = subprocess.run(
        ["/bin/sh", "-c", shell_command],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.splitlines()


def shell_line(argv: list[str]) -> str:
    assert argv[:2] == ["/bin/sh", "-c"], argv
    return argv[2]


# --- schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_MANIFESTS, ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_validates_against_the_kubernetes_schemas(path):
    docs = load(path)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_validation_is_strict_so_a_misspelt_field_fails():
    deployment = find(BASE_DOCS, "Deployment", "wallet-api")
    misspelt = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("folder", [BASE, DEV], ids=["base", "dev"])
def test_each_kustomization_lists_every_manifest_of_its_folder(folder):
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    # The Secret example is the one manifest never applied: the real Secret is made by hand.
    expected = {p.name for p in manifest_files(folder)} - {"secret.example.yaml"}
    if folder == DEV:
        expected.add("../base")
    assert listed == expected
    assert kustomization["namespace"] == "wallet"
    assert "secretGenerator" not in kustomization


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with its built-in kustomize) is not installed")
@pytest.mark.parametrize("folder", [BASE, DEV], ids=["base", "dev"])
def test_each_kustomization_renders_to_valid_objects(folder):
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(folder)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    docs = [doc for doc in yaml.safe_load_all(rendered) if doc]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "wallet"
    # The generated ConfigMap carries a content hash in its name, and every reference follows it.
    (config_map,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert config_map["metadata"]["name"].startswith(f"{CONFIG_NAME}-")
    assert config_map["data"] == config_env()
    for _, container in wallet_containers(docs):
        assert [ref["configMapRef"]["name"] for ref in container["envFrom"]] == [config_map["metadata"]["name"]]
    ledger = find(docs, "StatefulSet", "wallet-ledger")
    (worker,) = ledger["spec"]["template"]["spec"]["containers"]
    assert env_value(worker, "LEDGER_WORKERS")["value"] == str(ledger["spec"]["replicas"])


def test_an_overlay_changing_the_worker_count_keeps_ledger_workers_equal(tmp_path):
    """The recipe of docs/deploy.md: the replicas patch and the replacement, repeated in the overlay."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    base = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    kustomization = {
        "resources": [os.path.relpath(BASE, overlay)],
        "replicas": [{"name": "wallet-ledger", "count": 4}],
        "replacements": base["replacements"],
    }
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    ledger = find(list(yaml.safe_load_all(rendered)), "StatefulSet", "wallet-ledger")
    (worker,) = ledger["spec"]["template"]["spec"]["containers"]
    assert ledger["spec"]["replicas"] == 4
    assert env_value(worker, "LEDGER_WORKERS")["value"] == "4"


# --- ledger workers --------------------------------------------------------------------------


def test_ledger_pods_together_own_every_partition_once(tmp_path):
    ledger = find(BASE_DOCS, "StatefulSet", "wallet-ledger")
    (worker,) = ledger["spec"]["template"]["spec"]["containers"]
    replicas = ledger["spec"]["replicas"]
    partitions = int(config_env()["PARTITIONS"])
    assert env_value(worker, "POD_NAME")["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env_value(worker, "LEDGER_WORKERS")["value"] == str(replicas)
    assert 1 <= replicas <= partitions

    owned = []
    for ordinal in range(replicas):
        pod = f"{ledger['metadata']['name']}-{ordinal}"
        argv = run_with_stand_in(
            "python", shell_line(worker["command"]), {"POD_NAME": pod, "LEDGER_WORKERS": str(replicas)}, tmp_path
        )
        # The pod's ordinal is the INDEX, the replica count the COUNT.
        assert argv == ["-m", "workers", "ledger", str(ordinal), str(replicas)]
        owned += partitions_for_worker(int(argv[3]), int(argv[4]), partitions)
    assert sorted(owned) == list(range(partitions))


def test_worker_probes_ping_the_node_name_each_worker_takes(tmp_path):
    ledger = find(BASE_DOCS, "StatefulSet", "wallet-ledger")
    (worker,) = ledger["spec"]["template"]["spec"]["containers"]
    pod = f"{ledger['metadata']['name']}-1"
    worker_argv = commands.ledger_worker(1, 2, 16)
    # Celery expands %h to the hostname, which in a pod is the pod's name.
    node = worker_argv[worker_argv.index("-n") + 1].replace("%h", pod)
    for probe in (worker["readinessProbe"], worker["livenessProbe"]):
        argv = run_with_stand_in("celery", shell_line(probe["exec"]["command"]), {"POD_NAME": pod}, tmp_path)
        assert argv == ["-A", "workers.app", "inspect", "ping", "-d", node, "--timeout", "5"]
        assert probe["timeoutSeconds"] > 5

    (webhooks,) = find(BASE_DOCS, "Deployment", "wallet-webhooks")["spec"]["template"]["spec"]["containers"]
    pod = "wallet-webhooks-5d8f7c9b6-x2x7q"
    webhooks_argv = commands.webhooks_worker()
    node = webhooks_argv[webhooks_argv.index("-n") + 1].replace("%h", pod)
    argv = run_with_stand_in(
        "celery", shell_line(webhooks["readinessProbe"]["exec"]["command"]), {"POD_NAME": pod}, tmp_path
    )
    assert argv[argv.index("-d") + 1] == node


def test_workers_have_time_to_finish_their_batch_on_shutdown():
    drain = float(config_env().get("DRAIN_MAX_SECONDS", settings_defaults()["DRAIN_MAX_SECONDS"]))
    ledger = find(BASE_DOCS, "StatefulSet", "wallet-ledger")["spec"]["template"]["spec"]
    # A drain runs at most DRAIN_MAX_SECONDS, then commits its last batch: leave it room.
    assert ledger["terminationGracePeriodSeconds"] >= 3 * drain
    api = find(BASE_DOCS, "Deployment", "wallet-api")["spec"]["template"]["spec"]
    (container,) = api["containers"]
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert api["terminationGracePeriodSeconds"] > pre_stop + settings_defaults()["API_MAX_WAIT_SECONDS"]


# --- one of each, and the order of migrations ------------------------------------------------


def test_exactly_one_beat_and_never_two_during_a_rollout():
    beat = find(BASE_DOCS, "Deployment", "wallet-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    beat_command = ["python", "-m", "workers", "beat"]
    runs_beat = [name for name, c in wallet_containers(BASE_DOCS) if c.get("command", [])[:4] == beat_command]
    assert runs_beat == ["wallet-beat"]
    # Its schedule file is on a writable volume (the root filesystem is read-only).
    (container,) = beat["spec"]["template"]["spec"]["containers"]
    schedule = Path(container["command"][container["command"].index("--schedule") + 1])
    assert str(schedule.parent) in {m["mountPath"] for m in container["volumeMounts"]}


def test_the_migration_job_runs_alembic_upgrade_head():
    job = find(BASE_DOCS, "Job", "wallet-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["alembic", "upgrade", "head"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_every_long_running_process_that_opens_postgresql_waits_for_the_migrations():
    gates = {}
    for name, pod in pod_specs(BASE_DOCS):
        if name == "wallet-migrate":
            continue
        uses_database = any(e["name"] == "DATABASE_URL" for c in pod["containers"] for e in c.get("env", []))
        init = {c["name"]: c for c in pod.get("initContainers", [])}
        assert uses_database == ("wait-for-migrations" in init), name
        if uses_database:
            gates[name] = init["wait-for-migrations"]["command"]
    assert set(gates) == {"wallet-api", "wallet-ledger", "wallet-webhooks"}
    # One gate, written the same way everywhere.
    assert len({tuple(argv) for argv in gates.values()}) == 1


@pytest.fixture
def gate_database() -> Iterator[str]:
    """A database of its own (the session's test database stays untouched), empty at first."""
    url = normalize_url(os.environ["DATABASE_URL"])
    gate_url = url.set(database=f"{url.database}_gate").render_as_string(hide_password=False)
    drop_database(gate_url)
    create_database(gate_url)
    yield gate_url
    drop_database(gate_url)


def upgrade(url: str, revision: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    alembic_command.upgrade(config, revision)


def still_running(process: subprocess.Popen, seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return True
    return False


def test_the_migration_gate_opens_only_once_the_schema_is_at_head(gate_database):
    (api,) = [pod for name, pod in pod_specs(BASE_DOCS) if name == "wallet-api"]
    (gate,) = [c for c in api["initContainers"] if c["name"] == "wait-for-migrations"]
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    before_head = script.get_revision(script.get_current_head()).down_revision
    assert before_head, "needs at least two migrations"
    # The gate as the init container runs it: alembic from this interpreter, in the image's working directory.
    env = {**os.environ, "DATABASE_URL": gate_database, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    gate_process = subprocess.Popen(
        gate["command"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert still_running(gate_process, 3), "the gate opened on an empty database"
        upgrade(gate_database, before_head)
        assert still_running(gate_process, 7), "the gate opened one migration short of head"
        started = time.monotonic()
        upgrade(gate_database, "head")
        assert gate_process.wait(timeout=30) == 0
        assert time.monotonic() - started < 30
    finally:
        gate_process.kill()
        output = gate_process.communicate()[0]
    assert "waiting for job/wallet-migrate" in output


# --- containers ------------------------------------------------------------------------------


def test_every_container_has_requests_and_limits():
    for name, pod in pod_specs(BASE_DOCS + DEV_DOCS):
        for container in containers(pod):
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert set(resources.get(bound, {})) == {"cpu", "memory"}, f"{name}/{container['name']} {bound}"


def test_long_running_containers_have_probes_on_what_they_serve():
    api = find(BASE_DOCS, "Deployment", "wallet-api")["spec"]["template"]["spec"]["containers"][0]
    assert api["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    flower = find(BASE_DOCS, "Deployment", "wallet-flower")["spec"]["template"]["spec"]["containers"][0]
    assert flower["livenessProbe"]["httpGet"]["path"] == "/healthcheck"
    # Beat serves nothing to ask and the migration is a Job: every other long-running container is probed.
    for name, pod in pod_specs(BASE_DOCS + DEV_DOCS):
        if name in {"wallet-beat", "wallet-migrate"}:
            continue
        for container in pod["containers"]:
            assert "livenessProbe" in container and "readinessProbe" in container, f"{name}/{container['name']}"


def test_every_pod_meets_the_restricted_pod_security_standard():
    namespace = find(BASE_DOCS, "Namespace", "wallet")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name, pod in pod_specs(BASE_DOCS + DEV_DOCS):
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        # Service links would put variables such as FLOWER_PORT=tcp://... where settings.py reads them.
        assert pod["enableServiceLinks"] is False, name
        for container in containers(pod):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, f"{name}/{container['name']}"
            assert context["capabilities"] == {"drop": ["ALL"]}, f"{name}/{container['name']}"


def test_wallet_pods_run_as_the_image_user_on_a_read_only_root():
    for name, pod in pod_specs(BASE_DOCS):
        assert pod["securityContext"]["runAsUser"] == 10001, name
        for container in containers(pod):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, f"{name}/{container['name']}"
            assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}, f"{name}/{container['name']}"
    assert "--uid 10001" in (ROOT / "Dockerfile").read_text()


def test_ports_match_the_settings_each_process_binds():
    api = find(BASE_DOCS, "Deployment", "wallet-api")["spec"]["template"]["spec"]["containers"][0]
    flower = find(BASE_DOCS, "Deployment", "wallet-flower")["spec"]["template"]["spec"]["containers"][0]
    for container, host, port, service in (
        (api, "API_HOST", "API_PORT", "wallet-api"),
        (flower, "FLOWER_ADDRESS", "FLOWER_PORT", "wallet-flower"),
    ):
        (http,) = container["ports"]
        assert env_value(container, host)["value"] == "0.0.0.0"
        assert env_value(container, port)["value"] == str(http["containerPort"])
        (service_port,) = find(BASE_DOCS, "Service", service)["spec"]["ports"]
        assert service_port["targetPort"] == http["name"]


# --- configuration and secrets ---------------------------------------------------------------


def test_every_environment_variable_is_one_settings_reads():
    known = set(settings_defaults())
    assert {"DATABASE_URL", "REDIS_URL", "PARTITIONS"} <= known
    assert set(config_env()) <= known
    for name, container in wallet_containers(BASE_DOCS):
        names = {e["name"] for e in container.get("env", [])}
        assert names <= known | COMMAND_LINE_VARIABLES, f"{name}/{container['name']}: {names - known}"


def test_each_secret_reaches_only_the_processes_that_use_it():
    readers: dict[str, set[str]] = {}
    for name, container in wallet_containers(BASE_DOCS):
        for entry in container.get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == SECRET_NAME
                readers.setdefault(ref["key"], set()).add(name)
    assert readers == {
        "DATABASE_URL": {"wallet-migrate", "wallet-api", "wallet-ledger", "wallet-webhooks"},
        "WEBHOOK_SECRET": {"wallet-api", "wallet-webhooks"},
        "FLOWER_BASIC_AUTH": {"wallet-flower"},
    }
    example = find(BASE_DOCS, "Secret", SECRET_NAME)
    assert set(readers) <= set(example["stringData"])
    # Nothing secret in the ConfigMap.
    assert not set(readers) & set(config_env())


def test_no_secret_in_the_tree_holds_anything_but_placeholders():
    secrets = [
        doc for path in sorted((ROOT / "deploy").rglob("*.y*ml")) for doc in load(path) if doc.get("kind") == "Secret"
    ]
    assert secrets, "the Secret example is missing"
    for secret in secrets:
        # base64 data could hide anything; an example spells its placeholders out.
        assert "data" not in secret
        for key, value in secret["stringData"].items():
            assert PLACEHOLDER in value, f"{secret['metadata']['name']}.{key} is not a placeholder"
