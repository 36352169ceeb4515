"""Object detection: the DetectionRunner service (`service.py`) and one backend module per model family
(`backends/`). Backends take numpy frames and never import BentoML."""
