"""Fixtures: an in-process app on the real embedded model, and real server processes."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from mockvendor import Settings, create_app

# The package's pytest plugin (its pytest11 entry point, when installed; listed here too so a
# checkout that is not installed has it).
pytest_plugins = ["mockvendor.pytest_plugin"]


class FakeSleep:
    """An injected sleep that records delays instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# The persisted request log of test apps goes here, never into the user's data directory.
_DATA_DIR = tempfile.TemporaryDirectory(prefix="mockvendor-tests-")


def make_settings(**kw: Any) -> Settings:
    """Settings for tests: no .env, no environment, faults off unless asked, a fresh data dir."""
    s = Settings.from_env(env={}, dotenv=None)
    s.data_dir = tempfile.mkdtemp(dir=_DATA_DIR.name)
    s.faults_enabled = False
    for k, v in kw.items():
        setattr(s, k, v)
    return s


@pytest.fixture(scope="session")
async def model_app() -> AsyncIterator[Any]:
    """One app with the real model loaded, shared by the session (faults off)."""
    app = create_app(make_settings(seed=42), sleep=FakeSleep())
    await app.ctx.models.start()
    yield app
    await app.ctx.models.aclose()


@pytest.fixture
async def client(model_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=model_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as c:
        yield c


@pytest.fixture
def app_factory() -> Callable[..., Any]:
    """Build an echo-only app (no model load) with given settings; sleep is faked."""

    def build(**kw: Any) -> Any:
        kw.setdefault("vendor_a_model", "echo")
        kw.setdefault("vendor_b_model", "echo")
        sleep = FakeSleep()
        app = create_app(make_settings(**kw), sleep=sleep)
        app.fake_sleep = sleep
        return app

    return build


def asgi_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
