"""Structure-aware mutation strategies: start from a valid document and break it.

Three levels, each drawn by Hypothesis (so failures shrink to a small edit):

* :func:`json_documents`: edits on the parsed tree (delete a field, swap a value's
  type, deep nesting, huge numbers, odd unicode, base64 garbage, unknown fields),
  serialized with varying escapes and occasionally a duplicated key;
* :func:`der_documents`: edits on the DER TLV tree (change a tag, replace or
  truncate a primitive, drop or duplicate an element, wrong lengths), re-encoded
  with correct outer lengths so the mutation reaches the inner parsers;
* :func:`byte_mutations`: flips, insertions, deletions and truncation of raw bytes;
* :func:`csv_documents`: edits on the parsed table (a cell replaced by an odd or huge
  value, a cell or row dropped or repeated, columns swapped), written again with
  varying quoting, line endings, a byte order mark or another encoding, sometimes with
  a stray quote.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.property._harness import size

JsonPath = tuple[str | int, ...]

# -- values -------------------------------------------------------------------------

_ODD_TEXT = st.sampled_from(
    [
        "",
        "\x00",
        "a\x00b",
        "\ud800",  # a lone surrogate (serialized as an escape)
        "\udfff\ud800",
        "\u202e\u2066evil",
        "\x1b[2J\r\nverdict: PASSED",
        "../../etc/passwd",
        "/etc/passwd",
        "C:\\x",
        "sha256",
        "0" * 64,
        "2026-02-30T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2026-06-01T00:00:00+25:00",
        "-1",
        "NaN",
        "\ufeff",
        "=" * 8,
        "A===",
        "!!bool",
    ]
)


def _b64_garbage() -> st.SearchStrategy[str]:
    return st.one_of(
        st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
        st.binary(max_size=64).map(lambda b: base64.urlsafe_b64encode(b).decode()),
        st.text(alphabet="ABCDabcd0189+/=-_ \n", max_size=40),
    )


def _huge_numbers() -> st.SearchStrategy[int | float]:
    return st.one_of(
        st.integers(),
        st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**100, -(10**4299)]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=4290, max_value=4300).map(lambda n: int("9" * n)),
    )


def scalars() -> st.SearchStrategy[Any]:
    """JSON scalars that are likely to hit edge cases of typed field readers."""
    return st.one_of(
        st.none(),
        st.booleans(),
        _huge_numbers(),
        st.text(max_size=40),
        _ODD_TEXT,
        _b64_garbage(),
    )


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Arbitrary JSON values (bounded)."""
    return st.recursive(
        scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.one_of(st.text(max_size=8), _ODD_TEXT), inner, max_size=4
            ),
        ),
        max_leaves=max_leaves,
    )


def _nested(depth: int, leaf: Any, *, as_object: bool) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value} if as_object else [value]
    return value


# -- JSON tree edits -----------------------------------------------------------------


def _paths(value: Any, path: JsonPath = ()) -> list[JsonPath]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*path, i)))
    return out


def _get(doc: Any, path: JsonPath) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _set(doc: Any, path: JsonPath, value: Any) -> Any:
    if not path:
        return value
    parent = _get(doc, path[:-1])
    parent[path[-1]] = value
    return doc


def _delete(doc: Any, path: JsonPath) -> Any:
    if not path:
        return doc
    parent = _get(doc, path[:-1])
    del parent[path[-1]]
    return doc


_EDITS = (
    "delete",
    "replace",
    "nest",
    "wrap",
    "add",
    "empty",
    "duplicate-list-item",
)


