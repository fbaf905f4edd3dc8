"""The contact reason model on synthetic labelled text: clearly separable classes are learnt and the
cross-validated accuracy says so; labels carrying no signal measure low; too few labels refuse."""

from __future__ import annotations

import random

import pytest

from earshot.reason_classifier import NotEnoughLabels, TrainingOptions, fit

FILLER = "hello thanks please yes the a my your we can you it is that okay right so well".split()
TOPICS = {
    "billing": "invoice charged twice refund amount payment bill debit euros overcharged".split(),
    "cancellation": "cancel contract terminate leave end subscription notice moving stop".split(),
    "technical fault": "internet router outage slow connection wifi down signal modem reboot".split(),
}


def conversations(per_label: dict[str, int], seed: int = 1) -> list[tuple[str, str]]:
    """Texts of mostly filler with a few of the label's topic words, as a contact reads."""
    rng = random.Random(seed)
    out = []
    for label, count in per_label.items():
        for _ in range(count):
            words = rng.choices(FILLER, k=25) + rng.choices(TOPICS[label], k=6)
            rng.shuffle(words)
            out.append((" ".join(words), label))
    rng.shuffle(out)
    return out


def test_separable_classes_are_learnt_with_a_high_measured_accuracy() -> None:
    fitted = fit(conversations({label: 15 for label in TOPICS}), TrainingOptions(min_per_label=5))
    assert fitted.accuracy > 0.8
    assert fitted.folds == 5 and fitted.label_counts == {label: 15 for label in sorted(TOPICS)}
    # And on conversations it never saw, it names their topic.
    unseen = conversations({label: 5 for label in TOPICS}, seed=99)
    predicted = fitted.model.predict([text for text, _ in unseen])
    correct = sum(p == label for p, (_, label) in zip(predicted, unseen, strict=True))
    assert correct / len(unseen) > 0.8


def test_labels_without_signal_measure_near_chance() -> None:
    """The same texts with labels dealt at random: cross-validation must not report what it did not learn."""
    texts = [text for text, _ in conversations({label: 20 for label in TOPICS})]
    rng = random.Random(7)
    shuffled = [(text, rng.choice(sorted(TOPICS))) for text in texts]
    fitted = fit(shuffled, TrainingOptions(min_per_label=5))
    assert fitted.accuracy < 0.6


def test_training_is_refused_below_the_minimum_and_small_labels_are_left_out() -> None:
    with pytest.raises(NotEnoughLabels, match="at least 5 labelled conversations"):
        fit(conversations({"billing": 4, "cancellation": 9}), TrainingOptions(min_per_label=5))
    with pytest.raises(NotEnoughLabels, match="labelled so far: none"):
        fit([], TrainingOptions())
    fitted = fit(
        conversations({"billing": 6, "cancellation": 7, "technical fault": 2}),
        TrainingOptions(min_per_label=5),
    )
    assert fitted.label_counts == {"billing": 6, "cancellation": 7}
    assert fitted.left_out == {"technical fault": 2}
    assert set(fitted.model.classes_) == {"billing", "cancellation"}
    assert fitted.folds == 5  # the smallest label kept has 6: five folds fit


def test_options_refuse_a_minimum_cross_validation_cannot_use() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        TrainingOptions(min_per_label=1)
