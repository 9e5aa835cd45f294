"""The requirement catalogue: shipped data, check mapping, aliases, bad documents."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from vendorproof.errors import InvalidInputError
from vendorproof.models.checks import DOCUMENT_REQUIREMENTS, Check
from vendorproof.models.requirements import (
    Confidence,
    catalogue,
    parse_catalogue,
)

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "src/vendorproof/requirements/catalogue.yaml"


def test_every_check_maps_to_catalogue_ids() -> None:
    cat = catalogue()
    ids = {r.id for r in cat.requirements}
    for check in Check:
        mapped = cat.for_check(check.value)
        assert mapped, check
        assert set(mapped) <= ids
        # The short ids a record carries today resolve into the check's mapping.
        assert set(cat.resolve(check.requirements)) <= set(mapped), check
    for kind, short in DOCUMENT_REQUIREMENTS.items():
        assert set(cat.resolve(short)) <= set(cat.documents[kind]), kind
        assert set(cat.documents[kind]) <= set(cat.for_check("signature"))


def test_short_ids_of_the_report_schema_are_aliases() -> None:
    schema = json.loads(
        (ROOT / "src/vendorproof/schemas/report.schema.json").read_text("utf-8")
    )
    enum = set(schema["$defs"]["check"]["properties"]["requirements"]["items"]["enum"])
    cat = catalogue()
    aliases = {a for r in cat.requirements for a in r.aliases}
    # Every short id an old record may carry resolves, and nothing else is an alias.
    assert aliases == enum
    for short in enum:
        req = cat.get(short)
        assert req is not None
        assert cat.resolve([short]) == (req.id,)
        assert cat.resolve([req.id]) == (req.id,)


def test_ids_and_sources() -> None:
    cat = catalogue()
    for r in cat.requirements:
        assert r.id == f"{r.instrument.id}:{r.clause}"
        assert r.source.startswith("https://")
        assert r.title
    by_id = {r.id: r for r in cat.requirements}
    # Read in the ONAP requirements source itself.
    assert by_id["ONAP-VNFRQTS:R-130206"].confidence is Confidence.VERIFIED
    # Clause numbers taken from the domain brief are not claimed as checked.
    assert by_id["KAT:A2-4"].confidence is Confidence.UNCONFIRMED
    assert by_id["3GPP-TS-33.117:4.2.3.3.5"].confidence is Confidence.SECONDARY
    assert by_id["5G-TOOLBOX:TM07"].confidence is Confidence.UNCONFIRMED
    # Read in the published texts (or verbatim reproductions named in the note).
    for rid in ("EUCC:9(2)(e)", "EUCC:11", "NIS2:21(2)(d)", "TKG:166", "BSIG:41"):
        assert by_id[rid].confidence is Confidence.VERIFIED, rid
        assert by_id[rid].source.startswith("https://"), rid
    # Suspension is EUCC Art. 13(3), and the certification check evidences it.
    assert "certification" in cat.checks_for("EUCC:13")
    assert "suspension" not in by_id["EUCC:14"].title.lower()
    # Annex 5.1.2(d) of (EU) 2024/2690 is diversification of supply: answered by the
    # concentration report, not by the trust declaration check.
    assert cat.checks_for("CIR-2024-2690:5.1.2(d)") == ()
    assert "concentration" in by_id["CIR-2024-2690:5.1.2(d)"].evidence
    assert "vendor lock-in" in by_id["CIR-2024-2690:5.1.2(d)"].title
    assert cat.checks_for("KAT:A2-8") == ()
    assert "concentration" in by_id["KAT:A2-8"].evidence
    assert "integrity" in cat.checks_for("EUCC:9(2)(e)")
    assert "deny-list" in cat.checks_for("BSIG:41")


def test_unknown_id_does_not_resolve() -> None:
    cat = catalogue()
    assert cat.get("ISO-9001") is None
    with pytest.raises(InvalidInputError, match="ISO-9001"):
        cat.resolve(["KAT-A2-4", "ISO-9001"])


def test_docs_cite_every_entry_with_its_confidence() -> None:
    text = (ROOT / "docs/requirements.md").read_text("utf-8")
    for r in catalogue().requirements:
        rows = [line for line in text.splitlines() if f"`{r.id}`" in line]
        assert rows, r.id
        assert any(r.confidence.value in row for row in rows), r.id


def test_catalogue_ships_as_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]["vendorproof"]
    assert "requirements/*.yaml" in data
    deps = pyproject["project"]["dependencies"]
    assert any(d.startswith("cyclonedx-python-lib") for d in deps)


def _shipped() -> dict[str, Any]:
    data = yaml.safe_load(SHIPPED.read_bytes())
    assert isinstance(data, dict)
    return data


def _dump(data: dict[str, Any]) -> bytes:
    return yaml.safe_dump(data, sort_keys=False).encode("utf-8")


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()


def test_shipped_document_round_trips() -> None:
    parsed = parse_catalogue(_dump(_shipped()), file="c.yaml")
    assert parsed == catalogue()


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        pytest.param(("extra",), 1, "unknown key 'extra'", id="unknown-top-key"),
        pytest.param(("checks",), _DELETE, "missing required key", id="no-checks"),
        pytest.param(
            ("requirements", 0, "id"), "KAT-A2-2", "<instrument>:<clause>", id="bad-id"
        ),
        pytest.param(
            ("requirements", 0, "id"), "ISO:9001", "<instrument>:<clause>", id="no-inst"
        ),
        pytest.param(
            ("requirements", 1, "aliases"), ["KAT-A2-2"], "used twice", id="dup-alias"
        ),
        pytest.param(
            ("requirements", 0, "confidence"), "sure", "expected one of", id="confid"
        ),
        pytest.param(("requirements", 0, "aliases"), "x", "list of strings", id="al"),
        pytest.param(("requirements", 0, "title"), "", "non-empty", id="empty-title"),
        pytest.param(("requirements", 0, "why"), "x", "unknown key 'why'", id="key"),
        pytest.param(("requirements",), [], "non-empty list", id="no-requirements"),
        pytest.param(("requirements", 0), "x", "expected a mapping", id="req-scalar"),
        pytest.param(("instruments", 0), "x", "expected a mapping", id="inst-scalar"),
        pytest.param(("instruments", 0, "date"), "2020/08", "YYYY", id="date"),
        pytest.param(("instruments", 0, "url"), "http://x", "https", id="http"),
        pytest.param(("instruments", 1, "id"), "KAT", "duplicate instrument", id="dup"),
        pytest.param(
            ("checks", "integrity"), ["NOPE:1"], "unknown requirement", id="u"
        ),
        pytest.param(("checks", "integrity"), [], "non-empty list", id="empty-map"),
        pytest.param(("checks", "signature"), ["KAT:A2-4"], "not a known", id="sig"),
        pytest.param(("checks", "integrity"), _DELETE, "missing 'integrity'", id="m"),
        pytest.param(("documents",), [], "expected a mapping", id="docs-list"),
        pytest.param(
            ("requirements", 3, "evidence"), _DELETE, "maps to no check", id="no-ev"
        ),
    ],
)
def test_bad_catalogue_is_refused_naming_the_field(
    path: tuple[Any, ...], value: Any, needle: str
) -> None:
    data = _shipped()
    _set(data, path, value)
    with pytest.raises(InvalidInputError) as e:
        parse_catalogue(_dump(data), file="c.yaml")
    assert str(e.value).startswith("c.yaml"), str(e.value)
    assert needle in str(e.value)


def test_yaml_is_read_safely() -> None:
    raw = SHIPPED.read_bytes().replace(
        b'version: "2026.11.1"', b"version: !!python/object:os.system x"
    )
    with pytest.raises(InvalidInputError, match=r"c\.yaml"):
        parse_catalogue(raw, file="c.yaml")


def test_ids_have_the_documented_form() -> None:
    form = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9.\-]*:[A-Za-z0-9().\-]+\Z")
    assert all(form.match(r.id) for r in catalogue().requirements)
