# The two commands of the README:
#   make analyze   set up .venv and analyse the sample clip (samples/single_face.mp4)
#   make test      set up .venv and run the test suite
# Both work offline after the first install (package registries only).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# `make analyze` installs emochat alone (no extras: everything the main job needs);
# `make test` adds every extra the tests exercise, llm included (it compiles llama.cpp).
TEST_EXTRAS ?= dev,serve,ray,llm,train
OUT ?= emochat-out
# llama.cpp (the llm extra) is compiled at install: portably, not with -march=native, which
# on an Intel Xeon VM built AMX tile code that dies with a general protection fault there
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF

.PHONY: analyze test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(BIN)/.installed-analyze: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(BIN)/.installed-test: pyproject.toml | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q -e ".[$(TEST_EXTRAS)]"
	touch $@ $(BIN)/.installed-analyze

analyze: $(BIN)/.installed-analyze
	$(BIN)/emochat analyze samples/single_face.mp4 -o $(OUT)

test: $(BIN)/.installed-test
	scripts/install-system-deps.sh
	$(BIN)/python -m pytest -q

lint: $(BIN)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

bench: $(BIN)/.installed-test
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
