"""/api/v1/targets (issue 10, item 9): viewers read the workspace's targets, admins set
and remove them, and metric rows with a benchmark carry the target that applies."""

from __future__ import annotations

import pytest

from .conftest import Api

MARCH = {"from": "2026-03-01", "to": "2026-04-01"}


def test_admins_set_and_remove_targets_viewers_read_them(fresh_api: Api) -> None:
    api = fresh_api
    (api.path / "targets.toml").unlink(missing_ok=True)  # start from none (the demo writes its own)
    assert api.get("/api/v1/targets", api.viewer).json()["targets"] == []
    put = api.client.put("/api/v1/targets/csat", headers=api.h(api.viewer), json={"target": 85})
    assert put.status_code == 403
    put = api.client.put("/api/v1/targets/csat", headers=api.h(), json={"target": 85})
    assert put.status_code == 200, put.text
    assert put.json() == {"metric": "csat", "label": "CSAT", "unit": "percent", "direction": "higher",
                          "dimension": None, "value": None, "target": 85.0, "written": None}
    put = api.client.put("/api/v1/targets/frt", headers=api.h(),
                         json={"target": "30m", "dimension": "channel", "value": "chat"})
    assert put.status_code == 200 and put.json()["target"] == 1800 and put.json()["written"] == "30m"
    listed = api.get("/api/v1/targets", api.viewer).json()
    assert [(t["metric"], t["dimension"], t["value"], t["target"]) for t in listed["targets"]] == [
        ("csat", None, None, 85.0), ("frt", "channel", "chat", 1800.0)]
    assert (api.path / "targets.toml").exists()
    # the metric rows carry the target that applies to each row, and whether it was met
    rows = api.get("/api/v1/metrics", params={"metrics": "csat,frt", "by": "channel", "benchmark": "all",
                                                **MARCH}).json()["rows"]
    for r in rows:
        expected = 85.0 if r["metric"] == "csat" else (1800.0 if r["channel"] == "chat" else None)
        assert r["target"] == expected, r
        if expected is not None and r["value"] is not None:
            assert r["target_met"] == (r["value"] >= 85 if r["metric"] == "csat" else r["value"] <= 1800)
    gone = api.client.delete("/api/v1/targets/frt", headers=api.h(), params={"dimension": "channel"})
    assert gone.status_code == 200 and gone.json()["removed"] == 1
    again = api.client.delete("/api/v1/targets/frt", headers=api.h())
    assert again.status_code == 404 and "frt has no target" in again.json()["error"]["message"]


@pytest.mark.parametrize(("metric", "body", "words"), [
    ("csatt", {"target": 85}, "Did you mean 'csat'?"),
    ("csat", {"target": 140}, "outside 0 to 100"),
    ("frt", {"target": "soon"}, "not a duration"),
    ("tickets", {"target": 100}, "no better direction"),
    ("csat", {"target": 90, "dimension": "chanel", "value": "email"}, "Did you mean 'channel'?"),
    ("csat", {"target": 90, "dimension": "channel"}, "give both dimension and value"),
    ("csat", {"target": 90, "dimension": "channel", "value": "e\nmail"}, "control characters"),
])
def test_bad_targets_are_4xx_in_the_error_shape(fresh_api: Api, metric: str, body: dict, words: str) -> None:
    r = fresh_api.client.put(f"/api/v1/targets/{metric}", headers=fresh_api.h(), json=body)
    assert 400 <= r.status_code < 500, r.text
    data = r.json()
    assert data["error"]["status"] == r.status_code and words in data["error"]["message"], data


def test_the_spec_declares_the_targets_models(fresh_api: Api) -> None:
    spec = fresh_api.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert {"get"} <= set(paths["/api/v1/targets"]) and {"put", "delete"} <= set(paths["/api/v1/targets/{metric}"])
    ok = paths["/api/v1/targets/{metric}"]["put"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/TargetRow")
    assert "target_met" in spec["components"]["schemas"]["MetricRow"]["properties"]
