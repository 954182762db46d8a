"""Hand-made token features, the same dicts for the CRF (crfsuite attributes) and the per-token classifier
(``DictVectorizer``): word forms, lower case, shapes, affixes, a ±2 window, sentence position, quotation
state, and lexicons — the cue lexicons of :mod:`train.cues` plus general English reporting verbs.

Nothing here knows our corpus: the lexicons are general English, the rest is form and position.
"""

from __future__ import annotations

import re
from typing import Any

from schemas.vocabulary import CueType
from train.attribution.tokens import QUOTES, Doc
from train.cues import LEXICONS

#: Verbs and phrases that report speech or thought, in their common forms (general English).
_REPORTING_WORDS = (
    "say says said saying tell tells told telling state states stated add adds added claim claims claimed "
    "report reports reported announce announces announced confirm confirms confirmed warn warns warned "
    "argue argues argued note notes noted explain explains explained insist insists insisted believe "
    "believes believed think thinks thought acknowledge acknowledges acknowledged admit admits admitted "
    "deny denies denied suggest suggests suggested estimate estimates estimated predict predicts "
    "predicted write writes wrote written ask asks asked reply replies replied comment comments commented "
    "declare declares declared maintain maintains maintained contend contends contended assert asserts "
    "asserted allege alleges alleged urge urges urged reiterate reiterated recall recalls recalled "
    "describe describes described indicate indicates indicated reveal reveals revealed agree agrees "
    "agreed complain complains complained caution cautioned emphasize emphasized emphasise emphasised "
    "stress stresses stressed concede conceded observe observed conclude concluded testify testified "
    "disclose disclosed accuse accused promise promised vow vowed forecast predicted acknowledging saying "
    "adding noting telling "
)
REPORTING: tuple[str, ...] = (
    *_REPORTING_WORDS.split(),
    "according to",
    "told reporters",
    "in a statement",
    "quoted as saying",
)

#: Lexicon name -> phrases (lower case, split into tokens as the tokenizer splits them).
PHRASES: dict[str, tuple[str, ...]] = {**LEXICONS, "report": REPORTING}
_SPLIT = re.compile(r"\w+(?:[’'\-]\w+)*|[^\w\s]")
_BY_FIRST: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _name, _phrases in PHRASES.items():
    for _phrase in _phrases:
        _words = tuple(_SPLIT.findall(_phrase.lower()))
        if _words:
            _BY_FIRST.setdefault(_words[0], []).append((_words, _name))
_NEGATED = re.compile(r"n[’']t$")


def lexicon_marks(lower: list[str]) -> list[str]:
    """For each token, the names of the lexicon phrases it is part of ('' when none), joined by '|'."""
    marks: list[set[str]] = [set() for _ in lower]
    for i, word in enumerate(lower):
        if _NEGATED.search(word):
            marks[i].add(CueType.NEGATION.value)
        for words, name in _BY_FIRST.get(word, ()):
            if tuple(lower[i : i + len(words)]) == words:
                for k in range(i, i + len(words)):
                    marks[k].add(name)
    return ["|".join(sorted(m)) for m in marks]


def shape(word: str) -> str:
    """Xxxx-style shape with runs collapsed: 'Ankara' → 'Xx', 'F-35' → 'X-d', '2026' → 'd'."""
    out: list[str] = []
    for ch in word:
        kind = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)


def _bucket(n: int) -> str:
    return str(n) if n < 3 else "3-5" if n < 6 else "6-10" if n < 11 else "11+"


def doc_features(doc: Doc) -> list[dict[str, Any]]:
    """One feature dict per token of ``doc``."""
    words, sentence, in_quote = doc.words, doc.sentence, doc.in_quote
    n = len(words)
    lower = [w.lower() for w in words]
    shapes = [shape(w) for w in words]
    marks = lexicon_marks(lower)
    # sentence bounds, quote marks and the reporting words of each sentence
    first_of: dict[int, int] = {}
    last_of: dict[int, int] = {}
    for i, s in enumerate(sentence):
        first_of.setdefault(s, i)
        last_of[s] = i
    reporting = [i for i, m in enumerate(marks) if "report" in m]
    quotes = [i for i, w in enumerate(words) if w in QUOTES]
    out: list[dict[str, Any]] = []
    r = q = 0  # cursors into reporting and quotes
    for i in range(n):
        word, low, s = words[i], lower[i], sentence[i]
        first, last = first_of[s], last_of[s]
        f: dict[str, Any] = {
            "bias": 1.0,
            "w": word,
            "lw": low,
            "p3": low[:3],
            "s3": low[-3:],
            "s2": low[-2:],
            "sh": shapes[i],
            "lex": marks[i],
            "q": in_quote[i],
            "qm": word in QUOTES,
            "title": word[:1].isupper(),
            "capmid": word[:1].isupper() and i != first,
            "spos": _bucket(i - first),
            "send": _bucket(last - i),
            "-1|0": f"{lower[i - 1] if i > first else '<s>'}|{low}",
            "0|+1": f"{low}|{lower[i + 1] if i < last else '</s>'}",
        }
        for o in (-2, -1, 1, 2):
            k = i + o
            if k < first or k > last:
                f[f"{o}:edge"] = True
                continue
            f[f"{o}:lw"] = lower[k]
            f[f"{o}:sh"] = shapes[k]
            f[f"{o}:lex"] = marks[k]
            f[f"{o}:q"] = in_quote[k]
        # nearest reporting word of the sentence, left or right, by distance
        while r < len(reporting) and reporting[r] < i:
            r += 1
        left = reporting[r - 1] if r and sentence[reporting[r - 1]] == s else None
        right = next((k for k in reporting[r : r + 2] if k > i and sentence[k] == s), None)
        f["rep<"] = _bucket(i - left) if left is not None else "none"
        f["rep>"] = _bucket(right - i) if right is not None else "none"
        while q < len(quotes) and quotes[q] < i:
            q += 1
        f["quote<"] = bool(q and sentence[quotes[q - 1]] == s)
        f["quote>"] = any(sentence[k] == s for k in quotes[q : q + 1] if k > i) or (
            q + 1 < len(quotes) and quotes[q] == i and sentence[quotes[q + 1]] == s
        )
        out.append(f)
    return out
