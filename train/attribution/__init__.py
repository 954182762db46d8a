"""Attribution extraction: SOURCE, CUE and CLAIM spans tagged token by token, then linked.

``tokens`` (tokens, sentences, quotes, BIO layers) → ``features`` (hand-made token features) → ``models``
(a CRF and a per-token classifier, one BIO layer per label) → ``linker`` (``source_of``/``cue_of`` between
predicted spans) → ``metrics`` (the matching rules of ``annotate.matching``) → ``report``.
"""
