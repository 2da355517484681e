"""Speed and memory benchmarks against peers, printed as ratios.

Run by hand: ``python -m benchmarks --help``. Peers (scikit-learn, PyTorch
CPU, SPAMS) are optional extras; a missing peer is reported, not faked.
"""
