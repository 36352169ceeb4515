"""Tracker backends: stateful sessions in the shape of SAM 2's video predictor (`base.py`). They never import
BentoML."""
