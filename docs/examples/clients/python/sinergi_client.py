#!/usr/bin/env python3
"""A Sinergi client in Python: query, page through a list, register and update a beneficiary
with optimistic concurrency (expectedVersion), and follow the case-event subscription.

    python3 -m pip install -r requirements.txt        # websockets, for the subscription
    SINERGI_URL=http://127.0.0.1:8080 SINERGI_TOKEN=… python3 sinergi_client.py

The token needs beneficiary:read, beneficiary:write, pii:read and events:subscribe (the
development token printed by `cargo run -p sinergi-api` has them). Python 3.9+.
"""

import asyncio
import json
import os
import random
import sys
import urllib.error
import urllib.request
import uuid

import websockets

URL = os.environ.get("SINERGI_URL", "http://127.0.0.1:8080").rstrip("/")
TOKEN = os.environ["SINERGI_TOKEN"]


class GraphQLError(Exception):
    pass


def graphql(query, variables=None, idempotency_key=None):
    """POSTs one operation; returns `data`, raises GraphQLError on top-level errors."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}",
               "X-Purpose": "python-client-example"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{URL}/graphql", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:  # 401, 413, 429, 503 …: the body says why
        answer = json.load(error)
    if answer.get("errors"):
        codes = [e.get("extensions", {}).get("code") for e in answer["errors"]]
        raise GraphQLError(f"{codes}: {answer['errors'][0]['message']}")
    return answer["data"]


def page_through(first=2, limit=3):
    """Reads `beneficiaries` page by page with the cursor (at most `limit` pages)."""
    query = """query($first: Int, $after: String) {
      beneficiaries(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id fullName decile } } }"""
    after, seen = None, 0
    for _ in range(limit):
        page = graphql(query, {"first": first, "after": after})["beneficiaries"]
        seen += len(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return seen, page["totalCount"]


def register_and_update():
    """Registers a beneficiary (with its own id and an Idempotency-Key: safe to retry), then
    changes the phone with the version read; a stale version is a CONFLICT user error."""
    serial = random.randrange(10**4)
    new = {
        "id": str(uuid.uuid4()), "nik": f"647201550290{serial:04d}", "kkNumber": f"647201010115{serial:04d}",
        "isHeadOfFamily": True, "fullName": "Siti Aminah", "birthDate": "1990-02-15", "sex": "FEMALE",
        "phone": "081234567890", "address": "Jl. Pahlawan No. 2", "regencyCode": "6472",
        "districtCode": "647201", "decile": 2, "decileSource": "DTSEN", "decileAssessedOn": "2026-10-01",
    }
    created = graphql("""mutation($i: CreateBeneficiaryInput!) { createBeneficiary(input: $i) {
        beneficiary { id version } userErrors { field code message } } }""",
                      {"i": new}, idempotency_key=str(uuid.uuid4()))["createBeneficiary"]
    if created["userErrors"]:
        raise GraphQLError(created["userErrors"])
    record = created["beneficiary"]
    update = """mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) {
        beneficiary { id version phone } userErrors { field code message } } }"""
    changed = graphql(update, {"i": {"id": record["id"], "expectedVersion": record["version"],
                                     "phone": "081298765432"}})["updateBeneficiary"]
    stale = graphql(update, {"i": {"id": record["id"], "expectedVersion": record["version"],
                                   "phone": "081200000000"}})["updateBeneficiary"]
    return record["id"], changed["beneficiary"]["version"], stale["userErrors"][0]["code"]


async def follow(beneficiary, count, after="0", limit_seconds=20):
    """Follows one beneficiary's case (`caseEvents` over graphql-transport-ws) from `after`
    until `count` events have arrived; returns the last sequence. Store the last sequence you
    processed and resubscribe with it after any disconnect: nothing is missed."""
    ws_url = URL.replace("http", "ws", 1) + "/graphql/ws"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {TOKEN}"}}))
        ack = json.loads(await socket.recv())
        assert ack["type"] == "connection_ack", ack
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": """subscription($after: String, $f: CaseEventFilter) {
              caseEvents(after: $after, filter: $f) { sequence action entityType entityId } }""",
            "variables": {"after": after, "f": {"beneficiaryId": beneficiary}}}}))
        seen = 0
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), limit_seconds))
            if message["type"] == "ping":
                await socket.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                event = message["payload"]["data"]["caseEvents"]
                print(f"event {event['sequence']} {event['action']} {event['entityType']} {event['entityId']}")
                seen += 1
                if seen == count:
                    await socket.send(json.dumps({"id": "1", "type": "complete"}))
                    return event["sequence"]
            else:
                raise GraphQLError(message)


def main():
    me = graphql("{ me { agency client } }")["me"]
    print(f"signed in as {me['agency']}/{me['client']}")
    seen, total = page_through()
    print(f"paged {seen} of {total} beneficiaries")
    beneficiary, version, stale = register_and_update()
    print(f"registered {beneficiary}; updated to version {version}; a stale update is {stale}")
    # Its case so far (created, updated), then live: two events.
    sequence = asyncio.run(follow(beneficiary, 2))
    print(f"followed the case to sequence {sequence}")


if __name__ == "__main__":
    try:
        main()
    except GraphQLError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
