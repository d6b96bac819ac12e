"""Peliqan's own Python SDK (peliqan 2.18.5) against the emulator.

The emulator runs the `partner` dialect with strict trailing slashes, so
every call the SDK makes must use exactly the paths, methods and answer
shapes Peliqan's SDK expects: a wrong path is an HTML 404, a wrong slash
form a 301 or a 500, a wrong status a PeliqanClientException.

Run by `cargo xtask python-test` (and `cargo xtask test`), which installs
the SDK into a virtualenv and starts the emulator. It reads:

  PELIQAN_EMULATOR_URL     the emulator's base URL
  PELIQAN_PARTNER_TOKEN    its partner JWT
  PELIQAN_CLIENT_ID        its OAuth client id
  PELIQAN_CLIENT_SECRET    its OAuth client secret

Each step asserts on the SDK's answers and records the requests it expects
the emulator to have counted; the last step compares them with
/__emulator/stats exactly, so no call went anywhere else. The closing line
is `python: N passed, M failed[, K skipped]`; the exit code is 1 on any
failure.
"""

import json
import os
import sys
import traceback
import uuid
from collections import Counter

import requests
from peliqan import Peliqan
from peliqan.exceptions import PeliqanClientException

URL = os.environ["PELIQAN_EMULATOR_URL"].rstrip("/")
PARTNER_TOKEN = os.environ["PELIQAN_PARTNER_TOKEN"]
CLIENT_ID = os.environ["PELIQAN_CLIENT_ID"]
CLIENT_SECRET = os.environ["PELIQAN_CLIENT_SECRET"]

# What the emulator should have counted, keyed like /__emulator/stats.
expected = Counter()
# Values one step hands to the next.
ctx = {}


def expect(key, n=1):
    expected[key] += n


def step_add_subaccount():
    pq = Peliqan(jwt=PARTNER_TOKEN, backend_url=URL)
    ctx["pq"] = pq
    ext = "sdk_wood_" + uuid.uuid4().hex[:8]
    created = pq.add_subaccount(
        {"first_name": "Ann", "last_name": "Wood", "email": "ann@wood.test",
         "password": "s3cret-pw"},
        {"company_name": "Wood Solutions", "country": "BE", "company_size": "11-50"},
        external_id=ext,
    )
    expect("POST /api/partner/sub-accounts/")
    assert isinstance(created["id"], int), created
    assert created["external_id"] == ext, created
    assert created["company_name"] == "Wood Solutions", created
    assert created["verified"] is True and created["license"] == "free_trial", created
    assert "s3cret-pw" not in json.dumps(created), "the password was echoed"
    ctx["id"], ctx["ext"] = created["id"], ext


def step_list_subaccounts():
    page = ctx["pq"].list_subaccounts(page=1, per_page=10)
    expect("GET /api/partner/sub-accounts/")
    assert set(page) >= {"count", "next", "previous", "results"}, page
    assert page["count"] >= 1, page
    assert ctx["ext"] in [a["external_id"] for a in page["results"]], page


def step_get_subaccount():
    pq = ctx["pq"]
    for kwargs in ({"external_id": ctx["ext"]}, {"account_id": ctx["id"]},
                   {"external_id": ctx["ext"], "account_id": ctx["id"]}):
        got = pq.get_subaccount(**kwargs)
        expect("GET /api/partner/sub-account/")
        assert got["id"] == ctx["id"] and got["external_id"] == ctx["ext"], (kwargs, got)


def step_unknown_subaccount_is_a_coded_404():
    try:
        ctx["pq"].get_subaccount(external_id="nobody-" + uuid.uuid4().hex[:6])
    except PeliqanClientException as e:
        expect("GET /api/partner/sub-account/")
        assert "status code 404" in e.message, e.message
        assert "no sub-account with external_id" in e.message, e.message
        # The SDK reads the partner envelope's code.
        assert e.code == "not_found", e.error
    else:
        raise AssertionError("an unknown external_id was found")


def step_get_subaccount_token():
    pq = ctx["pq"]
    by_id = pq.get_subaccount_token(account_id=ctx["id"])
    by_ext = pq.get_subaccount_token(external_id=ctx["ext"])
    expect("GET /api/partner/sub-account/identity/", 2)
    for answer in (by_id, by_ext):
        assert isinstance(answer["token"], str) and answer["token"].count(".") == 2, answer
    ctx["token"] = by_id["token"]
    ctx["sub"] = Peliqan(jwt=ctx["token"], backend_url=URL)


