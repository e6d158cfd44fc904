"""How a problem is written, and the suggestions in it: the host's wording, word for word.

A problem is rendered as the host's `Problem` displays it: `<location>: <message>`, with the
help in parentheses. Suggestions rank known names as the host does (Jaro-Winkler,
case-insensitive, at least 0.75), so both say the same "did you mean".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_CLOSE_ENOUGH = 0.75  # the host's bar for a "did you mean" (Jaro-Winkler)


def problem(at: str, message: str, help_: str | None = None) -> str:
    """Renders one problem: `<at>: <message>`, and ` (<help>)` where there is help."""
    return f"{at}: {message}" + (f" ({help_})" if help_ else "")


def location(rendered: str) -> str:
    """The location of a rendered problem: what comes before the first `": "`."""
    return rendered.split(": ", 1)[0]


def describe(value: Any) -> str:
    """Names a found value as the host's messages do: `string "abc"`, `integer 3`, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"{'number' if isinstance(value, float) else 'integer'} {value}"
    if isinstance(value, str):
        raw = value.encode()
        # Cut at 37 bytes, backing off to a character boundary, as the host does.
        return (
            f'string "{raw[:37].decode(errors="ignore")}..."'
            if len(raw) > 40
            else f'string "{value}"'
        )
    return "an array" if isinstance(value, list) else "an object"


def _jaro(a: str, b: str) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    taken = [False] * len(b)
    matched_a: list[str] = []
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not taken[j] and b[j] == char:
                taken[j] = True
                matched_a.append(char)
                break
    m = len(matched_a)
    if m == 0:
        return 0.0
    matched_b = [char for char, hit in zip(b, taken, strict=True) if hit]
    half_transpositions = sum(x != y for x, y in zip(matched_a, matched_b, strict=True)) / 2
    return (m / len(a) + m / len(b) + (m - half_transpositions) / m) / 3


def _jaro_winkler(a: str, b: str) -> float:
    jaro = _jaro(a, b)
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + 0.1 * prefix * (1 - jaro)


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """`did you mean "a" or "b"?` for the up to three known names closest to `name`, as the
    host ranks them (Jaro-Winkler, case-insensitive, at least 0.75); `None` if none is close."""
    lower = name.lower()
    scored = sorted(
        {(-_jaro_winkler(lower, k.lower()), k) for k in known if isinstance(k, str)},
    )
    names = [k for score, k in scored if -score >= _CLOSE_ENOUGH][:3]
    if not names:
        return None
    return "did you mean " + " or ".join(f'"{n}"' for n in names) + "?"
