"""A simulated DSMR P1 meter: realistic telegrams on a TCP port and a pseudo-terminal.

Run ``python -m tools.meterhub_sim --help`` from the repository root.
"""
