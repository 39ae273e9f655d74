"""Regenerate gen/ from proto/ with grpcio-tools, and stage imported protos for buf.

    python -m tools.protogen          # rewrite gen/
    python -m tools.protogen --check  # exit 1 when gen/ is stale (CI)

google/api/*.proto come from the installed googleapis-common-protos wheel; they are
copied to .build/protodeps (ignored by git) so that buf can resolve the imports
without reaching the Buf Schema Registry.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import google.api
import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
GEN = ROOT / "gen"
PROTODEPS = ROOT / ".build" / "protodeps"
GOOGLEAPIS = Path(google.api.__path__[0]).parent.parent
WELL_KNOWN = Path(grpc_tools.__file__).parent / "_proto"
STAGED = ["google/api/annotations.proto", "google/api/http.proto", "google/api/httpbody.proto"]


def stage_protodeps() -> None:
    for rel in STAGED:
        target = PROTODEPS / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GOOGLEAPIS / rel, target)


def generate(out: Path) -> None:
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    out.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTO}",
        f"-I{GOOGLEAPIS}",
        f"-I{WELL_KNOWN}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # Namespace packages would work too, but plain packages keep tools (mypy, pytest) happy.
    for folder in [p for p in out.rglob("*") if p.is_dir()] + [out / "storyverse"]:
        (folder / "__init__.py").touch()


def stale_files(fresh: Path) -> list[str]:
    def listing(base: Path) -> set[str]:
        return {
            str(p.relative_to(base)) for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        }

    ours, theirs = listing(GEN), listing(fresh)
    differ = sorted(ours ^ theirs)
    differ += [f for f in sorted(ours & theirs) if not filecmp.cmp(GEN / f, fresh / f, shallow=False)]
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail when gen/ differs from proto/")
    args = parser.parse_args()
    stage_protodeps()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            differ = stale_files(Path(tmp))
        if differ:
            print("gen/ is stale; run `make gen`. Differs:", *differ, sep="\n  ", file=sys.stderr)
            raise SystemExit(1)
        print("gen/ is up to date")
        return
    shutil.rmtree(GEN, ignore_errors=True)
    generate(GEN)
    print(f"generated {sum(1 for _ in GEN.rglob('*.py'))} modules in gen/")


if __name__ == "__main__":
    main()
