"""Video tracking: the TrackingRunner service (`service.py`), turning per-frame tracker output into the response's
tracks (`results.py`), and the tracker backends (`backends/`: YOLO11n-seg + ByteTrack, the SAM 2 family)."""
