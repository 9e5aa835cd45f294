"""Property tests: strict JSON and the YAML policy never fail but with project errors."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.builders import SAMPLE_POLICY
from tests.property import _seeds as seeds
from tests.property._harness import parses, size
from tests.property._mutate import byte_mutations, edited_json, json_documents, mixed
from vendorproof._internal.jsonio import parse_json, read_document
from vendorproof._internal.yamlio import parse_yaml_mapping
from vendorproof.models.policy import Policy


def _json_inputs() -> st.SearchStrategy[bytes]:
    seed = seeds.bundle_bytes(seeds.BUNDLE_FILES[0])
    return st.one_of(
        mixed(seed, lambda _: json_documents(seeds.bundle(seeds.BUNDLE_FILES[0]))),
        st.text(max_size=size(200, 4000)).map(
            lambda t: t.encode("utf-8", "surrogatepass")
        ),
        # Bracket and escape soup: the shapes the nesting pre-scan must stay linear on.
        st.lists(
            st.sampled_from(["[", "]", "{", "}", '"', '\\"', "\\", ":", ",", "1", "a"]),
            max_size=size(400, 20_000),
        ).map(lambda parts: "".join(parts).encode()),
    )


# An unterminated string of escaped quotes after enough brackets to need the
# nesting scan: about 1 s at 10 KB before the fix (quadratic), milliseconds after.
_QUADRATIC = b"[" * 40 + b'"' + b'\\"' * 5_000


@settings(deadline=timedelta(milliseconds=250))
@given(_json_inputs())
@example(raw=_QUADRATIC)
def test_parse_json(raw: bytes) -> None:
    parses(parse_json, raw, file="doc.json", input_size=len(raw))


# -- YAML -------------------------------------------------------------------------

_TAGGED = st.sampled_from(
    [
        "!!bool maybe",
        "!!int x",
        "!!float y",
        "!!timestamp 2026-02-30",
        "!!timestamp x",
        "!!binary '*'",
        "!!null x",
        "!!str 1",
        "!!map x",
        "!!seq x",
        "!!set {a}",
        "!!omap [a]",
        "!!python/object:os.system x",
        "!<tag:yaml.org,2002:int> 0x",
        "&a 1",
        "*a",
        "|\n  x",
        "'\\0'",
        '"\\0"',
        '"\\ud800"',
        "2026-02-30",
        ".nan",
        "0o8",
        "9" * 5000,
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ]
)


@st.composite
def _policy_yaml(draw: st.DrawFn) -> bytes:
    # Through JSON, with dates as the strings they are written as.
    data = json.loads(
        json.dumps(
            yaml.safe_load(seeds.policy_yaml()),
            default=lambda t: t.isoformat().replace("+00:00", "Z"),
        )
    )
    text = yaml.safe_dump(draw(edited_json(data)), allow_unicode=draw(st.booleans()))
    if draw(st.booleans()):
        # Replace one scalar value with a tagged or otherwise unusual scalar.
        values = list(re.finditer(r"(?m)(:|^\s*-) (\S[^\n]*)$", text))
        if values:
            m = draw(st.sampled_from(values))
            text = text[: m.start(2)] + draw(_TAGGED) + text[m.end(2) :]
    return text.encode("utf-8", "surrogatepass")


def _yaml_inputs() -> st.SearchStrategy[bytes]:
    return st.one_of(
        _policy_yaml(),
        _policy_yaml(),
        byte_mutations(seeds.policy_yaml()),
        st.text(max_size=size(200, 4000)).map(
            lambda t: t.encode("utf-8", "surrogatepass")
        ),
    )


_BOOL_TAG = b"a: !!bool maybe\n"  # KeyError
_TIMESTAMP_TAG = b"a: !!timestamp x\n"  # AttributeError


@given(_yaml_inputs())
@example(raw=_BOOL_TAG)
@example(raw=_TIMESTAMP_TAG)
def test_parse_yaml_mapping(raw: bytes) -> None:
    parses(parse_yaml_mapping, raw, file="policy.yaml", input_size=len(raw))


def _resolve(ref: str) -> bytes:
    # What load_policy does: references are relative to the policy's directory.
    return read_document(SAMPLE_POLICY.parent / ref)


def _policy_with_anchor(ref: bytes) -> bytes:
    """The sample policy whose first vendor anchor reference is ``ref``."""
    return seeds.policy_yaml().replace(
        b"[../../keys/vendor-a/root.pem]", b"[" + ref + b"]", 1
    )


@given(_yaml_inputs())
@example(raw=_BOOL_TAG)
@example(raw=_TIMESTAMP_TAG)
@example(raw=_policy_with_anchor(b'"../../keys/vendor-a/root.pem\\0"'))
@example(raw=_policy_with_anchor(b'"\\ud800"'))
def test_policy(raw: bytes) -> None:
    parses(
        Policy.from_yaml, raw, file="policy.yaml", resolve=_resolve, input_size=len(raw)
    )
