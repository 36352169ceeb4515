"""LanguageRunner: the language models (runners/language/models.py) served over HTTP, for video summarization and
ontology augmentation. Both jobs stop when their caller disconnects (in-process generation at the next token)."""

from __future__ import annotations

import anyio
import bentoml

from runners.core.runner import RunnerAPIs, run_until_disconnected, service_options
from runners.language.models import (
    AugmentJob,
    AugmentResult,
    LanguageModelInfo,
    LanguageModels,
    SummarizeJob,
    SummaryResult,
    language_settings,
)

SETTINGS = language_settings()


@bentoml.service(**service_options("language-runner", SETTINGS))
class LanguageRunner(RunnerAPIs, LanguageModels):
    @bentoml.api
    async def load_model(self, name: str) -> LanguageModelInfo:  # the base's, with the engine in its reply
        return await anyio.to_thread.run_sync(self.load_reply, name)

    @bentoml.api
    async def summarize(self, job: SummarizeJob, ctx: bentoml.Context) -> SummaryResult:
        return await run_until_disconnected(ctx, lambda cancel: self.summarize_now(job, cancel))

    @bentoml.api
    async def augment(self, job: AugmentJob, ctx: bentoml.Context) -> AugmentResult:
        return await run_until_disconnected(ctx, lambda cancel: self.augment_now(job, cancel))

    @bentoml.on_shutdown
    def shutdown(self) -> None:
        self.unload_all()  # stops every engine process
