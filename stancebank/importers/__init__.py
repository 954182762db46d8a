"""``stancebank import``: public corpora into StanceBank tables (see each module for its mapping)."""