@st.composite
def edited_json(draw: st.DrawFn, seed: Any, max_edits: int = 3) -> Any:
    """``seed`` (a parsed JSON value) after 0 to ``max_edits`` tree edits."""
    doc = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(0, max_edits))):
        path = draw(st.sampled_from(_paths(doc)))
        edit = draw(st.sampled_from(_EDITS))
        current = _get(doc, path)
        if edit == "delete":
            doc = _delete(doc, path)
        elif edit == "replace":
            doc = _set(doc, path, draw(json_values()))
        elif edit == "nest":
            depth = draw(st.integers(1, size(40, 200)))
            as_object = draw(st.booleans())
            doc = _set(doc, path, _nested(depth, current, as_object=as_object))
        elif edit == "wrap":
            doc = _set(doc, path, draw(st.sampled_from([[current], {"": current}])))
        elif edit == "add" and isinstance(current, dict):
            key = draw(st.one_of(st.text(max_size=12), _ODD_TEXT))
            current[key] = draw(json_values())
        elif edit == "empty":
            doc = _set(doc, path, type(current)() if current is not None else "")
        elif edit == "duplicate-list-item" and isinstance(current, list) and current:
            current.extend(current[: draw(st.integers(1, 3))])
    return doc


def _serialize(value: Any, ensure_ascii: bool, indent: int | None) -> bytes:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent).encode(
        "utf-8", "surrogatepass"
    )


@st.composite
def json_documents(draw: st.DrawFn, seed: Any, max_edits: int = 3) -> bytes:
    """Serialized edits of ``seed``, sometimes with a text-level duplicate key."""
    doc = draw(edited_json(seed, max_edits))
    raw = _serialize(doc, draw(st.booleans()), draw(st.sampled_from([None, 1])))
    if draw(st.integers(0, 9)) == 0 and b'{"' in raw:
        # Duplicate the first key of the first object: {"k": v, "k": v, ...}.
        start = raw.index(b'{"') + 1
        end = raw.find(b",", start)
        if end > 0:
            raw = raw[:end] + b"," + raw[start:end] + raw[end:]
    return raw


def payload_documents(
    seed: dict[str, Any], key: JsonPath, inner: Any, max_edits: int = 3
) -> st.SearchStrategy[bytes]:
    """``seed`` whose base64 field at ``key`` holds an edited JSON ``inner``."""

    def embed(payload: Any) -> Any:
        doc = json.loads(json.dumps(seed))
        text = json.dumps(payload).encode("utf-8", "surrogatepass")
        return _set(doc, key, base64.b64encode(text).decode())

    return st.builds(embed, edited_json(inner, max_edits)).flatmap(
        lambda doc: json_documents(doc, max_edits=1)
    )


# -- raw bytes -----------------------------------------------------------------------


@st.composite
def byte_mutations(draw: st.DrawFn, seed: bytes, max_edits: int = 4) -> bytes:
    """``seed`` after a few byte-level edits (never longer than twice the seed)."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_edits))):
        if not data:
            data.extend(draw(st.binary(min_size=1, max_size=16)))
            continue
        pos = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if edit == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif edit == "set":
            data[pos] = draw(st.sampled_from([0, 0x7F, 0x80, 0xFF, 0x30, 0x22, 0x5C]))
        elif edit == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "delete":
            del data[pos : pos + draw(st.integers(1, 16))]
        else:
            del data[pos:]
    return bytes(data[: 2 * len(seed) + 64])


# -- DER -----------------------------------------------------------------------------


@dataclass
class Tlv:
    """One DER element: a tag and either primitive content or children."""

    tag: int
    content: bytes = b""
    children: list[Tlv] | None = None
    #: Bytes before the children (the unused-bits octet of a BIT STRING).
    prefix: bytes = b""

    def encode(self) -> bytes:
        body = (
            self.content
            if self.children is None
            else self.prefix + b"".join(c.encode() for c in self.children)
        )
        n = len(body)
        if n < 0x80:
            head = bytes([self.tag, n])
        else:
            octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
            head = bytes([self.tag, 0x80 | len(octets)]) + octets
        return head + body


def _read_tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, end) of the element at ``pos``; ValueError if broken."""
    if pos + 2 > len(der) or der[pos] & 0x1F == 0x1F:
        raise ValueError("unsupported or truncated tag")
    first = der[pos + 1]
    if first < 0x80:
        start, length = pos + 2, first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + 2 + n > len(der):
            raise ValueError("unsupported length")
        start, length = pos + 2 + n, int.from_bytes(der[pos + 2 : pos + 2 + n], "big")
    if start + length > len(der):
        raise ValueError("truncated")
    return der[pos], start, start + length


