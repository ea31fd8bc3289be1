# Two commands do all the set-up on a fresh clone:
#   make demo   - create .venv, install, detect emotions on a real photo with the shipped model
#   make test   - create .venv, install, lint and run the whole test suite (CI)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath ../shared)
PHOTO ?= $(SHARED)/models/testdata/astronaut.png
export EDGEFER_DATA ?= $(SHARED)/data/fer2013/fer2013.npz

.PHONY: setup demo demo-video test test-fast test-reliability lint arm64-check clean

setup: $(VENV)/.installed

# torch is pinned to the local CPU build in constraints.txt (an unpinned torch pulls CUDA).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[train,dev,openvino,ncnn,litert,tflite-export]'
	touch $@

demo: setup
	$(BIN)/edgefer detect --source $(PHOTO) --save runs/demo/$(notdir $(basename $(PHOTO))).png
	@echo "annotated image: runs/demo/$(notdir $(basename $(PHOTO))).png"

# A video run to its outputs: annotated video, per-face CSV, per-track summary, timeline plot.
demo-video: setup
	$(BIN)/python benchmarks/demo_video.py runs/demo/astronaut4.avi --photo $(PHOTO)
	$(BIN)/edgefer detect --source runs/demo/astronaut4.avi --save runs/demo/astronaut4.mp4 \
	  --csv runs/demo/astronaut4.csv --summary --timeline runs/demo/astronaut4-timeline.png

lint: setup
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

# The edit loop: everything but the tests marked slow (training, exports, fresh venvs).
test-fast: lint
	$(BIN)/pytest -m "not slow"

# Faults, bad input and property tests on their own (also part of `make test`).
test-reliability: setup
	$(BIN)/pytest tests/reliability

# The runtime as an aarch64 program under qemu, checked against x86 (slow; ~150 MB download).
arm64-check: setup
	benchmarks/arm64/run.sh

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache *.egg-info
