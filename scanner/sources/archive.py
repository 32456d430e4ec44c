"""Archive and large-file source: open what a file holds and yield it member by member, streamed, as Blobs
for the pipeline to scan (scanner.pipeline.blobs); this module never calls the engine.

tar (plain, gz, bz2, xz, zstd), zip, and single gz, bz2, xz and zstd streams are recognised by
their first bytes, not their names, and opened to a bounded depth of nesting. Nothing is
extracted to disk: members come in overlapping chunks (scanner.sources.stream), each a Blob with its
place in the member (Blob.part). A zip needs random access, so a zip nested in a stream is spooled
(in memory up to SPOOL_MEMORY).

Archive bombs are stopped by three limits, each reported when hit: the decompression ratio of
any layer, the total bytes decompressed from one file, and the number of members. A corrupt
member, a truncated stream or a bomb is reported as a skip of that member or the rest of that
archive, keeping what was found before it; the scan of everything else goes on.

A finding inside an archive is located as `bundle.tar.gz!inner.zip!logs/app.log` (line numbers
count in the decompressed member).
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from scanner.model import Blob, Provenance, Skip
from scanner.sources.filesystem import SNIFF_BYTES, PrintableRuns, Transcoded, is_binary, unreadable, wide_encoding
from scanner.sources.logs import media_kind
from scanner.sources.stream import CHUNK, OVERLAP, Position, Readable, iter_chunks, read_full

SEP = "!"
SNIFF = 512  # enough for the tar magic at offset 257
_HEAD = max(SNIFF, SNIFF_BYTES)  # read first: enough to tell an archive, a binary and text apart
_TAR_READ = 1 << 20
SPOOL_MEMORY = 64 * 1024 * 1024
RATIO_FLOOR = 8 * 1024 * 1024  # below this much output a high ratio is just a small, repetitive file

COMPRESSORS = ("gzip", "bzip2", "xz", "zstd")


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file on disk may cost, shared by the scan and `redact` (tests/test_bombs.py)."""

    max_depth: int = 5  # containers inside containers
    # decompressed : compressed, per layer and for the whole file against its size on disk, past RATIO_FLOOR
    # (text logs compress 5-20:1; a 6 MB gzip of 2 GiB of text is 344:1)
    max_ratio: int = 200
    max_total: int = 16 * 1024**3  # bytes decompressed from one file on disk
    max_members: int = 200_000  # members of all archives inside one file on disk
    file_seconds: float = 60.0  # time to scan one file on disk (its members included); 0: no limit
    scan_binaries: bool = False  # scan the printable strings of binary files (scanner.sources.filesystem.PrintableRuns)


class ArchiveBomb(Exception):
    pass


