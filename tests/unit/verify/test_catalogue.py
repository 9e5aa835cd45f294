"""The operator's product catalogue decides what must be certified: relabelling a
component's kind, the domain or the network function, or renaming the product, no
longer takes a component out of a certification rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.builders import (
    AT,
    FILES,
    DeliveryBuilder,
    manifest_statement,
    policy_data,
    vendor_b,
    write_policy,
)
from vendorproof.errors import InvalidInputError
from vendorproof.intake import check_delivery, load_policy
from vendorproof.verify.result import Outcome, VerificationReport

CATALOGUE: dict[str, Any] = {
    "products": [
        {
            "vendor": "acme",
            "product": "AcmeRAN *",
            "domain": "RAN",
            "networkFunctions": ["gNB"],
            "category": "BNetzA critical function gNB; TR-03163 RAN",
            "components": [
                {"path": "images/*", "kind": "firmware"},
                {"path": "config/*", "kind": "config"},
            ],
        }
    ]
}


def policy(tmp_path: Path, catalogue: dict[str, Any] | None = CATALOGUE) -> Path:
    data = policy_data()
    if catalogue is not None:
        data["catalogue"] = catalogue
    return write_policy(tmp_path / "policy.yaml", data)


def delivery(tmp_path: Path, *, certified: bool = True, **manifest: Any) -> Path:
    root = tmp_path / "delivery"
    builder = DeliveryBuilder(root)
    kinds = manifest.pop("kinds", {"config/site.yaml": "config"})
    builder.standard(manifest=manifest_statement(FILES, kinds=kinds, **manifest))
    if not certified:
        (root / "attestations" / "certification.sigstore.json").unlink()
    return root


def run(root: Path, policy_path: Path) -> VerificationReport:
    return check_delivery(root, load_policy(policy_path), at=AT, time_source="--at")


def outcome(
    report: VerificationReport, check: str, subject: str
) -> tuple[Outcome, str]:
    for c in report.checks:
        if c.check == check and c.subject == subject:
            return c.outcome, c.reason
    pytest.fail(f"no {check} on {subject}: {[c.to_dict() for c in report.checks]}")


def test_classified_delivery_passes(tmp_path: Path) -> None:
    report = run(delivery(tmp_path), policy(tmp_path))
    assert report.ok, [c.to_dict() for c in report.failures()]
    result, reason = outcome(report, "classification", "AcmeRAN gNB")
    assert result is Outcome.PASS
    assert "category BNetzA critical function gNB" in reason
    assert outcome(report, "certification-coverage", "images/du.img")[0] is (
        Outcome.PASS
    )
    assert outcome(report, "certification-coverage", "config/site.yaml")[0] is (
        Outcome.NOT_APPLICABLE
    )


RELABELS = [
    pytest.param(
        {"kinds": {"images/du.img": "other", "config/site.yaml": "config"}},
        "declares images/du.img as other, the catalogue says firmware",
        id="kind",
    ),
    pytest.param(
        {"domain": "OAM"}, "declares domain OAM, the catalogue says RAN", id="domain"
    ),
    pytest.param(
        {"network_function": "NMS"},
        "declares network function NMS, the catalogue says gNB",
        id="network-function",
    ),
]


@pytest.mark.parametrize(("relabel", "message"), RELABELS)
def test_relabelling_no_longer_escapes(
    tmp_path: Path, relabel: dict[str, Any], message: str
) -> None:
    root = delivery(tmp_path, certified=False, **relabel)
    # Without the catalogue the vendor's own words take the image out of scope ...
    before = run(root, policy(tmp_path, None))
    assert outcome(before, "certification-coverage", "images/du.img")[0] is (
        Outcome.NOT_APPLICABLE
    )
    # ... with it, the contradiction fails and the image must still be certified.
    report = run(root, policy(tmp_path))
    result, reason = outcome(report, "classification", "AcmeRAN gNB")
    assert result is Outcome.FAIL
    assert message in reason
    result, reason = outcome(report, "certification-coverage", "images/du.img")
    assert result is Outcome.FAIL
    assert "needs a valid certification" in reason
    assert not report.ok


def test_renaming_the_product_no_longer_escapes(tmp_path: Path) -> None:
    root = delivery(tmp_path, certified=False, product="Acme Site Tool", domain="OAM")
    before = run(root, policy(tmp_path, None))
    assert outcome(before, "certification-coverage", "images/du.img")[0] is (
        Outcome.NOT_APPLICABLE
    )
    report = run(root, policy(tmp_path))
    result, reason = outcome(report, "classification", "Acme Site Tool")
    assert result is Outcome.FAIL
    assert "does not classify product 'Acme Site Tool' of vendor 'acme'" in reason
    assert outcome(report, "certification-coverage", "images/du.img")[0] is (
        Outcome.FAIL
    )


def test_unknown_product_warns_by_policy_and_stays_in_scope(tmp_path: Path) -> None:
    root = delivery(tmp_path, product="AcmeCore AMF", domain="Core")
    report = run(root, policy(tmp_path, {**CATALOGUE, "unknownProduct": "warn"}))
    assert outcome(report, "classification", "AcmeCore AMF")[0] is Outcome.WARN
    # Fail closed: with no classification every rule applies to every component.
    assert outcome(report, "certification-coverage", "config/site.yaml")[0] is (
        Outcome.FAIL
    )


def test_catalogue_is_keyed_by_the_verified_vendor(tmp_path: Path) -> None:
    """A manifest signed by borealis that names acme is not acme's product."""
    root = tmp_path / "delivery"
    builder = DeliveryBuilder(root)
    builder.standard(
        manifest_signer=vendor_b(),
        manifest=manifest_statement(FILES, kinds={"config/site.yaml": "config"}),
    )
    report = run(root, policy(tmp_path))
    result, reason = outcome(report, "classification", "AcmeRAN gNB")
    assert result is Outcome.FAIL
    assert "of vendor 'borealis'" in reason


def test_vendor_declarations_add_requirements(tmp_path: Path) -> None:
    """The catalogue says the config is config; the vendor calls it firmware."""
    root = delivery(tmp_path, kinds={"config/site.yaml": "firmware"}, certified=True)
    report = run(root, policy(tmp_path))
    assert outcome(report, "classification", "AcmeRAN gNB")[0] is Outcome.FAIL
    # The declaration's rule still applies: the config must now be certified too.
    assert outcome(report, "certification-coverage", "config/site.yaml")[0] is (
        Outcome.FAIL
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"products": []}, "needs at least one product"),
        ({"products": [{**CATALOGUE["products"][0], "domain": "Space"}]}, "Space"),
        (
            {
                "products": [
                    {
                        **CATALOGUE["products"][0],
                        "components": [{"path": "x", "kind": "rootkit"}],
                    }
                ]
            },
            "rootkit",
        ),
        ({**CATALOGUE, "unknownProduct": "ignore"}, "ignore"),
        ({"products": [{"vendor": "acme"}]}, "product"),
    ],
)
def test_catalogue_is_validated(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        load_policy(policy(tmp_path, change))
