"""The performance benchmark: ``make bench`` (``python -m bench.perf``).

One module per measurement (``model_speed``, ``overhead``, ``throughput``,
``cold_start``, ``floor``), ``report`` renders the results, ``__main__`` runs
them all in sequence (about 5 minutes on 2 cores) and writes
``bench/results/latest.{json,md,png}``. ``direct_worker`` is the process in
which ``model_speed`` runs the model without HTTP.
"""
