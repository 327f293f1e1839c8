"""Fails when `sam build` left a native library that is not for Lambda's arm64 (AArch64) target,
a Python module without the runtime's bytecode, or a function whose code and layers together pass
Lambda's 250 MB unzipped limit.

File names do not say the architecture reliably (`_ffi.abi3.so`, `libjpeg.so.62`); the ELF header
does. The sizes are read from the built template: each function's folder plus its layers' folders
(the Globals' layers and its own)."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

AARCH64 = 183  # e_machine of an AArch64 ELF file
UNZIPPED_LIMIT = 262_144_000  # Lambda: function and all its layers, unzipped
# Python 3.13's bytecode (importlib.util.MAGIC_NUMBER of every 3.13 release), the runtime's: Lambda's
# /var/task and /opt are read-only, so a module shipped without it is compiled at every cold start.
PYTHON_TAG = "cpython-313"
MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked (zip timestamps cannot matter)


def machine(path: Path) -> int | None:
    with path.open("rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    byte_order = "<" if header[5] == 1 else ">"
    value: int = struct.unpack(f"{byte_order}H", header[18:20])[0]
    return value


def bytecode_problems(root: Path) -> tuple[int, list[str]]:
    """How many modules carry the runtime's bytecode, and what is wrong: a module without it (or
    with bytecode that checks its source or is for another Python), bytecode for another version."""
    modules, problems = 0, []
    for source in root.rglob("*.py"):
        modules += 1
        compiled = source.parent / "__pycache__" / f"{source.stem}.{PYTHON_TAG}.pyc"
        if not compiled.is_file():
            problems.append(f"{source}: no {PYTHON_TAG} bytecode")
            continue
        with compiled.open("rb") as handle:
            header = handle.read(8)
        if header[:4] != MAGIC_313 or int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            problems.append(f"{compiled}: not Python 3.13 bytecode with an unchecked hash")
    for compiled in root.rglob("*.pyc"):
        if not compiled.name.endswith(f".{PYTHON_TAG}.pyc"):
            problems.append(f"{compiled}: bytecode for another Python (dead weight)")
    return modules, problems


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def function_sizes(root: Path) -> dict[str, int]:
    """Unzipped bytes of each function with its layers, from the built template."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from local_stack.template import load_template

    template = load_template(root / "template.yaml")
    resources = template["Resources"]
    global_layers = template.get("Globals", {}).get("Function", {}).get("Layers", [])
    sizes = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        folders = [root / properties["CodeUri"]]
        for layer in [*global_layers, *properties.get("Layers", [])]:
            folders.append(root / resources[layer["Ref"]]["Properties"]["ContentUri"])
        sizes[name] = sum(folder_bytes(folder) for folder in folders)
    return sizes


def main(build_dir: str) -> int:
    root = Path(build_dir)
    checked, wrong = 0, []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            kind = machine(path)
            if kind is not None:
                checked += 1
                if kind != AARCH64:
                    wrong.append(f"{path} (e_machine {kind})")
    if not checked:
        print(f"no native libraries under {root}: was `sam build` run?", file=sys.stderr)
        return 1
    if wrong:
        print("not built for arm64:\n  " + "\n  ".join(wrong), file=sys.stderr)
        return 1
    print(f"{checked} native libraries, all AArch64")
    modules, problems = bytecode_problems(root)
    if problems:
        shown = "\n  ".join(problems[:20])
        print(f"{len(problems)} bytecode problem(s) in {modules} modules:\n  {shown}", file=sys.stderr)
        return 1
    print(f"{modules} Python modules, each with Python 3.13 bytecode (unchecked hash)")
    sizes = function_sizes(root)
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"  {name:<20} {size / 1e6:7.1f} MB unzipped with its layers (limit {UNZIPPED_LIMIT / 1e6:.0f} MB)")
    over = [name for name, size in sizes.items() if size > UNZIPPED_LIMIT]
    if over:
        print(f"over Lambda's unzipped limit: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build"))
