"""Reading an upstream pyproject: extras, extras-of-extras, and clear errors."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aligner import upstream
from aligner.errors import InputError

DYNAMO = Path(__file__).parent / "fixtures" / "repos" / "dynamo" / "upstream" / "pyproject.toml"


def test_reads_extras_and_expands_extras_of_extras():
    up = upstream.load(str(DYNAMO))
    assert up.name == "ai-dynamo" and up.requires_python == ">=3.9,<3.13"
    names = lambda reqs: sorted(str(r) for r in reqs)
    vllm = names(up.requirements("vllm"))
    assert "vllm[flashinfer]==0.10.2" in vllm and "nixl<=0.7.0" in vllm
    everything = names(up.requirements("all"))
    assert set(vllm) | set(names(up.requirements("trtllm"))) == set(everything)
    with pytest.raises(KeyError):
        up.requirements("nope")


@pytest.mark.parametrize("text,message", [
    ("[project\nname = 'x'\n", "invalid TOML"),
    ("[tool.x]\na = 1\n", "no [project] table"),
    ("[project]\ndependencies = ['vllm ==> 1']\n", "bad requirement"),
    ("[project]\noptional-dependencies = 3\n", "must be a table"),
])
def test_bad_files(tmp_path, text, message):
    p = tmp_path / "pyproject.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as err:
        upstream.load(str(p))
    assert err.value.path == str(p)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        upstream.load(str(tmp_path / "pyproject.toml"))


class _Server:
    def __init__(self, routes):
        routes_ = routes

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                code, headers, body = routes_(self.path)
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    body = DYNAMO.read_bytes()

    def routes(path):
        if path == "/ok":
            return 200, {}, body
        if path == "/loop":
            return 302, {"Location": "/loop"}, b""
        if path == "/big":
            return 200, {}, b"#" * (upstream.MAX_BYTES + 10)
        return 404, {}, b"no"

    s = _Server(routes)
    yield s
    s.close()


def test_url_reads_with_allow_insecure_and_refuses_plain_http_otherwise(server):
    with pytest.raises(InputError, match="refusing a plain http"):
        upstream.load(server.url + "/ok")
    assert upstream.load(server.url + "/ok", allow_insecure=True).name == "ai-dynamo"


@pytest.mark.parametrize("path,message", [("/missing", "HTTP 404"), ("/loop", "redirect loop"),
                                          ("/big", "larger than")])
def test_url_faults(server, path, message):
    with pytest.raises(InputError, match=message):
        upstream.load(server.url + path, allow_insecure=True)
