"""The floor: what a hand-written update check would do, to measure the portal against.

A plain WSGI function (psycopg, no Django) serving GET /api/v1/sites/<id>/updates: it
authenticates the `Authorization: Site <token>` header (SHA-256 digest, unrevoked, as
core/tokens.py stores it: one indexed lookup) and runs ONE SQL query: per running installation of the site,
a LATERAL join picks the newest released version above the installed one by the stored
sort key (release channel or the installation's own; a private listing only on an allowed
site), with the open consent request and the scheduled upgrade beside it. It answers the
portal's JSON fields, including whether consent is needed and why, from a simplified rule:
new scopes and their sensitivity (manual, connect, forge), free -> paid, an OCP major upgrade,
automatic updates off. Host compatibility, sandboxes, OCP tags and app-group components are
left out: the floor is a lower bound on the work, not a second implementation.

Run: DATABASE_URL=postgres://... gunicorn -w 1 -b 127.0.0.1:8311 bench.floor:application
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from urllib.parse import urlsplit

import orjson
import psycopg

RELEASED = ("published", "superseded")
NOT_RUNNING = ("deactivated", "disabled", "uninstalled")
SENSITIVITY_NAMES = {1: "low", 2: "medium", 3: "high", 4: "critical"}
PATH = re.compile(r"^/api/v1/sites/(\d+)/updates$")

TOKEN_SQL = """
SELECT s.id, s.auto_update FROM upgrades_sitetoken t JOIN upgrades_site s ON s.id = t.site_id
WHERE t.digest = %s AND t.revoked_at IS NULL
"""

UPDATES_SQL = """
SELECT i.id, l.key, l.name, l.scheme, i.state, i.granted_scopes, i.license,
       iv.number, iv.build_number, iv.state,
       c.id, c.number, c.build_number, c.channel, c.update_notes, c.scopes, c.pricing,
       r.id, r.to_version_id, u.to_version_id, u.due_at
FROM upgrades_installation i
JOIN marketplace_listing l ON l.id = i.listing_id
JOIN versions_version iv ON iv.id = i.version_id
LEFT JOIN LATERAL (
    SELECT v.id, v.number, v.build_number, v.channel, v.update_notes, v.scopes, v.pricing
    FROM versions_version v
    WHERE v.listing_id = i.listing_id AND v.state IN ('published', 'superseded')
      AND v.sort_key > iv.sort_key AND (v.channel = 'release' OR v.channel = iv.channel)
      AND (l.visibility <> 'private' OR EXISTS (
          SELECT 1 FROM marketplace_listing_allowed_sites a WHERE a.listing_id = l.id AND a.site_id = i.site_id))
    ORDER BY v.sort_key DESC
    LIMIT 1
) c ON true
LEFT JOIN upgrades_upgraderequest r ON r.installation_id = i.id AND r.state = 'pending'
LEFT JOIN upgrades_upgrade u ON u.installation_id = i.id AND u.state = 'scheduled'
WHERE i.site_id = %s AND i.state NOT IN ('deactivated', 'disabled', 'uninstalled')
ORDER BY l.key
"""

_connection: psycopg.Connection | None = None
_scopes: dict[str, int] | None = None


def _db() -> psycopg.Connection:
    global _connection, _scopes
    if _connection is None or _connection.closed:
        url = urlsplit(os.environ["DATABASE_URL"])
        _connection = psycopg.connect(
            host=url.hostname or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password,
            dbname=url.path.lstrip("/"),
            autocommit=True,
        )
        # The scope catalogue changes rarely: read once per process, as the portal caches it.
        _scopes = dict(_connection.execute("SELECT name, sensitivity FROM marketplace_scope").fetchall())
    return _connection


def _reasons(scheme, granted, license_, installed_number, scopes, pricing, number, auto_update):
    reasons = []
    if scheme in ("manual", "connect", "forge"):
        for scope in sorted(set(scopes or ()) - set(granted or ())):
            level = _scopes.get(scope, 4)
            name = SENSITIVITY_NAMES.get(level, "critical")
            reasons.append(
                {"code": "scope_added", "text": f"new scope {scope} ({name})", "scope": scope, "sensitivity": name}
            )
        if license_ == "free" and pricing == "paid":
            reasons.append({"code": "free_to_paid", "text": "price: free -> paid (the site starts paying for the app)"})
    elif scheme == "ocp":
        before, after = installed_number.split(".")[0], number.split(".")[0]
        if before.isdigit() and after.isdigit() and int(after) > int(before):
            reasons.append({"code": "major_upgrade", "text": f"major upgrade {before}.x -> {after}.x"})
    if not reasons and not auto_update:
        reasons.append({"code": "auto_update_off", "text": "automatic updates are turned off for this site"})
    return reasons


def _answer(start_response, status: str, body: dict) -> list[bytes]:
    data = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def application(environ, start_response):
    match = PATH.match(environ.get("PATH_INFO", ""))
    if environ.get("REQUEST_METHOD") != "GET" or not match:
        return _answer(start_response, "404 Not Found", {"detail": "Not found."})
    parts = environ.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "site":
        return _answer(start_response, "401 Unauthorized", {"detail": "Send Authorization: Site <token>."})
    db = _db()
    site = db.execute(TOKEN_SQL, (hashlib.sha256(parts[1].encode()).hexdigest(),)).fetchone()
    if site is None:
        return _answer(start_response, "401 Unauthorized", {"detail": "Unknown or revoked site token."})
    site_id, auto_update = site
    if site_id != int(match.group(1)):
        return _answer(start_response, "404 Not Found", {"detail": "No such site for this token."})
    items = []
    for row in db.execute(UPDATES_SQL, (site_id,)):
        (pk, key, name, scheme, state, granted, license_, inumber, ibuild, istate,
         cid, cnumber, cbuild, cchannel, cnotes, cscopes, cpricing, rid, rto, uto, udue) = row  # fmt: skip
        update = None
        if cid is not None:
            reasons = _reasons(scheme, granted, license_, inumber, cscopes, cpricing, cnumber, auto_update)
            update = {
                "number": cnumber,
                "build_number": cbuild,
                "coordinates": f"{key}@{cnumber}",
                "channel": cchannel,
                "update_notes": cnotes,
                "consent_required": bool(reasons),
                "reasons": reasons,
                "components": [],
                "request": {"id": rid, "state": "pending"} if rid is not None and rto == cid else None,
                "scheduled_at": udue if uto == cid else None,
            }
        items.append(
            {
                "installation": pk,
                "listing": key,
                "name": name,
                "state": state,
                "installed": {"number": inumber, "build_number": ibuild, "under_test": istate not in RELEASED},
                "update": update,
            }
        )
    return _answer(
        start_response,
        "200 OK",
        {
            "site": site_id,
            "checked_at": dt.datetime.now(dt.UTC),
            "installations": len(items),
            "updates_available": sum(1 for i in items if i["update"]),
            "items": items,
        },
    )
