"""The content hash of every row of a page, the same as `service.content_hash` of its payload.

The hashed text (the payload as sorted-key JSON) is assembled column-wise by Arrow; only the
SHA-256 itself runs per row. A row holding a character JSON must escape beyond `"` and `\\`
(a control character) is hashed from its payload, the way `content_hash` does.
"""

from __future__ import annotations

import hashlib
import json
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from townsquare.ingest.columnar.tables import Page

_quoted = json.encoder.encode_basestring  # as service.content_hash spells keys and values
_CONTROL = r"[\x00-\x1f]"


def row_digests(page: Page) -> list[str]:
    """The content hash of each row's payload, in row order."""
    table = page.table
    if table.num_rows == 0:
        return []
    names = sorted(table.column_names)
    if not names:
        return [_content_hash({})] * table.num_rows
    pieces: list[pa.Scalar | pa.ChunkedArray] = []
    unusual: pa.ChunkedArray | None = None
    for number, name in enumerate(names):
        column = table.column(name)
        odd = pc.match_substring_regex(column, _CONTROL)
        unusual = odd if unusual is None else pc.or_(unusual, odd)
        escaped = pc.replace_substring(pc.replace_substring(column, "\\", "\\\\"), '"', '\\"')
        pieces.append(pa.scalar(("{" if number == 0 else '",') + _quoted(name) + ':"'))
        pieces.append(escaped)
    pieces.append(pa.scalar('"}'))
    texts = pc.binary_join_element_wise(*pieces, "").combine_chunks()
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)[
        texts.offset : texts.offset + len(texts) + 1
    ].tolist()
    data = memoryview(texts.buffers()[2] or b"")
    sha = hashlib.sha256
    digests = [sha(data[start:end]).hexdigest() for start, end in pairwise(offsets)]
    assert unusual is not None
    for index in np.flatnonzero(unusual.to_numpy(zero_copy_only=False)).tolist():
        digests[index] = _content_hash(table.slice(index, 1).to_pylist()[0])
    return digests


def _content_hash(payload: dict[str, str]) -> str:
    """`service.content_hash` of a payload of strings (tests hold the two equal)."""
    text = "{" + ",".join(_quoted(k) + ":" + _quoted(payload[k]) for k in sorted(payload)) + "}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
