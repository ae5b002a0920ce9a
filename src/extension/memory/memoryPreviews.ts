import { randomUUID } from 'node:crypto';
import type { CompactionCommitParams, CompactionCommitResult, CompactionModelChoice, CompactionPreviewParams, CompactionPreviewResult, CompactionTier } from '../../shared/compactionProtocol';
import type { CompactionComparison } from '../../shared/memoryPanelProtocol';
import type { CompactorKind, MemoryPreview } from '../../shared/memoryPanelMessages';

// The memory panel's compaction previews, kept on the extension's side: the webview names one by
// id, so a commit sends exactly the body the engine previewed, written by the compactor the
// preview used (the commit never summarises again). The model compactor needs the API key: with
// none, the preview is refused in words and the panel offers the offline one. No vscode import,
// so the unit tests drive it against the real engine services and the local Messages API server.

export interface PreviewEngine {
  preview(params: CompactionPreviewParams): Promise<CompactionPreviewResult>;
  compare(params: { sessionId: string; firstSeq: number; lastSeq: number; summary: string; trailText: string }): Promise<CompactionComparison>;
  commit(params: CompactionCommitParams): Promise<CompactionCommitResult>;
}

export interface CompactorSource {
  /** contextLedger.compaction.compactor (a preview that names none uses it). */
  configured(): CompactorKind;
  hasApiKey(): Promise<boolean>;
  /** The chat's model settings and the key version, for a model compaction. */
  modelChoice(): Promise<CompactionModelChoice>;
}

export interface PreviewRequest {
  readonly sessionId: string;
  readonly firstTurn: number;
  readonly lastTurn: number;
  readonly tier: CompactionTier;
  readonly compactor?: CompactorKind;
}

/** A model compaction was asked for and no API key is set. */
export class NoApiKeyError extends Error {
  override readonly name = 'NoApiKeyError';
}

const maxPreviews = 8;

export class MemoryPreviews {
  private readonly held = new Map<string, { sessionId: string; preview: CompactionPreviewResult }>();

  constructor(
    private readonly engine: PreviewEngine,
    private readonly compactor: CompactorSource,
  ) {}

  async preview(request: PreviewRequest): Promise<MemoryPreview> {
    const kind = request.compactor ?? this.compactor.configured();
    let model: CompactionModelChoice | undefined;
    if (kind === 'model') {
      if (!(await this.compactor.hasApiKey())) {
        throw new NoApiKeyError('The model writes this summary, and that needs an API key; none is set. Set API Key…, or preview with the offline compactor (no key, sentences kept verbatim).');
      }
      model = await this.compactor.modelChoice();
    }
    const preview = await this.engine.preview({ sessionId: request.sessionId, tier: request.tier, range: { firstTurn: request.firstTurn, lastTurn: request.lastTurn }, ...(model ? { model } : {}) });
    const comparison = await this.engine.compare({
      sessionId: request.sessionId,
      firstSeq: preview.body.range.firstSeq,
      lastSeq: preview.body.range.lastSeq,
      summary: preview.body.summary,
      trailText: preview.trailText,
    });
    const previewId = randomUUID();
    this.held.set(previewId, { sessionId: request.sessionId, preview });
    for (const key of [...this.held.keys()].slice(0, Math.max(0, this.held.size - maxPreviews))) {
      this.held.delete(key);
    }
    return { previewId, preview, comparison };
  }

  async commit(previewId: string): Promise<{ compactionId: string; message: string }> {
    const held = this.held.get(previewId);
    if (!held) {
      throw new Error('this preview is gone (the panel was reloaded); preview the compaction again');
    }
    const result = await this.engine.commit({ sessionId: held.sessionId, body: held.preview.body });
    this.held.delete(previewId);
    const { firstTurn, lastTurn } = result.body.range;
    const by = result.body.model === 'offline' ? 'the offline compactor' : result.body.model;
    return { compactionId: result.compactionId, message: `Turns ${firstTurn}–${lastTurn} compacted by ${by}: ${result.body.summaryTokens.toLocaleString('en-US')} tokens in place of ${result.body.sourceTokens.toLocaleString('en-US')}.` };
  }

  cancel(previewId: string): void {
    this.held.delete(previewId);
  }
}
