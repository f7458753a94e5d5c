"""mock-psp as pip installs it: one wheel, built from a clean copy of the tree, installed
into a fresh virtualenv, then used from a user's project that has packages of its own
with the common names a shop uses (``checkout``, ``scenarios``, ``sdk``, ``test_merchant``).

The fresh virtualenv gets the wheel alone (``--no-deps``); the libraries it depends on
come from this test run's own environment through a ``.pth`` line, which adds that
directory to ``sys.path`` without running what it holds (so no editable install of
the working tree leaks in). The tests check that the code they run is the wheel's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
USERS_OWN_PACKAGES = ("checkout", "scenarios", "sdk", "test_merchant")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    # A clean copy: the build then leaves nothing in the working tree, and no stale build/ leaks in.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
        "test-output", "benchmarks", "scenario-output", "node_modules", "*.db", "*.db-wal", "*.db-shm"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)],
                   check=True, capture_output=True, timeout=300)
    [built] = (work / "dist").glob("mock_psp-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv holding the wheel, and nothing of the working tree."""
    place = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(place)], check=True, timeout=120)
    python = place / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    (site / "zz-test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return place


def _run(venv: Path, *args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS")}
    return subprocess.run([str(venv / "bin" / "python"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _installed_top_level_names(venv: Path) -> set[str]:
    [record] = venv.glob("lib/python*/site-packages/mock_psp-*.dist-info/RECORD")
    names = set()
    for line in record.read_text().splitlines():
        first = line.split(",", 1)[0].split("/", 1)[0]
        if first and not first.endswith(".dist-info") and first != ".." and first != "__pycache__":
            names.add(first.removesuffix(".py"))
    return names


def test_the_wheel_installs_exactly_one_top_level_package(venv):
    assert _installed_top_level_names(venv) == {"mock_psp"}


def test_the_wheel_carries_the_plugin_and_its_data(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_text = archive.read(entry_points).decode()
    catalog = sorted(p.name for p in (ROOT / "mock_psp" / "scenarios" / "catalog").glob("*.yaml"))
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "mock_psp" / "checkout" / "templates").rglob("*.html")}
    assert "[pytest11]\nmock_psp = mock_psp.pytest_plugin" in entry_text
    assert "mock_psp/pytest_plugin.py" in names
    assert "mock_psp/scenarios/schema.json" in names
    assert catalog and {f"mock_psp/scenarios/catalog/{name}" for name in catalog} <= names
    assert "mock_psp/checkout/templates/checkout/pay.html" in templates and templates <= names
    assert "mock_psp/sdk/mock-psp.js" in names
    assert any(n.startswith("mock_psp/test_merchant/templates/") for n in names)
    assert any(n.startswith("mock_psp/dashboard/templates/") for n in names)


def _users_project(tmp_path: Path) -> Path:
    shop = tmp_path / "shop"
    for name in USERS_OWN_PACKAGES:
        (shop / name).mkdir(parents=True)
        (shop / name / "__init__.py").write_text(f'OWNER = "the shop"\nNAME = "{name}"\n')
    (shop / "checkout" / "routes.py").write_text('def basket_total(prices):\n    return sum(prices)\n')
    (shop / "scenarios" / "cli.py").write_text('COMMAND = "the shop\'s own scenarios"\n')
    (shop / "tests").mkdir()
    (shop / "tests" / "test_shop.py").write_text(textwrap.dedent('''
        import checkout
        import mock_psp
        import scenarios
        import sdk
        import test_merchant
        from checkout import routes
        from scenarios import cli


        def test_the_shops_packages_are_its_own():
            assert {m.OWNER for m in (checkout, scenarios, sdk, test_merchant)} == {"the shop"}
            assert routes.basket_total([1, 2]) == 3 and cli.COMMAND == "the shop's own scenarios"


        def test_mock_psp_runs_from_the_installed_wheel():
            assert "site-packages" in mock_psp.__file__, mock_psp.__file__


        def test_a_payment_against_the_plugins_provider(psp_namespace):
            reply = psp_namespace.api("hyperswitch").post("/payments", json={
                "amount": 1500, "currency": "USD", "confirm": True, "payment_method": "card",
                "payment_method_data": {"card": {"card_number": "4242424242424242", "card_exp_month": "12",
                                                 "card_exp_year": "2035", "card_holder_name": "Ann",
                                                 "card_cvc": "123"}}})
            assert reply.status_code == 200 and reply.json()["status"] == "succeeded"


        def test_the_plugins_test_merchant_takes_an_order(psp_merchant):
            order = psp_merchant.create_order(1450, card="4242424242424242")
            assert psp_merchant.order(order["id"])["state"] == "paid"
    '''))
    return shop


def test_the_plugin_works_in_a_project_with_its_own_checkout_scenarios_sdk_and_test_merchant(venv, tmp_path):
    shop = _users_project(tmp_path)
    result = _run(venv, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=shop)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout


def test_the_command_runs_from_a_folder_with_a_scenarios_package(venv, tmp_path):
    shop = _users_project(tmp_path)
    result = _run(venv, "-m", "mock_psp", "scenarios", "list", cwd=shop)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "hs-card-happy-path" in result.stdout
    assert _run(venv, "-m", "mock_psp", "serve", "--help", cwd=shop).returncode == 0
