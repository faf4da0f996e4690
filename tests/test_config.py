"""Notebook parameters: the tagged cell, the frozen dataclass and the profiles agree."""
from __future__ import annotations

import ast
import dataclasses
import json

import pytest
import yaml

from osteolib import config, paths

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def parameters_cell(nb_path):
    nb = json.loads(nb_path.read_text())
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{nb_path.name}: exactly one cell tagged 'parameters'"
    src = "".join(cells[0]["source"])
    values = {}
    for line in src.splitlines():
        node = ast.parse(line).body[0]
        assert isinstance(node, ast.Assign), f"{nb_path.name}: one assignment per line"
        assert "#" in line, f"{nb_path.name}: every parameter has a comment: {line}"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_dataclass_and_demo_profile(nb_path):
    values = parameters_cell(nb_path)
    cls = config.Params.registry[nb_path.stem]
    # the notebook's own parameters default to the demo's, as in its cell; a knob of the library takes
    # the library's default (the paper's: tests/test_settings.py), which the cell overrides with the demo's
    own = {f.name: f.default for f in dataclasses.fields(cls) if not config.default_from(cls, f.name)}
    assert {k: values[k] for k in own} == own, "the notebook's defaults are the dataclass defaults"
    assert set(values) == {f.name for f in dataclasses.fields(cls)}, "the cell declares every parameter"
    demo = config.load_profile("demo")
    per_run = {"backbone"}  # chosen per run (-p backbone ...), not by a profile
    assert {k: demo[k] for k in values if k not in per_run} == {k: v for k, v in values.items() if k not in per_run}, \
        "the notebook's defaults run the demo study"


def test_every_profile_is_valid_for_every_notebook():
    for profile in sorted(paths.PARAMS.glob("*.yaml")):
        values = config.load_profile(profile)
        for cls in config.Params.registry.values():
            cls.from_namespace(values)


def test_unknown_and_mistyped_parameters():
    with pytest.raises(config.ParameterError, match="unknown parameter 'n_fold' .did you mean 'n_folds'"):
        config.CohortParams.from_namespace({"n_fold": 3})
    with pytest.raises(config.ParameterError, match="'n_folds' must be int"):
        config.CohortParams.from_namespace({"n_folds": "5"})
    with pytest.raises(config.ParameterError, match="roi_side"):
        config.RoiParams.from_namespace({"roi_side": "middle"})
    with pytest.raises(config.ParameterError, match="needs roi_detector"):
        config.RoiParams.from_namespace({"roi_source": "auto"})
    with pytest.raises(config.ParameterError, match="roi_source"):
        config.RoiParams.from_namespace({"roi_source": "magic"})
    with pytest.raises(config.ParameterError, match="plain folder name"):
        config.CohortParams.from_namespace({"study": "../elsewhere"})
    # a name of another notebook is accepted (profiles are shared); IPython's own names are ignored
    cfg = config.CohortParams.from_namespace({"roi_width": 80, "In": [], "Out": {}, "_": 1, "seed": 4})
    assert cfg.seed == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 5  # frozen


def test_profile_with_unknown_key(tmp_path):
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"study": "x", "n_screend": 3}))
    with pytest.raises(config.ParameterError, match="n_screend"):
        config.load_profile(tmp_path / "bad.yaml")


def test_backbone_profile_resolves_its_own_learning_rate():
    """`papermill 03_train.ipynb out.ipynb -f ../params/resnet152.yaml` with the notebook's other defaults."""
    defaults = {f.name: f.default for f in dataclasses.fields(config.TrainParams)}
    from osteolib.settings import TrainingSettings
    cfg = config.TrainParams.from_namespace({**defaults, **config.load_profile("resnet152")})
    s = TrainingSettings.from_params(cfg)
    assert (s.backbone, s.lr, s.batch_size) == ("resnet152", 0.001, 32)
    paper = config.TrainParams.from_namespace({**config.load_profile("paper"), "backbone": "efficientnet-b7"})
    s = TrainingSettings.from_params(paper)
    assert (s.lr, s.max_epochs, s.patience, s.pretrained) == (0.001, 100, 20, True)
    # the demo takes every backbone's own learning rate (lr 0)
    assert TrainingSettings.from_params(config.TrainParams.from_namespace({"backbone": "resnet152"})).lr == 0.001


def test_what_a_user_types_is_accepted():
    """papermill turns `-p repeats 0` into an int; a profile's `repeats: 3` too."""
    assert config.TrainParams.from_namespace({"repeats": 0}).repeats == "0"
    assert config.TrainParams.from_namespace({"repeats": 7}).repeats == "7"
    with pytest.raises(config.ParameterError, match="'repeats' must be str, got True"):
        config.TrainParams.from_namespace({"repeats": True})
    with pytest.raises(config.ParameterError, match="'max_epochs' must be int"):
        config.TrainParams.from_namespace({"max_epochs": "3"})


def test_a_bad_value_in_a_profile_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**config.load_profile("smoke"), "roi_side": "middle"}))
    with pytest.raises(config.ParameterError, match="bad.yaml: roi_side"):
        config.load_profile(bad)


def test_a_notebook_is_given_only_what_it_declares():
    smoke = config.load_profile("smoke")
    values = config.notebook_values("04_stats", smoke)
    assert set(values) == {"study", "n_boot", "seed", "rope", "n_sim", "harm"}


def test_repeats_parsing():
    assert config.parse_repeats("all", 3) == [0, 1, 2]
    assert config.parse_repeats("0-2, 5", 30) == [0, 1, 2, 5]
    for bad in ("3-1", "x", "1-"):
        with pytest.raises(config.ParameterError):
            config.parse_repeats(bad, 30)
    with pytest.raises(config.ParameterError, match="unknown backbone|valid"):
        config.TrainParams.from_namespace({"backbone": "resnet19"})


def test_ingest_parameters():
    """A profile for data in the layout (data_dir set, no mapping) is valid for every notebook; 00 then
    runs its example into its own folder and leaves data_dir alone. A mapping needs a data_dir."""
    own = {**config.load_profile("demo"), "study": "mine", "data_dir": "/secure/data/mine"}
    for cls in config.Params.registry.values():
        cls.from_namespace(own)
    p = config.IngestParams.from_namespace(own)
    assert p.example and p.ingest_path == paths.data_root() / "mine-ingested"
    assert p.key_path.name == "mine-ingested-key.csv"
    with pytest.raises(config.ParameterError, match="mapping is given but data_dir is empty"):
        config.IngestParams.from_namespace({"mapping": "export/mapping.yaml"})
    real = config.IngestParams.from_namespace({**own, "mapping": "/secure/export/mapping.yaml"})
    assert str(real.ingest_path) == "/secure/data/mine" and str(real.mapping_path) == "/secure/export/mapping.yaml"
