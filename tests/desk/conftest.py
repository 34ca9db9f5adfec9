"""Fixtures: a desk on a free 127.0.0.1 port with a temporary data folder."""

from __future__ import annotations

import pytest

from desk_client import Desk


@pytest.fixture(scope="module")
def tiny_notebooks(tmp_path_factory):
    from notebook_factory import write_notebooks

    return write_notebooks(tmp_path_factory.mktemp("notebooks"))


@pytest.fixture
def start_desk(tmp_path):
    """Start a desk: ``start_desk(notebooks=…, runners=…, max_upload=MB)``."""
    started: list[Desk] = []

    def start(notebooks=None, runners=1, max_upload=200, data=None) -> Desk:
        desk = Desk(data or tmp_path / "desk", notebooks, runners, max_upload).start()
        started.append(desk)
        return desk

    yield start
    for desk in started:
        desk.stop()
