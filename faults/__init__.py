"""Seeded network faults between sync clients and the server, for tests.

``faults.proxy.FaultProxy`` is an HTTP/1.1 proxy placed in front of a running server; clients
talk to ``proxy.url`` instead of the server. For each request/response exchange a seeded
``faults.schedule.Schedule`` decides, with the probabilities of a ``FaultPlan``, whether to pass
it through or to drop the request, drop the response (the server applied it, the client never
hears), delay it, send it twice, hold it so that a later one overtakes it, or cut the request or
the response part-way. The tests under ``tests/faults/`` use it to show that sync loses no
mutation and applies none twice, whatever the network does.

Replaying a run: the decisions depend only on the seed and on the order of the requests, so
running the same test with the same seed applies the same faults to the same exchanges.
``proxy.replay_text()`` (printed by the tests when an assertion fails) gives the seed, the plan
and every fault applied, numbered by exchange; pass that seed to the test's parametrization (or
``FaultProxy(..., seed=N)``) to run it again.
"""

from faults.schedule import Decision, Fault, FaultPlan, Schedule
from faults.proxy import FaultProxy

__all__ = ["Decision", "Fault", "FaultPlan", "FaultProxy", "Schedule"]
