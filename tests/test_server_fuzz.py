"""Fuzzing the API's bodies: whatever a client sends, the answer is a 2xx, or a 4xx whose detail
is one line of bounded length; never a 5xx.

A few hundred examples in CI; more on demand (docs/limits.md):

    DETENTE_FUZZ_EXAMPLES=5000 pytest tests/test_server_fuzz.py -s

``-s`` prints the count of requests by outcome at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.web import create_app
from detente.web.settings import ServerSettings

from .test_cli import IRAN_2018

EXAMPLES = int(os.environ.get("DETENTE_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
OUTCOMES: Counter[str] = Counter()

TEXT = IRAN_2018.read_text()
LINES = TEXT.splitlines()
HOSTILE = [
    "a: &a [x, x]\nb: [*a, *a]\n",
    "[" * 300 + "]" * 300,
    "? [a]\n: 1\n",
    "id: " + "7" * 5000,
    "!!python/object/apply:os.system [true]",
    "\ufeffid: x",
    "id: x\nid: y\n",
    "horizon: 1e999",
    "\x00\x01\x02",
    "",
]


@lru_cache(maxsize=1)
def client() -> TestClient:
    folder = Path(tempfile.mkdtemp(prefix="detente-fuzz-")) / "scenarios"
    folder.mkdir()
    shutil.copy(IRAN_2018, folder / "iran-2018.yaml")
    app = create_app(folder, folder.parent / "runs.sqlite", ServerSettings(run_queue=64))
    return TestClient(app, base_url="http://localhost")


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    total = sum(OUTCOMES.values())
    print(f"\nAPI fuzzing: {total} requests: " + ", ".join(f"{k} {v}" for k, v in OUTCOMES.items()))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The flagship scenario with one line's value replaced, a line dropped, or cut short."""
    k = draw(st.integers(0, len(LINES) - 1))
    how = draw(st.sampled_from(["value", "drop", "cut"]))
    lines = list(LINES)
    if how == "drop":
        del lines[k]
    elif how == "cut":
        lines = lines[:k]
    else:
        head = lines[k].split(":", 1)[0]
        value = draw(json_values | st.sampled_from(["1e308", "-.inf", ".nan", "[]", "{}", "~"]))
        lines[k] = f"{head}: {value if isinstance(value, str) else json.dumps(value)}"
    return "\n".join(lines) + "\n"


# weighted towards scenarios that load, so that runs and saves are exercised, not only refusals
scenarios = st.one_of(
    st.just(TEXT),
    mutated(),
    mutated(),
    st.sampled_from(HOSTILE),
    st.text(max_size=200),
    json_values,
)
small = st.integers(1, 40)
draws = st.one_of(small, small, st.sampled_from([0, -1, 2**63, 20_001, 10**40]), json_values)
run_bodies = st.fixed_dictionaries(
    {"scenario": scenarios, "draws": draws},
    optional={
        "seed": st.one_of(st.integers(0, 2**63 - 1), st.integers(-1, 2**64), json_values),
        "horizon": st.one_of(st.integers(1, 60), st.integers(-1, 130), json_values),
        "lens": st.sampled_from(["author", "proponent", "optimist", None, 5]),
        "record": st.one_of(st.booleans(), json_values),
        "junk": json_values,
    },
)
# requests a well-meaning client sends: every field valid, the scenario perhaps edited
valid_run_bodies = st.fixed_dictionaries(
    {"scenario": st.one_of(st.just(TEXT), mutated()), "draws": small},
    optional={
        "seed": st.integers(0, 2**63 - 1),
        "horizon": st.integers(1, 60),
        "lens": st.sampled_from(["author", "proponent", None]),
        "record": st.booleans(),
    },
)
names = st.one_of(
    st.sampled_from(["a.yaml", "iran-2018.yaml", "../x.yaml", ".h.yaml", "b.yml", "c"]),
    st.text(max_size=100),
    json_values,
)
save_bodies = st.fixed_dictionaries({"name": names, "scenario": scenarios})


def post(path: str, body: Any) -> Any:
    """As a client may send it: NaN and Infinity included (Python's JSON reads them)."""
    raw = json.dumps(body).encode()
    return client().post(path, content=raw, headers={"content-type": "application/json"})


def check(res: Any) -> None:
    status = res.status_code
    if 200 <= status < 300:
        OUTCOMES["2xx"] += 1
        return
    detail = res.json().get("detail") if res.content[:1] == b"{" else None
    one_line = isinstance(detail, str) and "\n" not in detail and len(detail) <= 300
    OUTCOMES[f"{status // 100}xx one-line" if one_line else f"{status} other"] += 1
    if os.environ.get("DETENTE_FUZZ_SHOW"):
        print(status, str(detail)[:150])
    assert 400 <= status < 500 and one_line, (status, res.text[:300])


@FUZZ
@given(body=valid_run_bodies | run_bodies)
def test_fuzz_run(body: dict[str, Any]) -> None:
    check(post("/api/run", body))


@FUZZ
@given(body=save_bodies)
def test_fuzz_save(body: dict[str, Any]) -> None:
    check(post("/api/save", body))


@settings(FUZZ, max_examples=max(50, EXAMPLES // 3))
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_fuzz_raw_bodies(raw: bytes) -> None:
    for path in ("/api/run", "/api/save"):
        check(client().post(path, content=raw, headers={"content-type": "application/json"}))


@settings(FUZZ, max_examples=max(50, EXAMPLES // 3))
@given(
    name=st.text(max_size=120),
    run_id=st.one_of(st.integers(), st.text(max_size=30)),
    query=st.dictionaries(st.sampled_from(["limit", "scenario", "x"]), st.text(max_size=30)),
)
def test_fuzz_paths_and_queries(name: str, run_id: int | str, query: dict[str, str]) -> None:
    c = client()
    quoted = urllib.parse.quote(name, safe="")
    check(c.get(f"/api/scenarios/{quoted}"))
    check(c.get(f"/api/runs/{urllib.parse.quote(str(run_id), safe='')}"))
    check(c.get("/api/runs", params=query))


explore_bodies = st.fixed_dictionaries(
    {"scenario": scenarios, "draws": draws},
    optional={
        "edits": st.lists(
            st.fixed_dictionaries(
                {"path": st.sampled_from(["leader.legacy_weight", "horizon", "x"]) | st.text()},
                optional={"value": json_values, "low": json_values, "high": json_values},
            ),
            max_size=3,
        )
        | json_values,
        "horizon": st.one_of(st.integers(1, 60), json_values),
        "as_of": st.sampled_from(["2018-06", "2030-01", "x", None]),
    },
)


@settings(FUZZ, max_examples=max(30, EXAMPLES // 4))
@given(body=explore_bodies)
def test_fuzz_explore(body: dict[str, Any]) -> None:
    check(post("/api/explore", body))
