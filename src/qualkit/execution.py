"""Where per-document work runs: this process, a pool of local processes, or a Dask cluster.

qualkit's heavy steps (redaction's detection pass, coding) are one task per
document. An :class:`Executor` runs a module-level task function ``fn(shared,
item)`` over ``(key, item)`` pairs and yields one :class:`Outcome` per item as
tasks complete, in any order; callers put results back in document order
themselves, so nothing a run writes depends on the backend or on the order in
which tasks finish.

* :class:`SerialExecutor` (the default): in this process, in order.
* :class:`PoolExecutor` (``--workers N``): N local processes
  (``concurrent.futures``). A process that dies takes the tasks in flight with
  it: the pool is rebuilt, those tasks are retried one at a time, and one that
  kills its process twice on its own is reported as failed; the rest go on.
* :class:`DaskExecutor` (``--scheduler ADDRESS`` or ``local``): a
  ``dask.distributed`` cluster (the optional ``qualkit[cluster]`` dependency).
  The scheduler retries a task whose worker died; a task that kills
  ``allowed-failures`` workers comes back as failed.

Per-process state (the spaCy pipeline, the detectors) is built once per worker
process by :func:`worker_state` and reused by every later task. Data every task
of a step needs (options, the study's names list, the codebook: small) travels
with each task: data scattered once to a cluster dies with the workers that hold
it, and a step must survive worker deaths. At most a few tasks per worker are in flight at a
time, so neither the client nor the cluster holds the corpus.

Only what a task is given travels: the document's path (or its bytes) and the
shared data; results come back to the client. See docs/cluster.md.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from collections import OrderedDict, deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Iterator, TypeVar

from .errors import QualkitError, UsageError

T = TypeVar("T")
TaskFn = Callable[[Any, Any], Any]

#: a scheduler retries a task whose worker died this many times before giving up on it
ALLOWED_FAILURES = 2
#: seconds to wait for a remote scheduler before saying it cannot be reached
CONNECT_TIMEOUT = 15


@dataclass(frozen=True)
class Outcome:
    """What one task gave: its *value*, or why it gave none (*failed*, never text from a document)."""

    key: Hashable
    value: Any = None
    failed: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None


class _Crash(tuple):
    """A task function raised something unexpected: only the exception's type travels back."""


def _call(fn: TaskFn, shared: Any, item: Any) -> Any:
    """Run *fn* in a worker; an unexpected exception comes back as its type name (its message may quote text)."""
    try:
        return fn(shared, item)
    except Exception as exc:  # noqa: BLE001 - one document must not stop the run; no message travels
        return _Crash((type(exc).__name__,))


def _outcome(key: Hashable, value: Any) -> Outcome:
    if isinstance(value, _Crash):
        return Outcome(key, failed=f"internal error {value[0]} while processing it")
    return Outcome(key, value)


# --- per-process state -------------------------------------------------------------------------

_STATE: OrderedDict[str, Any] = OrderedDict()
_STATE_LOCK = threading.Lock()
_STATE_MAX = 4


def worker_state(token: str, factory: Callable[[], T]) -> T:
    """The object *factory* builds, built once per process for *token* and reused by later tasks.

    Holds the few most recent tokens (a run's detector, its coding pipeline) and drops older ones.
    """
    with _STATE_LOCK:
        if token in _STATE:
            _STATE.move_to_end(token)
            return _STATE[token]
        value = factory()
        _STATE[token] = value
        while len(_STATE) > _STATE_MAX:
            _STATE.popitem(last=False)
        return value


def token_of(*parts: Any) -> str:
    """A short stable id of picklable *parts* (for :func:`worker_state`)."""
    return hashlib.sha256(pickle.dumps(parts, protocol=4)).hexdigest()[:24]


# --- backends ----------------------------------------------------------------------------------


class Executor:
    """Runs task functions over items; see the module docs."""

    name = "serial"
    workers = 1
    #: workers may not see the client's files (a remote cluster): send bytes, return results
    remote = False

    def run(self, fn: TaskFn, shared: Any, items: Iterable[tuple[Hashable, Any]]) -> Iterator[Outcome]:
        """Yield the :class:`Outcome` of ``fn(shared, item)`` for every item, as tasks complete."""
        raise NotImplementedError

    def sees(self, path: str | os.PathLike) -> bool:
        """Whether the workers read *path* as the client does (else tasks carry the file's bytes)."""
        return True

    def close(self) -> None:
        """Stop what this executor started (a pool, a local cluster); a remote cluster keeps running."""

    def describe(self) -> str:
        return self.name

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """Every task in this process, one after the other."""

    def run(self, fn: TaskFn, shared: Any, items: Iterable[tuple[Hashable, Any]]) -> Iterator[Outcome]:
        for key, item in items:
            yield _outcome(key, _call(fn, shared, item))


