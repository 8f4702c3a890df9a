# Every target creates .venv itself (torch/torchvision come from the local disk via the pinned versions).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM = false

.PHONY: venv detect test bench demo browser clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

detect: $(STAMP)
	$(BIN)/deepfake-detect detect examples/ --model hub_repos/deepfake-detector

test: $(STAMP) browser
	$(BIN)/python -m pytest -q tests

# Debian's Chromium for the Space's browser test (root + apt); the test is skipped with its reason where this fails.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "note: Debian's chromium could not be installed; the browser test will be skipped"

demo: $(STAMP)
	$(BIN)/python space/app.py

bench: $(STAMP)
	$(BIN)/python scripts/benchmark.py --output docs/BENCHMARKS.md
	$(BIN)/python scripts/bench_startup.py --output docs/BENCHMARKS.md

clean:
	rm -rf $(VENV) build *.egg-info
