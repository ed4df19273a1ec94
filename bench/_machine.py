"""Describe the machine a benchmark runs on: CPU, cores, memory, Python, libraries, BLAS, load."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

LIBRARIES = ("sdmetrics", "pandas", "numpy", "scipy", "scikit-learn", "pyarrow")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def _blas() -> str:
    try:
        import numpy  # noqa: F401 - loads the BLAS library that threadpoolctl then reports
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
    except ImportError:
        return "unknown"
    return ", ".join(f"{pool['internal_api']} ({pool['num_threads']} threads)" for pool in pools) or "none"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, object]:
    """The machine as plain data."""
    memory = _memory_gib()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": None if memory is None else round(memory, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "blas": _blas(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def summary() -> str:
    """One line for a benchmark header."""
    info = describe()
    libraries = ", ".join(f"{name} {ver}" for name, ver in info["libraries"].items())
    load = info["load_average"]
    load_text = "" if load is None else f"; load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} at start"
    return (
        f"{info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), {info['memory_gib']} GiB RAM; "
        f"Python {info['python']} on {info['platform']}; {libraries}; BLAS: {info['blas']}{load_text}"
    )


if __name__ == "__main__":
    print(summary())


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started its program, in MiB.

    Linux's VmHWM belongs to the address space, which exec replaces: a child measures only itself.
    ``getrusage().ru_maxrss`` survives exec, so a child spawned by a parent holding 10M-row tables reports
    the parent's size (5.4 GB where the job itself peaked at 3.4 GB); it is the fallback off Linux.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
