"""The contact reason and outcome model: TF-IDF over the conversation's words and a logistic
regression, trained on the labels people accepted (``storage.contact_reasons``), retrained only on
command (``earshot reasons train``).

Its accuracy is measured before it is kept: stratified k-fold cross-validation over the labelled
conversations (each fold's model scored on conversations it never saw), stored with the version.
A label with fewer labelled conversations than ``min_per_label`` stays out of the model (rules can
still suggest it); with fewer than two labels left there is nothing to tell apart, and training is
refused. The fitted model is a file in the data folder, owner-only, named by its version.
"""

from __future__ import annotations

import pickle
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold, cross_val_score  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline, make_pipeline  # type: ignore[import-untyped]

from earshot.settings import Settings
from storage.access import Permission, Principal, require_unless_command_line
from storage.contact_reasons import LabelSet, ModelVersion, labelled_examples, record_model
from storage.db import Database, read_scope, session_scope
from storage.private_files import make_private_file, make_private_folder

__all__ = ["NotEnoughLabels", "Prediction", "TrainingOptions", "fit", "predict", "train"]


class NotEnoughLabels(ValueError):
    """Too few labelled conversations to train and measure a model; the message says what is missing."""


@dataclass(frozen=True)
class TrainingOptions:
    min_per_label: int = 5
    folds: int = 5  # at most; fewer when the smallest label has fewer conversations
    ngrams: tuple[int, int] = (1, 2)  # words and word pairs ("charged twice", "call back")
    seed: int = 0  # the folds' shuffle: the same labels measure the same accuracy

    def __post_init__(self) -> None:
        if self.min_per_label < 2:
            raise ValueError("min_per_label must be at least 2: cross-validation needs two per label")
        if self.folds < 2:
            raise ValueError("folds must be at least 2")


@dataclass(frozen=True)
class Fitted:
    model: Pipeline
    accuracy: float  # mean cross-validated accuracy
    folds: int
    label_counts: dict[str, int]  # the labels trained on
    left_out: dict[str, int]  # labels below the minimum, with their counts


@dataclass(frozen=True)
class Prediction:
    label: str
    probability: float


def fit(examples: list[tuple[str, str]], options: TrainingOptions) -> Fitted:
    """Measure and fit a model on (text, label) pairs, or raise ``NotEnoughLabels``."""
    counts = Counter(label for _, label in examples)
    kept = {label: n for label, n in counts.items() if n >= options.min_per_label}
    left_out = {label: n for label, n in counts.items() if label not in kept}
    if len(kept) < 2:
        have = ", ".join(f"{label} {n}" for label, n in counts.most_common()) or "none"
        raise NotEnoughLabels(
            f"need at least {options.min_per_label} labelled conversations for each of two labels "
            f"or more; labelled so far: {have}"
        )
    texts = [text for text, label in examples if label in kept]
    labels = [label for _, label in examples if label in kept]
    folds = min(options.folds, min(kept.values()))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=options.seed)
    accuracy = float(
        cross_val_score(_pipeline(options), texts, labels, cv=splitter, scoring="accuracy").mean()
    )
    model = _pipeline(options).fit(texts, labels)
    return Fitted(model, accuracy, folds, dict(sorted(kept.items())), dict(sorted(left_out.items())))


def train(
    db: Database,
    settings: Settings,
    label_set: LabelSet,
    who: Principal | None = None,
    options: TrainingOptions | None = None,
) -> tuple[ModelVersion, Fitted]:
    """Train ``label_set``'s next version on every accepted label and keep it with its accuracy."""
    require_unless_command_line(who, Permission.MANAGE_SETTINGS)
    options = options or TrainingOptions(min_per_label=settings.reasons_min_per_label)
    with read_scope(db) as session:
        examples = labelled_examples(session, label_set)
    # Fitted outside the write transaction: cross-validation takes a while, writers must not wait.
    fitted = fit(examples, options)
    folder = make_private_folder(settings.reasons_dir)
    with session_scope(db) as session:
        version = record_model(
            session,
            who,
            label_set,
            accuracy=fitted.accuracy,
            folds=fitted.folds,
            label_counts=fitted.label_counts,
            file_name_of=lambda number: f"{label_set}-v{number}.pickle",
        )
        # Written before the row commits: a version row always has its file.
        path = make_private_file(folder / version.file_name)
        path.write_bytes(pickle.dumps(fitted.model))
    return version, fitted


def predict(settings: Settings, version: ModelVersion, text: str) -> Prediction | None:
    """The model's label for ``text`` with its probability; None when the model file is gone (the
    data folder was moved without it): the caller falls back to the rules."""
    model = _load(settings.reasons_dir / version.file_name)
    if model is None or not text.strip():
        return None
    probabilities = model.predict_proba([text])[0]
    best = int(probabilities.argmax())
    return Prediction(str(model.classes_[best]), float(probabilities[best]))


def _pipeline(options: TrainingOptions) -> Pipeline:
    return make_pipeline(
        TfidfVectorizer(ngram_range=options.ngrams, sublinear_tf=True),
        LogisticRegression(max_iter=1000),
    )


_loaded: dict[Path, Pipeline] = {}


def _load(path: Path) -> Pipeline | None:
    """A version's file, read once per process (a version never changes: a retrain writes a new one).
    Only this program writes into the owner-only folder, so unpickling it trusts no one else."""
    if path not in _loaded:
        try:
            _loaded[path] = pickle.loads(path.read_bytes())  # noqa: S301
        except FileNotFoundError:
            return None
    return _loaded[path]
