// Theme: every colour comes from VS Code's CSS variables. Inside VS Code the workbench defines them
// (dark, light, high contrast); in a browser we define the same variables with Dark/Light Modern
// values, chosen by prefers-color-scheme. Styles are constructable sheets (adoptedStyleSheets), which a
// strict CSP allows without 'unsafe-inline'.

import { css, unsafeCSS, type CSSResult } from 'lit';

const DARK = `
  --vscode-font-family: system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif;
  --vscode-font-size: 13px;
  --vscode-font-weight: normal;
  --vscode-editor-font-family: ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  --vscode-foreground: #cccccc;
  --vscode-descriptionForeground: #9d9d9d;
  --vscode-editor-background: #1f1f1f;
  --vscode-editorWidget-background: #202020;
  --vscode-sideBar-background: #181818;
  --vscode-panel-border: #2b2b2b;
  --vscode-widget-border: #313131;
  --vscode-focusBorder: #0078d4;
  --vscode-textLink-foreground: #4daafc;
  --vscode-button-background: #0078d4;
  --vscode-button-foreground: #ffffff;
  --vscode-button-hoverBackground: #026ec1;
  --vscode-button-border: #ffffff12;
  --vscode-button-secondaryBackground: #313131;
  --vscode-button-secondaryForeground: #cccccc;
  --vscode-button-secondaryHoverBackground: #3c3c3c;
  --vscode-badge-background: #616161;
  --vscode-badge-foreground: #f8f8f8;
  --vscode-settings-dropdownBackground: #313131;
  --vscode-settings-dropdownBorder: #3c3c3c;
  --vscode-settings-dropdownForeground: #cccccc;
  --vscode-settings-dropdownListBorder: #454545;
  --vscode-list-activeSelectionBackground: #04395e;
  --vscode-list-activeSelectionForeground: #ffffff;
  --vscode-list-hoverBackground: #2a2d2e;
  --vscode-list-focusOutline: #0078d4;
  --vscode-widget-shadow: #0000005c;
  --vscode-progressBar-background: #0078d4;
  --vscode-errorForeground: #f85149;
  --vscode-editorWarning-foreground: #cca700;
  --vscode-editorError-foreground: #f14c4c;
  --vscode-inputValidation-warningBackground: #352a05;
  --vscode-inputValidation-warningBorder: #b89500;
  --vscode-inputValidation-errorBackground: #5a1d1d;
  --vscode-inputValidation-errorBorder: #be1100;
  --vscode-testing-iconPassed: #73c991;
  --vscode-charts-foreground: #cccccc;
  --vscode-charts-lines: #cccccc80;
  --vscode-charts-red: #f14c4c;
  --vscode-charts-blue: #3794ff;
  --vscode-charts-yellow: #cca700;
  --vscode-charts-orange: #d18616;
  --vscode-charts-green: #89d185;
  --vscode-charts-purple: #b180d7;
  color-scheme: dark;
`;

