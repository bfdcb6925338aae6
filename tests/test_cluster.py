"""--workers and --scheduler: the same bytes at any scale, worker deaths, bad files, unreachable schedulers.

One Dask ``LocalCluster`` (2 processes, started inside pytest) serves the module; it is reached by its
address, as a remote cluster would be. Worker deaths are injected by a worker plugin (Dask) or by a
patch the forked pool processes inherit (--workers): a document named ``flaky*`` kills the process
that first reads it, one named ``crash*`` kills every process that reads it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from qualkit.execution import ALLOWED_FAILURES, PoolExecutor, in_order, open_executor
from qualkit.redact import RedactOptions, redact_corpus

distributed = pytest.importorskip("distributed")

DATA = Path(__file__).parent / "data" / "redact"


def _corpus(folder: Path, extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True)
    for p in sorted(DATA.iterdir()):
        if p.suffix in (".txt", ".md", ".vtt"):
            shutil.copy(p, folder / p.name)
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _bytes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _redact(src: Path, base: Path, **opts):
    result = redact_corpus(
        [src],
        base / "out",
        base / "private" / "key.csv",
        RedactOptions(**opts),
        report_path=base / "private" / "r.html",
    )
    return result, _bytes(base / "out"), _bytes(base / "private")


def _die_on(path) -> None:
    """The fault the tests inject: kill this process for a crash* file, and for the first reader of a flaky* file."""
    name = Path(path).name
    if name.startswith("crash"):
        os._exit(3)
    if name.startswith("flaky"):
        try:  # the first process to read it dies; the retry finds the marker
            os.close(os.open(Path(path).parent.parent / "flaky.died", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os._exit(3)


def _faulty(real):
    """*real* (qualkit.redact.engine.read_document) with :func:`_die_on` in front."""

    def faulty(path, *args, **kwargs):
        _die_on(path)
        return real(path, *args, **kwargs)

    return faulty


class FaultPlugin(distributed.WorkerPlugin):
    def setup(self, worker):
        from qualkit.redact import engine

        engine.read_document = _faulty(engine.read_document)


@pytest.fixture(scope="module")
def cluster():
    """A 2-process LocalCluster whose scheduler gives up on a task at the first worker it kills
    (qualkit then retries it alone once)."""
    import dask

    config = {"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(config):
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as lc:
            with distributed.Client(lc) as client:
                client.register_plugin(FaultPlugin())
                yield lc.scheduler_address


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("serial")
    src = _corpus(base / "in")
    return src, _redact(src, base / "run", style="pseudonym")


def test_pool_and_cluster_write_the_same_bytes_as_one_process(serial_run, cluster, tmp_path):
    src, (res1, out1, priv1) = serial_run
    assert not res1.errors and res1.replacements > 0
    res2, out2, priv2 = _redact(src, tmp_path / "pool", style="pseudonym", workers=2)
    res3, out3, priv3 = _redact(src, tmp_path / "dask", style="pseudonym", scheduler=cluster)
    # redacted files, log, key and review report: byte for byte
    assert "redaction-log.csv" in out1 and "key.csv" in priv1
    assert out1 == out2 == out3
    assert priv1 == priv2 == priv3
    assert res1.documents == res2.documents == res3.documents
    key = tmp_path / "dask" / "private" / "key.csv"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_coding_on_the_cluster_gives_the_same_rows(cluster, nlp_full, tmp_path):
    from qualkit.coding import code_documents
    from qualkit.coding.codebook import load_codebook
    from qualkit.readers import iter_inputs, read_document

    root = Path(__file__).resolve().parents[1]
    codebook = load_codebook(root / "src" / "qualkit" / "data" / "codebooks" / "csec-study.yaml")
    docs = [read_document(f.path, rel=f.rel) for f in iter_inputs([root / "examples" / "csec-study" / "transcripts"])]
    docs = [d for d in docs if d.format == "txt"][:4]
    serial = code_documents(docs, codebook, nlp=nlp_full)
    with open_executor(scheduler=cluster) as ex:
        parallel = code_documents(docs, codebook, executor=ex)
    assert len(serial) > 0
    assert list(parallel) == list(serial)
    assert parallel.spans == serial.spans


def test_the_detection_cache_is_checked_and_filled_by_the_client(cluster, tmp_path):
    src = _corpus(tmp_path / "in")
    cache = tmp_path / "private" / "cache"
    first = redact_corpus(
        [src], tmp_path / "o1", tmp_path / "private" / "k1.csv", RedactOptions(scheduler=cluster, cache_dir=cache)
    )
    assert first.cached == 0 and len(list(cache.glob("*.json"))) == len(first.documents)
    again = redact_corpus(
        [src], tmp_path / "o2", tmp_path / "private" / "k2.csv", RedactOptions(scheduler=cluster, cache_dir=cache)
    )
    assert again.cached == len(first.documents)
    assert _bytes(tmp_path / "o1") == _bytes(tmp_path / "o2")


def test_a_killed_worker_is_retried_and_the_outputs_do_not_change(cluster, tmp_path):
    extra = {"flaky_07.txt": "Interviewer: Who helped you?\nRespondent: Chị Nguyễn Thị Hoa at the Binh Trieu Centre.\n"}
    src = _corpus(tmp_path / "in", extra)
    _res, ref_out, ref_priv = _redact(src, tmp_path / "serial", use_ner=False)
    res, out, priv = _redact(src, tmp_path / "dask", scheduler=cluster, use_ner=False)
    assert (tmp_path / "flaky.died").exists()  # a worker did die on it
    assert not res.errors
    assert (out, priv) == (ref_out, ref_priv)


def test_a_transcript_that_kills_workers_is_reported_once_and_the_rest_is_redacted(cluster, tmp_path):
    src = _corpus(tmp_path / "in", {"crash_99.txt": "Respondent: Nguyễn Thị Hoa lives in Lao Cai.\n"})
    res, out, _priv = _redact(src, tmp_path / "dask", scheduler=cluster, use_ner=False)
    assert len(res.errors) == 1
    message = res.errors[0].message
    assert "crash_99.txt" in message and "worker died" in message and "Hoa" not in message
    assert "crash_99.txt" not in out and len(res.documents) == len(list(src.iterdir())) - 1


def test_pool_retries_a_killed_process_and_reports_a_bad_file(tmp_path, monkeypatch):
    from qualkit.redact import engine

    monkeypatch.setattr(engine, "read_document", _faulty(engine.read_document))  # forked processes inherit it
    extra = {
        "flaky_07.txt": "Respondent: Chị Nguyễn Thị Hoa at the Binh Trieu Centre.\n",
        "crash_99.txt": "Respondent: Nguyễn Thị Hoa lives in Lao Cai.\n",
    }
    src = _corpus(tmp_path / "in", extra)
    res, out, priv = _redact(src, tmp_path / "pool", workers=2, use_ner=False)
    assert (tmp_path / "flaky.died").exists()
    assert [("crash_99.txt" in e.message, "died" in e.message) for e in res.errors] == [(True, True)]
    assert "flaky_07.txt" in out and "crash_99.txt" not in out
    (src / "crash_99.txt").unlink()  # the run without the bad file, in one process: the same bytes
    _r, ref_out, ref_priv = _redact(src, tmp_path / "serial", use_ner=False)
    assert (out, priv) == (ref_out, ref_priv)


def test_executor_outcomes_come_back_in_any_order_and_in_order_restores_it():
    with PoolExecutor(2) as ex:
        outcomes = list(ex.run(_square, None, [(k, k) for k in range(12)]))
    assert sorted(o.key for o in outcomes) == list(range(12))
    ordered = list(in_order(reversed(outcomes), range(12)))
    assert [o.value for o in ordered] == [k * k for k in range(12)]


def test_an_unexpected_task_error_travels_as_its_type_only():
    with open_executor(1) as ex:
        (oc,) = ex.run(_fail, None, [("a", "Nguyễn Thị Hoa")])
    assert not oc.ok and "ValueError" in oc.failed and "Hoa" not in oc.failed


def test_an_unreachable_scheduler_is_one_clear_error(cli, tmp_path, monkeypatch):
    from qualkit import execution

    monkeypatch.setattr(execution, "CONNECT_TIMEOUT", 1)
    src = _corpus(tmp_path / "in")
    r = cli("redact", src, "-o", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:9")
    assert r.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "out").exists()


def test_scheduler_comes_from_the_project_file_and_the_command_line_wins(tmp_path):
    from qualkit.config import load_settings, redact_options
    from qualkit.errors import ConfigError

    (tmp_path / "qualkit.yaml").write_text("scheduler: tcp://10.1.2.3:8786\n", encoding="utf-8")
    s = load_settings(tmp_path)
    assert redact_options(s).scheduler == "tcp://10.1.2.3:8786"
    assert redact_options(s, scheduler="local").scheduler == "local"
    (tmp_path / "qualkit.yaml").write_text("scheduler: 8786\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="scheduler"):
        load_settings(tmp_path)


def _square(_shared, k):
    return k * k


def _fail(_shared, text):
    raise ValueError(text)


assert ALLOWED_FAILURES >= 1
