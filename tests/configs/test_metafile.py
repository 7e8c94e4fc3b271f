"""metafile.yml lists every recipe, with the recipe's own settings."""
from pathlib import Path

import yaml
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]


def test_metafile_matches_the_configs() -> None:
    index = yaml.safe_load((REPO / 'metafile.yml').read_text())
    models = {m['Name']: m for m in index['Models']}
    recipes = {
        p.stem: p
        for folder in ('img', 'finetune', 'ablations', 'examples')
        for p in (REPO / 'configs' / folder).glob('*.py')
    }
    assert sorted(models) == sorted(recipes)
    for name, entry in models.items():
        assert (REPO / entry['Config']) == recipes[name]
        cfg = Config.fromfile(str(recipes[name]))
        meta = entry['Metadata']
        assert meta['Epochs'] == cfg.train_cfg.max_epochs, name
        assert meta['Batch Size'] == cfg.train_dataloader.batch_size, name
        assert meta['Architecture'] == cfg.model.backbone.type, name
        assert meta['Num Classes'] == cfg.model.cls_head.num_classes, name
        assert meta['Reproduced'] is False, name  # no GPU, no dataset here
        for result in entry.get('Results', []):
            assert all('(paper' in metric for metric in result['Metrics'])
        if 'sthv2' in name or 'kinetics400' in name:
            assert 'Results' not in entry, name  # the paper reports none


def test_model_index_imports_the_metafile() -> None:
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    assert index == {'Import': ['metafile.yml']}
