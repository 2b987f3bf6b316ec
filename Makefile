# One command per task. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test check bench screenshots image image-check clean

install: $(STAMP)

# Reinstall whenever the dependency list changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/sendmako serve

test: install
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

check: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	@for script in bench/bench_*.py; do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; \
	done

# The dashboard's screenshots in docs/screenshots, taken by its browser tests (Chromium).
screenshots: install
	SENDMAKO_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/dashboard/test_browser.py -q

# The container image (Dockerfile): wheels built here, then the image, with docker or podman.
image: install
	deploy/wheelhouse.sh
	$(if $(shell command -v docker),docker build,podman build --format docker) -t sendmako .

# Build the image on a debootstrapped Debian 12 and start it in a chroot (root, minutes).
image-check: install
	deploy/check-image.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
