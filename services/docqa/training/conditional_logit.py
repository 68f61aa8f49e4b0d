"""Fit a conditional logit: a softmax over each question's candidates, with numpy.

For ranking candidates (the sentences that may answer one question) where what counts is
which candidate comes first, not an absolute chance: the weights maximise, per question that
has a right candidate, the log of the softmax mass on its right candidates. Features are
standardised for the fit and the weights returned on the raw scale, with a bias that makes
``bias + w . x`` zero-centred on the training rows (a softmax does not fix one).
"""

from __future__ import annotations

import numpy as np


def fit_conditional_logit(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    steps: int = 3000,
    rate: float = 0.5,
    l2: float = 1e-4,
) -> tuple[float, np.ndarray]:
    """``(bias, weights)`` on ``x``'s raw scale; ``y`` 1 for a right candidate, ``groups``
    the question each row belongs to. Questions without a right candidate are left out."""
    if not len(y):
        return 0.0, np.zeros(x.shape[1])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale
    _, group = np.unique(groups, return_inverse=True)
    count = int(group.max()) + 1 if len(group) else 0
    answered = np.bincount(group, weights=y, minlength=count) > 0
    keep = answered[group]
    z, y, group = z[keep], y[keep], group[keep]
    theta = np.zeros(x.shape[1])
    if not len(y):
        return 0.0, theta
    for _ in range(steps):
        logits = z @ theta
        weights = np.exp(logits - logits.max())
        total = np.bincount(group, weights=weights, minlength=count)
        right = np.bincount(group, weights=weights * y, minlength=count)
        p_all = weights / total[group]
        p_right = np.where(y > 0, weights / np.maximum(right[group], 1e-300), 0.0)
        gradient = z.T @ (p_all - p_right) / answered.sum()
        theta -= rate * (gradient + l2 * theta)
    raw = theta / scale
    return float(-(raw * mean).sum()), raw
