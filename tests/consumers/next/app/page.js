'use client';
// The README's Next.js recipe: a client component that loads the SDK in
// useEffect (browser only), never during server rendering or prerendering.
import { useEffect, useState } from 'react';

export default function Page() {
  const [state, setState] = useState('loading');
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const { default: init, PeliqanEmbed, PeliqanError } = await import('peliqan-embed');
      const { before, after, initFailed } = await import('../checks.js');
      const sdk = { init, PeliqanEmbed, PeliqanError };
      const out = await before(sdk);
      try {
        await init();
      } catch (e) {
        initFailed(out, e, sdk);
        return;
      }
      if (!cancelled) await after(out, sdk);
      setState('done');
    })();
    return () => { cancelled = true; };
  }, []);
  return <p>peliqan-embed consumer: next ({state})</p>;
}
