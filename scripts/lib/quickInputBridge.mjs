// Lets an integration suite answer a VS Code input box as a person would: the extension host
// has no API to type into one, so the suite asks the runner (which drives the page in chromium)
// over loopback HTTP. POST /quick-input {"title": "…", "text": "…"} waits for the open input box
// whose widget shows `title`, types `text` with the keyboard and presses Enter. The text is not
// logged: the suites type test keys with it.
import * as http from 'node:http';

/** Starts the bridge for `page` (playwright's Page); resolves to { url, close() }. */
export async function startQuickInputBridge(page, { timeoutMs = 20_000 } = {}) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const reply = (status, value) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && req.url === '/dialog') {
        // POST /dialog {"title": "…", "button": "…"}: clicks `button` of the dialog showing `title`.
        try {
          const { title, button } = JSON.parse(body);
          if (typeof title !== 'string' || typeof button !== 'string') {
            throw new Error('expected {"title": string, "button": string}');
          }
          const dialog = page.locator('.monaco-dialog-box', { hasText: title });
          await dialog.waitFor({ state: 'visible', timeout: timeoutMs });
          await dialog.getByRole('button', { name: button, exact: true }).click();
          reply(200, { ok: true });
        } catch (error) {
          reply(500, { error: error instanceof Error ? error.message : String(error) });
        }
        return;
      }
      if (req.method !== 'POST' || req.url !== '/quick-input') {
        reply(404, { error: `no ${req.method} ${req.url} here` });
        return;
      }
      try {
        const { title, text } = JSON.parse(body);
        if (typeof title !== 'string' || typeof text !== 'string') {
          throw new Error('expected {"title": string, "text": string}');
        }
        const widget = page.locator('.quick-input-widget', { hasText: title });
        await widget.waitFor({ state: 'visible', timeout: timeoutMs });
        const input = widget.locator('input:visible').first();
        await input.focus();
        await page.keyboard.type(text);
        await page.keyboard.press('Enter');
        reply(200, { ok: true });
      } catch (error) {
        reply(500, { error: error instanceof Error ? error.message : String(error) });
      }
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  let closed;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => (closed ??= new Promise((resolve) => server.close(() => resolve()))),
  };
}
