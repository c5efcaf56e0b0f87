# `make demo` and `make test` are the whole set-up: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DIR ?= build/example-lab
# the Example Lab's present (its last view in examples/example-lab/lab.yaml)
DEMO_AS_OF ?= 2026-11-30T12:00:00Z

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,all]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mast demo $(DEMO_DIR)
	mkdir -p $(DEMO_DIR)/reports
	@for a in public reviewer internal; do for f in html pdf; do \
	  $(BIN)/mast -w $(DEMO_DIR) report risk --audience $$a --format $$f --as-of $(DEMO_AS_OF) \
	    -o $(DEMO_DIR)/reports/risk-report-$$a.$$f || exit 1; \
	done; done
	$(BIN)/mast -w $(DEMO_DIR) framework diff 2.2 2.3 --html $(DEMO_DIR)/reports/framework-diff-2.2-2.3.html
	$(BIN)/mast -w $(DEMO_DIR) framework log

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	@for b in bench/engine.py bench/log.py bench/evidence.py bench/report.py; do \
	  if [ -f $$b ]; then echo "== $$b"; $(BIN)/python $$b || exit 1; fi; \
	done

clean:
	rm -rf $(VENV) build
