"""The fault harness (SPEC §13, Reliability): both networks driven through their use cases,
as a library user would, with a hostile carrier between them and workers killed at named
points. After every step: no request is in two states, nothing is imported twice, sequence
numbers have no gaps, rate limits hold. After the carrier is made reliable and the system
has run to quiescence: every accepted, uncancelled request has exactly one result or an
explicit failure.

It runs on the in-memory adapters in every test run, and on PostgreSQL, Redis and the
filesystem (signed, encrypted batches) with a handful of examples — or with the profile's
full count under ``HYPOTHESIS_PROFILE=long``.
"""

from __future__ import annotations

import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import attrs
import pytest
import redis
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from airgap.domain.model.errors import AuthenticationFailed, Conflict, RateLimitExceeded
from airgap.domain.model.users import PROFILE_DEFAULTS, ProfileType
from airgap.domain.services import request_transfer, response_transfer
from airgap.domain.services.execute_queries import execute_available, execute_next
from airgap.domain.services.requests import SubmitRequest, cancel_request, submit_request
from airgap.domain.services.users import CreateUser, create_user, export_users
from support.harness.carrier import Damage, HostileCarrier
from support.harness.checks import (
    Ledger,
    check_crossing,
    check_rate_limits,
    check_request_network,
    check_response_network,
    check_settled,
)
from support.harness.faults import (
    WRITE_POINTS,
    Death,
    DyingOutbox,
    DyingSearch,
    Fuse,
    Killed,
    KillPoint,
    OutboxWreck,
)
from support.harness.world import (
    RealServers,
    RequestNetworkState,
    ResponseNetworkState,
    World,
    memory_world,
    real_servers,
    real_world,
)

# Valid queries over the sample products, of every kind. Parameters come from small sets,
# so some queries repeat (and are answered from the cache) and some do not. The memory
# backend cannot run ``wildcard`` or ``multi_match`` and refuses them: those requests end
# in an explicit failure.
WORDS = st.sampled_from(["kettle", "red", "blue", "toaster"])
BRANDS = st.sampled_from(["acme", "toastco"])
PRICES = st.sampled_from([10, 20, 35, 50])
SIZES = st.sampled_from([1, 10])


def _params(query: dict[str, Any], size: int) -> dict[str, Any]:
    return {"index": "products", "query": query, "size": size}


QUERIES = st.one_of(
    st.builds(lambda w, n: ("match", _params({"match": {"name": w}}, n)), WORDS, SIZES),
    st.builds(lambda b, n: ("term", _params({"term": {"brand": b}}, n)), BRANDS, SIZES),
    st.builds(
        lambda low, n: ("range", _params({"range": {"price": {"gte": low}}}, n)), PRICES, SIZES
    ),
    st.builds(
        lambda w, high: (
            "bool",
            _params(
                {
                    "bool": {
                        "must": [{"match": {"name": w}}],
                        "filter": [{"range": {"price": {"lt": high}}}],
                    }
                },
                10,
            ),
        ),
        WORDS,
        PRICES,
    ),
    st.builds(
        lambda field: (
            "aggregation",
            {"index": "products", "aggs": {"by": {"terms": {"field": field}}}, "size": 0},
        ),
        st.sampled_from(["brand", "name"]),
    ),
    st.builds(lambda w: ("wildcard", _params({"wildcard": {"name": w[:3] + "*"}}, 10)), WORDS),
    st.builds(
        lambda w: ("multi_match", _params({"multi_match": {"query": w, "fields": ["name"]}}, 10)),
        WORDS,
    ),
)

NETWORKS = ("request", "response")
DIRECTIONS = ("to_response", "to_request")
PROFILES = (ProfileType.BASIC, ProfileType.PREMIUM, ProfileType.ADMIN)

# Time steps: within a lease, past a lease (60 s) or a rate-limit minute, past the ack
# interval (5 min) and timeout (30 min), and now and then past a request's 7-day expiry.
STEPS = st.one_of(
    st.integers(min_value=0, max_value=90),
    st.sampled_from([301, 1801, 3601, 86_401]),
    st.just(8 * 86_400),
)
# What becomes of one parcel: the damage, the byte it hits, the bit it flips.
FATES = st.tuples(
    st.sampled_from(Damage),
    st.integers(min_value=0, max_value=1 << 20),
    st.integers(min_value=0, max_value=7),
)
# Who submits what: an account (modulo how many there are), a query, an optional
# priority, and an optional max_age_seconds (answered at once from a stored answer).
Submission = tuple[int, tuple[str, dict[str, Any]], int | None, int | None]
SUBMISSIONS = st.tuples(
    st.integers(min_value=0, max_value=60),
    QUERIES,
    st.none() | st.integers(min_value=1, max_value=10),
    st.none() | st.sampled_from([0, 600, 86_400]),
)


def deaths(calls: int, writes: tuple[KillPoint, ...] = ()) -> st.SearchStrategy[Death | None]:
    """Where a worker dies, if it does: at its n-th repository call or commit (a step takes
    about ten calls per job executed, fifteen per batch imported, thirty per batch
    exported), after n units of work, or at one of the outbox's ``writes``."""
    return st.none() | st.one_of(
        st.tuples(st.just(KillPoint.MID_TRANSACTION), st.integers(min_value=0, max_value=calls)),
        st.tuples(st.just(KillPoint.BETWEEN_TRANSACTIONS), st.integers(min_value=1, max_value=4)),
        *(st.tuples(st.just(point), st.just(0)) for point in writes),
    )


SETTLE_ROUNDS = 40

PROFILE_LIMITS = {profile: PROFILE_DEFAULTS[profile].limits for profile in ProfileType}


@attrs.frozen
class Account:
    id: uuid.UUID
    profile: ProfileType
    replicated: bool  # known to have reached the request network


class FaultHarness(RuleBasedStateMachine):
    """Two networks, a hostile carrier, and workers that die."""

    def __init__(self, make_world: Callable[[], World]) -> None:
        super().__init__()
        self.world = make_world()
        self.ledger = Ledger()
        self.accounts: list[Account] = []
        self.deaths: Counter[str] = Counter()
        self.workers = 0
        for profile in PROFILES:
            user = create_user(
                self.world.response,
                self.world.hasher,
                CreateUser(profile.value, f"{profile.value}@example.org", "correct horse", profile),
            )
            self.accounts.append(Account(user.id, profile, replicated=True))
        export_users(self.world.response)
        self.world.to_request.carry()
        request_transfer.import_batches(self.world.request)

    # --- helpers ---------------------------------------------------------------------------

    def carrier(self, direction: str) -> HostileCarrier:
        carrier: HostileCarrier = getattr(self.world, direction)
        return carrier

    def worker(self) -> str:
        """A new worker process (a killed one never comes back)."""
        self.workers += 1
        return f"worker-{self.workers}"

    def dying(self, side: Any, death: Death | None, wreck: OutboxWreck) -> Any:
        """``side`` as seen by a worker that dies at ``death``."""
        if death is None:
            return side
        point, count = death
        if point in (KillPoint.MID_TRANSACTION, KillPoint.BETWEEN_TRANSACTIONS):
            units_only = point is KillPoint.BETWEEN_TRANSACTIONS
            fuse = Fuse(count, point.value, units_only=units_only)
            return attrs.evolve(side, uow=fuse.wrap(side.uow))
        return attrs.evolve(side, outbox=DyingOutbox(wreck, point))

    def survive(self, work: Callable[[], object]) -> bool:
        """Run ``work``; a death at a named point is expected (True), anything else is a
        bug."""
        try:
            work()
        except Killed as death:
            point = str(death).split(" at ")[0]
            self.deaths[point] += 1
            event(f"a worker died: {point}")
            return True
        return False

    # --- users -----------------------------------------------------------------------------

    @initialize(submissions=st.lists(SUBMISSIONS, min_size=1, max_size=8))
    def first_requests(self, submissions: list[Submission]) -> None:
        for who, query, priority, max_age in submissions:
            self._submit(who, query, priority=priority, max_age=max_age)

    @rule(submissions=st.lists(SUBMISSIONS, min_size=1, max_size=12))
    def submit(self, submissions: list[Submission]) -> None:
        """Users submit requests, at times in bursts beyond a basic profile's limit."""
        for who, query, priority, max_age in submissions:
            self._submit(who, query, priority=priority, max_age=max_age)

    def _submit(
        self,
        who: int,
        query: tuple[str, dict[str, Any]],
        *,
        priority: int | None,
        max_age: int | None,
    ) -> None:
        account = self.accounts[who % len(self.accounts)]
        query_type, params = query
        command = SubmitRequest(account.id, query_type, params, priority, max_age)
        try:
            submitted = submit_request(self.world.request, command)
        except RateLimitExceeded:
            event("a submission was rate limited")
            return
        except AuthenticationFailed:
            assert not account.replicated, "a replicated account was refused"
            return
        now = self.world.clock.now()
        self.ledger.accept(submitted.request.id, account.id, now)
        limits = PROFILE_LIMITS[account.profile]
        check_rate_limits(self.ledger.admitted[account.id], limits, now)

    @precondition(lambda self: self.ledger.accepted)
    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def cancel(self, pick: int) -> None:
        accepted = list(self.ledger.accepted.items())
        request_id, user_id = accepted[pick % len(accepted)]
        try:
            cancel_request(self.world.request, user_id, request_id)
        except Conflict:
            return
        self.ledger.cancelled.add(request_id)
        event("a request was cancelled")

    @rule(profile=st.sampled_from(PROFILES))
    def create_account(self, profile: ProfileType) -> None:
        """A new account on the response network; it reaches the request network with the
        next users snapshot, whatever the carrier does to it."""
        name = f"user{len(self.accounts)}"
        user = create_user(
            self.world.response,
            self.world.hasher,
            CreateUser(name, f"{name}@example.org", "correct horse", profile),
        )
        self.accounts.append(Account(user.id, profile, replicated=False))

    # --- exports ---------------------------------------------------------------------------

    @rule(death=deaths(40, WRITE_POINTS))
    def export_requests(self, death: Death | None) -> None:
        side = self.dying(self.world.request, death, self.world.request_wreck)
        self.survive(lambda: request_transfer.export_requests(side))

    @rule(death=deaths(40, WRITE_POINTS))
    def export_results(self, death: Death | None) -> None:
        side = self.dying(self.world.response, death, self.world.response_wreck)
        self.survive(lambda: response_transfer.export_results(side))

    @rule(death=deaths(20, WRITE_POINTS))
    def export_users(self, death: Death | None) -> None:
        side = self.dying(self.world.response, death, self.world.response_wreck)
        self.survive(lambda: export_users(side))

    # --- the carrier -----------------------------------------------------------------------

    @rule(
        direction=st.sampled_from(DIRECTIONS),
        fates=st.lists(FATES, max_size=6),
        start=st.integers(min_value=0, max_value=5),
    )
    def carry(self, direction: str, fates: list[tuple[Damage, int, int]], start: int) -> None:
        """The carrier picks up what waits in the outbox and delivers everything it holds,
        each parcel with its fate (intact once the drawn fates run out)."""
        carrier = self.carrier(direction)
        carrier.pick_up()
        for damage, _, _ in fates[: len(carrier.in_flight)]:
            event(f"the carrier did: {damage.value}")
        carrier.deliver_with(fates, start)

    @rule(to_response=st.lists(FATES, max_size=4), to_request=st.lists(FATES, max_size=4))
    def cycle(
        self, to_response: list[tuple[Damage, int, int]], to_request: list[tuple[Damage, int, int]]
    ) -> None:
        """One turn of both networks' transfer schedules — export, carry and import, in
        both directions — with the carrier as drawn. (Executing is the workers' business.)"""
        world = self.world
        export_users(world.response)
        request_transfer.export_requests(world.request)
        response_transfer.export_results(world.response)
        for carrier, fates in ((world.to_response, to_response), (world.to_request, to_request)):
            carrier.pick_up()
            carrier.deliver_with(fates)
            for damage, _, _ in fates:
                event(f"the carrier did: {damage.value}")
        response_transfer.import_batches(world.response)
        request_transfer.import_batches(world.request)
        self._note_replicas()

    # --- imports ---------------------------------------------------------------------------

    @rule(network=st.sampled_from(NETWORKS), death=deaths(30))
    def import_batches(self, network: str, death: Death | None) -> None:
        if network == "request":
            side = self.dying(self.world.request, death, self.world.request_wreck)
            self.survive(lambda: request_transfer.import_batches(side))
            self._note_replicas()
        else:
            side = self.dying(self.world.response, death, self.world.response_wreck)
            self.survive(lambda: response_transfer.import_batches(side))

    def _note_replicas(self) -> None:
        with self.world.request.uow() as uow:
            self.accounts = [
                attrs.evolve(a, replicated=a.replicated or uow.users.get(a.id) is not None)
                for a in self.accounts
            ]

    # --- execution -------------------------------------------------------------------------

    @rule(
        jobs=st.integers(min_value=1, max_value=4),
        death=deaths(12),
        failures=st.none() | st.tuples(st.integers(min_value=1, max_value=3), st.booleans()),
    )
    def execute(self, jobs: int, death: Death | None, failures: tuple[int, bool] | None) -> None:
        """A worker runs up to ``jobs`` jobs; the search backend may first fail ``failures``
        times (transient: retried with back-off; permanent: an explicit failure)."""
        if failures is not None:
            times, transient = failures
            self.world.search.fail_next(times, transient=transient)
        side = self.dying(self.world.response, death, self.world.response_wreck)
        worker = self.worker()
        self.survive(lambda: execute_available(side, worker, max_jobs=jobs))

    @rule(
        workers=st.integers(min_value=1, max_value=3),
        cache_lost=st.booleans(),
        lease_runs_out=st.booleans(),
    )
    def execute_and_die_after_search(
        self, workers: int, cache_lost: bool, lease_runs_out: bool
    ) -> None:
        """Workers, one after another, ask the search backend and die before they store the
        answer (a query that kills whoever runs it). A job stays ``processing`` until its
        lease runs out and another worker takes it; after three such deaths it is failed
        as abandoned. With ``cache_lost`` the query cache was emptied first (Redis
        restarted), so the workers do search rather than answer from the cache."""
        if cache_lost:
            self.world.response.cache.clear()
        for _ in range(workers):
            search = DyingSearch(self.world.response.search)
            side = attrs.evolve(self.world.response, search=search)
            worker = self.worker()
            if not self.survive(lambda: execute_next(side, worker)):  # noqa: B023
                break
            if lease_runs_out:
                self.world.clock.advance(self.world.response.lease + timedelta(seconds=1))

    @rule(seconds=STEPS)
    def advance_clock(self, seconds: int) -> None:
        self.world.clock.advance(seconds)

    @rule(network=st.sampled_from(NETWORKS))
    def resend_unacknowledged(self, network: str) -> None:
        if network == "request":
            request_transfer.resend_unacknowledged(self.world.request)
        else:
            response_transfer.resend_unacknowledged(self.world.response)

    # --- quiescence ------------------------------------------------------------------------

    @rule(late_parcels=st.sampled_from(["delivered", "lost"]))
    def settle(self, late_parcels: str = "delivered") -> None:
        """Make the carrier reliable and run both networks until nothing changes; then every
        accepted, uncancelled request must be answered or explicitly failed. What the
        carrier still holds turns up after all, or is lost for good. (The run goes on
        afterwards, faults and all.)"""
        world = self.world
        for carrier in (world.to_response, world.to_request):
            if late_parcels == "delivered":
                carrier.deliver_all()
            else:
                carrier.in_flight.clear()
        previous = None
        for _ in range(SETTLE_ROUNDS):
            self._round()
            now = self._fingerprint()
            if now == previous:
                break
            previous = now
        else:
            raise AssertionError(f"still changing after {SETTLE_ROUNDS} rounds")
        request_state, response_state = world.states()
        check_settled(request_state, response_state, self.ledger)
        for outcome in outcomes(request_state, response_state):
            event(outcome)

    def _round(self) -> None:
        world = self.world
        request, response = world.request, world.response
        export_users(response)
        request_transfer.export_requests(request)
        response_transfer.export_results(response)
        world.to_response.carry()
        world.to_request.carry()
        request_transfer.import_batches(request)
        response_transfer.import_batches(response)
        execute_available(response, "settler")
        response_transfer.export_results(response)
        world.to_request.carry()
        request_transfer.import_batches(request)
        request_transfer.export_requests(request)
        world.to_response.carry()
        response_transfer.import_batches(response)
        # Past every lease, back-off and ack timeout, so that abandoned jobs are taken over
        # and unacknowledged batches are re-sent.
        world.clock.advance(response.transfer.ack_timeout + timedelta(seconds=1))
        request_transfer.resend_unacknowledged(request)
        response_transfer.resend_unacknowledged(response)

    def _fingerprint(self) -> tuple[object, ...]:
        request_state, response_state = self.world.states()
        return (
            sorted((r.id.int, r.status.value, r.export_count) for r in request_state.requests),
            len(request_state.responses),
            sorted((b.id.int, b.status.value) for b in request_state.export_batches),
            len(request_state.import_batches),
            sorted((j.id.int, j.status.value, j.attempts) for j in response_state.jobs),
            sorted((r.id.int, str(r.export_batch_id)) for r in response_state.results),
            sorted((b.id.int, b.status.value) for b in response_state.export_batches),
            len(response_state.import_batches),
        )

    # --- after every step ------------------------------------------------------------------

    @invariant()
    def networks_are_consistent(self) -> None:
        request_state, response_state = self.world.states()
        check_request_network(request_state, self.ledger)
        check_response_network(response_state, self.ledger)
        check_crossing(request_state, response_state)

    def teardown(self) -> None:
        try:
            # The final phase, unless a step has already failed (its error is the report).
            if sys.exc_info()[0] is None:
                self.settle()
        finally:
            self.world.close()


