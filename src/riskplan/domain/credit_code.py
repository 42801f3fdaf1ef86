"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

Real bureaus key enterprises by this 18-character code; its last character is a
check character over the first 17, so a mistyped id can be caught at load time.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def check_character(body: str) -> str:
    """The 18th character for a 17-character code body."""
    if len(body) != 17 or any(c not in _VALUE for c in body):
        raise ValueError(f"a credit-code body is 17 characters from {ALPHABET!r}: {body!r}")
    total = sum(_VALUE[c] * w for c, w in zip(body, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def has_code_form(code: str) -> bool:
    """True for ids the check applies to: 18 characters from the code alphabet."""
    return len(code) == 18 and all(c in _VALUE for c in code)


def is_valid(code: str) -> bool:
    """True when `code` has the credit-code form and its check character matches."""
    return has_code_form(code) and check_character(code[:17]) == code[17]


def make_code(body: str) -> str:
    """A full 18-character code from a 17-character body."""
    return body + check_character(body)
