"""The demo platform reaches its described state on the embedded engine: the catalog holds
the services, owners, tags and the deprecated stream with its one remaining consumer group;
schemas have compatible versions; and a lag monitor driven by a test clock judges the lagging
group WARN with a scale-up recommendation while the others are OK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.embedded import EmbeddedCluster
from lagmonitor.model import Status
from lagmonitor.monitor import LagMonitor, MonitorConfig
from streamgov.demo import (
    GROUPS,
    LAGGING_GROUP,
    LEGACY_GROUP,
    SERVICES,
    STREAMS,
    DemoPlatform,
    run_until,
)
from streamgov.server import create_app, serve_in_thread


class FakeClock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[tuple[DemoPlatform, str]]:
    cluster = EmbeddedCluster(tmp_path / "demo", name="demo")
    app = create_app(cluster)
    try:
        with serve_in_thread(app) as url:
            demo = DemoPlatform(cluster, url)
            try:
                demo.seed()
                yield demo, url
            finally:
                demo.close()
    finally:
        app.state.services.close()
        cluster.close()


def test_the_demo_reaches_its_described_state(platform: tuple[DemoPlatform, str]) -> None:
    demo, url = platform
    clock = FakeClock()
    monitor = LagMonitor(demo.cluster, MonitorConfig(interval_seconds=1, events_topic=None), clock)

    def judged() -> bool:
        clock.now += 1.0
        monitor.run_once()
        groups = {g.group: g for g in monitor.group_list().groups}
        lagging = groups.get(LAGGING_GROUP)
        return (
            lagging is not None
            and lagging.status == Status.WARN
            and lagging.recommendation.action == "scale_up"
        )

    assert run_until(demo, judged, ticks=40), monitor.group_list()
    groups = {g.group: g for g in monitor.group_list().groups}
    assert set(groups) >= {g.group for g in GROUPS}
    assert all(groups[g.group].status == Status.OK for g in GROUPS if g.group != LAGGING_GROUP)

    with httpx.Client(base_url=url) as http:
        services = {s["name"]: s for s in http.get("/catalog/services").json()}
        assert set(services) == {s.name for s in SERVICES}
        assert all(services[s.name]["team"] == s.team for s in SERVICES)
        streams = {s["topic"]: s for s in http.get("/catalog/streams").json()}
        assert {p.topic for p in STREAMS} <= set(streams)
        assert "pii" in streams["customers"]["tags"] and "financial" in streams["orders"]["tags"]
        deprecations = http.get("/catalog/deprecations").json()
        assert [d["topic"] for d in deprecations] == ["payments.v1"]
        (old,) = deprecations
        assert old["deprecated"]["replacement"] == "payments.v2"
        assert old["consumers"] == [LEGACY_GROUP], old
        assert not old["safe_to_delete"]
        for plan in STREAMS:
            versions = http.get(f"/subjects/{plan.topic}-value/versions").json()
            assert len(versions) == len(plan.versions)
        records = http.get("/v3/clusters").status_code
        assert records == 200
    assert demo.produced == demo.ticks * sum(p.per_tick for p in STREAMS)
