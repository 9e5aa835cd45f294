"""The fuzzing driver behind scripts/fuzz (see docs/fuzzing.md).

Every target is one property test of tests/property/: a structure-aware Hypothesis
strategy (mutants of the committed sample documents) and the contract "a result or a
vendorproof error, never another exception". Two engines run them:

hypothesis (default)
    repeated pytest runs of the target under the ``fuzz`` profile (random seeds,
    2000 examples a batch, larger inputs), round-robin over the chosen targets until
    the time is up. A failure is shrunk to a minimal example and saved in
    ``.fuzz/examples``; the target then leaves the rotation for this run.
atheris
    coverage-guided: libFuzzer mutates the bytes Hypothesis draws its choices from
    (``fuzz_one_input``), steered by coverage of the instrumented Python code. One
    process per target, time split evenly; the corpus grows in
    ``.fuzz/corpus/TARGET`` and crashing inputs land in ``.fuzz/crashes/``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUZZ_DIR = REPO / ".fuzz"

#: target name -> (module under tests/property/, property test).
TARGETS = {
    "json": ("test_json_yaml", "test_parse_json"),
    "yaml": ("test_json_yaml", "test_parse_yaml_mapping"),
    "policy": ("test_json_yaml", "test_policy"),
    "bundle": ("test_documents", "test_bundle"),
    "envelope": ("test_documents", "test_envelope"),
    "statement": ("test_documents", "test_statement_and_predicates"),
    "delivery": ("test_documents", "test_delivery_with_a_mutated_attestation"),
    "keyless-artifact": ("test_documents", "test_keyless_artifact_bundle"),
    "keyless-statement": ("test_documents", "test_keyless_statement_bundle"),
    "certificate": ("test_pki", "test_certificate"),
    "signer-certificate": ("test_pki", "test_signer_certificate_in_a_bundle"),
    "legacy-chain": ("test_pki", "test_legacy_chain"),
    "crl": ("test_pki", "test_crl"),
    "timestamp": ("test_pki", "test_timestamp"),
    "public-key": ("test_pki", "test_public_key"),
    "record": ("test_evidence", "test_record"),
    "audit-bundle": ("test_evidence", "test_audit_bundle"),
    "notation-jws": ("test_oci", "test_notation_jws"),
    "notation-cose": ("test_oci", "test_notation_cose"),
    "oci-index": ("test_oci", "test_layout_index"),
    "sol004-manifest": ("test_sol004", "test_sol004_manifest"),
    "tosca-meta": ("test_sol004", "test_tosca_meta"),
    "cms": ("test_sol004", "test_cms_signature"),
    "csar": ("test_sol004", "test_csar_archive"),
    "cc-portal": ("test_registers", "test_cc_portal_register"),
    "register": ("test_registers", "test_own_register"),
    "certification-record": ("test_registers", "test_certification_record"),
    "certification-status": ("test_registers", "test_certification_status"),
    "certification-evaluation": ("test_registers", "test_certification_evaluation"),
    "inventory": ("test_inventory", "test_inventory"),
    "concentration-policy": ("test_inventory", "test_policy_concentration"),
    "installed-state": ("test_inventory", "test_installed_state"),
    "in-toto": ("test_intoto", "test_in_toto_metadata"),
    "oci-archive": ("test_oci_archive", "test_oci_archive"),
    "cosign-simple-signing": ("test_cosign", "test_cosign_simple_signing"),
    "cosign-bundle": ("test_cosign", "test_cosign_bundle"),
    "cosign-layout": ("test_cosign", "test_cosign_in_a_layout"),
    "notation-import": ("test_notation_import", "test_notation_import"),
}


def _node(name: str) -> str:
    module, test = TARGETS[name]
    return f"tests/property/{module}.py::{test}"


def _hypothesis(targets: list[str], seconds: float, batch: int) -> list[str]:
    env = {
        **os.environ,
        "VENDORPROOF_HYPOTHESIS_PROFILE": "fuzz",
        "VENDORPROOF_FUZZ_EXAMPLES": str(batch),
    }
    end = time.monotonic() + seconds
    failed: list[str] = []
    rounds = 0
    active = list(targets)
    while active and time.monotonic() < end:
        rounds += 1
        for name in list(active):
            left = end - time.monotonic()
            if left <= 0:
                break
            print(f"== round {rounds}: {name} ({left / 60:.1f} min left)", flush=True)
            cmd = [
                sys.executable, "-m", "pytest", _node(name), "-q", "-x",
                "-p", "no:cacheprovider", "--runxfail",
            ]  # fmt: skip
            try:
                proc = subprocess.run(
                    cmd, cwd=REPO, env=env, timeout=left + 30, check=False
                )
            except subprocess.TimeoutExpired:
                break  # the time is up mid-batch; nothing found in it
            if proc.returncode not in (0, 5):
                failed.append(name)
                active.remove(name)
    return failed


def _atheris_child(name: str, seconds: int) -> None:
    import atheris  # type: ignore[import-untyped]

    os.environ["VENDORPROOF_HYPOTHESIS_PROFILE"] = "atheris"
    sys.path.insert(0, str(REPO))
    module_name, func = TARGETS[name]
    # Coverage of the project's own code (and PyYAML's pure-Python parser) steers
    # the search; instrumenting every loaded module would take minutes.
    with atheris.instrument_imports(include=["vendorproof", "yaml"]):
        module = importlib.import_module(f"tests.property.{module_name}")
    warm_up = getattr(module, "warm_up", None)
    if warm_up is not None:
        warm_up()
    test = getattr(module, func)
    corpus = FUZZ_DIR / "corpus" / name
    crashes = FUZZ_DIR / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    atheris.Setup(
        [
            sys.argv[0],
            f"-max_total_time={seconds}",
            "-timeout=60",
            "-rss_limit_mb=2048",
            "-max_len=65536",
            f"-artifact_prefix={crashes}/{name}-",
            str(corpus),
        ],
        test.hypothesis.fuzz_one_input,
    )
    atheris.Fuzz()


def _atheris(targets: list[str], seconds: float) -> list[str]:
    each = max(10, int(seconds / len(targets)))
    failed = []
    for name in targets:
        print(f"== atheris: {name} for {each} s", flush=True)
        cmd = [
            sys.executable,
            __file__,
            "--atheris-child",
            name,
            "--seconds",
            str(each),
        ]
        if subprocess.run(cmd, cwd=REPO, check=False).returncode != 0:
            failed.append(name)
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__)
    parser.add_argument("--target", action="append", choices=sorted(TARGETS))
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--engine", choices=["hypothesis", "atheris"], default="hypothesis"
    )
    parser.add_argument(
        "--batch", type=int, default=2000, help="examples per pytest run"
    )
    parser.add_argument("--list", action="store_true", help="list the targets")
    parser.add_argument("--atheris-child", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.list:
        for name in TARGETS:
            print(f"{name:24} {_node(name)}")
        return 0
    if args.atheris_child:
        _atheris_child(args.atheris_child, args.seconds)
        return 0
    targets = args.target or list(TARGETS)
    seconds = args.minutes * 60
    if args.engine == "atheris":
        failed = _atheris(targets, seconds)
    else:
        failed = _hypothesis(targets, seconds, args.batch)
    if failed:
        print(f"FAILED: {', '.join(failed)}; failing examples are in {FUZZ_DIR}")
        return 1
    print(f"no failure in {len(targets)} target(s) in {args.minutes:g} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
