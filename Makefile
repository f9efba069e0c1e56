# Both targets build their own virtual environment from scratch: nothing is assumed
# installed by hand except Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench faults clean

$(STAMP): pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m workers.local

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Touchpoint's overhead over bare Temporal, on a dev server of its own (about 10 minutes
# on 2 cores): prints the table, writes var/bench.json. Options: make bench ARGS="--quick".
bench: $(STAMP)
	$(BIN)/python -m tests.bench $(ARGS)
	$(BIN)/python -m tests.bench.ingest

# SIGKILLed workers, a restarted server and every event three times: exits 1 on any lost
# or duplicate touch or wrong mode. Options: make faults ARGS="--leads 500".
faults: $(STAMP)
	$(BIN)/python -m tests.faults $(ARGS)

clean:
	rm -rf $(VENV) var
