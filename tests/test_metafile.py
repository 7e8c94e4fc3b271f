"""metafile.yml lists every recipe, with the recipe's own settings."""
from pathlib import Path

import yaml
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]


def test_metafile_matches_the_configs() -> None:
    index = yaml.safe_load((REPO / 'metafile.yml').read_text())
    models = {m['Name']: m for m in index['Models']}
    recipes = {p.stem: p for folder in ('img', 'finetune', 'ablations')
               for p in (REPO / 'configs' / folder).glob('*.py')
               if not p.name.startswith('_')}
    assert sorted(models) == sorted(recipes)
    for name, entry in models.items():
        assert (REPO / entry['Config']) == recipes[name]
        cfg = Config.fromfile(str(recipes[name]))
        meta = entry['Metadata']
        assert meta['Epochs'] == cfg.train_cfg.max_epochs, name
        assert meta['Batch Size'] == cfg.train_dataloader.batch_size, name
        assert meta['Architecture'] == cfg.model.backbone.type, name
        assert meta['Num Classes'] == cfg.model.cls_head.num_classes, name
        for result in entry.get('Results', []):
            assert all('(paper' in metric for metric in result['Metrics'])
