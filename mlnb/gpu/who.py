"""``who()``: whose GPU memory is it — every device's processes as kernels, notebooks and others.

The one entry point the terminal (``mlnb gpu who [--all]``) and ``%gpu`` share: the
driver's view from :func:`mlnb.gpu.status`, the kernels' self-reports (their notebook
names, for kernels with mlnb loaded), and with ``servers=True`` the sessions of every
running Jupyter server, all mapped by :func:`mlnb.gpu.attribution.attribute`.
"""

from __future__ import annotations

from mlnb.gpu.attribution import IDLE_AFTER, Attribution, KernelRef, attribute
from mlnb.gpu.jupyter_servers import ServerKernels, all_kernels
from mlnb.gpu.selfreport import SelfReport, read_all
from mlnb.gpu.status import StatusReport, status


def _from_reports(kernels: list[KernelRef], reports: list[SelfReport]) -> list[KernelRef]:
    """The kernels plus those only a self-report knows; a known kernel without a path gets the
    report's notebook name."""
    by_id = {k.kernel_id: k for k in kernels}
    merged = list(kernels)
    for report in reports:
        known = by_id.get(report.kernel_id or "")
        if known is None:
            merged.append(
                KernelRef(
                    kernel_id=report.kernel_id or f"pid {report.pid}",
                    pid=report.pid,
                    path=report.notebook,
                    last_activity=report.time,
                    execution_state="busy" if report.busy else "idle",
                )
            )
        elif known.pid is None:
            merged[merged.index(known)] = KernelRef(
                known.kernel_id,
                pid=report.pid,
                path=known.path or report.notebook,
                name=known.name,
                last_activity=known.last_activity,
                execution_state=known.execution_state,
                server=known.server,
            )
    return merged


def who(
    *,
    servers: bool = False,
    this_pid: int | None = None,
    report: StatusReport | None = None,
    idle_after: float = IDLE_AFTER,
) -> Attribution:
    """Every device's memory by notebook, kernel and other process.

    Args:
        servers: also ask every running Jupyter server for its sessions (notebook names,
            last activity); a server that does not answer becomes a note.
        this_pid: the asking kernel's pid, shown as "this kernel".
        report: a status reading to use (default: read the devices now).
        idle_after: seconds without activity after which a kernel holding memory is flagged.

    Returns:
        An :class:`~mlnb.gpu.attribution.Attribution`; without a GPU its only note says why.
    """
    report = status() if report is None else report
    found = all_kernels() if servers else ServerKernels()
    notes = list(found.notes)
    sentence = report.no_gpu_sentence()
    if sentence:
        notes.insert(0, sentence.replace("; showing host RAM instead", ""))
    reports = read_all()
    kernels = _from_reports(found.kernels, reports)
    return attribute(
        report.devices,
        kernels,
        reports=reports,
        this_pid=this_pid,
        notes=notes,
        idle_after=idle_after,
    )
