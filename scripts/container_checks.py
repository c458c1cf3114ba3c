#!/usr/bin/env python3
"""Static checks of docker/ and deploy/ against what the build produces.

No container engine or cluster is needed.  Every container of the compose file
and of the rendered Kubernetes manifests must:
  - run a binary that `make` builds into build/bin and the image ships;
  - pass `flowsift config check` with its configuration file and FLOWSIFT_*
    variables (so every key exists and every value is valid);
  - publish exactly the ports that configuration makes the program listen on
    (the metrics port of <worker>.metrics.listen, and for ingest the UDP ports
    of ingest.listen and the TCP ports of ingest.listen.tcp), and probe
    /healthz and /readyz on the metrics port (flowsift-console: its page and
    API on console.listen, probed on /healthz, with console.token.file in a
    mounted Secret and a ClusterIP Service only);
  - run as a non-root user with a read-only root filesystem.
Containers of other images in a pod (init containers, sidecars such as
geoipupdate) need a pinned image tag, resource requests and the same
security context.  In the Kubernetes manifests, the files that enrich and
filter reload (enrich.geoip.*, enrich.interfaces.map, enrich.prefixes,
filter.rules) must lie in a volume mounted without subPath, because the
kubelet never updates a subPath mount.  That volume is a ConfigMap with the
file's key, an emptyDir that an init container writes, or any other kind
(such as a PersistentVolumeClaim), which is not checked.  flowsift-report and
flowsift-console must receive the Redis password as redis.password
(FLOWSIFT_REDIS_PASSWORD or _FILE), the same way, and never inside
FLOWSIFT_REDIS_URL.
The Dockerfile must install the -dev package of every pkg-config library of
the Makefile, nodejs and npm when it ships flowsift-console (whose page
scripts/build-web.sh bundles), a runtime package for every shared
library the binaries link, and netbase, whose /etc/services flowsift-enrich
loads at start.

  container_checks.py compose BUILD_DIR
  container_checks.py deploy BUILD_DIR NODE_MODULES_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The check scripts point these at altered copies to show that the checks fail.
DOCKER_DIR = os.environ.get("CHECK_DOCKER_DIR", os.path.join(ROOT, "docker"))
DOCKERFILE = os.path.join(DOCKER_DIR, "Dockerfile")
COMPOSE = os.path.join(DOCKER_DIR, "compose.yaml")
DEPLOY = os.environ.get("CHECK_DEPLOY_DIR", os.path.join(ROOT, "deploy"))

# The worker binaries and the key that sets where each serves its metrics.
METRICS_KEYS = {
    "flowsift-ingest": "ingest.metrics.listen",
    "flowsift-enrich": "enrich.metrics.listen",
    "flowsift-filter": "filter.metrics.listen",
    "flowsift-report": "report.metrics.listen",
}
# Servers that are not workers: the key of their listen address, and the
# (liveness, readiness) probe paths.
SERVER_KEYS = {"flowsift-console": "console.listen"}
PROBE_PATHS = {"flowsift-console": ("/healthz", "/healthz")}
# Packages every debian:12-slim image already has.
BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
# Files that a program loads at start when its key is empty (the default), with
# the Debian package that provides each.  debian:12-slim lacks these packages,
# and the program stops at start without the file.
BASE_SYSTEM_FILES = {"enrich.services": ("/etc/services", "netbase")}
# Files a worker reloads when they change, by binary, and the key of its check interval.
RELOADED_FILES = {
    "flowsift-enrich": (["enrich.geoip.city", "enrich.geoip.asn", "enrich.interfaces.map",
                         "enrich.prefixes"], "enrich.reload.interval"),
    "flowsift-filter": (["filter.rules"], "filter.reload.interval"),
}
# Programs that connect to Redis, and the variables that may set redis.password.
REDIS_CLIENTS = {"flowsift-report", "flowsift-console"}
REDIS_PASSWORD_VARS = ("FLOWSIFT_REDIS_PASSWORD", "FLOWSIFT_REDIS_PASSWORD_FILE")

errors = []


def fail(where, message):
    errors.append(f"{where}: {message}")


def run(argv, env=None):
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)


class Build:
    """The build output: the binaries, and the flowsift CLI that validates settings."""

    def __init__(self, build_dir):
        self.bin_dir = os.path.join(build_dir, "bin")
        self.binaries = set(os.listdir(self.bin_dir)) if os.path.isdir(self.bin_dir) else set()
        self.cli = os.path.join(self.bin_dir, "flowsift")
        if "flowsift" not in self.binaries:
            sys.exit(f"container_checks: {self.cli} is missing: run `make` first")

    def config(self, config_text, env, keys):
        """Runs `flowsift config check`, then `get` for keys; returns ({key: value}, error)."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSIFT_")}
        clean.update(env)
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(config_text)
            path = f.name
        try:
            check = run([self.cli, "config", "--config", path, "check"], clean)
            if check.returncode != 0:
                return {}, check.stderr.strip()
            values = {}
            for key in keys:
                got = run([self.cli, "config", "--config", path, "get", key], clean)
                if got.returncode != 0:
                    return {}, got.stderr.strip()
                values[key] = got.stdout.strip()
            return values, None
        finally:
            os.unlink(path)


