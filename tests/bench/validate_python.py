# Benchmark peer: Debian's python3-jsonschema on the same schemas and instances (see bench_validate.cpp).
import importlib.metadata
import json, sys, time
import jsonschema

schemas_path, instances_path, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
validators = {}
for line in open(schemas_path):
    row = json.loads(line)
    validators[row["schema_id"]] = jsonschema.Draft202012Validator(row["schema"])
work = []
for line in open(instances_path):
    row = json.loads(line)
    work.append((validators[row["schema_id"]], row["instance"]))
best, valid = float("inf"), 0
for _ in range(repeats):
    t0 = time.perf_counter()
    valid = sum(1 for v, i in work if v.is_valid(i))
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"validator": "python-jsonschema " + importlib.metadata.version("jsonschema"), "instances": len(work), "valid": valid,
                  "seconds": best, "per_second": len(work) / best}))
