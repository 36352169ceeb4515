"""Fixes for transformers bugs that the pinned version (5.24.0) hits on real checkpoints, applied before a model of an
affected family loads. Each names the bug; drop it when the pin moves past the fix."""

from __future__ import annotations

_PATCHED = False


def runtime_patches() -> None:
    """Idempotent; applied by the transformers engine before it loads a model.

    Only Llama 4 needs them (transformers 5.24.0 bugs), both hit on every forward that carries images:
    1. Llama4ForConditionalGeneration.forward returns `Llama4CausalLMOutputWithPast(...,
       image_outputs=outputs.image_outputs)`, but its language model (Llama4ForCausalLM) returns a
       `MoeCausalLMOutputWithPast`, which has no `image_outputs` field -> AttributeError. Fix: class-level default
       `MoeCausalLMOutputWithPast.image_outputs = None` (so `out.image_hidden_states` stays unavailable).
    2. Llama4ImageProcessor always rescales/normalizes in bfloat16 and returns bfloat16 `pixel_values`, which the
       vision tower does not cast -> "expected m1 and m2 to have the same dtype" with float32 (or fp16) weights.
       Fix: cast `pixel_values` to the vision tower's dtype in `get_image_features`.
    """
    global _PATCHED
    if _PATCHED:
        return
    from transformers.modeling_outputs import MoeCausalLMOutputWithPast
    from transformers.models.llama4 import modeling_llama4

    if not hasattr(MoeCausalLMOutputWithPast, "image_outputs"):
        MoeCausalLMOutputWithPast.image_outputs = None

    orig = modeling_llama4.Llama4ForConditionalGeneration.get_image_features
    if not getattr(orig, "_video_service_patched", False):
        def get_image_features(self, pixel_values, *args, **kwargs):
            pixel_values = pixel_values.to(dtype=self.vision_model.dtype)
            return orig(self, pixel_values, *args, **kwargs)

        # mypy allows neither on purpose: a marker attribute on a function (a second call must not wrap the
        # wrapper), and replacing a method of a transformers class (the patch itself)
        get_image_features._video_service_patched = True  # type: ignore[attr-defined]
        modeling_llama4.Llama4ForConditionalGeneration.get_image_features = get_image_features  # type: ignore[method-assign]
    _PATCHED = True
