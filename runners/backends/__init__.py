"""One module per model family. Backends take numpy frames and return `supervision.Detections`; they never import
BentoML, so each can be tested with a frame and a config entry."""
