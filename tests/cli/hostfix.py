"""Real things on this machine for the tests of `cloudya monitor` and `cloudya diagnose`:
an nginx of the test's own (Debian's package: its own config, port, pid file and logs in the
test's folder) and a small tmpfs the test fills. Nothing here is faked: the commands under
test read /proc, statvfs and the logs as they would on any host."""
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from nginx_local import NGINX, LocalNginx, nginx_pids  # noqa: E402,F401 (nginx_pids: for tests)


class Nginx(LocalNginx):
    """LocalNginx whose failures fail the test."""

    def __init__(self, tmp_path):
        if not os.access(NGINX, os.X_OK):
            pytest.fail("nginx is not installed (scripts/deps.sh test installs it)",
                        pytrace=False)
        super().__init__(tmp_path)

    def start(self):
        try:
            return super().start()
        except RuntimeError as e:
            pytest.fail(str(e), pytrace=False)


@pytest.fixture
def nginx(tmp_path):
    n = Nginx(tmp_path)
    yield n
    n.stop()


def no_foreign_nginx(mine=None):
    """Skips the test when an nginx that is not the test's runs: the machine's own nginx
    would rightly be reported as running."""
    mine = set(mine or [])
    other = [p for p in nginx_pids() if p not in mine]
    if other:
        pytest.skip("an nginx not started by this test runs here (pids %s)" % other)


@pytest.fixture
def full_tmpfs(tmp_path):
    """A 4 MiB tmpfs mounted in the test's folder and filled to the last block; root only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = str(tmp_path / "full-fs")
    os.makedirs(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % p.stderr.strip())
    try:
        subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(mnt, "fill"), "bs=64k"],
                       capture_output=True)
        yield mnt
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
