"""What every runner shares: configuration, errors, video access, devices and memory, metrics, the lazy model
pool, continuous batching, geometry, and the runner base class (`runners.core.runner`). Nothing here knows a task."""
