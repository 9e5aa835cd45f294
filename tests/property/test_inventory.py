"""Property tests: deployment inventories, the concentration report, the gate's state.

Inventories (CSV, TM Forum TMF639 JSON, CycloneDX JSON) are edited as tables and as
JSON trees and go through ``parse_inventory`` and the whole concentration report
(shares, HHI, the text, JSON and HTML renderings); the policy's ``concentration``
section is edited as data and as YAML scalars; the gate's installed-release state file
(JSON or YAML) is edited as a tree. The result is a report, a release or a project
error, never another exception.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import REPO, SAMPLE_POLICY
from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import (
    byte_mutations,
    csv_documents,
    edited_json,
    json_documents,
    mixed,
)
from vendorproof._internal.jsonio import read_document
from vendorproof.gate import load_installed
from vendorproof.models.inventory import parse_inventory
from vendorproof.models.policy import Policy
from vendorproof.reports._records import StoreView
from vendorproof.reports.concentration import concentration_report

_AT = datetime(2027, 1, 15, tzinfo=UTC)
_CSV = (REPO / "fixtures" / "inventories" / "operator-inventory.csv").read_bytes()
_VIEW = StoreView(
    url="sqlite:///evidence.db", total=0, records=(), unverified=(), chain=()
)

_TMF639: list[dict[str, Any]] = [
    {
        "id": "r1",
        "name": "AcmeRAN gNB",
        "resourceVersion": "24.1.3",
        "relatedParty": [{"role": "manufacturer", "name": "Acme Radio Systems GmbH"}],
        "resourceCharacteristic": [
            {"name": "domain", "value": "RAN"},
            {"name": "networkFunction", "value": "gNB"},
            {"name": "instances", "value": 3},
            {"name": "capacity", "value": "2.5"},
        ],
    },
    {
        "id": "r2",
        "name": "Borealis AMF",
        "resourceVersion": "3.1",
        "relatedParty": [{"role": "manufacturer", "name": "borealis"}],
        "resourceCharacteristic": [
            {"name": "domain", "value": "Core"},
            {"name": "networkFunction", "value": "AMF"},
            {"name": "capacity", "value": 4},
        ],
    },
]
_CYCLONEDX: dict[str, Any] = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "components": [
        {
            "type": "device",
            "bom-ref": "c1",
            "name": "Borealis Core",
            "version": "5.0",
            "supplier": {"name": "Borealis Networks Oy"},
            "properties": [
                {"name": "vendorproof:domain", "value": "core"},
                {"name": "vendorproof:networkFunction", "value": "AMF"},
                {"name": "vendorproof:instances", "value": "2"},
            ],
        },
        {
            "type": "device",
            "bom-ref": "c2",
            "name": "AcmeCore UPF",
            "version": "2.0",
            "manufacturer": {"name": "acme"},
            "properties": [
                {"name": "vendorproof:domain", "value": "Core"},
                {"name": "vendorproof:networkFunction", "value": "UPF"},
            ],
        },
    ],
}

#: Counts, capacities, domains and names that reach the fields behind the syntax.
_CELLS = st.sampled_from(
    [
        "0",
        "-1",
        "00",
        "1e3",
        "3.5",
        "999999999999",
        "9999999999999",
        "\u0663",  # ARABIC-INDIC DIGIT THREE
        "\u00b2",  # SUPERSCRIPT TWO: a digit to str.isdigit, not to int()
        "\u2460",  # CIRCLED DIGIT ONE
        "\uff11",  # FULLWIDTH DIGIT ONE
        "NaN",
        "sNaN",
        "Infinity",
        "-0",
        "1E+999999",
        "1e-999999",
        "1e999999999",
        "0.000000000000000000000000000001",
        "ran",
        "CORE",
        "oam",
        "Transport ",
        "RAN\x00",
        "acme",
        "Acme Radio Systems GmbH",
        "borealis",
        "Borealis Networks Oy",
        "<script>alert(1)</script>",
        "\u202eevil",
    ]
)
_VALUES: st.SearchStrategy[object] = st.one_of(
    _CELLS,
    st.sampled_from([0, -1, 10**12, 10**13, 1.5, 1e308, True, None, [], {}]),
)


def _report(raw: bytes) -> None:
    inventory = parse_inventory(raw, file="inventory")
    report = concentration_report(
        inventory, _VIEW, inventory_file="inventory", policy=seeds.policy(), at=_AT
    )
    json.dumps(report.to_dict())
    report.text()
    report.html()


@st.composite
def _characteristic_edits(draw: st.DrawFn, seed: Any) -> bytes:
    """A characteristic or property value replaced by an odd count, name or number."""
    doc = json.loads(json.dumps(seed))
    items = doc if isinstance(doc, list) else doc["components"]
    item = draw(st.sampled_from(items))
    key = "resourceCharacteristic" if "resourceCharacteristic" in item else "properties"
    entry = draw(st.sampled_from(item[key]))
    entry["value"] = draw(_VALUES)
    return json.dumps(doc).encode()


def _json_edits(seed: Any) -> st.SearchStrategy[bytes]:
    return st.one_of(json_documents(seed), _characteristic_edits(seed))


@given(
    st.one_of(
        mixed(_CSV, lambda seed: csv_documents(seed, _CELLS)),
        mixed(json.dumps(_TMF639).encode(), lambda _: _json_edits(_TMF639)),
        mixed(json.dumps(_CYCLONEDX).encode(), lambda _: _json_edits(_CYCLONEDX)),
    )
)
def test_inventory(raw: bytes) -> None:
    parses(_report, raw, input_size=len(raw))


# -- the policy's concentration section ---------------------------------------------

_THRESHOLDS = st.one_of(
    _VALUES,
    st.sampled_from(
        ["!!float .nan", "!!float .inf", "-.inf", "0x10", "1_000", "1e-400"]
    ),
)


@functools.cache
def _policy_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        json.dumps(
            yaml.safe_load(seeds.policy_yaml()),
            default=lambda t: t.isoformat().replace("+00:00", "Z"),
        )
    )
    return data


@st.composite
def _concentration_sections(draw: st.DrawFn) -> bytes:
    """The sample policy with its ``concentration`` section edited."""
    data = _policy_data()
    section = draw(edited_json(data["concentration"]))
    if isinstance(section, dict) and draw(st.booleans()):
        key = draw(st.sampled_from(["highRisk", "maxShare", "maxHhi", "domains"]))
        section[key] = draw(
            st.one_of(
                _THRESHOLDS,
                st.dictionaries(
                    st.one_of(_CELLS, st.sampled_from(["RAN", "Core", "maxShare"])),
                    st.fixed_dictionaries(
                        {}, optional={"maxShare": _THRESHOLDS, "maxHhi": _THRESHOLDS}
                    ),
                    max_size=3,
                ),
                st.lists(_CELLS, max_size=3),
            )
        )
    text = yaml.safe_dump({**data, "concentration": section})
    if draw(st.booleans()):
        # A threshold written as an unusual YAML scalar.
        values = list(re.finditer(r"(?m)^ +max(Share|Hhi): (\S[^\n]*)$", text))
        if values:
            m = draw(st.sampled_from(values))
            text = text[: m.start(2)] + draw(_THRESHOLDS.map(str)) + text[m.end(2) :]
    return text.encode("utf-8", "surrogatepass")


def _resolve(ref: str) -> bytes:
    return read_document(SAMPLE_POLICY.parent / ref)


def _concentration(raw: bytes) -> None:
    policy = Policy.from_yaml(raw, file="policy.yaml", resolve=_resolve)
    inventory = parse_inventory(_CSV, file="inventory.csv")
    report = concentration_report(
        inventory, _VIEW, inventory_file="inventory.csv", policy=policy, at=_AT
    )
    json.dumps(report.to_dict())
    report.text()
    report.html()


@given(_concentration_sections())
def test_policy_concentration(raw: bytes) -> None:
    parses(_concentration, raw, input_size=len(raw))


# -- the gate's installed-release state file ----------------------------------------

_STATE = {
    "vendor": "acme",
    "product": "AcmeRAN gNB",
    "version": "24.1.3",
    "securityVersion": 3,
    "target": "site-a/cluster-1",
    "installedAt": "2026-12-01T00:00:00Z",
}
_STATE_DIR = tempfile.TemporaryDirectory(prefix="vendorproof-property-state-")


@st.composite
def _state_yaml(draw: st.DrawFn) -> bytes:
    text = yaml.safe_dump(draw(edited_json(_STATE)), allow_unicode=draw(st.booleans()))
    if draw(st.booleans()):
        values = list(re.finditer(r"(?m): (\S[^\n]*)$", text))
        if values:
            m = draw(st.sampled_from(values))
            odd = draw(
                st.one_of(
                    _CELLS,
                    st.sampled_from(
                        [
                            "!!int 0x",
                            "-3",
                            "9" * 5000,
                            "!!timestamp 2026-02-30",
                            "2026-12-01",
                            "2026-12-01T00:00:00",
                            "&a x",
                            "*a",
                        ]
                    ),
                )
            )
            text = text[: m.start(1)] + odd + text[m.end(1) :]
    return text.encode("utf-8", "surrogatepass")


def _load_state(raw: bytes, name: str) -> None:
    path = Path(_STATE_DIR.name) / name
    path.write_bytes(raw)
    load_installed(path).describe()


@given(
    st.one_of(
        st.tuples(
            mixed(json.dumps(_STATE).encode(), lambda _: json_documents(_STATE)),
            st.just("installed.json"),
        ),
        st.tuples(
            st.one_of(_state_yaml(), byte_mutations(yaml.safe_dump(_STATE).encode())),
            st.sampled_from(["installed.yaml", "installed"]),
        ),
    )
)
def test_installed_state(case: tuple[bytes, str]) -> None:
    raw, name = case
    parses(_load_state, raw, name, input_size=len(raw))
