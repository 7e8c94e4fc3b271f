"""Backbone and head must agree on num_segments before a run starts."""
import pytest
from mmaction.registry import MODELS
from mmengine.config import Config

from img_mmaction.engine import check_num_segments
from img_mmaction.testing import TINY_TSM_CONFIG


def test_mismatched_num_segments_is_refused() -> None:
    cfg = Config.fromfile(str(TINY_TSM_CONFIG))
    cfg.model.backbone.num_segments = 8  # head keeps 4
    with pytest.raises(
            ValueError,
            match='backbone.num_segments=8 but '
            'model.cls_head.num_segments=4'):
        check_num_segments(MODELS.build(cfg.model))
