"""The catalogue as CycloneDX 1.6 definitions.standards, checked against the schema."""

from __future__ import annotations

import json

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from vendorproof.models.requirements import catalogue
from vendorproof.reports.requirements import catalogue_bom_json, catalogue_dict


def test_export_is_valid_cyclonedx_1_6() -> None:
    text = catalogue_bom_json(catalogue())
    # The CycloneDX project's own strict validator and its bundled 1.6 JSON schema.
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    doc = json.loads(text)
    assert doc["bomFormat"] == "CycloneDX"
    assert doc["specVersion"] == "1.6"


def test_export_holds_every_requirement_with_its_reading() -> None:
    cat = catalogue()
    doc = json.loads(catalogue_bom_json(cat))
    standards = doc["definitions"]["standards"]
    assert {s["bom-ref"] for s in standards} == {
        f"standard:{i.id}" for i in cat.instruments
    }
    exported = {
        r["identifier"]: (s["bom-ref"], r)
        for s in standards
        for r in s.get("requirements", [])
    }
    assert set(exported) == {r.id for r in cat.requirements}
    for req in cat.requirements:
        standard, r = exported[req.id]
        assert standard == f"standard:{req.instrument.id}"
        props = {p["name"]: p.get("value") for p in r["properties"]}
        assert props["vendorproof:confidence"] == req.confidence.value
        assert props.get("vendorproof:aliases", "") == " ".join(req.aliases)
        assert props.get("vendorproof:checks", "") == " ".join(cat.checks_for(req.id))
        assert r["externalReferences"][0]["url"] == req.source


def test_export_is_reproducible() -> None:
    cat = catalogue()
    first = json.loads(catalogue_bom_json(cat))
    assert first == json.loads(catalogue_bom_json(cat))
    assert first["serialNumber"].startswith("urn:uuid:")
    assert first["metadata"]["timestamp"].startswith(cat.date)


def test_json_view() -> None:
    cat = catalogue()
    data = catalogue_dict(cat)
    assert data["version"] == cat.version
    by_id = {r["id"]: r for r in data["requirements"]}
    assert by_id["EUCC:9(2)(e)"]["aliases"] == ["EUCC-9-2e"]
    assert "integrity" in by_id["EUCC:9(2)(e)"]["checks"]
    assert by_id["KAT:A2-8"]["checks"] == []
    assert json.loads(json.dumps(data)) == data
