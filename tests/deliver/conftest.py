from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from subjectline.deliver import RenderedEmail, Renderer
from subjectline.deliver.synthetic import synthetic_sends
from subjectline.track import KeyRing, TokenSigner
from subjectline.track.store import make_engine, migrate


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(KeyRing((("k1", b"deliver-test-secret-0123"),)))


@pytest.fixture
def renderer(signer: TokenSigner) -> Renderer:
    return Renderer(signer)


@pytest.fixture
def emails(renderer: Renderer) -> list[RenderedEmail]:
    return [renderer.render(s) for s in synthetic_sends(30, campaign_id="c-deliver")]


@pytest.fixture
def store_engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'events.sqlite'}")
    migrate(engine)
    yield engine
    engine.dispose()
