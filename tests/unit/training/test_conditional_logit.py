"""The conditional logit learns which feature marks a question's right candidate, on the
features' raw scale, and leaves out questions with no right candidate."""

from __future__ import annotations

import numpy as np

from docqa.training.conditional_logit import fit_conditional_logit


def test_the_feature_that_marks_the_right_candidate_gets_the_weight() -> None:
    rng = np.random.default_rng(0)
    rows, labels, groups = [], [], []
    for question in range(200):
        right = rng.integers(0, 5)
        for candidate in range(5):
            # feature 0 (scaled by 100) is higher on the right candidate; feature 1 is noise
            rows.append([100 * (rng.uniform(0, 1) + (candidate == right)), rng.uniform(0, 1)])
            labels.append(float(candidate == right))
            groups.append(question)
    x, y, g = np.array(rows), np.array(labels), np.array(groups)
    bias, weights = fit_conditional_logit(x, y, g)
    assert weights[0] > 0 and abs(weights[1]) < weights[0] * 100 / 10
    scores = bias + x @ weights
    firsts = [int(np.argmax(scores[g == q])) for q in range(200)]
    rights = [int(np.argmax(y[g == q])) for q in range(200)]
    assert sum(f == r for f, r in zip(firsts, rights, strict=True)) >= 190
    assert abs(scores.mean()) < 1.0  # centred on the training rows


def test_questions_without_a_right_candidate_do_not_move_the_weights() -> None:
    # The second question's rows equal the first's (same mean and scale) but none is right.
    x = np.array([[1.0], [0.0], [1.0], [0.0]])
    y = np.array([1.0, 0.0, 0.0, 0.0])
    alone = fit_conditional_logit(x[:2], y[:2], np.array([0, 0]), steps=200)
    both = fit_conditional_logit(x, y, np.array([0, 0, 1, 1]), steps=200)
    assert alone[1][0] > 0
    assert both[1].tolist() == alone[1].tolist()


def test_no_rows_no_weights() -> None:
    bias, weights = fit_conditional_logit(np.zeros((0, 3)), np.zeros(0), np.zeros(0))
    assert bias == 0.0 and weights.tolist() == [0.0, 0.0, 0.0]
