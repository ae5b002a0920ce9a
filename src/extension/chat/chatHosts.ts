import * as vscode from 'vscode';

/**
 * Where a chat controller's webview lives: an editor tab (WebviewPanel) or the side-bar view
 * (WebviewView). The controller needs the same few things from both.
 */
export interface ChatHost {
  readonly kind: 'editor' | 'sideBar';
  readonly webview: vscode.Webview;
  readonly visible: boolean;
  /** Shown, hidden, or (an editor tab) made the active one: `focused` says which. */
  readonly onDidChangeView: vscode.Event<{ readonly visible: boolean; readonly focused: boolean }>;
  readonly onDidDispose: vscode.Event<void>;
  reveal(): void;
  /** Closes an editor tab; a side-bar view cannot be closed by the extension. */
  close(): void;
}

export function editorHost(panel: vscode.WebviewPanel, iconPath: vscode.Uri): ChatHost {
  panel.iconPath = iconPath;
  return {
    kind: 'editor',
    webview: panel.webview,
    get visible() {
      return panel.visible;
    },
    onDidChangeView: (listener, thisArgs, disposables) =>
      panel.onDidChangeViewState(
        ({ webviewPanel }) => {
          listener.call(thisArgs, { visible: webviewPanel.visible, focused: webviewPanel.active });
        },
        undefined,
        disposables,
      ),
    onDidDispose: panel.onDidDispose,
    reveal: () => panel.reveal(undefined, false),
    close: () => {
      panel.dispose();
    },
  };
}

export function sideBarHost(view: vscode.WebviewView): ChatHost {
  return {
    kind: 'sideBar',
    webview: view.webview,
    get visible() {
      return view.visible;
    },
    // A view has no "active" state of its own: being shown is what makes it the chat in use.
    onDidChangeView: (listener, thisArgs, disposables) =>
      view.onDidChangeVisibility(
        () => {
          listener.call(thisArgs, { visible: view.visible, focused: view.visible });
        },
        undefined,
        disposables,
      ),
    onDidDispose: view.onDidDispose,
    reveal: () => view.show(false),
    close: () => undefined,
  };
}
