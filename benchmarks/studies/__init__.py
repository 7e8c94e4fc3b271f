"""Studies behind design choices: the adaptive shift's implementations
(:mod:`.shift_impls`) and the learned temporal kernels
(:mod:`.temporal_kernels`)."""