def parse_der(der: bytes, depth: int = 0) -> Tlv:
    """Parse a single DER element (constructed elements become trees)."""
    tag, start, end = _read_tlv(der, 0)
    if end != len(der):
        raise ValueError("trailing data")
    return _node(der, tag, start, end, depth)


def _node(der: bytes, tag: int, start: int, end: int, depth: int) -> Tlv:
    content = der[start:end]
    # Constructed elements, and OCTET/BIT STRINGs that wrap DER (extension values).
    wraps = tag == 0x04 or (tag == 0x03 and content[:1] == b"\x00")
    if (tag & 0x20 or wraps) and depth < 24 and content:
        inner = content[1:] if tag == 0x03 else content
        try:
            children = []
            pos = 0
            while pos < len(inner):
                ctag, cstart, cend = _read_tlv(inner, pos)
                children.append(_node(inner, ctag, cstart, cend, depth + 1))
                pos = cend
        except ValueError:
            return Tlv(tag, content)
        return Tlv(tag, children=children, prefix=content[: len(content) - len(inner)])
    return Tlv(tag, content)


def _elements(node: Tlv) -> list[Tlv]:
    out = [node]
    for child in node.children or ():
        out.extend(_elements(child))
    return out


_TAGS = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0C, 0x13, 0x17, 0x18, 0x30, 0x31, 0xA0]
_DER_EDITS = ("tag", "content", "truncate", "drop", "duplicate", "flip", "int", "time")


def _der_edit(draw: st.DrawFn, tree: Tlv) -> None:
    node = draw(st.sampled_from(_elements(tree)))
    edit = draw(st.sampled_from(_DER_EDITS))
    if edit == "tag":
        node.tag = draw(st.sampled_from(_TAGS))
    elif edit == "drop" and node.children:
        del node.children[draw(st.integers(0, len(node.children) - 1))]
    elif edit == "duplicate" and node.children:
        node.children.append(draw(st.sampled_from(node.children)))
    elif edit == "content" and node.children is not None:
        node.children, node.prefix = None, b""  # a structure replaced by garbage
        node.content = draw(st.binary(max_size=40))
    elif node.children is None:
        if edit == "content":
            node.content = draw(st.binary(max_size=40))
        elif edit == "truncate":
            node.content = node.content[: draw(st.integers(0, len(node.content)))]
        elif edit == "flip" and node.content:
            i = draw(st.integers(0, len(node.content) - 1))
            b = node.content[i] ^ (1 << draw(st.integers(0, 7)))
            node.content = node.content[:i] + bytes([b]) + node.content[i + 1 :]
        elif edit == "int":
            n = draw(st.sampled_from([0, -1, 2**64, -(2**2000), 2**8000]))
            node.tag = 0x02
            node.content = n.to_bytes(
                (n.bit_length() + 8) // 8 or 1, "big", signed=True
            )
        elif edit == "time":
            node.tag = draw(st.sampled_from([0x17, 0x18]))
            node.content = draw(
                st.sampled_from(
                    [
                        b"",
                        b"Z",
                        b"991231235960Z",
                        b"20260230000000Z",
                        b"99991231235959Z",
                    ]
                )
                | st.binary(max_size=16)
            )


@st.composite
def der_documents(draw: st.DrawFn, seed: bytes, max_edits: int = 3) -> bytes:
    """``seed`` (one DER element) after structural edits, re-encoded."""
    tree = parse_der(seed)
    for _ in range(draw(st.integers(1, max_edits))):
        _der_edit(draw, tree)
    return tree.encode()


