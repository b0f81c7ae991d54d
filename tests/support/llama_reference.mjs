// llama.cpp (node-llama-cpp's prebuilt build, an npm test fixture) run on a GGUF file: the outside reference
// for astforge's Gemma 3 forward and its GGUF export. Reads one JSON request on stdin:
//   {"model": "x.gguf", "vocab": V, "lora": "a.gguf" | null, "threads": 2,
//    "runs": [{"tokens": [...], "probs": true} | {"tokens": [...], "greedy": N} | {"text": "...", "tokens": [...]}]}
// and writes {"runs": [{"probs": [[p per vocab id] per position]} | {"tokens": [generated ids]} |
// {"tokens": [...], "text": "..."}]} on stdout: probs are the softmax of llama.cpp's logits after each prompt
// token (greedy sampler: logits untouched); greedy continues the prompt for up to N tokens and stops at an
// end-of-generation token; a text run gives llama.cpp's tokens for the text (no BOS; special tokens parsed, as
// in chat) and its detokenization of `tokens` (special tokens printed).
// NODE_LLAMA_CPP names the package's entry (.fixtures/node_modules/node-llama-cpp/dist/index.js): an ES module
// is not found through NODE_PATH.
import { pathToFileURL } from "node:url";
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(process.env.NODE_LLAMA_CPP).href);

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const req = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: req.model, gpuLayers: 0 });
const vocab = req.vocab;
const longest = Math.max(1, ...req.runs.map((r) => (r.tokens ?? []).length + (r.greedy ?? 0)));
const out = { runs: [] };
for (const run of req.runs) {
  if (run.text !== undefined) {
    out.runs.push({ tokens: model.tokenize(run.text, true), text: model.detokenize(run.tokens ?? [], true) });
    continue;
  }
  const context = await model.createContext({
    contextSize: Math.max(64, longest + 8),
    batchSize: Math.max(64, longest + 8),
    threads: req.threads ?? 2,
    sequences: 1,
    flashAttention: false,
    ...(req.lora ? { lora: { adapters: [{ filePath: req.lora, scale: 1 }] } } : {}),
  });
  const seq = context.getSequence();
  if (run.probs) {
    const items = run.tokens.map((t) => [t, { generateNext: { probabilities: true, options: { temperature: 0 } } }]);
    const res = await seq.controlledEvaluate(items);
    const probs = res.map((r) => {
      const row = new Array(vocab).fill(0);
      for (const [id, p] of r.next.probabilities) row[id] = p;
      return row;
    });
    out.runs.push({ probs });
  } else {
    const tokens = [];
    const limit = run.greedy ?? 0;
    if (limit > 0) {
      for await (const t of seq.evaluate(run.tokens, { temperature: 0 })) {
        if (model.isEogToken(t)) break;
        tokens.push(t);
        if (tokens.length >= limit) break;
      }
    }
    out.runs.push({ tokens });
  }
  await context.dispose();
}
process.stdout.write(JSON.stringify(out));
await model.dispose();
await llama.dispose();
