# Both targets do all of their own set-up from a fresh clone.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# DeepCAVE's isolated environment (Python 3.10): only the DeepCAVE tests and `hpo2nas dashboard` use it.
DEEPCAVE_STAMP := .venv-deepcave/.installed

.PHONY: run test install clean debian-deps docs-results

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24" "setuptools>=68,<81" wheel
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation --config-settings editable_mode=compat -e .
	touch $(STAMP)

install: $(STAMP)

$(DEEPCAVE_STAMP): requirements-deepcave.lock scripts/make-deepcave-env.sh
	bash scripts/make-deepcave-env.sh

# Debian's redis-server and chromium (dashboard and browser tests), installed where missing.
debian-deps:
	bash scripts/ensure-debian.sh

# The main job: the optimizer comparison on NB201 cifar10-valid (quick profile, embedded data).
run: $(STAMP)
	$(BIN)/hpo2nas data summary
	$(BIN)/hpo2nas compare experiments/nb201_cifar10.toml --profile quick

# Rewrite the results tables in README.md and docs/ from the compare runs their markers name
# (every table; TABLE=ID for one; FROM=RESULTS_DIR to read an existing compare folder instead).
docs-results: $(STAMP)
	$(BIN)/python scripts/docs_results.py $(if $(TABLE),--table $(TABLE)) $(if $(FROM),--from $(FROM))

test: $(STAMP) $(DEEPCAVE_STAMP) debian-deps
	$(BIN)/python -m pytest -n 2 -q --ignore=tests/test_docs.py
	# The docs' commands run in one process, in document order: later ones read what earlier ones wrote.
	$(BIN)/python -m pytest -q tests/test_docs.py

clean:
	rm -rf $(VENV) .venv-deepcave
