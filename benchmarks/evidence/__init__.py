"""The ablation benchmark of docs/evidence.md: its footage-based dataset
(:mod:`.motion_bench`) and its harness (:mod:`.motion_ablation`)."""
