// Types of `peliqan-embed/ui`, the drop-in connect UI. Hand-owned.
import type { Connection, Connector, PeliqanEmbed, PeliqanEmbedOptions, PeliqanError } from '../index.js';

/** Languages with built-in strings; any other falls back to English. */
export type PeliqanConnectLang = 'en' | 'nl' | 'fr' | 'de';

/** Keys of the UI's strings; `{name}`-style placeholders are filled in. */
export type PeliqanConnectStringKey =
  | 'title' | 'tabCatalogue' | 'tabConnections' | 'close' | 'search' | 'category' | 'allCategories'
  | 'loading' | 'found' | 'noMatch' | 'loadFailed' | 'retry' | 'connectTo' | 'back' | 'connectionName'
  | 'required' | 'fixFields' | 'submit' | 'next' | 'poweredBy' | 'consentText' | 'consentPopup' | 'continue'
  | 'connecting' | 'cancel'
  | 'state_creating' | 'state_authorizing' | 'state_checking' | 'state_confirming'
  | 'state_connected' | 'state_failed' | 'state_cancelled' | 'state_timeout'
  | 'successTitle' | 'successText' | 'failedTitle'
  | 'err_popup_blocked' | 'err_cancelled' | 'err_timeout'
  | 'tryAgain' | 'viewConnections' | 'connectAnother' | 'done' | 'noConnections' | 'refresh'
  | 'logs' | 'logsOf' | 'noLogs' | 'status_connected' | 'status_pending' | 'status_failed';

export type PeliqanConnectStrings = Record<PeliqanConnectStringKey, string>;

/** The built-in strings, per language. */
export const STRINGS: Record<PeliqanConnectLang, PeliqanConnectStrings>;

/** Options of the PeliqanEmbed the element builds itself (`token-url` may replace `tokenUrl`). */
export type PeliqanConnectOptions = Partial<PeliqanEmbedOptions> & {
  /** `false` skips the "Powered by Peliqan" step (and the SDK's notice); only with a private OAuth app. */
  poweredByNotice?: boolean;
};

export interface PeliqanConnectedDetail {
  connection: Connection;
  connector: Connector;
}

export interface PeliqanErrorDetail {
  error: PeliqanError | Error;
  /** What failed: loading connectors, connections or logs, or a connect. */
  phase: 'connectors' | 'connections' | 'logs' | 'connect';
  connector?: Connector;
}

export interface PeliqanCloseDetail {
  /** The last connection created while open, or null. */
  connection: Connection | null;
}

export interface PeliqanConnectEventMap {
  'peliqan-connected': CustomEvent<PeliqanConnectedDetail>;
  'peliqan-error': CustomEvent<PeliqanErrorDetail>;
  'peliqan-close': CustomEvent<PeliqanCloseDetail>;
}

/**
 * `<peliqan-connect token-url="/v1/token" connectors-url lang theme>`.
 * Attributes: `token-url`, `connectors-url`, `lang` (`en`, `nl`, `fr`,
 * `de`; default: the page's language), `theme` (`light` | `dark` | `auto`).
 * Events (bubbling, composed): `peliqan-connected`, `peliqan-error`, `peliqan-close`.
 */
export class PeliqanConnectElement extends HTMLElement {
  /** An existing PeliqanEmbed to use (not destroyed by the element); else one is built from `token-url` and `options`. */
  embed: PeliqanEmbed | null;
  /** PeliqanEmbed options (headers, credentials, getToken, ...) for the instance the element builds. */
  options: PeliqanConnectOptions;
  /** Per-key overrides of the built-in strings (for the current language). */
  strings: Partial<PeliqanConnectStrings>;
  /** The last connection created in this element, or null. */
  readonly connection: Connection | null;
  showCatalogue(): void;
  showConnections(): void;
  /** Opens the connect form of a connector: its id, name or object. */
  openConnector(connector: number | string | Connector): Promise<void>;
  /** Shows the element as a modal dialog; focus returns to `opener` (default: the focused element) on close. */
  showModal(opener?: HTMLElement): void;
  /** Closes the modal, cancels a connect in flight, emits `peliqan-close`. */
  close(): void;
  addEventListener<K extends keyof PeliqanConnectEventMap>(
    type: K, listener: (this: PeliqanConnectElement, ev: PeliqanConnectEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof PeliqanConnectEventMap>(
    type: K, listener: (this: PeliqanConnectElement, ev: PeliqanConnectEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

export interface OpenConnectOptions {
  /** With `embed` null: the token service to build a PeliqanEmbed from. */
  tokenUrl?: string;
  connectorsUrl?: string;
  /** With `embed` null: the other PeliqanEmbed options (headers, credentials, ...). */
  embedOptions?: Partial<PeliqanEmbedOptions>;
  lang?: PeliqanConnectLang | (string & {});
  /** Default `light`. */
  theme?: 'light' | 'dark' | 'auto';
  strings?: Partial<PeliqanConnectStrings>;
  /** `false` skips the "Powered by Peliqan" step; only with a private OAuth app. */
  poweredByNotice?: boolean;
  /** Open this connector's form directly (id or name). */
  connector?: number | string;
  /** Open on the connections list instead of the catalogue. */
  view?: 'catalogue' | 'connections';
  /** Where focus returns on close; default the element focused when opening. */
  opener?: HTMLElement;
  /** Where the dialog element is appended; default `document.body`. */
  container?: HTMLElement;
}

/** Resolves when the dialog closes: with the connection created in it (the last one), or null. */
export interface ConnectHandle extends Promise<Connection | null> {
  /** Closes the dialog (cancelling a connect in flight). */
  close(): void;
  /** The dialog's `<peliqan-connect>` element. */
  readonly element: PeliqanConnectElement;
}

/** Opens the connect UI as a modal dialog. */
export function openConnect(embed: PeliqanEmbed | null, options?: OpenConnectOptions): ConnectHandle;

declare global {
  interface HTMLElementTagNameMap {
    'peliqan-connect': PeliqanConnectElement;
  }
  interface HTMLElementEventMap {
    'peliqan-connected': CustomEvent<PeliqanConnectedDetail>;
    'peliqan-error': CustomEvent<PeliqanErrorDetail>;
    'peliqan-close': CustomEvent<PeliqanCloseDetail>;
  }
}
