# Two commands on a fresh machine:  make study  (set up, run the demo study)  ·  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STUDY ?= demo
PROFILE ?= params/$(STUDY).yaml
OUT := outputs/$(STUDY)/notebooks
NOTEBOOKS := 01_cohort 02_roi
BACKBONES ?= resnet18 efficientnet-b0
PAPERMILL := cd notebooks && ../$(BIN)/papermill --log-output --log-level INFO

.PHONY: setup study test lab clean-study
.DEFAULT_GOAL := help

help:
	@echo "make study   set up if needed, then run the demo study end to end (outputs/demo/)"
	@echo "make test    set up if needed, then run the tests"
	@echo "make lab     JupyterLab on notebooks/ with the project's environment"
	@echo "make setup   create $(VENV) and install osteolib with everything the notebooks need"

setup: $(STAMP)

# pyproject.toml is the source of truth for the environment (environment.yml mirrors it for conda).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (osteolib)" >/dev/null
	touch $@

# Runs every notebook in order with papermill; executed copies are the audit trail.
study: $(STAMP)
	mkdir -p $(OUT)
	set -e; for nb in $(NOTEBOOKS); do \
	  ($(PAPERMILL) $$nb.ipynb ../$(OUT)/$$nb.ipynb -f ../$(PROFILE)); \
	done
	set -e; for b in $(BACKBONES); do \
	  ($(PAPERMILL) 03_train.ipynb ../$(OUT)/03_train__$$b.ipynb -f ../$(PROFILE) -p backbone $$b); \
	done
	$(PAPERMILL) 04_stats.ipynb ../$(OUT)/04_stats.ipynb -f ../$(PROFILE)
	@echo "done: outputs/$(STUDY)/ (executed notebooks in $(OUT)/)"

test: $(STAMP)
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean-study:
	rm -rf outputs/$(STUDY) data/$(STUDY)
