"""The performance benchmark: ``make bench`` (``python -m bench.perf``).

One module per measurement (``model_speed``, ``overhead``, ``throughput``,
``cold_start``, ``floor``), ``report`` renders the results, ``__main__`` runs
them all in sequence and writes ``bench/results/latest.{json,md,png}``.
"""
