# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make run    set up .venv and run the main job on the bundled scenarios
#   make test   set up .venv (and Debian's chromium for the browser tests) and run every test,
#               then the core tests again on Python 3.13 with the newest dependencies
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Python 3.13 (through pyenv on this machine) with the newest releases of every dependency.
PYTHON313 ?= python3.13
PYENV313  ?= 3.13.0
VENV313   := .venv313
STAMP313  := $(VENV313)/.installed
TESTS313  ?= tests/test_model.py tests/test_cli.py tests/test_scenario.py tests/test_compare.py \
             tests/test_install.py tests/test_memory.py tests/test_ecosystem.py tests/test_ema.py \
             tests/test_jit.py tests/test_jit_consumers.py tests/test_jit_learning.py \
             tests/test_jit_phases.py
# The browser tests of what Mesa's SolaraViz does for the page (render, Step, Play, Reset,
# the picker), which changes between Mesa releases; on their own, as they are load-sensitive.
BROWSER313 ?= -k "renders or step_advances or play_then_pause or reset_starts_over or picker_loads"

# Python 3.12 (through pyenv) with the last Mesa 3.4 release: the middle of the three Mesa
# lines govsim supports (3.3 on Python 3.11, 3.4 and 3.5 on 3.12+).
PYTHON312 ?= python3.12
PYENV312  ?= 3.12.1
VENV312   := .venv312
STAMP312  := $(VENV312)/.installed
TESTS312  ?= tests/test_model.py tests/test_ecosystem.py tests/test_memory.py tests/test_scenario.py

.PHONY: run test test-py312 test-py313 lint bench chromium clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,viz,ema,calibrate]'
	touch $(STAMP)

# Built from scratch whenever the project's requirements or this file change (CI always starts
# fresh).
$(STAMP313): pyproject.toml setup.py Makefile
	rm -rf $(VENV313)
	PYENV_VERSION=$(PYENV313) $(PYTHON313) -m venv $(VENV313)
	$(VENV313)/bin/python -m pip install --quiet --upgrade pip
	$(VENV313)/bin/python -m pip install --quiet --no-compile --upgrade --upgrade-strategy eager -e '.[dev,ema,viz]'
	touch $(STAMP313)

$(STAMP312): pyproject.toml setup.py Makefile
	rm -rf $(VENV312)
	PYENV_VERSION=$(PYENV312) $(PYTHON312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install --quiet --upgrade pip
	$(VENV312)/bin/python -m pip install --quiet --no-compile -e '.[dev]' 'mesa>=3.4,<3.5'
	touch $(STAMP312)

run: $(STAMP)
	$(BIN)/govsim compare

# Two test processes (pytest-xdist) for all but the browser tests, which run on their own:
# they are the part of the suite that is sensitive to load.
TEST_WORKERS ?= 2

test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser"
	$(BIN)/python -m pytest -m browser
	$(MAKE) test-py312
	$(MAKE) test-py313

# The Mesa-facing tests (model, batch_run and DataCollector, memory, scenario) on Mesa 3.4.
test-py312: $(STAMP312)
	$(VENV312)/bin/python -c 'import sys, mesa; print("Python", sys.version.split()[0], "Mesa", mesa.__version__)'
	$(VENV312)/bin/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) $(TESTS312)

# The model, CLI, scenario, compare, install, memory, ecosystem, EMA and compiled-loop tests
# on Python 3.13 (do the compiled loops still match the newest numpy?), then the browser
# tests of Mesa's controls.
test-py313: $(STAMP313) chromium
	$(VENV313)/bin/python -c 'import sys, mesa; print("Python", sys.version.split()[0], "Mesa", mesa.__version__)'
	$(VENV313)/bin/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) $(TESTS313)
	$(VENV313)/bin/python -m pytest -q -p no:cacheprovider tests/test_viz_browser.py $(BROWSER313)

# The browser tests drive Debian's chromium; install it when it is missing (CI runs as root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_optimise.py
	$(BIN)/python benchmarks/bench_calibrate.py

clean:
	rm -rf $(VENV) $(VENV312) $(VENV313) out .pytest_cache