def listen_ports(text):
    """Ports of a "host:port,[v6]:port" list."""
    return {int(item.rsplit(":", 1)[1]) for item in text.replace(" ", "").split(",") if item}


def check_container(where, build, command, ports, env, config_text, shipped):
    """ports: set of (port, "TCP"|"UDP") the container exposes."""
    if not command:
        fail(where, "no command: set the worker binary explicitly")
        return None
    binary = command[0]
    if binary not in build.binaries:
        fail(where, f"command '{binary}' is not a binary in {build.bin_dir}")
    if shipped is not None and binary not in shipped:
        fail(where, f"command '{binary}' is not copied into the image by docker/Dockerfile")
    metrics_key = METRICS_KEYS.get(binary) or SERVER_KEYS.get(binary)
    if not metrics_key:
        fail(where, f"'{binary}' is not a program this checker knows "
             f"({', '.join(list(METRICS_KEYS) + list(SERVER_KEYS))})")
        return None
    keys = [metrics_key] + (["ingest.listen", "ingest.listen.tcp"] if binary == "flowsift-ingest" else [])
    values, error = build.config(config_text, env, keys)
    if error:
        fail(where, f"configuration rejected by flowsift config check: {error}")
        return None
    metrics_port = int(values[metrics_key].rsplit(":", 1)[1])
    host = values[metrics_key].rsplit(":", 1)[0]
    if host in ("127.0.0.1", "[::1]", "localhost"):
        fail(where, f"{metrics_key} = {values[metrics_key]} listens on loopback only: "
             "probes and other pods cannot reach it")
    expected = {(metrics_port, "TCP")}
    if binary == "flowsift-ingest":
        expected |= {(p, "UDP") for p in listen_ports(values["ingest.listen"])}
        expected |= {(p, "TCP") for p in listen_ports(values["ingest.listen.tcp"])}
        tcp_hosts = {item.rsplit(":", 1)[0] for item in values["ingest.listen.tcp"].split(",") if item}
        if tcp_hosts & {"127.0.0.1", "[::1]", "::1"}:
            fail(where, f"ingest.listen.tcp = {values['ingest.listen.tcp']} listens on loopback: "
                 "exporters outside the container cannot reach IPFIX over TCP")
    for port, proto in sorted(expected - ports):
        fail(where, f"{binary} listens on {proto} {port}, which the container does not expose")
    for port, proto in sorted(ports - expected):
        fail(where, f"exposes {proto} {port}, on which {binary} does not listen")
    return metrics_port


# --- Dockerfile --------------------------------------------------------------

def dockerfile_facts():
    text = open(DOCKERFILE).read().replace("\\\n", " ")
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    facts = {"build_packages": set(), "runtime_packages": set(), "shipped": set(),
             "user": None, "expose": set(), "stages": [s.split()[0] for s in stages]}
    for i, stage in enumerate(stages):
        packages = set()
        for line in stage.splitlines():
            m = re.search(r"apt-get install (.*?)(&&|$)", line)
            if m:
                packages |= {w for w in m.group(1).split() if not w.startswith("-")}
            m = re.match(r"COPY --from=build (.*)", line)
            if m:
                facts["shipped"] |= {os.path.basename(p) for p in m.group(1).split()[:-1]}
            m = re.match(r"USER (\S+)", line)
            if m:
                facts["user"] = m.group(1)
            m = re.match(r"EXPOSE (.*)", line)
            if m:
                facts["expose"] |= set(m.group(1).split())
        facts["build_packages" if i == 0 else "runtime_packages"] |= packages
    return facts


