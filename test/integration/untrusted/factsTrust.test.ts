// Run untrusted (scripts/run-integration.mjs, second run). The workspace's .vscode/settings.json
// sets every facts setting a workspace must not choose: last-writer-wins, a facts budget of 0 (no
// facts in requests) and review after 0 days (never). The user's values (the defaults here) are
// what count: a fact added from the view goes into the next request's facts part.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FactView } from '../../../src/core/facts/factTypes';
import { messagesApiUrl, openChat, recordedRequests, scriptAnswers, sendResultFor, waitForPosted } from '../chatHelpers';
import { activateExtension, answerInputBox } from '../helpers';

describe('facts settings in an untrusted workspace', function () {
  this.timeout(90_000);

  it("ignores the workspace's facts settings: the user's budget sends the fact", async () => {
    await activateExtension();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder && !vscode.workspace.isTrusted);
    const fromWorkspace = JSON.parse(fs.readFileSync(path.join(folder.uri.fsPath, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([fromWorkspace['contextLedger.facts.budgetTokens'], fromWorkspace['contextLedger.facts.conflictPolicy'], fromWorkspace['contextLedger.facts.reviewAfterDays']], [0, 'lastWriterWins', 0]);

    const key = `untrusted.check.${Date.now()}`;
    const added = vscode.commands.executeCommand<FactView>('contextLedger.addFact');
    await answerInputBox('Fact key', key);
    await answerInputBox(`Value of ${key}`, 'the user budget applies');
    assert.equal((await added)?.state, 'active');

    await fetch(`${messagesApiUrl()}/_test/reset`, { method: 'POST' });
    await scriptAnswers({ kind: 'answer', content: [{ type: 'text', text: 'Noted.' }] });
    const handle = await openChat();
    const id = `it-untrusted-facts-${randomUUID()}`;
    const from = handle.posted.length;
    assert.equal(handle.receive({ type: 'send', requestId: id, sessionId: null, text: `What does ${key} say?` }), true);
    const { result } = await waitForPosted(handle, sendResultFor(id), 'sendResult', 60_000, from);
    assert.equal(result.status, 'complete', JSON.stringify(result.error));
    const part = result.receipt?.parts.find((candidate) => candidate.kind === 'facts');
    assert.ok(part && part.eventCount >= 1, `the facts part went in under the user's budget: ${JSON.stringify(result.receipt?.parts)}`);
    assert.match(part.reason, /within their budget of 1000 tokens/);
    const sent = (await recordedRequests()).filter((request) => request.path === '/v1/messages');
    assert.ok(JSON.stringify(sent.at(-1)?.body).includes('the user budget applies'), 'the fact was in the request');
  });
});
