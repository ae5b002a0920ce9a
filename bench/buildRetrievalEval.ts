import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Builds bench/retrievalEval.json, the relevance set of bench/retrieval.ts, from a clone of
// markdown-it's history: query = a fix commit's subject, answer = the non-test source files it
// changed. So that the bench runs offline, the corpus is the markdown-it release in node_modules
// (its lib/ is the project's source, shipped as is); a changed file counts when the release
// still has it (src/x.ts, lib/x.js and lib/x.mjs are one file across the project's renames).
// Usage: node out/bench/buildRetrievalEval.js CLONE_DIR

const clone = process.argv[2];
if (!clone) {
  throw new Error('usage: buildRetrievalEval CLONE_DIR (a git clone of markdown-it/markdown-it)');
}
const corpus = path.join(__dirname, '..', '..', 'node_modules', 'markdown-it');
const corpusFiles = new Map<string, string>();
function walk(folder: string): void {
  for (const entry of fs.readdirSync(path.join(corpus, folder), { withFileTypes: true })) {
    const relative = folder ? `${folder}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      walk(relative);
    } else {
      corpusFiles.set(stem(relative), relative);
    }
  }
}
function stem(relative: string): string {
  return relative.replace(/^(lib|src)\//, '').replace(/\.(mjs|js|ts)$/, '');
}
walk('lib');

const log = execFileSync('git', ['-C', clone, 'log', '--no-merges', '-i', '--grep=fix', '--format=%x00%H%x09%s', '--name-only', 'HEAD'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const queries: Array<{ commit: string; query: string; files: string[] }> = [];
for (const record of log.split('\0').slice(1)) {
  const [header, ...names] = record.trim().split('\n');
  const [commit, subject] = (header ?? '').split('\t');
  if (!commit || !subject || /^(docs?|chore|ci|build|test|style|migrate|merge|bump|release|readme|typo|lint)\b/i.test(subject) || /typo|lint|readme|spelling|dependenc/i.test(subject)) {
    continue;
  }
  const words = subject.replace(/\(?#\d+\)?/g, '').trim().split(/\s+/);
  if (words.length < 4) {
    continue;
  }
  const source = names.filter((name) => /^(lib|src)\/.*\.(m?js|ts)$/.test(name) && !/test|spec|bench/i.test(name));
  const files = [...new Set(source.map((name) => corpusFiles.get(stem(name))).filter((name): name is string => name !== undefined))];
  if (files.length === 0 || files.length !== source.length || files.length > 3) {
    continue;
  }
  queries.push({ commit, query: subject, files });
}
const out = path.join(__dirname, '..', '..', 'bench', 'retrievalEval.json');
fs.writeFileSync(out, JSON.stringify({ source: 'github.com/markdown-it/markdown-it history, fix commits', corpus: 'node_modules/markdown-it (the release the project depends on)', queries }, null, 1) + '\n');
console.log(`${queries.length} queries written to ${out}`);
