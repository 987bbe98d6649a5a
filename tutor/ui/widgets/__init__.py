"""Widgets the screens compose: exercise panel, training step panel, charts, pictures."""
