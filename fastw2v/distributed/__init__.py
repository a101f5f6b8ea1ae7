"""Training on a Ray cluster: the same kernel on every worker, synchronised by the driver
(see docs/distributed.md)."""