@st.composite
def der_trees(draw: st.DrawFn, seed: bytes, max_edits: int = 3) -> Tlv:
    """Like :func:`der_documents` but return the edited tree (for re-signing)."""
    tree = parse_der(seed)
    for _ in range(draw(st.integers(1, max_edits))):
        _der_edit(draw, tree)
    return tree


def mixed(
    seed: bytes, structured: Callable[[bytes], st.SearchStrategy[bytes]]
) -> st.SearchStrategy[bytes]:
    """Mostly structure-aware mutants of ``seed``, some raw byte mutants, some noise."""
    return st.one_of(
        structured(seed),
        structured(seed),
        byte_mutations(seed),
        st.binary(max_size=size(256, 4096)),
    )


@st.composite
def resigned_der(
    draw: st.DrawFn,
    seed: bytes,
    sign: Callable[[bytes], bytes],
    max_edits: int = 3,
) -> bytes:
    """A certificate or CRL whose TBS part was edited, then signed again.

    ``seed`` is ``SEQUENCE { tbs, signatureAlgorithm, signatureValue }``; ``sign``
    signs the new TBS bytes with the issuer's key, so the signature stays valid and
    the edit reaches the fields a verifier reads only after checking it.
    """
    tree = parse_der(seed)
    assert tree.children is not None
    tbs = tree.children[0]
    for _ in range(draw(st.integers(1, max_edits))):
        _der_edit(draw, tbs)
    new_tbs = tbs.encode()
    signature = Tlv(0x03, b"\x00" + sign(new_tbs))
    return Tlv(0x30, children=[tbs, tree.children[1], signature]).encode()


# -- CSV -----------------------------------------------------------------------------

_CSV_EDITS = ("cell", "cell", "huge", "drop-cell", "add-cell", "drop-row", "repeat-row")
_ENCODINGS = ("utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252")


@st.composite
def csv_documents(
    draw: st.DrawFn,
    seed: bytes,
    cells: st.SearchStrategy[str],
    max_edits: int = 4,
) -> bytes:
    """``seed`` (UTF-8 CSV with a header) after a few table and text edits.

    ``cells`` draws the odd values a cell is replaced with (the caller knows which
    values reach the fields behind the CSV syntax: dates, ids, numbers).
    """
    rows = list(csv.reader(io.StringIO(seed.decode("utf-8-sig"), newline="")))
    for _ in range(draw(st.integers(1, max_edits))):
        r = draw(st.integers(0, len(rows) - 1))
        row = rows[r]
        c = draw(st.integers(0, max(len(row) - 1, 0)))
        edit = draw(st.sampled_from(_CSV_EDITS))
        if edit == "cell" and row:
            row[c] = draw(st.one_of(cells, _ODD_TEXT, st.text(max_size=12)))
        elif edit == "huge" and row:
            row[c] = draw(st.sampled_from(["x", '"', ",", "\n", "9"])) * draw(
                st.sampled_from([4097, size(5000, 140_000)])
            )
        elif edit == "drop-cell" and row:
            del row[c]
        elif edit == "add-cell":
            row.insert(c, draw(cells))
        elif edit == "drop-row" and len(rows) > 1:
            del rows[r]
        elif edit == "repeat-row":
            rows.insert(r, list(row))
    out = io.StringIO()
    newline = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    if draw(st.booleans()):
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=newline).writerows(rows)
    else:
        csv.writer(out, lineterminator=newline).writerows(rows)
    text = out.getvalue()
    if draw(st.integers(0, 5)) == 0:  # a stray quote or separator
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(st.sampled_from(['"', ",", "\x00", "\r"])) + text[pos:]
    encoding = draw(st.sampled_from(_ENCODINGS))
    errors = "surrogatepass" if encoding.startswith("utf-8") else "replace"
    return text.encode(encoding, errors)
