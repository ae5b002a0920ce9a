import * as vscode from 'vscode';

/** Asks for a session's new name (the Rename command and the chat's Rename); undefined if dismissed. */
export async function askSessionName(current: string): Promise<string | undefined> {
  const name = await vscode.window.showInputBox({
    title: 'Rename Context Ledger Session',
    prompt: 'New name of the session',
    value: current,
    validateInput: (value) => (value.trim() ? (value.length > 200 ? 'At most 200 characters' : undefined) : 'A session needs a name'),
  });
  return name?.trim();
}
