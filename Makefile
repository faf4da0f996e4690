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

LAB_IP ?= 127.0.0.1
LAB_PORT ?= 8888
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
HOST = $(shell hostname -f 2>/dev/null || hostname)

.PHONY: setup study paper networks dry-run test test-fast docs report test-cluster test-ui lab clean-study
.DEFAULT_GOAL := help

help:
	@echo "make study   set up if needed, then run the demo study end to end (outputs/demo/)"
	@echo "make paper   the published protocol (GPUS=N to share N local GPUs)"
	@echo "make networks  every backbone (the paper's six and the newer ones), both arms, against its cost (~1 h on 2 CPU cores)"
	@echo "make dry-run the jobs 'make study' would run (STUDY=paper for the paper profile)"
	@echo "make test    set up if needed, then run the tests"
	@echo "make test-fast  the unit tests only (no notebook runs, no trainings beyond a few steps): a few minutes"
	@echo "make docs    the documentation site (docs/_build/html), strict: a warning fails it"
	@echo "make report  one self-contained HTML report of a study (outputs/\$$(STUDY)/report.html)"
	@echo "make lab     JupyterLab on notebooks/ with the project's environment (LAB_IP=0.0.0.0 to reach it from elsewhere)"
	@echo "make test-cluster  the workflow on a real one-node SLURM started here (root: apt, daemons; ~4 min)"
	@echo "make test-ui       notebooks 01 and 02 run in JupyterLab through a real browser (chromium, Playwright)"
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

# Accuracy against cost: the networks profile (every registered backbone, both arms, demo size), then each
# network's cost measured here (python -m osteolib.cost) and the page docs/results/networks.md with its figure.
networks: $(STAMP)
	$(MAKE) study STUDY=networks
	$(BIN)/python -m osteolib.cost --study networks
	$(BIN)/python -m osteolib.report networks --study networks --out docs/results/networks.md

# What the workflow would run, without running it.
dry-run: $(STAMP)
	$(SNAKEMAKE) --dry-run --quiet rules

test: $(STAMP)
	$(BIN)/python -m pytest

# The quick loop while working: every test but the end-to-end runs and the longer trainings (marked slow).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not cluster and not ui"

# The documentation (Sphinx, MyST-NB, the PyData theme; the [docs] extra): its generated pages written
# from the code first, then built offline and strictly (-W: a warning or a broken reference fails).
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python docs/generate.py
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

# One self-contained HTML report of a study (every table, figure, executed notebook, the checklist).
report: $(STAMP)
	$(BIN)/python -m osteolib.report html --study $(STUDY)

# The real-cluster test: a one-node SLURM on this machine (tests/cluster/slurm-up.sh installs slurm-wlm
# and munge with apt and starts them; root), the smoke study through profiles/slurm, then SLURM stopped.
test-cluster: $(STAMP)
	tests/cluster/slurm-up.sh
	$(BIN)/python -m pytest tests/cluster -m cluster -s; status=$$?; tests/cluster/slurm-down.sh; exit $$status

# The browser test: Playwright (the [ui] extra) driving Debian's chromium (Playwright's own browser
# download is not needed); apt installs chromium when it is missing (root).
test-ui: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[ui]"
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	$(BIN)/python -m pytest tests/ui -m ui -s

# JupyterLab with the project's kernel. As root (a container, a cloud VM) it adds --allow-root. From
# another machine: LAB_IP=0.0.0.0 and open the URL it prints (with this machine's name), or keep
# 127.0.0.1 and tunnel: ssh -N -L 8888:127.0.0.1:8888 you@this-machine
lab: $(STAMP)
	@echo "JupyterLab on $(LAB_IP):$(LAB_PORT) (this machine: $(HOST)); the URL with its token follows."
	@echo "From another machine: make lab LAB_IP=0.0.0.0, then http://$(HOST):$(LAB_PORT)/lab?token=<token>;"
	@echo "or tunnel: ssh -N -L $(LAB_PORT):127.0.0.1:$(LAB_PORT) $$(id -un)@$(HOST), then http://127.0.0.1:$(LAB_PORT)/lab?token=<token>"
	$(BIN)/jupyter lab notebooks/ --ip=$(LAB_IP) --port=$(LAB_PORT) $(ROOT_FLAG)

clean-study:
	rm -rf outputs/$(STUDY) data/$(STUDY)