class Budget:
    """The limits of one file on disk as it is read: bytes decompressed (against max_total and, past
    RATIO_FLOOR, max_ratio times its size on disk), members, and time. Exceeding one raises ArchiveBomb."""

    def __init__(self, limits: Limits, size: int = 0):
        self.limits, self.size = limits, size
        self.total = 0
        self.members = 0
        self.deadline = time.monotonic() + limits.file_seconds if limits.file_seconds else None

    def take(self, n: int, where: str) -> None:
        self.total += n
        if self.total > self.limits.max_total:
            raise ArchiveBomb(f"archive bomb: more than {self.limits.max_total} bytes decompressed; "
                              f"rest of {where} not scanned")
        if self.size and self.total > RATIO_FLOOR and self.total > self.limits.max_ratio * self.size:
            raise ArchiveBomb(f"archive bomb: {self.total} bytes from a file of {self.size} (ratio over "
                              f"{self.limits.max_ratio}:1); rest of {where} not scanned")
        self.tick(where)

    def tick(self, where: str) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ArchiveBomb(f"time limit: scanning took longer than {self.limits.file_seconds:g} s; "
                              f"rest of {where} not scanned")

    def count_member(self, where: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ArchiveBomb(f"archive bomb: more than {self.limits.max_members} members; "
                              f"rest of {where} not scanned")


@dataclass
class FileRead:
    """What reading one file on disk found besides its blobs: member-level skips and how much was read.
    Complete once its blobs have all been taken (FileBlobs)."""

    size: int = 0  # bytes yielded to be scanned (decompressed)
    files: int = 0  # blobs read: 1, or the archive's members
    skips: list[Skip] = field(default_factory=list)
    archive: bool = False
    streamed: bool = False


def sniff(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head[257:262] == b"ustar":
        return "tar"
    return None


class Prefixed:
    """A stream with bytes already read from it put back in front.

    The head can be a whole small file read at once: it is read through by offset, never re-sliced
    (a decompressor reads it 8 KB at a time, and slicing off each read copied the rest: quadratic)."""

    def __init__(self, head: bytes, fh: Readable):
        self.head, self.pos, self.fh = head, 0, fh

    def read(self, n: int = -1) -> bytes:
        if self.pos >= len(self.head):
            return self.fh.read(n)
        if n is None or n < 0:
            data = self.head[self.pos :] + self.fh.read()
        else:
            data = self.head[self.pos : self.pos + n]
            if len(data) < n:
                data += self.fh.read(n - len(data))
        self.pos += len(data)
        if self.pos >= len(self.head):
            self.head, self.pos = b"", 0  # consumed: let it go
        return data

    def readable(self) -> bool:
        return True


class Counted:
    """Counts the compressed bytes a decompressor consumes."""

    def __init__(self, fh):
        self.fh, self.n = fh, 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.n += len(data)
        return data

    def readable(self) -> bool:
        return True


class Guarded:
    """Decompressed output, checked against the ratio limit of its layer and the file's total budget."""

    def __init__(self, inner, compressed: Callable[[], int], walker: Budget, where: str):
        self.inner, self.compressed, self.walker, self.where = inner, compressed, walker, where
        self.out = 0

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.out += len(data)
        limits = self.walker.limits
        if self.out > RATIO_FLOOR and self.out > limits.max_ratio * max(self.compressed(), 1):
            raise ArchiveBomb(f"archive bomb: compression ratio over {limits.max_ratio}:1 "
                              f"({self.out} bytes from {self.compressed()}); rest of {self.where} not scanned")
        return data

    def readable(self) -> bool:
        return True


def _decompressor(kind: str, fh):
    if kind == "gzip":
        return gzip.GzipFile(fileobj=fh, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(fh)
    if kind == "xz":
        return lzma.LZMAFile(fh)
    return _Zstd(fh)


class TruncatedStream(EOFError):
    """A compressed stream that ends (or breaks) before its end marker."""


class _Zstd:
    """A zstd stream of one or more frames, decompressed as it is read; a stream that ends inside a frame
    raises TruncatedStream (zstandard's stream_reader returned what it had and said nothing)."""

    def __init__(self, fh):
        import zstandard

        self.fh, self.new = fh, zstandard.ZstdDecompressor().decompressobj
        self.obj, self.started, self.buf = self.new(), False, b""

    def read(self, n: int = -1) -> bytes:
        while not self.buf:
            raw = self.fh.read(1 << 17)
            if not raw:
                if self.started and not self.obj.eof:
                    raise TruncatedStream("zstd stream ends inside a frame")
                return b""
            while raw:
                self.started = True
                self.buf += self.obj.decompress(raw)
                raw = b""
                if self.obj.eof:  # the next frame starts in what this one left over
                    raw, self.obj, self.started = self.obj.unused_data, self.new(), False
        if n is None or n < 0:
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        return out

    read1 = read

    def readable(self) -> bool:
        return True


class Salvaged:
    """Decompressed output that ends like a file when its stream breaks (truncated, corrupt), after everything
    decoded before the damage; the break is kept in `error`, for the walker to report once what came before
    it has been scanned. Reads go one decompressor step at a time (read1): a buffered read that fails part way
    drops what it had read."""

    def __init__(self, inner, kind: str, compressed: Callable[[], int]):
        self.inner, self.kind, self.compressed = inner, kind, compressed
        self.out = 0
        self.error: BaseException | None = None
        self.errors = _errors()

    def read(self, n: int = -1) -> bytes:
        if self.error is not None:
            return b""
        try:
            data = self.inner.read1(n if n is not None and n >= 0 else 1 << 20)
        except self.errors as exc:
            text = str(exc) or type(exc).__name__
            self.error = TruncatedStream(f"{self.kind} stream breaks after {self.out} bytes decompressed "
                                         f"from {self.compressed()}: {text}")
            return b""
        self.out += len(data)
        return data

    def readable(self) -> bool:
        return True

    def check(self) -> None:
        """Raise the break, if the stream had one (after what came before it was scanned)."""
        if self.error is not None:
            raise self.error


def _errors() -> tuple[type[BaseException], ...]:
    import zstandard

    return (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, RuntimeError,
            ValueError, NotImplementedError, zstandard.ZstdError)


def _describe(exc: BaseException, what: str) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "end-of-stream" in text or "truncated" in text.lower():
        return f"truncated {what}: {text}"
    return f"corrupt {what}: {text}"


class _Walker(Budget):
    def __init__(self, limits: Limits, out: FileRead, shard: tuple[int, int] = (0, 1), size: int = 0):
        super().__init__(limits, size)
        self.out = out
        self.errors = _errors()
        # Shard k of n scans the file's own members k, k+n, k+2n... (several workers share one big
        # archive); a leaf that is no member of it (a plain .gz) belongs to shard 0.
        self.shard, self.shards = shard
        self.top_members = 0
        self.in_top_member = False

    # -- containers ------------------------------------------------------------------------------
    def visit(self, fh, where: str, head: bytes, depth: int) -> Iterator[Blob]:
        kind = sniff(head)
        if kind is None:
            yield from self.leaf(fh, where, head)
            return
        if depth >= self.limits.max_depth:
            self.out.skips.append(Skip(where, f"archive nested deeper than {self.limits.max_depth} levels"))
            return
        self.out.archive = True
        if kind in COMPRESSORS:
            counted = Counted(Prefixed(head, fh))
            salvaged = Salvaged(_decompressor(kind, counted), kind, lambda: counted.n)
            stream = Guarded(salvaged, lambda: counted.n, self, where)
            inner_head = read_full(stream, SNIFF)
            if sniff(inner_head) == "tar":
                yield from self.tar(Prefixed(inner_head, stream), where, depth, salvaged)
            else:
                # A single compressed file is located by its own name: app.log.gz:LINE.
                yield from self.visit(stream, where, inner_head, depth + 1)
            salvaged.check()
        elif kind == "tar":
            yield from self.tar(Prefixed(head, fh), where, depth)
        else:
            yield from self.zip(fh, where, head, depth)

    def tar(self, fh, where: str, depth: int, salvaged: Salvaged | None = None) -> Iterator[Blob]:
        # Large reads: in stream mode tarfile reads 10 KB at a time, and each small read from a gzip
        # stream re-copies the decompressor's unconsumed input (a 256 MB bundle took 20 s, not 1).
        try:
            yield from self._tar_members(fh, where, depth, salvaged)
        except tarfile.TarError:
            if salvaged is not None:
                salvaged.check()  # tarfile met the end of what the stream recovered: the stream's break says why
            raise

    def _tar_members(self, fh, where: str, depth: int, salvaged: Salvaged | None) -> Iterator[Blob]:
        with tarfile.open(fileobj=fh, mode="r|", bufsize=_TAR_READ) as tf:
            for member in tf:
                if not member.isfile():
                    continue
                name = member.name[2:] if member.name.startswith("./") else member.name
                inner = f"{where}{SEP}{name}"
                self.count_member(where)
                if not self.mine(depth, member.size, inner):
                    continue  # tarfile reads past it
                # The member's bytes straight from tarfile's stream: where the archive is cut short, they
                # end early and what came before is scanned (extractfile's reader raised and dropped the
                # last read, up to the whole member).
                if member.issparse():  # its stored bytes are not its size: tarfile maps them
                    sparse = tf.extractfile(member)
                    if sparse is not None:
                        yield from self.member(sparse, inner, depth)
                    continue
                ef = _Limited(tf.fileobj, member.size)
                yield from self.member(ef, inner, depth)
                while ef.left and ef.read(_TAR_READ):
                    pass  # the rest of a member not read whole (a binary); tarfile would read past it too
                if ef.left:
                    if salvaged is not None:
                        salvaged.check()
                    raise TruncatedStream(f"tar member {name} ends after {member.size - ef.left} of "
                                          f"{member.size} bytes")

    def zip(self, fh, where: str, head: bytes, depth: int) -> Iterator[Blob]:
        spool = None
        if depth == 0 and _seekable(fh):  # the file on disk: random access as it is
            fh.seek(0)
            source = fh
        else:
            spool = source = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
            source.write(head)
            shutil.copyfileobj(fh, source, 1024 * 1024)
            source.seek(0)
        try:
            with zipfile.ZipFile(source) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    inner = f"{where}{SEP}{info.filename}"
                    self.count_member(where)
                    if not self.mine(depth, info.file_size, inner):
                        continue
                    if info.flag_bits & 0x1:
                        self.out.skips.append(Skip(inner, "encrypted archive member", incomplete=True))
                        continue
                    with zf.open(info) as ef:
                        # mypy cannot infer a lambda with a default argument (which binds this member's info)
                        guarded = Guarded(ef, lambda info=info: info.compress_size, self, inner)  # type: ignore[misc]
                        yield from self.member(guarded, inner, depth)
        finally:
            if spool is not None:
                spool.close()

    def mine(self, depth: int, size: int, where: str) -> bool:
        """Whether this shard scans a member of a container at `depth` (0: the file's own members).
        Another shard's member still counts against the decompressed-size budget, by its stated size."""
        if depth or self.shards == 1:
            return True
        index, self.top_members = self.top_members, self.top_members + 1
        if index % self.shards == self.shard:
            return True
        self.take(size, where)
        return False

    def member(self, fh, where: str, depth: int) -> Iterator[Blob]:
        """One member; if it is corrupt or truncated, report it and let the caller go on with the next."""
        top = depth == 0
        self.in_top_member |= top
        try:
            yield from self.visit(fh, where, read_full(fh, SNIFF), depth + 1)
        except ArchiveBomb:
            raise
        except self.errors as exc:
            self.out.skips.append(Skip(where, _describe(exc, "archive member"), incomplete=True))
        finally:
            if top:
                self.in_top_member = False

    # -- leaves ----------------------------------------------------------------------------------
    def leaf(self, fh, where: str, head: bytes) -> Iterator[Blob]:
        if not head:
            return
        if is_binary(head):
            if not self.limits.scan_binaries:
                return  # binary members (images, class files) are not text to scan; not worth a skip each
            fh = PrintableRuns(Prefixed(head, fh))  # their printable strings, at their own offsets
            head = read_full(fh, SNIFF)
        elif (wide := wide_encoding(head)) is not None:
            fh = Transcoded(Prefixed(head, fh), wide)  # UTF-16 or UTF-32 text, scanned as UTF-8
            head = read_full(fh, SNIFF)
        if self.shard and not self.in_top_member:
            return  # not a member of the file's container (a plain .gz): shard 0 scans it
        provenance = Provenance(media=media_kind(where, head))
        source = "archive" if self.out.archive else "file"
        name = where.rsplit(SEP, 1)[-1]
        self.out.files += 1
        chunks = read = 0
        try:
            for c in iter_chunks(fh, head=head):
                yield Blob(c.data, where, source, provenance, name, c)
                chunks, read = chunks + 1, c.offset + c.cut_hi
                if self.out.archive:  # a plain file on disk is no bomb, however large
                    self.take(c.cut_hi - c.cut_lo, where)
                else:
                    self.tick(where)
        except ArchiveBomb:
            raise
        except self.errors:
            self._read(read, chunks)  # what came before the break was scanned
            raise
        self._read(read, chunks)

    def _read(self, size: int, chunks: int) -> None:
        self.out.size += size
        self.out.streamed |= chunks > 1


class FileBlobs:
    """The blobs of one file on disk (or of one stream read once), for the pipeline to scan: a plain text
    file read whole, an archive member by member, a large file in overlapping chunks (Blob.part).

    Iterate it once; then `result` says what else the reading found: a FileRead, or a Skip when the file
    was not read at all (unreadable, binary). Nothing is extracted to disk and no engine is called here
    (tests/test_architecture.py::test_sources_yield_blobs_and_never_call_the_engine)."""

    def __init__(self, blobs: Callable[[FileBlobs], Iterator[Blob]]):
        self.result: FileRead | Skip = FileRead()
        self._blobs = blobs

    def __iter__(self) -> Iterator[Blob]:
        return self._blobs(self)


def read_file(path: str, limits: Limits = Limits(), max_size: int = CHUNK, chunk: int = CHUNK,
              shard: tuple[int, int] = (0, 1)) -> FileBlobs:
    """One file on disk: plain text read whole, an archive member by member, a large file in chunks.

    With shard (k, n), only an archive's members k, k+n, ... are read, or the k-th of n byte ranges
    of a large plain file; a small file is read by shard 0."""
    return FileBlobs(lambda into: _file_blobs(into, path, limits, max_size, chunk, shard))


def _file_blobs(into: FileBlobs, path: str, limits: Limits, max_size: int, chunk: int,
                shard: tuple[int, int]) -> Iterator[Blob]:
    out = into.result
    assert isinstance(out, FileRead)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        into.result = Skip(path, unreadable(exc), incomplete=True)
        return
    with fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            # The head only, at first: a binary file (a library, a compiled module) is skipped unread.
            head = fh.read(_HEAD if size > _HEAD else -1)
        except OSError as exc:
            into.result = Skip(path, unreadable(exc), incomplete=True)
            return
        kind = sniff(head)
        if kind is None and is_binary(head) and not limits.scan_binaries:
            into.result = Skip(path, "binary")
            return
        # Not UTF-16 or UTF-32 text, nor a binary's strings (those are streamed through a filter, in the walker).
        plain = kind is None and not is_binary(head) and wide_encoding(head) is None
        if plain and size > max_size and shard[1] > 1:
            yield from _range(fh, path, head, shard, size, chunk, out)
            return
        if kind is None and shard[0]:
            return  # a small plain file: shard 0 reads it whole
        if plain and size <= max_size:
            if len(head) == _HEAD:
                try:
                    head = _rest(fh, head, size)
                except OSError as exc:
                    into.result = Skip(path, unreadable(exc), incomplete=True)
                    return
            # A file small enough to read in one go: the common case, kept as cheap as before.
            out.size, out.files = len(head), 1
            yield Blob(head, path, "file", Provenance(media=media_kind(path, head[:SNIFF])))
            return
        walker = _Walker(limits, out, shard, size)
        try:
            yield from walker.visit(fh, path, head, 0)
        except ArchiveBomb as exc:
            out.skips.append(Skip(path, str(exc), incomplete=True))
        except walker.errors as exc:
            what = "archive; the rest of it was not scanned" if out.archive else "file"
            out.skips.append(Skip(path, _describe(exc, what), incomplete=True))


def read_stream(fh: Readable, name: str, limits: Limits = Limits()) -> FileBlobs:
    """A stream that can be read once (standard input), in bounded memory: text in chunks, an archive
    member by member, as read_file reads a file (tests/test_stream.py)."""
    return FileBlobs(lambda into: _stream_blobs(into, fh, name, limits))


def _stream_blobs(into: FileBlobs, fh: Readable, name: str, limits: Limits) -> Iterator[Blob]:
    out = into.result
    assert isinstance(out, FileRead)
    walker = _Walker(limits, out)
    try:
        yield from walker.visit(fh, name, read_full(fh, _HEAD), 0)
    except ArchiveBomb as exc:
        out.skips.append(Skip(name, str(exc), incomplete=True))
    except walker.errors as exc:
        what = "archive; the rest of it was not scanned" if out.archive else "stream"
        out.skips.append(Skip(name, _describe(exc, what), incomplete=True))


def _seekable(fh) -> bool:
    try:
        return bool(fh.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _rest(fh, head: bytes, size: int) -> bytes:
    """The whole file, its head already read. A large file is read again from the start: appending its
    rest to the head would copy all of it once more (32 MB per log file), where reading the head twice
    costs 8 KB."""
    if size >= _REREAD_FROM and fh.seekable():
        fh.seek(0)
        return fh.read()
    return head + fh.read()


_REREAD_FROM = 1 << 20


def _range(fh, path: str, head: bytes, shard: tuple[int, int], size: int, chunk: int,
           out: FileRead) -> Iterator[Blob]:
    """The k-th of n byte ranges of a large plain file, in chunks that own the matches starting in the
    range, with the file's own line numbers (the newlines before it are counted first)."""
    k, n = shard
    lo, hi = size * k // n, size * (k + 1) // n
    begin = max(0, lo - OVERLAP // 2)
    provenance = Provenance(media=media_kind(path, head))
    out.files, out.streamed = (1 if k == 0 else 0), size > chunk  # as read whole
    owned_from = begin + (OVERLAP // 2 if begin else 0)  # `size` counts the owned range only
    try:
        start = _position(fh, begin)
        fh.seek(begin)
        reader = _Limited(fh, min(size, hi + OVERLAP // 2) - begin)
        for c in iter_chunks(reader, chunk, start=start, stop=hi if k < n - 1 else None):
            yield Blob(c.data, path, "file", provenance, part=c)
            out.size = c.offset + c.cut_hi - owned_from
    except OSError as exc:
        out.skips.append(Skip(path, unreadable(exc), incomplete=True))


def _position(fh, offset: int) -> Position:
    """Line number and line start at an offset of a file, counted by reading up to it."""
    fh.seek(0)
    line, line_start, done = 1, 0, 0
    while done < offset:
        block = fh.read(min(CHUNK, offset - done))
        if not block:
            break
        if newlines := block.count(b"\n"):
            line += newlines
            line_start = done + block.rfind(b"\n") + 1
        done += len(block)
    return Position(offset, line, line_start)


class _Limited:
    """The first n bytes of a stream."""

    def __init__(self, fh, n: int):
        self.fh, self.left = fh, n

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.fh.read(n) if n else b""
        self.left -= len(data)
        return data
