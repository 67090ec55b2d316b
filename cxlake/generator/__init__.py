"""Demo data for cxlake: see :mod:`cxlake.generator.run` for what is generated and the planted truths."""

from cxlake.generator.run import GenerationSummary, generate, generation_window

__all__ = ["GenerationSummary", "generate", "generation_window"]
