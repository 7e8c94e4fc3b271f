"""``python -m img_mmaction.synthetic``: writes the demo's dataset."""
from .datasets import main

main()
