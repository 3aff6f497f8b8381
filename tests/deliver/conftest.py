from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from subjectline.deliver import RenderedEmail, Renderer
from subjectline.deliver.synthetic import synthetic_sends
from subjectline.track import KeyRing, TokenSigner


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(KeyRing((("k1", b"deliver-test-secret-0123"),)))


@pytest.fixture
def renderer(signer: TokenSigner) -> Renderer:
    return Renderer(signer)


@pytest.fixture
def emails(renderer: Renderer) -> list[RenderedEmail]:
    return [renderer.render(s) for s in synthetic_sends(30, campaign_id="c-deliver")]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_engine(request) -> Engine:
    """A migrated event store: a SQLite file, or a fresh schema in the local PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")
