# Two commands do all set-up on a fresh machine with Python 3.11 and the package registries:
#   make run   - create .venv, install prt, run the demo (simulated trial -> analysis + report)
#   make test  - create .venv if needed, run the whole test suite
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo-output
SHARED := ../shared/data/boulder-back-pain-study/redcap_wide.csv
PYTEST_ARGS ?= -n 2

.PHONY: run test venv clean bench web

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,web]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p $(DEMO)
	$(BIN)/prt simulate --n 151 --seed 2022 --out $(DEMO)/simulated_trial.csv
	$(BIN)/prt analyze $(DEMO)/simulated_trial.csv --out $(DEMO)/simulated-analysis --seed 2022
	@if [ -f $(SHARED) ]; then \
		$(BIN)/prt analyze $(SHARED) --out $(DEMO)/boulder-analysis --seed 2022 && \
		echo "The trial's own data: open $(DEMO)/boulder-analysis/report.html"; \
	fi
	@echo "Simulated demo trial: open $(DEMO)/simulated-analysis/report.html"

# The web platform (first slice, docs/web.md): a demo site, one login per role, gunicorn on :8000.
web: $(STAMP)
	$(BIN)/prt web demo
	$(BIN)/prt serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_analysis.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .hypothesis
