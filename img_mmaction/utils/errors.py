"""The error of an input that cannot give a truthful answer."""


class InferenceInputError(ValueError):
    """An input, label map or option an inference command cannot use."""
