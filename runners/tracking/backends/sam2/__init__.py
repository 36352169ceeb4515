"""SAM 2.1's video predictor on transformers (`core.py`) and the two selection policies built on it: SAMURAI
(`samurai.py`) and SAM2Long (`sam2long.py`)."""
