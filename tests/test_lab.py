"""`make lab`: JupyterLab serves the notebooks with this environment's kernel and widgets.

The server is started as `make lab` starts it (``jupyter lab --notebook-dir=notebooks``), but
headless: no browser, a free local port, a random token, its runtime files in a temporary
folder. Through its REST API the test lists ``notebooks/``, opens a notebook, checks that the
``python3`` kernel is this environment's Python and that the ipywidgets front-end extension is
installed, starts a kernel, runs code in it over the kernel's websocket (kubesim and
ipywidgets import, and a widget is created), and shuts the server down through the API.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab")
websocket = pytest.importorskip("tornado.websocket")

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
START_TIMEOUT_S = 60  # a cold start on a busy 2-core machine; about 3 s when idle


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lab:
    def __init__(self, port: int, token: str) -> None:
        self.base, self.token = f"http://127.0.0.1:{port}", token

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"token {self.token}", "Content-Type": "application/json"})
        # no proxy: the server is on this machine's loopback address
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=30) as resp:
                raw = resp.read()
                kind = resp.headers.get("Content-Type", "")
                return resp.status, json.loads(raw) if "json" in kind and raw else raw.decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    def get(self, path: str) -> object:
        status, body = self.request("GET", path)
        assert status == 200, f"GET {path}: {status} {body}"
        return body


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime), KUBESIM_WIDGETS="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    env.pop("MPLBACKEND", None)  # what a person's `make lab` has: the kernel's inline backend
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--notebook-dir={NB_DIR}",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False"]
    if os.geteuid() == 0:  # as `make lab` does for root (CI runs as root)
        cmd.append("--allow-root")
    log = runtime / "lab.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    server = Lab(port, token)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if server.request("GET", "/api/status")[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"jupyter lab did not start (exit {proc.poll()}):\n{log.read_text()[-3000:]}")
        time.sleep(0.25)
    try:
        yield server
        # a clean shutdown, through the API, as the Lab's File > Shut Down does
        assert server.request("POST", "/api/shutdown")[0] in (200, 202, 204)
        assert proc.wait(timeout=30) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_lab_lists_and_opens_the_notebooks(lab):
    listing = lab.get("/api/contents")  # the server's root is notebooks/
    names = {item["name"] for item in listing["content"]}
    expected = {p.name for p in NB_DIR.glob("*.ipynb")}
    assert expected and expected <= names, f"{sorted(expected - names)} not listed"
    first = min(expected)
    nb = lab.get(f"/api/contents/{first}?content=1")
    assert nb["type"] == "notebook" and nb["format"] == "json"
    cells = nb["content"]["cells"]
    assert cells and "What you will learn" in "".join(cells[0]["source"])
    assert nb["content"]["metadata"]["kernelspec"]["name"] == "python3"


def test_lab_has_this_environments_kernel_and_the_widgets_extension(lab):
    spec = lab.get("/api/kernelspecs")["kernelspecs"]["python3"]["spec"]
    kernel_python = Path(spec["argv"][0])
    assert kernel_python.parent.resolve() == Path(sys.executable).parent.resolve(), (
        f"the python3 kernel runs {kernel_python}, not this environment's {sys.executable}")
    page = lab.get("/lab")
    assert "@jupyter-widgets/jupyterlab-manager" in page, "the ipywidgets extension is not installed"


def _execute(lab: Lab, kernel_id: str, code: str, timeout: float = 60) -> tuple[str, list[str]]:
    """Run ``code`` in the kernel over its websocket: (reply status, stdout and result texts)."""

    async def run() -> tuple[str, list[str]]:
        url = lab.base.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels?token={lab.token}"
        conn = await websocket.websocket_connect(url)
        msg_id = uuid.uuid4().hex
        conn.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                       "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        texts: list[str] = []
        status, idle = None, False
        # the reply comes on the shell channel and the outputs on iopub, in no set order: done
        # when both the reply and iopub's "idle" for this request have come
        while status is None or not idle:
            raw = await conn.read_message()
            assert raw is not None, "the kernel's websocket closed"
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream":
                texts.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                texts.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                texts.append("\n".join(content["traceback"]))
            elif kind == "status":
                idle = content["execution_state"] == "idle"
            elif kind == "execute_reply":
                status = content["status"]
        conn.close()
        return status, texts

    return asyncio.run(asyncio.wait_for(run(), timeout))


def test_lab_runs_a_kernel_with_kubesim_and_widgets(lab):
    status, kernel = lab.request("POST", "/api/kernels", {"name": "python3", "path": ""})
    assert status == 201, kernel
    try:
        code = ("import ipywidgets, simulator, sys\n"
                "w = ipywidgets.IntSlider(value=4, min=1, max=8, description='cores')\n"
                "print(sys.executable, w.value, type(w).__name__)")
        reply, texts = _execute(lab, kernel["id"], code)
        assert reply == "ok", "".join(texts)
        out = "".join(texts).split()
        assert out[1:] == ["4", "IntSlider"], texts
        assert Path(out[0]).parent.resolve() == Path(sys.executable).parent.resolve()
        state = lab.get(f"/api/kernels/{kernel['id']}")["execution_state"]
        assert state in ("idle", "busy"), state
    finally:
        assert lab.request("DELETE", f"/api/kernels/{kernel['id']}")[0] == 204
