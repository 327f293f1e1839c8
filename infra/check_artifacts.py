"""Fails when `sam build` left a native library that is not for Lambda's arm64 (AArch64) target,
or a function whose code and layers together pass Lambda's 250 MB unzipped limit.

File names do not say the architecture reliably (`_ffi.abi3.so`, `libjpeg.so.62`); the ELF header
does. The sizes are read from the built template: each function's folder plus its layers' folders
(the Globals' layers and its own)."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

AARCH64 = 183  # e_machine of an AArch64 ELF file
UNZIPPED_LIMIT = 262_144_000  # Lambda: function and all its layers, unzipped


def machine(path: Path) -> int | None:
    with path.open("rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    byte_order = "<" if header[5] == 1 else ">"
    value: int = struct.unpack(f"{byte_order}H", header[18:20])[0]
    return value


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
