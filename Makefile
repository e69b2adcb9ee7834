# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test coverage console sync lint typecheck bench bench-quick bench-writes bench-pictures clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,metrics]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/lorebot run

console: $(STAMP)
	$(BIN)/lorebot console

sync: $(STAMP)
	$(BIN)/lorebot sync

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The tests with line coverage of lore/ (slower than `make test`, which stays as it is).
# The data files go to a shared temporary folder: some tests run the CLI as another user (nobody).
COVERAGE_DIR ?= /tmp/lorebot-coverage
coverage: $(STAMP)
	@mkdir -p $(COVERAGE_DIR) && chmod 1777 $(COVERAGE_DIR) && rm -f $(COVERAGE_DIR)/.coverage*
	COVERAGE_FILE=$(COVERAGE_DIR)/.coverage $(BIN)/python -m pytest --cov=lore --cov-report=term

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

bench-writes: $(STAMP)
	$(BIN)/python -m bench.writes

bench-pictures: $(STAMP)
	$(BIN)/python -m bench.pictures

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage .coverage.*
