"""The benchmark (`make bench`): what Touchpoint adds on top of Temporal, in figures."""
