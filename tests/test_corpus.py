import bz2
import gzip
import http.server
import io
import lzma
import os
import tarfile
import threading
import zipfile

import pytest
from conftest import shared

from pixie_jax.data import corpus, download


def test_normalise_follows_text8_rules():
    assert corpus.normalise("Hello, World! It's 42°C in Zürich.") == "hello world it s four two c in zurich"
    assert corpus.normalise("  A\tb\n\nC--d  ") == "a b c d"
    assert corpus.normalise("1984") == "one nine eight four"
    assert corpus.normalise("") == ""


def _first_books(n):
    path = shared("gutenberg8", "gutenberg8_raw_books.tar.xz")
    books = []
    with tarfile.open(path, "r|xz") as tar:
        for member in tar:
            if member.isfile():
                books.append((member.name, tar.extractfile(member).read()))
                if len(books) == n:
                    break
    return books


def test_normaliser_reproduces_gutenberg8_from_raw_books():
    """gutenberg8 starts with its first two books (MANIFEST order), each normalised and joined with spaces."""
    books = _first_books(2)
    expected = "".join(
        " " + corpus.normalise(corpus.strip_gutenberg_boilerplate(raw.decode("utf-8", "replace"))) for _, raw in books
    )
    with lzma.open(shared("gutenberg8", "gutenberg8.xz"), "rb") as f:
        start = f.read(len(expected)).decode("ascii")
    assert len(expected) > 100_000
    assert start == expected


def test_reads_compressed_files_and_folders(tmp_path):
    text = "The cat sat on the mat.\n"
    (tmp_path / "d").mkdir()
    with gzip.open(tmp_path / "d" / "a.gz", "wt") as f:
        f.write(text)
    with lzma.open(tmp_path / "d" / "b.xz", "wt") as f:
        f.write(text)
    with bz2.open(tmp_path / "d" / "c.bz2", "wt") as f:
        f.write(text)
    (tmp_path / "d" / "e.txt").write_text(text)
    one = "the cat sat on the mat"
    assert corpus.load_corpus(tmp_path / "d" / "a.gz") == one
    assert corpus.load_corpus(tmp_path / "d") == " ".join([one] * 4)


@pytest.mark.parametrize("block_bytes", [7, 64, 1 << 20])
def test_streamed_pieces_end_on_token_boundaries(tmp_path, block_bytes):
    """Pieces read in blocks of any size join to the whole normalised text: no token is cut, none merged,
    multi-byte characters and a .zip's members included."""
    raw = "Über café déjà-vu, 42 naïve\nlines\tand  tabs " * 20
    (tmp_path / "a.txt").write_text(raw, encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as zf:
        zf.writestr("one", "alpha beta")
        zf.writestr("two", "gamma")
    whole = corpus.normalise(raw)
    pieces = list(corpus.iter_corpus(tmp_path / "a.txt", block_bytes=block_bytes))
    assert " ".join(pieces) == whole and all(p == p.strip() and p for p in pieces)
    assert " ".join(corpus.iter_corpus(tmp_path / "b.zip", block_bytes=block_bytes)) == "alpha beta gamma"
    assert corpus.read_file(tmp_path / "b.zip") == "alpha beta gamma"


def test_a_bad_byte_in_a_later_block_names_its_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good words here\n" * 40 + b"bad \xff byte\n")
    with pytest.raises(corpus.CorpusError, match=r"bad.txt: line 41 is not valid UTF-8"):
        list(corpus.iter_corpus(bad, block_bytes=100))
    cut = tmp_path / "cut.txt"
    cut.write_bytes(b"good words\ncut \xc3")  # the file ends inside a two-byte character
    with pytest.raises(corpus.CorpusError, match=r"cut.txt: line 2 is not valid UTF-8 \(unexpected end of data\)"):
        corpus.load_corpus(cut)


def test_bad_input_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine line\nbad \xff\xfe bytes\n")
    with pytest.raises(corpus.CorpusError, match=r"bad.txt: line 2 .*not valid UTF-8"):
        corpus.load_corpus(bad)
    assert corpus.load_corpus(bad, errors="replace") == "fine line bad bytes"
    empty = tmp_path / "empty.txt"
    empty.write_text("!!! ... --- ?\n")
    with pytest.raises(corpus.CorpusError, match="empty.txt: the corpus is empty"):
        corpus.load_corpus(empty)
    with pytest.raises(corpus.CorpusError, match="no such file"):
        corpus.load_corpus(tmp_path / "missing.txt")


def test_bundled_corpus_is_text8_form():
    text = corpus.load_corpus("bundled")
    assert len(text.split()) > 3_000_000
    assert set(text[:100_000]) <= set("abcdefghijklmnopqrstuvwxyz ")


# ---------------------------------------------------------------- text8 download against a local server
class _Server:
    def __init__(self, payload: bytes):
        self.payload, self.requests = payload, 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(server.payload)))
                self.end_headers()
                self.wfile.write(server.payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/text8.zip"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _zip(member="text8", text=b" anarchism originated as a term"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, text)
    return buf.getvalue(), len(text)


@pytest.fixture
def server():
    servers = []

    def make(payload):
        servers.append(_Server(payload))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def test_text8_downloads_once_and_verifies(tmp_path, server):
    payload, n = _zip()
    srv = server(payload)
    path = corpus.text8_path(tmp_path, url=srv.url, expected_bytes=len(payload), member_bytes=n, progress=False)
    assert path.read_bytes() == payload and srv.requests == 1
    assert (tmp_path / "text8.zip.sha256").read_text().split()[0] == download.sha256_of(path)
    again = corpus.text8_path(tmp_path, url=srv.url, expected_bytes=len(payload), member_bytes=n, progress=False)
    assert again == path and srv.requests == 1
    assert corpus.read_file(path) == " anarchism originated as a term"
    # a cached copy that changed is reported, not used
    path.write_bytes(payload[:-3] + b"xyz")
    with pytest.raises(download.DownloadError, match="corrupt.*delete"):
        corpus.text8_path(tmp_path, url=srv.url, expected_bytes=len(payload), member_bytes=n, progress=False)


@pytest.mark.parametrize("case", ["wrong size", "bad zip", "wrong member"])
def test_failed_text8_download_leaves_nothing(tmp_path, server, case):
    payload, n = _zip("other" if case == "wrong member" else "text8")
    if case == "bad zip":
        payload = b"PK" + bytes(len(payload) - 2)
    expected = len(payload) + (1 if case == "wrong size" else 0)
    srv = server(payload)
    with pytest.raises(download.DownloadError, match="Nothing was kept"):
        corpus.text8_path(tmp_path, url=srv.url, expected_bytes=expected, member_bytes=n, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_the_parts_of_killed_downloads_are_removed_by_the_next(tmp_path, server):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".text8.zip.part-{dead.stdout.strip()}"  # a process that has exited
    stale.write_bytes(b"half a download")
    live = tmp_path / f".text8.zip.part-{os.getppid()}"  # a live process: its download is left alone
    live.write_bytes(b"in progress")
    payload, n = _zip()
    corpus.text8_path(tmp_path, url=server(payload).url, expected_bytes=len(payload), member_bytes=n, progress=False)
    assert not stale.exists() and live.exists()


def test_unreachable_server_says_what_to_do(tmp_path):
    with pytest.raises(download.DownloadError, match="check the network"):
        corpus.text8_path(tmp_path, url="http://127.0.0.1:9/text8.zip", progress=False)
    assert list(tmp_path.iterdir()) == []
