"""Analysis: link findings to the identities and people who own them, and score their blast radius."""