def package_of(path):
    out = run(["dpkg", "-S", os.path.realpath(path)])
    if out.returncode != 0:
        # merged /usr: dpkg may know the file under /lib.
        out = run(["dpkg", "-S", os.path.realpath(path).replace("/usr/lib/", "/lib/", 1)])
    return out.stdout.split(":")[0].strip() if out.returncode == 0 else None


def check_dockerfile(build, facts):
    where = "docker/Dockerfile"
    if facts["stages"][:1] != ["debian:12"] or "debian:12-slim" not in facts["stages"]:
        fail(where, f"expected a debian:12 build stage and a debian:12-slim runtime stage, found {facts['stages']}")
    user = facts["user"] or "root"
    if not re.match(r"^[1-9][0-9]*(:[1-9][0-9]*)?$", user):
        fail(where, f"USER {user}: expected a numeric non-root uid, so runAsNonRoot can verify it")
    for b in sorted(set(METRICS_KEYS) | {"flowsift"}):
        if b not in facts["shipped"]:
            fail(where, f"{b} is not copied into the runtime stage")
    for b in sorted(facts["shipped"] - build.binaries):
        fail(where, f"copies {b}, which the build does not produce")
    node = {"nodejs", "npm"}
    if "flowsift-console" in facts["shipped"] and not node <= facts["build_packages"]:
        fail(where, f"build stage lacks {' and '.join(sorted(node - facts['build_packages']))}, "
             "which scripts/build-web.sh needs to bundle the page of flowsift-console")
    makefile = open(os.path.join(ROOT, "Makefile")).read()
    pkgs = re.search(r"^PKGS\s*:=\s*(.*)$", makefile, re.M).group(1).split()
    for pkg in pkgs:
        pc = run(["pkg-config", "--path", pkg]).stdout.strip()
        dev = package_of(pc) if pc else None
        if not dev:
            fail(where, f"cannot tell which Debian package provides pkg-config '{pkg}'")
        elif dev not in facts["build_packages"]:
            fail(where, f"build stage lacks {dev} (pkg-config '{pkg}' in the Makefile's PKGS)")
    needed = set()
    for b in facts["shipped"] & build.binaries:
        out = run(["ldd", os.path.join(build.bin_dir, b)]).stdout
        direct = set(re.findall(r"\(NEEDED\).*?\[(.*?)\]",
                                run(["readelf", "-d", os.path.join(build.bin_dir, b)]).stdout))
        for line in out.splitlines():
            m = re.match(r"\s*(\S+) => (\S+)", line)
            if m and m.group(1) in direct:
                needed.add(m.group(2))
    for lib in sorted(needed):
        pkg = package_of(lib)
        if pkg and pkg not in facts["runtime_packages"] | BASE_PACKAGES:
            fail(where, f"runtime stage lacks {pkg}, which provides {os.path.basename(lib)}")
    for key, (path, pkg) in sorted(BASE_SYSTEM_FILES.items()):
        if pkg not in facts["runtime_packages"]:
            fail(where, f"runtime stage lacks {pkg}, which provides {path}, the file an empty {key} loads")
    for key in list(METRICS_KEYS.values()) + list(SERVER_KEYS.values()):
        default = run([build.cli, "config", "--config", "/dev/null", "get", key]).stdout.strip()
        port = default.rsplit(":", 1)[-1]
        if port not in facts["expose"]:
            fail(where, f"EXPOSE lacks {port}, the default port of {key}")


# --- compose -------------------------------------------------------------------

def compose_ports(service):
    ports = set()
    for p in service.get("ports", []):
        if isinstance(p, dict):
            ports.add((int(p["target"]), p.get("protocol", "tcp").upper()))
        else:
            spec, _, proto = str(p).partition("/")
            ports.add((int(spec.rsplit(":", 1)[-1]), (proto or "tcp").upper()))
    return ports


