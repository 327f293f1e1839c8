"""Fails when `sam build` left a native library that is not for Lambda's arm64 (AArch64) target.

File names do not say it reliably (`_ffi.abi3.so`, `libjpeg.so.62`); the ELF header does."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

AARCH64 = 183  # e_machine of an AArch64 ELF file


def machine(path: Path) -> int | None:
    with path.open("rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    byte_order = "<" if header[5] == 1 else ">"
    value: int = struct.unpack(f"{byte_order}H", header[18:20])[0]
    return value


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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build"))
