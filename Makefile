# One command per chore. `make demo` and `make test` are all a new user needs.
VENV      := .venv
BIN       := $(VENV)/bin
PYTHON    ?= python3
export CXLAKE_HOME ?= $(CURDIR)/data

.PHONY: demo test setup manifest lint dagster-ui bench clean

demo: setup ## generate the demo data, run the whole pipeline, serve the explorer
	$(BIN)/cxlake generate --scale small --seed 42 --days 90 --out $(CXLAKE_HOME)/landing
	$(BIN)/cxlake run --landing $(CXLAKE_HOME)/landing
	$(BIN)/cxlake cases replay-demo --truth $(CXLAKE_HOME)/landing/truth.json
	@echo ""
	@echo "Demo accounts (new passwords each time; sign in with one of these):"
	$(BIN)/cxlake users demo
	@echo ""
	@echo "Explorer:   http://localhost:8501"
	@echo "Dagster UI: make dagster-ui   (then http://localhost:3000)"
	$(BIN)/cxlake serve --port 8501

test: setup ## the test suite (CI runs exactly this)
	$(BIN)/pytest

setup: $(VENV)/.installed ## ./.venv with cxlake installed (editable) and the dbt manifest

# The venv is created once: re-creating it over itself with whatever python3 the PATH holds now (after
# a pull changed pyproject.toml) would re-point it at another interpreter; dependencies are refreshed.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[tests]'
	$(MAKE) manifest
	touch $@

manifest: ## dbt parse: the manifest Dagster loads the dbt assets from
	cd dbt_project && ../$(BIN)/dbt parse --quiet

lint:
	$(BIN)/ruff check .

dagster-ui: setup ## the Dagster UI on the same definitions and run history as `cxlake run`
	$(BIN)/python -c 'import pathlib, orchestration.runner as r; r.install_instance_config(pathlib.Path("$(CXLAKE_HOME)/dagster"))'
	DAGSTER_HOME=$(CXLAKE_HOME)/dagster $(BIN)/dagster dev -m orchestration.definitions

bench: setup ## medium-scale ingest + dbt build vs plain DuckDB, explorer page speed (writes bench/RESULTS.md)
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_pages.py

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs
