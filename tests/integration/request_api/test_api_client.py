"""``airgap.client`` against a live uvicorn on 127.0.0.1 serving the request network API."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from api_harness import MATCH, PASSWORD, Api, answer, live_server

from airgap.client import AirgapClient, ApiError, RateLimited, RequestCancelled


@pytest.fixture
def url(api: Api) -> Iterator[str]:
    with live_server(api.app) as base:
        yield base


def test_sign_in_submit_wait_and_read_the_answer(api: Api, url: str) -> None:
    account = api.make_user("paula")
    delays: list[float] = []
    with AirgapClient.signed_in(url, account.username, PASSWORD, sleep=delays.append) as client:
        submitted = client.submit("match", MATCH, priority=2)
        assert submitted.status == "pending" and submitted.priority == 2

        polls = 0
        real_status = client.status

        def status_then_answer(request_id: uuid.UUID | str) -> object:
            nonlocal polls
            polls += 1
            if polls == 3:  # the answer crosses back while the client waits
                answer(api, submitted.id, hits=2)
            return real_status(request_id)

        client.status = status_then_answer  # type: ignore[method-assign]
        result = client.wait(submitted.id, timeout=60, first_delay=0.5, max_delay=4)

    assert result.status == "completed" and result.result_count == 2
    assert [hit["_id"] for hit in result.hits] == ["0", "1"]
    assert polls == 3
    assert delays[0] == pytest.approx(0.5, rel=0.11)
    assert delays[1] == pytest.approx(1.0, rel=0.11)  # exponential back-off
    assert api.user(account.id).last_login is not None


def test_wait_really_polls_a_live_server(api: Api, url: str) -> None:
    quinn = api.make_user("quinn")
    client = AirgapClient.signed_in(url, quinn.username, PASSWORD)
    submitted = client.submit("match", MATCH)
    timer = threading.Timer(0.4, answer, args=(api, submitted.id))
    timer.start()
    try:
        result = client.wait(submitted.id, timeout=30, first_delay=0.1, max_delay=0.5)
    finally:
        timer.join()
        client.close()

    assert result.request_id == submitted.id and result.status == "completed"


def test_wait_gives_up_after_its_timeout_and_on_a_cancelled_request(api: Api, url: str) -> None:
    rosa = api.make_user("rosa")
    with AirgapClient.signed_in(url, rosa.username, PASSWORD) as client:
        slow = client.submit("match", MATCH)
        with pytest.raises(TimeoutError):
            client.wait(slow.id, timeout=0.3, first_delay=0.1)
        client.cancel(slow.id)
        with pytest.raises(RequestCancelled):
            client.wait(slow.id, timeout=5)


def test_list_get_and_cancel(api: Api, url: str) -> None:
    sam = api.make_user("sam")
    with AirgapClient.signed_in(url, sam.username, PASSWORD) as client:
        ids = [client.submit("match", MATCH).id for _ in range(3)]
        cancelled = client.cancel(ids[0])
        page = client.list(limit=2)
        only_cancelled = client.list(status="cancelled")
        detail = client.get(ids[1])

        with pytest.raises(ApiError) as again:
            client.cancel(ids[0])

    assert cancelled.status == "cancelled"
    assert page.total == 3 and [r.id for r in page.items] == [ids[2], ids[1]]
    assert [r.id for r in only_cancelled.items] == [ids[0]]
    assert detail.query_params == {**MATCH, "from": 0} and detail.answer is None
    assert again.value.status == 409 and again.value.code == "conflict"


def test_an_api_key_client(api: Api, url: str) -> None:
    tara = api.make_user("tara")
    with AirgapClient.signed_in(url, tara.username, PASSWORD) as owner:
        secret = owner._json("POST", "/api-keys", json={"name": "ci"})["key"]

    with AirgapClient(url, api_key=secret) as client:
        submitted = client.submit("match", MATCH)
        assert client.status(submitted.id).status == "pending"


def test_errors_carry_the_api_code_and_request_id(api: Api, url: str) -> None:
    uwe = api.make_user("uwe")
    with AirgapClient.signed_in(url, uwe.username, PASSWORD) as client:
        with pytest.raises(ApiError) as refused:
            client.submit("bool", {"index": "products", "query": {"script": {}}})
        with pytest.raises(ApiError) as missing:
            client.answer(uuid.uuid4())

    assert refused.value.status == 422 and refused.value.code == "query_policy_violation"
    assert refused.value.details["path"].startswith("query")
    assert refused.value.request_id
    assert missing.value.code == "not_found"
    with pytest.raises(ApiError) as wrong:
        AirgapClient.signed_in(url, uwe.username, "not the password")
    assert wrong.value.status == 401 and wrong.value.code == "unauthenticated"


def test_rate_limited_submissions_say_when_to_retry(api: Api, url: str) -> None:
    vic = api.make_user("vic")
    with AirgapClient.signed_in(url, vic.username, PASSWORD) as client:
        for _ in range(10):
            client.submit("match", MATCH)
        with pytest.raises(RateLimited) as limited:
            client.submit("match", MATCH)

    assert 0 < limited.value.retry_after <= 60


def test_an_expired_access_token_is_rotated_transparently(api: Api, url: str) -> None:
    wes = api.make_user("wes")
    with AirgapClient.signed_in(url, wes.username, PASSWORD) as client:
        first = client.submit("match", MATCH)
        api.clock.advance(3601)  # the access token expires; the refresh token does not

        assert client.status(first.id).status == "pending"
        client.logout()
        with pytest.raises(ApiError):
            client.status(first.id)
