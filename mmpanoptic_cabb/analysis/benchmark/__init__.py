"""Cases of the benchmark tools (``tools/analysis_tools/benchmark_*.py``).

Each case runs in the process that calls it and returns its measurements
(seconds, CPU seconds, peak RSS); the tools run every case in a fresh
subprocess (:func:`.process.json_subprocess`) so that peak RSS is the case's
own, and print the tables.
"""
