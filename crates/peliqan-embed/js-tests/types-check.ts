// Type-checks typical partner code against the package's index.d.ts
// (`tsc --strict --noEmit`, run by `cargo xtask test` in the scratch folder
// where the packed tarball is installed). It is compiled, never run.
import init, {
  PeliqanEmbed,
  PeliqanError,
  type Connection,
  type ConnectStatus,
  type Connector,
  type GetTokenContext,
  type PeliqanEmbedEventMap,
  type PeliqanErrorCode,
  type TokenAnswer,
  type TokenServiceAnswer,
} from 'peliqan-embed';

export async function partnerCode(button: HTMLButtonElement): Promise<Connection[]> {
  await init();
  const embed = new PeliqanEmbed({
    peliqanUrl: 'https://app.eu.peliqan.io',
    tokenUrl: '/peliqan/v1/token',
    credentials: 'include',
    headers: { 'X-CSRF-Token': 'x' },
  });
  const withCallback = new PeliqanEmbed({
    peliqanUrl: 'https://app.eu.peliqan.io',
    getToken: async () => ({ token: 'jwt', expiresAt: new Date() }),
    connectorsUrl: '/connectors',
    poweredByNotice: false,
  });
  // The token service's answer carries peliqan_url and dialect: no second copy here.
  const routed = new PeliqanEmbed({ tokenUrl: '/peliqan/v1/token', credentials: 'include' });
  const pinned = new PeliqanEmbed({
    tokenUrl: '/peliqan/v1/token',
    dialect: 'partner',
    routes: { get_connection: 'GET /api/v2/servers/{id}/' },
  });
  const passedAsIs = new PeliqanEmbed({
    getToken: async (): Promise<TokenAnswer> => {
      const answer: TokenServiceAnswer = await (await fetch('/peliqan/v1/token', { method: 'POST' })).json();
      return answer;
    },
  });
  // After a 401 from Peliqan, the rejected token goes on to the token service.
  const forwarding = new PeliqanEmbed({
    getToken: async ({ rejectedToken }: GetTokenContext): Promise<TokenAnswer> => {
      const init: RequestInit = rejectedToken
        ? { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ rejected_token: rejectedToken }) }
        : { method: 'POST' };
      return (await fetch('/peliqan/v1/token', init)).json();
    },
  });
  const passedThrough = new PeliqanEmbed({
    getToken: async (): Promise<TokenAnswer> => {
      const answer: TokenServiceAnswer = await (await fetch('/peliqan/v1/token', { method: 'POST' })).json();
      return { token: answer.token, expiresAt: answer.expires_at, peliqanUrl: answer.peliqan_url, dialect: answer.dialect, routes: answer.routes };
    },
  });
  // @ts-expect-error: not an API dialect
  new PeliqanEmbed({ tokenUrl: '/t', dialect: 'v9' });
  const connectors: Connector[] = await embed.connectors();
  const first = connectors[0];
  const fields = first?.connect_form?.fields.map((f) => f.name) ?? [];
  button.onclick = async () => {
    try {
      const conn = await embed.connect(first ?? 123, { api_token: 'k', port: 5432, ssl: true }, {
        name: 'Sales',
        timeoutMs: 60_000,
        graceMs: 10_000,
        onStatus: (s: ConnectStatus) => console.log(s.state, s.connectionId, s.message),
      });
      console.log(conn.id, conn.status, conn.status_message, fields);
    } catch (err) {
      if (err instanceof PeliqanError) {
        const code: PeliqanErrorCode = err.code;
        console.log(code, err.message, err.details.connectionId, err.details.status);
        // The code narrows the details: no `?.` on what it guarantees.
        if (err.code === 'validation') {
          const messages: Record<string, string> = err.details.fields;
          console.log(messages.api_token);
        } else if (err.code === 'connection_failed' || err.code === 'timeout') {
          const id: number = err.details.connectionId;
          console.log(id);
        } else if (err.code === 'unauthorized') {
          const status: number = err.details.status;
          console.log(status);
        } else if (err.code === 'cancelled') {
          // @ts-expect-error: a cancel before Peliqan created it has no connection
          const id: number = err.details.connectionId;
          console.log(id);
        }
      }
    }
  };
  // Lifecycle: events, cancellation, fresh headers, destroy.
  const lifecycle = new PeliqanEmbed({
    tokenUrl: '/peliqan/v1/token',
    headers: async () => ({ Authorization: `Bearer ${await Promise.resolve('fresh-jwt')}` }),
  });
  new PeliqanEmbed({ tokenUrl: '/t', headers: () => ({ 'X-CSRF-Token': 'x' }) });
  const onConnected = ({ connection }: PeliqanEmbedEventMap['connected']) => console.log(connection.id);
  lifecycle.on('connected', onConnected);
  lifecycle.off('connected', onConnected);
  lifecycle.on('connection-failed', (e) => console.log(e.connectionId, e.error.details.connectionId));
  lifecycle.on('unreachable', (e) => console.log(e.service === 'peliqan', e.error.code));
  lifecycle.on('token-refreshed', (e) => console.log(e.expiresAt));
  lifecycle.on('cancelled', (e) => console.log(e.connectionId, e.error.code));
  // @ts-expect-error: not an event of the SDK
  lifecycle.on('ready', () => {});
  const abort = new AbortController();
  button.onclick = () => {
    lifecycle.connect(123, {}, { signal: abort.signal }).catch((e: unknown) => {
      if (e instanceof PeliqanError && e.code === 'cancelled') console.log('cancelled', e.details.connectionId);
    });
  };
  abort.abort();
  lifecycle.destroy();
  const made: PeliqanError = new PeliqanError('validation', 'bad', { fields: { a: 'b' } });
  console.log(made.code);
  const logs = await embed.connectionLogs(1);
  console.log(logs.map((l) => `${l.timestamp} ${l.level} ${l.message}`));
  await embed.createTable({ name: 'deals', query: 'select 1' });
  await embed.createTable({ name: 'deals', query: 'select 1', schemaId: 7 });
  const script = await embed.addScheduledScript({ name: 'Sync', rawCode: 'print(1)', schedule: 3600 });
  await embed.addScheduledScript({ name: 'Sync', rawCode: 'print(1)', schedule: 3600, groupName: 'Embedded' });
  console.log(script.id, (await embed.connection(1)).status);
  withCallback.free();
  routed.free();
  pinned.free();
  passedThrough.free();
  passedAsIs.free();
  forwarding.free();
  return embed.connections();
}