def check_compose(build):
    facts = dockerfile_facts()
    check_dockerfile(build, facts)
    out = run(["docker-compose", "-f", COMPOSE, "config"])
    if out.returncode != 0:
        fail("docker/compose.yaml", f"docker-compose config rejected it: {out.stderr.strip()}")
        return
    config = yaml.safe_load(out.stdout)
    services = config.get("services", {})
    kafka = services.get("kafka", {})
    if "broker,controller" not in str(kafka.get("environment", {}).get("KAFKA_PROCESS_ROLES")):
        fail("docker/compose.yaml", "service kafka must run in KRaft mode (KAFKA_PROCESS_ROLES)")
    if "redis" not in services:
        fail("docker/compose.yaml", "no redis service")
    workers = set()
    for name, svc in sorted(services.items()):
        if not str(svc.get("image", "")).startswith("flowsift"):
            continue
        where = f"docker/compose.yaml service {name}"
        config_text = ""
        for volume in svc.get("volumes", []):
            source, target = volume.split(":")[:2] if isinstance(volume, str) else (volume["source"], volume["target"])
            if not os.path.exists(source):
                fail(where, f"mounts {source}, which does not exist")
            elif target == "/etc/flowsift/flowsift.conf":
                config_text = open(source).read()
        if not config_text:
            fail(where, "mounts no /etc/flowsift/flowsift.conf (the image's FLOWSIFT_CONFIG)")
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        if not svc.get("read_only"):
            fail(where, "read_only must be true")
        if "ALL" not in svc.get("cap_drop", []):
            fail(where, "cap_drop must contain ALL")
        user = str(svc.get("user", facts["user"] or "root")).split(":")[0]
        if user in ("root", "0"):
            fail(where, "runs as root")
        command = svc.get("command") or []
        if isinstance(command, str):
            command = command.split()
        check_container(where, build, command, compose_ports(svc), env, config_text, facts["shipped"])
        workers.add(command[0] if command else None)
    for binary in sorted((set(METRICS_KEYS) | set(SERVER_KEYS)) - workers):
        fail("docker/compose.yaml", f"no service runs {binary}")


# --- kustomize (the subset deploy/ uses) -----------------------------------------