const LIGHT = `
  --vscode-foreground: #3b3b3b;
  --vscode-descriptionForeground: #6f6f6f;
  --vscode-editor-background: #ffffff;
  --vscode-editorWidget-background: #f8f8f8;
  --vscode-sideBar-background: #f8f8f8;
  --vscode-panel-border: #e5e5e5;
  --vscode-widget-border: #e5e5e5;
  --vscode-focusBorder: #005fb8;
  --vscode-textLink-foreground: #005fb8;
  --vscode-button-background: #005fb8;
  --vscode-button-foreground: #ffffff;
  --vscode-button-hoverBackground: #0258a8;
  --vscode-button-border: #0000001a;
  --vscode-button-secondaryBackground: #e5e5e5;
  --vscode-button-secondaryForeground: #3b3b3b;
  --vscode-button-secondaryHoverBackground: #cccccc;
  --vscode-badge-background: #cccccc;
  --vscode-badge-foreground: #3b3b3b;
  --vscode-settings-dropdownBackground: #ffffff;
  --vscode-settings-dropdownBorder: #cecece;
  --vscode-settings-dropdownForeground: #3b3b3b;
  --vscode-settings-dropdownListBorder: #c8c8c8;
  --vscode-list-activeSelectionBackground: #e8e8e8;
  --vscode-list-activeSelectionForeground: #000000;
  --vscode-list-hoverBackground: #f2f2f2;
  --vscode-list-focusOutline: #005fb8;
  --vscode-widget-shadow: #00000029;
  --vscode-progressBar-background: #005fb8;
  --vscode-errorForeground: #c72e0f;
  --vscode-editorWarning-foreground: #895503;
  --vscode-editorError-foreground: #c72e0f;
  --vscode-inputValidation-warningBackground: #f6f5d2;
  --vscode-inputValidation-warningBorder: #b89500;
  --vscode-inputValidation-errorBackground: #f2dede;
  --vscode-inputValidation-errorBorder: #be1100;
  --vscode-testing-iconPassed: #388a34;
  --vscode-charts-foreground: #3b3b3b;
  --vscode-charts-lines: #3b3b3b80;
  --vscode-charts-red: #c72e0f;
  --vscode-charts-blue: #005fb8;
  --vscode-charts-yellow: #a07a00;
  --vscode-charts-orange: #c35a00;
  --vscode-charts-green: #388a34;
  --vscode-charts-purple: #652d90;
  color-scheme: light;
`;

/** Defines VS Code's theme variables for a page outside VS Code (the collector's `/`). */
export function installBrowserTheme(doc: Document): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`
:root { ${DARK} }
@media (prefers-color-scheme: light) { :root { ${LIGHT} } }
html, body { margin: 0; background: var(--vscode-editor-background); color: var(--vscode-foreground); }
`);
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
}

/** Page-level rules for both modes (VS Code's own webview defaults add body padding we do not want). */
export function installPageStyles(doc: Document): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`
body { margin: 0; padding: 0; font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
rw-app { display: block; }
`);
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
}

/** Styles shared by every component. */
export const shared: CSSResult = css`
  :host {
    box-sizing: border-box;
    color: var(--vscode-foreground);
    font-family: var(--vscode-font-family);
    font-size: var(--vscode-font-size);
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  .muted {
    color: var(--vscode-descriptionForeground);
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  .card {
    background: var(--vscode-editorWidget-background);
    /* High-contrast themes define contrastBorder; the others a widget or panel border. */
    border: 1px solid var(--vscode-contrastBorder, var(--vscode-widget-border, var(--vscode-panel-border, #8884)));
    border-radius: 4px;
    padding: 10px 12px;
    min-width: 0;
  }
  .card h3 {
    margin: 0 0 6px;
    font-size: 1em;
    font-weight: 600;
    display: flex;
    gap: 6px;
    align-items: baseline;
    flex-wrap: wrap;
  }
  .cards {
    display: grid;
    gap: 10px;
    grid-template-columns: repeat(auto-fill, minmax(min(100%, 260px), 1fr));
  }
  /* Cards whose key/value rows hold several values or a URL (databases, model servers): wide enough that
     the values fit on one line at 1400 px, with empty columns left empty rather than cards squeezed. */
  .cards.wide {
    grid-template-columns: repeat(auto-fill, minmax(min(100%, 320px), 1fr));
  }
  .kv {
    display: grid;
    grid-template-columns: auto 1fr;
    gap: 2px 10px;
    margin: 0;
  }
  .kv dt {
    color: var(--vscode-descriptionForeground);
  }
  .kv dd {
    margin: 0;
    text-align: right;
    font-variant-numeric: tabular-nums;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  /* A value list that wraps between its values (see wrap-text.ts), never cut by an ellipsis. */
  .kv dd.wrap {
    white-space: normal;
    overflow: visible;
  }
  /* One value, a number with its unit, or a segment of a URL's host: never broken. */
  .nb,
  .u {
    white-space: nowrap;
  }
  /* A URL's path (after host:port) may break anywhere. */
  .path {
    overflow-wrap: anywhere;
  }
  .num {
    font-variant-numeric: tabular-nums;
  }
  .big {
    font-size: 1.6em;
    font-weight: 600;
    font-variant-numeric: tabular-nums;
  }
  .charts {
    display: grid;
    gap: 10px;
    grid-template-columns: repeat(auto-fill, minmax(min(100%, 300px), 1fr));
    margin-top: 10px;
  }
  .state {
    display: inline-flex;
    align-items: center;
    gap: 4px;
    font-size: 0.9em;
  }
  .dot {
    width: 8px;
    height: 8px;
    border-radius: 50%;
    display: inline-block;
    background: var(--vscode-descriptionForeground, #888);
    flex: none;
  }
  .dot.ok {
    background: var(--vscode-testing-iconPassed, #73c991);
  }
  .dot.warn {
    background: var(--vscode-editorWarning-foreground, #cca700);
  }
  .dot.bad {
    background: var(--vscode-editorError-foreground, #f14c4c);
  }
  .dot.off {
    background: var(--vscode-disabledForeground, #8888);
  }
  button.link {
    background: none;
    border: none;
    padding: 0;
    color: var(--vscode-textLink-foreground);
    cursor: pointer;
    font: inherit;
  }
  :focus-visible {
    outline: 1px solid var(--vscode-focusBorder);
    outline-offset: 1px;
  }
  section > h2 {
    font-size: 0.85em;
    text-transform: uppercase;
    letter-spacing: 0.06em;
    font-weight: 600;
    color: var(--vscode-descriptionForeground);
    margin: 18px 0 8px;
    display: flex;
    align-items: center;
    gap: 8px;
    flex-wrap: wrap;
  }
`;

