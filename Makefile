# Two commands on a fresh machine:  make study  (set up, run the demo study)  ·  make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STUDY ?= demo
PROFILE ?= params/$(STUDY).yaml
CORES ?= $(shell nproc 2>/dev/null || echo 2)
GPUS ?= 0
SNAKEMAKE := $(BIN)/snakemake -s workflow/Snakefile --cores $(CORES) --resources gpu=$(GPUS) \
	--config profile=$(PROFILE) gpus=$(GPUS) --printshellcmds --show-failed-logs

.PHONY: setup study paper dry-run test lab clean-study
.DEFAULT_GOAL := help

help:
	@echo "make study   set up if needed, then run the demo study end to end (outputs/demo/)"
	@echo "make paper   the published protocol (GPUS=N to share N local GPUs)"
	@echo "make dry-run the jobs 'make study' would run (STUDY=paper for the paper profile)"
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

# The study through the Snakemake workflow (workflow/Snakefile): every notebook run by papermill, executed
# copies kept in outputs/<study>/notebooks/ as the audit trail. A second run does only what changed.
study: $(STAMP)
	$(SNAKEMAKE)
	@echo "done: outputs/$(STUDY)/ (executed notebooks in outputs/$(STUDY)/notebooks/)"

# The published protocol (30 repeats x 6 backbones, pretrained, full-size images): hours on GPUs.
#   make paper GPUS=4     or on a cluster: see README, "Running the paper profile on a SLURM cluster"
paper: $(STAMP)
	$(MAKE) study STUDY=paper

# What the workflow would run, without running it.
dry-run: $(STAMP)
	$(SNAKEMAKE) --dry-run --quiet rules

test: $(STAMP)
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean-study:
	rm -rf outputs/$(STUDY) data/$(STUDY)
