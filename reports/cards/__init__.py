"""Dataset cards: the evidence context of a version (context, evidence, review) and its renderings (render)."""
