"""The Python gRPC modules of proto/ (inference.proto, health.proto,
reflection.proto), generated at run time with protoc and Debian's
grpc_python_plugin into a temporary directory and imported from there:
nothing generated is committed. Shared by tests/grpc_check.py and
bench/grpc_peer.py, which load this file by its path:

    spec = importlib.util.spec_from_file_location("grpc_gen", ROOT / "tools/grpc_gen.py")
    grpc_gen = importlib.util.module_from_spec(spec); spec.loader.exec_module(grpc_gen)
    grpc_gen.use_system_python()        # before `import grpc`
    pb = grpc_gen.generate(tmpdir)      # pb.inference_pb2, pb.health_pb2_grpc, ...

Needs the Debian packages python3-grpcio, python3-protobuf,
protobuf-compiler and protobuf-compiler-grpc."""
import importlib
import os
import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
PROTOS = ("inference", "health", "reflection")
PLUGIN = "/usr/bin/grpc_python_plugin"
SYSTEM_PYTHON = "/usr/bin/python3"


def use_system_python():
    """Runs the script again with Debian's python3 when the python3 found
    first on PATH (pyenv's, a virtualenv's) has no grpc or protobuf: the
    Debian packages are importable only by the interpreter they were built
    for. Call it before importing grpc."""
    try:
        import grpc  # noqa: F401
        import google.protobuf  # noqa: F401
        return
    except ImportError as e:
        why = e
    here = os.path.realpath(sys.executable)
    if os.path.exists(SYSTEM_PYTHON) and os.path.realpath(SYSTEM_PYTHON) != here and \
            not os.environ.get("LEAKYRELU_GRPC_REEXEC"):
        os.environ["LEAKYRELU_GRPC_REEXEC"] = "1"
        sys.stdout.flush()
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
    sys.exit(f"{sys.argv[0]}: {why}: install python3-grpcio and python3-protobuf")


def generate(out_dir):
    """Generates the *_pb2.py and *_pb2_grpc.py modules into out_dir and
    imports them: a namespace with inference_pb2, inference_pb2_grpc,
    health_pb2, health_pb2_grpc, reflection_pb2, reflection_pb2_grpc."""
    cmd = ["protoc", f"-I{PROTO_DIR}", f"--python_out={out_dir}", f"--grpc_out={out_dir}",
           f"--plugin=protoc-gen-grpc={PLUGIN}"] + [f"{p}.proto" for p in PROTOS]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"protoc failed ({' '.join(cmd)}):\n{done.stderr}")
    sys.path.insert(0, str(out_dir))
    importlib.invalidate_caches()
    modules = {}
    for p in PROTOS:
        for suffix in ("_pb2", "_pb2_grpc"):
            modules[p + suffix] = importlib.import_module(p + suffix)
    return types.SimpleNamespace(**modules)