def step_list_connections():
    conns = ctx["sub"].list_connections()
    expect("GET /api/servers/")
    assert conns == [], conns


def step_add_query():
    table = ctx["sub"].add_query("deals", "select * from deals")
    expect("POST /api/database/tables/create-sql-query/")
    # add_query's defaults (an `empty` sentinel that is truthy) make it
    # always follow up with two PATCHes of the new table, whose answer it returns.
    expect("PATCH /api/database/tables/{id}/", 2)
    assert isinstance(table["id"], int), table
    assert table["name"] == "deals" and table["table_type"] == "query", table


def step_add_script():
    sub = ctx["sub"]
    script = sub.add_script("Nightly sync", raw_script="print('hello')", run_mode="SHELL",
                            script_type="shell")
    # No group given: the SDK reads the groups and takes the first.
    expect("GET /api/groups/")
    expect("POST /api/interfaces/group/{group_id}/")
    assert isinstance(script["id"], int), script
    assert script["name"] == "Nightly sync" and script["run_mode"] == "SHELL", script
    listed = sub.list_scripts()
    expect("GET /api/interfaces/")
    assert [s["id"] for s in listed] == [script["id"]], listed


def step_subaccount_instance():
    sub = ctx["pq"].get_subaccount_instance(account_id=ctx["id"])
    expect("GET /api/partner/sub-account/identity/")
    expect("GET /api/partner/sub-accounts/{id}/info/")
    assert isinstance(sub.DW_ID, int) and sub.DW_NAME == "dw_%d" % sub.DW_ID, (sub.DW_ID, sub.DW_NAME)


def step_client_credentials_and_renew_on_401():
    # The SDK's other credential: PQ_API_CREDENTIALS with client_id/client_secret.
    os.environ["PQ_API_CREDENTIALS"] = json.dumps(
        {"api_url": URL, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    try:
        pq = Peliqan(backend_url=URL)
    finally:
        del os.environ["PQ_API_CREDENTIALS"]
    first = pq.list_subaccounts()
    expect("POST /api/oauth2/token/")
    expect("GET /api/partner/sub-accounts/")
    assert first["count"] >= 1, first
    revoked = requests.post(URL + "/__emulator/access-tokens/revoke", timeout=10)
    assert revoked.status_code == 200 and revoked.json()["revoked"] == 1, revoked.text
    # The SDK gets a 401, fetches a new token once and retries.
    again = pq.list_subaccounts()
    expect("GET /api/partner/sub-accounts/", 2)
    expect("POST /api/oauth2/token/")
    assert again["count"] == first["count"], again


def step_stats_match_exactly():
    res = requests.get(URL + "/__emulator/stats", timeout=10)
    assert res.status_code == 200, res.text
    counted = res.json()["requests"]
    missing = {k: n for k, n in expected.items() if counted.get(k) != n}
    extra = {k: n for k, n in counted.items() if k not in expected}
    assert not missing and not extra, (
        "stats differ: expected %s, counted %s" % (dict(expected), counted))
    # Every call the SDK made used the slashed form.
    assert all(k.endswith("/") for k in counted), counted


STEPS = [
    step_add_subaccount,
    step_list_subaccounts,
    step_get_subaccount,
    step_unknown_subaccount_is_a_coded_404,
    step_get_subaccount_token,
    step_list_connections,
    step_add_query,
    step_add_script,
    step_subaccount_instance,
    step_client_credentials_and_renew_on_401,
    step_stats_match_exactly,
]


def main():
    info = requests.get(URL + "/__emulator/info", timeout=10).json()
    # Only what this test relies on: the emulator reports more about itself.
    if (info.get("dialect"), info.get("strict_slashes")) != ("partner", True):
        print("FAIL the emulator must run --dialect partner --strict-slashes; it says %s" % info)
        print("python: 0 passed, 1 failed")
        return 1
    passed = failed = 0
    for i, step in enumerate(STEPS):
        name = step.__name__[len("step_"):]
        try:
            step()
        except Exception:  # noqa: BLE001 - report every failure the same way
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
            skipped = len(STEPS) - i - 1
            if skipped:
                print("(the %d later steps depend on this one and were not run)" % skipped)
            print("python: %d passed, %d failed%s" % (
                passed, failed, ", %d skipped" % skipped if skipped else ""))
            return 1
        passed += 1
        print("ok   %s" % name)
    print("python: %d passed, %d failed" % (passed, failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
