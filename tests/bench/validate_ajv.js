// Benchmark peer: ajv 8 (2020-12 mode) on the same schemas and instances (see bench_validate.cpp).
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020").default;
const [schemasPath, instancesPath, repeats] = process.argv.slice(2);
// format is an annotation here, as in the other validators measured.
const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
const validators = {};
for (const line of fs.readFileSync(schemasPath, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const row = JSON.parse(line);
  validators[row.schema_id] = ajv.compile(row.schema);
}
const work = [];
for (const line of fs.readFileSync(instancesPath, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const row = JSON.parse(line);
  work.push([validators[row.schema_id], row.instance]);
}
let best = Infinity, valid = 0;
for (let r = 0; r < Number(repeats); r++) {
  const t0 = process.hrtime.bigint();
  valid = 0;
  for (const [v, i] of work) if (v(i)) valid++;
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
}
const version = require("ajv/package.json").version;
console.log(JSON.stringify({ validator: "ajv " + version, instances: work.length, valid, seconds: best,
                             per_second: work.length / best }));
