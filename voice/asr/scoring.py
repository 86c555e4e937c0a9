"""Word and character error rates, for tests and benchmarks of recognition quality."""

from __future__ import annotations

from collections.abc import Callable, Sequence

Normalizer = Callable[[str], str]


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance (substitutions, insertions, deletions all cost 1)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diag, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (r != h))
    return row[-1]


def corpus_wer(refs: Sequence[str], hyps: Sequence[str], normalize: Normalizer = str.lower) -> float:
    """Word errors over all clips divided by reference words over all clips (not a mean of clip WERs)."""
    if len(refs) != len(hyps):
        raise ValueError("refs and hyps differ in length")
    errors = words = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        r, h = normalize(ref).split(), normalize(hyp).split()
        errors += edit_distance(r, h)
        words += len(r)
    return errors / words if words else float(errors > 0)


def corpus_cer(refs: Sequence[str], hyps: Sequence[str], normalize: Normalizer = str.lower) -> float:
    """Character error rate over all clips (spaces collapsed to one, counted as characters)."""
    errors = chars = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        r, h = " ".join(normalize(ref).split()), " ".join(normalize(hyp).split())
        errors += edit_distance(r, h)
        chars += len(r)
    return errors / chars if chars else float(errors > 0)
