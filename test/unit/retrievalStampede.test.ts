import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ReindexQueue } from '../../src/core/retrieval/reindexQueue';
import { RetrievalIndex } from '../../src/core/retrieval/retrievalIndex';
import { loadSqlJs } from '../../src/core/store/sqlJsLoader';
import { WorkspaceFiles } from '../../src/core/tools/workspaceFiles';
import { assertNoStaleHits, sourceFile } from '../fixtures/retrievalWorkspace';
import { makeTempDir } from '../fixtures/tempDir';

// No stampede: a burst of change events for one file (a formatter, a generator, a save loop)
// costs a few re-indexes, not one per event, and the last content is what gets indexed.

describe('retrieval re-index queue', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let index: RetrievalIndex;
  let queue: ReindexQueue;
  beforeEach(async () => {
    temp = makeTempDir('context-ledger-retrieval-queue-');
    fs.writeFileSync(path.join(temp.dir, 'hot.ts'), sourceFile('hotPath', 'version 0'));
    index = RetrievalIndex.open({ sql: await loadSqlJs(), workspace: new WorkspaceFiles(temp.dir) });
    await index.indexWorkspace();
  });
  afterEach(() => {
    queue.dispose();
    index.close();
    temp.remove();
  });

  it('turns 1,000 change events for one file into at most a few re-indexes', async () => {
    const outcomes: string[] = [];
    queue = new ReindexQueue(index, { debounceMs: 20, onReindexed: (_relative, outcome) => outcomes.push(outcome) });
    for (let event = 0; event < 1000; event++) {
      if (event % 100 === 0) {
        fs.writeFileSync(path.join(temp.dir, 'hot.ts'), sourceFile('hotPath', `version ${event}`));
        // Some events arrive while a re-index may be running.
        await new Promise((resolve) => setImmediate(resolve));
      }
      queue.invalidate('hot.ts');
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
    await queue.flush();
    const stats = queue.stats();
    console.log(`stampede: ${stats.eventsReceived} events -> ${stats.reindexesRun} re-indexes`);
    assert.equal(stats.eventsReceived, 1000);
    assert.ok(stats.reindexesRun >= 1 && stats.reindexesRun <= 3, `${stats.reindexesRun} re-indexes`);
    const hits = index.search('hotPath version').hits;
    assert.ok(hits.some((hit) => hit.text.includes('version 900')), 'the last content is indexed');
    assertNoStaleHits(temp.dir, hits, 'after the burst');
  });

  it('follows unsaved edits of an open document, one re-index per quiet moment, and the disk again once it is closed', async () => {
    queue = new ReindexQueue(index, { debounceMs: 10 });
    let text = '';
    for (let keystroke = 0; keystroke < 200; keystroke++) {
      text = sourceFile('hotPath', `typing unsavedMarker${keystroke}`);
      queue.noteUnsavedEdit('hot.ts', text);
    }
    await queue.flush();
    assert.equal(queue.stats().reindexesRun, 1);
    const unsavedHits = index.search('unsavedMarker199 hotPath').hits;
    assert.ok(unsavedHits.some((hit) => hit.text.includes('unsavedMarker199')));
    assertNoStaleHits(temp.dir, unsavedHits, 'unsaved', new Map([['hot.ts', text]]));
    // Closed without saving: the editor's text no longer counts, with or without the event.
    index.setUnsavedText('hot.ts', undefined);
    const onDisk = index.search('unsavedMarker199 hotPath').hits;
    assert.ok(onDisk.every((hit) => !hit.text.includes('unsavedMarker199')));
    assertNoStaleHits(temp.dir, onDisk, 'closed');
  });
});
