# Two commands do all set-up on a fresh machine with Python 3.11 and the package registries:
#   make run   - create .venv, install prt, load the demo trial into the platform (SQLite in
#                $(DATA)), print one login per role and serve it at http://127.0.0.1:8000
#   make test  - create .venv if needed, run the whole test suite
# make demo-analysis: the analysis demo (a simulated trial -> analysis + report.html; the trial's
# own data too when ../shared is beside the repository).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo-output
DATA   ?= prt-data
HOST   ?= 127.0.0.1
PORT   ?= 8000
SHARED := ../shared/data/boulder-back-pain-study/redcap_wide.csv
PYTEST_ARGS ?= -n 2

.PHONY: run test test-deps venv clean bench web demo-analysis

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: 2.13.0 is a CPU build this machine's pip finds locally (a bare 'torch' would
	# pull a multi-GB CUDA build); the attribution coder's embeddings need it.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test,web,imaging,attribution,attribution-embeddings]'
	touch $(STAMP)

run: $(STAMP)
	PRT_DATA_DIR=$(DATA) $(BIN)/prt web demo
	PRT_DATA_DIR=$(DATA) $(BIN)/prt serve --host $(HOST) --port $(PORT)

demo-analysis: $(STAMP)
	mkdir -p $(DEMO)
	$(BIN)/prt simulate --n 151 --seed 2022 --out $(DEMO)/simulated_trial.csv
	$(BIN)/prt analyze $(DEMO)/simulated_trial.csv --out $(DEMO)/simulated-analysis --seed 2022
	@if [ -f $(SHARED) ]; then \
		$(BIN)/prt analyze $(SHARED) --out $(DEMO)/boulder-analysis --seed 2022 && \
		echo "The trial's own data: open $(DEMO)/boulder-analysis/report.html"; \
	fi
	@echo "Simulated demo trial: open $(DEMO)/simulated-analysis/report.html"

# Kept for old habits: the same as make run.
web: run

# System test dependencies: R + lmerTest (the mixed model's oracle), chromium and fonts (browser
# tests) from Debian, axe-core from npm; each only when missing (a second run takes a fraction of a second).
test-deps:
	bash scripts/install-test-deps

test: $(STAMP) test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_analysis.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .hypothesis
	@echo "(the platform's data folder $(DATA) is kept: remove it yourself if it holds only the demo)"
