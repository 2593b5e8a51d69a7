"""Procedural streaming-edit examples: (source clip, target clip, instruction, mask or None).

`generator.EditExampleGenerator` is the entry point; `pool.generate_pool` fills arrays with many
examples in parallel worker processes.
"""