def load_yaml_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def deep_merge(base, patch):
    """Strategic merge for the fields deploy/ patches: maps merge, named lists merge by name.

    A merged named list has the patch's items first, in the patch's order, then
    the base's other items, which is the order `kubectl kustomize` (v5) gives.
    """
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = deep_merge(base[k], v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(patch, list) and all(
            isinstance(x, dict) and "name" in x for x in base + patch):
        by_name = {x["name"]: x for x in base}
        out = [deep_merge(by_name[item["name"]], item) if item["name"] in by_name else item
               for item in patch]
        patched = {item["name"] for item in patch}
        return out + [dict(x) for x in base if x["name"] not in patched]
    return patch


def set_labels(obj, pairs):
    obj.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
    template = obj.get("spec", {}).get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def render(folder):
    """Renders a kustomization: resources, patches, namespace, labels, images."""
    kfile = os.path.join(folder, "kustomization.yaml")
    k = load_yaml_docs(kfile)[0]
    supported = {"apiVersion", "kind", "resources", "patches", "namespace", "labels", "images"}
    for field in set(k) - supported:
        fail(os.path.relpath(kfile, ROOT), f"field '{field}' is not supported by this checker")
    objects = []
    for res in k.get("resources", []):
        path = os.path.join(folder, res)
        if os.path.isdir(path):
            objects += render(path)
        else:
            objects += [(os.path.relpath(path, ROOT), o) for o in load_yaml_docs(path)]
    for patch in k.get("patches", []):
        path = os.path.join(folder, patch["path"])
        for p in load_yaml_docs(path):
            matches = [i for i, (_, o) in enumerate(objects)
                       if o["kind"] == p["kind"] and o["metadata"]["name"] == p["metadata"]["name"]]
            if len(matches) != 1:
                fail(os.path.relpath(path, ROOT),
                     f"patch for {p['kind']} {p['metadata']['name']} matches {len(matches)} objects")
                continue
            source, obj = objects[matches[0]]
            objects[matches[0]] = (source, deep_merge(obj, p))
    for _, obj in objects:
        if "namespace" in k:
            obj["metadata"]["namespace"] = k["namespace"]
        for label in k.get("labels", []):
            set_labels(obj, label["pairs"])
        for image in k.get("images", []):
            for c in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                if c.get("image", "").split(":")[0] == image["name"]:
                    c["image"] = f"{image.get('newName', image['name'])}:{image.get('newTag', 'latest')}"
    return objects


def env_for_check(container):
    """FLOWSIFT_* variables of a container, with secrets replaced by placeholders."""
    values = {}
    for e in container.get("env", []):
        if "valueFrom" in e:
            values[e["name"]] = "placeholder-secret"
        else:
            values[e["name"]] = re.sub(r"\$\((\w+)\)", lambda m: values.get(m.group(1), ""),
                                       str(e.get("value", "")))
    return {k: v for k, v in values.items() if k.startswith("FLOWSIFT_")}


def is_flowsift(container):
    """Return whether the container runs the flowsift image, whatever registry and tag an overlay sets."""
    name = container.get("image", "").split("@")[0].rsplit("/", 1)[-1]
    return name.split(":")[0] == "flowsift"


def check_security(where, container):
    sc = container.get("securityContext", {})
    if not sc.get("readOnlyRootFilesystem"):
        fail(where, "readOnlyRootFilesystem must be true")
    if sc.get("allowPrivilegeEscalation") is not False:
        fail(where, "allowPrivilegeEscalation must be false")
    if "ALL" not in sc.get("capabilities", {}).get("drop", []):
        fail(where, "capabilities must drop ALL")
    if not container.get("resources", {}).get("requests"):
        fail(where, "no resource requests")


def worker_container(dep):
    """Return the first flowsift container of a Deployment (its worker), or the first container."""
    containers = dep["spec"]["template"]["spec"]["containers"]
    return next((c for c in containers if is_flowsift(c)), containers[0])


def check_other_container(where, container):
    """Check an init container or sidecar of another image: a pinned tag, no privileges, requests."""
    check_security(where, container)
    image = container.get("image", "")
    name = image.split("@")[0].rsplit("/", 1)[-1]
    if "@" not in image and (":" not in name or name.endswith(":latest")):
        fail(where, f"image {image or '(none)'} has no pinned tag or digest")


def check_reloaded_files(where, build, container, pod, config_text, configmaps):
    """Check that the files a worker reloads lie in a volume that the kubelet keeps current."""
    keys, interval_key = RELOADED_FILES.get(container["command"][0], ([], None))
    if not keys:
        return
    values, error = build.config(config_text, env_for_check(container), keys + [interval_key])
    if error:
        return  # check_container has reported it
    paths = {k: values[k] for k in keys if values[k]}
    if paths and values[interval_key] == "0":
        fail(where, f"{interval_key} = 0: {', '.join(sorted(paths))} would reload only on SIGHUP, "
             "which nothing sends in Kubernetes")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    init_names = {c["name"] for c in pod.get("initContainers", [])}
    for key, path in sorted(paths.items()):
        mounts = [m for m in container.get("volumeMounts", [])
                  if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")]
        if not mounts:
            fail(where, f"{key} = {path} is in no volume mounted into the container")
            continue
        mount = max(mounts, key=lambda m: len(m["mountPath"]))
        if mount.get("subPath") or mount.get("subPathExpr"):
            fail(where, f"{key} = {path} is in volume {mount['name']} mounted with subPath, "
                 "which the kubelet never updates: mount the whole volume as a folder")
            continue
        volume = volumes.get(mount["name"], {})
        relative = path[len(mount["mountPath"].rstrip("/")) + 1:]
        if "configMap" in volume:
            cm_name = volume["configMap"]["name"]
            items = volume["configMap"].get("items")
            names = [i["path"] for i in items] if items else list(configmaps.get(cm_name, {}).get("data", {}))
            if cm_name in configmaps and relative not in names:
                fail(where, f"{key} = {path}, but the volume of ConfigMap {cm_name} has no file {relative}")
        elif "emptyDir" in volume:
            writers = {c["name"] for c in pod.get("initContainers", []) + pod["containers"]
                       if c is not container and any(m["name"] == mount["name"] and not m.get("readOnly")
                                                     for m in c.get("volumeMounts", []))}
            if not writers & init_names:
                fail(where, f"{key} = {path} is in emptyDir {mount['name']}, which no init container "
                     f"writes, so the file is missing when {container['command'][0]} starts")


def check_deployment(where, build, dep, configmaps, shipped):
    pod = dep["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    if not psc.get("runAsNonRoot") or not psc.get("runAsUser"):
        fail(where, "pod securityContext needs runAsNonRoot: true and a runAsUser")
    selector = dep["spec"]["selector"].get("matchLabels", {})
    labels = dep["spec"]["template"]["metadata"].get("labels", {})
    if any(labels.get(k) != v for k, v in selector.items()):
        fail(where, "the selector does not match the pod template's labels")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod.get("initContainers", []) + [c for c in pod["containers"] if not is_flowsift(c)]:
        check_other_container(f"{where} container {c['name']}", c)
    for c in pod["containers"]:
        if not is_flowsift(c):
            continue
        cwhere = f"{where} container {c['name']}"
        check_security(cwhere, c)
        config_text = None
        for m in c.get("volumeMounts", []):
            vol = volumes.get(m["name"], {})
            cm_name = vol.get("configMap", {}).get("name")
            if cm_name and cm_name not in configmaps:
                fail(cwhere, f"mounts ConfigMap {cm_name}, which the manifests do not define")
            elif cm_name and m["mountPath"] == "/etc/flowsift":
                config_text = configmaps[cm_name].get("data", {}).get("flowsift.conf")
        if config_text is None:
            fail(cwhere, "mounts no ConfigMap with flowsift.conf at /etc/flowsift")
            continue
        ports = {(p["containerPort"], p.get("protocol", "TCP")) for p in c.get("ports", [])}
        named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        metrics_port = check_container(cwhere, build, c.get("command"), ports,
                                       env_for_check(c), config_text, shipped)
        if metrics_port is None:
            continue
        binary = c["command"][0]
        if binary == "flowsift-console":
            check_console_token(cwhere, build, c, pod, config_text)
        check_reloaded_files(cwhere, build, c, pod, config_text, configmaps)
        paths = PROBE_PATHS.get(binary, ("/healthz", "/readyz"))
        for probe, path in zip(("livenessProbe", "readinessProbe"), paths):
            get = c.get(probe, {}).get("httpGet", {})
            port = named.get(get.get("port"), get.get("port"))
            if get.get("path") != path or port != metrics_port:
                fail(cwhere, f"{probe} must be httpGet {path} on the metrics port {metrics_port}")
    return labels


def check_console_token(where, build, container, pod, config_text):
    """console.token.file must be set and lie in a volume of a Secret."""
    values, error = build.config(config_text, env_for_check(container), ["console.token.file"])
    if error:
        return  # check_container has reported it
    path = values["console.token.file"]
    if not path:
        fail(where, "console.token.file is empty: the console API would need no token")
        return
    secrets = {v["name"] for v in pod.get("volumes", []) if "secret" in v}
    mounts = [m["mountPath"].rstrip("/") + "/" for m in container.get("volumeMounts", [])
              if m["name"] in secrets]
    if not any(path.startswith(m) for m in mounts):
        fail(where, f"console.token.file = {path} is not in a mounted Secret volume")


def check_deploy(build, modules):
    shipped = dockerfile_facts()["shipped"]
    folders = [os.path.join(DEPLOY, "base")]
    overlays = os.path.join(DEPLOY, "overlays")
    folders += sorted(os.path.join(overlays, d) for d in os.listdir(overlays))
    for folder in folders:
        rel = os.path.relpath(folder, ROOT)
        objects = render(folder)
        print(f"check-deploy: {rel}: {len(objects)} objects")
        items = [{"source": f"{rel} ({src})", "object": obj} for src, obj in objects]
        out = subprocess.run(["node", os.path.join(ROOT, "scripts", "k8s-validate.mjs"), modules],
                             input=json.dumps(items), capture_output=True, text=True, check=False)
        for line in out.stdout.splitlines():
            if line.startswith("k8s-validate:"):
                print(f"check-deploy: {line}")
            else:
                fail(rel, line)
        if out.returncode not in (0, 1) or out.stderr.strip():
            fail(rel, f"the schema validator failed: {out.stderr.strip()}")
        configmaps = {o["metadata"]["name"]: o for _, o in objects if o["kind"] == "ConfigMap"}
        pods = {}
        for src, o in objects:
            if o["kind"] == "Deployment":
                pods[o["metadata"]["name"]] = (o, check_deployment(
                    f"{rel} Deployment {o['metadata']['name']}", build, o, configmaps, shipped))
        check_references(rel, objects, pods)
        check_redis_password(rel, pods)
        workers = {worker_container(d).get("command", [""])[0]
                   for d, _ in pods.values()}
        for binary in sorted(set(METRICS_KEYS) - workers):
            fail(rel, f"no Deployment runs {binary}")


def check_redis_password(rel, pods):
    """Check that report and the console get redis.password the same way, never in FLOWSIFT_REDIS_URL."""
    ways = {}
    for name, (dep, _) in sorted(pods.items()):
        for c in dep["spec"]["template"]["spec"]["containers"]:
            if not is_flowsift(c) or (c.get("command") or [""])[0] not in REDIS_CLIENTS:
                continue
            where = f"{rel} Deployment {name} container {c['name']}"
            env = {e["name"]: e for e in c.get("env", [])}
            url = env.get("FLOWSIFT_REDIS_URL")
            if url is not None and ("valueFrom" in url or re.search(r"\$\(|@", str(url.get("value", "")))):
                fail(where, "FLOWSIFT_REDIS_URL carries the Redis password: keep redis.url in the "
                     "ConfigMap and pass the password as FLOWSIFT_REDIS_PASSWORD from the Secret")
            ways[where] = ", ".join(v for v in REDIS_PASSWORD_VARS if v in env) or "no password variable"
    if len(set(ways.values())) > 1:
        fail(rel, "flowsift-report and flowsift-console get the Redis password in different ways: "
             + "; ".join(f"{where}: {way}" for where, way in sorted(ways.items())))


def check_references(rel, objects, pods):
    """Services, HPAs and PDBs must select or target a Deployment of the same manifests."""
    def selected(selector):
        return [name for name, (_, labels) in pods.items()
                if selector and all(labels.get(k) == v for k, v in selector.items())]

    hpa_targets = set()
    for _, o in objects:
        where = f"{rel} {o['kind']} {o['metadata']['name']}"
        if o["kind"] == "Service":
            targets = selected(o["spec"].get("selector"))
            if not targets:
                fail(where, "selects no Deployment")
            console = [t for t in targets
                       if worker_container(pods[t][0]).get("command", [""])[0]
                       == "flowsift-console"]
            if console and o["spec"].get("type", "ClusterIP") != "ClusterIP":
                fail(where, f"exposes flowsift-console as type {o['spec']['type']}: "
                     "keep it ClusterIP and add an Ingress with TLS if it must be reached from outside")
            for p in o["spec"].get("ports", []):
                for t in targets:
                    c = worker_container(pods[t][0])
                    names = {q.get("name"): (q["containerPort"], q.get("protocol", "TCP")) for q in c.get("ports", [])}
                    target = names.get(p.get("targetPort"), (p.get("targetPort"), p.get("protocol", "TCP")))
                    if target not in set(names.values()) or target[1] != p.get("protocol", "TCP"):
                        fail(where, f"port {p.get('name')} targets {p.get('targetPort')}/{p.get('protocol', 'TCP')}, "
                             f"which Deployment {t} does not expose")
        elif o["kind"] == "PodDisruptionBudget":
            if not selected(o["spec"]["selector"].get("matchLabels")):
                fail(where, "selects no Deployment")
        elif o["kind"] == "HorizontalPodAutoscaler":
            ref = o["spec"]["scaleTargetRef"]
            if ref["kind"] != "Deployment" or ref["name"] not in pods:
                fail(where, f"targets {ref['kind']} {ref['name']}, which the manifests do not define")
            hpa_targets.add(ref["name"])
    for name in ("flowsift-enrich", "flowsift-filter", "flowsift-report"):
        if name in pods and name not in hpa_targets:
            fail(rel, f"no HorizontalPodAutoscaler for {name}")
    if not any(o["kind"] == "Service" and any(p.get("protocol") == "UDP" for p in o["spec"].get("ports", []))
               for _, o in objects):
        fail(rel, "no UDP Service for flowsift-ingest")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("compose", "deploy"):
        sys.exit(__doc__)
    build = Build(sys.argv[2])
    if sys.argv[1] == "compose":
        check_compose(build)
    else:
        check_deploy(build, sys.argv[3])
    for e in errors:
        print(f"FAIL {e}")
    print(f"check-{sys.argv[1]}: {'failed' if errors else 'ok'} ({len(errors)} problems)")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
