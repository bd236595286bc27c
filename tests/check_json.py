#!/usr/bin/env python3
"""check_json.py SCHEMA FILE FUNC: validates a bpfprof json profile against
the schema and prints FUNC's leaf share (%) of the default sample type."""
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
docs = [json.loads(line) for line in text.splitlines() if line.strip()]
for d in docs:
    jsonschema.validate(d, schema)
d = docs[-1]
i = [t["type"] for t in d["sample_types"]].index(d["default_sample_type"])
total = sum(s["values"][i] for s in d["samples"])
hot = sum(s["values"][i] for s in d["samples"] if s["stack"] and d["frames"][s["stack"][0]]["function"] == sys.argv[3])
for s in d["samples"]:
    assert len(s["values"]) == len(d["sample_types"])
    assert all(0 <= f < len(d["frames"]) for f in s["stack"])
print("%.2f" % (100.0 * hot / total if total else 0))
