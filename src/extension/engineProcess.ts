import { fork, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import type { Writable } from 'node:stream';
import { IPCMessageReader, IPCMessageWriter, type MessageReader, type MessageWriter } from 'vscode-jsonrpc/node';
import { encodeApiKeyUpdate } from '../shared/apiKeyChannel';

// The engine process, started by us rather than by vscode-languageclient, so that besides the
// LSP connection (Node IPC) it has a second channel, its stdin, that carries the API key and
// that the LSP trace never sees. No vscode import: the unit tests start the real engine with it.

/** Variables the engine must not inherit: the Anthropic SDK would take a key from them itself. */
const withheldVariables = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'];

export interface EngineProcessOptions {
  /** The engine's entry (dist/server.js). */
  readonly module: string;
  readonly execArgv?: readonly string[];
  /** The environment to start from; default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Each line the engine prints on stdout or stderr (it logs through LSP; these are crashes). */
  readonly onOutput: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface EngineProcess {
  readonly child: ChildProcess;
  /** The engine's stdin: the API key channel. */
  readonly keyChannel: Writable;
  readonly reader: MessageReader;
  readonly writer: MessageWriter;
  /** Ends the process if it has not exited `graceMs` after a shutdown was asked for. */
  stop(graceMs?: number): void;
}

export function startEngineProcess(options: EngineProcessOptions): EngineProcess {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), ELECTRON_RUN_AS_NODE: '1', ELECTRON_NO_ASAR: '1' };
  for (const name of withheldVariables) {
    delete env[name];
  }
  // --node-ipc: vscode-languageserver's createConnection() then talks over the IPC channel.
  const child = fork(options.module, ['--node-ipc', `--clientProcessId=${process.pid}`], {
    env,
    execArgv: [...(options.execArgv ?? [])],
    stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
  });
  const { stdin, stdout, stderr } = child;
  if (!stdin || !stdout || !stderr) {
    child.kill();
    throw new Error('the engine process was started without its stdio pipes');
  }
  // A write to an engine that just died fails with EPIPE; the restart gives the next one the key.
  stdin.on('error', () => undefined);
  for (const [stream, name] of [
    [stdout, 'stdout'],
    [stderr, 'stderr'],
  ] as const) {
    readline.createInterface({ input: stream, crlfDelay: Infinity, terminal: false, historySize: 0 }).on('line', (line) => options.onOutput(line, name));
  }
  return {
    child,
    keyChannel: stdin,
    reader: new IPCMessageReader(child),
    writer: new IPCMessageWriter(child),
    stop: (graceMs = 2000) => {
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill();
        }
      }, graceMs);
      timer.unref();
    },
  };
}

/**
 * Keeps the engine's copy of the API key current. Each update gets a higher version; a chat send
 * first syncs (the key may have changed in SecretStorage, in this window or another) and names
 * the version in its params, and the engine waits for that version before it calls the model.
 */
export class ApiKeySender {
  private version = 0;
  private channel: Writable | undefined;
  /** What the current engine holds; undefined: nothing sent to it yet. */
  private sentKey: string | null | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly resolveKey: () => Promise<string | null>,
    private readonly onUnavailable: (error: unknown) => void = () => undefined,
  ) {}

  /**
   * A new engine process, which holds no key yet: sends it the current one. Never fails: an
   * unreadable SecretStorage (no keyring) must not keep the engine from starting; it starts
   * without a key, and the next sync tries again.
   */
  attach(channel: Writable): Promise<number> {
    return this.serialized(async () => {
      this.channel = channel;
      this.sentKey = undefined;
      let key: string | null = null;
      try {
        key = await this.resolveKey();
      } catch (error) {
        this.onUnavailable(error);
      }
      return this.send(key);
    });
  }

  /** Sends the current key unless the engine has it; resolves with the version that holds it. */
  sync(): Promise<number> {
    return this.serialized(async () => this.send(await this.resolveKey()));
  }

  private send(key: string | null): number {
    if (this.channel && key !== this.sentKey) {
      this.version += 1;
      this.channel.write(encodeApiKeyUpdate({ version: this.version, apiKey: key }));
      this.sentKey = key;
    }
    return this.version;
  }

  /** One at a time, in order: two updates must not reach the pipe out of order. */
  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
