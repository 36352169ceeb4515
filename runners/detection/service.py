"""DetectionRunner: object detection on video frames, batched across requests.

`detect_frames` takes a list of frame jobs (a video path, a frame number and the detection settings); jobs of
concurrent requests are merged into batches by a continuous batcher (runners/core/batching.py says why not BentoML's
adaptive batcher), and each batch runs on `FrameDetector` (runners/detection/frames.py): one batch decode per video,
never a 2.7 MB frame over the wire, one forward pass per (model, vocabulary, NMS threshold) group.

Models load through the pool: the public service calls `load_model` before sending frames, so batches rarely wait
for a load.
"""

from __future__ import annotations

import bentoml

from runners.core.batching import ContinuousBatcher
from runners.core.runner import RunnerAPIs, service_options
from runners.detection.frames import FrameDetector, FrameJob, FrameResult, detection_settings

SETTINGS = detection_settings()


@bentoml.service(**service_options("detection-runner", SETTINGS))
class DetectionRunner(RunnerAPIs, FrameDetector):
    def __init__(self) -> None:
        super().__init__()
        self._batcher: ContinuousBatcher | None = None

    @bentoml.api
    async def detect_frames(self, jobs: list[FrameJob]) -> list[FrameResult]:
        """Frame jobs of one request; merged with other requests' jobs into batches (see runners/core/batching.py)."""
        if self._batcher is None:
            self._batcher = ContinuousBatcher(self.run_batch, SETTINGS.max_batch_size, SETTINGS.batch_gather_ms)
        return await self._batcher.submit(jobs)

    @bentoml.on_shutdown
    def shutdown(self) -> None:
        self.unload_all()
