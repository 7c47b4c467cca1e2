"""The ``ray`` executor: each trial is one Ray task (``ray.remote``) on an existing cluster or a local one.

Ray is an optional extra (``pip install 'edgecnn[ray]'``) imported only here. Without ``--ray-address`` a
private local instance is started on loopback (127.0.0.1) with ``ray_cpus`` CPUs and no dashboard, and shut
down afterwards. Tasks write into the sweep folder themselves, exactly like the local executor; with a
multi-node cluster that folder must be on a filesystem every node mounts at the same path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from edgecnn.core.errors import EdgeCNNError
from edgecnn.sweep.config import SweepConfig, Trial
from edgecnn.sweep.results import empty_row, write_row
from edgecnn.sweep.trial import finished_rows, run_trial


def import_ray():
    """The ``ray`` module, or a one-line error naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        raise EdgeCNNError(
            f"executor ray needs Ray ({exc}); install it with: pip install 'edgecnn[ray]'", param="executor"
        ) from None
    return ray


def _trial_task(trial: Trial, trial_dir: str, config: SweepConfig) -> list[dict[str, Any]]:
    """What a Ray worker runs: the same :func:`run_trial` as the local executor."""
    return run_trial(trial, Path(trial_dir), config)


def run_on_ray(
    trials: list[Trial], trials_dir: Path, config: SweepConfig, on_stage: Callable[[str], None]
) -> Iterator[tuple[Trial, list[dict[str, Any]]]]:
    """Submits every trial as a Ray task and yields ``(trial, rows)`` as tasks finish.

    A task that dies (worker crash, node lost, out of memory) becomes error rows for its trial; the other
    tasks go on.
    """
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        if config.ray_address:
            ray.init(address=config.ray_address, log_to_driver=False)
        else:
            ray.init(
                num_cpus=config.ray_cpus,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
                configure_logging=False,
            )
    refs: dict[Any, Trial] = {}
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(_trial_task)
        trials_dir = Path(trials_dir).resolve()
        refs = {remote.remote(trial, str(trials_dir / trial.name), config): trial for trial in trials}
        on_stage(f"{len(refs)} trial(s) submitted to Ray")
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            trial = refs[ready[0]]
            try:
                rows = ray.get(ready[0])
            except Exception as exc:  # a lost task fails its trial, not the sweep
                rows = _failed(trial, trials_dir / trial.name, config, exc)
            on_stage(f"{len(waiting)} trial(s) running or queued on Ray")
            yield trial, rows
    except BaseException:
        for ref in refs:
            with contextlib.suppress(Exception):  # best effort on the way out
                ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()


def _failed(trial: Trial, trial_dir: Path, config: SweepConfig, exc: BaseException) -> list[dict[str, Any]]:
    message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    relative = f"{trial_dir.parent.name}/{trial_dir.name}"
    done = finished_rows(trial, trial_dir)
    rows = []
    for scheme in trial.schemes:
        if scheme in done:
            rows.append(done[scheme])
            continue
        row = empty_row(trial.arch, trial.alpha, trial.size, scheme)
        row.update(threads=config.threads, trial_dir=relative, error=f"ray: {type(exc).__name__}: {message}")
        trial_dir.mkdir(parents=True, exist_ok=True)
        write_row(trial_dir, row)
        rows.append(row)
    return rows
