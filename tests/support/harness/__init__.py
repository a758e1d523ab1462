"""The fault harness: the two networks driven through their use cases, a hostile carrier
between them, and workers that die at named points (SPEC §13, Reliability).

- :mod:`support.harness.carrier`: the carrier that drops, duplicates, reorders, truncates
  and corrupts batches, over memory or directories;
- :mod:`support.harness.faults`: workers killed mid-write, after fsync before rename, after
  the write before it is recorded, part-way through a transaction, and after the search call;
- :mod:`support.harness.world`: both networks on the in-memory adapters, or on PostgreSQL,
  Redis and the filesystem;
- :mod:`support.harness.checks`: what must hold after every step and after quiescence.

``tests/property/test_fault_harness.py`` is the state machine that uses them.
"""
