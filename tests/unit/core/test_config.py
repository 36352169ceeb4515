"""Configuration: the shipped file is valid, errors name the key, estimates count every expert."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runners.core.config import DEFAULT_CONFIG, ConfigError, load_config

MISSION_MODELS = {
    "object_detection": {"yolo-world-v2", "grounding-dino-1-5", "owlv2", "florence-2"},
    "video_tracking": {"samurai", "sam2long", "sam2-1", "yolo11n-seg"},
    "video_summarization": {"llama-4-maverick", "gemma-3-27b", "internvl3-78b", "pixtral-large", "qwen2-5-vl-72b"},
    "ontology_augmentation": {"llama-4-scout", "llama-3-3-70b", "deepseek-v3", "gemma-3-27b-text"},
}


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def shipped() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def test_shipped_config_lists_every_mission_model():
    config = load_config(DEFAULT_CONFIG)
    for task, names in MISSION_MODELS.items():
        assert names <= set(config.models[task].options), task


def test_grounding_dino_1_5_names_the_open_checkpoint_that_serves_it():
    option = load_config(DEFAULT_CONFIG).option("object_detection", "grounding-dino-1-5")
    assert option.serves_as is not None and option.model_id in option.serves_as
    assert "API-only" in option.description


@pytest.mark.parametrize("name", ["models.yaml", "models.cpu.yaml"])
def test_shipped_configs_serve_published_weights_and_name_every_stand_in(name):
    config = load_config(DEFAULT_CONFIG.with_name(name))
    options = {n: o for task in config.models.values() for n, o in task.options.items()}
    assert {o.weights for o in options.values()} == {"pretrained"}
    # only grounding-dino-1-5 is served by a checkpoint that is not its own (1.5 is API-only)
    assert {n for n, o in options.items() if o.serves_as} == {"grounding-dino-1-5"}


def test_internvl_loads_the_format_each_engine_implements():
    engine = load_config(DEFAULT_CONFIG).option("video_summarization", "internvl3-78b").engine
    model_id = "OpenGVLab/InternVL3-78B-hf"
    # SGLang implements InternVL as InternVLChatModel (the original format), vLLM and transformers the -hf one
    assert engine.checkpoint("sglang", model_id) == (
        "OpenGVLab/InternVL3-78B", ["--trust-remote-code", "--chat-template", "internvl-2-5"])
    assert engine.checkpoint("vllm", model_id) == (model_id, [])


def test_memory_estimates_count_every_expert_of_mixture_models():
    config = load_config(DEFAULT_CONFIG)
    maverick = config.option("video_summarization", "llama-4-maverick")
    deepseek = config.option("ontology_augmentation", "deepseek-v3")
    assert maverick.estimated_vram_gb > 400  # ~400B parameters at one byte each, not the 17B active
    assert deepseek.estimated_vram_gb > 671
    assert config.option("video_summarization", "qwen2-5-vl-72b").estimated_vram_gb < 60  # 4-bit


def test_model_config_environment_variable_chooses_the_file(tmp_path, monkeypatch):
    data = shipped()
    data["models"]["object_detection"]["selected"] = "owlv2"
    monkeypatch.setenv("MODEL_CONFIG", str(write(tmp_path, data)))
    assert load_config().models["object_detection"].selected == "owlv2"


@pytest.mark.parametrize("mutate, key", [
    (lambda d: d["models"]["object_detection"].update(selected="nope"), "models.object_detection"),
    (lambda d: d["models"]["object_detection"]["options"]["owlv2"].update(framework="tensorflow"),
     "models.object_detection.options.owlv2.framework"),
    (lambda d: d["models"]["object_detection"]["options"]["owlv2"].pop("model_id"),
     "models.object_detection.options.owlv2.model_id"),
    (lambda d: d["inference"].update(offload_threshold=3), "inference.offload_threshold"),
    (lambda d: d["inference"].update(typo_key=1), "inference.typo_key"),
    (lambda d: d["models"].update(video_editing={"selected": "x", "options": {}}), "models.video_editing"),
])
def test_invalid_config_names_the_key(tmp_path, mutate, key):
    data = shipped()
    mutate(data)
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, data))
    assert key in str(info.value)


def test_unreadable_config_files_fail_clearly(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "models: [unclosed"))


def test_relative_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDIA_ROOTS", raising=False)
    data = shipped()
    data["media"] = {"roots": ["./videos"]}
    config = load_config(write(tmp_path, data))
    assert config.media_roots == [(tmp_path / "videos").resolve()]
    assert config.resolve_local("./weights/x.pt") == str((tmp_path / "weights" / "x.pt").resolve())
    assert config.resolve_local("google/owlv2-large-patch14-ensemble") == "google/owlv2-large-patch14-ensemble"
    monkeypatch.setenv("MEDIA_ROOTS", f"{tmp_path}/a:{tmp_path}/b")
    assert config.media_roots == [tmp_path / "a", tmp_path / "b"]


def test_the_cpu_profile_serves_small_members_of_the_same_families():
    cpu, default = load_config(DEFAULT_CONFIG.parent / "models.cpu.yaml"), load_config(DEFAULT_CONFIG)
    for task in ("object_detection", "video_tracking"):  # copied from the default: they must not drift apart
        assert cpu.models[task].options == default.models[task].options, task
    for task in ("video_summarization", "ontology_augmentation"):
        options = cpu.models[task].options
        assert {o.family for o in options.values()} <= {o.family for o in default.models[task].options.values()} | \
            {"gemma3-text"}
        assert all(o.framework == "transformers" and o.estimated_vram_gb < 16 for o in options.values()), task
    assert cpu.option("ontology_augmentation", "gemma-3-4b-text").model_id == \
        cpu.option("video_summarization", "gemma-3-4b").model_id  # one load serves both tasks


def test_every_shipped_family_has_a_backend_and_a_typo_names_the_key_and_the_families(tmp_path):
    from runners.detection.registry import FAMILIES as DETECTION
    from runners.language.registry import FAMILIES as LANGUAGE
    from runners.tracking.registry import FAMILIES as TRACKING

    registries = {"object_detection": DETECTION, "video_tracking": TRACKING, "video_summarization": LANGUAGE,
                  "ontology_augmentation": LANGUAGE}
    for path in (DEFAULT_CONFIG, DEFAULT_CONFIG.with_name("models.cpu.yaml")):
        load_config(path).check_families(registries)  # nothing raised
    data = shipped()
    data["models"]["video_tracking"]["options"]["samurai"]["family"] = "samuri"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, data)).check_families(registries)
    message = str(info.value)
    assert "models.video_tracking.options.samurai.family: 'samuri'" in message
    assert "sam2, sam2long, samurai, yolo-seg" in message
