import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { looksLikeSecretToken, redactSecrets } from '../../src/core/retrieval/redaction';
import { RetrievalIndex } from '../../src/core/retrieval/retrievalIndex';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';
import { WorkspaceFiles } from '../../src/core/tools/workspaceFiles';
import { allCanaries, assertNoCanary, inlineCanaries, pemBody, writeSecretWorkspace } from '../fixtures/secretWorkspace';
import { makeTempDir } from '../fixtures/tempDir';
import { git, hasGit } from '../fixtures/workspaceTree';

// Secrets never reach the index: secret files are not read, ignored files are not walked, files
// holding credentials are skipped whole, and key-shaped strings inside indexed files are
// replaced. Every canary is looked for in the saved index's bytes (as written and lowercased,
// since terms are lowercased) and in search results.

describe('retrieval never indexes secrets', { skip: !hasGit && 'git is not installed' }, () => {
  let temp: ReturnType<typeof makeTempDir>;
  let root: string;
  before(() => {
    temp = makeTempDir('context-ledger-retrieval-secrets-');
    root = path.join(temp.dir, 'work');
    fs.mkdirSync(root);
    git(root, ['init', '-q']);
    writeSecretWorkspace(root);
  });
  after(() => temp.remove());

  it('keeps every canary out of the index file and the search results, and says what it skipped or redacted', async () => {
    const sql = await loadSqlJs();
    const storeDir = path.join(temp.dir, 'store');
    const index = RetrievalIndex.open({ sql, workspace: new WorkspaceFiles(root), storeDir, excludeGlobs: ['**/private/**', '*.draft.md'], maxFileBytes: 64 * 1024 });
    try {
      await index.indexWorkspace();
      // The unsaved text of an open editor goes through the same rules.
      index.setUnsavedText('src/readme.md', `Pasted by mistake: ${inlineCanaries.anthropic} and ${inlineCanaries.github}\n`);
      index.refreshFile('src/readme.md');
      index.setUnsavedText('.env.local', 'KEY=canaryEnvLocalZq82\n');
      index.refreshFile('.env.local');
      assert.deepEqual(index.indexedPaths(), ['.gitignore', 'src/config.ts', 'src/readme.md', 'sub/.gitignore']);
      const bytes = index.save();
      assert.ok(bytes > 0);
      assertNoCanary(fs.readFileSync(path.join(storeDir, 'retrieval', 'index.sqlite')).toString('latin1'), 'the index file');
      for (const query of [...allCanaries(), 'settings key database', 'connectDatabase', 'api token', 'private key', 'Pasted by mistake']) {
        const result = index.search(query, { limit: 20 });
        assertNoCanary(JSON.stringify(result), `the results for ${query}`);
      }
      assert.ok(index.search('connectDatabase settings').hits.some((hit) => hit.path === 'src/config.ts'), 'the file with inline keys is still indexed');
      const skipped = new Map(index.skippedFiles().map((entry) => [entry.path, entry.reason]));
      assert.match(skipped.get('.env') ?? '', /secret file/);
      assert.match(skipped.get('notes/backup-of-key.txt') ?? '', /private key/);
      assert.match(skipped.get('config/service.json') ?? '', /cloud credentials/);
      assert.match(skipped.get('ignored-notes.txt') ?? '', /gitignore/);
      assert.match(skipped.get('sub/local.txt') ?? '', /gitignore/);
      assert.match(skipped.get('excluded.txt') ?? '', /gitignore or \.git\/info\/exclude/);
      assert.match(skipped.get('private/plan.md') ?? skipped.get('private') ?? '', /files\.exclude/);
      assert.match(skipped.get('drafts/idea.draft.md') ?? '', /retrieval\.exclude/);
      assert.match(skipped.get('big/huge.txt') ?? '', /limit/);
      assert.match(skipped.get('bin/blob.dat') ?? '', /binary/);
      const kinds = index.redactedStrings().filter((entry) => entry.path === 'src/config.ts').map((entry) => entry.kind);
      assert.equal(kinds.length, Object.keys(inlineCanaries).length, `every inline key is redacted: ${kinds.join(', ')}`);
      assert.ok(kinds.includes('an Anthropic API key') && kinds.includes('a high-entropy token') && kinds.includes('a password in a URL'));
    } finally {
      index.close();
    }
  });

  it('tells generated tokens from identifiers, paths and digests', () => {
    for (const token of ['Zx8vQ2mN7pL4kR9tW3yB6cF1hJ5gD0sAq', 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3']) {
      assert.ok(looksLikeSecretToken(token), token);
    }
    for (const word of ['createRetrievalIndexFromWorkspaceFolder', 'src/core/retrieval/retrievalIndex2.ts', '3f786850e387550fdab836ed7e6dc881de23001b', 'HTTP2ServerRequestHandlerV8', 'use-debounced-callback-hook-v2']) {
      assert.equal(looksLikeSecretToken(word), false, word);
    }
    const { text, redactions } = redactSecrets('line one\nkey = "sk-ant-api03-abcdefghijklmnop"\n');
    assert.equal(text, 'line one\nkey = "[redacted: an Anthropic API key]"\n');
    assert.deepEqual(redactions, [{ line: 2, kind: 'an Anthropic API key' }]);
    const block = redactSecrets(`a\n-----BEGIN PRIVATE KEY-----\n${pemBody}-----END PRIVATE KEY-----\nb\n`);
    assert.equal(block.text.split('\n').length, 6, 'a redacted block keeps the line count');
  });
});
