"""The emulator's agent: a deterministic stand-in that reads what people type, in English and Chinese.

The pipeline is one module per stage: `_normalise` (one spelling for numbers, units and full-width text),
`_lexicon` (the words, as data per language), `_slots` (the facts: duration, aspect, music, volume, title,
topic, script, uploads), `_intents` (generation, edits, question, help) and `_plan` (the tool steps). It is
not an AI: the same message and seed always give the same timeline, with no model and no network.
"""

from __future__ import annotations

from ._plan import Plan, Step, plan_for, visual_media
from ._replies import HELP, NEED_DRAFT

__all__ = ["HELP", "NEED_DRAFT", "Plan", "Step", "plan_for", "visual_media"]