class PoolExecutor(Executor):
    """*workers* local processes; a process that dies is replaced and its tasks are retried."""

    name = "pool"

    def __init__(self, workers: int) -> None:
        self.workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None

    def describe(self) -> str:
        return f"{self.workers} worker processes"

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        return self._pool

    def _reset(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, fn: TaskFn, shared: Any, items: Iterable[tuple[Hashable, Any]]) -> Iterator[Outcome]:
        todo = iter(items)
        window = 2 * self.workers + 1
        running: dict[Future, tuple[Hashable, Any]] = {}
        suspects: deque[tuple[Hashable, Any]] = deque()
        exhausted = False
        while True:
            while suspects:  # alone in the pool, so a death is this task's
                key, item = suspects.popleft()
                yield self._alone(fn, shared, key, item)
            while not exhausted and len(running) < window:
                try:
                    key, item = next(todo)
                except StopIteration:
                    exhausted = True
                    break
                running[self._get_pool().submit(_call, fn, shared, item)] = (key, item)
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                key, item = running.pop(fut)
                try:
                    value = fut.result()
                except BrokenProcessPool:
                    broken = True
                    suspects.append((key, item))
                    continue
                yield _outcome(key, value)
            if broken:  # every task still in flight died with the pool
                suspects.extend(running.values())
                running.clear()
                self._reset()

    def _alone(self, fn: TaskFn, shared: Any, key: Hashable, item: Any) -> Outcome:
        for _attempt in range(ALLOWED_FAILURES):
            try:
                return _outcome(key, self._get_pool().submit(_call, fn, shared, item).result())
            except BrokenProcessPool:
                self._reset()
        return Outcome(key, failed=f"a worker process died while processing it ({ALLOWED_FAILURES} tries)")


def _need_distributed():
    try:
        import distributed
    except ImportError:
        raise UsageError(
            "--scheduler needs the Dask 'distributed' package, which is not installed",
            fix='install it with: pip install "qualkit[cluster]" (or drop --scheduler)',
        ) from None
    return distributed


class DaskExecutor(Executor):
    """A ``dask.distributed`` cluster: the one at *address*, or a ``LocalCluster`` for ``local``."""

    name = "dask"

    def __init__(self, address: str, workers: int | None = None) -> None:
        distributed = _need_distributed()
        import dask

        self.address = address
        self._cluster = None
        if address == "local":
            n = max(1, int(workers or os.cpu_count() or 1))
            local_config = {
                "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                # no task waits on a busy worker: a worker's death then concerns only the task it ran
                "distributed.scheduler.worker-saturation": 1.0,
            }
            with dask.config.set(local_config):
                self._cluster = distributed.LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,  # one spaCy pipeline per process, one task at a time
                    processes=True,
                    dashboard_address=None,
                    scheduler_port=0,
                    host="127.0.0.1",
                    silence_logs=50,
                )
            self.client = distributed.Client(self._cluster, set_as_default=False)
        else:
            if "://" not in address and ":" not in address:
                raise UsageError(
                    f"'{address}' is not a scheduler address",
                    fix="give --scheduler tcp://HOST:8786 (or tls://...), or 'local' for a cluster on this machine",
                )
            try:
                self.client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise QualkitError(
                    f"cannot reach the Dask scheduler at {address} ({type(exc).__name__})",
                    fix="check the address and that the scheduler is running and reachable from here, "
                    "or use --scheduler local (a cluster on this machine)",
                ) from None
            self.remote = True
        self.workers = max(1, sum(self.client.nthreads().values()))
        self._sees: bool | None = None

    def sees(self, path: str | os.PathLike) -> bool:
        if not self.remote:
            return True
        if self._sees is None:
            try:
                size = os.path.getsize(path)
                answers = self.client.run(_same_size, os.fspath(path), size)
            except Exception:  # noqa: BLE001 - in doubt, send the bytes
                answers = {}
            self._sees = bool(answers) and all(answers.values())
        return self._sees

    def describe(self) -> str:
        where = "a local Dask cluster" if self._cluster is not None else f"the Dask cluster at {self.address}"
        return f"{where} ({self.workers} worker threads)"

    def run(self, fn: TaskFn, shared: Any, items: Iterable[tuple[Hashable, Any]]) -> Iterator[Outcome]:
        from distributed import KilledWorker, as_completed

        todo = iter(items)
        window = max(8, 4 * self.workers)
        keys: dict[Any, tuple[Hashable, Any]] = {}
        suspects: list[tuple[Hashable, Any]] = []

        def submit() -> Any | None:
            try:
                key, item = next(todo)
            except StopIteration:
                return None
            fut = self.client.submit(_call, fn, shared, item, pure=False)
            keys[fut.key] = (key, item)
            return fut

        first = [f for f in (submit() for _ in range(window)) if f is not None]
        pending = as_completed(first, loop=self.client.loop)
        for fut in pending if first else ():
            key, item = keys.pop(fut.key)
            exc = _dask_result(fut)
            nxt = submit()
            if nxt is not None:
                pending.add(nxt)
            if isinstance(exc, KilledWorker):
                # a task queued on a worker that another task killed is blamed too: retry it alone, at the end
                suspects.append((key, item))
            elif exc is not None:
                yield Outcome(key, failed=_dask_failure(exc))
            else:
                yield _outcome(key, fut.result())
            fut.release()
        for key, item in suspects:
            fut = self.client.submit(_call, fn, shared, item, pure=False)
            exc = _dask_result(fut, wait=True)
            yield Outcome(key, failed=_dask_failure(exc)) if exc is not None else _outcome(key, fut.result())
            fut.release()

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()


