"""Read a wheel's METADATA over HTTP range requests, without downloading the wheel.

zipfile reads the end-of-central-directory record, the central directory and
then one member; `RangeFile` fetches just those bytes, in blocks.
"""

from __future__ import annotations

import io
import re
import zipfile

from aligner.know.fetch import FetchError as IndexFetchError

BLOCK = 64 * 1024
MAX_FETCH = 8 * 1024 * 1024  # more than METADATA ever needs; a guard against odd servers
_TOTAL = re.compile(r"bytes \d+-\d+/(\d+)")


class RangeFile(io.RawIOBase):
    def __init__(self, client, url: str):
        self.client, self.url = client, url
        self.blocks = {}
        self.fetched = 0
        self.pos = 0
        tail = self._get(f"bytes=-{BLOCK}")
        total = _TOTAL.match(tail.headers.get("Content-Range", ""))
        if tail.status_code != 206 or not total:
            raise IndexFetchError(f"{url}: the server does not answer range requests")
        self.size = int(total.group(1))
        start = self.size - len(tail.content)
        self._store(start, tail.content)

    def _get(self, byte_range: str):
        r = self.client.request(self.url, {"Range": byte_range})
        self.fetched += len(r.content)
        if self.fetched > MAX_FETCH:
            raise IndexFetchError(f"{self.url}: reading METADATA took over {MAX_FETCH} bytes")
        return r

    def _store(self, start: int, data: bytes) -> None:
        for k in range(0, len(data), BLOCK):
            if (start + k) % BLOCK == 0:
                self.blocks[(start + k) // BLOCK] = data[k:k + BLOCK]
        # the tail may not start on a block boundary: keep it whole as well
        self.tail_start, self.tail = start, data

    def _block(self, n: int) -> bytes:
        if n not in self.blocks:
            lo = n * BLOCK
            if lo >= self.tail_start:
                return self.tail[lo - self.tail_start: lo - self.tail_start + BLOCK]
            hi = min(self.size, lo + BLOCK) - 1
            r = self._get(f"bytes={lo}-{hi}")
            if r.status_code != 206:
                raise IndexFetchError(f"{self.url}: range request answered {r.status_code}")
            self.blocks[n] = r.content
        return self.blocks[n]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self.pos + n)
        out = []
        while self.pos < end:
            block = self._block(self.pos // BLOCK)
            off = self.pos % BLOCK
            piece = block[off: off + (end - self.pos)]
            if not piece:
                break
            out.append(piece)
            self.pos += len(piece)
        return b"".join(out)

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def read_metadata(client, url: str) -> str:
    f = RangeFile(client, url)
    try:
        with zipfile.ZipFile(f) as zf:
            names = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
            if len(names) != 1:
                raise IndexFetchError(f"{url}: no single .dist-info/METADATA in the wheel")
            return zf.read(names[0]).decode("utf-8")
    except zipfile.BadZipFile as exc:
        raise IndexFetchError(f"{url}: not a readable wheel ({exc})") from None
