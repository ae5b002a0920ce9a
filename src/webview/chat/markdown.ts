import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import MarkdownIt from 'markdown-it';

// Markdown of model answers as HTML. The model's text is untrusted: raw HTML in it is shown as
// text (html: false), links are limited to markdown-it's safe schemes, images are not rendered
// (the CSP would block remote ones anyway) and no element gets a style attribute (the CSP allows
// no inline styles: table alignment becomes a class). No DOM here, so it is unit-tested in Node.

// Syntax highlighting (highlight.js, the languages answers use most; their aliases such as ts,
// sh, html come with them). Colours come from the theme in media/chat/answers.css, never from here.
for (const [name, language] of Object.entries({ bash, c, cpp, csharp, css, diff, go, java, javascript, json, python, rust, sql, typescript, xml, yaml })) {
  hljs.registerLanguage(name, language);
}

/** Code as highlighted HTML (escaped; only <span class="hljs-…"> added), or escaped text. */
export function highlightCode(code: string, language: string): string {
  if (language && hljs.getLanguage(language)) {
    try {
      return hljs.highlight(code, { language, ignoreIllegals: true }).value;
    } catch {
      // Fall through to plain text.
    }
  }
  return escapeHtml(code);
}

const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false });
markdown.disable(['image']);

const defaultValidateLink = markdown.validateLink.bind(markdown);
markdown.validateLink = (url: string): boolean => /^(https?:|mailto:|#)/i.test(url.trim()) && defaultValidateLink(url);

markdown.core.ruler.push('align_classes', (state) => {
  for (const token of state.tokens) {
    const style = token.attrGet('style');
    if (style !== null) {
      token.attrs = (token.attrs ?? []).filter(([name]) => name !== 'style');
      const align = /text-align:\s*(left|right|center)/.exec(style)?.[1];
      if (align) {
        token.attrJoin('class', `align-${align}`);
      }
    }
  }
});

markdown.renderer.rules.fence = (tokens, index) => {
  const token = tokens[index];
  if (!token) {
    return '';
  }
  const language = token.info.trim().split(/\s+/, 1)[0] ?? '';
  const languageClass = language ? ` class="language-${escapeHtml(language.replace(/[^\w#+.-]/g, ''))}"` : '';
  return (
    '<div class="code-block">' +
    '<div class="code-toolbar">' +
    `<span class="code-language">${escapeHtml(language || 'text')}</span>` +
    '<button type="button" class="code-action" data-action="copy-code" aria-label="Copy code" title="Copy code"><span class="codicon codicon-copy" aria-hidden="true"></span><span class="label">Copy</span></button>' +
    '<button type="button" class="code-action" data-action="insert-code" aria-label="Insert code at cursor" title="Insert at the cursor of the last active editor"><span class="codicon codicon-insert" aria-hidden="true"></span><span class="label">Insert at Cursor</span></button>' +
    '</div>' +
    `<pre><code${languageClass}>${highlightCode(token.content, language)}</code></pre>` +
    '</div>\n'
  );
};

// Links open through VS Code (it handles link clicks in webviews); say where they go.
markdown.renderer.rules.link_open = (tokens, index, options, _env, self) => {
  const token = tokens[index];
  const href = token?.attrGet('href');
  if (token && href) {
    token.attrSet('title', href);
  }
  return self.renderToken(tokens, index, options);
};

/** An answer (possibly still streaming, so possibly with an unclosed fence) as safe HTML. */
export function renderMarkdown(text: string): string {
  return markdown.render(text);
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
