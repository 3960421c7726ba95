"""skvgrad's benchmark suite: ``python benchmarks/run.py`` or ``python -m benchmarks``.

One module per benchmark (``bench_*.py``); shared machinery in ``_harness``.
"""
