"""Benchmarks of TinBáo; run them with `python -m bench.<name>` (results in bench/RESULTS.md)."""
