"""`--offline` (and ALIGNER_OFFLINE=1) opens no socket: every command runs in a real process whose internet
sockets and name lookups fail and are logged (tests/support/hooks/sitecustomize.py). A control run without
--offline shows that the guard does catch a fetch."""

from tests.support import processes

COMMANDS = [
    ["check", "--no-cache"],
    ["lock", "--allow-insecure"],
    ["lock", "--check", "--allow-insecure"],
    ["fix", "--allow-insecure"],
    ["fix", "--apply", "--allow-insecure"],
    ["explain", "vllm", "--allow-insecure"],
    ["graph", "--allow-insecure"],
    ["bake", "--print"],
    ["verify", "--resolve"],
    ["rules", "show", "vllm", "--online"],
]


def test_offline_never_opens_a_socket(served_upstream, tmp_path):
    repo, server, url = served_upstream
    online = processes.run("lock", "--allow-insecure", cwd=repo)  # the upstream reaches the cache
    assert online.returncode == 0, online.stderr
    log = tmp_path / "sockets.log"
    guard = {"ALIGNER_TEST_NO_SOCKETS": str(log)}
    hits = dict(server.hits)
    for argv in COMMANDS:
        result = processes.run(*argv, "--offline", cwd=repo, extra=guard)
        said = f"{' '.join(argv)}: exit {result.returncode}\n{result.stderr[-1500:]}"
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, said
        assert not log.exists(), f"{' '.join(argv)} --offline opened a socket: {log.read_text()}"
    for argv in (["report"], ["lock", "--check", "--allow-insecure"]):
        result = processes.run(*argv, cwd=repo, extra=dict(guard, ALIGNER_OFFLINE="1"))
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    assert not log.exists()
    assert server.hits == hits, "the server was asked nothing"


def test_offline_says_how_old_its_data_is_and_what_it_lacks(served_upstream, tmp_path):
    repo, server, url = served_upstream
    guard = {"ALIGNER_TEST_NO_SOCKETS": str(tmp_path / "sockets.log")}
    missing = processes.run("lock", "--offline", "--allow-insecure", cwd=repo, extra=guard)
    assert missing.returncode == 2
    assert f"error: {url}: not in the cache, and --offline forbids the network" in missing.stderr
    assert processes.run("lock", "--allow-insecure", cwd=repo).returncode == 0
    cached = processes.run("lock", "--check", "--offline", "--allow-insecure", cwd=repo, extra=guard)
    assert cached.returncode == 0, cached.stderr
    assert f"warning: --offline: using the upstream {url} cached " in cached.stderr
    rules = processes.run("rules", "show", "vllm", "--online", "--offline", cwd=repo, extra=guard)
    assert rules.returncode == 0 and "showing the snapshot shipped with aligner instead" in rules.stderr
    build = processes.run("verify", "--build", "--offline", cwd=repo, extra=guard)
    assert build.returncode == 2 and "verify --build needs the network" in build.stderr
    assert not (tmp_path / "sockets.log").exists()


def test_the_guard_catches_a_fetch_without_offline(served_upstream, tmp_path):
    repo, server, url = served_upstream
    assert processes.run("lock", "--allow-insecure", cwd=repo).returncode == 0
    log = tmp_path / "sockets.log"
    result = processes.run("lock", "--check", "--allow-insecure", cwd=repo,
                           extra={"ALIGNER_TEST_NO_SOCKETS": str(log), "ALIGNER_HTTP_TIMEOUT": "1"})
    assert log.exists() and "socket family" in log.read_text()
    assert result.returncode == 0 and "using the upstream cached" in result.stderr, result.stderr
