import pytest
import torch

import img_mmaction  # noqa: F401  (registers the models)


@pytest.fixture(autouse=True)
def seeded() -> None:
    torch.manual_seed(0)