/** Chart colours for the current theme, read from the variables. */
export interface ChartTheme {
  palette: string[];
  foreground: string;
  grid: string;
  font: string;
}

const PALETTE_VARS = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'];
// Extra hues for 7+ lines (8 GPUs in compare view), readable on dark and light backgrounds.
const EXTRA = ['#2fb5a9', '#d65db1'];

/** Reads chart colours from the page's CSS variables. */
export function chartTheme(): ChartTheme {
  const cs = getComputedStyle(document.documentElement);
  const get = (v: string, fb: string): string => cs.getPropertyValue(v).trim() || fb;
  const fg = get('--vscode-charts-foreground', get('--vscode-foreground', '#888'));
  return {
    palette: [...PALETTE_VARS.map((c) => get(`--vscode-charts-${c}`, '#3794ff')), ...EXTRA],
    foreground: fg,
    grid: get('--vscode-charts-lines', '#8884'),
    font: get('--vscode-font-family', 'sans-serif'),
  };
}

const themeListeners = new Set<() => void>();
let themeWatching = false;

/** Calls `fn` when the theme changes (VS Code body class/variables, or the OS colour scheme). */
export function onThemeChange(fn: () => void): () => void {
  themeListeners.add(fn);
  if (!themeWatching) {
    themeWatching = true;
    const fire = (): void => themeListeners.forEach((f) => f());
    new MutationObserver(fire).observe(document.body, { attributes: true, attributeFilter: ['class'] });
    new MutationObserver(fire).observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    matchMedia('(prefers-color-scheme: light)').addEventListener('change', fire);
  }
  return () => themeListeners.delete(fn);
}

/** A colour with opacity `a`, as rgba() (canvas fill styles do not take color-mix). */
export function alpha(color: string, a: number): string {
  const c = color.trim();
  let r = 128,
    g = 128,
    b = 128,
    base = 1;
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c);
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(c);
  if (hex) {
    let h = hex[1];
    if (h.length <= 4) h = [...h].map((x) => x + x).join('');
    r = parseInt(h.slice(0, 2), 16);
    g = parseInt(h.slice(2, 4), 16);
    b = parseInt(h.slice(4, 6), 16);
    if (h.length === 8) base = parseInt(h.slice(6, 8), 16) / 255;
  } else if (rgb) {
    const parts = rgb[1]
      .split(/[,\s/]+/)
      .filter(Boolean)
      .map(Number);
    [r, g, b] = parts;
    if (parts.length > 3) base = parts[3];
  }
  return `rgba(${r}, ${g}, ${b}, ${Math.round(base * a * 1000) / 1000})`;
}

/** Re-exported so components can build CSS from constants without importing lit twice. */
export { unsafeCSS };
