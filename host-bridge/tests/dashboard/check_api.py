#!/usr/bin/env python3
"""Validates the daemon's HTTP answers for host-bridge/tests/http.rs: /metrics with
prometheus_client's text parser, every /api/ resource against /api/openapi.json (jsonschema,
draft 2020-12, as OpenAPI 3.1 uses). usage: check_api.py BASE_URL NODE_ADDR"""
import json, sys, urllib.request

import jsonschema
from prometheus_client.parser import text_string_to_metric_families

base, node = sys.argv[1], sys.argv[2]
get = lambda p: urllib.request.urlopen(base + p).read().decode()

families = list(text_string_to_metric_families(get("/metrics")))
names = {f.name for f in families}
samples = sum(len(f.samples) for f in families)
doc = json.loads(get("/api/openapi.json"))
jsonschema.Draft202012Validator.check_schema({k: v for k, v in doc.items() if k == "components"})
checked = []
for path, item in doc["paths"].items():
    if not path.startswith("/api/") or path == "/api/stream":
        continue
    url = path.replace("{addr}", node)
    schema = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    body = json.loads(get(url))
    jsonschema.Draft202012Validator({**doc, **schema}).validate(body)
    checked.append(url)
body = json.loads(get("/api/events?since=1"))
jsonschema.Draft202012Validator({**doc, "$ref": "#/components/schemas/Events"}).validate(body)
assert all(e["seq"] > 1 for e in body["events"])
print(json.dumps({"families": len(families), "samples": samples, "names": sorted(names), "checked": checked}))
