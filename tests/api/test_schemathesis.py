"""Property-based run over the OpenAPI spec with an admin key: no generated request, valid
(positive) or not (negative), gets a 5xx, and every error has the one JSON shape.

The live stream is left out (it never ends); a modest number of examples per operation
keeps the run to a minute or two.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key

EXAMPLES = 20
_token: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    path = tmp_path_factory.mktemp("schemathesis") / "ws"
    shutil.copytree(demo_dir, path)
    app = create_app(path)
    _, _token["admin"] = create_key(app.state.workspace, "schemathesis", "admin")
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app).include(path_regex="^/api/v1/").exclude(path="/api/v1/stream")
    app.state.workspace.close()


def test_no_request_gets_a_server_error(api_schema: object) -> None:
    headers = {"Authorization": f"Bearer {_token['admin']}"}
    checked = []
    operations = [r.ok() for r in api_schema.get_all_operations()]  # type: ignore[attr-defined]
    for operation, mode in [(op, mode) for op in operations for mode in GenerationMode]:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            if response.status_code >= 400:  # every error has the one shape
                body = response.json()
                assert set(body) == {"error"} and body["error"]["status"] == response.status_code, body
                assert body["error"]["message"] and body["error"]["code"], body

        try:
            run()
        except Unsatisfiable:  # nothing to get wrong (no parameters): no negative cases
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        checked.append(f"{operation.label} ({mode.value})")
    assert len(checked) >= 40, checked