def _dask_result(fut: Any, wait: bool = False) -> BaseException | None:
    """The exception a finished Dask future holds (None when it has a result)."""
    if wait:
        from distributed import wait as wait_for

        wait_for([fut])
    if fut.status == "finished":
        return None
    try:
        return fut.exception()
    except Exception as err:  # noqa: BLE001 - cancelled or forgotten: that is the reason
        return err


def _same_size(path: str, size: int) -> bool:
    """On a worker: is *path* there with *size* bytes (a shared file system)?"""
    try:
        return os.path.getsize(path) == size
    except OSError:
        return False


def _dask_failure(exc: BaseException | None) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return "a worker died while processing it, also when it ran alone"
    return f"the cluster could not run it ({type(exc).__name__})"


class LazyExecutor(Executor):
    """The executor :func:`open_executor` gives, opened on first use (a run whose stages have
    nothing to do starts no cluster) and closed with this one."""

    def __init__(self, workers: int | None = 1, scheduler: str | None = None) -> None:
        self._args = (workers, scheduler)
        self._real: Executor | None = None

    def _get(self) -> Executor:
        if self._real is None:
            self._real = open_executor(*self._args)
        return self._real

    @property
    def workers(self) -> int:  # type: ignore[override]
        return self._get().workers

    @property
    def remote(self) -> bool:  # type: ignore[override]
        return self._get().remote

    @property
    def real(self) -> Executor:
        """The executor itself (opened now if it was not)."""
        return self._get()

    def run(self, fn: TaskFn, shared: Any, items: Iterable[tuple[Hashable, Any]]) -> Iterator[Outcome]:
        return self._get().run(fn, shared, items)

    def sees(self, path: str | os.PathLike) -> bool:
        return self._get().sees(path)

    def describe(self) -> str:
        return self._get().describe()

    def close(self) -> None:
        if self._real is not None:
            self._real.close()
            self._real = None


def open_executor(workers: int | None = 1, scheduler: str | None = None) -> Executor:
    """The executor for ``--workers`` / ``--scheduler``: Dask with a scheduler, a pool with
    more than one worker, else this process."""
    if scheduler:
        return DaskExecutor(str(scheduler).strip(), workers if workers and workers > 1 else None)
    if workers and int(workers) > 1:
        return PoolExecutor(int(workers))
    return SerialExecutor()


def in_order(outcomes: Iterable[Outcome], keys: Iterable[Hashable]) -> Iterator[Outcome]:
    """*outcomes* (any order) re-sorted into the order of *keys*; holds only those that came early."""
    early: dict[Hashable, Outcome] = {}
    wanted = iter(keys)
    want = next(wanted, None)
    for oc in outcomes:
        early[oc.key] = oc
        while want is not None and want in early:
            yield early.pop(want)
            want = next(wanted, None)
    while want is not None and want in early:
        yield early.pop(want)
        want = next(wanted, None)
