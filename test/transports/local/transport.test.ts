import { Fanout } from '../../../src/transports/core/fanout.ts';
import { LocalBackend } from '../../../src/transports/local/backend.ts';
import { transportConformance } from '../conformance.ts';

transportConformance('local', async () => {
  const transport = new Fanout(new LocalBackend());
  await transport.start();
  return { transport, cleanup: () => transport.close() };
}, { history: false });