def outcomes(request_state: RequestNetworkState, response_state: ResponseNetworkState) -> set[str]:
    """What happened in a settled run: events for Hypothesis's statistics
    (``pytest --hypothesis-show-statistics``), which show the harness reaching the paths it
    means to."""
    found = {f"settled with a request {r.status}" for r in request_state.requests}
    found |= {f"settled with a job {j.status}" for j in response_state.jobs}
    for r in request_state.requests:
        if r.export_count > 1:
            found.add("a request was re-sent")
        if r.error_message:
            found.add(f"a request failed: {r.error_message.split(':')[0]}")
    for j in response_state.jobs:
        if j.attempts > 1:
            found.add("a job was tried more than once")
    for b in (*request_state.import_batches, *response_state.import_batches):
        found.add(f"an import ended {b.status}")
    return found


# --- the runs ---------------------------------------------------------------------------------


def harness_settings(examples: int, steps: int = 40) -> settings:
    """The loaded profile's settings with this many examples of this many steps."""
    return settings(
        settings(),
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


PROFILE_EXAMPLES = settings().max_examples  # 100 by default, 1,000 under the long profile


class MemoryFaultHarness(FaultHarness):
    def __init__(self) -> None:
        super().__init__(memory_world)


# Twice the profile's examples: 200 in every run, 2,000 under the long profile.
MemoryFaultHarness.TestCase.settings = harness_settings(2 * PROFILE_EXAMPLES)
TestFaultHarnessOnMemoryAdapters = MemoryFaultHarness.TestCase


@pytest.fixture
def servers(redis_client: redis.Redis) -> Iterator[RealServers]:
    with real_servers(redis_client) as found:
        yield found


def test_fault_harness_on_postgres_redis_and_files(servers: RealServers) -> None:
    """A handful of examples in every run; the profile's count (1,000 or more) when it asks
    for at least that many (``HYPOTHESIS_PROFILE=long``)."""
    examples = PROFILE_EXAMPLES if PROFILE_EXAMPLES >= 1000 else 5
    run_state_machine_as_test(
        lambda: FaultHarness(lambda: real_world(servers)), settings=harness_settings(examples)
    )
