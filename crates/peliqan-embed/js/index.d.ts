// Types of the npm package `peliqan-embed`. Hand-owned: every option,
// result and error of the SDK is typed here, with no `any`.
// Results are Peliqan's own objects, so their keys are snake_case as in
// Peliqan's API; options are camelCase.

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What `init()` accepts: where or what the `.wasm` is. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** The instantiated module's exports (internal; use the classes instead). */
export interface InitOutput {
  readonly memory: WebAssembly.Memory;
}

/**
 * Loads the WebAssembly module. Call once before `new PeliqanEmbed(...)`
 * (which throws a `PeliqanError`, `invalid_config`, until it resolved).
 * Without an argument the `.wasm` next to this file is fetched
 * (`new URL('peliqan_embed_bg.wasm', import.meta.url)`). Rejects with a
 * `PeliqanError`: `invalid_config` when the `.wasm` URL answers an error or
 * a web page (a bundler that did not emit it: the message names the URL and
 * the fix, see the README's "Bundlers"), `network` when it cannot be fetched.
 */
export default function init(
  moduleOrPath?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;

/** Instantiates the module synchronously from its bytes or a compiled module. */
export function initSync(module: { module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module): InitOutput;

/** Stable machine-readable error codes. */
export type PeliqanErrorCode =
  | 'popup_blocked'
  | 'cancelled'
  | 'timeout'
  | 'unauthorized'
  | 'forbidden'
  | 'validation'
  | 'network'
  | 'cors'
  | 'token_service'
  | 'upstream'
  | 'not_found'
  | 'connection_failed'
  | 'invalid_config';

/** Structured details of a `PeliqanError`; absent parts are omitted. */
export interface PeliqanErrorDetails {
  /** HTTP status of the answer that caused the error. */
  status?: number;
  /** Messages per connect-form field (`validation`). */
  fields?: Record<string, string>;
  /** The connection concerned (`connection_failed`, `cancelled`, `timeout`). */
  connectionId?: number;
  /** Your token service's own problem `code`, when it sent one. */
  problemCode?: string;
}

/**
 * What each code guarantees in `details`, on top of `PeliqanErrorDetails`:
 * `validation` always has its per-field messages (possibly `{}` when
 * Peliqan named no field), `connection_failed` and `timeout` always name
 * the connection, `unauthorized` and `forbidden` always carry Peliqan's
 * status.
 */
export interface PeliqanErrorDetailsByCode {
  validation: { fields: Record<string, string> };
  connection_failed: { connectionId: number };
  timeout: { connectionId: number };
  unauthorized: { status: number };
  forbidden: { status: number };
}

/** The details of a `PeliqanError` with code `C`. */
export type PeliqanErrorDetailsOf<C extends PeliqanErrorCode> = PeliqanErrorDetails &
  (C extends keyof PeliqanErrorDetailsByCode ? PeliqanErrorDetailsByCode[C] : unknown);

/** A `PeliqanError` with code `C`. */
export interface PeliqanErrorOf<C extends PeliqanErrorCode> extends Error {
  readonly name: 'PeliqanError';
  readonly code: C;
  /** Always an object; what it surely holds depends on `code`. */
  readonly details: PeliqanErrorDetailsOf<C>;
}

/**
 * The only error the SDK throws or rejects with: a union over the codes,
 * so checking `err.code` narrows `err.details` (strict TypeScript needs no
 * `?.` on what the code guarantees):
 * `if (err instanceof PeliqanError && err.code === 'validation') err.details.fields`.
 */
export type PeliqanError = { [C in PeliqanErrorCode]: PeliqanErrorOf<C> }[PeliqanErrorCode];

/** The `PeliqanError` class (it really extends `Error`). */
export interface PeliqanErrorConstructor {
  new <C extends PeliqanErrorCode>(code: C, message: string, details?: PeliqanErrorDetailsOf<C>): PeliqanErrorOf<C>;
  /** What `instanceof PeliqanError` narrows to: the union over the codes. */
  readonly prototype: PeliqanError;
}
export declare const PeliqanError: PeliqanErrorConstructor;

/** The API dialects Peliqan has described its API in; `seed` is the default. */
export type ApiDialect = 'seed' | 'sub-account' | 'partner';

/**
 * Names of the Peliqan operations the browser calls, for `routes`
 * overrides (the token service's `PELIQAN_API_ROUTE_<OPERATION>` keys,
 * lower-cased).
 */
export type BrowserOperation =
  | 'list_connections'
  | 'add_connection'
  | 'get_connection'
  | 'connection_logs'
  | 'create_table'
  | 'list_scripts'
  | 'list_groups'
  | 'create_script';

/**
 * Single operations routed differently from their dialect, as route text:
 * `METHOD /path/?name={placeholder}`, e.g. `'GET /api/v2/servers/{id}/'`.
 */
export type RouteOverrides = Partial<Record<BrowserOperation, string>>;

/** A sub-account token as your `getToken` callback returns it. */
export interface TokenAnswer {
  /** The short-lived Peliqan JWT of the signed-in end-customer. */
  token: string;
  /** RFC 3339 text, a Date, or a number: milliseconds since the epoch (values below 1e11 are read as seconds, like a JWT `exp`). Defaults to the JWT's `exp`. */
  expiresAt?: string | number | Date;
  /** The same, as the token service writes it (RFC 3339 text). */
  expires_at?: string;
  /** The Peliqan to call with this token, used when the `peliqanUrl` option is not given. */
  peliqanUrl?: string;
  /** The same, as the token service writes it (pass its answer through unchanged). */
  peliqan_url?: string;
  /** That Peliqan's API dialect, used when the `dialect` option is not given. Default `seed`. */
  dialect?: ApiDialect;
  /** Operations that Peliqan routes differently from `dialect`. */
  routes?: RouteOverrides;
}

/**
 * What your token service's `POST tokenUrl` answers (snake_case, as the
 * project's token service writes it). Only `token` is required.
 */
export interface TokenServiceAnswer {
  token: string;
  /** RFC 3339 expiry of the token. */
  expires_at?: string;
  subaccount_id?: number;
  external_id?: string;
  /** The Peliqan base URL the browser calls; used when the `peliqanUrl` option is not given. */
  peliqan_url?: string;
  /** The API dialect of that Peliqan (`PELIQAN_API_DIALECT`); default `seed`. */
  dialect?: ApiDialect;
  /** Sub-account-side operations the operator overrode (`PELIQAN_API_ROUTE_<OPERATION>`). */
  routes?: RouteOverrides;
}

/**
 * What the SDK passes to your `getToken` callback. Old callbacks that take
 * no argument keep working.
 */
export interface GetTokenContext {
  /**
   * Set when Peliqan answered 401 to this token (a sub-account deleted and
   * re-created, a token revoked on Peliqan's side): do not answer it again.
   * With the project's token service, send it on as
   * `POST /v1/token` `{"rejected_token": "<it>"}` (`Content-Type:
   * application/json`), which replaces the service's cached token.
   */
  rejectedToken?: string;
}

interface CommonOptions {
  /**
   * Peliqan's base URL, e.g. `https://app.eu.peliqan.io`. Optional: when
   * absent, the token answer's `peliqan_url` (`peliqanUrl` from `getToken`)
   * is used; when given, it wins. With neither, Peliqan calls reject with
   * `invalid_config`. Like every URL the SDK uses, it must be `https:`, or
   * `http:` to localhost, 127.0.0.0/8 or [::1].
   */
  peliqanUrl?: string;
  /**
   * Peliqan's API dialect. Optional: when absent, the token answer's
   * `dialect` (and its `routes`) is used, else `seed`. When given, it wins
   * over the answer's dialect and route overrides.
   */
  dialect?: ApiDialect;
  /** Operations routed differently from the dialect; applied last, over the answer's. */
  routes?: RouteOverrides;
  /** Your token service's connectors endpoint. Default: `tokenUrl` with its last segment `token` replaced by `connectors`. `https:`, loopback `http:`, or a path on this page's origin. */
  connectorsUrl?: string;
  /** Cookie mode of requests to your token service. Default `same-origin`. */
  credentials?: 'omit' | 'same-origin' | 'include';
  /**
   * Extra headers of requests to your token service (e.g. `Authorization:
   * Bearer <user jwt>`). A function (sync or async) is called for every
   * token-service request, so an expiring login JWT is fresh each time;
   * if it throws, the call rejects with `token_service`.
   */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** Show "Powered by Peliqan" in the OAuth popup. Default `true`; set `false` only with a private OAuth app. */
  poweredByNotice?: boolean;
}

/** Options of `new PeliqanEmbed(...)`: a token URL, or your own token callback. */
export type PeliqanEmbedOptions = CommonOptions &
  (
    | {
        /**
         * Your token service: `POST` answers a `TokenServiceAnswer`; after a
         * 401 from Peliqan the body is `{"rejected_token": "<jwt>"}`. `https:`,
         * loopback `http:`, or a path on this page's origin (`/v1/token`).
         */
        tokenUrl: string;
        getToken?: undefined;
      }
    | {
        /** Fetches a token yourself; `context.rejectedToken` is set after a 401 from Peliqan. */
        getToken: (context: GetTokenContext) => TokenAnswer | Promise<TokenAnswer>;
        tokenUrl?: string;
      }
  );

export type AuthKind = 'api_key' | 'basic' | 'database' | 'oauth2' | (string & {});
export type FieldKind = 'string' | 'password' | 'integer' | 'boolean' | 'url' | 'email' | 'select' | (string & {});
export type ConnectionStatus = 'pending' | 'connected' | 'failed' | (string & {});
export type LogLevel = 'info' | 'warning' | 'error' | (string & {});

/** One field of a connector's connect form. */
export interface FormField {
  name: string;
  label?: string | null;
  type?: FieldKind;
  required?: boolean;
  help?: string | null;
  placeholder?: string | null;
  default?: JsonValue;
  choices?: string[];
}

/** A connector ("servertype") with its connect form. */
export interface Connector {
  id: number;
  name: string;
  title?: string | null;
  /** How the connector authenticates; absent in some definitions (then `connect()` prepares for OAuth). */
  auth?: AuthKind;
  category?: string | null;
  logo_url?: string | null;
  connect_form?: { fields: FormField[] };
}

/** A connection ("server"). Never contains credentials. */
export interface Connection {
  id: number;
  servertype_id?: number | null;
  name?: string | null;
  status: ConnectionStatus;
  status_message?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
}

/** One line of a connection's log. */
export interface ConnectionLogEntry {
  timestamp: string;
  level: LogLevel;
  message: string;
}

/** Values of a connect form, by field name (HTML input strings are fine). */
export type ConnectFields = Record<string, string | number | boolean | null | undefined>;

/** Progress of `connect()`, reported to `onStatus`. */
export interface ConnectStatus {
  state: 'creating' | 'authorizing' | 'checking' | 'confirming' | 'connected' | 'failed' | 'cancelled' | 'timeout';
  connectionId?: number;
  /** The failure reason, for `failed`. */
  message?: string;
}

export interface ConnectOptions {
  onStatus?: (status: ConnectStatus) => void;
  /**
   * Cancels the attempt: closes the popup, stops polling and rejects with
   * `cancelled` (with `details.connectionId` once Peliqan created it). An
   * already aborted signal rejects before anything opens or is sent.
   */
  signal?: AbortSignal;
  /** Display name of the new connection. */
  name?: string;
  /** Give up after this long. Default 5 min for OAuth, 1 min otherwise. */
  timeoutMs?: number;
  /** Keep checking this long after the popup reads closed. Default 10 s. */
  graceMs?: number;
}

export interface NewTable {
  name: string;
  query: string;
  databaseId?: number;
  /** Schema to create the table in (the `partner` dialect's `schema_id`). */
  schemaId?: number;
}

export interface Table {
  id: number;
  name?: string | null;
  query?: string | null;
}

export interface NewScheduledScript {
  name: string;
  /** Python source, usually copied from a template. */
  rawCode: string;
  /** Run interval in seconds. */
  schedule: number;
  /**
   * Script group (dialects that create scripts inside a group, such as
   * `partner`): its id, or its name. Default: the account's first group.
   */
  groupId?: number;
  groupName?: string;
}

export interface ScheduledScript {
  id: number;
  name?: string | null;
  schedule?: number | null;
}

/** Events of a `PeliqanEmbed`, by type: what each listener receives. */
export interface PeliqanEmbedEventMap {
  /** Peliqan created a connection (before any OAuth grant). */
  'connection-created': { type: 'connection-created'; connectionId: number; connectorId: number };
  /** A connection is live (`connect()` resolves with the same object). */
  connected: { type: 'connected'; connection: Connection };
  /** A created connection failed (`connection_failed`) or did not become live in time (`timeout`). */
  'connection-failed': {
    type: 'connection-failed';
    connectionId: number;
    error: PeliqanErrorOf<'connection_failed'> | PeliqanErrorOf<'timeout'>;
  };
  /** `connect()` was cancelled: the popup closed, its `signal` aborted, or `destroy()`. */
  cancelled: { type: 'cancelled'; connectionId?: number; connectorId?: number; error: PeliqanErrorOf<'cancelled'> };
  /** The browser refused the OAuth popup (`connect()` was not called in a click). */
  'popup-blocked': { type: 'popup-blocked'; connectorId?: number; error: PeliqanErrorOf<'popup_blocked'> };
  /** A new sub-account token arrived (the first one too); `expiresAt` in ms since the epoch. */
  'token-refreshed': { type: 'token-refreshed'; expiresAt?: number };
  /**
   * Your token service or Peliqan could not be reached (`network` or
   * `cors`). Sent once per outage: again only after that side answered.
   */
  unreachable: {
    type: 'unreachable';
    service: 'token_service' | 'peliqan';
    error: PeliqanErrorOf<'network'> | PeliqanErrorOf<'cors'>;
  };
}

export type PeliqanEmbedEventType = keyof PeliqanEmbedEventMap;

/** The Peliqan Embed SDK: one instance per signed-in end-customer. */
export class PeliqanEmbed {
  /**
   * Throws `PeliqanError` (`invalid_config`) for wrong options, or when
   * called before `init()` resolved.
   */
  constructor(options: PeliqanEmbedOptions);
  /** Releases the instance's memory; optional (garbage collection does it too). Call `destroy()` first if a `connect()` may be running. */
  free(): void;
  /** Adds a listener (once per type and function). Throws `invalid_config` for an unknown type. */
  on<K extends PeliqanEmbedEventType>(type: K, listener: (event: PeliqanEmbedEventMap[K]) => void): void;
  /** Removes a listener added with `on`. */
  off<K extends PeliqanEmbedEventType>(type: K, listener: (event: PeliqanEmbedEventMap[K]) => void): void;
  /**
   * Cancels every `connect()` in flight (popups close, polling stops, each
   * rejects with `cancelled`); later calls reject with `invalid_config`.
   * Call it when the component that owns the instance unmounts.
   */
  destroy(): void;
  /** Connectors with their connect forms, from your token service. */
  connectors(): Promise<Connector[]>;
  /**
   * Adds a connection and resolves once it is live. Pass a connector from
   * `connectors()` or its id (after `connectors()` resolved). Call it
   * directly in a click handler: a connector that is or may be OAuth (its
   * `auth` is `oauth2`, missing or unknown) opens its popup synchronously;
   * the popup closes at once if Peliqan answers without an OAuth URL. Rejects with `validation`, `popup_blocked`, `cancelled`,
   * `timeout`, `connection_failed` and the transport codes.
   */
  connect(connector: number | Connector, fields?: ConnectFields, options?: ConnectOptions): Promise<Connection>;
  /** The end-customer's connections. */
  connections(): Promise<Connection[]>;
  /** One connection with its current status. */
  connection(id: number): Promise<Connection>;
  /** The log lines of one connection. */
  connectionLogs(id: number): Promise<ConnectionLogEntry[]>;
  /** Creates a query table. */
  createTable(input: NewTable): Promise<Table>;
  /** Adds a Python script run on a schedule. */
  addScheduledScript(input: NewScheduledScript): Promise<ScheduledScript>;
}
