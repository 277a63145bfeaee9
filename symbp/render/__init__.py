"""Renderers: each walks a :class:`~symbp.derive.Derivation` and returns text.

Renderers never print and never differentiate; they lay out what the derivation
holds. ``text`` is for the terminal, ``json`` for scripts.
"""
