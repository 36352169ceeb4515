"""One module per detector family; each returns `supervision.Detections` per frame (`base.py`)."""
