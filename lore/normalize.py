"""Text normalisation for name matching: case, accents, punctuation, spacing, width and kana."""

from __future__ import annotations

import unicodedata

_HIRAGANA_START, _HIRAGANA_END = 0x3041, 0x3096
_KANA_SHIFT = 0x60
#: Characters that are letters for matching even though Unicode files them as punctuation/symbols.
_KEEP = {"ー"}


def _fold_char(ch: str) -> str:
    code = ord(ch)
    if _HIRAGANA_START <= code <= _HIRAGANA_END:
        return chr(code + _KANA_SHIFT)  # hiragana -> katakana: one form for both scripts
    if code < 0x3000:
        # Latin and friends: drop accents (é -> e, ö -> o), keep the base letter.
        return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return ch


def normalize(text: str) -> str:
    """Fold ``text`` to a matching key.

    NFKC folds full-width Latin and half-width katakana to their usual forms; then case is
    folded, accents dropped, hiragana mapped to katakana, punctuation and symbols turned into
    spaces, and runs of spaces collapsed. ``normalize`` is idempotent.
    """
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for ch in s:
        folded = _fold_char(ch)
        for c in folded:
            cat = unicodedata.category(c)
            if c in _KEEP or cat[0] in "LN" or cat == "Mn" or cat == "Mc":
                out.append(c)
            else:
                out.append(" ")
    # NFKC again so that kana + combining voiced marks recompose after the mapping above.
    return " ".join(unicodedata.normalize("NFKC", "".join(out)).split())


def tokens(text: str) -> list[str]:
    return normalize(text).split()
