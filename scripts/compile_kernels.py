"""Compile the numba loops at install time, into their on-disk cache (`townsquare.compiled`)."""

from __future__ import annotations

from townsquare import compiled

if __name__ == "__main__":
    print(f"compile_kernels: ready in {compiled.warm():.1f} s")
