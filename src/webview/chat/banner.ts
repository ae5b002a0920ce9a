import type { KeyStatus, PanelConfig } from '../../shared/chatPanelMessages';
import { h, icon } from './dom';
import { formatTokens } from './format';

// What the chat says about its setup: a banner row per problem (no API key, a setting ignored),
// and the one-line status under the message box (model, budget, window, where the key is from).

export function bannerRows(keyStatus: KeyStatus | null, config: PanelConfig | null): HTMLElement[] {
  const rows: HTMLElement[] = [];
  if (keyStatus && keyStatus.source === null) {
    rows.push(
      h(
        'div',
        { class: 'banner-row warning' },
        icon('key'),
        h('span', {}, 'Chat needs an Anthropic API key. None is set in SecretStorage or ANTHROPIC_API_KEY.'),
        h('button', { type: 'button', class: 'primary', 'data-action': 'set-api-key' }, 'Set API Key'),
      ),
    );
  }
  for (const problem of config?.problems ?? []) {
    rows.push(h('div', { class: 'banner-row warning' }, icon('warning'), h('span', {}, `Setting ignored: ${problem}`), h('button', { type: 'button', class: 'secondary', 'data-action': 'open-settings' }, 'Open Settings')));
  }
  return rows;
}

export function statusText(config: PanelConfig | null, keyStatus: KeyStatus | null): string {
  if (!config) {
    return '';
  }
  const key = keyStatus?.source === 'secret-storage' ? 'key from SecretStorage' : keyStatus?.source === 'environment' ? 'key from ANTHROPIC_API_KEY' : keyStatus ? 'no API key' : null;
  return [config.model, `budget ${formatTokens(config.budgetTokens)} tokens`, config.windowLabel, key].filter(Boolean).join(' · ');
}
